"""The ``kg`` command: a thin shell over the library. ``main(argv) -> exit code``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from . import __version__
from .cli_rdf import add_commands
from .errors import ConfigError, KgError
from .sparql import DEFAULT_MAX_MEMORY_MB, DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT, RESULT_FORMATS

EXAMPLE_QUERY = "moves"  # queries/moves.rq: who moved from one company to another


class _Parser(argparse.ArgumentParser):
    """Bad options fail with one line (and exit code 2), naming the command and where to look."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = _Parser(prog="kg", description="Build a SPARQL-queryable knowledge graph from news articles (en, fr, de).")
    parser.add_argument("--version", action="version", version=f"kg {__version__}")
    parser.add_argument("--config", help="settings file overriding kg/default.cfg")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="extract facts from articles and write graph.ttl and graph.html")
    b.add_argument("paths", nargs="+", metavar="PATH", help=".txt, .html/.htm or .jsonl files, or folders of them")
    b.add_argument("--out", required=True, metavar="DIR", help="output folder")
    _common_extraction_flags(b)
    b.add_argument("--base-iri", help="base IRI for entities and articles (default from config)")
    b.add_argument("--explain-merges", action="store_true", help="list every entity merge with its reason")
    b.add_argument("--no-html", action="store_true", help="do not write graph.html")
    b.add_argument("--max-nodes", type=int, help="draw at most this many (most connected) nodes in graph.html")
    b.add_argument("--format", dest="formats", action="append", metavar="FORMAT",
                   help="also write the graph in this format (nt, json-ld, rdf-xml, trig, nquads, graphml, csv); repeatable")
    b.add_argument("--example-query", action="store_true", help="print the answer to an example SPARQL query")
    b.add_argument("--workers", type=_workers, metavar="N",
                   help="processes for the per-article map (default: one per core for 50 or more inputs, else 1)")
    b.add_argument("--article-seconds", type=_seconds, metavar="S",
                   help="skip an article whose NLP takes longer than this (default from config: 60)")
    b.add_argument("--fresh", action="store_true", help="ignore the articles already built into --out; build only PATHs")
    b.add_argument("--wait", action="store_true", help="wait for another build writing to --out instead of failing")
    b.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="where the per-article map runs: this machine, or a Dask cluster (pip install 'kg-news[dask]')")
    b.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler (tcp://host:8786) for --engine dask; default: a local cluster of --workers processes")
    b.add_argument("--shards", metavar="DIR", help="also write the graph as N-Triples shards (part-NNNNN.nt) for a bulk loader")
    b.add_argument("--store", action="store_true", help="also write an Oxigraph store (DIR/store) that kg query, serve and export open at once")

    r = sub.add_parser("remove", help="remove articles (and the facts only they support) from a built folder")
    r.add_argument("articles", nargs="+", metavar="ARTICLE", help="article id, source path or URL")
    r.add_argument("--out", required=True, metavar="DIR", help="the output folder of kg build")
    r.add_argument("--aliases", help="TSV of alias<TAB>canonical name (as given to kg build)")
    r.add_argument("--wait", action="store_true", help="wait for another build writing to --out instead of failing")

    q = sub.add_parser("query", help="run a SPARQL query against a graph file")
    q.add_argument("graph", metavar="GRAPH", help="a Turtle (or other RDF) file written by kg build, a store folder, or an output folder holding store/")
    q.add_argument("query", metavar="QUERY", help="query text, @file.rq, or - for standard input")
    q.add_argument("--format", choices=RESULT_FORMATS, default="table")
    q.add_argument("--bind", action="append", metavar="NAME=VALUE", help="pre-bind a query variable (repeatable)")
    q.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS", help=f"stop the query after this long (default {DEFAULT_TIMEOUT:g})")
    q.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS, metavar="N", help=f"keep at most N result rows or triples, 0 for all (default {DEFAULT_MAX_ROWS})")
    q.add_argument("--max-memory", type=int, default=DEFAULT_MAX_MEMORY_MB, metavar="MB", help=f"stop the query when it needs more memory than this (default {DEFAULT_MAX_MEMORY_MB})")

    e = sub.add_parser("eval", help="score extraction against gold triples (precision, recall, F1)")
    e.add_argument("paths", nargs="+", metavar="PATH")
    e.add_argument("--gold", required=True, help="gold TSV: article, subject, relation, object, evidence")
    e.add_argument("--aliases", dest="gold_aliases", help="alias TSV: alias, canonical")
    e.add_argument("--json", action="store_true", help="print JSON instead of tables")
    e.add_argument("--lang", help="force the language of every article")
    e.add_argument("--min-confidence", type=float)
    e.add_argument("--by-article", action="store_true", help="add a table per article")
    e.add_argument("--calibration", action="store_true",
                   help="print the precision of the facts at confidence >= 0.5, 0.7 and 0.9")
    e.add_argument("--min-f1", type=float, metavar="F1",
                   help="exit with status 3 when the F1 of any language (or overall) is below this")
    e.add_argument("--no-errors", action="store_true", help="leave out the lists of missed and spurious facts")

    sub.add_parser("models", help="which NLP pipeline serves each language, and what is missing")

    v = sub.add_parser("view", help="draw any RDF graph (or a CONSTRUCT query's result) as interactive HTML")
    v.add_argument("graph", metavar="GRAPH")
    v.add_argument("--query", help="a CONSTRUCT query (text or @file.rq) selecting what to draw")
    v.add_argument("--out", required=True, metavar="FILE.html")
    v.add_argument("--max-nodes", type=int)
    COMMANDS.update(add_commands(sub))
    return parser.parse_args(argv)


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"must be between 1 and 256 (got {value})")
    return value


def _seconds(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive, finite number of seconds (got {text})")
    return value


def _default_workers(args, total: int | None) -> int:
    if getattr(args, "workers", None):
        return args.workers
    import os

    return (os.cpu_count() or 1) if (total or 0) >= 50 else 1


def _common_extraction_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=("en", "fr", "de"), help="force the language of every article")
    parser.add_argument("--min-confidence", type=float, help="drop facts below this confidence (0..1)")
    parser.add_argument("--aliases", help="TSV of alias<TAB>canonical name; overrides automatic merging")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage line
        return int(exc.code or 0)
    try:
        return COMMANDS[args.command](args)
    except KgError as exc:
        print(f"kg: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("kg: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _settings(args, **overrides):
    from .settings import load_settings

    return load_settings(args.config, **overrides)


def _aliases(path: str | None) -> dict[str, str]:
    if not path:
        return {}
    from .evaluate import read_aliases

    return read_aliases(path)


def cmd_build(args) -> int:
    from .pipeline import ProgressLine, build, count_inputs

    from .dask_engine import expand_paths  # globs ('shards/*.jsonl'); imports no dask
    from .results_store import check_out_dir

    settings = _settings(args, base_iri=args.base_iri, min_confidence=args.min_confidence,
                         article_seconds=args.article_seconds)
    paths = expand_paths(args.paths)
    if args.scheduler and args.engine != "dask":
        raise ConfigError("--scheduler needs --engine dask")
    check_out_dir(args.out)  # bad options fail before any work
    if args.max_nodes is not None and args.max_nodes < 1:
        raise ConfigError(f"--max-nodes must be at least 1 (got {args.max_nodes})")
    progress = ProgressLine()
    total = count_inputs(paths)
    progress.total = total
    try:
        result = build(
            paths, args.out, settings, lang=args.lang, aliases=_aliases(args.aliases),
            html=not args.no_html, max_nodes=args.max_nodes, progress=progress, formats=args.formats or (),
            workers=(args.workers or 0) if args.engine == "dask" else _default_workers(args, total),
            wait=args.wait, fresh=args.fresh, engine=args.engine, scheduler=args.scheduler, shards=args.shards,
        )
    finally:
        progress.close()
    _print_summary(result)
    if args.explain_merges:
        print("Merges:")
        for merge in result.resolution.merges:
            print(f"  {merge.alias!r} -> {merge.entity_key}: {merge.reason}")
    report = result.report
    if args.store:
        from .store import write_store

        print(f"{'store:':<9}{write_store(report.outputs['turtle'], args.out)}")
    if args.example_query:
        from .export import load_graph
        from .sparql import format_result, run_query

        from .sparql import read_query_arg

        text = read_query_arg(EXAMPLE_QUERY, sys.stdin)
        print(f"\nExample query `kg query {report.outputs['turtle']} {EXAMPLE_QUERY}` (queries/{EXAMPLE_QUERY}.rq):")
        print(text.splitlines()[0].lstrip("# "))
        sys.stdout.write(format_result(run_query(load_graph(report.outputs["turtle"]), text), "table"))
    return 0


def cmd_remove(args) -> int:
    from .pipeline import remove_articles

    result, removed = remove_articles(args.articles, args.out, _settings(args), aliases=_aliases(args.aliases),
                                      wait=args.wait)
    print(f"Removed {len(removed)} article(s): {', '.join(removed)}")
    _print_summary(result)
    return 0


def _print_summary(result) -> None:
    report = result.report
    langs = ", ".join(f"{lang} {n}" for lang, n in sorted(report.by_language.items()))
    changes = result.changes
    if changes and "added" in changes:
        print(f"This run: {changes['added']} new, {changes['changed']} changed, {changes['unchanged']} unchanged; "
              f"{changes['kept']} kept from earlier builds.")
    print(f"Built {report.articles_built} articles ({langs}; {report.articles_read} read this run): "
          f"{report.facts} facts about {report.entities} entities from {report.triples} extracted triples.")
    for lang, model in sorted(report.models.items()):
        print(f"  {lang}: {model}")
    for warning in report.warnings:
        print(f"warning: {warning}")
    if report.skipped:
        print(f"Skipped {len(report.skipped)}:")
        for item in report.skipped:
            print(f"  {item.source}: {item.reason}")
    for kind, path in report.outputs.items():
        print(f"{kind + ':':<9}{path}")


def cmd_query(args) -> int:
    from .errors import ConfigError
    from .sparql import Watchdog, check_limits, format_result, read_query_arg, run_query
    from .sparql import parse_binding, query_namespaces
    from .store import open_graph

    check_limits(args.timeout, args.max_rows)  # bad limits fail before any work
    if args.max_memory < 1:
        raise ConfigError(f"--max-memory must be at least 1 MB (got {args.max_memory})")
    text = read_query_arg(args.query, sys.stdin)
    graph = open_graph(args.graph)  # Oxigraph: a store opens at once, a file parses fast
    bindings = dict(parse_binding(b, query_namespaces(graph)) for b in args.bind or [])
    # Oxigraph cannot be interrupted inside one result row: the watchdog ends the process.
    with Watchdog(args.timeout, args.max_memory * 2**20):
        result = run_query(graph, text, bindings=bindings, timeout=args.timeout, max_rows=args.max_rows)
    sys.stdout.write(format_result(result, args.format))
    if result.truncated:
        print(f"kg: warning: the result was cut at {args.max_rows} rows (--max-rows)", file=sys.stderr)
    return 0


def cmd_eval(args) -> int:
    from .evaluate import calibration_table, eval_to_json, format_calibration, format_eval, read_gold, score
    from .pipeline import extract_corpus, final_facts, resolve_extraction

    gold = read_gold(args.gold)
    aliases = _aliases(args.gold_aliases)
    settings = _settings(args, min_confidence=args.min_confidence)
    from .pipeline import count_inputs

    extraction = extract_corpus(args.paths, settings, lang=args.lang, workers=_default_workers(args, count_inputs(args.paths)))
    facts = final_facts(resolve_extraction(extraction), settings)
    predicted = sorted({
        (t.article_id, f.subject.name, f.relation, f.object.name, t.evidence, f.confidence)
        for f in facts for t in f.sources
    })
    langs = {a.id: a.lang or "und" for a in extraction.articles.values()}
    result = score(predicted, gold, aliases, langs)
    calibration = calibration_table(predicted, gold, aliases, langs) if args.calibration else None
    if args.json:
        data = eval_to_json(result)
        if calibration is not None:
            data["calibration"] = [{"min_confidence": c, "facts": n.tp + n.fp, "right": n.tp,
                                    "precision": round(n.precision, 4)} for c, n in calibration]
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(format_eval(result, by_article=args.by_article, errors=not args.no_errors), end="")
        if calibration is not None:
            print()
            print(format_calibration(calibration), end="")
    if args.min_f1 is not None:
        low = {name: c.f1 for name, c in {**result.by_language, "overall": result.overall}.items() if c.f1 < args.min_f1}
        if low:
            print("kg: F1 below --min-f1 " + f"{args.min_f1}: " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(low.items())),
                  file=sys.stderr)
            return 3
    return 0


def cmd_models(args) -> int:
    from .nlp import describe_models

    settings = _settings(args)
    for lang, info in describe_models(settings.models).items():
        name = info["name"] or "MISSING"
        print(f"{lang}: {name}")
        print(f"    licence: {info['licence']}")
        if info["better_models_not_installed"]:
            print(f"    preferred but not installed: {', '.join(info['better_models_not_installed'])}")
        if info["model"] is None:
            print(f"    install one with: pip install {settings.models[lang][-1].replace('_', '-')}")
    return 0


def cmd_view(args) -> int:
    from .export import load_graph
    from .sparql import read_query_arg, run_query
    from .viz import write_html

    graph = load_graph(args.graph)
    if args.query:
        result = run_query(graph, read_query_arg(args.query, sys.stdin))
        if result.kind not in ("CONSTRUCT", "DESCRIBE"):
            raise KgError("--query must be a CONSTRUCT or DESCRIBE query (it selects a graph to draw)")
        graph = result.graph
    stats = write_html(graph, Path(args.out), title=f"kg: {Path(args.graph).name}", max_nodes=args.max_nodes)
    left = f"; left out {stats.nodes_left_out} entities and {stats.edges_left_out} facts" if stats.nodes_left_out or stats.edges_left_out else ""
    print(f"HTML: {args.out} ({stats.nodes_drawn} nodes and {stats.edges_drawn} edges drawn{left})")
    return 0


COMMANDS = {"build": cmd_build, "remove": cmd_remove, "query": cmd_query, "eval": cmd_eval, "models": cmd_models, "view": cmd_view}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
