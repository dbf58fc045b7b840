"""examples/eks-complete (issue 6): the whole stack in one configuration (modules/eks-cluster,
modules/eks-addons, jke_cluster, two jke_application blocks) is formatted, initialises
offline, and passes `terraform validate`; every envs/*.tfvars sets only declared variables
and passes their validations.

No AWS account and no cluster: hashicorp/aws comes from the filesystem mirror that
tests/modules/aws-mirror finds (or builds), jke/jke from the release of the binary under
test (tests/release's filesystem mirror), both installed by `init` as a user's would be.
(`dev_overrides` would not do: Terraform 1.11 and OpenTofu still look the overridden
provider up in its registry during init.)
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import ROOT, TF_BIN, Terraform

pytestmark = pytest.mark.clients

EXAMPLE = ROOT / "examples" / "eks-complete"
ENVS = sorted(p.stem for p in (EXAMPLE / "envs").glob("*.tfvars"))


@pytest.fixture(scope="module")
def aws_mirror() -> Path:
    res = subprocess.run([str(ROOT / "tests/modules/aws-mirror")], text=True, capture_output=True, timeout=7200)
    assert res.returncode == 0, f"tests/modules/aws-mirror failed:\n{res.stderr}"
    return Path(res.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def example(aws_mirror: Path, release: Path, tmp_path_factory) -> Terraform:
    """A scratch copy of the example (with ../../modules beside it), initialised."""
    tree = tmp_path_factory.mktemp("eks-complete")
    ignore = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "terraform.tfstate*")
    shutil.copytree(ROOT / "modules", tree / "modules", ignore=ignore)
    shutil.copytree(EXAMPLE, tree / "examples/eks-complete", ignore=ignore)
    home = tree / "home"
    home.mkdir()
    # The mirror seen under both registry hostnames (Terraform and OpenTofu); real
    # directories, symlinked files (the mirror scan does not follow directory links).
    view = home / "mirror"
    source = aws_mirror / "registry.terraform.io/hashicorp/aws"
    for host in ("registry.terraform.io", "registry.opentofu.org"):
        for platform_dir in source.glob("*/*"):
            dest = view / host / "hashicorp/aws" / platform_dir.relative_to(source)
            dest.mkdir(parents=True)
            for f in platform_dir.iterdir():
                (dest / f.name).symlink_to(f)
    # jke from the release's mirror, aws from the aws mirror, nothing from the network.
    cli = home / "mirrors.tfrc"
    cli.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{release / "filesystem-mirror"}"\n'
        '    include = ["registry.terraform.io/jke/jke", "registry.opentofu.org/jke/jke"]\n'
        "  }\n"
        "  filesystem_mirror {\n"
        f'    path    = "{view}"\n'
        '    include = ["registry.terraform.io/hashicorp/aws", "registry.opentofu.org/hashicorp/aws"]\n'
        "  }\n"
        "}\n"
    )
    tf = Terraform(tree / "examples/eks-complete", home, {"AWS_EC2_METADATA_DISABLED": "true", "HOME": str(home)}, cli_config=cli)
    # The example keeps its state in S3 (backend.tf); offline, an override file swaps in the
    # local backend, as a user would to try the configuration without the bucket.
    (tree / "examples/eks-complete/backend_override.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    tf.run("init", "-input=false", "-no-color")
    return tf


def test_example_is_formatted():
    r = subprocess.run(
        [TF_BIN, "fmt", "-check", "-recursive", "-diff", "-no-color", str(EXAMPLE)],
        text=True,
        capture_output=True,
        env={"CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, f"terraform fmt would change:\n{r.stdout}{r.stderr}"


def test_example_has_one_tfvars_per_environment_and_a_readme():
    assert ENVS == ["dev", "prod", "stg"]
    assert (EXAMPLE / "README.md").is_file()


def test_example_validates(example: Terraform):
    out = example.validate_json()
    errors = [d for d in out.get("diagnostics", []) if d["severity"] == "error"]
    assert out["valid"] and not errors, json.dumps(out, indent=2)


def test_example_wires_modules_the_provider_and_the_resources():
    main = (EXAMPLE / "main.tf").read_text()
    for needle in (
        'source = "../../modules/eks-cluster"',
        'source = "../../modules/eks-addons"',
        "cluster_name = module.cluster.cluster_name",
        "environment = var.environment",
        'resource "jke_cluster" "this"',
        "depends_on = [module.addons]",
        'resource "jke_application" "web"',
        'resource "jke_application" "api"',
    ):
        assert needle in main, f"main.tf lacks {needle!r}"


@pytest.mark.parametrize("env", ENVS)
def test_each_environment_sets_declared_variables_that_validate(example: Terraform, env: str):
    expr = "jsonencode([var.environment, var.region, var.shop_quota])\n"
    r = subprocess.run(
        [TF_BIN, "console", "-no-color", f"-var-file=envs/{env}.tfvars"],
        cwd=example.workdir,
        env=example.env,
        input=expr,
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert r.returncode == 0, f"terraform console -var-file=envs/{env}.tfvars failed:\n{r.stdout}\n{r.stderr}"
    text = " ".join((r.stdout + r.stderr).split())
    # The console reports bad values (a failed validation rule) but still exits 0.
    assert "undeclared variable" not in text and "Error:" not in text, text
    # The console prints the expression's value as a quoted JSON string.
    value = json.loads(json.loads(r.stdout.strip().splitlines()[-1]))
    assert value[0] == env
    assert set(value[2]) == {"cpu", "memory", "pods"}
