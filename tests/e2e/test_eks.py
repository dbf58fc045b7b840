"""The provider's EKS connection against moto's server (issue 6): DescribeCluster through the
standard AWS credential chain, and the environment guard reading the cluster's
`jke/environment` tag before anything is written."""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "modules"))
from motoserver import start_moto  # noqa: E402

from harness import hcl  # noqa: E402

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    url, stop = start_moto(tmp_path_factory.mktemp("moto"))
    yield url
    stop()


def eks_cluster(moto_url: str, name: str, environment: str) -> None:
    kw = dict(endpoint_url=moto_url, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    iam = boto3.client("iam", **kw)
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    ec2 = boto3.client("ec2", **kw)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    boto3.client("eks", **kw).create_cluster(
        name=name,
        roleArn=role,
        resourcesVpcConfig={"subnetIds": subnets},
        tags={"jke/environment": environment},
    )


def aws_env(moto_url: str) -> dict:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def config(cluster_name: str, environment: str) -> str:
    return (
        'terraform {\n  required_providers {\n    jke = { source = "jke/jke" }\n  }\n}\n'
        f'provider "jke" {{\n  environment = {hcl(environment)}\n  eks = {{\n    cluster_name = {hcl(cluster_name)}\n    region = {hcl(REGION)}\n  }}\n}}\n'
        'resource "jke_application" "web" {\n  name  = "web"\n  image = "nginx:1.27"\n  port  = 80\n}\n'
    )


def test_wrong_environment_tag_is_refused_before_any_write(moto, tf):
    eks_cluster(moto, "shop-dev", "dev")
    (tf.workdir / "main.tf").write_text(config("shop-dev", "prod"))
    r = tf.apply(check=False, env=aws_env(moto))
    err = " ".join(r.err.split())
    assert r.code != 0
    assert '"prod"' in err and '"dev"' in err and "nothing was changed" in err, str(r)


def test_missing_cluster_names_cluster_and_region(moto, tf):
    (tf.workdir / "main.tf").write_text(config("no-such-cluster", "dev"))
    r = tf.apply(check=False, env=aws_env(moto))
    err = " ".join(r.err.split())
    assert r.code != 0 and "no-such-cluster" in err and REGION in err, str(r)


def test_plan_of_new_apps_needs_no_aws_at_all(tf):
    (tf.workdir / "main.tf").write_text(config("anything", "prod"))
    r = tf.plan(env={"AWS_ACCESS_KEY_ID": "", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert "1 to add" in r.out
