"""One owner per app (issue 14, section 2): every object of an app carries its owner mark
(annotation `jke.dev/owner`, the `owner_id` in state). A second configuration that declares
the same app, or an app whose name collides with objects another tool made, is refused
before anything is written; import adopts; destroy never deletes what the app does not own;
apps stay out of the cluster's own namespaces and its namespaces' `default` account."""

from __future__ import annotations

import pytest
from kubernetes import client

from harness import Terraform, provider_block

clients = pytest.mark.clients

OWNER = "jke.dev/owner"


def config(cluster, namespace: str, body: str) -> str:
    extra = f'  defaults = {{\n    namespace = "{namespace}"\n    cpu = "50m"\n    memory = "64Mi"\n  }}\n'
    return provider_block(cluster.kubeconfig, cluster.context, extra) + body


def app(name: str = "web", image: str = "nginx:1.27", extra: str = "") -> str:
    return (
        f'resource "jke_application" "{name}" {{\n  name  = "{name}"\n  image = "{image}"\n  port  = 80\n'
        f'  rollout = {{ timeout = "90s", progress_deadline_seconds = 30 }}\n{extra}}}\n'
    )


def other_state(tmp_path, name: str) -> Terraform:
    d = tmp_path / name
    d.mkdir()
    return Terraform(d, tmp_path)


def one_line(text: str) -> str:
    return " ".join(text.split())


@clients
def test_a_second_state_creating_the_same_app_is_refused_and_changes_nothing(cluster, tf, namespace, tmp_path):
    (tf.workdir / "main.tf").write_text(config(cluster, namespace, app()))
    tf.apply()
    owner_id = tf.state_resource("jke_application.web")["owner_id"]
    assert owner_id
    d = cluster.apps.read_namespaced_deployment("web", namespace)
    assert d.metadata.annotations[OWNER] == owner_id
    assert cluster.core.read_namespaced_service("web", namespace).metadata.annotations[OWNER] == owner_id

    second = other_state(tmp_path, "second")
    (second.workdir / "main.tf").write_text(config(cluster, namespace, app(image="nginx:1.28")))
    r = second.apply(check=False)
    assert r.code != 0
    err = one_line(r.err)
    assert f"Deployment/{namespace}/web already exists, managed by another jke_application" in err, str(r)
    assert f"terraform import jke_application.<resource name> {namespace}/web" in err, str(r)
    assert "Nothing was changed" in err
    # Nothing changed: the first state's app as it was, the second state empty.
    d = cluster.apps.read_namespaced_deployment("web", namespace)
    assert d.spec.template.spec.containers[0].image == "nginx:1.27"
    assert d.metadata.annotations[OWNER] == owner_id
    assert second.run("state", "list").out.strip() == ""
    assert tf.plan_exitcode().code == 0, "the first state still plans no changes"


def test_an_object_another_tool_made_is_refused_and_import_adopts_it(cluster, tf, namespace):
    # A Deployment made with kubectl (another field manager), with the name the app wants
    # (and the pod selector JKE uses, which a Deployment can never change).
    labels = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}
    cluster.apps.create_namespaced_deployment(
        namespace,
        client.V1Deployment(
            metadata=client.V1ObjectMeta(name="web", labels=labels),
            spec=client.V1DeploymentSpec(
                replicas=1,
                selector=client.V1LabelSelector(match_labels=labels),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels=labels),
                    spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.26")]),
                ),
            ),
        ),
        field_manager="kubectl-create",
    )
    (tf.workdir / "main.tf").write_text(config(cluster, namespace, app()))
    r = tf.apply(check=False)
    assert r.code != 0
    err = one_line(r.err)
    assert f"Deployment/{namespace}/web already exists, managed by \"kubectl-create\"" in err, str(r)
    assert "import it with" in err
    assert cluster.apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].image == "nginx:1.26"
    assert cluster.core.list_namespaced_service(namespace).items == [], "nothing was written"

    # Importing is how an app takes over an object it did not make: the next apply marks it.
    tf.run("import", "-no-color", "jke_application.web", f"{namespace}/web")
    assert tf.state_resource("jke_application.web")["owner_id"] is None
    tf.apply()
    owner_id = tf.state_resource("jke_application.web")["owner_id"]
    d = cluster.apps.read_namespaced_deployment("web", namespace)
    assert owner_id and d.metadata.annotations[OWNER] == owner_id
    assert d.spec.template.spec.containers[0].image == "nginx:1.27"
    assert tf.plan_exitcode().code == 0


def test_destroy_leaves_an_object_the_app_does_not_own(cluster, tf, namespace):
    (tf.workdir / "main.tf").write_text(config(cluster, namespace, app()))
    tf.apply()
    # Someone replaces the app's Service with their own of the same name.
    cluster.core.delete_namespaced_service("web", namespace)
    cluster.core.create_namespaced_service(
        namespace,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="web", labels={"app.kubernetes.io/instance": "web", "app.kubernetes.io/managed-by": "jke"}),
            spec=client.V1ServiceSpec(selector={"team": "other"}, ports=[client.V1ServicePort(port=8080)]),
        ),
    )
    r = tf.plan_exitcode()
    assert r.code == 2 and "Service/web" in r.out and "managed by" in r.out, "the plan shows the Service is not the app's"
    r = tf.destroy()
    assert "left in place" in one_line(r.out + r.err), str(r)
    svc = cluster.core.read_namespaced_service("web", namespace)
    assert svc.spec.selector == {"team": "other"}, "the foreign Service is still there"
    sel = "app.kubernetes.io/instance=web"
    assert cluster.apps.list_namespaced_deployment(namespace, label_selector=sel).items == []


def test_another_apps_service_account_is_refused(cluster, tf, namespace):
    (tf.workdir / "main.tf").write_text(config(cluster, namespace, app()))
    tf.apply()
    (tf.workdir / "main.tf").write_text(
        config(cluster, namespace, app() + app("api", extra='  service_account = { name = "web", create = false }\n'))
    )
    r = tf.apply(check=False)
    assert r.code != 0
    err = one_line(r.err)
    assert f"ServiceAccount/{namespace}/web already exists, managed by another jke_application" in err, str(r)
    assert "names another app's ServiceAccount" in err
    assert cluster.apps.list_namespaced_deployment(namespace, label_selector="app.kubernetes.io/instance=api").items == []


@pytest.mark.parametrize(
    "attrs, path, fragment",
    [
        ('namespace = "kube-system"', "namespace", "reserved for the cluster itself"),
        ('namespace = "kube-node-lease"', "namespace", "reserved for the cluster itself"),
        ('service_account = { name = "default", create = false }', "service_account.name", "the namespace's account for every pod"),
        ('annotations = { "jke.dev/owner" = "x" }', 'annotations["jke.dev/owner"]', "JKE's own"),
    ],
)
def test_reserved_namespaces_the_default_account_and_the_mark_are_refused_at_plan(tf, attrs, path, fragment):
    (tf.workdir / "main.tf").write_text(
        provider_block() + f'resource "jke_application" "web" {{\n  name  = "web"\n  image = "nginx:1.27"\n  port  = 80\n  {attrs}\n}}\n'
    )
    r = tf.validate_json()
    errors = [d.get("detail", "") for d in r["diagnostics"] if d["severity"] == "error"]
    assert any(e.startswith(path) and fragment in e for e in errors), r
