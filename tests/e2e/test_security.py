"""Secure by default (issue 13) against the real local cluster: the API server's Pod Security
admission decides whether an app's pods are admitted, NetworkPolicies are applied, drift and
go with the app, and the ServiceAccount token is mounted only when the app needs it."""

from __future__ import annotations

import re

from kubernetes.client.rest import ApiException

from harness import hcl, provider_block
from test_cluster import app, config, wait_until, write


def enforce(cluster, namespace: str, level: str):
    """Make the namespace enforce a Pod Security level, as jke_cluster labels it."""
    cluster.core.patch_namespace(
        namespace,
        {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": level, "pod-security.kubernetes.io/enforce-version": "latest"}}},
    )


def pods(cluster, namespace: str, app_name: str = "web"):
    return cluster.core.list_namespaced_pod(namespace, label_selector=f"app.kubernetes.io/instance={app_name}").items


def available(cluster, namespace: str, name: str = "web") -> int:
    return cluster.apps.read_namespaced_deployment(name, namespace).status.available_replicas or 0


def test_a_restricted_namespace_admits_a_restricted_app_and_refuses_a_baseline_one(cluster, tf, namespace):
    enforce(cluster, namespace, "restricted")
    write(tf, config(cluster, namespace, app(extra='  security = { profile = "restricted", run_as_user = 10001 }\n')))
    tf.apply()
    assert available(cluster, namespace) == 2, "admission let the restricted pods in"
    c = pods(cluster, namespace)[0].spec.containers[0]
    assert c.security_context.run_as_non_root and c.security_context.capabilities.drop == ["ALL"]
    assert c.security_context.read_only_root_filesystem
    assert [m.mount_path for m in c.volume_mounts or [] if m.name == "tmp"] == ["/tmp"]
    assert tf.plan_exitcode().code == 0

    # The same app under the baseline profile: the API server refuses its pods and the
    # apply says why.
    write(tf, config(cluster, namespace, app(extra='  security = { profile = "restricted", run_as_user = 10001 }\n') + app(name="legacy")))
    r = tf.apply(check=False)
    assert r.code != 0, str(r)
    err = " ".join(r.err.split())
    assert "violates PodSecurity" in err and "restricted" in err, str(r)
    assert pods(cluster, namespace, "legacy") == []


def test_a_baseline_namespace_admits_the_default_app(cluster, tf, namespace):
    enforce(cluster, namespace, "baseline")
    write(tf, config(cluster, namespace, app()))
    tf.apply()
    assert available(cluster, namespace) == 2
    c = pods(cluster, namespace)[0].spec.containers[0]
    assert c.security_context.allow_privilege_escalation is False
    assert c.security_context.privileged is False
    assert c.resources.limits["ephemeral-storage"] == "1Gi"
    spread = cluster.apps.read_namespaced_deployment("web", namespace).spec.template.spec.topology_spread_constraints
    assert [t.topology_key for t in spread] == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]


def test_a_setting_that_breaks_the_profile_is_refused_at_plan(cluster, tf, namespace):
    write(tf, config(cluster, namespace, app(extra='  security = { profile = "restricted", run_as_user = 0, capabilities_add = ["SYS_ADMIN"] }\n')))
    r = tf.plan(check=False)
    assert r.code != 0
    err = " ".join(r.err.split())
    assert 'security.run_as_user 0 (root) breaks the profile "restricted"' in err, str(r)
    assert 'security.capabilities_add[0] "SYS_ADMIN" breaks the profile "restricted"' in err, str(r)
    try:
        cluster.apps.read_namespaced_deployment("web", namespace)
        raise AssertionError("nothing may be applied")
    except ApiException as e:
        assert e.status == 404


def test_the_network_policy_is_applied_shown_in_drift_and_removed_with_the_app(cluster, tf, namespace):
    extra = '  network_policy = { allow_from = [{ namespace = "monitoring" }] }\n  ingress = { hosts = ["web.example.com"] }\n'
    write(tf, config(cluster, namespace, app(extra=extra)))
    tf.apply()
    np = cluster.networking.read_namespaced_network_policy("web", namespace)
    assert np.spec.pod_selector.match_labels["app.kubernetes.io/instance"] == "web"
    rule = np.spec.ingress[0]
    assert [(p.port, p.protocol) for p in rule.ports] == [(80, "TCP")]
    sources = [(f.namespace_selector.match_labels if f.namespace_selector else None) for f in rule._from]
    assert sources == [None, {"kubernetes.io/metadata.name": "ingress-nginx"}, {"kubernetes.io/metadata.name": "monitoring"}]
    assert "NetworkPolicy/web" in tf.state_resource("jke_application.web")["objects"]

    # Someone opens the app to every port: the plan shows it and apply puts it back.
    cluster.networking.patch_namespaced_network_policy("web", namespace, {"spec": {"ingress": [{"ports": [{"port": 81, "protocol": "TCP"}]}]}})
    r = tf.plan_exitcode()
    assert r.code == 2, str(r)
    assert re.search(r'"NetworkPolicy/web: spec\.ingress\[0\]\.ports\[0\]\.port"\s+= "81"', r.out), r.out
    tf.apply()
    assert cluster.networking.read_namespaced_network_policy("web", namespace).spec.ingress[0].ports[0].port == 80
    assert tf.plan_exitcode().code == 0

    tf.destroy()
    wait_until(lambda: not cluster.networking.list_namespaced_network_policy(namespace).items, "the policy is deleted with the app")


def test_the_token_is_mounted_only_with_an_iam_role(cluster, tf, namespace):
    role = hcl("arn:aws:iam::123456789012:role/api")
    body = app(name="web") + app(name="api", extra=f"  service_account = {{ annotations = {{ \"eks.amazonaws.com/role-arn\" = {role} }} }}\n")
    write(tf, config(cluster, namespace, body))
    tf.apply()
    wait_until(lambda: len(pods(cluster, namespace, "web")) == 2 and len(pods(cluster, namespace, "api")) == 2, "pods of both apps")
    assert cluster.core.read_namespaced_service_account("web", namespace).automount_service_account_token is False
    web_pod = pods(cluster, namespace, "web")[0]
    assert web_pod.spec.automount_service_account_token is False
    assert not [v for v in web_pod.spec.volumes or [] if v.name.startswith("kube-api-access")], "no token volume"
    api_pod = pods(cluster, namespace, "api")[0]
    assert api_pod.spec.automount_service_account_token is True
    assert [v for v in api_pod.spec.volumes or [] if v.name.startswith("kube-api-access")], "the token is mounted"
    assert tf.state_resource("jke_application.api")["service_account"]["automount_token"] is True


def test_an_app_without_any_namespace_setting_warns_where_it_goes(cluster, tf):
    body = 'resource "jke_application" "web" {\n  name  = "web"\n  image = "nginx:1.27"\n  port  = 80\n}\n'
    write(tf, provider_block(cluster.kubeconfig, cluster.context) + body)
    r = tf.plan()
    text = " ".join((r.out + r.err).split())
    assert "No namespace chosen" in text and 'goes to the namespace "default"' in text, str(r)
