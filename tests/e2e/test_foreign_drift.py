"""Drift covers everything in an app's objects that someone else wrote (issue 14, section 1).

Edits are made as kubectl makes them: writes through the API with a field manager of their
own (`kubectl-edit`, `kubectl-set`, `kubectl-patch`), here through the Python client. Each
edit must show in `terraform plan`, `terraform apply` must remove it from the live object,
and the next plan must be empty. An admission webhook that injects a sidecar cannot run on
the local cluster, so an injector is simulated by a server-side apply under a field manager
of its own (`sidecar-injector`); the provider's `defaults.drift.ignore` leaves it alone.
"""

from __future__ import annotations

import pytest

from harness import hcl, kubectl_set_env, provider_block

clients = pytest.mark.clients


def config(cluster, namespace: str, env: dict | None = None, drift: str = "") -> str:
    extra = (
        f'  defaults = {{\n    namespace = {hcl(namespace)}\n    cpu = "50m"\n    memory = "64Mi"\n{drift}  }}\n'
    )
    env_line = f"  env = {hcl(env)}\n" if env else ""
    return provider_block(cluster.kubeconfig, cluster.context, extra) + (
        'resource "jke_application" "web" {\n  name  = "web"\n  image = "nginx:1.27"\n  port  = 80\n'
        f'  rollout = {{ timeout = "90s", progress_deadline_seconds = 30 }}\n{env_line}}}\n'
    )


def write(tf, text: str):
    (tf.workdir / "main.tf").write_text(text)


def planned_drift(tf) -> dict:
    """The `drift` map the plan read from the cluster (the refreshed prior state)."""
    tf.plan("-out=tfplan")
    plan = tf.run("show", "-json", "tfplan").json()
    change = next(c for c in plan["resource_changes"] if c["address"] == "jke_application.web")
    return change["change"]["before"]["drift"]


def server_side_apply(cluster, path: str, body: dict, manager: str):
    """A server-side apply under `manager`, as an admission webhook or another tool's apply
    would own its fields."""
    cluster.api_client.call_api(
        path,
        "PATCH",
        query_params=[("fieldManager", manager), ("force", "true")],
        header_params={"Content-Type": "application/apply-patch+yaml", "Accept": "application/json"},
        body=body,
        response_type="object",
        auth_settings=["BearerToken"],
        _return_http_data_only=True,
    )


def containers(d) -> dict:
    return {c.name: c for c in d.spec.template.spec.containers}


@clients
def test_hostile_pod_template_edits_are_drift_and_apply_removes_them(cluster, tf, namespace):
    write(tf, config(cluster, namespace))
    tf.apply()
    # kubectl edit: host network, a privileged app container with the host's root mounted,
    # and a label that changes what selects the pods.
    cluster.apps.patch_namespaced_deployment(
        "web",
        namespace,
        {
            "spec": {
                "template": {
                    "metadata": {"labels": {"team": "intruder"}},
                    "spec": {
                        "hostNetwork": True,
                        "volumes": [{"name": "host-root", "hostPath": {"path": "/"}}],
                        "containers": [
                            {
                                "name": "web",
                                "securityContext": {"privileged": True, "allowPrivilegeEscalation": True},
                                "volumeMounts": [{"name": "host-root", "mountPath": "/host"}],
                            }
                        ],
                    },
                }
            }
        },
        field_manager="kubectl-edit",
    )
    # kubectl patch --type json: a container inserted before the app's own.
    cluster.apps.patch_namespaced_deployment(
        "web",
        namespace,
        [{"op": "add", "path": "/spec/template/spec/containers/0", "value": {"name": "miner", "image": "busybox:1.36"}}],
        field_manager="kubectl-patch",
    )
    r = tf.plan_exitcode()
    assert r.code == 2, str(r)
    drift = planned_drift(tf)
    d = "Deployment/web: spec.template."
    assert drift[d + "spec.hostNetwork"] == "true (set by kubectl-edit)", drift
    assert drift[d + "spec.containers[name=web].securityContext.privileged"] == "true (set by kubectl-edit)", drift
    # Values show what the editor's write set, including the defaults the server filled in.
    assert '"hostPath":{"path":"/"' in drift[d + "spec.volumes[name=host-root]"], drift
    assert d + "spec.containers[name=web].volumeMounts[mountPath=/host]" in drift, drift
    assert drift[d + "metadata.labels.team"] == "intruder (set by kubectl-edit)", drift
    miner = drift[d + "spec.containers[name=miner]"]
    assert '"image":"busybox:1.36"' in miner and miner.endswith("(set by kubectl-patch)"), drift
    # The injected first container is an added item, not a change of the app's container.
    assert not [k for k in drift if "containers[0]" in k or "containers[name=web].image" in k], drift

    tf.apply()
    dep = cluster.apps.read_namespaced_deployment("web", namespace)
    pod = dep.spec.template.spec
    assert not pod.host_network
    assert list(containers(dep)) == ["web"]
    web = containers(dep)["web"]
    assert web.security_context.privileged is False and web.security_context.allow_privilege_escalation is False
    assert "/host" not in [m.mount_path for m in web.volume_mounts or []]
    assert "host-root" not in [v.name for v in pod.volumes or []]
    assert "team" not in dep.spec.template.metadata.labels
    assert dep.status.available_replicas == 2
    r = tf.plan_exitcode()
    assert r.code == 0, str(r)


def test_an_extra_service_port_and_a_token_mount_are_drift_and_removed(cluster, tf, namespace):
    write(tf, config(cluster, namespace))
    tf.apply()
    cluster.core.patch_namespaced_service(
        "web", namespace, {"spec": {"ports": [{"name": "debug", "port": 8080, "targetPort": 8080}]}}, field_manager="kubectl-edit"
    )
    cluster.core.patch_namespaced_service_account(
        "web", namespace, {"automountServiceAccountToken": True}, field_manager="kubectl-edit"
    )
    r = tf.plan_exitcode()
    assert r.code == 2, str(r)
    drift = planned_drift(tf)
    assert drift["Service/web: spec.ports[port=8080,protocol=TCP]"].endswith("(set by kubectl-edit)"), drift
    assert drift["ServiceAccount/web: automountServiceAccountToken"] == "true (set by kubectl-edit)", drift
    tf.apply()
    assert [p.port for p in cluster.core.read_namespaced_service("web", namespace).spec.ports] == [80]
    assert cluster.core.read_namespaced_service_account("web", namespace).automount_service_account_token is False
    r = tf.plan_exitcode()
    assert r.code == 0, str(r)


def test_labels_applied_through_another_api_version_are_drift_and_removed(cluster, tf, namespace):
    write(tf, config(cluster, namespace))
    tf.apply()
    # Another tool's server-side apply through autoscaling/v1: its managed-fields entry is
    # recorded in that version, not in the autoscaling/v2 the provider applies.
    server_side_apply(
        cluster,
        f"/apis/autoscaling/v1/namespaces/{namespace}/horizontalpodautoscalers/web",
        {
            "apiVersion": "autoscaling/v1",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "labels": {"team": "other"}, "annotations": {"owner": "other-tool"}},
        },
        "other-tool",
    )
    drift = planned_drift(tf)
    assert drift["HorizontalPodAutoscaler/web: metadata.labels.team"] == "other (set by other-tool)", drift
    assert drift["HorizontalPodAutoscaler/web: metadata.annotations.owner"] == "other-tool (set by other-tool)", drift
    tf.apply()
    hpa = cluster.api_client.call_api(
        f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/web",
        "GET",
        header_params={"Accept": "application/json"},
        response_type="object",
        auth_settings=["BearerToken"],
        _return_http_data_only=True,
    )
    assert "team" not in (hpa["metadata"].get("labels") or {}), hpa["metadata"]
    assert "owner" not in (hpa["metadata"].get("annotations") or {}), hpa["metadata"]
    r = tf.plan_exitcode()
    assert r.code == 0, str(r)


def test_kubectl_set_env_is_removed_by_apply_and_the_plan_converges(cluster, tf, namespace):
    write(tf, config(cluster, namespace, env={"LOG": "info"}))
    tf.apply()
    kubectl_set_env(cluster, namespace, "DEBUG", "1")
    r = tf.plan_exitcode()
    assert r.code == 2, str(r)
    assert '- "DEBUG" = "1"' in r.out, r.out
    tf.apply()
    env = {e.name: e.value for e in containers(cluster.apps.read_namespaced_deployment("web", namespace))["web"].env}
    assert env == {"LOG": "info"}
    r = tf.plan_exitcode()
    assert r.code == 0, str(r)


IGNORE = (
    "    drift = {\n      ignore = [\n"
    '        { manager = "sidecar-injector" },\n'
    '        { path = "spec.template.metadata.annotations" },\n'
    "      ]\n    }\n"
)


def test_ignored_injections_and_server_defaults_are_not_drift_and_survive_apply(cluster, tf, namespace):
    write(tf, config(cluster, namespace, env={"LOG": "info"}, drift=IGNORE))
    tf.apply()
    # What the API server fills in on every write (defaults, the cluster IP) is not drift.
    dep = cluster.apps.read_namespaced_deployment("web", namespace)
    assert containers(dep)["web"].termination_message_path == "/dev/termination-log"
    assert cluster.core.read_namespaced_service("web", namespace).spec.cluster_ip
    assert tf.plan_exitcode().code == 0
    # A mesh injector's sidecar and env entry, and an annotation another tool stamps.
    server_side_apply(
        cluster,
        f"/apis/apps/v1/namespaces/{namespace}/deployments/web",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "proxy", "image": "envoy:1.31"},
                            {"name": "web", "env": [{"name": "PROXY_ADDR", "value": "127.0.0.1:15001"}]},
                        ]
                    }
                }
            },
        },
        "sidecar-injector",
    )
    cluster.apps.patch_namespaced_deployment(
        "web",
        namespace,
        {"spec": {"template": {"metadata": {"annotations": {"scanner.example.com/checked": "yes"}}}}},
        field_manager="scanner",
    )
    r = tf.plan_exitcode()
    assert r.code == 0, str(r)
    # A change of the app's own settings is applied without removing what was left alone.
    write(tf, config(cluster, namespace, env={"LOG": "debug"}, drift=IGNORE))
    tf.apply()
    dep = cluster.apps.read_namespaced_deployment("web", namespace)
    assert set(containers(dep)) == {"proxy", "web"}
    env = {e.name: e.value for e in containers(dep)["web"].env}
    assert env == {"LOG": "debug", "PROXY_ADDR": "127.0.0.1:15001"}
    assert dep.spec.template.metadata.annotations["scanner.example.com/checked"] == "yes"
    r = tf.plan_exitcode()
    assert r.code == 0, str(r)
    # Without the rules, the same fields are drift.
    write(tf, config(cluster, namespace, env={"LOG": "debug"}))
    drift = planned_drift(tf)
    assert "Deployment/web: spec.template.spec.containers[name=proxy]" in drift, drift
    assert "Deployment/web: spec.template.metadata.annotations.scanner.example.com/checked" in drift, drift
