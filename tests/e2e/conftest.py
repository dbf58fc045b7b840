"""Fixtures for end-to-end tests: real Terraform, the provider binary, the local cluster.

One local cluster serves the whole session: tests/run starts it and exports
JKE_TEST_KUBECONFIG; run alone, pytest starts one with tests/cluster/up and stops it at the
end (also when tests fail).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PROVIDER_BIN, ROOT, LocalCluster, Terraform, started_cluster  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "clients: the subset (plan, apply, drift, import, destroy, install, modules) tests/run also runs with the second clients",
    )


@pytest.fixture(scope="session", autouse=True)
def provider_binary() -> Path:
    if not PROVIDER_BIN.exists():
        subprocess.run(["cargo", "build", "--release", "-p", "terraform-provider-jke"], cwd=ROOT, check=True)
    return PROVIDER_BIN


@pytest.fixture(scope="session")
def release(provider_binary, tmp_path_factory) -> Path:
    """The provider under test released by tests/release (zips, SHA256SUMS, manifest,
    filesystem mirror and network mirror tree) into a scratch folder."""
    out = tmp_path_factory.mktemp("release")
    r = subprocess.run(
        [str(ROOT / "tests/release"), "--out", str(out), "--binary", str(provider_binary)],
        text=True,
        capture_output=True,
        timeout=600,
    )
    assert r.returncode == 0, f"tests/release failed:\n{r.stdout}\n{r.stderr}"
    assert r.stdout.strip().splitlines()[-1] == str(out)
    return out


@pytest.fixture(scope="session")
def provider_version() -> str:
    with open(ROOT / "provider/Cargo.toml", "rb") as f:
        return tomllib.load(f)["package"]["version"]


@pytest.fixture(scope="session")
def cluster(tmp_path_factory) -> LocalCluster:
    given = os.environ.get("JKE_TEST_KUBECONFIG")
    if given:
        yield LocalCluster(Path(given))
        return
    with started_cluster(tmp_path_factory.mktemp("cluster")) as c:
        yield c


@pytest.fixture
def tf(tmp_path) -> Terraform:
    work = tmp_path / "work"
    work.mkdir()
    return Terraform(work, tmp_path)


@pytest.fixture
def namespace(cluster) -> str:
    """A fresh namespace for one test, deleted afterwards."""
    from kubernetes import client

    name = f"t-{uuid.uuid4().hex[:8]}"
    cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    try:
        cluster.core.delete_namespace(name)
    except Exception:  # noqa: BLE001 - best effort cleanup; the cluster is torn down anyway
        pass
