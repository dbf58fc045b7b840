#!/usr/bin/env python3
"""Destroy time of N apps, A/B between provider builds, interleaved on one local cluster.

    JKE_TEST_KUBECONFIG=... .venv/bin/python bench/destroy.py DIR_A DIR_B [--apps N] [--rounds R]

Each DIR holds a terraform-provider-jke binary (e.g. a copy of target/release from before a
change, and target/release). Every round applies the same N apps (rollout wait off) with
build A and destroys them with A, then the same with B; it prints each destroy time, the
medians and B/A. Asserts nothing; absolute times are noisy on a loaded machine, the ratio of
interleaved runs is what counts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import yaml

from common import ROOT, timed

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import Terraform  # noqa: E402


def terraform_for(provider_dir: Path, config: str) -> Terraform:
    home = Path(tempfile.mkdtemp(prefix="jke-bench-destroy-"))
    cli = home / "dev.tfrc"
    cli.write_text(f'provider_installation {{\n  dev_overrides {{\n    "jke/jke" = "{provider_dir}"\n  }}\n  direct {{}}\n}}\n')
    work = home / "work"
    work.mkdir()
    (work / "main.tf").write_text(config)
    return Terraform(work, home, cli_config=cli)


def config(kubeconfig: Path, n: int) -> str:
    ctx = yaml.safe_load(kubeconfig.read_text())["current-context"]
    body = (
        'terraform {\n  required_providers {\n    jke = { source = "jke/jke" }\n  }\n}\n'
        f'provider "jke" {{\n  kubernetes = {{\n    config_path = "{kubeconfig}"\n    config_context = "{ctx}"\n  }}\n'
        '  defaults = {\n    namespace = "bench-destroy"\n    create_namespace = true\n    cpu = "10m"\n    memory = "16Mi"\n'
        "    rollout = { wait = false }\n  }\n}\n"
    )
    for i in range(n):
        body += f'resource "jke_application" "a{i}" {{\n  name  = "app{i}"\n  image = "nginx:1.27"\n  port  = 8080\n}}\n'
    return body


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("--apps", type=int, default=50)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    import os

    kubeconfig = Path(os.environ["JKE_TEST_KUBECONFIG"])
    cfg = config(kubeconfig, args.apps)
    times: dict[str, list[float]] = {"A": [], "B": []}
    for r in range(args.rounds):
        for label, d in (("A", args.a), ("B", args.b)):
            tf = terraform_for(d.resolve(), cfg)
            tf.run("apply", "-auto-approve", "-no-color", "-input=false", timeout=3600)
            t = timed(lambda: tf.run("destroy", "-auto-approve", "-no-color", "-input=false", timeout=3600))
            times[label].append(t)
            print(f"round {r + 1}: {label} ({d}) destroy of {args.apps} apps: {t:.1f} s", flush=True)
    ma, mb = statistics.median(times["A"]), statistics.median(times["B"])
    print(f"median destroy of {args.apps} apps: A {ma:.1f} s, B {mb:.1f} s, B/A {mb / ma:.2f}")


if __name__ == "__main__":
    main()
