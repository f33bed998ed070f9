"""Smoke runs of the small benchmarks, so they keep working (the full runs are not tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_resolve_smoke_run():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "resolve.py"), "--mentions", "400", "--repeat", "1"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("mentions 400 ") and "seconds min" in proc.stdout
