"""jke_application against the real local cluster (issue 4): apply with rollout, drift in
plan, HPA ownership of replicas, deletion out of band, import, destroy, rollback, and the
fault cases."""

from __future__ import annotations

import re
import subprocess

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

import harness
from harness import client as tf_client, hcl, provider_block

# The subset tests/run also runs with the second clients (Terraform 1.11, OpenTofu).
clients = pytest.mark.clients


def config(cluster, namespace: str, body: str, provider_extra: str = "") -> str:
    extra = f'  defaults = {{\n    namespace = {hcl(namespace)}\n    cpu = "50m"\n    memory = "64Mi"\n  }}\n' + provider_extra
    return provider_block(cluster.kubeconfig, cluster.context, extra) + body


def app(name: str = "web", image: str = "nginx:1.27", extra: str = "") -> str:
    return (
        f'resource "jke_application" "{name}" {{\n  name  = "{name}"\n  image = "{image}"\n  port  = 80\n'
        f'  rollout = {{ timeout = "90s", progress_deadline_seconds = 30 }}\n{extra}}}\n'
    )


def write(tf, text: str):
    (tf.workdir / "main.tf").write_text(text)


def wait_until(fn, what: str, timeout: float = 60.0):
    return harness.wait_until(fn, what, timeout)


@clients
def test_apply_creates_the_bundle_and_a_second_plan_is_empty(cluster, tf, namespace):
    write(tf, config(cluster, namespace, app(extra='  ingress = { hosts = ["web.example.com"] }\n  secret_env = { TOKEN = "t0" }\n')))
    tf.apply()
    d = cluster.apps.read_namespaced_deployment("web", namespace)
    assert d.status.available_replicas == 2, "the app starts at the autoscaling floor and is available"
    assert d.spec.template.spec.containers[0].resources.requests == {"cpu": "50m", "memory": "64Mi", "ephemeral-storage": "1Gi"}
    assert d.metadata.labels["app.kubernetes.io/managed-by"] == "jke"
    assert any(m.manager == "jke" and m.operation == "Apply" for m in d.metadata.managed_fields)
    pods = cluster.core.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/instance=web").items
    assert len(pods) == 2 and all(p.spec.node_name for p in pods)
    assert cluster.core.read_namespaced_service("web", namespace).spec.ports[0].port == 80
    assert cluster.autoscaling.read_namespaced_horizontal_pod_autoscaler("web", namespace).spec.max_replicas == 10
    assert cluster.policy.read_namespaced_pod_disruption_budget("web", namespace).spec.max_unavailable == 1
    assert cluster.core.read_namespaced_secret("web-env", namespace).data["TOKEN"]
    ing = cluster.networking.read_namespaced_ingress("web", namespace)
    assert ing.metadata.annotations["cert-manager.io/cluster-issuer"] == "letsencrypt"
    assert tf.plan_exitcode().code == 0, "no changes after apply"
    state = tf.state_resource("jke_application.web")
    assert state["url"] == "https://web.example.com"
    assert state["drift"] == {}


@clients
def test_drift_of_an_attribute_shows_in_plan_and_apply_restores_it(cluster, tf, namespace):
    write(tf, config(cluster, namespace, app()))
    tf.apply()
    cluster.apps.patch_namespaced_deployment(
        "web", namespace, {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "evil:1"}]}}}}
    )
    r = tf.plan_exitcode()
    assert r.code == 2, str(r)
    assert re.search(r'~ image\s+= "evil:1" -> "nginx:1.27"', r.out), r.out
    # Terraform lists the drift itself under "Objects have changed outside of Terraform"
    # ("of OpenTofu" there) in a refresh-only plan (a normal plan does so only for
    # attributes other config uses).
    refresh = tf.plan("-refresh-only")
    assert f"Objects have changed outside of {tf_client().product}" in refresh.out, str(refresh)
    assert re.search(r'~ image\s+= "nginx:1.27" -> "evil:1"', refresh.out), refresh.out
    tf.apply()
    d = cluster.apps.read_namespaced_deployment("web", namespace)
    assert d.spec.template.spec.containers[0].image == "nginx:1.27"
    assert tf.plan_exitcode().code == 0


@clients
def test_drift_of_other_fields_goes_into_the_drift_map(cluster, tf, namespace):
    write(tf, config(cluster, namespace, app()))
    tf.apply()
    cluster.apps.patch_namespaced_deployment(
        "web",
        namespace,
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "readinessProbe": {"periodSeconds": 99}}]}}}},
    )
    cluster.policy.delete_namespaced_pod_disruption_budget("web", namespace)
    r = tf.plan_exitcode()
    assert r.code == 2, str(r)
    assert "PodDisruptionBudget/web" in r.out and '"deleted"' in r.out
    assert "readinessProbe.periodSeconds" in r.out
    tf.apply()
    assert cluster.policy.read_namespaced_pod_disruption_budget("web", namespace)
    probe = cluster.apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].readiness_probe
    assert probe.period_seconds == 10
    assert tf.plan_exitcode().code == 0


def test_replicas_changed_by_the_autoscaler_are_not_drift(cluster, tf, namespace):
    write(tf, config(cluster, namespace, app()))
    tf.apply()
    d = cluster.apps.read_namespaced_deployment("web", namespace)
    assert d.spec.replicas == 2, "created at the autoscaling floor"
    assert "jke.dev/create-pending" not in d.metadata.labels, "the finished create keeps no pending mark"
    # Anyone scaling through the scale subresource (the HPA does) is not a change to undo.
    cluster.apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 5}})
    r = tf.plan_exitcode()
    assert r.code == 0, str(r)
    # Nor does the next update undo it: the count the create started with is not the apply's.
    write(tf, config(cluster, namespace, app(image="nginx:1.28")))
    tf.apply()
    d = cluster.apps.read_namespaced_deployment("web", namespace)
    assert d.spec.template.spec.containers[0].image == "nginx:1.28"
    assert d.spec.replicas == 5, "the update reset the autoscaler's count"


def test_turning_autoscaling_on_keeps_the_running_pods(cluster, tf, namespace):
    write(tf, config(cluster, namespace, app(extra="  replicas = 3\n  autoscale = { enabled = false }\n")))
    tf.apply()
    assert cluster.apps.read_namespaced_deployment("web", namespace).spec.replicas == 3
    write(tf, config(cluster, namespace, app(extra="  replicas = 3\n")))
    tf.apply()
    # The count the apply owned goes to the autoscaler's side instead of being dropped, which
    # would fall to Kubernetes' default of one pod until the autoscaler's next sync.
    d = cluster.apps.read_namespaced_deployment("web", namespace)
    assert d.spec.replicas == 3, "the apply that turned autoscaling on scaled the app down"
    assert cluster.autoscaling.read_namespaced_horizontal_pod_autoscaler("web", namespace).spec.min_replicas == 3
    assert tf.plan_exitcode().code == 0, "no changes after apply"


@clients
def test_app_deleted_out_of_band_is_planned_for_creation(cluster, tf, namespace):
    write(tf, config(cluster, namespace, app()))
    tf.apply()
    for delete in (
        cluster.apps.delete_namespaced_deployment,
        cluster.core.delete_namespaced_service,
        cluster.autoscaling.delete_namespaced_horizontal_pod_autoscaler,
        cluster.policy.delete_namespaced_pod_disruption_budget,
        cluster.core.delete_namespaced_service_account,
        cluster.networking.delete_namespaced_network_policy,
    ):
        delete("web", namespace)
    r = tf.plan_exitcode()
    assert r.code == 2 and "jke_application.web will be created" in r.out, str(r)


def test_removed_settings_prune_their_objects(cluster, tf, namespace):
    write(tf, config(cluster, namespace, app(extra='  ingress = { hosts = ["web.example.com"] }\n  secret_env = { A = "1" }\n')))
    tf.apply()
    write(tf, config(cluster, namespace, app()))
    tf.apply()
    with pytest.raises(ApiException) as e:
        cluster.networking.read_namespaced_ingress("web", namespace)
    assert e.value.status == 404
    with pytest.raises(ApiException) as e:
        cluster.core.read_namespaced_secret("web-env", namespace)
    assert e.value.status == 404
    assert tf.plan_exitcode().code == 0


@clients
def test_import_by_id_and_generated_config(cluster, tf, namespace, tmp_path):
    write(tf, config(cluster, namespace, app(extra='  env = { MODE = "prod" }\n')))
    tf.apply()
    # A second configuration adopts the running app.
    from harness import Terraform

    other_dir = tmp_path / "adopt"
    other_dir.mkdir()
    other = Terraform(other_dir, tmp_path)
    (other_dir / "main.tf").write_text(config(cluster, namespace, app(extra='  env = { MODE = "prod" }\n')))
    other.run("import", "-no-color", "jke_application.web", f"{namespace}/web")
    r = other.plan_exitcode()
    assert r.code == 0, f"import of an app made by the provider plans no changes:\n{r}"

    gen_dir = tmp_path / "generate"
    gen_dir.mkdir()
    gen = Terraform(gen_dir, tmp_path)
    (gen_dir / "main.tf").write_text(
        config(cluster, namespace, "") + f'\nimport {{\n  to = jke_application.web\n  id = "{namespace}/web"\n}}\n'
    )
    gen.run("plan", "-no-color", "-generate-config-out=generated.tf")
    generated = (gen_dir / "generated.tf").read_text()
    assert 'image' in generated and "nginx:1.27" in generated
    gen.run("validate", "-no-color")


@clients
def test_import_by_identity(cluster, tf, namespace, tmp_path):
    c = tf_client()
    if not c.is_tofu and c.version < (1, 12, 0):
        pytest.skip(f"import blocks take an identity from Terraform 1.12 on; this is {c.product} {'.'.join(map(str, c.version))}")
    write(tf, config(cluster, namespace, app(extra='  env = { MODE = "prod" }\n')))
    tf.apply()
    from harness import Terraform

    third_dir = tmp_path / "identity"
    third_dir.mkdir()
    third = Terraform(third_dir, tmp_path)
    (third_dir / "main.tf").write_text(
        config(cluster, namespace, app(extra='  env = { MODE = "prod" }\n'))
        + f'\nimport {{\n  to       = jke_application.web\n  identity = {{ namespace = {hcl(namespace)}, name = "web" }}\n}}\n'
    )
    r = third.plan()
    assert "1 to import" in r.out and "0 to add, 0 to change" in r.out, str(r)


@clients
def test_destroy_deletes_every_object_and_tolerates_missing_ones(cluster, tf, namespace):
    write(tf, config(cluster, namespace, app(extra='  secret_env = { A = "1" }\n')))
    tf.apply()
    cluster.policy.delete_namespaced_pod_disruption_budget("web", namespace)
    tf.destroy()
    sel = "app.kubernetes.io/instance=web"
    assert cluster.apps.list_namespaced_deployment(namespace, label_selector=sel).items == []
    assert cluster.apps.list_namespaced_replica_set(namespace, label_selector=sel).items == []
    assert cluster.core.list_namespaced_secret(namespace, label_selector=sel).items == []
    assert cluster.core.list_namespaced_service(namespace, label_selector=sel).items == []
    assert cluster.networking.list_namespaced_network_policy(namespace, label_selector=sel).items == []
    # destroy returns only when the pods the garbage collector takes are gone too
    assert cluster.core.list_namespaced_pod(namespace, label_selector=sel).items == []


def test_failed_rollout_rolls_back_and_keeps_prior_state(cluster, tf, namespace):
    write(tf, config(cluster, namespace, app()))
    tf.apply()
    write(tf, config(cluster, namespace, app(image="nginx:1.28", extra='  node_selector = { pool = "does-not-exist" }\n')))
    r = tf.apply(check=False)
    assert r.code != 0
    err = " ".join(r.err.split())
    assert "rolled back" in err, str(r)
    assert "0/" in err and "node" in err, "the error says why pods did not start"
    d = cluster.apps.read_namespaced_deployment("web", namespace)
    assert d.spec.template.spec.containers[0].image == "nginx:1.27"
    wait_until(lambda: (cluster.apps.read_namespaced_deployment("web", namespace).status.available_replicas or 0) >= 2, "old pods available")
    again = tf.plan_exitcode()
    assert again.code == 2 and '"nginx:1.27" -> "nginx:1.28"' in again.out, "the next plan proposes the change again"


def test_wrong_environment_is_refused_before_any_write(cluster, tf, namespace):
    write(tf, config(cluster, namespace, app(), provider_extra='  environment = "prod"\n'))
    r = tf.apply(check=False)
    assert r.code != 0
    assert '"prod"' in r.err and "does not say which environment" in " ".join(r.err.split())
    with pytest.raises(ApiException):
        cluster.apps.read_namespaced_deployment("web", namespace)
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="jke-environment"), data={"name": "dev"})
    try:
        cluster.core.create_namespaced_config_map("kube-system", cm)
    except ApiException as e:
        if e.status != 409:
            raise
        cluster.core.replace_namespaced_config_map("jke-environment", "kube-system", cm)
    try:
        r = tf.apply(check=False)
        assert r.code != 0 and '"prod"' in r.err and '"dev"' in r.err, str(r)
        write(tf, config(cluster, namespace, app(), provider_extra='  environment = "dev"\n'))
        tf.apply()
    finally:
        cluster.core.delete_namespaced_config_map("jke-environment", "kube-system")


def test_unreachable_api_server_names_the_host_and_writes_no_state(tf):
    write(
        tf,
        'terraform {\n  required_providers {\n    jke = { source = "jke/jke" }\n  }\n}\n'
        'provider "jke" {\n  kubernetes = { host = "https://127.0.0.1:9", token = "x" }\n}\n' + app(),
    )
    r = tf.apply(check=False)
    assert r.code != 0
    assert "127.0.0.1:9" in r.err, str(r)
    assert not (tf.workdir / "terraform.tfstate").exists() or "jke_application" not in (tf.workdir / "terraform.tfstate").read_text()


def test_no_connection_settings_say_what_to_set(tf):
    write(tf, provider_block() + app())
    r = tf.apply(check=False)
    assert r.code != 0 and "config_context" in " ".join(r.err.split()), str(r)


def test_conflict_with_another_manager_names_it_when_force_is_off(cluster, tf, namespace):
    write(tf, config(cluster, namespace, app(), provider_extra="  field_manager = { force_conflicts = false }\n"))
    tf.apply()
    cluster.apps.patch_namespaced_deployment(
        "web",
        namespace,
        {"metadata": {"labels": {"app.kubernetes.io/managed-by": "helm"}}},
        field_manager="helm",
    )
    write(tf, config(cluster, namespace, app(image="nginx:1.28"), provider_extra="  field_manager = { force_conflicts = false }\n"))
    r = tf.apply(check=False)
    assert r.code != 0
    err = " ".join(r.err.split())
    assert "helm" in err and "managed-by" in err, str(r)


def test_killed_provider_mid_apply_converges_on_the_next_apply(cluster, tf, namespace):
    write(tf, config(cluster, namespace, app(extra='  secret_env = { A = "1" }\n')))
    p = tf.apply_in_background()
    # Kill the provider once it has started writing (the Deployment exists).
    wait_until(lambda: cluster.apps.list_namespaced_deployment(namespace).items, "deployment to be applied", 120)
    # Only this Terraform's provider (a child of its process), not anyone else's.
    subprocess.run(["pkill", "-KILL", "-P", str(p.pid), "-f", "terraform-provider-jke"], check=False)
    p.wait(timeout=120)
    tf.apply()
    assert tf.plan_exitcode().code == 0
    sel = "app.kubernetes.io/instance=web"
    assert len(cluster.apps.list_namespaced_deployment(namespace, label_selector=sel).items) == 1
    assert len(cluster.core.list_namespaced_secret(namespace, label_selector=sel).items) == 1
