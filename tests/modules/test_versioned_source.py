"""Modules consumed by version (issue 15): a cluster configuration whose module source is a
git tag (`git::file:///...//modules/eks-cluster?ref=vX.Y.Z`) initialises and validates with
the module as tagged, not as the branch is now; moving it to the next tag is a change of
`?ref=` and an `init`, as the README's release steps say. The repository is a local git
repository made from this working tree's modules/."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from modules_harness import MODULES, Terraform

pytestmark = pytest.mark.clients

CONSUMER = """
terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = ">= 5.95, < 7.0"
    }}
  }}
}}

provider "aws" {{
  region = "eu-west-1"
}}

module "cluster" {{
  source             = "git::file://{repo}//modules/eks-cluster?ref={ref}"
  name               = "shop"
  environment        = "dev"
  kubernetes_version = "1.33"
}}

output "cluster_name" {{
  value = module.cluster.cluster_name
}}
"""


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "jke tests", "GIT_AUTHOR_EMAIL": "tests@jke.invalid",
        "GIT_COMMITTER_NAME": "jke tests", "GIT_COMMITTER_EMAIL": "tests@jke.invalid",
        "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(["git", *args], cwd=repo, env=env, text=True, capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def platform_repo(tmp_path_factory) -> Path:
    """A platform repository with modules/ as in this working tree, released as v0.1.0,
    then a change released as v0.2.0."""
    repo = tmp_path_factory.mktemp("platform") / "jke"
    ignore = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "terraform.tfstate*", "*.tfplan")
    shutil.copytree(MODULES, repo / "modules", ignore=ignore)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "modules as in the working tree")
    git(repo, "tag", "-a", "v0.1.0", "-m", "v0.1.0")
    outputs = repo / "modules/eks-cluster/outputs.tf"
    outputs.write_text(outputs.read_text() + '\noutput "release" {\n  description = "Module release."\n  value       = "v0.2.0"\n}\n')
    git(repo, "commit", "-q", "-am", "eks-cluster: release output")
    git(repo, "tag", "-a", "v0.2.0", "-m", "v0.2.0")
    return repo


def installed_module(work: Path) -> dict:
    manifest = json.loads((work / ".terraform/modules/modules.json").read_text())
    return next(m for m in manifest["Modules"] if m["Key"] == "cluster")


def test_a_tagged_module_source_inits_and_validates_as_tagged(platform_repo: Path, terraform: Terraform, tmp_path: Path):
    work = tmp_path / "shop-dev"
    work.mkdir()
    (work / "main.tf").write_text(CONSUMER.format(repo=platform_repo, ref="v0.1.0"))
    terraform.init(work)
    assert "Success" in terraform.run(work, "validate", "-no-color").stdout

    mod = installed_module(work)
    assert mod["Source"].endswith("?ref=v0.1.0"), mod
    fetched = work / mod["Dir"]
    assert (fetched / "versions.tf").read_text() == (MODULES / "eks-cluster/versions.tf").read_text()
    assert 'output "release"' not in (fetched / "outputs.tf").read_text(), "the later commit is not in v0.1.0"

    # Moving the configuration to the next release: change ?ref= and init again.
    (work / "main.tf").write_text(
        CONSUMER.format(repo=platform_repo, ref="v0.2.0") + '\noutput "module_release" {\n  value = module.cluster.release\n}\n'
    )
    terraform.init(work)
    terraform.run(work, "validate", "-no-color")
    mod = installed_module(work)
    assert mod["Source"].endswith("?ref=v0.2.0"), mod
    assert 'output "release"' in (work / mod["Dir"] / "outputs.tf").read_text()


def test_a_tag_that_does_not_exist_is_refused_naming_it(platform_repo: Path, terraform: Terraform, tmp_path: Path):
    work = tmp_path / "typo"
    work.mkdir()
    (work / "main.tf").write_text(CONSUMER.format(repo=platform_repo, ref="v9.9.9"))
    res = terraform.run(work, "init", "-input=false", "-no-color", check=False)
    assert res.returncode != 0
    assert "v9.9.9" in res.stderr, res.stderr
