"""jke_cluster through real Terraform against the local cluster (issue 6): plans without
cert-manager, applies that wait for the ClusterIssuer CRD, namespaces with LimitRange and
ResourceQuota, drift, and the environment marker that the provider's guard reads.

The local cluster has no cert-manager: tests that need the ClusterIssuer type install a
minimal CRD (cert-manager.io/v1 ClusterIssuer, spec kept as given) and remove it after.
The marker ConfigMap kube-system/jke-environment is cluster-wide: every test here starts
and ends without it.
"""

from __future__ import annotations

import base64
import re
import threading
import time
import uuid

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

import harness
from harness import ROOT, Terraform, hcl, provider_block

CRD_NAME = "clusterissuers.cert-manager.io"
MARKER = ("kube-system", "jke-environment")


def crd_manifest() -> dict:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {
            "group": "cert-manager.io",
            "scope": "Cluster",
            "names": {
                "kind": "ClusterIssuer",
                "listKind": "ClusterIssuerList",
                "plural": "clusterissuers",
                "singular": "clusterissuer",
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                            },
                        }
                    },
                }
            ],
        },
    }


def wait_until(fn, what: str, timeout: float = 120.0):
    return harness.wait_until(fn, what, timeout, 0.5)


def issuer_type_served(cluster) -> bool:
    try:
        client.CustomObjectsApi(cluster.api_client).list_cluster_custom_object("cert-manager.io", "v1", "clusterissuers")
        return True
    except ApiException as e:
        if e.status == 404:
            return False
        raise


def install_crd(cluster):
    ext = client.ApiextensionsV1Api(cluster.api_client)
    try:
        ext.create_custom_resource_definition(crd_manifest())
    except ApiException as e:
        if e.status != 409:
            raise
    wait_until(lambda: issuer_type_served(cluster), "the ClusterIssuer type to be served")


def remove_crd(cluster):
    ext = client.ApiextensionsV1Api(cluster.api_client)
    try:
        ext.delete_custom_resource_definition(CRD_NAME)
    except ApiException as e:
        if e.status != 404:
            raise
    wait_until(lambda: not issuer_type_served(cluster), "the ClusterIssuer type to be gone")


def marker(cluster) -> dict | None:
    try:
        return cluster.core.read_namespaced_config_map(MARKER[1], MARKER[0]).data
    except ApiException as e:
        if e.status == 404:
            return None
        raise


def remove_marker(cluster):
    try:
        cluster.core.delete_namespaced_config_map(MARKER[1], MARKER[0])
    except ApiException as e:
        if e.status != 404:
            raise


def get_issuer(cluster, name: str) -> dict:
    return client.CustomObjectsApi(cluster.api_client).get_cluster_custom_object("cert-manager.io", "v1", "clusterissuers", name)


@pytest.fixture
def unmarked(cluster):
    """No environment marker before or after the test."""
    remove_marker(cluster)
    yield
    remove_marker(cluster)


@pytest.fixture
def no_crd(cluster, unmarked):
    remove_crd(cluster)
    yield
    remove_crd(cluster)


@pytest.fixture
def with_crd(cluster, unmarked):
    install_crd(cluster)
    yield
    remove_crd(cluster)


@pytest.fixture
def env_name() -> str:
    return f"e2e-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def destroy_after(tf, unmarked):
    """Destroy whatever the test applied in `tf` (namespaces of jke_cluster, apps), before
    the marker goes (the apps' guard needs it)."""
    yield
    if (tf.workdir / "terraform.tfstate").exists():
        tf.destroy(check=False)


def write(tf, text: str):
    (tf.workdir / "main.tf").write_text(text)


def jke_cluster(environment: str, body: str = "") -> str:
    return f'resource "jke_cluster" "this" {{\n  environment = {hcl(environment)}\n{body}}}\n'


ISSUERS = (
    "  issuers = [\n"
    '    { name = "e2e-letsencrypt", email = "platform@example.com", http01_ingress_class = "nginx" },\n'
    '    { name = "e2e-dns", email = "platform@example.com", server = "https://acme-staging-v02.api.letsencrypt.org/directory",\n'
    '      dns01_route53 = { region = "eu-west-1", hosted_zone_id = "Z0123456789ABCDEFGHIJ" } },\n'
    "  ]\n"
)


def test_plan_with_issuers_succeeds_while_the_crd_is_absent(cluster, tf, no_crd, env_name):
    write(tf, provider_block(cluster.kubeconfig, cluster.context) + jke_cluster(env_name, ISSUERS))
    r = tf.plan()
    assert "jke_cluster.this will be created" in r.out, str(r)
    assert re.search(r'default_issuer\s+= "e2e-letsencrypt"', r.out), r.out
    assert "acme-v02.api.letsencrypt.org" in r.out, "the default ACME server shows in the plan"
    assert marker(cluster) is None, "a plan writes nothing"


def test_apply_without_the_crd_waits_then_names_it(cluster, tf, no_crd, env_name, destroy_after):
    write(tf, provider_block(cluster.kubeconfig, cluster.context) + jke_cluster(env_name, ISSUERS + '  crd_wait_timeout = "3s"\n'))
    r = tf.apply(check=False)
    assert r.code != 0
    err = " ".join(r.err.split())
    assert CRD_NAME in err and "crd_wait_timeout" in err, str(r)


def test_apply_with_issuers_creates_cluster_issuers(cluster, tf, with_crd, env_name, destroy_after):
    write(tf, provider_block(cluster.kubeconfig, cluster.context) + jke_cluster(env_name, ISSUERS))
    tf.apply()
    http = get_issuer(cluster, "e2e-letsencrypt")
    assert http["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "jke"
    assert http["spec"]["acme"]["email"] == "platform@example.com"
    assert http["spec"]["acme"]["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    assert http["spec"]["acme"]["solvers"] == [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]
    dns = get_issuer(cluster, "e2e-dns")
    assert dns["spec"]["acme"]["solvers"][0]["dns01"]["route53"] == {"region": "eu-west-1", "hostedZoneID": "Z0123456789ABCDEFGHIJ"}
    assert marker(cluster)["default_issuer"] == "e2e-letsencrypt"
    assert tf.plan_exitcode().code == 0, "no changes after apply"
    state = tf.state_resource("jke_cluster.this")
    assert state["default_issuer"] == "e2e-letsencrypt" and state["drift"] == {}
    # An issuer deleted behind Terraform's back shows as drift and comes back.
    client.CustomObjectsApi(cluster.api_client).delete_cluster_custom_object("cert-manager.io", "v1", "clusterissuers", "e2e-dns")
    r = tf.plan_exitcode()
    assert r.code == 2 and "ClusterIssuer/e2e-dns" in r.out and '"deleted"' in r.out, str(r)
    tf.apply()
    assert get_issuer(cluster, "e2e-dns")


def test_apply_waits_for_a_crd_installed_after_it_started(cluster, tf, no_crd, env_name, destroy_after):
    write(tf, provider_block(cluster.kubeconfig, cluster.context) + jke_cluster(env_name, ISSUERS + '  crd_wait_timeout = "3m"\n'))
    installed = threading.Event()
    failure: list[BaseException] = []

    def install_once_the_apply_is_writing():
        try:
            # The marker is applied before the issuers: the apply is under way.
            wait_until(lambda: marker(cluster) is not None, "the apply to write the marker", 300)
            time.sleep(2)
            install_crd(cluster)
            installed.set()
        except BaseException as e:  # noqa: BLE001 - reported by the test thread
            failure.append(e)

    t = threading.Thread(target=install_once_the_apply_is_writing, daemon=True)
    t.start()
    r = tf.apply(check=False)
    t.join(timeout=300)
    assert not failure, failure
    assert installed.is_set()
    assert r.code == 0, str(r)
    assert get_issuer(cluster, "e2e-letsencrypt")["spec"]["acme"]["email"] == "platform@example.com"
    assert tf.plan_exitcode().code == 0


def test_namespaces_get_limit_range_and_quota_and_drift_shows(cluster, tf, unmarked, env_name, destroy_after):
    ns = f"e2e-ns-{uuid.uuid4().hex[:6]}"
    body = (
        "  namespaces = {\n"
        f"    {hcl(ns)} = {{\n"
        '      labels      = { team = "shop" }\n'
        '      limit_range = { default_cpu = "500m", default_memory = "512Mi", default_request_cpu = "250m" }\n'
        '      quota       = { cpu = "4", memory = "8Gi", pods = 20 }\n'
        "    }\n"
        "  }\n"
    )
    write(tf, provider_block(cluster.kubeconfig, cluster.context) + jke_cluster(env_name, body))
    tf.apply()
    n = cluster.core.read_namespace(ns)
    assert n.metadata.labels["team"] == "shop"
    assert n.metadata.labels["jke.dev/component"] == "cluster"
    # Pod Security admission enforces the platform's app profile (baseline by default) and
    # warns against restricted; ingress is denied unless an app's own policy opens it.
    assert n.metadata.labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert n.metadata.labels["pod-security.kubernetes.io/warn"] == "restricted"
    deny = cluster.networking.read_namespaced_network_policy("jke-default-deny", ns)
    assert deny.spec.policy_types == ["Ingress"] and not deny.spec.ingress and deny.spec.pod_selector.match_labels is None
    lr = cluster.core.read_namespaced_limit_range("jke-limits", ns)
    assert lr.spec.limits[0].default == {"cpu": "500m", "memory": "512Mi"}
    assert lr.spec.limits[0].default_request["cpu"] == "250m"
    rq = cluster.core.read_namespaced_resource_quota("jke-quota", ns)
    assert rq.spec.hard == {"requests.cpu": "4", "limits.cpu": "4", "requests.memory": "8Gi", "limits.memory": "8Gi", "pods": "20"}
    assert tf.plan_exitcode().code == 0, "second plan is empty"

    cluster.core.patch_namespaced_resource_quota("jke-quota", ns, {"spec": {"hard": {"requests.cpu": "64"}}})
    r = tf.plan_exitcode()
    assert r.code == 2, str(r)
    assert f"ResourceQuota/{ns}/jke-quota: spec.hard.requests.cpu" in r.out and '"64"' in r.out, r.out
    tf.apply()
    assert cluster.core.read_namespaced_resource_quota("jke-quota", ns).spec.hard["requests.cpu"] == "4"
    assert tf.plan_exitcode().code == 0

    # A namespace that still runs an app is not deleted in passing.
    cluster.apps.create_namespaced_deployment(
        ns,
        {
            "metadata": {"name": "squatter"},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "squatter"}},
                "template": {"metadata": {"labels": {"app": "squatter"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
            },
        },
    )
    r = tf.destroy(check=False)
    assert r.code != 0 and "squatter" in r.err, str(r)
    assert cluster.core.read_namespace(ns).metadata.deletion_timestamp is None
    cluster.apps.delete_namespaced_deployment("squatter", ns)
    wait_until(lambda: not cluster.apps.list_namespaced_deployment(ns).items, "the deployment to go")
    tf.destroy()
    wait_until(
        lambda: _gone_or_terminating(cluster, ns),
        f"namespace {ns} to be deleted",
    )
    assert marker(cluster) == {"name": env_name}, "destroy keeps the environment marker"


def _gone_or_terminating(cluster, ns: str) -> bool:
    try:
        return cluster.core.read_namespace(ns).metadata.deletion_timestamp is not None
    except ApiException as e:
        return e.status == 404


def app_block(namespace: str) -> str:
    return (
        'resource "jke_application" "web" {\n'
        '  name      = "web"\n'
        f"  namespace = {hcl(namespace)}\n"
        '  image     = "nginx:1.27"\n'
        "  port      = 80\n"
        '  cpu       = "50m"\n'
        '  memory    = "64Mi"\n'
        '  rollout   = { timeout = "90s", progress_deadline_seconds = 30 }\n'
        "  depends_on = [jke_cluster.this]\n"
        "}\n"
    )


def test_marker_is_written_in_the_same_apply_and_then_guards_apps(cluster, tf, tmp_path, unmarked, env_name, destroy_after):
    ns = f"e2e-app-{uuid.uuid4().hex[:6]}"
    provider = provider_block(cluster.kubeconfig, cluster.context, f"  environment = {hcl(env_name)}\n")
    body = f"  namespaces = {{\n    {hcl(ns)} = {{}}\n  }}\n"
    # The provider names the environment and the cluster has no marker yet: jke_cluster
    # writes it, and the app (applied after it) passes the guard, all in one apply.
    write(tf, provider + jke_cluster(env_name, body) + app_block(ns))
    tf.apply()
    assert marker(cluster) == {"name": env_name}
    assert cluster.apps.read_namespaced_deployment("web", ns).status.available_replicas == 2
    r = tf.plan_exitcode()
    assert r.code == 0, str(r)

    # A configuration for another environment is refused before it writes anything.
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other = Terraform(other_dir, tmp_path)
    (other_dir / "main.tf").write_text(
        provider_block(cluster.kubeconfig, cluster.context, '  environment = "e2e-elsewhere"\n')
        + app_block(ns).replace("web", "intruder").replace("  depends_on = [jke_cluster.this]\n", "")
    )
    r = other.apply(check=False)
    assert r.code != 0
    err = " ".join(r.err.split())
    assert '"e2e-elsewhere"' in err and f'"{env_name}"' in err, str(r)
    with pytest.raises(ApiException):
        cluster.apps.read_namespaced_deployment("intruder", ns)

    # A jke_cluster for another environment cannot re-mark the cluster either.
    third_dir = tmp_path / "third"
    third_dir.mkdir()
    third = Terraform(third_dir, tmp_path)
    (third_dir / "main.tf").write_text(provider_block(cluster.kubeconfig, cluster.context) + jke_cluster("e2e-elsewhere"))
    r = third.apply(check=False)
    assert r.code != 0 and "marked as environment" in " ".join(r.err.split()), str(r)
    assert marker(cluster) == {"name": env_name}


def test_import_by_environment(cluster, tf, tmp_path, with_crd, env_name, destroy_after):
    ns = f"e2e-imp-{uuid.uuid4().hex[:6]}"
    body = ISSUERS + f'  namespaces = {{\n    {hcl(ns)} = {{ quota = {{ pods = 5 }} }}\n  }}\n'
    config = provider_block(cluster.kubeconfig, cluster.context) + jke_cluster(env_name, body)
    write(tf, config)
    tf.apply()
    adopt_dir = tmp_path / "adopt"
    adopt_dir.mkdir()
    adopt = Terraform(adopt_dir, tmp_path)
    (adopt_dir / "main.tf").write_text(config)
    adopt.run("import", "-no-color", "jke_cluster.this", env_name)
    r = adopt.plan_exitcode()
    assert r.code == 0, f"import of what jke_cluster made plans no changes:\n{r}"


CLUSTER_ROLE_FILE = ROOT / "docs" / "rbac" / "jke-cluster-role.yaml"


def documented_roles() -> tuple[list[dict], list[dict]]:
    docs = [d for d in yaml.safe_load_all(CLUSTER_ROLE_FILE.read_text()) if d]
    cluster_role = next(d for d in docs if d["kind"] == "ClusterRole")
    marker_role = next(d for d in docs if d["kind"] == "Role")
    return cluster_role["rules"], marker_role["rules"]


@pytest.fixture
def platform_identity(cluster, namespace):
    """A ServiceAccount bound to exactly the documented jke_cluster roles; its token."""
    name = f"jke-platform-{uuid.uuid4().hex[:6]}"
    cluster_rules, marker_rules = documented_roles()
    cluster.core.create_namespaced_service_account(namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name)))
    subject = [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]
    cluster.rbac.create_cluster_role({"metadata": {"name": name}, "rules": cluster_rules})
    cluster.rbac.create_cluster_role_binding(
        {"metadata": {"name": name}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name}, "subjects": subject}
    )
    cluster.rbac.create_namespaced_role("kube-system", {"metadata": {"name": name}, "rules": marker_rules})
    cluster.rbac.create_namespaced_role_binding(
        "kube-system",
        {"metadata": {"name": name}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}, "subjects": subject},
    )
    tr = cluster.core.create_namespaced_service_account_token(
        name, namespace, client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600))
    )
    yield tr.status.token
    cluster.rbac.delete_cluster_role_binding(name)
    cluster.rbac.delete_cluster_role(name)
    cluster.rbac.delete_namespaced_role_binding(name, "kube-system")
    cluster.rbac.delete_namespaced_role(name, "kube-system")


def test_documented_cluster_role_is_enough_for_the_whole_lifecycle(cluster, tf, with_crd, env_name, platform_identity, destroy_after):
    ca = base64.b64decode(yaml.safe_load(cluster.kubeconfig.read_text())["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
    provider = (
        'terraform {\n  required_providers {\n    jke = { source = "jke/jke" }\n  }\n}\n'
        f'provider "jke" {{\n  environment = {hcl(env_name)}\n  kubernetes = {{\n    host = {hcl(cluster.server)}\n'
        f"    cluster_ca_certificate = {hcl(ca)}\n    token = {hcl(platform_identity)}\n  }}\n}}\n"
    )
    ns = f"e2e-rbac-{uuid.uuid4().hex[:6]}"
    body = ISSUERS + f'  namespaces = {{\n    {hcl(ns)} = {{ limit_range = {{ default_cpu = "1" }}, quota = {{ pods = 10 }} }}\n  }}\n'
    write(tf, provider + jke_cluster(env_name, body))
    tf.apply()
    assert marker(cluster) == {"name": env_name, "default_issuer": "e2e-letsencrypt"}
    assert tf.plan_exitcode().code == 0
    # Prune (a namespace and an issuer go) and destroy, with the same identity.
    write(tf, provider + jke_cluster(env_name, ""))
    tf.apply()
    assert _gone_or_terminating(cluster, ns)
    tf.destroy()


def test_without_environment_every_plan_that_reads_the_cluster_warns_naming_its_marker(cluster, tf, namespace, unmarked, env_name):
    """Issue 14: nothing checks which cluster a provider block without `environment` reached,
    so each run that reads it says so, with what the cluster's marker says."""
    app = (
        'resource "jke_application" "web" {\n  name  = "web"\n  image = "nginx:1.27"\n  port  = 80\n'
        f'  namespace = {hcl(namespace)}\n  cpu = "50m"\n  memory = "64Mi"\n}}\n'
    )
    write(tf, provider_block(cluster.kubeconfig, cluster.context) + app)
    r = tf.apply()
    assert "No environment set" in r.out and "no environment marker" in " ".join(r.out.split()), str(r)
    cluster.core.create_namespaced_config_map(
        MARKER[0], client.V1ConfigMap(metadata=client.V1ObjectMeta(name=MARKER[1]), data={"name": env_name})
    )
    try:
        r = tf.plan()
        out = " ".join(r.out.split())
        assert "No environment set" in out and f'the cluster\'s marker says "{env_name}"' in out, str(r)
        assert f'Set environment = "{env_name}"' in out
    finally:
        tf.destroy(check=False)
