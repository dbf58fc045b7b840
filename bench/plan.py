#!/usr/bin/env python3
"""Issue 2 benchmark: provider start to handshake line (median of 20), and `terraform plan`
of 200 new jke_application blocks against 200 terraform_data blocks (Terraform's floor).

    .venv/bin/python bench/plan.py
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from common import PROVIDER_BIN, median_of, workdir

COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"


def client_cert() -> str:
    d = Path(tempfile.mkdtemp())
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(d / "k.pem"), "-out", str(d / "c.pem"), "-days", "1", "-subj", "/CN=localhost"],
        check=True, capture_output=True,
    )
    return (d / "c.pem").read_text()


def handshake_once(cert: str) -> None:
    env = dict(os.environ, TF_PLUGIN_MAGIC_COOKIE=COOKIE, PLUGIN_PROTOCOL_VERSIONS="6", PLUGIN_CLIENT_CERT=cert)
    p = subprocess.Popen([str(PROVIDER_BIN)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline() if p.stdout else ""
    p.kill()
    p.wait()
    assert line.startswith("1|6|"), line


def plan_time(tf, runs: int = 3) -> float:
    tf.run("plan", "-refresh=false", "-no-color", "-input=false")  # warm caches
    return median_of(runs, lambda: tf.run("plan", "-no-color", "-input=false"))


def main() -> None:
    cert = client_cert()
    hs = median_of(20, lambda: handshake_once(cert))
    print(f"provider start to handshake line: median {hs * 1000:.1f} ms (20 runs)")

    n = 200
    apps, _ = workdir("apps")
    body = 'terraform {\n  required_providers {\n    jke = { source = "jke/jke" }\n  }\n}\nprovider "jke" {}\n'
    for i in range(n):
        body += f'resource "jke_application" "a{i}" {{\n  name  = "app{i}"\n  image = "nginx:1.27"\n  port  = 8080\n  env = {{ INDEX = "{i}" }}\n}}\n'
    (apps.workdir / "main.tf").write_text(body)
    floor, _ = workdir("floor")
    (floor.workdir / "main.tf").write_text(
        "".join(f'resource "terraform_data" "d{i}" {{\n  input = {{ name = "app{i}", image = "nginx:1.27", port = 8080 }}\n}}\n' for i in range(n))
    )
    # A second floor: terraform_data carrying the same planned object an app shows (every
    # default), so Terraform's own per-value cost (diffing, plan file, rendering) is equal
    # and the difference is the provider's.
    apps.run("plan", "-no-color", "-input=false", "-out=one.bin")
    shown = apps.run("show", "-json", "one.bin").json()
    one = next(rc for rc in shown["resource_changes"] if rc["name"] == "a0")["change"]["after"]
    same, _ = workdir("same-size")
    (same.workdir / "main.tf").write_text(
        "".join(
            f'resource "terraform_data" "d{i}" {{\n  input = {json.dumps(dict(one, name=f"app{i}"))}\n}}\n'
            for i in range(n)
        )
    )
    t_apps = plan_time(apps)
    t_floor = plan_time(floor)
    t_same = plan_time(same)
    print(f"terraform plan, {n} new jke_application: {t_apps:.2f} s (median of 3)")
    print(f"terraform plan, {n} new terraform_data (small input):       {t_floor:.2f} s")
    print(f"terraform plan, {n} new terraform_data (the app's values):  {t_same:.2f} s")
    print(f"ratio to the small floor: {t_apps / t_floor:.2f}x (target < 1.3x)")
    print(f"ratio to the same-size floor: {t_apps / t_same:.2f}x")


if __name__ == "__main__":
    main()
