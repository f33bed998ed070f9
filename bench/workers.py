"""Both cores: `kg build --workers 1` against `--workers 2` on the same generated corpus.

    python bench/workers.py [--articles 500] [--runs 5] [--counts 1,2] [--data DIR] [--json FILE]

Generates (once, kept in ``--data``) a corpus with ``generate_corpus.py``, then runs
``kg build CORPUS --out OUT --workers N --no-html`` as a subprocess for each worker count, into
an emptied OUT (kg keeps per-article results in OUT/store and would reuse them), the counts
interleaved, ``--runs`` rounds. Reports wall seconds min / median / max per
count, the speed-up of each count over the first (of the medians, and min / median / max of the
per-round ratios), the peak PSS of the process tree, and whether every output graph holds the
same triples as the first count's (kg's graphs have no blank nodes, so equal triple sets are
isomorphic graphs; rdflib's isomorphism test is used if one has any).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from scale import ensure_corpus, report, run_sampled  # noqa: E402
from throughput import spread  # noqa: E402


def same_graph(a: Path, b: Path) -> bool:
    from rdflib import BNode, Graph
    from rdflib.compare import isomorphic

    ga, gb = Graph().parse(a), Graph().parse(b)
    if any(isinstance(t, BNode) for triple in ga for t in triple):
        return isomorphic(ga, gb)
    return set(ga) == set(gb)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--counts", default="1,2")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "kg-bench-workers")
    parser.add_argument("--kg", default=str(Path(sys.executable).with_name("kg")))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.counts.split(",")]
    corpus = ensure_corpus(args.data, args.articles)
    seconds: dict[int, list[float]] = {c: [] for c in counts}
    peaks: dict[int, int] = {c: 0 for c in counts}
    for _ in range(args.runs):
        for count in counts:
            out = args.data / f"out-{count}"
            shutil.rmtree(out, ignore_errors=True)
            cmd = [args.kg, "build", str(corpus), "--out", str(out), "--workers", str(count), "--no-html"]
            wall, _rss, pss, code = run_sampled(cmd)
            if code:
                return code
            seconds[count].append(wall)
            peaks[count] = max(peaks[count], pss)
            print(json.dumps({"workers": count, "seconds": round(wall, 1)}), flush=True)
    first = counts[0]
    result = {"articles": args.articles, "runs": args.runs, "by_workers": {}}
    for count in counts:
        ratios = [a / b for a, b in zip(seconds[first], seconds[count])]
        result["by_workers"][count] = {
            "seconds": spread(seconds[count], 2),
            "speedup_of_medians": round(statistics.median(seconds[first]) / statistics.median(seconds[count]), 2),
            "speedup_per_round": spread(ratios, 2),
            "peak_tree_pss_mb": round(peaks[count] / 2**20),
            "same_graph_as_first": same_graph(args.data / f"out-{first}" / "graph.ttl", args.data / f"out-{count}" / "graph.ttl"),
        }
    report(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
