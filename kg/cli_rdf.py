"""The ``export``, ``validate`` and ``serve`` commands, for kg/cli.py to add to its parser.

``add_commands(subparsers)`` adds the three sub-parsers and returns command name -> function;
each function takes the parsed arguments and returns the exit code, and raises kg.errors types
(one-line messages) for bad input.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from typing import Any

from .errors import InputError
from .serve import (
    DEFAULT_HOST,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_MEMORY,
    DEFAULT_MAX_ROWS,
    DEFAULT_PORT,
    DEFAULT_SHORT_TIME,
    DEFAULT_TIMEOUT,
    DEFAULT_WORKERS,
)

# rdflib, networkx and pyshacl are imported by the commands themselves, so that building the
# parser (every `kg` run) stays fast.

Command = Callable[[argparse.Namespace], int]


def add_commands(subparsers: Any) -> dict[str, Command]:
    """Add ``export``, ``validate`` and ``serve`` to ``subparsers`` (from
    ``ArgumentParser.add_subparsers``); return their functions by name."""
    e = subparsers.add_parser("export", help="convert a graph to another format (RDF, GraphML, CSV)")
    e.add_argument("graphs", nargs="+", metavar="GRAPH",
                   help="RDF files (merged when several), or a store folder")
    e.add_argument("--out", required=True, metavar="FILE", help="file to write")
    e.add_argument("--engine", choices=("auto", "rdflib", "oxigraph"), default="auto",
                   help="who writes Turtle and N-Triples: auto (default) picks Oxigraph for a "
                        "store or more than 16 MB of input, rdflib otherwise (sorted, "
                        "byte-stable output)")
    e.add_argument("--format", metavar="FORMAT",
                   help="turtle, nt, json-ld, rdf-xml, trig, nquads (TriG and N-Quads with a named "
                        "graph per article), graphml or csv (default: from the extension of "
                        "--out, else turtle)")

    v = subparsers.add_parser("validate", help="check a graph against the SHACL shapes")
    v.add_argument("graphs", nargs="+", metavar="GRAPH", help="RDF files (merged when several)")
    v.add_argument("--shapes", metavar="FILE", help="SHACL shapes (default: ontology/shapes.ttl)")

    s = subparsers.add_parser("serve", help="answer SPARQL queries over HTTP (read-only)")
    s.add_argument("graphs", nargs="+", metavar="GRAPH",
                   help="RDF files (merged when several), or a store folder (or an output "
                        "folder holding store/), which opens at once")
    s.add_argument("--host", default=DEFAULT_HOST,
                   help=f"interface to listen on (default {DEFAULT_HOST}, this machine only)")
    s.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    s.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help=f"seconds a query may run (default {DEFAULT_TIMEOUT:g})")
    s.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                   help=f"queries answered at the same time (default {DEFAULT_WORKERS})")
    s.add_argument("--short-time", type=float, default=DEFAULT_SHORT_TIME, metavar="SECONDS",
                   help=f"queries running longer than this may hold all workers but one "
                        f"(default {DEFAULT_SHORT_TIME:g})")
    s.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS, metavar="N",
                   help=f"cut answers at N rows or triples, 0 for no limit (default "
                        f"{DEFAULT_MAX_ROWS})")
    s.add_argument("--max-memory", type=int, default=DEFAULT_MAX_MEMORY // 2**20, metavar="MB",
                   help=f"stop a query that makes its worker grow by more than this (default "
                        f"{DEFAULT_MAX_MEMORY // 2**20})")
    s.add_argument("--max-connections", type=int, default=DEFAULT_MAX_CONNECTIONS, metavar="N",
                   help=f"client connections open at once (default {DEFAULT_MAX_CONNECTIONS})")
    s.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also accept requests whose Host header names NAME (e.g. a DNS name "
                        "of this machine when listening on 0.0.0.0); repeatable")
    s.add_argument("--quiet", action="store_true", help="do not log each request")
    return {"export": cmd_export, "validate": cmd_validate, "serve": cmd_serve}


def cmd_export(args: argparse.Namespace) -> int:
    """Write the merged graphs to ``--out`` in ``--format`` (or the format of its extension)."""
    from .export import export_graph, format_for_path, get_format

    if args.format:
        graph_format = get_format(args.format)
    else:
        try:
            graph_format = format_for_path(args.out)
        except InputError:  # an extension no format claims: the default format
            graph_format = get_format("turtle")
    path, triples = export_graph(args.graphs, args.out, graph_format.name, engine=args.engine)
    print(f"{graph_format.name}: {path} ({triples} triples)")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Print one line per SHACL violation; exit 0 when the graph conforms, 1 when not."""
    from .export import load_graphs
    from .validate import format_violation, load_shapes, validate_graph

    graph = load_graphs(args.graphs)
    report = validate_graph(graph, load_shapes(args.shapes))
    for violation in report.violations:
        print(format_violation(violation))
    names = ", ".join(args.graphs)
    if report.conforms:
        print(f"{names}: conforms to the shapes ({len(graph)} triples)")
        return 0
    errors = sum(1 for v in report.violations if v.severity == "Violation")
    print(f"{names}: does not conform ({errors} violation{'' if errors == 1 else 's'})")
    return 1


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the merged graphs until interrupted (Ctrl-C)."""
    from .errors import ConfigError
    from .serve import check_options, is_loopback, serve

    # Bad values fail before the graph is loaded (a million triples take a while).
    check_options(workers=args.workers, timeout=args.timeout, port=args.port,
                  short_time=args.short_time, max_rows=args.max_rows,
                  max_connections=args.max_connections)
    if args.max_memory < 1:
        raise ConfigError(f"--max-memory must be at least 1 MB (got {args.max_memory})")
    if not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if not is_loopback(args.host):
        print(f"warning: listening on {args.host}: anyone who can reach this machine can query "
              f"the graph", file=sys.stderr)

    def ready(server: Any) -> None:
        print(f"SPARQL endpoint: {server.url} (query page: {server.url[:-len('sparql')]}); "
              f"Ctrl-C stops it", flush=True)

    try:
        serve(args.graphs, host=args.host, port=args.port, timeout=args.timeout,
              workers=args.workers, on_ready=ready, short_time=args.short_time,
              max_rows=args.max_rows, max_memory=args.max_memory * 2**20,
              max_connections=args.max_connections, allowed_hosts=args.allow_host)
    except KeyboardInterrupt:  # the normal way to stop a server
        print("stopped", file=sys.stderr)
    return 0
