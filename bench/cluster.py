#!/usr/bin/env python3
"""Issue 4 benchmark against the local cluster: apply of 50 apps from nothing, a no-op plan
of those 50 against a no-op plan of 50 terraform_data (Terraform's floor), API requests per
app per refresh (from the API server's request counters), and the provider's peak memory.

    .venv/bin/python bench/cluster.py            # starts and stops its own local cluster
    JKE_TEST_KUBECONFIG=... bench/cluster.py     # or uses a running one
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import yaml

from common import ROOT, median_of, timed, workdir

N = 50


def metrics(kubectl: list[str]) -> Counter:
    text = subprocess.run([*kubectl, "get", "--raw", "/metrics"], capture_output=True, text=True, check=True).stdout
    c: Counter = Counter()
    for line in text.splitlines():
        if line.startswith("apiserver_request_total{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            c[(labels.get("verb"), labels.get("resource"))] += float(line.rsplit(" ", 1)[1])
    return c


class PeakRss:
    """Highest VmHWM of any terraform-provider-jke process while running."""

    def __init__(self):
        self.peak_kb = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._poll, daemon=True)

    def _poll(self):
        while not self._stop.is_set():
            for p in Path("/proc").iterdir():
                if not p.name.isdigit():
                    continue
                try:
                    if "terraform-provider-jke" not in (p / "cmdline").read_text():
                        continue
                    for line in (p / "status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                except OSError:
                    continue
            time.sleep(0.05)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def main() -> None:
    given = os.environ.get("JKE_TEST_KUBECONFIG")
    cdir = None
    if given:
        kubeconfig = Path(given)
    else:
        cdir = Path(tempfile.mkdtemp(prefix="jke-bench-cluster-"))
        subprocess.run([str(ROOT / "tests/cluster/up"), str(cdir)], check=True)
        kubeconfig = cdir / "kubeconfig"
    try:
        ctx = yaml.safe_load(kubeconfig.read_text())["current-context"]
        env_file = kubeconfig.parent / "env"
        bin_dir = next(
            (l.split("=", 1)[1].strip().strip("'\"") for l in env_file.read_text().splitlines() if "JKE_CLUSTER_BIN=" in l),
            None,
        ) if env_file.exists() else None
        kubectl = [f"{bin_dir}/kubectl" if bin_dir else "kubectl", "--kubeconfig", str(kubeconfig)]
        apps, _ = workdir("apps")
        body = (
            'terraform {\n  required_providers {\n    jke = { source = "jke/jke" }\n  }\n}\n'
            f'provider "jke" {{\n  kubernetes = {{\n    config_path = "{kubeconfig}"\n    config_context = "{ctx}"\n  }}\n'
            '  defaults = {\n    namespace = "bench"\n    create_namespace = true\n    cpu = "10m"\n    memory = "16Mi"\n  }\n}\n'
        )
        for i in range(N):
            body += f'resource "jke_application" "a{i}" {{\n  name  = "app{i}"\n  image = "nginx:1.27"\n  port  = 8080\n}}\n'
        (apps.workdir / "main.tf").write_text(body)
        with PeakRss() as rss_apply:
            t_apply = timed(lambda: apps.run("apply", "-auto-approve", "-no-color", "-input=false", timeout=3600))
        before = metrics(kubectl)
        with PeakRss() as rss_plan:
            apps.run("plan", "-no-color", "-input=false", "-detailed-exitcode")
        after = metrics(kubectl)
        gets = {k: after[k] - before.get(k, 0) for k in after if k[0] == "GET" and after[k] - before.get(k, 0) > 0}
        per_app = sum(gets.values()) / N

        floor, _ = workdir("floor")
        (floor.workdir / "main.tf").write_text(
            "".join(f'resource "terraform_data" "d{i}" {{\n  input = {{ name = "app{i}" }}\n}}\n' for i in range(N))
        )
        floor.run("apply", "-auto-approve", "-no-color", "-input=false")
        t_plan = median_of(3, lambda: apps.run("plan", "-no-color", "-input=false"))
        t_floor = median_of(3, lambda: floor.run("plan", "-no-color", "-input=false"))
        print(f"terraform apply, {N} apps from nothing: {t_apply:.1f} s")
        print(f"no-op plan, {N} apps: {t_plan:.2f} s; {N} terraform_data: {t_floor:.2f} s; ratio {t_plan / t_floor:.2f}x (target < 1.5x)")
        print(f"API GETs per app per refresh: {per_app:.2f} (objects per app: ServiceAccount, Deployment, Service, HPA, PDB = 5)")
        for (verb, res), n in sorted(gets.items()):
            print(f"  {verb} {res}: {n:.0f}")
        print(f"provider peak memory (VmHWM): plan {rss_plan.peak_kb / 1024:.1f} MB, apply {rss_apply.peak_kb / 1024:.1f} MB (target < 50 MB)")
        apps.run("destroy", "-auto-approve", "-no-color", "-input=false", timeout=3600)
    finally:
        if cdir:
            subprocess.run([str(ROOT / "tests/cluster/down"), str(cdir)], check=False)


if __name__ == "__main__":
    main()
