"""Terraform actions (Terraform 1.14+, issue 11): `jke_restart` rolls an app's pods through a
new ReplicaSet and leaves no drift, `jke_notify` posts to a webhook when invoked with
`terraform apply -invoke` or from an app's `action_trigger`, bad config is refused at plan,
and jke_restart respects the environment guard.

Not marked `clients`: Terraform before 1.14 and OpenTofu have no actions."""

from __future__ import annotations

from receiver import URL_VARIABLE, secret_url, webhook  # noqa: F401 - webhook is a fixture
from test_cluster import app, config, wait_until, write

from harness import Terraform, hcl

SEL = "app.kubernetes.io/instance=web"


def restart_action(app_ref: str = "jke_application.web.id", name: str = "web") -> str:
    return f'action "jke_restart" "{name}" {{\n  config {{\n    app = {app_ref}\n  }}\n}}\n'


def notify_action(name: str, message: str, url: bool = True, extra: str = "") -> str:
    """A jke_notify action posting to var.webhook_url (see `secret_url`)."""
    url_line = "    webhook_url = var.webhook_url\n" if url else ""
    return f'action "jke_notify" "{name}" {{\n  config {{\n    message = {hcl(message)}\n{url_line}{extra}  }}\n}}\n'


def replica_sets(cluster, namespace: str) -> dict:
    return {r.metadata.name: r for r in cluster.apps.list_namespaced_replica_set(namespace, label_selector=SEL).items}


def test_restart_by_invoke_rolls_new_pods_and_the_next_plan_is_empty(cluster, tf, namespace):
    write(tf, config(cluster, namespace, app() + restart_action()))
    tf.apply()
    before = replica_sets(cluster, namespace)
    assert len(before) == 1
    r = tf.apply("-invoke=action.jke_restart.web")
    after = replica_sets(cluster, namespace)
    new = [rs for n, rs in after.items() if n not in before]
    assert len(new) == 1, (list(before), list(after))
    assert new[0].status.ready_replicas == 2, "apply -invoke returns when the new pods are ready"
    out = " ".join(r.out.split())
    assert "pods updated" in out, f"progress is reported while the pods roll:\n{r}"
    assert "every pod replaced" in out, str(r)
    d = cluster.apps.read_namespaced_deployment("web", namespace)
    assert "kubectl.kubernetes.io/restartedAt" in d.spec.template.metadata.annotations
    wait_until(lambda: cluster.apps.read_namespaced_replica_set(next(iter(before)), namespace).status.replicas == 0, "the old ReplicaSet to scale down")
    plan = tf.plan_exitcode()
    assert plan.code == 0, f"no drift after a restart:\n{plan}"


def test_restart_is_refused_on_a_cluster_not_marked_as_the_environment(cluster, tf, namespace, tmp_path):
    write(tf, config(cluster, namespace, app()))
    tf.apply()
    before = replica_sets(cluster, namespace)
    # An operator's configuration with only the action (no resource to refresh first), for
    # environment "prod": the unmarked cluster is refused before anything is patched.
    ops = Terraform(tmp_path / "ops", tmp_path)
    ops.workdir.mkdir()
    write(ops, config(cluster, namespace, restart_action(hcl(f"{namespace}/web")), provider_extra='  environment = "prod"\n'))
    r = ops.apply("-invoke=action.jke_restart.web", check=False)
    assert r.code != 0, str(r)
    err = " ".join(r.err.split())
    assert '"prod"' in err and "does not say which environment" in err, str(r)
    assert replica_sets(cluster, namespace).keys() == before.keys(), "nothing was restarted"
    d = cluster.apps.read_namespaced_deployment("web", namespace)
    assert "kubectl.kubernetes.io/restartedAt" not in (d.spec.template.metadata.annotations or {})
    # Without the environment setting the same action goes through.
    write(ops, config(cluster, namespace, restart_action(hcl(f"{namespace}/web"))))
    ops.apply("-invoke=action.jke_restart.web")
    assert len(replica_sets(cluster, namespace)) == 2


def test_restart_of_a_missing_app_names_it(cluster, tf, namespace):
    write(tf, config(cluster, namespace, restart_action(hcl(f"{namespace}/nothing"), "gone")))
    r = tf.apply("-invoke=action.jke_restart.gone", check=False)
    assert r.code != 0, str(r)
    err = " ".join(r.err.split())
    assert f'no app "nothing" in namespace "{namespace}"' in err, str(r)


def test_notify_by_invoke_and_by_action_trigger(cluster, tf, namespace, webhook):
    trigger = (
        "  lifecycle {\n    action_trigger {\n      events  = [after_create, after_update]\n"
        "      actions = [action.jke_notify.deployed]\n    }\n  }\n"
    )
    body = (
        app(extra=trigger)
        + URL_VARIABLE
        + notify_action("deployed", "web is out")
        + notify_action("hello", "hello from the tests", extra='    format = "json"\n')
    )
    secret_url(tf, webhook.url)
    write(tf, config(cluster, namespace, body))
    plan = tf.plan()
    assert webhook.url not in plan.out + plan.err and webhook.secret not in plan.out + plan.err
    tf.apply()
    got = webhook.take()
    assert [(p.path, p.body) for p in got] == [(f"/services/{webhook.secret}", {"text": "web is out"})], got
    assert got[0].content_type == "application/json"

    r = tf.apply("-invoke=action.jke_notify.hello")
    got = webhook.take()
    assert [p.body for p in got] == [{"source": "jke", "event": "message", "text": "hello from the tests"}], got
    assert webhook.url not in r.out + r.err

    # An update triggers it again; a plan without changes does not.
    write(tf, config(cluster, namespace, body.replace('"nginx:1.27"', '"nginx:1.28"')))
    tf.apply()
    assert [p.body for p in webhook.take()] == [{"text": "web is out"}]
    assert tf.plan_exitcode().code == 0
    assert webhook.take() == []


def test_a_receiver_that_fails_fails_the_notify_action(tf, webhook):
    webhook.mode = "500"
    secret_url(tf, webhook.url)
    write(tf, config_without_cluster(URL_VARIABLE + notify_action("hello", "hi")))
    r = tf.apply("-invoke=action.jke_notify.hello", check=False)
    assert r.code != 0, str(r)
    err = " ".join(r.err.split())
    assert "answered HTTP 500" in err, str(r)
    assert webhook.secret not in r.out + r.err


def config_without_cluster(body: str) -> str:
    """jke_notify needs no cluster: a provider block without connection settings."""
    return 'terraform {\n  required_providers {\n    jke = { source = "jke/jke" }\n  }\n}\n\nprovider "jke" {}\n\n' + body


def test_bad_action_config_is_refused_at_plan_naming_the_attribute(tf):
    cases = [
        (restart_action(hcl("no-slash"), "bad"), "jke_restart.bad", ['app = "no-slash": no namespace', "namespace/name"]),
        (notify_action("bad", "hi", extra='    format = "teams"\n'), "jke_notify.bad", ['format = "teams": must be one of slack, json']),
        (notify_action("bad", "hi"), "jke_notify.bad", ["webhook_url must start with https://", "the value is not shown"]),
        (notify_action("bad", "hi", url=False), "jke_notify.bad", ["webhook_url is not set", "notifications"]),
    ]
    secret_url(tf, "ftp://hooks.example.com/services/SECRETPATH")
    for body, action, wants in cases:
        write(tf, config_without_cluster(URL_VARIABLE + body))
        r = tf.plan(f"-invoke=action.{action}", check=False)
        assert r.code != 0, str(r)
        err = " ".join(r.err.split())
        assert "Error: Invalid" in err or "Error: No webhook URL" in err, str(r)
        for want in wants:
            assert want in err, f"{want!r} missing:\n{r}"
        assert "SECRETPATH" not in r.out + r.err, "a refused URL is not shown either"
