"""Remote state of examples/eks-complete (issue 15), against moto's S3 on loopback: the
example's own backend block (S3, `use_lockfile = true`) and its per-environment partial
configuration, on a small configuration (a terraform_data resource, no cloud resources):

- two applies of the same configuration at once: the second is refused by the lock, and
  the first one's state is intact afterwards;
- a configuration that kept its state locally moves it with `init -migrate-state`.

moto's endpoint and fake credentials are a second `-backend-config` file layered over the
example's `envs/dev.s3.tfbackend`, as a user would layer their own credentials.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from modules_harness import ROOT, Terraform

pytestmark = pytest.mark.clients

EXAMPLE = ROOT / "examples" / "eks-complete"

# A resource whose apply waits until the test opens a gate: the first apply holds the state
# lock exactly as long as the test needs, without guessing durations.
CONFIG = """
variable "gate" {
  type = string
}

variable "release" {
  type = string
}

resource "terraform_data" "app" {
  input = var.release

  provisioner "local-exec" {
    command = "while [ ! -e '${var.gate}' ]; do sleep 0.2; done"
  }
}

output "release" {
  value = terraform_data.app.output
}
"""


def backend_setting(name: str, env: str = "dev") -> str:
    text = (EXAMPLE / "envs" / f"{env}.s3.tfbackend").read_text()
    return re.search(rf'^{name}\s*=\s*"([^"]+)"', text, re.M).group(1)


@pytest.fixture
def s3(moto_url):
    import boto3

    client = boto3.client(
        "s3", endpoint_url=moto_url, region_name=backend_setting("region"),
        aws_access_key_id="moto", aws_secret_access_key="moto",
    )
    bucket = backend_setting("bucket")
    if bucket not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": backend_setting("region")})
    # Each test starts from an empty bucket (moto's server lives for the whole test module).
    for o in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        client.delete_object(Bucket=bucket, Key=o["Key"])
    return client


@pytest.fixture
def moto_backend(moto_url, tmp_path) -> Path:
    f = tmp_path / "moto.s3.tfbackend"
    f.write_text(
        f'endpoints = {{ s3 = "{moto_url}" }}\n'
        "use_path_style              = true\n"
        'access_key                  = "moto"\n'
        'secret_key                  = "moto"\n'
        "skip_credentials_validation = true\n"
        "skip_requesting_account_id  = true\n"
        "skip_metadata_api_check     = true\n"
        "skip_region_validation      = true\n"
    )
    return f


def checkout(tmp_path: Path, name: str, with_backend: bool = True) -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "main.tf").write_text(CONFIG)
    if with_backend:
        shutil.copy(EXAMPLE / "backend.tf", d / "backend.tf")
    return d


def init_backend(terraform: Terraform, d: Path, moto_backend: Path, *extra: str):
    return terraform.run(
        d, "init", "-input=false", "-no-color",
        f"-backend-config={EXAMPLE / 'envs/dev.s3.tfbackend'}", f"-backend-config={moto_backend}", *extra,
    )


def state_in_s3(s3) -> dict:
    body = s3.get_object(Bucket=backend_setting("bucket"), Key=backend_setting("key"))["Body"].read()
    return json.loads(body)


def releases(state: dict) -> list[str]:
    return [i["attributes"]["input"]["value"] for r in state["resources"] if r["type"] == "terraform_data" for i in r["instances"]]


def keys(s3) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=backend_setting("bucket")).get("Contents", [])}


def test_example_backend_is_s3_with_native_locking_per_environment():
    backend = (EXAMPLE / "backend.tf").read_text()
    assert re.search(r'backend\s+"s3"', backend) and re.search(r"use_lockfile\s*=\s*true", backend)
    envs = sorted(p.stem for p in (EXAMPLE / "envs").glob("*.tfvars"))
    assert sorted(p.name.split(".")[0] for p in (EXAMPLE / "envs").glob("*.s3.tfbackend")) == envs
    state_keys = {backend_setting("key", env) for env in envs}
    assert len(state_keys) == len(envs), "each environment has its own state object"


def test_a_second_apply_at_the_same_time_is_refused_and_the_state_stays_intact(terraform, s3, moto_backend, tmp_path):
    gate = tmp_path / "gate"
    first, second = checkout(tmp_path, "first"), checkout(tmp_path, "second")
    for d in (first, second):
        init_backend(terraform, d, moto_backend)
    lock_key = backend_setting("key") + ".tflock"

    running = subprocess.Popen(
        [terraform.binary, "apply", "-auto-approve", "-input=false", "-no-color", f"-var=gate={gate}", "-var=release=v1"],
        cwd=first, env=terraform.env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 300
        while lock_key not in keys(s3):
            assert running.poll() is None, f"first apply ended early:\n{running.communicate()}"
            assert time.monotonic() < deadline, "the first apply never took the lock"
            time.sleep(0.2)

        refused = terraform.run(
            second, "apply", "-auto-approve", "-input=false", "-no-color", f"-var=gate={gate}", "-var=release=v2",
            check=False,
        )
        assert refused.returncode != 0, refused.stdout
        assert "Error acquiring the state lock" in refused.stderr, refused.stderr
        assert "terraform.tfstate" in refused.stderr, "the message names the locked state"
    finally:
        gate.touch()
        out, err = running.communicate(timeout=600)
    assert running.returncode == 0, f"first apply failed:\n{out}\n{err}"

    # The first apply's state is there, whole; the refused one wrote nothing and left no lock.
    assert lock_key not in keys(s3)
    assert releases(state_in_s3(s3)) == ["v1"]
    plan = terraform.run(first, "plan", "-detailed-exitcode", "-input=false", "-no-color", f"-var=gate={gate}", "-var=release=v1", check=False)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    # The second checkout now sees the first's change and plans its own on top of it.
    plan = terraform.run(second, "plan", "-input=false", "-no-color", f"-var=gate={gate}", "-var=release=v2")
    assert '"v1" -> "v2"' in plan.stdout, plan.stdout


def test_local_state_survives_migration_to_s3(terraform, s3, moto_backend, tmp_path):
    gate = tmp_path / "gate"
    gate.touch()
    d = checkout(tmp_path, "local", with_backend=False)
    terraform.init(d)
    terraform.run(d, "apply", "-auto-approve", "-input=false", "-no-color", f"-var=gate={gate}", "-var=release=v7")
    local = json.loads((d / "terraform.tfstate").read_text())

    shutil.copy(EXAMPLE / "backend.tf", d / "backend.tf")
    init_backend(terraform, d, moto_backend, "-migrate-state", "-force-copy")

    remote = state_in_s3(s3)
    assert releases(remote) == releases(local) == ["v7"]
    assert remote["outputs"]["release"]["value"] == "v7"
    assert terraform.run(d, "state", "list", "-no-color").stdout.split() == ["terraform_data.app"]
    assert json.loads(terraform.run(d, "output", "-json", "release").stdout) == "v7"
    plan = terraform.run(d, "plan", "-detailed-exitcode", "-input=false", "-no-color", f"-var=gate={gate}", "-var=release=v7", check=False)
    assert plan.returncode == 0, plan.stdout + plan.stderr
