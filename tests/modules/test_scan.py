"""Issue 13: the modules stay locked down, as a misconfiguration scanner (checkov) sees them.

- tests/scan over every module and examples/eks-complete reports no finding that
  tests/scan-accepted.json does not accept, and that file accepts nothing the scan no
  longer reports;
- the scanner can fail: a bucket anyone may read is reported, an accepted finding is not,
  a stale acceptance is, and a finding seen through a module call is one finding.

checkov lives in its own venv (tests/bin/install-checkov, run by tests/setup).
Run: .venv/bin/python -m pytest -q tests/modules/test_scan.py
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SCAN = ROOT / "tests/scan"
FIXTURES = ROOT / "tests/modules/fixtures"


def run_scan(*args: str) -> tuple[int, dict]:
    res = subprocess.run([sys.executable, str(SCAN), "--json", *args], cwd=ROOT, text=True,
                         capture_output=True, timeout=1800)
    assert res.returncode in (0, 1), f"tests/scan could not scan (exit {res.returncode}):\n{res.stderr}"
    return res.returncode, json.loads(res.stdout)


def brief(findings: list[dict]) -> str:
    return "\n".join(f"  {f['check']} {f['resource']} ({f['file']}): {f.get('name') or f.get('reason')}" for f in findings)


def test_modules_have_no_unaccepted_findings_and_no_stale_acceptances():
    code, result = run_scan()
    scanned = [s["dir"] for s in result["scanned"]]
    modules = sorted(f"modules/{p.name}" for p in (ROOT / "modules").iterdir() if list(p.glob("*.tf")))
    assert scanned == [*modules, "examples/eks-complete"]
    assert "modules/eks-cluster" in scanned and all(s["passed"] > 0 for s in result["scanned"])
    assert not result["new"], (
        "findings not in tests/scan-accepted.json (fix the module, or accept with a reason):\n" + brief(result["new"]))
    assert result["stale_judged"]
    assert not result["stale"], (
        "accepted in tests/scan-accepted.json but no longer reported (remove them):\n" + brief(result["stale"]))
    assert code == 0
    assert result["findings"] == len(result["accepted"]) == len(json.loads((ROOT / "tests/scan-accepted.json").read_text()))


def test_scanner_reports_a_public_bucket(tmp_path: Path):
    bucket_dir = FIXTURES / "scan-public-bucket"
    bucket_file = "tests/modules/fixtures/scan-public-bucket/main.tf"
    accepted = tmp_path / "accepted.json"
    accepted.write_text(json.dumps([
        {"check": "CKV_AWS_18", "resource": "aws_s3_bucket.public", "file": bucket_file,
         "reason": "accepted here to show an accepted finding is not reported as new"},
        {"check": "CKV_AWS_20", "resource": "aws_s3_bucket.gone", "file": bucket_file,
         "reason": "no such resource: must be reported as stale"},
    ]))
    code, result = run_scan("--accepted", str(accepted), str(bucket_dir), str(FIXTURES / "scan-public-bucket-caller"))
    assert code == 1

    new = {(f["check"], f["resource"], f["file"]): f for f in result["new"]}
    # A public-read ACL and an access block that blocks nothing.
    public_read = new.get(("CKV_AWS_20", "aws_s3_bucket.public", bucket_file))
    assert public_read, "the public-read bucket is not reported:\n" + brief(result["new"])
    assert ("CKV_AWS_53", "aws_s3_bucket_public_access_block.public", bucket_file) in new
    # Seen directly and through the caller's module call, reported once, in the module's file.
    assert public_read["seen"] == [
        "tests/modules/fixtures/scan-public-bucket-caller: module.bucket.aws_s3_bucket.public",
        "tests/modules/fixtures/scan-public-bucket: aws_s3_bucket.public",
    ]
    assert result["reported"] == 2 * result["findings"]
    assert len(new) == len(result["new"]) == result["findings"] - 1

    assert ("CKV_AWS_18", "aws_s3_bucket.public", bucket_file) not in new
    assert [(a["check"], a["resource"]) for a in result["accepted"]] == [("CKV_AWS_18", "aws_s3_bucket.public")]
    assert [(s["check"], s["resource"]) for s in result["stale"]] == [("CKV_AWS_20", "aws_s3_bucket.gone")]


def test_scanner_refuses_an_acceptance_without_a_reason(tmp_path: Path):
    accepted = tmp_path / "accepted.json"
    accepted.write_text(json.dumps([{"check": "CKV_AWS_20", "resource": "aws_s3_bucket.public",
                                     "file": "tests/modules/fixtures/scan-public-bucket/main.tf", "reason": " "}]))
    res = subprocess.run([sys.executable, str(SCAN), "--accepted", str(accepted), str(FIXTURES / "scan-public-bucket")],
                         cwd=ROOT, text=True, capture_output=True, timeout=600)
    assert res.returncode == 2
    assert "non-empty" in res.stderr


def load_scan_module():
    """tests/scan as a module (it has no .py suffix): its checkov lookup and JSON reader."""
    loader = importlib.machinery.SourceFileLoader("jke_scan", str(SCAN))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("jke_scan", loader))
    sys.modules["jke_scan"] = module  # its dataclasses look their module up there
    loader.exec_module(module)
    return module


def test_rendered_manifests_have_only_the_accepted_findings_and_restricted_passes_the_pod_checks():
    """checkov (framework kubernetes) over the golden manifests the provider renders: the checks
    that fail are exactly those tests/scan-accepted-manifests.json explains, and the app with
    security = { profile = "restricted" } passes every container-hardening check."""
    scan = load_scan_module()
    res = subprocess.run(
        [scan.checkov_binary(), "--directory", "provider/tests/golden", "--framework", "kubernetes", "--output", "json",
         "--skip-download", "--skip-results-upload"],
        cwd=ROOT, text=True, capture_output=True, timeout=900,
        env={k: v for k, v in os.environ.items() if not k.startswith(("BC_", "PRISMA_"))},
    )
    assert res.returncode in (0, 1), res.stderr[-3000:]
    reports = scan._reports(res.stdout)
    failed = [c for r in reports for c in r.get("results", {}).get("failed_checks", [])]
    passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
    assert passed > 0 and not any(r.get("summary", {}).get("parsing_errors") for r in reports)
    accepted = {e["check"]: e["reason"] for e in json.loads((ROOT / "tests/scan-accepted-manifests.json").read_text())}
    seen = {c["check_id"] for c in failed}
    assert seen - set(accepted) == set(), "findings not explained in tests/scan-accepted-manifests.json:\n" + "\n".join(
        f"  {c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}" for c in failed if c["check_id"] not in accepted)
    assert set(accepted) - seen == set(), f"accepted but no longer reported (remove them): {sorted(set(accepted) - seen)}"
    restricted = {c["check_id"] for c in failed if c["file_path"].endswith("security_restricted.yaml")}
    hardening = {"CKV_K8S_22", "CKV_K8S_23", "CKV_K8S_28", "CKV_K8S_37", "CKV_K8S_40"}
    assert restricted & hardening == set(), f"the restricted app fails {sorted(restricted & hardening)}"
    token = {c["file_path"].rsplit("/", 1)[-1] for c in failed if c["check_id"] == "CKV_K8S_38"}
    assert token == {"security_restricted.yaml"}, "only the app with an IAM role mounts the token"
