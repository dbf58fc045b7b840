"""The `jke` command (issue 10) against the real local cluster, with real Terraform for the
apps: init, logs (prefixing, follow, --tail, --since), connect (exit codes, a terminal),
status (incl. a stuck rollout), restart (a new ReplicaSet and an empty plan after), the
environment guard (refusal before any pod read, seen in the API server's audit log) and the
usage errors with their exit codes.

The local cluster's fake kubelet (kwok) shows DIR/pod-logs/current.log as every container's
log and runs exec commands on this machine in DIR/exec (tests/cluster/README.md).
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

import harness
from harness import PROVIDER_DIR, ROOT, Terraform, hcl, provider_block

JKE_BIN = Path(os.environ.get("JKE_CLI_BIN", PROVIDER_DIR / "jke"))
MARKER = ("kube-system", "jke-environment")


@pytest.fixture(scope="session")
def jke_bin() -> Path:
    if not JKE_BIN.exists():
        subprocess.run(["cargo", "build", "--release", "-p", "terraform-provider-jke", "--bin", "jke"], cwd=ROOT, check=True)
    return JKE_BIN


@pytest.fixture(scope="session")
def cluster_dir(cluster) -> Path:
    d = cluster.kubeconfig.resolve().parent
    assert (d / "pod-logs" / "current.log").exists(), f"{d} is a cluster from before pod logs were configured; restart it with tests/cluster/up"
    return d


def cri(text: str, at: datetime, stream: str = "stdout") -> str:
    """One CRI log line as kubelets (and kwok) store them."""
    return f"{at.strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z {stream} F {text}\n"


class Jke:
    """Runs the jke binary with an environments file that points dev and prod at the local
    cluster, from a folder below the file (found by walking up)."""

    def __init__(self, binary: Path, home: Path, cluster, namespace: str):
        self.binary = binary
        self.root = home / "repo"
        self.cwd = self.root / "services" / "web"
        self.cwd.mkdir(parents=True, exist_ok=True)
        self.config = self.root / "jke.toml"
        conn = f"kubernetes = {{ config_path = {hcl(str(cluster.kubeconfig))}, config_context = {hcl(cluster.context)} }}"
        self.config.write_text(
            "# environments of the test\n"
            f"[environments.dev]\nnamespace  = {hcl(namespace)}\n{conn}\n\n"
            f"[environments.prod]\nnamespace  = {hcl(namespace)}\n{conn}\n"
        )
        self.env = {k: v for k, v in os.environ.items() if k not in {"KUBECONFIG", "JKE_CONFIG", "XDG_CONFIG_HOME"}}
        self.env["HOME"] = str(home)

    def run(self, *args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run(
            [str(self.binary), *args], cwd=cwd or self.cwd, env=e, text=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout
        )


def show(p: subprocess.CompletedProcess) -> str:
    return f"$ {' '.join(p.args)}  (exit {p.returncode})\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}"


def wait_until(fn, what: str, timeout: float = 60.0):
    return harness.wait_until(fn, what, timeout, 0.5)


def set_marker(cluster, name: str | None):
    ns, cm = MARKER
    try:
        cluster.core.delete_namespaced_config_map(cm, ns)
    except ApiException as e:
        if e.status != 404:
            raise
    if name is not None:
        cluster.core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=cm), data={"name": name}))


def read_marker(cluster) -> dict | None:
    try:
        return cluster.core.read_namespaced_config_map(MARKER[1], MARKER[0]).data
    except ApiException as e:
        if e.status == 404:
            return None
        raise


APP = """resource "jke_application" "{name}" {{
  name  = "{name}"
  image = "nginx:1.27"
  port  = 80
  rollout = {{ timeout = "90s", progress_deadline_seconds = 30{rollout} }}
{extra}}}
"""


@pytest.fixture(scope="module")
def deployed(cluster, tmp_path_factory, jke_bin, cluster_dir):
    """Apps web and api (applied and available) and stuck (cannot be scheduled) in a fresh
    namespace; the cluster marked as dev for the module (the marker is restored after)."""
    namespace = f"t-{uuid.uuid4().hex[:8]}"
    cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    before = read_marker(cluster)
    set_marker(cluster, "dev")
    home = tmp_path_factory.mktemp("jke")
    work = home / "tf"
    work.mkdir()
    tf = Terraform(work, home)
    extra = f'  defaults = {{\n    namespace = {hcl(namespace)}\n    cpu = "50m"\n    memory = "64Mi"\n  }}\n'
    body = (
        APP.format(name="web", rollout="", extra="")
        + APP.format(name="api", rollout="", extra="")
        + APP.format(name="stuck", rollout=", wait = false", extra='  node_selector = { "jke.test/nowhere" = "true" }\n')
    )
    (work / "main.tf").write_text(provider_block(cluster.kubeconfig, cluster.context, extra) + body)
    tf.apply()
    try:
        yield namespace, tf, Jke(jke_bin, home, cluster, namespace)
    finally:
        tf.destroy(check=False)
        try:
            cluster.core.delete_namespace(namespace)
        except ApiException:
            pass
        if before is None:
            set_marker(cluster, None)
        else:
            set_marker(cluster, None)
            cluster.core.create_namespaced_config_map(
                MARKER[0], client.V1ConfigMap(metadata=client.V1ObjectMeta(name=MARKER[1]), data=before)
            )


@pytest.fixture
def marked_dev(cluster, deployed):
    set_marker(cluster, "dev")
    yield
    set_marker(cluster, "dev")


def pods_of(cluster, namespace: str, app: str) -> list[str]:
    pods = cluster.core.list_namespaced_pod(namespace, label_selector=f"app.kubernetes.io/instance={app}").items
    return sorted(p.metadata.name for p in pods if p.metadata.deletion_timestamp is None)


@pytest.fixture
def pod_log(cluster_dir):
    """Write the lines every container's log shows: two from two hours ago, three recent."""
    path = cluster_dir / "pod-logs" / "current.log"
    now = datetime.now(timezone.utc)
    old = now - timedelta(hours=2)
    path.write_text(
        cri("old-1", old) + cri("old-2", old + timedelta(seconds=1))
        + cri("line-1", now - timedelta(seconds=3)) + cri("line-2", now - timedelta(seconds=2), "stderr") + cri("line-3", now - timedelta(seconds=1))
    )
    yield path
    path.write_text("")


def by_pod(out: str) -> dict[str, list[str]]:
    got: dict[str, list[str]] = {}
    for line in out.splitlines():
        pod, sep, text = line.partition(" | ")
        assert sep, f"line without a pod prefix: {line!r}"
        got.setdefault(pod.strip(), []).append(text)
    return got


# --- init ------------------------------------------------------------------------------------


def commented_block(text: str, name: str) -> dict[str, str]:
    """The commented settings inside the commented block `name = { ... }` of `jke init`'s output."""
    m = re.search(rf"^\s*#\s+{name} = \{{\n(.*?)^\s*#\s+\}}", text, re.M | re.S)
    assert m, f"no commented {name} block in:\n{text}"
    return dict(re.findall(r"^\s*#\s+([a-z_]+)\s+=\s+(\S+)$", m.group(1), re.M))


def test_init_writes_a_block_that_validates_and_plans_with_the_documented_defaults(cluster, tmp_path, jke_bin):
    folder = tmp_path / "Shop_Web"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"KUBECONFIG", "JKE_CONFIG"}}
    p = subprocess.run([str(jke_bin), "init", "--image", "nginx:1.27", "--port", "8080"], cwd=folder, env=env, text=True, capture_output=True)
    assert p.returncode == 0, show(p)
    text = (folder / "app.tf").read_text()
    assert 'name  = "shop-web"' in text, text
    # The defaults are shown as commented settings.
    commented = dict(re.findall(r"^\s*#\s+([a-z_]+)\s+=\s+(\S+)$", text, re.M))
    assert commented["replicas"] == "2" and commented["min_replicas"] == "2" and commented["max_replicas"] == "10"
    assert commented["target_cpu_utilization"] == "70"
    assert commented["cpu"] == '"1"' and commented["memory"] == '"2Gi"'
    # Two blocks have a max_unavailable (the budget's and the rollout's): read each in its block.
    budget = commented_block(text, "disruption_budget")
    rollout = commented_block(text, "rollout")
    assert budget["max_unavailable"] == '"1"' and rollout["max_unavailable"] == '"0"', text
    assert commented["termination_grace_period"] == "30"
    assert "a TCP connect to port 8080" in text

    (folder / "providers.tf").write_text(provider_block(cluster.kubeconfig, cluster.context))
    tf = Terraform(folder, tmp_path)
    tf.run("fmt", "-check", "-no-color", "app.tf")
    v = tf.validate_json()
    assert v["valid"], v
    tf.plan("-out=plan.bin")
    plan = tf.run("show", "-json", "plan.bin").json()
    (rc,) = [r for r in plan["resource_changes"] if r["type"] == "jke_application"]
    after = rc["change"]["after"]
    assert after["name"] == "shop-web" and after["image"] == "nginx:1.27" and after["port"] == 8080
    assert after["replicas"] == int(commented["replicas"])
    assert after["autoscale"]["min_replicas"] == 2 and after["autoscale"]["max_replicas"] == 10
    assert after["autoscale"]["target_cpu_utilization"] == 70
    assert (after["cpu"], after["memory"]) == ("1", "2Gi")
    assert after["disruption_budget"]["max_unavailable"] == json.loads(budget["max_unavailable"])
    assert after["rollout"]["max_unavailable"] == json.loads(rollout["max_unavailable"])
    assert after["termination_grace_period"] == 30

    again = subprocess.run([str(jke_bin), "init", "--image", "other:1"], cwd=folder, env=env, text=True, capture_output=True)
    assert again.returncode == 1 and "already exists" in again.stderr, show(again)
    assert (folder / "app.tf").read_text() == text, "a refused init writes nothing"

    bad = subprocess.run([str(jke_bin), "init", "--name", "Web_1"], cwd=folder, env=env, text=True, capture_output=True)
    assert bad.returncode == 2 and "--name" in bad.stderr, show(bad)


# --- logs ------------------------------------------------------------------------------------


def test_logs_print_every_pods_lines_prefixed_by_pod_name(cluster, deployed, pod_log, marked_dev):
    namespace, _, jke = deployed
    pods = pods_of(cluster, namespace, "web")
    assert len(pods) == 2
    p = jke.run("dev", "logs", "web")
    assert p.returncode == 0, show(p)
    got = by_pod(p.stdout)
    assert sorted(got) == pods, show(p)
    for pod in pods:
        assert got[pod] == ["old-1", "old-2", "line-1", "line-2", "line-3"], show(p)
    assert all(line.startswith(tuple(pods)) for line in p.stdout.splitlines())

    tail = jke.run("dev", "logs", "web", "--tail", "1")
    assert tail.returncode == 0, show(tail)
    assert by_pod(tail.stdout) == {pod: ["line-3"] for pod in pods}, show(tail)

    since = jke.run("dev", "logs", "web", "--since", "1h")
    assert since.returncode == 0, show(since)
    assert by_pod(since.stdout) == {pod: ["line-1", "line-2", "line-3"] for pod in pods}, show(since)


def test_logs_follow_prints_new_lines_and_stops_on_sigint(cluster, deployed, pod_log, marked_dev):
    namespace, _, jke = deployed
    pods = pods_of(cluster, namespace, "web")
    e = dict(jke.env)
    proc = subprocess.Popen(
        [str(jke.binary), "dev", "logs", "web", "-f", "--tail", "1"], cwd=jke.cwd, env=e, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_until(lambda: sum("| line-3" in l for l in lines) == len(pods), "the last line of each pod", 60)
        with pod_log.open("a") as f:
            f.write(cri("followed-1", datetime.now(timezone.utc)))
        wait_until(lambda: sorted(l.split(" | ")[0].strip() for l in lines if "| followed-1" in l) == pods, "the new line from every pod", 60)
        assert proc.poll() is None, "still following"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    reader.join(timeout=5)
    err = proc.stderr.read()
    assert proc.returncode == 0, f"exit {proc.returncode}; stderr: {err}"
    assert "panicked" not in err, err
    assert not any("old-1" in l for l in lines), "--tail 1 limits what -f starts with"


# --- connect ---------------------------------------------------------------------------------


def test_connect_passes_the_exit_code_and_the_output(deployed, marked_dev):
    _, _, jke = deployed
    p = jke.run("dev", "connect", "web", "--", "sh", "-c", "exit 3")
    assert p.returncode == 3, show(p)
    p = jke.run("dev", "connect", "web", "--", "echo", "hello")
    assert p.returncode == 0 and p.stdout == "hello\n", show(p)
    p = jke.run("dev", "connect", "web", "--", "sh", "-c", "echo out; echo err >&2")
    assert p.returncode == 0 and p.stdout == "out\n" and "err" in p.stderr, show(p)
    p = jke.run("dev", "connect", "web", "--pod", "web-nope", "--", "true")
    assert p.returncode == 1 and "not a pod of app web" in p.stderr, show(p)


def test_connect_through_a_terminal_gets_a_terminal(deployed, marked_dev):
    _, _, jke = deployed
    pid, fd = pty.fork()
    if pid == 0:  # the child: jke on the pty's slave end as its terminal
        os.chdir(jke.cwd)
        os.execve(str(jke.binary), [str(jke.binary), "dev", "connect", "web"], jke.env)
    out = b""

    def read_until(needle: bytes, timeout: float = 60) -> None:
        nonlocal out
        deadline = time.monotonic() + timeout
        while needle not in out:
            left = deadline - time.monotonic()
            assert left > 0, f"timed out waiting for {needle!r}; got {out!r}"
            r, _, _ = select.select([fd], [], [], left)
            if r:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    chunk = b""
                assert chunk, f"terminal closed before {needle!r}; got {out!r}"
                out += chunk

    try:
        os.write(fd, b"tty; echo jke-$((6*7))\r")
        read_until(b"jke-42\r\n")
        assert b"/dev/pts/" in out, out
        os.write(fd, b"exit 4\r")
        deadline = time.monotonic() + 30
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            assert time.monotonic() < deadline, f"jke did not exit; got {out!r}"
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    pass
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(fd)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 4, (status, out)


# --- status ----------------------------------------------------------------------------------


def test_status_reports_pods_autoscaler_budget_and_url(cluster, deployed, marked_dev):
    namespace, _, jke = deployed
    pods = pods_of(cluster, namespace, "web")

    def complete():
        p = jke.run("dev", "status", "web", "--output", "json")
        assert p.returncode == 0, show(p)
        s = json.loads(p.stdout)
        ok = s["disruption_budget"] and s["disruption_budget"]["allowed_disruptions"] == 1 and s["autoscaler"]["current"] == 2
        return s if ok else None

    s = wait_until(complete, "the budget and autoscaler to report", 90)
    assert s["app"] == "web" and s["namespace"] == namespace and s["environment"] == "dev"
    assert s["image"] == "nginx:1.27"
    assert s["replicas"] == {"desired": 2, "updated": 2, "ready": 2, "available": 2}
    assert s["rollout"]["state"] == "complete" and s["rollout"]["reason"] is None
    assert sorted(p["name"] for p in s["pods"]) == pods and all(p["ready"] for p in s["pods"])
    assert (s["autoscaler"]["min"], s["autoscaler"]["max"], s["autoscaler"]["target_cpu_percent"]) == (2, 10, 70)
    assert s["url"].startswith(f"http://web.{namespace}.svc.cluster.local:80")

    text = jke.run("dev", "status", "web")
    assert text.returncode == 0, show(text)
    for word in ["nginx:1.27", "2 desired, 2 updated, 2 ready, 2 available", "complete", "2..10", "1 allowed", *pods]:
        assert word in text.stdout, show(text)


def test_status_names_the_reason_a_rollout_is_stuck(deployed, marked_dev):
    _, _, jke = deployed

    def stuck():
        p = jke.run("dev", "status", "stuck", "--output", "json")
        assert p.returncode == 0, show(p)
        s = json.loads(p.stdout)
        return s if s["rollout"]["reason"] and "node" in s["rollout"]["reason"] else None

    s = wait_until(stuck, "the scheduler to give up on the pods", 60)
    assert s["rollout"]["state"] in ("progressing", "failed")
    assert "didn't match Pod's node affinity/selector" in s["rollout"]["reason"], s
    assert s["replicas"]["available"] == 0
    text = jke.run("dev", "status", "stuck")
    assert "didn't match Pod's node affinity/selector" in text.stdout, show(text)
    assert "FailedScheduling" in text.stdout, show(text)


# --- the guard and bad input ------------------------------------------------------------------


def audit_events(cluster_dir: Path, start: int) -> list[dict]:
    with (cluster_dir / "logs" / "audit.log").open() as f:
        f.seek(start)
        return [json.loads(l) for l in f if l.strip()]


def test_a_cluster_of_another_environment_is_refused_before_any_pod_is_read(cluster, deployed, cluster_dir, marked_dev):
    namespace, _, jke = deployed
    audit = cluster_dir / "logs" / "audit.log"
    start = audit.stat().st_size
    p = jke.run("prod", "logs", "web")
    assert p.returncode == 1, show(p)
    err = " ".join(p.stderr.split())
    assert '"prod"' in err and '"dev"' in err and "nothing was changed" in err, show(p)
    time.sleep(1)
    events = [e for e in audit_events(cluster_dir, start) if e.get("stage") == "ResponseComplete"]
    refs = [(e["verb"], e.get("objectRef", {}).get("resource"), e.get("objectRef", {}).get("namespace"), e.get("objectRef", {}).get("name")) for e in events]
    assert ("get", "configmaps", "kube-system", "jke-environment") in refs, refs
    assert not [r for r in refs if r[1] in ("pods", "deployments") or r[2] == namespace], refs

    set_marker(cluster, None)
    p = jke.run("dev", "logs", "web")
    assert p.returncode == 1, show(p)
    assert "does not say which environment" in " ".join(p.stderr.split()), show(p)


def test_bad_input_is_a_clear_error_with_its_exit_code(deployed, marked_dev, tmp_path):
    namespace, _, jke = deployed
    p = jke.run("staging", "logs", "web")
    assert p.returncode == 2 and "unknown environment" in p.stderr and "dev, prod" in p.stderr, show(p)

    p = jke.run("dev", "logs", "nope")
    assert p.returncode == 1, show(p)
    assert namespace in p.stderr and "api, stuck, web" in p.stderr, show(p)

    p = jke.run("dev", "logs", "web", "--since", "5 parsecs")
    assert p.returncode == 2 and "not a duration" in p.stderr, show(p)

    nowhere = tmp_path / "elsewhere"
    nowhere.mkdir()
    p = jke.run("dev", "logs", "web", cwd=nowhere, env={"HOME": str(tmp_path)})
    assert p.returncode == 2 and "no environments file" in p.stderr and "jke.toml" in p.stderr, show(p)

    typo = tmp_path / "typo.toml"
    typo.write_text('[environments.dev]\nnamespce = "x"\nkubernetes = { config_path = "k", config_context = "c" }\n')
    p = jke.run("dev", "status", "web", env={"JKE_CONFIG": str(typo)})
    assert p.returncode == 2 and "line 2" in p.stderr and "namespce" in p.stderr, show(p)

    p = jke.run("dev", "frobnicate", "web")
    assert p.returncode == 2, show(p)

    p = jke.run("envs")
    assert p.returncode == 0 and "dev" in p.stdout and "prod" in p.stdout and str(jke.config) in p.stdout, show(p)
    assert "context" in p.stdout


# --- restart (last: it replaces the pods the tests above read) ----------------------------------


def test_restart_rolls_every_pod_and_the_next_plan_is_empty(cluster, deployed, marked_dev):
    namespace, tf, jke = deployed
    before_pods = pods_of(cluster, namespace, "web")
    rs_before = {r.metadata.name for r in cluster.apps.list_namespaced_replica_set(namespace, label_selector="app.kubernetes.io/instance=web").items}
    p = jke.run("dev", "restart", "web")
    assert p.returncode == 0, show(p)
    rs_after = cluster.apps.list_namespaced_replica_set(namespace, label_selector="app.kubernetes.io/instance=web").items
    new = [r for r in rs_after if r.metadata.name not in rs_before]
    assert len(new) == 1 and new[0].status.ready_replicas == 2, [r.metadata.name for r in rs_after]
    after_pods = wait_until(lambda: (lambda ps: ps if len(ps) == 2 else None)(pods_of(cluster, namespace, "web")), "the old pods to go", 60)
    assert not set(after_pods) & set(before_pods), (before_pods, after_pods)
    d = cluster.apps.read_namespaced_deployment("web", namespace)
    assert "kubectl.kubernetes.io/restartedAt" in d.spec.template.metadata.annotations
    plan = tf.plan_exitcode()
    assert plan.code == 0, str(plan)
