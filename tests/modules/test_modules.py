"""Issue 5: the Terraform modules, tested offline.

- formatting (`terraform fmt -check -recursive`) and README tables (tests/modules/docs);
- per module: `terraform validate` and `terraform test` (mocked aws provider);
- modules/eks-cluster applied for real against moto's AWS server on loopback: the second
  plan is empty, the cluster carries jke/environment, the desired size is left to the
  autoscaler, and destroy removes everything.

Run: .venv/bin/pytest tests/modules (after tests/setup). TF_BIN may name another terraform
or tofu.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from modules_harness import HERE, MODULES, ROOT, Terraform, copy_tree

pytestmark = pytest.mark.clients

MODULE_NAMES = sorted(p.name for p in MODULES.iterdir() if (p / "versions.tf").exists())
REGION = "eu-west-1"


def test_modules_exist():
    assert MODULE_NAMES == ["app-alerts", "eks-addons", "eks-cluster", "log-archive"]


def test_fmt_clean(terraform: Terraform):
    res = terraform.run(ROOT, "fmt", "-check", "-recursive", "-diff", "-no-color", "modules", check=False)
    assert res.returncode == 0, f"terraform fmt would change:\n{res.stdout}{res.stderr}"
    res = terraform.run(ROOT, "fmt", "-check", "-recursive", "-diff", "-no-color", "tests/modules/fixtures", check=False)
    assert res.returncode == 0, f"terraform fmt would change:\n{res.stdout}{res.stderr}"


def test_readme_tables_in_sync():
    cached = Path(os.environ.get("JKE_CACHE_DIR") or Path.home() / ".cache/jke") / "tools"
    if not os.environ.get("TERRAFORM_DOCS") and not list(cached.glob("terraform-docs-*")) and not shutil.which("go"):
        pytest.skip("terraform-docs is not built and there is no go toolchain to build it (tests/setup does)")
    res = subprocess.run([str(HERE / "docs"), "--check"], text=True, capture_output=True, timeout=1800)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("module", MODULE_NAMES)
def test_module_conventions(module: str):
    mdir = MODULES / module
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (mdir / name).is_file(), f"{module}/{name} missing"
    assert list((mdir / "tests").glob("*.tftest.hcl")), f"{module} has no terraform test files"
    text = "\n".join(p.read_text() for p in mdir.glob("*.tf"))
    # No registry modules and no providers beyond hashicorp/aws.
    assert not re.search(r'^\s*module\s+"', text, re.M), f"{module} calls another module"
    for provider in ("tls", "helm", "kubernetes", "http", "null", "time"):
        assert not re.search(rf'^\s*(resource|data)\s+"{provider}_', text, re.M), f"{module} uses the {provider} provider"
    versions = (mdir / "versions.tf").read_text()
    assert 'required_version = ">= 1.5"' in versions
    # A released module names the floor it is written against and stops before the next
    # untested major version of the aws provider.
    assert 'version = ">= 5.95, < 7.0"' in versions
    # Every variable has a description; every non-trivial one is validated.
    variables = (mdir / "variables.tf").read_text()
    blocks = re.split(r'^variable\s+"', variables, flags=re.M)[1:]
    assert blocks
    for block in blocks:
        name = block.split('"', 1)[0]
        assert "description" in block, f"{module}: variable {name} has no description"
    assert (ROOT / "modules/CHANGELOG.md").is_file()


@pytest.fixture(scope="module", params=MODULE_NAMES)
def initialised_module(request, terraform: Terraform, tmp_path_factory) -> Path:
    tree = copy_tree(tmp_path_factory.mktemp(request.param))
    mdir = tree / "modules" / request.param
    terraform.init(mdir, "-backend=false")
    return mdir


def test_validate(initialised_module: Path, terraform: Terraform):
    res = terraform.run(initialised_module, "validate", "-no-color")
    assert "Success" in res.stdout


def test_terraform_test(initialised_module: Path, terraform: Terraform):
    res = terraform.run(initialised_module, "test", "-no-color", check=False)
    summary = re.search(r"(\d+) passed, (\d+) failed", res.stdout)
    assert res.returncode == 0 and summary, f"terraform test failed:\n{res.stdout[-12000:]}\n{res.stderr[-4000:]}"
    passed, failed = int(summary.group(1)), int(summary.group(2))
    assert failed == 0
    # Each module has assertion runs and one validation run per input rule.
    assert passed >= 25, res.stdout


def _load_aws_mirror():
    loader = importlib.machinery.SourceFileLoader("aws_mirror", str(HERE / "aws-mirror"))
    spec = importlib.util.spec_from_loader("aws_mirror", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_aws_mirror_finds_provider(aws_mirror: Path):
    versions = list((aws_mirror / "registry.terraform.io/hashicorp/aws").iterdir())
    assert versions, aws_mirror


def test_aws_mirror_wrapper_copies_replace_and_godebug(tmp_path: Path):
    """The wrapper module must carry the provider's replace and godebug directives (Go
    ignores them in a dependency). Parsed with the real `go mod edit -json`."""
    if not shutil.which("go"):
        pytest.skip("no go toolchain")
    upstream = tmp_path / "go.mod"
    upstream.write_text(
        "module github.com/hashicorp/terraform-provider-aws\n\ngo 1.24.6\n\ngodebug tlsmlkem=0\n\n"
        "require github.com/hashicorp/terraform-plugin-log v0.9.0\n\n"
        "replace github.com/hashicorp/terraform-plugin-log => github.com/gdavison/terraform-plugin-log v0.0.0-20230928191232-6c653d8ef8fb\n"
        "replace example.com/local => ./tools/local\n"
    )
    parsed = json.loads(subprocess.run(["go", "mod", "edit", "-json", str(upstream)], text=True, capture_output=True, check=True).stdout)
    mirror = _load_aws_mirror()
    wrapper = mirror.wrapper_gomod(parsed, "v1.60.1-0.20260602190131-5f2286d6d836", Path("/src/provider"))
    assert "go 1.24.6\n" in wrapper
    assert "godebug tlsmlkem=0\n" in wrapper
    assert "require github.com/hashicorp/terraform-provider-aws v1.60.1-0.20260602190131-5f2286d6d836\n" in wrapper
    assert ("replace github.com/hashicorp/terraform-plugin-log => "
            "github.com/gdavison/terraform-plugin-log v0.0.0-20230928191232-6c653d8ef8fb\n") in wrapper
    assert "replace example.com/local => /src/provider/tools/local\n" in wrapper
    # And Go accepts it.
    (tmp_path / "wrapper").mkdir()
    (tmp_path / "wrapper/go.mod").write_text(wrapper)
    subprocess.run(["go", "mod", "edit", "-json"], cwd=tmp_path / "wrapper", text=True, capture_output=True, check=True)


def test_aws_mirror_labels_source_from_changelog(tmp_path: Path, monkeypatch):
    mirror = _load_aws_mirror()
    monkeypatch.delenv("JKE_AWS_PROVIDER_VERSION", raising=False)
    (tmp_path / "CHANGELOG.md").write_text("## 6.48.0 (Unreleased)\n\nNOTES:\n\n## 6.47.0 (May 27, 2026)\n")
    assert mirror.provider_label(tmp_path) == "6.48.0"
    monkeypatch.setenv("JKE_AWS_PROVIDER_VERSION", "v6.47.0")
    assert mirror.provider_label(tmp_path) == "6.47.0"


################################################################################
# modules/eks-addons planned against moto (no add-on API there: plan only)
################################################################################


def test_moto_addons_plan_with_a_role_unknown_until_apply(terraform: Terraform, moto_url: str, tmp_path: Path):
    tree = copy_tree(tmp_path)
    workdir = tree / "tests/modules/fixtures/moto-addons-plan"
    terraform.init(workdir)
    res = terraform.run(workdir, "plan", "-detailed-exitcode", "-input=false", "-no-color", "-out=addons.tfplan",
                        f"-var=aws_endpoint={moto_url}", check=False)
    assert res.returncode == 2, f"plan failed (exit {res.returncode}):\n{res.stdout[-8000:]}\n{res.stderr}"
    plan = json.loads(terraform.run(workdir, "show", "-json", "-no-color", "addons.tfplan").stdout)
    changes = {c["address"]: c for c in plan["resource_changes"]}
    addons = {c["change"]["after"]["addon_name"]: c for a, c in changes.items() if c["type"] == "aws_eks_addon"}
    assert set(addons) == {"vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "metrics-server",
                           "amazon-cloudwatch-observability", "cert-manager", "external-dns"}
    assert all(c["change"]["actions"] == ["create"] for c in addons.values())
    cloudwatch = addons["amazon-cloudwatch-observability"]["change"]
    # The given role's ARN is only known after apply; the association is planned anyway.
    assert cloudwatch["after_unknown"].get("pod_identity_association")
    roles = {c["change"]["after"]["name"] for c in changes.values() if c["type"] == "aws_iam_role"}
    assert roles == {"shared-cloudwatch", "jke-moto-vpc-cni", "jke-moto-cert-manager", "jke-moto-external-dns"}


################################################################################
# modules/eks-cluster against moto
################################################################################


def _boto(service: str, url: str):
    import boto3

    return boto3.client(
        service, endpoint_url=url, region_name=REGION, aws_access_key_id="moto", aws_secret_access_key="moto"
    )


@pytest.fixture(scope="module")
def moto_cluster(terraform: Terraform, moto_url: str, tmp_path_factory):
    """tests/modules/fixtures/moto-cluster applied against moto; destroyed at the end."""
    tree = copy_tree(tmp_path_factory.mktemp("moto-cluster"))
    workdir = tree / "tests/modules/fixtures/moto-cluster"
    var = f"-var=aws_endpoint={moto_url}"
    terraform.init(workdir)
    terraform.run(workdir, "apply", "-auto-approve", "-input=false", "-no-color", var)
    all_outputs = json.loads(terraform.run(workdir, "output", "-json", "-no-color").stdout)
    outputs = all_outputs["cluster"]["value"]
    outputs["existing_vpc"] = all_outputs["cluster_existing_vpc"]["value"]
    state = {"destroyed": False}
    yield workdir, var, outputs, moto_url, state
    if not state["destroyed"]:
        terraform.run(workdir, "destroy", "-auto-approve", "-input=false", "-no-color", var, check=False)


def test_moto_second_plan_is_empty(moto_cluster, terraform: Terraform):
    workdir, var, *_ = moto_cluster
    res = terraform.run(workdir, "plan", "-detailed-exitcode", "-input=false", "-no-color", var, check=False)
    assert res.returncode == 0, f"second plan is not empty (exit {res.returncode}):\n{res.stdout[-12000:]}\n{res.stderr}"


def test_moto_cluster_as_eks_describes_it(moto_cluster):
    _, _, outputs, url, _ = moto_cluster
    cluster = _boto("eks", url).describe_cluster(name="jke-moto")["cluster"]
    # The jke provider's environment guard reads this tag through DescribeCluster.
    assert cluster["tags"]["jke/environment"] == "dev"
    assert cluster["tags"]["team"] == "platform"
    assert cluster["version"] == "1.33"
    assert cluster["encryptionConfig"][0]["resources"] == ["secrets"]
    assert cluster["encryptionConfig"][0]["provider"]["keyArn"] == outputs["kms_key_arn"]
    logging = cluster["logging"]["clusterLogging"]
    enabled = {t for entry in logging if entry["enabled"] for t in entry["types"]}
    assert enabled == {"api", "audit", "authenticator"}
    vpc = cluster["resourcesVpcConfig"]
    assert vpc["endpointPrivateAccess"] and vpc["endpointPublicAccess"]
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert sorted(vpc["subnetIds"]) == sorted(outputs["private_subnet_ids"])


def test_moto_outputs_feed_a_provider_block(moto_cluster):
    _, _, outputs, url, _ = moto_cluster
    assert outputs["cluster_name"] == "jke-moto"
    assert outputs["environment"] == "dev"
    assert outputs["region"] == REGION
    assert outputs["cluster_endpoint"].startswith("https://")
    assert outputs["cluster_certificate_authority_data"]
    assert outputs["oidc_issuer_url"].startswith("https://oidc.eks.")
    assert outputs["oidc_provider_arn"].endswith(outputs["oidc_issuer_url"].removeprefix("https://"))
    assert outputs["cluster_security_group_id"].startswith("sg-")
    assert outputs["control_plane_security_group_id"].startswith("sg-")
    assert outputs["vpc_id"].startswith("vpc-")
    assert len(outputs["private_subnet_ids"]) == 3 and len(outputs["public_subnet_ids"]) == 3
    assert outputs["node_role_arn"].endswith(":role/jke-moto-eks-node")
    assert set(outputs["node_groups"]) == {"system", "batch"}
    oidc = _boto("iam", url).get_open_id_connect_provider(OpenIDConnectProviderArn=outputs["oidc_provider_arn"])
    assert oidc["ClientIDList"] == ["sts.amazonaws.com"]


def test_moto_network_and_node_groups(moto_cluster):
    _, _, outputs, url, _ = moto_cluster
    ec2 = _boto("ec2", url)
    subnets = ec2.describe_subnets(SubnetIds=outputs["private_subnet_ids"] + outputs["public_subnet_ids"])["Subnets"]
    assert len({s["AvailabilityZone"] for s in subnets}) == 3
    tags = {s["SubnetId"]: {t["Key"]: t["Value"] for t in s.get("Tags", [])} for s in subnets}
    assert all(tags[s]["kubernetes.io/role/internal-elb"] == "1" for s in outputs["private_subnet_ids"])
    assert all(tags[s]["kubernetes.io/role/elb"] == "1" for s in outputs["public_subnet_ids"])
    nats = ec2.describe_nat_gateways(Filter=[{"Name": "vpc-id", "Values": [outputs["vpc_id"]]}])["NatGateways"]
    assert len([n for n in nats if n["State"] == "available"]) == 3

    eks = _boto("eks", url)
    batch = eks.describe_nodegroup(clusterName="jke-moto", nodegroupName=outputs["node_groups"]["batch"]["name"])["nodegroup"]
    assert batch["capacityType"] == "SPOT"
    assert batch["scalingConfig"] == {"minSize": 0, "maxSize": 10, "desiredSize": 1}
    assert batch["taints"] == [{"key": "workload", "value": "batch", "effect": "NO_SCHEDULE"}]
    assert batch["labels"] == {"workload": "batch", "jke/node-group": "batch"}
    template = ec2.describe_launch_template_versions(LaunchTemplateId=batch["launchTemplate"]["id"])["LaunchTemplateVersions"][0]
    data = template["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    ebs = data["BlockDeviceMappings"][0]["Ebs"]
    assert ebs["VolumeType"] == "gp3" and ebs["Encrypted"] and ebs["VolumeSize"] == 50


def test_moto_created_vpc_is_locked_down(moto_cluster):
    """Issue 13: the default security group has no rules and flow logs go to CloudWatch
    Logs through a role that may write to their log group only."""
    _, _, outputs, url, _ = moto_cluster
    ec2 = _boto("ec2", url)
    default = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [outputs["vpc_id"]]}, {"Name": "group-name", "Values": ["default"]},
    ])["SecurityGroups"]
    assert len(default) == 1
    assert default[0]["IpPermissions"] == [] and default[0]["IpPermissionsEgress"] == []

    logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [outputs["vpc_id"]]}])["FlowLogs"]
    assert [f["FlowLogId"] for f in logs] == [outputs["flow_log_id"]]
    flow = logs[0]
    assert flow["TrafficType"] == "ALL" and flow["LogDestinationType"] == "cloud-watch-logs"
    assert outputs["flow_log_group_name"] == "/aws/vpc/jke-moto/flow-logs"
    assert flow["LogDestination"].removesuffix(":*").endswith(":log-group:/aws/vpc/jke-moto/flow-logs")
    group = _boto("logs", url).describe_log_groups(logGroupNamePrefix="/aws/vpc/jke-moto/")["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in group] == [("/aws/vpc/jke-moto/flow-logs", 365)]

    iam = _boto("iam", url)
    role_name = flow["DeliverLogsPermissionArn"].split("/")[-1]
    assert role_name == "jke-moto-vpc-flow-logs"
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    policy = iam.get_role_policy(RoleName=role_name, PolicyName="write-flow-logs")["PolicyDocument"]
    assert [s["Resource"] for s in policy["Statement"]] == [[group[0]["arn"].removesuffix(":*"), group[0]["arn"].removesuffix(":*") + ":*"]]

    # The existing VPC is its owner's: neither its default group nor its flow logs change.
    byo = outputs["existing_vpc"]
    assert byo["flow_log_id"] is None
    assert not ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [byo["vpc_id"]]}])["FlowLogs"]


def test_moto_secrets_key_policy(moto_cluster):
    """Only the control-plane role may use the created key; the account administers it."""
    _, _, outputs, url, _ = moto_cluster
    kms = _boto("kms", url)
    policy = json.loads(kms.get_key_policy(KeyId=outputs["kms_key_arn"], PolicyName="default")["Policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert set(statements) == {"KeyAdministration", "ClusterSecretsEnvelopeEncryption"}
    account = outputs["cluster_role_arn"].split(":")[4]
    assert statements["KeyAdministration"]["Principal"]["AWS"] in ([f"arn:aws:iam::{account}:root"], f"arn:aws:iam::{account}:root")
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:*"} & set(statements["KeyAdministration"]["Action"])
    use = statements["ClusterSecretsEnvelopeEncryption"]
    assert use["Principal"]["AWS"] == outputs["cluster_role_arn"]
    assert set(use["Action"]) == {"kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"}


def test_moto_existing_vpc_created_in_the_same_run(moto_cluster):
    """A VPC whose IDs are unknown at plan time (made next to the module) is used as is."""
    _, _, outputs, url, _ = moto_cluster
    byo = outputs["existing_vpc"]
    assert byo["environment"] == "stg" and byo["public_subnet_ids"] == [] and byo["oidc_provider_arn"] is None
    assert byo["vpc_cidr_block"] == "10.90.0.0/16"
    key = _boto("kms", url).list_aliases()["Aliases"]
    assert not [a for a in key if a["AliasName"] == "alias/eks/jke-moto-byo"], "no key of its own"
    cluster = _boto("eks", url).describe_cluster(name="jke-moto-byo")["cluster"]
    assert cluster["tags"]["jke/environment"] == "stg"
    assert cluster["encryptionConfig"][0]["provider"]["keyArn"] == byo["kms_key_arn"] != outputs["kms_key_arn"]
    vpc = cluster["resourcesVpcConfig"]
    assert vpc["vpcId"] == byo["vpc_id"] and sorted(vpc["subnetIds"]) == sorted(byo["private_subnet_ids"])
    assert not vpc["endpointPublicAccess"] and vpc["endpointPrivateAccess"]
    ec2 = _boto("ec2", url)
    group = ec2.describe_security_groups(GroupIds=[byo["control_plane_security_group_id"]])["SecurityGroups"][0]
    assert group["VpcId"] == byo["vpc_id"]
    cidrs = {r["CidrIp"] for p in group["IpPermissions"] if p.get("FromPort") == 443 for r in p["IpRanges"]}
    assert cidrs == {"10.90.0.0/16", "172.16.0.0/12"}
    # No network of its own: only the fixture's VPC and the other cluster's.
    assert not ec2.describe_nat_gateways(Filter=[{"Name": "vpc-id", "Values": [byo["vpc_id"]]}])["NatGateways"]


def test_moto_desired_size_is_left_to_the_autoscaler(moto_cluster, terraform: Terraform):
    workdir, var, outputs, url, _ = moto_cluster
    eks = _boto("eks", url)
    name = outputs["node_groups"]["system"]["name"]
    eks.update_nodegroup_config(clusterName="jke-moto", nodegroupName=name, scalingConfig={"desiredSize": 5})
    res = terraform.run(workdir, "plan", "-detailed-exitcode", "-input=false", "-no-color", var, check=False)
    assert res.returncode == 0, f"a changed desired size must not show in the plan:\n{res.stdout[-8000:]}"


def test_moto_destroy_removes_everything(moto_cluster, terraform: Terraform):
    workdir, var, outputs, url, state = moto_cluster
    terraform.run(workdir, "destroy", "-auto-approve", "-input=false", "-no-color", var)
    state["destroyed"] = True
    assert _boto("eks", url).list_clusters()["clusters"] == []
    roles = [r["RoleName"] for r in _boto("iam", url).list_roles()["Roles"]]
    assert not [r for r in roles if r.startswith("jke-moto")]
    assert _boto("iam", url).list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    ec2 = _boto("ec2", url)
    for vpc_id in (outputs["vpc_id"], outputs["existing_vpc"]["vpc_id"]):
        assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"] == []
    groups = _boto("logs", url).describe_log_groups(logGroupNamePrefix="/aws/eks/")["logGroups"]
    assert groups == []
    assert _boto("logs", url).describe_log_groups(logGroupNamePrefix="/aws/vpc/")["logGroups"] == []
    assert ec2.describe_flow_logs()["FlowLogs"] == []
    for arn in (outputs["kms_key_arn"], outputs["existing_vpc"]["kms_key_arn"]):
        assert _boto("kms", url).describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "PendingDeletion"
