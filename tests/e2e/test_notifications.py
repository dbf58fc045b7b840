"""Deploy notifications (issue 11): the provider's `notifications` setting posts one message
per app per apply to a webhook (here a receiver on loopback) with environment, app,
namespace, old -> new image or the changed settings, result, duration, and the rollout's
reason when it failed or was rolled back. A receiver that hangs or fails gives a warning and
never fails the apply; the URL never shows in TF_LOG=trace output or in the plan."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from receiver import URL_VARIABLE, secret_url, webhook  # noqa: F401 - webhook is a fixture
from test_cluster import app, config, write

from harness import hcl

ENV = "e2e-notify"


@pytest.fixture
def marked(cluster):
    """The cluster marked as ENV (the guard then lets a provider with that environment in);
    the marker is removed afterwards, as the other guard tests leave it."""
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="jke-environment"), data={"name": ENV})
    try:
        cluster.core.create_namespaced_config_map("kube-system", cm)
    except ApiException as e:
        if e.status != 409:
            raise
        cluster.core.replace_namespaced_config_map("jke-environment", "kube-system", cm)
    yield ENV
    try:
        cluster.core.delete_namespaced_config_map("jke-environment", "kube-system")
    except ApiException:
        pass


def notifying(cluster, namespace: str, body: str, settings: str = "") -> str:
    """The platform's provider block: environment and notifications to var.webhook_url (a
    sensitive variable, set with `secret_url`)."""
    extra = f'  environment = {hcl(ENV)}\n  notifications = {{\n    webhook_url = var.webhook_url\n{settings}  }}\n'
    return config(cluster, namespace, URL_VARIABLE + body, provider_extra=extra)


def test_one_message_per_app_per_apply_with_the_facts(cluster, tf, namespace, webhook, marked):
    secret_url(tf, webhook.url)
    fmt = '    format = "json"\n'
    write(tf, notifying(cluster, namespace, app("web") + app("api"), fmt))
    tf.apply()
    got = sorted((p.body for p in webhook.take()), key=lambda b: b["app"])
    assert [b["app"] for b in got] == ["api", "web"], got
    for b in got:
        assert b["event"] == "deployed" and b["result"] == "succeeded", b
        assert b["environment"] == ENV and b["namespace"] == namespace, b
        assert b["image"] == {"old": None, "new": "nginx:1.27"}, b
        assert b["duration_seconds"] > 0 and b["reason"] is None, b

    # Only the app that changed posts: its old -> new image and the other settings changed.
    web = app("web", image="nginx:1.28", extra='  env = { LOG_LEVEL = "debug" }\n')
    write(tf, notifying(cluster, namespace, web + app("api"), fmt))
    tf.apply()
    got = [p.body for p in webhook.take()]
    assert len(got) == 1 and got[0]["app"] == "web", got
    assert got[0]["image"] == {"old": "nginx:1.27", "new": "nginx:1.28"}
    assert got[0]["changed"] == ["env"]
    assert "nginx:1.27 -> nginx:1.28" in got[0]["text"]

    # A plan and an apply without changes post nothing.
    assert tf.plan_exitcode().code == 0
    tf.apply()
    assert webhook.take() == []

    tf.destroy()
    got = sorted((p.body for p in webhook.take()), key=lambda b: b["app"])
    assert [(b["app"], b["event"]) for b in got] == [("api", "destroyed"), ("web", "destroyed")], got


def test_a_failed_rollout_posts_its_reason(cluster, tf, namespace, webhook, marked):
    secret_url(tf, webhook.url)
    write(tf, notifying(cluster, namespace, app()))
    tf.apply()
    assert len(webhook.take()) == 1
    broken = app(image="nginx:1.28", extra='  node_selector = { pool = "does-not-exist" }\n')
    write(tf, notifying(cluster, namespace, broken))
    r = tf.apply(check=False)
    assert r.code != 0 and "rolled back" in r.err, str(r)
    got = webhook.take()
    assert len(got) == 1, got
    text = got[0].body["text"]  # Slack format (the default): every fact in the text
    for want in [f"{namespace}/web in {ENV}: rolled back", f"environment: {ENV}", "app: web", f"namespace: {namespace}",
                 "image: nginx:1.27 -> nginx:1.28", "changed: node_selector", "result: rolled back", "duration: "]:
        assert want in text, f"{want!r} missing from:\n{text}"
    reason = next(line for line in text.splitlines() if line.startswith("reason: "))
    assert "0/" in reason and "node" in reason, f"the reason the rollout gave:\n{text}"


@pytest.mark.parametrize("mode, says", [("hang", "did not answer within 2s"), ("500", "answered HTTP 500")])
def test_a_receiver_that_hangs_or_fails_gives_a_warning_and_the_apply_succeeds(cluster, tf, namespace, webhook, marked, mode, says):
    webhook.mode = mode
    secret_url(tf, webhook.url)
    write(tf, notifying(cluster, namespace, app(), '    timeout = "2s"\n'))
    r = tf.apply()
    out = " ".join((r.out + r.err).split())
    assert "Warning: Notification not delivered" in out and says in out, str(r)
    assert "Apply complete!" in r.out
    assert webhook.secret not in r.out + r.err
    assert cluster.apps.read_namespaced_deployment("web", namespace).status.available_replicas == 2
    assert len(webhook.take()) == 1


def test_the_url_is_not_in_trace_logs_or_plan_output(cluster, tf, namespace, webhook, marked):
    secret_url(tf, webhook.url)
    write(tf, notifying(cluster, namespace, app()))
    trace = {"TF_LOG": "trace"}
    plan = tf.plan(env=trace)
    r = tf.apply(env=trace)
    assert len(webhook.take()) == 1, "the message was posted"
    logs = plan.out + plan.err + r.out + r.err
    assert "provider.terraform-provider-jke" in logs, "the provider's own log lines are in the trace"
    assert webhook.secret not in logs and webhook.url not in logs


def test_a_bad_setting_is_refused_by_path_without_showing_the_url(cluster, tf, namespace):
    secret_url(tf, "hooks.example.com/services/SECRETPATH")
    settings = '    format = "teams"\n    events = ["deployed", "exploded"]\n    timeout = "2 minutes"\n'
    write(tf, notifying(cluster, namespace, app(), settings))
    r = tf.plan(check=False)
    assert r.code != 0
    err = " ".join(r.err.split())
    for want in ['notifications.format = "teams": must be one of slack, json',
                 'notifications.events[1] = "exploded": must be one of deployed, rolled_back, failed, destroyed',
                 'notifications.timeout = "2 minutes": must be a duration']:
        assert want in err, f"{want!r} missing:\n{r}"
    # The URL comes from a variable, known once the provider is configured.
    write(tf, notifying(cluster, namespace, app()))
    r = tf.plan(check=False)
    assert r.code != 0
    err = " ".join(r.err.split())
    assert "notifications.webhook_url must start with https://" in err, str(r)
    assert "SECRETPATH" not in r.out + r.err
