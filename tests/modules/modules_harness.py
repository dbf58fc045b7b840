"""Helpers for the Terraform module tests: paths, a Terraform runner, scratch copies."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MODULES = ROOT / "modules"

# Variables of the caller's environment that would point Terraform or the AWS SDK elsewhere.
SCRUB = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ENDPOINT_URL",
    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "TF_PLUGIN_CACHE_DIR", "TF_DATA_DIR",
    "TF_WORKSPACE", "TF_LOG", "TF_CLI_ARGS",
)


@dataclass
class Terraform:
    """Runs TF_BIN with a CLI config that installs hashicorp/aws from the mirror only."""

    binary: str
    env: dict[str, str] = field(default_factory=dict)

    def run(self, cwd: Path, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
        cmd = [self.binary, *args]
        try:
            res = subprocess.run(cmd, cwd=cwd, env=self.env, text=True, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            # Name what it was doing when it was stopped: the last lines it printed.
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            raise AssertionError(
                f"{' '.join(cmd)} (in {cwd}) was still running after {timeout:.0f}s\n--- stdout (end)\n{out[-8000:]}"
            ) from None
        if check and res.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} (in {cwd}) exited {res.returncode}\n"
                f"--- stdout\n{res.stdout[-8000:]}\n--- stderr\n{res.stderr[-8000:]}"
            )
        return res

    def init(self, cwd: Path, *args: str) -> None:
        self.run(cwd, "init", "-input=false", "-no-color", *args)


def copy_tree(dest: Path) -> Path:
    """Copy modules/ and tests/modules/fixtures/ under `dest` with their relative layout, so
    scratch runs leave no .terraform directories or state in the work tree."""
    ignore = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "terraform.tfstate*", "*.tfplan")
    shutil.copytree(MODULES, dest / "modules", ignore=ignore)
    shutil.copytree(HERE / "fixtures", dest / "tests/modules/fixtures", ignore=ignore)
    return dest
