"""Nothing half-applied, nothing forgotten (issue 14, section 3): a create the API server
stops part-way is recorded (tainted) so destroy removes what it wrote; a prune that fails is
an error and the state keeps what is still there; a rollout left unfinished by an
interrupted apply shows in the next plan; destroy of an object held by a finalizer fails
with its own timeout, naming the object.

A restricted identity (a ServiceAccount bound to the documented Role minus one verb, as in
test_rbac.py) is how the API server refuses one object of the bundle."""

from __future__ import annotations

import signal
import socket
import struct
import subprocess
import threading

from kubernetes.client.rest import ApiException

import harness
from test_rbac import role_rules, service_account_token, token_config

INGRESS = '  ingress = { hosts = ["web.example.com"] }\n'
SEL = "app.kubernetes.io/instance=web"


def without_verbs(resource: str, verbs: set[str]) -> list[dict]:
    """The documented Role, with `verbs` taken away on `resource` alone."""
    rules = []
    for r in role_rules():
        if resource in r.get("resources", []):
            rest = [x for x in r["resources"] if x != resource]
            if rest:
                rules.append({**r, "resources": rest})
            rules.append({**r, "resources": [resource], "verbs": [v for v in r["verbs"] if v not in verbs]})
        else:
            rules.append(r)
    return rules


def one_line(text: str) -> str:
    return " ".join(text.split())


def wait_until(fn, what: str, timeout: float = 120.0):
    return harness.wait_until(fn, what, timeout)


def state_json(tf) -> dict:
    return tf.run("show", "-json").json()


def test_a_create_refused_part_way_is_tainted_and_destroy_removes_what_it_wrote(cluster, tf, namespace):
    # The Ingress is the last object of the bundle: everything before it is written.
    token = service_account_token(cluster, namespace, "jke-no-ingress-writes", without_verbs("ingresses", {"create", "patch"}))
    (tf.workdir / "main.tf").write_text(token_config(cluster, namespace, token, INGRESS))
    r = tf.apply(check=False)
    assert r.code != 0
    err = one_line(r.err)
    assert 'resource "ingresses"' in err and "recorded in state" in err, str(r)
    assert cluster.apps.list_namespaced_deployment(namespace, label_selector=SEL).items, "the Deployment was written"
    res = next(x for x in state_json(tf)["values"]["root_module"]["resources"] if x["address"] == "jke_application.web")
    assert res.get("tainted") is True, "Terraform recorded the partial app as tainted"
    assert res["values"]["owner_id"]
    plan = tf.plan_exitcode()
    assert plan.code == 2 and "must be replaced" in plan.out, str(plan)
    tf.destroy()
    assert cluster.apps.list_namespaced_deployment(namespace, label_selector=SEL).items == []
    assert cluster.core.list_namespaced_service(namespace, label_selector=SEL).items == []
    assert cluster.core.list_namespaced_service_account(namespace, label_selector=SEL).items == []


def test_a_failed_prune_is_an_error_and_the_state_keeps_the_ingress(cluster, tf, namespace):
    token = service_account_token(cluster, namespace, "jke-no-ingress-delete", without_verbs("ingresses", {"delete"}))
    (tf.workdir / "main.tf").write_text(token_config(cluster, namespace, token, INGRESS))
    tf.apply()
    (tf.workdir / "main.tf").write_text(token_config(cluster, namespace, token))
    r = tf.apply(check=False)
    assert r.code != 0
    err = one_line(r.err)
    assert "cannot delete" in err and 'resource "ingresses"' in err, str(r)
    assert "stay in state" in err
    assert cluster.networking.read_namespaced_ingress("web", namespace), "the Ingress is still there"
    values = tf.state_resource("jke_application.web")
    assert "Ingress/web" in values["objects"] and values["ingress"], "the state keeps the Ingress that still routes"
    plan = tf.plan_exitcode()
    assert plan.code == 2 and "Ingress/web" in plan.out, "the next plan proposes removing it again"


def test_an_apply_killed_during_the_rollout_is_reported_by_the_next_plan(cluster, tf, namespace):
    good = first_version_then_broken(cluster, tf, namespace)
    p = tf.apply_in_background()

    def new_version_written():
        d = cluster.apps.read_namespaced_deployment("web", namespace)
        return d.spec.template.spec.containers[0].image == "nginx:1.28"

    wait_until(new_version_written, "the new Deployment to be written")
    # Only this Terraform's provider (a child of its process), not anyone else's.
    subprocess.run(["pkill", "-KILL", "-P", str(p.pid), "-f", "terraform-provider-jke"], check=False)
    p.wait(timeout=120)

    def deadline_exceeded():
        d = cluster.apps.read_namespaced_deployment("web", namespace)
        return any(c.reason == "ProgressDeadlineExceeded" for c in d.status.conditions or [])

    wait_until(deadline_exceeded, "Kubernetes to give up on the rollout")
    # Terraform kept the prior state: the killed provider never answered.
    assert tf.state_resource("jke_application.web")["image"] == "nginx:1.27"
    plan = tf.plan_exitcode()
    out = one_line(plan.out)
    assert plan.code == 2, str(plan)
    assert '"Deployment/web: rollout"' in out and "failed:" in out, str(plan)
    rolls_back_to_the_first_version(cluster, tf, namespace, good)


def test_a_create_killed_during_the_rollout_is_taken_over_by_the_next_apply(cluster, tf, namespace):
    """A create whose provider dies before it returns leaves objects that no state names; they
    carry a pending mark, so the next apply of the same configuration takes them over (instead
    of refusing them as another's) and finishes the create: the mark comes off and the count
    the create started with goes to the autoscaler's side."""
    from test_cluster import app, config, write

    stuck = app(extra='  node_selector = { pool = "does-not-exist" }\n')
    write(tf, config(cluster, namespace, stuck))
    tf.run("init")
    p = tf.apply_in_background()

    def created():
        try:
            return cluster.apps.read_namespaced_deployment("web", namespace)
        except ApiException:
            return None

    d = wait_until(created, "the Deployment to be created")
    assert d.metadata.labels.get("jke.dev/create-pending") == "true"
    subprocess.run(["pkill", "-KILL", "-P", str(p.pid), "-f", "terraform-provider-jke"], check=False)
    p.wait(timeout=120)
    assert tf.run("state", "list").out.strip() == "", "the killed create returned nothing to Terraform"

    write(tf, config(cluster, namespace, app()))
    tf.apply()
    d = cluster.apps.read_namespaced_deployment("web", namespace)
    state = tf.state_resource("jke_application.web")
    assert d.metadata.annotations["jke.dev/owner"] == state["owner_id"], "the leftovers were not taken over"
    assert "jke.dev/create-pending" not in d.metadata.labels
    assert d.spec.replicas == 2 and d.status.available_replicas == 2
    scale = [m for m in d.metadata.managed_fields if m.subresource == "scale"]
    assert [(m.manager, m.operation) for m in scale] == [("jke", "Update")], d.metadata.managed_fields
    assert tf.plan_exitcode().code == 0, "no changes after apply"


def first_version_then_broken(cluster, tf, namespace, rollout_timeout: str = "90s") -> tuple:
    """Apply the first version of the app, then write (not apply) a version that can never
    run: no node has its label, and Kubernetes gives up on it after 10 s. Returns the first
    version's pod template."""
    from test_cluster import app, config, write

    write(tf, config(cluster, namespace, app()))
    tf.apply()
    good = pod_template(cluster, namespace)
    broken = app(image="nginx:1.28", extra='  node_selector = { pool = "does-not-exist" }\n')
    broken = broken.replace('timeout = "90s", progress_deadline_seconds = 30', f'timeout = "{rollout_timeout}", progress_deadline_seconds = 10')
    write(tf, config(cluster, namespace, broken))
    return good


def rolls_back_to_the_first_version(cluster, tf, namespace, good):
    """The next apply (of the same broken configuration) fails like a first failure: it rolls
    back to the first version, whose pods run again, and the next plan proposes the change."""
    r = tf.apply(check=False)
    err = one_line(r.err)
    assert r.code != 0 and "Rollout of" in err and "rolled back to the previous version" in err, str(r)
    assert pod_template(cluster, namespace) == good, "the first version's pod template is back"
    wait_until(lambda: (cluster.apps.read_namespaced_deployment("web", namespace).status.available_replicas or 0) >= 2, "its pods available")
    again = tf.plan_exitcode()
    assert again.code == 2 and '"nginx:1.27" -> "nginx:1.28"' in again.out, str(again)


def pod_template(cluster, namespace) -> tuple:
    """What tells the versions apart: the image and the node selector."""
    t = cluster.apps.read_namespaced_deployment("web", namespace).spec.template.spec
    return t.containers[0].image, t.node_selector


def test_an_apply_interrupted_during_the_rollout_rolls_back_on_the_next_apply(cluster, tf, namespace):
    """Ctrl-C during the wait: the provider is asked to stop and returns the new version as
    state with an error (as when the API server stays away), so the next apply's prior state
    is the broken version; it still rolls back to the first one."""
    good = first_version_then_broken(cluster, tf, namespace)
    p = tf.apply_in_background()
    wait_until(lambda: pod_template(cluster, namespace)[0] == "nginx:1.28", "the new Deployment to be written")
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=120)
    assert p.returncode != 0 and "cancelled" in one_line(out), out
    assert tf.state_resource("jke_application.web")["image"] == "nginx:1.28", "the interrupted apply recorded the new version"
    rolls_back_to_the_first_version(cluster, tf, namespace, good)


class Forwarder:
    """A TCP forwarder to the API server (TLS passes through: the server's certificate names
    127.0.0.1) that can take the API server away at once: `cut` resets every connection and
    refuses new ones."""

    def __init__(self, server: str):
        host, port = server.removeprefix("https://").rstrip("/").rsplit(":", 1)
        self.upstream = (host, int(port))
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self.sock.getsockname()[1]}"
        self.lock = threading.Lock()
        self.open: list[socket.socket] = []
        self.is_cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                down, _ = self.sock.accept()
                up = socket.create_connection(self.upstream)
            except OSError:
                return
            with self.lock:
                if self.is_cut:
                    # Accepted just before the cut: it goes too.
                    for s in (down, up):
                        self._reset(s)
                    return
                self.open += [down, up]
            for a, b in ((down, up), (up, down)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass

    @staticmethod
    def _reset(s: socket.socket):
        # shutdown() first: close() alone leaves a socket open while a pipe thread is blocked
        # reading it, and the client would wait for an answer that never comes instead of
        # seeing its connection end.
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def cut(self):
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        with self.lock:
            self.is_cut = True
            for s in self.open:
                self._reset(s)


def test_an_apply_cut_off_from_the_api_server_during_the_rollout_rolls_back_on_the_next_apply(cluster, tf, namespace):
    """The API server goes away during the wait for longer than the rollout timeout: the
    apply fails, with the new version in state (the wait's requests failed) or in the cluster
    alone (the wait timed out and the rollback's requests failed); either way the next
    apply, with the API server back, rolls back to the first version."""
    from test_cluster import write

    forwarder = Forwarder(cluster.server)
    via = tf.workdir / "via-forwarder.kubeconfig"
    via.write_text(cluster.kubeconfig.read_text().replace(cluster.server.rstrip("/"), forwarder.url))
    good = first_version_then_broken(cluster, tf, namespace, rollout_timeout="20s")
    broken = (tf.workdir / "main.tf").read_text()
    write(tf, broken.replace(str(cluster.kubeconfig), str(via)))
    p = tf.apply_in_background()
    try:
        wait_until(lambda: pod_template(cluster, namespace)[0] == "nginx:1.28", "the new Deployment to be written")
    finally:
        forwarder.cut()
    out, _ = p.communicate(timeout=300)
    assert p.returncode != 0, out
    assert "Error: " in out, out
    write(tf, broken)
    rolls_back_to_the_first_version(cluster, tf, namespace, good)


def test_destroy_of_an_object_held_by_a_finalizer_fails_with_its_own_timeout(cluster, tf, namespace):
    from test_cluster import app, config, write

    write(tf, config(cluster, namespace, app(extra="  termination_grace_period = 0\n  pre_stop_sleep = 0\n")))
    tf.apply()
    hold = "e2e.jke.dev/hold"
    cluster.core.patch_namespaced_service("web", namespace, {"metadata": {"finalizers": [hold]}})
    try:
        r = tf.destroy(check=False)
        assert r.code != 0
        err = one_line(r.err)
        assert f"objects still being deleted after 120s: Service/{namespace}/web (held by finalizers {hold})" in err, str(r)
        assert "finalizers are cleared" in err
        assert "rollout" not in err.lower()
        assert tf.run("state", "list").out.strip() == "jke_application.web", "the app stays in state"
    finally:
        cluster.core.patch_namespaced_service("web", namespace, {"metadata": {"finalizers": None}})
