"""Real Terraform against the provider binary: CLI config with dev_overrides (or with the
released provider installed by `init` from a mirror), and a small runner that keeps each
command's output for the assertion message."""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_DIR = Path(os.environ.get("JKE_PROVIDER_DIR", ROOT / "target" / "release"))
PROVIDER_BIN = PROVIDER_DIR / "terraform-provider-jke"
TF_BIN = os.environ.get("TF_BIN") or str(ROOT / "tests" / "bin" / "terraform")

# Environment that would change what Terraform does behind the test's back.
SCRUB = {"TF_CLI_CONFIG_FILE", "TF_CLI_ARGS", "TF_DATA_DIR", "TF_WORKSPACE", "KUBECONFIG", "TF_LOG", "TF_PLUGIN_CACHE_DIR"}


@dataclass(frozen=True)
class Client:
    """The Terraform client TF_BIN names: "terraform" or "tofu", and its version."""

    name: str
    version: tuple[int, int, int]

    @property
    def is_tofu(self) -> bool:
        return self.name == "tofu"

    @property
    def product(self) -> str:
        """How the client calls itself in messages ("outside of Terraform/OpenTofu")."""
        return "OpenTofu" if self.is_tofu else "Terraform"

    @property
    def registry(self) -> str:
        """The registry host a source address like `jke/jke` resolves to."""
        return "registry.opentofu.org" if self.is_tofu else "registry.terraform.io"


@functools.cache
def client() -> Client:
    out = subprocess.run(
        [TF_BIN, "version"], text=True, capture_output=True, timeout=120, env={**os.environ, "CHECKPOINT_DISABLE": "1"}
    ).stdout
    m = re.search(r"^(Terraform|OpenTofu) v(\d+)\.(\d+)\.(\d+)", out, re.M)
    assert m, f"{TF_BIN} version says neither Terraform nor OpenTofu:\n{out}"
    return Client("tofu" if m.group(1) == "OpenTofu" else "terraform", tuple(int(x) for x in m.group(2, 3, 4)))


def installed_cli_config(path: Path, filesystem_mirror: Path | None = None, network_mirror: str | None = None) -> Path:
    """A CLI config that installs jke/jke the way a user does, through `init`: from a
    filesystem mirror folder or a network mirror URL made by tests/release. No dev_overrides
    and no `direct` (nothing comes from a registry)."""
    include = '["registry.terraform.io/jke/jke", "registry.opentofu.org/jke/jke"]'
    blocks = ""
    if filesystem_mirror is not None:
        blocks += f'  filesystem_mirror {{\n    path    = "{filesystem_mirror}"\n    include = {include}\n  }}\n'
    if network_mirror is not None:
        blocks += f'  network_mirror {{\n    url     = "{network_mirror}"\n    include = {include}\n  }}\n'
    path.write_text("provider_installation {\n" + blocks + "}\n")
    return path


def hcl(value) -> str:
    """A Python value as an HCL expression (JSON is valid HCL for values)."""
    return json.dumps(value)


@dataclass
class Result:
    args: list[str]
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"$ terraform {' '.join(self.args)}  (exit {self.code})\n--- stdout\n{self.out}\n--- stderr\n{self.err}"

    def json(self):
        return json.loads(self.out)


class Terraform:
    def __init__(self, workdir: Path, home: Path, extra_env: dict | None = None, cli_config: Path | None = None):
        self.workdir = workdir
        self.home = home
        cli = cli_config or home / "dev.tfrc"
        if not cli.exists():
            cli.write_text(
                "provider_installation {\n"
                f'  dev_overrides {{\n    "jke/jke" = "{PROVIDER_DIR}"\n  }}\n'
                "  direct {}\n"
                "}\n"
            )
        self.env = {k: v for k, v in os.environ.items() if k not in SCRUB}
        self.env.update(
            {
                "TF_CLI_CONFIG_FILE": str(cli),
                "CHECKPOINT_DISABLE": "1",
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
            }
        )
        if extra_env:
            self.env.update(extra_env)

    def run(self, *args: str, check: bool = True, timeout: int = 900, env: dict | None = None) -> Result:
        e = dict(self.env)
        if env:
            e.update(env)
        p = subprocess.run(
            [TF_BIN, *args], cwd=self.workdir, env=e, text=True, capture_output=True, timeout=timeout
        )
        r = Result(list(args), p.returncode, p.stdout, p.stderr)
        if check:
            assert r.code == 0, str(r)
        return r

    # The commands tests use most, with the flags automation wants.
    def validate_json(self) -> dict:
        r = self.run("validate", "-json", "-no-color", check=False)
        return r.json()

    def plan(self, *extra: str, check: bool = True, env: dict | None = None) -> Result:
        return self.run("plan", "-no-color", "-input=false", *extra, check=check, env=env)

    def plan_exitcode(self, *extra: str) -> Result:
        """plan -detailed-exitcode: 0 no changes, 2 changes, 1 error."""
        return self.run("plan", "-no-color", "-input=false", "-detailed-exitcode", *extra, check=False)

    def apply(self, *extra: str, check: bool = True, env: dict | None = None) -> Result:
        return self.run("apply", "-no-color", "-input=false", "-auto-approve", *extra, check=check, env=env)

    def apply_in_background(self, *extra: str) -> subprocess.Popen:
        """`apply` started and left running (output on its stdout), for a test that
        interrupts it: kills its provider, sends Ctrl-C, or takes the API server away."""
        return subprocess.Popen(
            [TF_BIN, "apply", "-no-color", "-auto-approve", "-input=false", *extra],
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def destroy(self, *extra: str, check: bool = True) -> Result:
        return self.run("destroy", "-no-color", "-input=false", "-auto-approve", *extra, check=check)

    def state_resource(self, address: str) -> dict:
        state = self.run("show", "-json").json()
        for r in state.get("values", {}).get("root_module", {}).get("resources", []):
            if r["address"] == address:
                return r["values"]
        raise AssertionError(f"{address} not in state")


def provider_block(kubeconfig: Path | None = None, context: str | None = None, extra: str = "", version: str | None = None) -> str:
    conn = ""
    if kubeconfig is not None:
        conn = f"  kubernetes = {{\n    config_path    = {hcl(str(kubeconfig))}\n    config_context = {hcl(context)}\n  }}\n"
    pin = f", version = {hcl('= ' + version)}" if version else ""
    return (
        f'terraform {{\n  required_providers {{\n    jke = {{ source = "jke/jke"{pin} }}\n  }}\n}}\n\n'
        f'provider "jke" {{\n{conn}{extra}}}\n'
    )


def kubectl_set_env(cluster, namespace: str, name: str, value: str):
    """`kubectl set env deployment/web NAME=VALUE`: an env entry in the app container owned by
    the field manager kubectl uses for it."""
    cluster.apps.patch_namespaced_deployment(
        "web",
        namespace,
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "env": [{"name": name, "value": value}]}]}}}},
        field_manager="kubectl-set",
    )


def wait_until(fn, what: str, timeout: float = 60.0, interval: float = 1.0):
    """Poll `fn` until it returns something truthy (which is returned); after `timeout`
    seconds fail naming `what` and the last value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class LocalCluster:
    """A local cluster's kubeconfig and typed API clients (kubernetes' Python client)."""

    def __init__(self, kubeconfig: Path):
        import yaml
        from kubernetes import client, config

        self.kubeconfig = kubeconfig
        cfg = yaml.safe_load(kubeconfig.read_text())
        self.context = cfg["current-context"]
        self.server = next(c["cluster"]["server"] for c in cfg["clusters"])
        self.api_client = config.new_client_from_config(config_file=str(kubeconfig), context=self.context)
        self.core = client.CoreV1Api(self.api_client)
        self.apps = client.AppsV1Api(self.api_client)
        self.autoscaling = client.AutoscalingV2Api(self.api_client)
        self.policy = client.PolicyV1Api(self.api_client)
        self.networking = client.NetworkingV1Api(self.api_client)
        self.rbac = client.RbacAuthorizationV1Api(self.api_client)


@contextmanager
def started_cluster(d: Path) -> Iterator[LocalCluster]:
    """A local cluster of its own in folder `d` (tests/cluster/up), stopped on exit."""
    up = subprocess.run([str(ROOT / "tests/cluster/up"), str(d)], text=True, capture_output=True)
    try:
        assert up.returncode == 0, f"tests/cluster/up failed:\n{up.stdout}\n{up.stderr}"
        yield LocalCluster(d / "kubeconfig")
    finally:
        subprocess.run([str(ROOT / "tests/cluster/down"), str(d)], text=True, capture_output=True)


def audit_events(audit: Path, start: int) -> Iterator[dict]:
    """The local cluster's audit log events (tests/cluster/up writes it) after byte `start`;
    a line the API server is still writing is skipped."""
    with audit.open() as f:
        f.seek(start)
        for line in f:
            try:
                yield json.loads(line)
            except ValueError:
                continue
