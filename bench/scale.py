"""Linear growth: `kg build` on generated corpora of increasing size, time and peak memory.

    python bench/scale.py --sizes 1000,10000 [--workers 2] [--data DIR] [--json FILE]

For each size, generates (once, kept in ``--data``) a corpus with ``generate_corpus.py`` (same
seed, so the 1k corpus is not a prefix trick: each size is its own draw), then runs
``kg build CORPUS --out OUT --workers N --no-html`` as a user would, as a subprocess. While it
runs, the resident memory of the whole process tree (the command and its workers) is sampled
every 0.25 s from /proc; the peaks of the sums of PSS (the real footprint: pages the workers
share count once) and RSS are reported, with wall time, articles/s and the
ratio of each size's time to the smallest size's time. Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def tree_memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) bytes summed over a process and all its descendants. RSS counts pages the
    forked workers share once per process; PSS splits them, so its sum is the real footprint."""
    rss = pss = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except OSError:
            continue
        todo.extend(_children(p))
    return rss, pss


def run_sampled(cmd: list[str], interval: float = 0.25) -> tuple[float, int, int, int]:
    """(wall seconds, peak tree RSS bytes, peak tree PSS bytes, return code) of a command."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss, pss = tree_memory(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode:
        sys.stderr.write(err[-3000:])
    return seconds, peak[0], peak[1], proc.returncode


def report(result: dict, json_file: Path | None) -> None:
    """Print the result as JSON, and write it to ``json_file`` when one is given."""
    text = json.dumps(result, indent=2)
    print(text)
    if json_file:
        json_file.write_text(text, encoding="utf-8")


def ensure_corpus(data: Path, size: int) -> Path:
    """The generated corpus of ``size`` articles under ``data``, made once and then reused."""
    corpus = data / f"corpus-{size}"
    if not corpus.is_dir():
        subprocess.run([sys.executable, str(HERE / "generate_corpus.py"), "--out", str(corpus),
                        "--articles", str(size), "--shard-size", "500"], check=True)
    return corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "kg-bench-scale")
    parser.add_argument("--kg", default=str(Path(sys.executable).with_name("kg")), help="the kg command to run")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    for size in sizes:
        corpus = ensure_corpus(args.data, size)
        words = sum(len(json.loads(line)["text"].split())
                    for shard in sorted(corpus.glob("*.jsonl")) for line in shard.open(encoding="utf-8") if line.strip())
        out = args.data / f"out-{size}"
        subprocess.run(["rm", "-rf", str(out)], check=True)
        cmd = [args.kg, "build", str(corpus), "--out", str(out), "--workers", str(args.workers), "--no-html"]
        seconds, rss, pss, code = run_sampled(cmd)
        row = {"articles": size, "words": words, "seconds": round(seconds, 1), "articles_per_s": round(size / seconds, 2),
               "peak_tree_pss_mb": round(pss / 2**20), "peak_tree_rss_mb": round(rss / 2**20), "returncode": code}
        results.append(row)
        print(json.dumps(row), flush=True)
        if code:
            return code
    base = results[0]
    for row in results:
        row["time_ratio_to_smallest"] = round(row["seconds"] / base["seconds"], 2)
        row["size_ratio_to_smallest"] = round(row["articles"] / base["articles"], 2)
    summary = {"workers": args.workers, "results": results}
    report(summary, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
