"""`list "jke_application"` with `terraform query` (issue 11): apps JKE made and plain
Deployments made with the Kubernetes API are found with the right filters and limit, the
generated configuration validates, importing JKE's app plans no changes, importing a foreign
Deployment plans exactly the bundle objects JKE adds, and the environment guard applies."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from harness import Terraform, client as tf_client, hcl, provider_block


@pytest.fixture(autouse=True)
def needs_query():
    c = tf_client()
    if c.is_tofu or c.version < (1, 14, 0):
        pytest.skip(f"list blocks and `terraform query` need Terraform 1.14 or later; this is {c.product}")


def provider(cluster, namespace: str, extra: str = "") -> str:
    defaults = f'  defaults = {{\n    namespace = {hcl(namespace)}\n    cpu = "50m"\n    memory = "64Mi"\n  }}\n'
    return provider_block(cluster.kubeconfig, cluster.context, defaults + extra)


def jke_app(name: str, extra: str = "") -> str:
    return (
        f'resource "jke_application" "{name}" {{\n  name  = "{name}"\n  image = "nginx:1.27"\n  port  = 80\n'
        f'  rollout = {{ timeout = "90s", progress_deadline_seconds = 30 }}\n{extra}}}\n'
    )


def split(provider_text: str) -> tuple[str, str]:
    """The `terraform` block (for main.tf) and the `provider` block (for the query file)."""
    at = provider_text.index('provider "jke"')
    return provider_text[:at], provider_text[at:]


def list_block(label: str, config: str, extra: str = "") -> str:
    return f'list "jke_application" "{label}" {{\n  provider = jke\n{extra}  config {{\n{config}  }}\n}}\n'


def foreign_deployment(cluster, namespace: str, name: str, labels: dict, with_service: bool, selector: dict | None = None):
    """A Deployment (and Service) as `kubectl apply` of a plain manifest makes them."""
    selector = selector or {"app": name}
    container = client.V1Container(
        name=name,
        image="nginx:1.27",
        ports=[client.V1ContainerPort(name="http", container_port=8080)],
        env=[client.V1EnvVar(name="MODE", value="legacy")],
        resources=client.V1ResourceRequirements(
            requests={"cpu": "50m", "memory": "64Mi"}, limits={"cpu": "50m", "memory": "64Mi"}
        ),
    )
    cluster.apps.create_namespaced_deployment(
        namespace,
        client.V1Deployment(
            metadata=client.V1ObjectMeta(name=name, labels={**selector, **labels}),
            spec=client.V1DeploymentSpec(
                replicas=3,
                selector=client.V1LabelSelector(match_labels=selector),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels=selector),
                    spec=client.V1PodSpec(
                        containers=[container],
                        volumes=[client.V1Volume(name="cache", empty_dir=client.V1EmptyDirVolumeSource())],
                    ),
                ),
            ),
        ),
    )
    if with_service:
        cluster.core.create_namespaced_service(
            namespace,
            client.V1Service(
                metadata=client.V1ObjectMeta(name=name, labels=selector),
                spec=client.V1ServiceSpec(
                    selector=selector, ports=[client.V1ServicePort(name="http", port=80, target_port="http")]
                ),
            ),
        )


@pytest.fixture
def apps(cluster, tf, namespace):
    """In one namespace: `web` made by JKE (label team=shop), `legacy` (Deployment and
    Service, team=shop) and `worker` (Deployment only, team=batch) made without JKE."""
    (tf.workdir / "main.tf").write_text(provider(cluster, namespace) + jke_app("web", '  labels = { team = "shop" }\n'))
    tf.apply()
    foreign_deployment(cluster, namespace, "legacy", {"team": "shop"}, with_service=True)
    foreign_deployment(cluster, namespace, "worker", {"team": "batch"}, with_service=False)
    return namespace


def query_dir(tmp_path, cluster, namespace: str, lists: str, provider_extra: str = "") -> Terraform:
    d = tmp_path / "query"
    d.mkdir(exist_ok=True)
    terraform_block, provider_text = split(provider(cluster, namespace, provider_extra))
    (d / "main.tf").write_text(terraform_block)
    (d / "search.tfquery.hcl").write_text(provider_text + "\n" + lists)
    return Terraform(d, tmp_path)


def found(r) -> dict[str, list[dict]]:
    """`terraform query -json`: the results of each list block, by its address."""
    out: dict[str, list[dict]] = {}
    for line in r.out.splitlines():
        if not line.strip():
            continue
        msg = json.loads(line)
        if msg.get("type") == "list_resource_found":
            res = msg["list_resource_found"]
            out.setdefault(res["address"], []).append(res)
    return out


def names(results: list[dict]) -> list[str]:
    return sorted(r["identity"]["name"] for r in results)


def test_filters_and_limit_select_the_right_apps(cluster, tmp_path, apps):
    ns = hcl(apps)
    lists = (
        list_block("all", f"    namespace = {ns}\n")
        + list_block("jke", f"    namespace = {ns}\n    managed = true\n")
        + list_block("foreign", f"    namespace = {ns}\n    managed = false\n")
        + list_block("shop", f'    namespace = {ns}\n    labels = {{ team = "shop" }}\n')
        + list_block("foreign_shop", f'    namespace = {ns}\n    managed = false\n    labels = {{ team = "shop" }}\n')
        + list_block("one", f"    namespace = {ns}\n", extra="  limit    = 1\n")
    )
    q = query_dir(tmp_path, cluster, apps, lists)
    r = q.run("query", "-json", "-no-color")
    got = found(r)
    assert names(got["list.jke_application.all"]) == ["legacy", "web", "worker"], str(r)
    assert names(got["list.jke_application.jke"]) == ["web"]
    assert names(got["list.jke_application.foreign"]) == ["legacy", "worker"]
    assert names(got["list.jke_application.shop"]) == ["legacy", "web"]
    assert names(got["list.jke_application.foreign_shop"]) == ["legacy"]
    assert len(got["list.jke_application.one"]) == 1
    web = next(x for x in got["list.jke_application.all"] if x["identity"]["name"] == "web")
    assert web["identity"] == {"namespace": apps, "name": "web"}
    assert web["display_name"] == f"{apps}/web"
    legacy = next(x for x in got["list.jke_application.all"] if x["identity"]["name"] == "legacy")
    assert legacy["display_name"] == f"{apps}/legacy (not managed by JKE)"


def test_generated_config_validates_and_imports_as_planned(cluster, tmp_path, apps):
    ns = hcl(apps)
    lists = list_block("all", f"    namespace = {ns}\n", extra="  include_resource = true\n")
    q = query_dir(tmp_path, cluster, apps, lists)
    r = q.run("query", "-no-color", "-generate-config-out=gen.tf")
    gen = (q.workdir / "gen.tf").read_text()
    # Short blocks: the settings a person writes, no computed attributes or defaults.
    for computed_or_default in ("drift", "objects", "service_host", "cpu", "disruption_budget", "security"):
        assert f"{computed_or_default} " not in gen, f"{computed_or_default} in:\n{gen}"
    assert gen.count('resource "jke_application"') == 3 and gen.count("import {") == 3, gen
    # What a foreign app has that the resource cannot hold comes as warnings.
    said = " ".join((r.out + r.err).split())
    assert "volumes cache" in said and "selector" in said, str(r)
    # The generated blocks and their import blocks, in a configuration of their own.
    adopt = tmp_path / "adopt"
    adopt.mkdir()
    terraform_block, provider_text = split(provider(cluster, apps))
    (adopt / "main.tf").write_text(terraform_block + provider_text)
    (adopt / "gen.tf").write_text(gen)
    t = Terraform(adopt, tmp_path)
    v = t.validate_json()
    assert v["valid"], json.dumps(v, indent=2)
    plan = t.run("plan", "-no-color", "-out=adopt.tfplan")
    assert "3 to import" in plan.out, str(plan)
    changes = {
        c["change"]["importing"]["identity"]["name"] if c["change"].get("importing", {}).get("identity") else c["name"]: c
        for c in t.run("show", "-json", "adopt.tfplan").json()["resource_changes"]
    }
    by_name = {c["change"]["after"]["name"]: c for c in changes.values()}
    # JKE's own app: imported, nothing to change.
    assert by_name["web"]["change"]["actions"] == ["no-op"], json.dumps(by_name["web"], indent=2)
    # The foreign ones: JKE adds exactly the bundle objects they lack.
    for name, before_kinds, added in [
        ("legacy", {"Deployment", "Service"}, {"ServiceAccount", "PodDisruptionBudget", "NetworkPolicy"}),
        ("worker", {"Deployment"}, {"ServiceAccount", "Service", "PodDisruptionBudget", "NetworkPolicy"}),
    ]:
        c = by_name[name]["change"]
        assert c["actions"] == ["update"], json.dumps(c, indent=2)
        # Objects JKE will create: new in `objects`, or listed but deleted according to `drift`.
        kinds = lambda objects: {o.split("/")[0] for o in objects}  # noqa: E731
        missing = kinds(k for k, v in c["before"]["drift"].items() if v == "deleted")
        before, after = kinds(c["before"]["objects"]) - missing, kinds(c["after"]["objects"])
        assert before == before_kinds, c["before"]
        assert after - before == added, c["after"]["objects"]
        # What the engineer chose is carried over, not reset to JKE's defaults.
        assert c["after"]["image"] == "nginx:1.27" and c["after"]["replicas"] == 3
        assert c["after"]["env"] == {"MODE": "legacy"} and c["after"]["ports"][0]["container_port"] == 8080
        assert c["after"]["autoscale"]["enabled"] is False
        assert c["after"]["labels"] == c["before"]["labels"] and c["after"]["labels"]["app"] == name
        # JKE's own labels are added to the live objects: the plan clears their drift.
        assert any("app.kubernetes.io/managed-by" in k for k in c["before"]["drift"]) and c["after"]["drift"] == {}


def test_listing_a_cluster_marked_as_another_environment_is_refused(cluster, tmp_path, namespace):
    marker = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="jke-environment"), data={"name": "dev"})
    try:
        cluster.core.create_namespaced_config_map("kube-system", marker)
    except ApiException as e:
        if e.status != 409:
            raise
        cluster.core.replace_namespaced_config_map("jke-environment", "kube-system", marker)
    try:
        lists = list_block("all", f"    namespace = {hcl(namespace)}\n")
        q = query_dir(tmp_path, cluster, namespace, lists, provider_extra='  environment = "prod"\n')
        r = q.run("query", "-no-color", check=False)
        err = " ".join((r.out + r.err).split())
        assert r.code != 0, str(r)
        assert '"prod"' in err and '"dev"' in err, str(r)
    finally:
        cluster.core.delete_namespaced_config_map("jke-environment", "kube-system")


def test_a_bad_filter_is_refused_naming_the_attribute(cluster, tmp_path, namespace):
    lists = list_block("bad", '    namespace = "Shop"\n    labels = { "team" = "a,b" }\n')
    q = query_dir(tmp_path, cluster, namespace, lists)
    r = q.run("query", "-no-color", check=False)
    said = " ".join((r.out + r.err).split())
    assert r.code != 0, str(r)
    assert 'config.namespace: "Shop" is not a namespace name' in said, str(r)
    assert 'config.labels["team"]: "a,b"' in said, str(r)


def test_a_foreign_deployment_with_jkes_selector_is_taken_over_by_apply(cluster, tmp_path, namespace):
    # Helm charts select pods by app.kubernetes.io/name and instance, as JKE does.
    helm = {"app.kubernetes.io/name": "shopfront", "app.kubernetes.io/instance": "shopfront"}
    foreign_deployment(
        cluster, namespace, "shopfront", {"app.kubernetes.io/managed-by": "Helm"}, with_service=True, selector=helm
    )
    lists = list_block("foreign", f"    namespace = {hcl(namespace)}\n    managed = false\n", extra="  include_resource = true\n")
    q = query_dir(tmp_path, cluster, namespace, lists)
    r = q.run("query", "-no-color", "-generate-config-out=gen.tf")
    assert "selector" not in " ".join((r.out + r.err).split()), f"JKE's selector needs no warning:\n{r}"
    adopt = tmp_path / "takeover"
    adopt.mkdir()
    terraform_block, provider_text = split(provider(cluster, namespace))
    (adopt / "main.tf").write_text(terraform_block + provider_text)
    (adopt / "gen.tf").write_text((q.workdir / "gen.tf").read_text())
    t = Terraform(adopt, tmp_path)
    t.apply()
    d = cluster.apps.read_namespaced_deployment("shopfront", namespace)
    assert d.metadata.labels["app.kubernetes.io/managed-by"] == "jke"
    assert d.spec.replicas == 3 and d.spec.template.spec.containers[0].env[0].value == "legacy"
    assert cluster.policy.read_namespaced_pod_disruption_budget("shopfront", namespace).spec.max_unavailable == 1
    assert cluster.networking.read_namespaced_network_policy("shopfront", namespace)
    again = t.plan_exitcode()
    assert again.code == 0, f"after the takeover the next plan is empty:\n{again}"


def test_every_namespace_means_those_the_credentials_may_list(cluster, tmp_path, namespace):
    """A ServiceAccount that may list Deployments only in its own namespace (and list
    namespaces): the query without `namespace` finds that namespace's apps and says which
    namespaces it could not search."""
    from test_rbac import ca_pem, role_rules, service_account_token

    foreign_deployment(cluster, namespace, "mine", {}, with_service=False)
    token = service_account_token(cluster, namespace, "jke-lister", role_rules())
    role = f"jke-list-namespaces-{namespace}"
    cluster.rbac.create_cluster_role(
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": role},
         "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list"]}]}
    )
    cluster.rbac.create_cluster_role_binding(
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": role},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
         "subjects": [{"kind": "ServiceAccount", "name": "jke-lister", "namespace": namespace}]}
    )
    try:
        d = tmp_path / "scoped"
        d.mkdir()
        (d / "main.tf").write_text('terraform {\n  required_providers {\n    jke = { source = "jke/jke" }\n  }\n}\n')
        (d / "search.tfquery.hcl").write_text(
            f'provider "jke" {{\n  kubernetes = {{\n    host = {hcl(cluster.server)}\n'
            f'    cluster_ca_certificate = {hcl(ca_pem(cluster.kubeconfig))}\n    token = {hcl(token)}\n  }}\n}}\n\n'
            + list_block("everywhere", "    managed = false\n")
        )
        r = Terraform(d, tmp_path).run("query", "-json", "-no-color")
        got = found(r)
        assert [(x["identity"]["namespace"], x["identity"]["name"]) for x in got["list.jke_application.everywhere"]] == [
            (namespace, "mine")
        ], str(r)
        assert "Some namespaces were not searched" in r.out and "kube-system" in r.out, str(r)
    finally:
        cluster.rbac.delete_cluster_role_binding(role)
        cluster.rbac.delete_cluster_role(role)
