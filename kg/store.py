"""Oxigraph stores for querying, serving and exporting large graphs.

rdflib stays the library's graph type; this module puts the same triples into a pyoxigraph
``Store`` (RocksDB on disk, or in memory), whose SPARQL engine and serializers are one to two
orders of magnitude faster than rdflib's at a million triples.

A persistent store is a folder, by default ``store/`` in a build's output folder::

    store/kg-store.json   {"format": 1, "triples": N, "prefixes": {...}, "base_iri": ...}
    store/oxigraph/       the RocksDB database

``write_store(graph_or_file, out_dir)`` writes it (into a temporary folder first, then renamed
into place, so a reader never opens half a store); ``open_store(path)`` opens it read-only in
well under a second whatever its size, without parsing anything. ``open_graph(path)`` takes
what the CLI takes as GRAPH: an RDF file (parsed by Oxigraph into memory), a store folder, or
an output folder holding ``store/``.

Triples from TriG and N-Quads files are merged into the default graph, as
:func:`kg.export.load_graph` does, so both engines see the same graph.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError, OutputError

if TYPE_CHECKING:
    import pyoxigraph
    from rdflib import Graph
    from rdflib.term import Node

STORE_DIR = "store"  # the store's folder name inside a build's output folder
META_FILE = "kg-store.json"
DB_DIR = "oxigraph"
STORE_FORMAT = 1
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# Extension -> pyoxigraph RdfFormat attribute, and whether the file holds quads.
_FORMATS = {
    ".ttl": ("TURTLE", False), ".nt": ("N_TRIPLES", False), ".rdf": ("RDF_XML", False),
    ".jsonld": ("JSON_LD", True), ".json": ("JSON_LD", True), ".trig": ("TRIG", True),
    ".nq": ("N_QUADS", True),
}


@dataclass
class GraphStore:
    """An Oxigraph store holding one kg graph (in its default graph), with the namespace
    bindings of the file(s) it came from. ``path`` is the store folder, None in memory."""

    store: pyoxigraph.Store
    prefixes: dict[str, str] = field(default_factory=dict)
    triples: int = 0
    base_iri: str | None = None
    path: Path | None = None
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return self.triples

    def namespaces(self) -> Iterator[tuple[str, str]]:
        """(prefix, namespace) pairs, like ``rdflib.Graph.namespaces()``."""
        return iter(self.prefixes.items())

    def to_graph(self) -> Graph:
        """The triples as an rdflib Graph with the store's prefixes (slow for big stores)."""
        from rdflib import Graph

        from .vocab import bind_namespaces

        graph = bind_namespaces(Graph(bind_namespaces="core"))
        for prefix, namespace in self.prefixes.items():
            graph.bind(prefix, namespace, override=False)
        graph.addN((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object), graph)
                   for q in self.store.quads_for_pattern(None, None, None, _default_graph()))
        return bind_namespaces(graph, self.base_iri) if self.base_iri else graph


# --------------------------------------------------------------------------- terms

def _default_graph() -> Any:
    import pyoxigraph

    return pyoxigraph.DefaultGraph()


def to_rdflib(term: Any) -> Node:
    """An rdflib term for a pyoxigraph term (the same term rdflib's parser would make)."""
    kind = type(term)
    if not _TERM_TYPES:
        _load_term_types()
    named, blank, literal, uriref, bnode, rdflib_literal, string = _TERM_TYPES
    if kind is named:
        return uriref(term.value)
    if kind is literal:
        language = term.language
        if language:
            return string(term.value, language)
        datatype = term.datatype.value
        if datatype == _XSD_STRING:  # RDF 1.1: the same as a simple literal
            return string(term.value, None)
        return rdflib_literal(term.value, datatype=uriref(datatype))
    if kind is blank:
        return bnode(term.value)
    raise InputError(f"cannot represent {term!r} as an rdflib term (RDF-star is not supported)")


_TERM_TYPES: list[Any] = []


def _load_term_types() -> None:
    """pyoxigraph's and rdflib's term classes, looked up on first use (not at kg's import),
    and the fastest right way to make a plain or language-tagged rdflib Literal."""
    import pyoxigraph
    from rdflib import BNode, Literal, URIRef

    new_string = str.__new__

    def short_way(value: str, language: str | None) -> Any:
        # Labels and sentences are most of an answer, and rdflib's constructor spends ~5 us
        # on each validating and casting what is already a plain string; this fills the same
        # four slots directly. Checked against the constructor below before it is used.
        made = new_string(Literal, value)
        made._language = language
        made._datatype = None
        made._value = value
        made._ill_typed = None
        return made

    def constructed(value: str, language: str | None) -> Any:
        return Literal(value, lang=language)

    string = short_way
    for value, language in (("Anna Müller", None), ("Zalando", "de"), ("", "en-GB")):
        fast, slow = short_way(value, language), constructed(value, language)
        if not (fast == slow and hash(fast) == hash(slow) and all(
                getattr(fast, slot) == getattr(slow, slot) for slot in Literal.__slots__)):
            string = constructed  # an rdflib release that builds Literals differently
            break
    _TERM_TYPES[:] = [pyoxigraph.NamedNode, pyoxigraph.BlankNode, pyoxigraph.Literal, URIRef,
                      BNode, Literal, string]


def to_oxigraph(term: Node) -> Any:
    """A pyoxigraph term for an rdflib term."""
    import pyoxigraph
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return pyoxigraph.NamedNode(str(term))
    if isinstance(term, BNode):
        return pyoxigraph.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return pyoxigraph.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return pyoxigraph.Literal(str(term), datatype=pyoxigraph.NamedNode(str(term.datatype)))
        return pyoxigraph.Literal(str(term))
    raise InputError(f"cannot store {term!r} in Oxigraph")


def _quads_of(graph: Graph) -> Iterator[Any]:
    import pyoxigraph

    default = pyoxigraph.DefaultGraph()
    iris: dict[Any, Any] = {}

    def convert(term: Node) -> Any:
        found = iris.get(term)
        if found is None:
            found = to_oxigraph(term)
            if not isinstance(found, pyoxigraph.Literal):
                iris[term] = found
        return found

    for s, p, o in graph:
        yield pyoxigraph.Quad(convert(s), convert(p), convert(o), default)


# --------------------------------------------------------------------------- building stores

def _base_iri(store: Any, prefixes: dict[str, str]) -> str | None:
    """As :func:`kg.vocab.detect_base_iri`: from the ``ent:`` prefix, else from entity IRIs."""
    import pyoxigraph

    from .vocab import ENTITY_PATH, ENTITY_PREFIXES, KG

    namespace = prefixes.get("ent", "")
    if namespace.endswith(ENTITY_PATH):
        return namespace[: -len(ENTITY_PATH)]
    found = []
    rdf_type = pyoxigraph.NamedNode(_RDF_TYPE)
    for type_, prefix in ENTITY_PREFIXES.items():
        marker = f"{ENTITY_PATH}{prefix}/"
        quads = store.quads_for_pattern(None, rdf_type, pyoxigraph.NamedNode(str(KG[type_])),
                                        pyoxigraph.DefaultGraph())
        for quad in quads:
            head, sep, tail = quad.subject.value.rpartition(marker)
            if sep and head and tail and "/" not in tail:
                found.append(head)
                break
    return min(found) if found else None


def _rdf_format(path: Path) -> tuple[Any, bool]:
    import pyoxigraph

    from .export import format_for_path

    graph_format = format_for_path(path)  # InputError for an unknown extension
    entry = _FORMATS.get(path.suffix.lower())
    if entry is None or not graph_format.is_rdf:
        raise InputError(f"{path}: {graph_format.name} files are written by kg but are not "
                         f"RDF and cannot be read back; use a Turtle file")
    return getattr(pyoxigraph.RdfFormat, entry[0]), entry[1]


def _load_files(store: Any, paths: Iterable[Path]) -> dict[str, str]:
    """Parse RDF files into ``store``'s default graph; the prefixes they bind."""
    import pyoxigraph

    prefixes: dict[str, str] = {}
    default = pyoxigraph.DefaultGraph()
    for path in paths:
        rdf_format, quads = _rdf_format(path)
        if not path.is_file():
            raise InputError(f"graph file not found: {path}")
        try:
            parser = pyoxigraph.parse(path=path, format=rdf_format,
                                      base_iri=path.resolve().as_uri())
            if quads:  # named graphs fold into the default graph, as load_graph does
                store.bulk_extend(pyoxigraph.Quad(q.subject, q.predicate, q.object, default)
                                  for q in parser)
            else:
                store.bulk_extend(parser)
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
        except (SyntaxError, ValueError) as exc:
            detail = " ".join(str(exc).split())[:300] or type(exc).__name__
            raise InputError(f"cannot parse {path} as RDF: {detail}") from exc
        for prefix, namespace in (getattr(parser, "prefixes", None) or {}).items():
            if prefix:
                prefixes.setdefault(prefix, namespace)
    return prefixes


def _count(store: Any) -> int:
    result = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    return int(next(iter(result))["n"].value)


def _fill(store: Any, source: GraphStore | Graph | str | Path | Iterable[str | Path]
          ) -> dict[str, str]:
    from rdflib import Graph

    if isinstance(source, GraphStore):
        store.bulk_extend(source.store.quads_for_pattern(None, None, None, _default_graph()))
        return dict(source.prefixes)
    if isinstance(source, Graph):
        store.bulk_extend(_quads_of(source))
        return {prefix: str(ns) for prefix, ns in source.namespaces() if prefix}
    paths = [Path(source)] if isinstance(source, (str, os.PathLike)) else [Path(p) for p in source]
    if not paths:
        raise InputError("no graph file given")
    return _load_files(store, paths)


def _finish(store: Any, prefixes: dict[str, str], path: Path | None) -> GraphStore:
    return GraphStore(store, prefixes, _count(store), _base_iri(store, prefixes), path)


def memory_store(source: Graph | str | Path | Iterable[str | Path]) -> GraphStore:
    """An in-memory store holding an rdflib Graph, or the union of RDF files (format from
    the extension). Raises InputError for a missing or malformed file."""
    import pyoxigraph

    store = pyoxigraph.Store()
    return _finish(store, _fill(store, source), None)


def write_store(graph: GraphStore | Graph | str | Path | Iterable[str | Path],
                out_dir: str | Path) -> Path:
    """Write a persistent store of ``graph`` (an rdflib Graph, a GraphStore, or RDF file
    paths) as
    ``out_dir/store`` and return its path.

    The store is built in a temporary folder next to it and renamed into place, so an existing
    store is replaced whole; OutputError when the folder cannot be written, InputError for an
    unreadable input file.
    """
    import pyoxigraph

    folder = Path(out_dir)
    target = folder / STORE_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder, prefix=f".{STORE_DIR}.", suffix=".tmp"))
    except OSError as exc:
        raise OutputError(f"cannot write a store in {folder}: {exc.strerror or exc}") from exc
    try:
        store = pyoxigraph.Store(str(staging / DB_DIR))
        result = _finish(store, _fill(store, graph), target)
        store.flush()
        store.optimize()
        del store
        meta = {"format": STORE_FORMAT, "triples": result.triples, "prefixes": result.prefixes,
                "base_iri": result.base_iri}
        (staging / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n",
                                         encoding="utf-8")
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=folder, prefix=f".{STORE_DIR}.", suffix=".old"))
            os.replace(target, old / STORE_DIR)
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot write the store {target}: {exc.strerror or exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def store_folder(path: str | Path) -> Path | None:
    """The store folder ``path`` names (a store, or an output folder holding ``store/``), or
    None when it names neither."""
    candidate = Path(path)
    for folder in (candidate, candidate / STORE_DIR):
        if (folder / META_FILE).is_file():
            return folder
    return None


def open_store(path: str | Path) -> GraphStore:
    """Open a store written by :func:`write_store` read-only: ``path`` is the store folder or
    the output folder holding it. Raises InputError when there is no readable store there."""
    import pyoxigraph

    folder = store_folder(path)
    if folder is None:
        raise InputError(f"no kg store in {path} (write one with kg build --store)")
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        if meta.get("format") != STORE_FORMAT:
            raise InputError(f"{folder}: store format {meta.get('format')!r} is not supported "
                             f"(expected {STORE_FORMAT}); rebuild it")
        store = pyoxigraph.Store.read_only(str(folder / DB_DIR))
    except (OSError, ValueError, AttributeError) as exc:
        raise InputError(f"cannot open the store {folder}: {' '.join(str(exc).split())}") from exc
    return GraphStore(store, dict(meta.get("prefixes") or {}), int(meta.get("triples") or 0),
                      meta.get("base_iri"), folder)


def open_graph(paths: str | Path | Iterable[str | Path]) -> GraphStore:
    """What the CLI takes as GRAPH, as a store: one store folder (or output folder holding
    one), opened read-only; else RDF files, parsed into memory by Oxigraph."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if len(items) == 1 and Path(items[0]).is_dir():
        return open_store(items[0])
    folders = [p for p in items if Path(p).is_dir()]
    if folders:
        raise InputError(f"{folders[0]} is a folder: give a store alone, or RDF files")
    return memory_store(items)
