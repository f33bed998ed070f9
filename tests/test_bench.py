"""Smoke runs of the small benchmarks, so they keep working (the full runs are not tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_resolve_smoke_run():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "resolve.py"), "--mentions", "400", "--repeat", "1"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("mentions 400 ") and "seconds min" in proc.stdout


def test_bench_throughput_smoke_run():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "throughput.py"), "--runs", "1", "--limit", "1", "--json"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert set(result["languages"]) == {"de", "en", "fr"}
    for figures in result["languages"].values():
        assert figures["articles"] == 1 and figures["kg_s"]["median"] > 0 and figures["kg_over_spacy_of_medians"] > 0


def test_bench_generated_corpus_is_reproducible(tmp_path):
    def generate(out):
        subprocess.run([sys.executable, str(ROOT / "bench" / "generate_corpus.py"), "--out", str(out), "--articles", "7",
                        "--shard-size", "3"], check=True, capture_output=True, timeout=120)
        return {p.name: p.read_bytes() for p in sorted(out.glob("*.jsonl"))}

    first, second = generate(tmp_path / "a"), generate(tmp_path / "b")
    assert first == second and len(first) == 3
    lines = [json.loads(line) for data in first.values() for line in data.decode().splitlines()]
    assert len(lines) == 7 and all(len(item["text"].split()) >= 100 for item in lines)


def test_bench_scale_smoke_run(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "scale.py"), "--sizes", "2,4", "--workers", "1",
                           "--data", str(tmp_path), "--json", str(tmp_path / "scale.json")],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads((tmp_path / "scale.json").read_text())["results"]
    assert [r["articles"] for r in rows] == [2, 4]
    assert all(r["returncode"] == 0 and r["peak_tree_pss_mb"] > 0 for r in rows)
    assert (tmp_path / "out-4" / "graph.ttl").is_file()


def test_bench_dask_throughput_smoke_run(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate_corpus.py"), "--out", str(tmp_path / "c"),
                    "--articles", "3", "--shard-size", "3"], check=True, capture_output=True, timeout=120)
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "dask_throughput.py"), str(tmp_path / "c"),
                           "--engines", "local", "--runs", "1", "--json"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["articles"] == 3 and result["results"][0]["articles_per_s"]["median"] > 0


def test_bench_workers_smoke_run(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "workers.py"), "--articles", "3", "--runs", "1",
                           "--counts", "1,2", "--data", str(tmp_path), "--json", str(tmp_path / "w.json")],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "w.json").read_text())
    assert set(result["by_workers"]) == {"1", "2"}
    assert all(v["same_graph_as_first"] for v in result["by_workers"].values())
