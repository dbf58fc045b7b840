"""Transient faults between the provider and the API server (issue 14, sections 3 and 5):
refused and reset connections, answers lost after the server acted, 429/500/503, delays and
broken watches are retried within the operation's deadline, and an API server restarted in the
middle of an apply or of a rollout wait changes nothing about the outcome. Targeted faults
(`faults.Rule`): the lost answer of the managed-fields take-over, and a rollout watch cut as
soon as it opens.

Faults come from `faults.FaultProxy` (a TLS-terminating loopback proxy in front of the local
cluster) and `tests/cluster/restart`. These tests need the cluster's directory (certificates,
the restart verb), so they run on a cluster started by tests/cluster/up."""

from __future__ import annotations

import os
import subprocess
import threading
import uuid
from pathlib import Path

import pytest
from faults import FaultProxy, Rule
from harness import ROOT, audit_events, hcl, kubectl_set_env, provider_block, started_cluster, wait_until
from test_cluster import app, write

OWNER = "jke.dev/owner"


def cluster_dir(cluster) -> Path:
    d = cluster.kubeconfig.resolve().parent
    if not (d / "pki" / "apiserver.key").exists():
        pytest.skip("needs a cluster started by tests/cluster/up (its certificates)")
    return d


def config(kubeconfig: Path, context: str, namespace: str, body: str, provider_extra: str = "") -> str:
    extra = f'  defaults = {{\n    namespace = {hcl(namespace)}\n    cpu = "50m"\n    memory = "64Mi"\n  }}\n' + provider_extra
    return provider_block(kubeconfig, context, extra) + body


def apps(n: int) -> str:
    return "".join(app(f"a{i:02}", extra="  autoscale = { enabled = false }\n") for i in range(n))


def orphans(cluster, tf, namespace) -> list[str]:
    """Objects in `namespace` JKE wrote (managed-by jke) whose owner mark no app in state has."""
    state = tf.run("show", "-json").json()
    owners = {
        r["values"].get("owner_id")
        for r in state.get("values", {}).get("root_module", {}).get("resources", [])
        if r["type"] == "jke_application"
    }
    sel = "app.kubernetes.io/managed-by=jke"
    found = []
    for kind, items in [
        ("Deployment", cluster.apps.list_namespaced_deployment(namespace, label_selector=sel).items),
        ("Service", cluster.core.list_namespaced_service(namespace, label_selector=sel).items),
        ("Secret", cluster.core.list_namespaced_secret(namespace, label_selector=sel).items),
        ("ServiceAccount", cluster.core.list_namespaced_service_account(namespace, label_selector=sel).items),
        ("PodDisruptionBudget", cluster.policy.list_namespaced_pod_disruption_budget(namespace, label_selector=sel).items),
        ("NetworkPolicy", cluster.networking.list_namespaced_network_policy(namespace, label_selector=sel).items),
    ]:
        for o in items:
            if (o.metadata.annotations or {}).get(OWNER) not in owners:
                found.append(f"{kind}/{o.metadata.name}")
    return found


def test_twenty_apps_apply_plan_and_destroy_through_a_fifth_of_requests_failing(cluster, tf, namespace, tmp_path):
    shares = {"reset": 0.05, "lost": 0.04, "503": 0.03, "429": 0.02, "500": 0.02, "delay": 0.02, "cut": 0.02}
    proxy = FaultProxy(cluster_dir(cluster), cluster.server, shares)
    try:
        kubeconfig = proxy.kubeconfig(tmp_path / "proxied-kubeconfig")
        write(tf, config(kubeconfig, cluster.context, namespace, apps(20)))
        tf.run("init")
        tf.apply("-parallelism=10")
        plan = tf.plan_exitcode()
        assert plan.code == 0, f"the plan after apply is not empty:\n{plan}"
        deployments = cluster.apps.list_namespaced_deployment(namespace).items
        assert sorted(d.metadata.name for d in deployments) == [f"a{i:02}" for i in range(20)]
        assert orphans(cluster, tf, namespace) == []
        tf.destroy("-parallelism=10")
        sel = "app.kubernetes.io/managed-by=jke"
        assert cluster.apps.list_namespaced_deployment(namespace, label_selector=sel).items == []
        assert cluster.core.list_namespaced_service(namespace, label_selector=sel).items == []
        assert cluster.core.list_namespaced_secret(namespace, label_selector=sel).items == []
    finally:
        proxy.stop()
    # The faults really happened, of every kind, at about the share asked for.
    for fault in ("reset", "lost", "503", "429", "500"):
        assert proxy.injected[fault] > 0, f"no {fault} injected: {dict(proxy.injected)}"
    assert proxy.requests > 200, proxy.requests
    share = sum(proxy.injected.values()) / proxy.requests
    assert 0.12 < share < 0.28, f"{share:.0%} of {proxy.requests} requests failed: {dict(proxy.injected)}"


def test_a_lost_answer_to_the_take_over_of_foreign_fields_still_converges(cluster, tf, namespace, tmp_path):
    """The managedFields patch that hands a foreign field to the provider is guarded by the
    object's resourceVersion: when the server did it but its answer was lost, the retry meets
    a 409. The apply reads the object again, finds nothing left to take over, and goes on."""
    d = cluster_dir(cluster)
    body = app(extra='  env = { LOG = "info" }\n')
    write(tf, config(cluster.kubeconfig, cluster.context, namespace, body))
    tf.run("init")
    tf.apply()
    kubectl_set_env(cluster, namespace, "DEBUG", "1")
    # On an update the take-over is the only merge patch of the Deployment itself.
    take_over = Rule(
        "lost",
        method="PATCH",
        path=f"/apis/apps/v1/namespaces/{namespace}/deployments/web",
        content_type="application/merge-patch+json",
        times=1,
    )
    proxy = FaultProxy(d, cluster.server, {}, rules=[take_over])
    try:
        kubeconfig = proxy.kubeconfig(tmp_path / "proxied-kubeconfig")
        write(tf, config(kubeconfig, cluster.context, namespace, body))
        applied = tf.apply(check=False)
    finally:
        proxy.stop()
    assert take_over.hits == 1, "the take-over patch never went through the proxy"
    assert applied.code == 0, str(applied)
    dep = cluster.apps.read_namespaced_deployment("web", namespace)
    env = {e.name: e.value for e in dep.spec.template.spec.containers[0].env}
    assert env == {"LOG": "info"}, env
    write(tf, config(cluster.kubeconfig, cluster.context, namespace, body))
    plan = tf.plan_exitcode()
    assert plan.code == 0, f"the plan after apply is not empty:\n{plan}"


def test_a_rollout_watch_cut_right_after_it_opens_is_reopened_with_backoff(cluster, tf, namespace, tmp_path):
    """A watch that breaks as soon as it opened (a sick API server or proxy) is opened again
    after a growing wait, not in a hot loop until the rollout's deadline."""
    d = cluster_dir(cluster)
    cut = Rule("cut", method="GET", path=f"/apis/apps/v1/namespaces/{namespace}/deployments", watch=True, cut_after=0.05)
    proxy = FaultProxy(d, cluster.server, {}, rules=[cut])
    # Pods that never schedule: the wait lasts its whole timeout.
    body = (
        'resource "jke_application" "web" {\n  name  = "web"\n  image = "nginx:1.27"\n  port  = 80\n'
        '  node_selector = { pool = "does-not-exist" }\n  rollout = { timeout = "10s" }\n}\n'
    )
    try:
        write(tf, config(proxy.kubeconfig(tmp_path / "proxied-kubeconfig"), cluster.context, namespace, body))
        tf.run("init")
        applied = tf.apply(check=False)
    finally:
        proxy.stop()
    assert applied.code != 0 and "did not finish within 10s" in " ".join(applied.err.split()), str(applied)
    # The backoff (0.1-0.2 s growing to 2.5-5 s) allows about 8 opens in 10 s; without it the
    # watch is opened again every few tens of milliseconds, a hundred times and more.
    assert 3 <= cut.hits <= 25, f"the rollout watch was opened {cut.hits} times in 10 s"


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory):
    """A cluster of these tests' own: a restarted API server backs the controller manager's
    work queues off for a while, which must not slow the tests that share the main cluster."""
    with started_cluster(tmp_path_factory.mktemp("restarted-cluster")) as c:
        yield c


@pytest.fixture
def own_namespace(own_cluster) -> str:
    from kubernetes import client

    name = f"t-{uuid.uuid4().hex[:8]}"
    own_cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


def restart_api_server(d: Path, down_seconds: int = 2) -> subprocess.CompletedProcess:
    # A short stop grace: the outage is what matters, and a long one backs the cluster's own
    # controllers off for minutes (their work queues retry with exponential delays).
    env = {**os.environ, "JKE_CLUSTER_STOP_GRACE": "1"}
    return subprocess.run(
        [str(ROOT / "tests/cluster/restart"), str(d), str(down_seconds)], text=True, capture_output=True, timeout=180, env=env
    )


def apply_in_background(tf) -> tuple[subprocess.Popen, list[str]]:
    p = tf.apply_in_background("-parallelism=5")
    out: list[str] = []
    threading.Thread(target=lambda: out.extend(p.stdout), daemon=True).start()
    return p, out


def test_api_server_restarted_during_apply_then_apply_converges_with_no_orphans(own_cluster, tf, own_namespace):
    cluster, namespace = own_cluster, own_namespace
    d = cluster_dir(cluster)
    write(tf, config(cluster.kubeconfig, cluster.context, namespace, apps(4)))
    tf.run("init")
    audit = d / "logs" / "audit.log"
    start = audit.stat().st_size
    p, out = apply_in_background(tf)
    # Restart in the middle of the apply: the first app waits for its rollout while the
    # others are still being written.
    wait_until(lambda: watching_deployments(audit, start, namespace), "the provider's first rollout watch", 120, 0.2)
    restarted = restart_api_server(d)
    assert restarted.returncode == 0, restarted.stderr
    code = p.wait(timeout=600)
    text = " ".join("".join(out).split())
    # Every request the restart broke was retried: no error says the API was unreachable. The
    # cluster's own controllers may have been held up by the restart past a rollout's
    # deadline; that is reported as the rollout's failure, and the next apply converges.
    assert "cannot reach the Kubernetes API" not in text, text
    if code != 0:
        assert "Error: " in text and "rollout of Deployment/" in text, text
        tf.apply()
    plan = tf.plan_exitcode()
    assert plan.code == 0, f"the plan after apply is not empty:\n{plan}"
    assert len(cluster.apps.list_namespaced_deployment(namespace).items) == 4
    assert orphans(cluster, tf, namespace) == []


def watching_deployments(audit: Path, start: int, namespace: str) -> bool:
    """Whether the audit log, after byte `start`, shows the provider (no User-Agent) watching
    Deployments in `namespace`."""
    for e in audit_events(audit, start):
        ref = e.get("objectRef") or {}
        if (
            e.get("verb") == "watch"
            and not e.get("userAgent")
            and ref.get("resource") == "deployments"
            and ref.get("namespace") == namespace
        ):
            return True
    return False


def test_api_server_restarted_during_a_failing_rollout_still_reports_the_failed_rollout(own_cluster, tf, own_namespace):
    cluster, namespace = own_cluster, own_namespace
    d = cluster_dir(cluster)
    write(tf, config(cluster.kubeconfig, cluster.context, namespace, app()))
    tf.run("init")
    tf.apply()
    bad = app(image="nginx:1.28", extra='  node_selector = { pool = "does-not-exist" }\n')
    write(tf, config(cluster.kubeconfig, cluster.context, namespace, bad))
    audit = d / "logs" / "audit.log"
    start = audit.stat().st_size
    p, out = apply_in_background(tf)
    # Restart once the provider waits for the rollout: its watch on the Deployment started.
    wait_until(lambda: watching_deployments(audit, start, namespace), "the provider's rollout watch", 120, 0.2)
    restarted = restart_api_server(d)
    assert restarted.returncode == 0, restarted.stderr
    code = p.wait(timeout=600)
    err = " ".join("".join(out).split())
    assert code != 0, err
    # The rollout's own failure, not the restart's connection errors.
    assert "rolled back" in err and "0/" in err and "node" in err, err
    assert "cannot reach the Kubernetes API" not in err, err
    dep = cluster.apps.read_namespaced_deployment("web", namespace)
    assert dep.spec.template.spec.containers[0].image == "nginx:1.27"
    again = tf.plan_exitcode()
    assert again.code == 2 and '"nginx:1.27" -> "nginx:1.28"' in again.out, "the next plan proposes the change again"
    assert orphans(cluster, tf, namespace) == []
