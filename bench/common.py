"""Shared bits of the benchmark scripts: real Terraform with the provider from
target/release, timing helpers. Benchmarks print numbers and ratios; they assert nothing."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from harness import PROVIDER_BIN, ROOT, Terraform  # noqa: E402,F401


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def median_of(n: int, fn) -> float:
    return statistics.median(timed(fn) for _ in range(n))


def workdir(prefix: str) -> tuple[Terraform, Path]:
    home = Path(tempfile.mkdtemp(prefix=f"jke-bench-{prefix}-"))
    work = home / "work"
    work.mkdir()
    return Terraform(work, home), home
