"""SPARQL, store and export at scale: kg (Oxigraph behind kg's API) against pyoxigraph used
directly, side by side in one run.

    .venv/bin/python bench/sparql.py [--triples 1000000] [--runs 5] [--data DIR] [--json FILE]
                                     [--template FILE.nt] [--rdflib]

The graph is generated, never committed: the bundled samples are built once (spaCy, about
10 s; or ``--template`` names an N-Triples file in kg's vocabulary) and copied with renamed
IRIs until it holds ``--triples`` distinct triples. Every fourth copy shares its entities and
facts (labels get the group number), so facts have several articles and evidence sentences
and 2-hop paths cross copies, as in a real feed. The same arguments give the same file.

Measured, min / median / max of ``--runs`` runs each:
- the five typical queries (label lookup, 2-hop path, count by relation, confidence filter,
  evidence of one fact) and every bundled ``queries/*.rq``: ``kg.sparql.run_query`` on a
  ``GraphStore`` (result rows as rdflib terms) against ``pyoxigraph.Store.query`` with every
  row materialised;
- opening the persistent store (``kg.store.open_store`` against ``Store.read_only``);
- Turtle and N-Triples export of the store (``kg.export.export_store`` against
  ``Store.dump``) and of the generated file (``kg.export.export_graph``, streaming, against
  ``pyoxigraph.parse`` piped into ``pyoxigraph.serialize``);
- once each: loading the file into memory (kg, pyoxigraph), writing the store, and with
  ``--rdflib`` the rdflib baseline (load, the ``hiring`` query, Turtle serialization).
Peak memory is the process's maximum resident set size at the end.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyoxigraph  # noqa: E402

from kg.export import export_graph, export_store  # noqa: E402
from kg.sparql import bundled_queries, query_namespaces, run_query  # noqa: E402
from kg.store import memory_store, open_store, write_store  # noqa: E402

GROUP = 4  # copies that share their entities and facts
_IRI = re.compile(r"<([^>]*)>")
_LABEL = re.compile(r'^(<[^>]*entity/[^>]*>) (<http://www\.w3\.org/2000/01/rdf-schema#label>|'
                    r'<http://www\.w3\.org/2004/02/skos/core#altLabel>) "((?:[^"\\]|\\.)*)"')
_IDENTIFIER = re.compile(r'^(<[^>]*article/[^>]*>) (<http://purl\.org/dc/terms/identifier>) '
                         r'"((?:[^"\\]|\\.)*)"')


# --------------------------------------------------------------------------- the data

def template_lines(data: Path) -> list[str]:
    """The samples' graph as sorted N-Triples lines (built once, cached in ``data``)."""
    cached = data / "template.nt"
    if not cached.is_file():
        from kg.pipeline import build
        from kg.settings import load_settings

        with tempfile.TemporaryDirectory() as out:
            result = build([ROOT / "samples"], out, load_settings(), html=False)
            store = memory_store(result.report.outputs["turtle"])
            cached.write_bytes(store.store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES,
                                                from_graph=pyoxigraph.DefaultGraph()))
    return sorted(line for line in cached.read_text(encoding="utf-8").splitlines() if line)


def _base_of(lines: list[str]) -> str:
    for line in lines:
        found = re.match(r"<(.*?)entity/(?:person|organization|place)/", line)
        if found:
            return found.group(1)
    raise SystemExit("the template has no kg entity IRIs")


def _renamer(base: str, copy: int) -> Callable[[re.Match], str]:
    group = copy // GROUP

    def rename(match: re.Match) -> str:
        iri = match.group(1)
        if not iri.startswith(base):
            return match.group()
        path = iri[len(base):]
        if path.startswith("entity/"):
            return f"<{iri}-g{group}>"
        if path.startswith("fact/"):
            fact, sep, number = path.partition("/evidence/")
            if sep:
                return f"<{base}{fact}-g{group}/evidence/{number}-c{copy}>"
            return f"<{iri}-g{group}>"
        return f"<{iri}-c{copy}>"  # articles, named graphs, anything else

    return rename


def generate(lines: list[str], triples: int) -> list[str]:
    """Copies of ``lines`` with renamed IRIs until ``triples`` distinct lines (or just over)."""
    base = _base_of(lines)
    seen: set[str] = set()
    out: list[str] = []
    copy = 0
    while len(out) < triples:
        rename = _renamer(base, copy)
        group = copy // GROUP
        for line in lines:
            label = _LABEL.match(line)
            identifier = _IDENTIFIER.match(line)
            if label:
                line = f'{label.group(1)} {label.group(2)} "{label.group(3)} {group}"' \
                       + line[label.end():]
            elif identifier:
                line = f'{identifier.group(1)} {identifier.group(2)} ' \
                       f'"{identifier.group(3)}-c{copy}"' + line[identifier.end():]
            line = _IRI.sub(rename, line)
            if line not in seen:
                seen.add(line)
                out.append(line)
                if len(out) >= triples:
                    break
        copy += 1
    return out


def prepare(data: Path, triples: int, template: Path | None) -> Path:
    """``data/graph-<triples>.nt`` (generated unless there) and its Turtle twin."""
    data.mkdir(parents=True, exist_ok=True)
    target = data / f"graph-{triples}.nt"
    if not target.is_file():
        if template is not None:
            lines = sorted(line for line in template.read_text(encoding="utf-8").splitlines()
                           if line.strip())
        else:
            lines = template_lines(data)
        target.write_text("\n".join(generate(lines, triples)) + "\n", encoding="utf-8")
    turtle = target.with_suffix(".ttl")
    if not turtle.is_file():
        export_graph([target], turtle, "turtle", engine="oxigraph")
    return target


# --------------------------------------------------------------------------- the queries

def typical_queries(store: pyoxigraph.Store) -> dict[str, str]:
    """The five typical queries, with an entity label and a fact IRI taken from the data."""
    (label,) = [row[0].value for row in store.query(
        "SELECT ?l WHERE { ?p a <https://w3id.org/kg-news/ontology#Person> ; "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY ?l LIMIT 1")]
    (fact,) = [row[0].value for row in store.query(
        "SELECT ?f WHERE { ?f <https://w3id.org/kg-news/ontology#evidence> ?e } "
        "ORDER BY ?f LIMIT 1")]
    quoted = json.dumps(label, ensure_ascii=False)
    return {
        "label lookup": f"SELECT ?entity ?type WHERE {{ ?entity rdfs:label {quoted} ; a ?type }}",
        "2-hop path": "SELECT ?person ?organization ?place WHERE { ?p kg:works_at ?o . "
                      "?o kg:located_in ?l . ?p rdfs:label ?person . "
                      "?o rdfs:label ?organization . ?l rdfs:label ?place }",
        "count by relation": "SELECT ?relation (COUNT(*) AS ?facts) WHERE { ?f a kg:Fact ; "
                             "rdf:predicate ?relation } GROUP BY ?relation ORDER BY DESC(?facts)",
        "confidence filter": "SELECT ?fact ?confidence WHERE { ?fact a kg:Fact ; "
                             "kg:confidence ?confidence . FILTER(?confidence >= 0.9) }",
        "evidence of one fact": f"SELECT ?sentence ?rule ?article WHERE {{ <{fact}> kg:evidence ?e . "
                                "?e kg:sentence ?sentence ; kg:rule ?rule ; "
                                "dcterms:source/dcterms:identifier ?article }",
    }


# --------------------------------------------------------------------------- timing

def timed(function: Callable[[], object], runs: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return times, result


def paired(kg: Callable[[], object], direct: Callable[[], object], runs: int
           ) -> tuple[list[float], object, list[float], object]:
    """Both functions ``runs`` times, interleaved (kg first on even runs, pyoxigraph first on
    odd ones) so that a machine shared with other work slows both alike."""
    kg_times: list[float] = []
    direct_times: list[float] = []
    kg_result = direct_result = None
    for run in range(runs):
        order = [(kg, kg_times), (direct, direct_times)]
        for function, times in order if run % 2 == 0 else reversed(order):
            start = time.perf_counter()
            result = function()
            times.append(time.perf_counter() - start)
            if function is kg:
                kg_result = result
            else:
                direct_result = result
    return kg_times, kg_result, direct_times, direct_result


def summary(times: list[float]) -> dict[str, float]:
    return {"min": min(times), "median": statistics.median(times), "max": max(times)}


def _fmt(times: list[float] | None) -> str:
    if not times:
        return "-"
    s = summary(times)
    return f"{s['min']:.4f} / {s['median']:.4f} / {s['max']:.4f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "kg-bench-sparql",
                        help="where the generated graph and store are kept between runs")
    parser.add_argument("--template", type=Path, help="N-Triples to copy instead of the samples")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--rdflib", action="store_true", help="also time rdflib (slow: minutes)")
    args = parser.parse_args(argv)

    rows: list[dict] = []

    def record(name: str, kg_times: list[float] | None, direct_times: list[float] | None,
               note: str = "") -> None:
        both = bool(kg_times and direct_times and min(direct_times) > 0)
        ratio = statistics.median(kg_times) / statistics.median(direct_times) if both else None
        best = min(kg_times) / min(direct_times) if both else None
        rows.append({"name": name, "kg": summary(kg_times) if kg_times else None,
                     "pyoxigraph": summary(direct_times) if direct_times else None,
                     "ratio_median": ratio, "ratio_min": best, "note": note})
        shown = f"{ratio:5.2f}x {best:5.2f}x" if both else "     -      -"
        print(f"{name:<34} {_fmt(kg_times):>28}  {_fmt(direct_times):>28}  {shown}  {note}",
              flush=True)

    source = prepare(args.data, args.triples, args.template)
    print(f"graph: {source} ({args.triples} triples requested), runs: {args.runs}")
    print(f"{'':<34} {'kg min / median / max s':>28}  {'pyoxigraph min / median / max s':>28}  "
          f"ratio of medians, of minima")

    load_kg, graph = timed(lambda: memory_store([source]), 1)
    load_direct, direct = timed(lambda: _direct_load(source), 1)
    record("load N-Triples into memory", load_kg, load_direct, f"{len(graph)} triples")

    out = Path(tempfile.mkdtemp(dir=args.data, prefix="out-"))
    try:
        write_times, store_path = timed(lambda: write_store([source], out), 1)
        record("write persistent store", write_times, None)
        open_kg, _, open_direct, _ = paired(
            lambda: open_store(out),
            lambda: pyoxigraph.Store.read_only(str(store_path / "oxigraph")), args.runs)
        record("open persistent store", open_kg, open_direct)

        on_disk = open_store(out)
        prefixes = query_namespaces(on_disk)
        queries = {**typical_queries(direct),
                   **{f"queries/{n}.rq": p.read_text(encoding="utf-8")
                      for n, p in bundled_queries().items()}}
        for name, text in queries.items():
            kg_times, result, direct_times, direct_rows = paired(
                lambda: run_query(graph, text),
                lambda: [tuple(row) for row in direct.query(text, prefixes=prefixes)], args.runs)
            if len(result.rows) != len(direct_rows):
                raise SystemExit(f"{name}: kg gave {len(result.rows)} rows, pyoxigraph "
                                 f"{len(direct_rows)}")
            record(name, kg_times, direct_times, f"{len(result.rows)} rows")

        for fmt, rdf_format, ext in (("turtle", pyoxigraph.RdfFormat.TURTLE, "ttl"),
                                     ("nt", pyoxigraph.RdfFormat.N_TRIPLES, "nt")):
            target = out / f"export.{ext}"
            kg_times, _, direct_times, _ = paired(
                lambda: export_store(on_disk, target, fmt),
                lambda: on_disk.store.dump(str(out / f"direct.{ext}"), rdf_format,
                                           from_graph=pyoxigraph.DefaultGraph(),
                                           prefixes=prefixes), args.runs)
            record(f"export store as {fmt}", kg_times, direct_times)
            turtle_in = source.with_suffix(".ttl")
            kg_times, _, direct_times, _ = paired(
                lambda: export_graph([turtle_in], target, fmt, engine="oxigraph"),
                lambda: pyoxigraph.serialize(
                    (pyoxigraph.Triple(q.subject, q.predicate, q.object) for q in
                     pyoxigraph.parse(path=str(turtle_in), format=pyoxigraph.RdfFormat.TURTLE)),
                    str(out / f"direct.{ext}"), rdf_format, prefixes=prefixes), args.runs)
            record(f"export graph.ttl as {fmt}", kg_times, direct_times, "streaming")
        if args.rdflib:
            _rdflib_baseline(source, record)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps({"triples": len(graph), "runs": args.runs,
                                         "peak_mb": peak, "rows": rows}, indent=2) + "\n")
    return 0


def _direct_load(source: Path) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.bulk_load(path=str(source), format=pyoxigraph.RdfFormat.N_TRIPLES)
    return store


def _rdflib_baseline(source: Path, record: Callable[..., None]) -> None:
    """Before: what kg did with rdflib alone (one run each; minutes at a million triples)."""
    from kg.export import load_graph

    load_times, graph = timed(lambda: load_graph(source), 1)
    record("rdflib: load N-Triples", load_times, None, f"{len(graph)} triples")
    text = bundled_queries()["hiring"].read_text(encoding="utf-8")
    query_times, _ = timed(lambda: run_query(graph, text), 1)
    record("rdflib: queries/hiring.rq", query_times, None)
    write_times, _ = timed(lambda: graph.serialize(format="turtle"), 1)
    record("rdflib: serialize Turtle", write_times, None)


if __name__ == "__main__":
    sys.exit(main())
