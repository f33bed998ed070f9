"""The Python API, for notebooks and services; the ``kg`` command is a thin layer over it.

    import kg
    result = kg.build(["articles/"])                # nothing written
    result.graph                                     # rdflib.Graph
    for fact in result.facts:                        # kg.types.Fact
        print(fact.subject.name, fact.relation, fact.object.name, fact.confidence,
              [t.evidence for t in fact.sources])    # the sentences that say so
    result.report                                    # kg.types.BuildReport
    kg.write(result, "output/")                      # graph.ttl, graph.html, triples.jsonl, report.json
    kg.query(result.graph, "SELECT ...")             # or kg.query("output/graph.ttl", ...)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from .pipeline import BuildResult
from .settings import Settings, load_settings


def build(
    paths: Iterable[str | Path] | str | Path,
    settings: Settings | None = None,
    *,
    lang: str | None = None,
    aliases: Mapping[str, str] | None = None,
    workers: int = 1,
) -> BuildResult:
    """Build the knowledge graph of the articles in ``paths`` (files or folders) in memory.

    ``settings`` defaults to the shipped ``kg/default.cfg`` (see :func:`kg.load_settings`);
    ``lang`` forces one language for every article; ``aliases`` maps spellings to canonical
    names; ``workers`` > 1 runs the per-article map in that many processes."""
    from .pipeline import run_build

    if isinstance(paths, (str, Path)):
        paths = [paths]
    return run_build(list(paths), settings or load_settings(), lang=lang, aliases=aliases, workers=workers)


def write(result: BuildResult, out_dir: str | Path, *, html: bool = True, max_nodes: int | None = None,
          formats: Iterable[str] = ()) -> dict[str, str]:
    """Write a build's outputs into ``out_dir``; returns kind -> path."""
    from .pipeline import write_outputs

    return write_outputs(result, out_dir, html=html, max_nodes=max_nodes, formats=formats)


def query(graph_or_path, sparql: str, bindings: Mapping[str, object] | None = None):
    """Run a read-only SPARQL query on an rdflib Graph or an RDF file; returns a
    :class:`kg.sparql.QueryResult` (``.variables``/``.rows`` for SELECT, ``.graph`` for CONSTRUCT)."""
    from .export import load_graph
    from .sparql import run_query

    graph = load_graph(str(graph_or_path)) if isinstance(graph_or_path, (str, Path)) else graph_or_path
    return run_query(graph, sparql, bindings=dict(bindings or {}))
