"""One bounded request pool per provider process (`max_concurrent_requests`): however many
apps Terraform works on in parallel, the API server never has more of the provider's requests
at once than the pool allows. Seen in the local cluster's audit log (tests/cluster/up), where
the provider's requests are the ones without a User-Agent (the test's own client and kubectl
send one)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from harness import audit_events
from test_cluster import app, config, write


def provider_requests(audit: Path, start: int) -> list[dict]:
    """The provider's finished requests after byte `start` of the audit log, watches left out:
    a watch holds no place in the pool once its response has started."""
    return [
        e
        for e in audit_events(audit, start)
        if e.get("stage") == "ResponseComplete" and not e.get("userAgent") and e.get("verb") != "watch"
    ]


def most_at_once(events: list[dict]) -> int:
    """The largest number of requests the API server had at one moment (received .. done)."""

    def ts(s: str) -> float:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()

    edges = sorted(
        [(ts(e["requestReceivedTimestamp"]), 1) for e in events] + [(ts(e["stageTimestamp"]), -1) for e in events],
        key=lambda x: (x[0], x[1]),
    )
    cur = best = 0
    for _, d in edges:
        cur += d
        best = max(best, cur)
    return best


def test_apply_and_destroy_of_many_apps_stay_within_the_pool(cluster, tf, namespace):
    audit = cluster.kubeconfig.resolve().parent / "logs" / "audit.log"
    apps = "".join(app(f"a{i}", extra="  autoscale = { enabled = false }\n") for i in range(12))
    write(tf, config(cluster, namespace, apps, provider_extra="  max_concurrent_requests = 2\n"))
    tf.run("init")

    start = audit.stat().st_size
    tf.run("apply", "-auto-approve", "-parallelism=12")
    tf.run("destroy", "-auto-approve", "-parallelism=12")
    time.sleep(1)  # the audit backend writes asynchronously
    events = provider_requests(audit, start)
    # 12 apps, each several objects written, read back and deleted: far more than the pool.
    assert len(events) > 100, f"only {len(events)} provider requests in the audit log"
    assert most_at_once(events) <= 2, f"{most_at_once(events)} requests at once with max_concurrent_requests = 2"


def test_a_pool_size_out_of_range_is_refused_naming_the_attribute(cluster, tf, namespace):
    write(tf, config(cluster, namespace, app("web"), provider_extra="  max_concurrent_requests = 0\n"))
    tf.run("init")
    r = tf.run("plan", check=False)
    assert r.code != 0, str(r)
    text = " ".join((r.out + r.err).split())
    assert "max_concurrent_requests = 0 must be a whole number from 1 to 256" in text, text
