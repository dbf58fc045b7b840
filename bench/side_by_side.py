#!/usr/bin/env python3
"""Issue 16 benchmark: JKE against HashiCorp's Kubernetes provider v3.2.1, side by side on one
local cluster, with the same bundle per app, and a same-size terraform_data floor.

    .venv/bin/python bench/side_by_side.py --apps 50 --rounds 2
    .venv/bin/python bench/side_by_side.py --apps 50 200 --rounds 2 --kubeconfig /tmp/cl-bench/kubeconfig
    .venv/bin/python bench/side_by_side.py --thousand        # also JKE (and the floor) alone at 1,000

See bench/README.md for what it prints and the caveats. It asserts nothing and is never part
of tests/run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from common import ROOT, timed

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import Terraform  # noqa: E402

PEER_VERSION = "3.2.1"
PEER_SOURCE = ROOT.parent / "shared" / "anchors" / "terraform-provider-kubernetes"
PEER_CACHE = Path.home() / ".cache" / "jke" / f"peer-kubernetes-{PEER_VERSION}"
IMAGE, NEW_IMAGE = "nginx:1.27", "nginx:1.28"
NS = {"jke": "bench-jke", "peer": "bench-peer"}
RUSAGE: dict[str, "Rusage"] = {}  # provider kind -> its wrapper, set up in main()

# Steps in the order one round runs them. The floor has no cluster objects: its "apply" only
# writes state, and it has no rollout wait.
STEPS = [
    ("plan_new", "plan, new apps"),
    ("apply", "apply from empty, rollout wait off"),
    ("noop_plan", "no-op plan"),
    ("image_plan", "plan after one image change"),
    ("destroy", "destroy (after wait-off apply)"),
    ("apply_wait", "apply from empty, rollout wait on"),
    ("destroy_wait", "destroy (after wait-on apply)"),
]
FLOOR_STEPS = {"plan_new", "apply", "noop_plan", "image_plan", "destroy"}


# --- the peer ---------------------------------------------------------------------------------


def build_peer() -> Path:
    """The peer's binary, built once (niced) by the anchor's own build script into the cache;
    returns a folder holding it as `terraform-provider-kubernetes` for dev_overrides."""
    out = subprocess.run(
        ["nice", "-n", "19", str(PEER_SOURCE / "build"), str(PEER_CACHE)],
        check=True, capture_output=True, text=True, env=dict(os.environ, GOFLAGS="-p=1"),
    ).stdout.strip().splitlines()[-1]
    folder = PEER_CACHE / "override"
    folder.mkdir(exist_ok=True)
    link = folder / "terraform-provider-kubernetes"
    if not link.exists():
        link.symlink_to(out)
    return folder


# --- configurations ---------------------------------------------------------------------------


def labels(name: str) -> dict:
    return {"app.kubernetes.io/instance": name, "app.kubernetes.io/managed-by": "jke", "app.kubernetes.io/name": name}


def selector(name: str) -> dict:
    return {"app.kubernetes.io/instance": name, "app.kubernetes.io/name": name}


def h(v) -> str:
    return json.dumps(v)


def jke_config(kubeconfig: Path, ctx: str, n: int, wait: bool, changed: int | None) -> str:
    body = (
        'terraform {\n  required_providers {\n    jke = { source = "jke/jke" }\n  }\n}\n'
        f'provider "jke" {{\n  kubernetes = {{\n    config_path    = {h(str(kubeconfig))}\n    config_context = {h(ctx)}\n  }}\n'
        f'  defaults = {{\n    namespace = "{NS["jke"]}"\n    cpu       = "10m"\n    memory    = "16Mi"\n'
        f"    rollout = {{ wait = {str(wait).lower()} }}\n"
        # The five objects the issue names; the peer config writes the same five.
        "    network_policy = { enabled = false }\n  }\n}\n"
    )
    for i in range(n):
        image = NEW_IMAGE if i == changed else IMAGE
        body += f'resource "jke_application" "a{i}" {{\n  name  = "app{i}"\n  image = "{image}"\n  port  = 8080\n}}\n'
    return body


def meta(name: str, ns: str, annotations: dict | None = None) -> str:
    a = f"    annotations = {h(annotations)}\n" if annotations else ""
    return f"  metadata {{\n    name      = {h(name)}\n    namespace = {h(ns)}\n    labels    = {h(labels(name))}\n{a}  }}\n"


def peer_app(i: int, ns: str, wait: bool, image: str) -> str:
    """What JKE renders for `{name, image, port = 8080}` with the bench's defaults (see
    provider/tests/golden/web_defaults.yaml), as the peer's typed resources. Where the peer
    has no field for it (preStop `sleep`, the PDB's unhealthyPodEvictionPolicy) the closest
    equivalent is used or the field left out. `replicas = 2`: JKE's rendered Deployment has
    no replicas, but on create JKE scales it to the autoscaler's floor (2) before it waits,
    so the peer starts (and waits for) 2 pods too; without it Kubernetes' default is 1 pod."""
    name = f"app{i}"
    settings = json.dumps(
        {"rollout_wait": wait, "rollout_timeout": "5m", "rollback_on_failure": True, "secret_env_version": None, "create_namespace": False},
        separators=(",", ":"),
    )
    res = {"cpu": "10m", "memory": "16Mi", "ephemeral-storage": "1Gi"}
    spread = "".join(
        f"""        topology_spread_constraint {{
          label_selector {{
            match_labels = {h(selector(name))}
          }}
          max_skew           = 1
          topology_key       = "{key}"
          when_unsatisfiable = "ScheduleAnyway"
        }}
"""
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    )
    return f"""resource "kubernetes_service_account_v1" "a{i}" {{
{meta(name, ns)}  automount_service_account_token = false
}}
resource "kubernetes_deployment_v1" "a{i}" {{
{meta(name, ns, {"jke.dev/settings": settings})}  wait_for_rollout = {str(wait).lower()}
  spec {{
    replicas                  = 2
    progress_deadline_seconds = 120
    revision_history_limit    = 5
    selector {{
      match_labels = {h(selector(name))}
    }}
    strategy {{
      type = "RollingUpdate"
      rolling_update {{
        max_surge       = "25%"
        max_unavailable = "0"
      }}
    }}
    template {{
      metadata {{
        labels = {h(labels(name))}
      }}
      spec {{
        automount_service_account_token  = false
        service_account_name             = kubernetes_service_account_v1.a{i}.metadata[0].name
        termination_grace_period_seconds = 30
        host_ipc                         = false
        host_network                     = false
        host_pid                         = false
        security_context {{
          seccomp_profile {{
            type = "RuntimeDefault"
          }}
        }}
        container {{
          name  = {h(name)}
          image = {h(image)}
          port {{
            name           = "http"
            container_port = 8080
            protocol       = "TCP"
          }}
          lifecycle {{
            pre_stop {{
              exec {{
                command = ["sleep", "5"]
              }}
            }}
          }}
          readiness_probe {{
            tcp_socket {{
              port = "http"
            }}
            failure_threshold     = 3
            initial_delay_seconds = 0
            period_seconds        = 10
            success_threshold     = 1
            timeout_seconds       = 1
          }}
          resources {{
            limits   = {h(res)}
            requests = {h(res)}
          }}
          security_context {{
            allow_privilege_escalation = false
            privileged                 = false
            read_only_root_filesystem  = false
          }}
        }}
{spread}      }}
    }}
  }}
}}
resource "kubernetes_service_v1" "a{i}" {{
{meta(name, ns)}  spec {{
    type     = "ClusterIP"
    selector = {h(selector(name))}
    port {{
      name        = "http"
      port        = 8080
      protocol    = "TCP"
      target_port = "http"
    }}
  }}
}}
resource "kubernetes_horizontal_pod_autoscaler_v2" "a{i}" {{
{meta(name, ns)}  spec {{
    min_replicas = 2
    max_replicas = 10
    scale_target_ref {{
      api_version = "apps/v1"
      kind        = "Deployment"
      name        = kubernetes_deployment_v1.a{i}.metadata[0].name
    }}
    metric {{
      type = "Resource"
      resource {{
        name = "cpu"
        target {{
          type                = "Utilization"
          average_utilization = 70
        }}
      }}
    }}
  }}
}}
resource "kubernetes_pod_disruption_budget_v1" "a{i}" {{
{meta(name, ns)}  spec {{
    max_unavailable = "1"
    selector {{
      match_labels = {h(selector(name))}
    }}
  }}
}}
"""


def peer_config(kubeconfig: Path, ctx: str, n: int, wait: bool, changed: int | None) -> str:
    body = (
        'terraform {\n  required_providers {\n    kubernetes = { source = "hashicorp/kubernetes" }\n  }\n}\n'
        f'provider "kubernetes" {{\n  config_path    = {h(str(kubeconfig))}\n  config_context = {h(ctx)}\n}}\n'
    )
    return body + "".join(peer_app(i, NS["peer"], wait, NEW_IMAGE if i == changed else IMAGE) for i in range(n))


def floor_config(one: dict, n: int, changed: int | None) -> str:
    """A terraform_data per app whose input is the planned object of one jke_application, so
    Terraform's own per-value work (diff, plan file, rendering) is the same size."""
    out = ""
    for i in range(n):
        v = dict(one, name=f"app{i}", image=NEW_IMAGE if i == changed else IMAGE)
        out += f'resource "terraform_data" "d{i}" {{\n  input = {json.dumps(v)}\n}}\n'
    return out


# --- measurements -----------------------------------------------------------------------------


class Rusage:
    """Peak RSS and CPU of every provider process a command started, exactly: Terraform runs
    the provider through a wrapper (`/usr/bin/time`, which appends the child's maximum RSS and
    user/system CPU to a file when it exits). Polling /proc misses processes that live less
    than the polling interval, as JKE's do on small plans."""

    def __init__(self, kind: str, name: str, real: Path, root: Path):
        self.folder = root / f"wrap-{kind}"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.file = root / f"{kind}.rusage"
        script = self.folder / name
        script.write_text(f'#!/bin/sh\nexec /usr/bin/time -a -o "{self.file}" -f "%M %U %S" "{real}" "$@"\n')
        script.chmod(0o755)

    def take(self) -> tuple[float, float, int]:
        """(peak RSS MB, CPU seconds, processes) since the last take."""
        if not self.file.exists():
            return 0.0, 0.0, 0
        lines = [l.split() for l in self.file.read_text().splitlines()]
        self.file.unlink()
        rows = [l for l in lines if len(l) == 3 and l[0].isdigit()]  # skips "Command exited with ..."
        return (
            max((int(r[0]) for r in rows), default=0) / 1024,
            sum(float(r[1]) + float(r[2]) for r in rows),
            len(rows),
        )


TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int | None) -> float:
    """CPU seconds a process has used so far (0 if unknown)."""
    if not pid:
        return 0.0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(stat[11]) + int(stat[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


class Api:
    """Requests the API server saw: `apiserver_request_total` from /metrics (everything,
    controllers included), and the audit log of tests/cluster/up, which leaves out the
    controllers, kwok and the scheduler, so it counts what the provider sent."""

    def __init__(self, kubectl: list[str], audit: Path | None, apiserver_pid: int | None):
        self.kubectl = kubectl
        self.audit = audit
        self.apiserver_pid = apiserver_pid
        self._offset = 0

    def metrics(self) -> Counter:
        text = subprocess.run([*self.kubectl, "get", "--raw", "/metrics"], capture_output=True, text=True, check=True).stdout
        c: Counter = Counter()
        for line in text.splitlines():
            if line.startswith("apiserver_request_total{"):
                lab = dict(re.findall(r'(\w+)="([^"]*)"', line))
                c[(lab.get("verb"), lab.get("resource"))] += float(line.rsplit(" ", 1)[1])
        return c

    def mark(self) -> None:
        if self.audit and self.audit.exists():
            self._offset = self.audit.stat().st_size

    def audit_since_mark(self) -> list[dict]:
        if not (self.audit and self.audit.exists()):
            return []
        if self.audit.stat().st_size < self._offset:  # rotated
            self._offset = 0
        with self.audit.open("rb") as f:
            f.seek(self._offset)
            data = f.read()
        events = []
        for line in data.splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("stage") != "ResponseComplete" or e.get("requestURI", "").startswith("/metrics"):
                continue
            if e.get("userAgent", "").startswith("kubectl"):
                continue
            events.append(e)
        return events


def ts(s: str) -> float:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def most_at_once(events: list[dict]) -> int:
    """Largest number of requests in flight at one moment (received .. response complete)."""
    edges = []
    for e in events:
        edges.append((ts(e["requestReceivedTimestamp"]), 1))
        edges.append((ts(e["stageTimestamp"]), -1))
    edges.sort(key=lambda x: (x[0], x[1]))
    cur = best = 0
    for _, d in edges:
        cur += d
        best = max(best, cur)
    return best


@dataclass
class Sample:
    seconds: float
    rss_mb: float = 0.0
    requests: int = 0  # provider requests (audit log)
    all_requests: float = 0.0  # every request incl. controllers (metrics)
    at_once: int = 0
    verbs: dict = field(default_factory=dict)
    tf_cpu: float = 0.0  # Terraform and the provider together (the command's child rusage)
    provider_cpu: float = 0.0
    apiserver_cpu: float = 0.0


# --- the run ----------------------------------------------------------------------------------


class Contender:
    def __init__(self, kind: str, n: int, cli: Path, kubeconfig: Path, ctx: str, one: dict | None):
        self.kind, self.n = kind, n
        self.rusage = RUSAGE.get(kind)
        self.kubeconfig, self.ctx, self.one = kubeconfig, ctx, one
        home = Path(tempfile.mkdtemp(prefix=f"jke-bench-sbs-{kind}-{n}-"))
        work = home / "work"
        work.mkdir()
        self.tf = Terraform(work, home, cli_config=cli)
        self.plan_args: tuple[str, ...] = ()  # extra flags for the plan steps (the profile's)
        self.waited = False  # rollout wait of the configuration last written

    def write(self, wait: bool, changed: int | None = None) -> None:
        if self.kind == "jke":
            text = jke_config(self.kubeconfig, self.ctx, self.n, wait, changed)
        elif self.kind == "peer":
            text = peer_config(self.kubeconfig, self.ctx, self.n, wait, changed)
        else:
            text = floor_config(self.one or {}, self.n, changed)
        (self.tf.workdir / "main.tf").write_text(text)

    def command(self, step: str) -> tuple[str, ...]:
        if step in ("plan_new", "noop_plan", "image_plan"):
            return ("plan", "-no-color", "-input=false", *self.plan_args)
        if step.startswith("apply"):
            return ("apply", "-auto-approve", "-no-color", "-input=false")
        return ("destroy", "-auto-approve", "-no-color", "-input=false")

    def prepare(self, step: str) -> None:
        # The plans keep the rollout wait of the last apply, so that `--steps apply_wait
        # noop_plan destroy_wait` times a no-op plan without the wait-off apply before it.
        if step in ("plan_new", "apply", "destroy", "apply_wait", "destroy_wait"):
            self.waited = step.endswith("_wait")
        self.write(wait=self.waited, changed=0 if step == "image_plan" else None)


def run_step(c: Contender, step: str, api: Api, env: dict | None = None) -> Sample:
    c.prepare(step)
    before = api.metrics()
    api.mark()
    if c.rusage:
        c.rusage.take()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    a0 = process_cpu(api.apiserver_pid)
    secs = timed(lambda: c.tf.run(*c.command(step), timeout=7200, env=env))
    a1 = process_cpu(api.apiserver_pid)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss, prov_cpu, _ = c.rusage.take() if c.rusage else (0.0, 0.0, 0)
    events = api.audit_since_mark()
    after = api.metrics()
    verbs = Counter(e.get("verb") for e in events)
    total = sum(after.values()) - sum(before.values())
    tf_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    return Sample(
        secs, rss, len(events), total, most_at_once(events) if events else 0, dict(verbs), tf_cpu, prov_cpu, a1 - a0,
    )


def one_planned_app(cli: Path, kubeconfig: Path, ctx: str) -> dict:
    """The planned object of one jke_application (every default filled), for the floor."""
    c = Contender("jke", 1, cli, kubeconfig, ctx, None)
    c.write(wait=False)
    c.tf.run("plan", "-no-color", "-input=false", "-out=one.bin")
    shown = c.tf.run("show", "-json", "one.bin").json()
    return shown["resource_changes"][0]["change"]["after"]


def log_times(path: Path, needle: str) -> list[float]:
    """Timestamps of the lines of a TF_LOG_PATH file that contain `needle`."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        if needle in line:
            m = re.match(r"(\d{4}-\d\d-\d\dT[\d:.]+)([+-]\d\d:?\d\d|Z)?", line)
            if m:
                out.append(ts(m.group(1) + (m.group(2) or "Z")))
    return out


def profile(n: int, cli: Path, kubeconfig: Path, ctx: str, api: Api, one: dict, runs: int) -> None:
    """Where the time of JKE's no-op plan of n apps goes: Terraform's own work (the floor and
    -refresh=false), the provider's per-call work (its CPU), API round trips (audit log)."""
    jke = Contender("jke", n, cli, kubeconfig, ctx, None)
    floor = Contender("floor", n, cli, kubeconfig, ctx, one)
    print(f"\n=== profile: JKE no-op plan of {n} apps ({runs} runs each, medians) ===", flush=True)
    run_step(jke, "apply", api)
    run_step(floor, "apply", api)
    rows = {}
    for label, c, extra in (
        ("no-op plan", jke, ()),
        ("no-op plan -refresh=false", jke, ("-refresh=false",)),
        ("floor no-op plan", floor, ()),
    ):
        samples = []
        for _ in range(runs):
            c.plan_args = extra
            samples.append(run_step(c, "noop_plan", api))
        rows[label] = samples
        m = lambda a: statistics.median(getattr(x, a) for x in samples)  # noqa: E731
        print(
            f"{label:28} wall {m('seconds'):6.2f} s  cpu: terraform+provider {m('tf_cpu'):6.2f} s, provider {m('provider_cpu'):5.2f} s, "
            f"API server {m('apiserver_cpu'):5.2f} s; provider requests {m('requests'):.0f} ({m('requests') / n:.2f}/app, max {m('at_once'):.0f} at once)",
            flush=True,
        )
    # One traced run: timestamps of the provider's calls (TF_LOG_PROVIDER=debug) and of the
    # API requests (audit log).
    log = jke.tf.workdir / "trace.log"
    jke.plan_args = ()
    traced = run_step(jke, "noop_plan", api, env={"TF_LOG_PROVIDER": "debug", "TF_LOG_PATH": str(log)})
    events = api.audit_since_mark()  # run_step marked the audit log before the command
    every = log_times(log, "")  # Terraform's first and last log lines bound its work
    t0, t1 = every[0], every[-1]
    starts = log_times(log, "starting plugin")
    reads = log_times(log, "ReadResource")
    plans = log_times(log, "PlanResourceChange")
    configure = log_times(log, "ConfigureProvider")
    got = sorted((ts(e["requestReceivedTimestamp"]), ts(e["stageTimestamp"])) for e in events)
    lat = [b - a for a, b in got]
    print(f"traced no-op plan: wall {traced.seconds:.2f} s (logging on); Terraform's log spans {t1 - t0:.2f} s; times below from its first line")
    print(f"  provider processes started: {len(starts)}")
    if configure:
        print(f"  ConfigureProvider (last of {len(configure)}) at {configure[-1] - t0:6.2f} s")
    if reads:
        print(f"  ReadResource calls: {len(reads)}, first at {reads[0] - t0:6.2f} s, last at {reads[-1] - t0:6.2f} s")
    if plans:
        print(f"  PlanResourceChange calls: {len(plans)}, first at {plans[0] - t0:6.2f} s, last at {plans[-1] - t0:6.2f} s")
    if got:
        print(
            f"  API requests: {len(got)}, first received {got[0][0] - t0:6.2f} s, last done {max(b for _, b in got) - t0:6.2f} s; "
            f"latency at the server: median {statistics.median(lat) * 1000:.1f} ms, sum {sum(lat):.2f} s, max in flight {most_at_once(events)}"
        )
    print(f"  last log line at {t1 - t0:6.2f} s; the rest of the wall time is starting Terraform and writing out the plan")
    print(f"  (log: {log})")
    run_step(jke, "destroy", api)
    run_step(floor, "destroy", api)


def fmt(x: float | None, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def report(n: int, results: dict, kinds: list[str]) -> None:
    def med(kind, step, attr):
        xs = [getattr(s, attr) for s in results[(kind, step)]]
        return statistics.median(xs) if xs else None

    rounds = max((len(v) for v in results.values()), default=0)
    print(f"\n=== N = {n} apps, medians of {rounds} round(s) ===")
    print("| step | JKE s | peer s | floor s | JKE/peer | JKE/floor |")
    print("|---|---|---|---|---|---|")
    for step, label in STEPS:
        j, p, f = (med(k, step, "seconds") if k in kinds else None for k in ("jke", "peer", "floor"))
        if j is None and p is None and f is None:
            continue
        print(
            f"| {label} | {fmt(j)} | {fmt(p)} | {fmt(f)} | {fmt(j / p if j and p else None)} | {fmt(j / f if j and f else None)} |"
        )
    print("\n| step | JKE peak RSS MB | peer peak RSS MB | JKE req/app | peer req/app | JKE max in flight | peer max in flight | all API req/app JKE | all API req/app peer |")
    print("|---|---|---|---|---|---|---|---|---|")
    for step, label in STEPS:
        row = []
        for attr, scale, spec in (("rss_mb", 1, ".1f"), ("requests", n, ".2f"), ("at_once", 1, ".0f"), ("all_requests", n, ".2f")):
            for k in ("jke", "peer"):
                v = med(k, step, attr) if k in kinds else None
                row.append(fmt(None if v is None else v / scale, spec))
        if all(x == "-" for x in row):
            continue
        print(f"| {label} | " + " | ".join(row) + " |")
    print("\nCPU seconds (medians): Terraform+provider / of which provider / API server")
    print("| step | JKE | peer | floor (Terraform only) |")
    print("|---|---|---|---|")
    for step, label in STEPS:
        cells = []
        for k in ("jke", "peer", "floor"):
            t = med(k, step, "tf_cpu") if k in kinds else None
            if t is None:
                cells.append("-")
            elif k == "floor":
                cells.append(f"{t:.2f}")
            else:
                cells.append(f"{t:.2f} / {med(k, step, 'provider_cpu'):.2f} / {med(k, step, 'apiserver_cpu'):.2f}")
        if any(x != "-" for x in cells):
            print(f"| {label} | " + " | ".join(cells) + " |")
    print("\nprovider requests by verb (last round):")
    for k in ("jke", "peer"):
        if k not in kinds:
            continue
        for step, label in STEPS:
            xs = results[(k, step)]
            if xs:
                print(f"  {k:4} {label}: {xs[-1].verbs}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--apps", type=int, nargs="+", default=[50, 200], help="app counts (default 50 200)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--contenders", nargs="+", default=["jke", "peer", "floor"], choices=["jke", "peer", "floor"])
    p.add_argument("--steps", nargs="+", default=[s for s, _ in STEPS], choices=[s for s, _ in STEPS])
    p.add_argument("--thousand", action="store_true", help="also run JKE and the floor alone at 1,000 apps")
    p.add_argument("--jke-dir", type=Path, default=Path("/work/main/target/release"), help="folder of terraform-provider-jke")
    p.add_argument("--kubeconfig", type=Path, default=os.environ.get("JKE_TEST_KUBECONFIG"),
                   help="a running local cluster's admin kubeconfig (default: start one, stop it at the end)")
    p.add_argument("--json", type=Path, help="also write every sample here")
    p.add_argument("--profile", type=int, metavar="N", help="only profile JKE's no-op plan of N apps")
    p.add_argument("--profile-runs", type=int, default=3)
    args = p.parse_args()

    jke_dir = args.jke_dir.resolve()
    if not (jke_dir / "terraform-provider-jke").exists():
        sys.exit(f"no terraform-provider-jke in {jke_dir}")
    peer_dir = build_peer() if "peer" in args.contenders and not args.profile else None
    root = Path(tempfile.mkdtemp(prefix="jke-bench-sbs-"))
    cli = root / "dev.tfrc"
    RUSAGE["jke"] = Rusage("jke", "terraform-provider-jke", jke_dir / "terraform-provider-jke", root)
    overrides = f'    "jke/jke" = "{RUSAGE["jke"].folder}"\n'
    if peer_dir:
        name = "terraform-provider-kubernetes"
        RUSAGE["peer"] = Rusage("peer", name, (peer_dir / name).resolve(), root)
        overrides += f'    "hashicorp/kubernetes" = "{RUSAGE["peer"].folder}"\n' 
    cli.write_text(f"provider_installation {{\n  dev_overrides {{\n{overrides}  }}\n  direct {{}}\n}}\n")

    cdir = None
    if args.kubeconfig:
        kubeconfig = Path(args.kubeconfig).resolve()
    else:
        cdir = Path(tempfile.mkdtemp(prefix="jke-bench-cluster-"))
        subprocess.run([str(ROOT / "tests/cluster/up"), str(cdir)], check=True)
        kubeconfig = cdir / "kubeconfig"
    try:
        ctx = yaml.safe_load(kubeconfig.read_text())["current-context"]
        env_file = kubeconfig.parent / "env"
        bin_dir = None
        if env_file.exists():
            for line in env_file.read_text().splitlines():
                if "JKE_CLUSTER_BIN=" in line:
                    bin_dir = line.split("=", 1)[1].strip().strip("'\"")
        kubectl = [f"{bin_dir}/kubectl" if bin_dir else "kubectl", "--kubeconfig", str(kubeconfig)]
        audit = kubeconfig.parent / "logs" / "audit.log"
        pids = kubeconfig.parent / "pids"
        apiserver_pid = None
        if pids.exists():
            for line in pids.read_text().splitlines():
                if line.split()[:1] == ["kube-apiserver"]:
                    apiserver_pid = int(line.split()[1])
        api = Api(kubectl, audit if audit.exists() else None, apiserver_pid)
        for ns in NS.values():
            subprocess.run([*kubectl, "create", "namespace", ns], capture_output=True)
        load = os.getloadavg()
        print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; JKE from {jke_dir}; peer v{PEER_VERSION} from {peer_dir}", flush=True)

        one = one_planned_app(cli, kubeconfig, ctx) if "floor" in args.contenders or args.profile else None
        if args.profile:
            profile(args.profile, cli, kubeconfig, ctx, api, one or {}, args.profile_runs)
            return
        plans = [(n, args.contenders) for n in args.apps]
        if args.thousand:
            plans.append((1000, [k for k in args.contenders if k != "peer"]))
        everything = {}
        for n, kinds in plans:
            results: dict = defaultdict(list)
            for r in range(args.rounds):
                order = kinds[r % len(kinds):] + kinds[: r % len(kinds)]  # rotate who goes first
                for kind in order:
                    c = Contender(kind, n, cli, kubeconfig, ctx, one)
                    for step in args.steps:
                        if kind == "floor" and step not in FLOOR_STEPS:
                            continue
                        s = run_step(c, step, api)
                        results[(kind, step)].append(s)
                        print(
                            f"N={n} round {r + 1} {kind:5} {step:12} {s.seconds:7.2f} s  rss {s.rss_mb:6.1f} MB  "
                            f"provider req {s.requests:6d} (max {s.at_once} at once)  all req {s.all_requests:7.0f}  "
                            f"cpu tf+prov {s.tf_cpu:6.2f} prov {s.provider_cpu:6.2f} apiserver {s.apiserver_cpu:6.2f}  "
                            f"load {os.getloadavg()[0]:.2f}",
                            flush=True,
                        )
                    if any(st.startswith("apply") for st in args.steps) and not args.steps[-1].startswith("destroy"):
                        c.tf.run("destroy", "-auto-approve", "-no-color", "-input=false", timeout=7200)
            report(n, results, kinds)
            everything[n] = {f"{k}/{s}": [vars(x) for x in v] for (k, s), v in results.items()}
        load = os.getloadavg()
        print(f"\nload average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        if args.json:
            args.json.write_text(json.dumps(everything, indent=1))
    finally:
        if cdir:
            subprocess.run([str(ROOT / "tests/cluster/down"), str(cdir)], check=False)


if __name__ == "__main__":
    main()
