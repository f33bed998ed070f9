"""Throughput of a local build against a Dask LocalCluster build on a generated corpus.

    python bench/generate_corpus.py --out /tmp/kg-corpus --articles 120 --shard-size 40
    python bench/dask_throughput.py /tmp/kg-corpus [--workers 2] [--runs 3] [--json]

Times whole builds (read, map, reduce, resolve, graph; nothing written) ``--runs`` times per
engine: ``local`` (this process, pipelines already loaded), ``local-procs`` (``--workers``
processes, as ``kg build --workers``; includes their model loading, which it does per build)
and ``dask`` (a LocalCluster of ``--workers`` single-threaded processes, started and warmed
once, timed apart). Prints min/median/max articles/s and words/s, the cluster start-up time,
the resident memory of each Dask worker after the runs and how many language stages each
worker loaded. Graphs of every engine are checked isomorphic to the local one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# this file is called dask.py: keep its folder off sys.path so "import dask" finds Dask
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))


def corpus_size(paths: list[str]) -> tuple[int, int]:
    from kg.dask_engine import expand_paths

    articles = words = 0
    for raw in expand_paths(paths):
        for p in ([Path(raw)] if Path(raw).is_file() else sorted(Path(raw).rglob("*.jsonl"))):
            for line in p.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    articles += 1
                    words += len(json.loads(line)["text"].split())
    return articles, words


def timed(build, runs: int) -> tuple[list[float], object]:
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = build()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def summary(name: str, seconds: list[float], articles: int, words: int) -> dict:
    rates = sorted(articles / s for s in seconds)
    wrates = sorted(words / s for s in seconds)
    return {
        "engine": name, "runs": len(seconds), "seconds": [round(s, 1) for s in seconds],
        "articles_per_s": {"min": round(rates[0], 2), "median": round(statistics.median(rates), 2), "max": round(rates[-1], 2)},
        "words_per_s": {"min": round(wrates[0]), "median": round(statistics.median(wrates)), "max": round(wrates[-1])},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="corpus folders or JSONL files (globs allowed)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default="local,local-procs,dask")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from rdflib.compare import isomorphic

    from kg.dask_engine import open_client, stage_loads
    from kg.pipeline import load_stage, run_build
    from kg.settings import load_settings

    settings = load_settings()
    articles, words = corpus_size(args.paths)
    engines = args.engines.split(",")
    out: dict = {"articles": articles, "words": words, "workers": args.workers, "results": []}
    reference = None
    if "local" in engines:
        for lang in settings.models:
            load_stage(lang, settings)
        seconds, reference = timed(lambda: run_build(args.paths, settings), args.runs)
        out["results"].append(summary("local", seconds, articles, words))
    if "local-procs" in engines:
        seconds, result = timed(lambda: run_build(args.paths, settings, workers=args.workers), args.runs)
        out["results"].append(summary(f"local-procs ({args.workers} processes)", seconds, articles, words))
        reference = reference or result
        out["results"][-1]["isomorphic_to_local"] = isomorphic(reference.graph, result.graph)
    if "dask" in engines:
        import psutil  # a dependency of distributed

        started = time.perf_counter()
        client, cluster = open_client(None, args.workers)
        try:
            client.wait_for_workers(args.workers, timeout=600)
            from kg.dask_engine import _plugin

            client.register_plugin(_plugin(settings, sorted(settings.models)), name="kg-warm-stages")
            out["dask_startup_seconds"] = round(time.perf_counter() - started, 1)
            address = client.scheduler.address
            seconds, result = timed(lambda: run_build(args.paths, settings, engine="dask", scheduler=address), args.runs)
            out["results"].append(summary(f"dask LocalCluster ({args.workers} workers)", seconds, articles, words))
            if reference is not None:
                out["results"][-1]["isomorphic_to_local"] = isomorphic(reference.graph, result.graph)
            rss = client.run(lambda: psutil.Process().memory_info().rss)
            out["worker_rss_mb"] = sorted(round(v / 2**20) for v in rss.values())
            out["stage_loads_per_worker"] = sorted(v["loaded"] for v in client.run(stage_loads).values())
        finally:
            client.close(timeout=60)
            cluster.close(timeout=60)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{articles} articles, {words} words; {args.workers} workers")
    for r in out["results"]:
        a, w = r["articles_per_s"], r["words_per_s"]
        iso = "" if "isomorphic_to_local" not in r else f"  isomorphic to local: {r['isomorphic_to_local']}"
        print(f"{r['engine']:<34} articles/s {a['min']:.2f} / {a['median']:.2f} / {a['max']:.2f}   "
              f"words/s {w['min']} / {w['median']} / {w['max']}  (min/median/max of {r['runs']}){iso}")
    if "worker_rss_mb" in out:
        print(f"dask start-up and warm-up {out['dask_startup_seconds']} s; worker RSS MB {out['worker_rss_mb']}; "
              f"language stages loaded per worker {out['stage_loads_per_worker']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
