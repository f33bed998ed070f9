"""Write graphs to files atomically, and read them back; one registry of export formats.

A format is a name, the file extensions that imply it, a media type, a serializer that must
give the same bytes for the same graph, and the rdflib parser that reads it back (None for
the two formats that are not RDF). Add a format by adding a ``GraphFormat`` to ``FORMATS``;
the tests loop over every entry.

- ``turtle`` (default), ``nt``, ``json-ld``, ``rdf-xml``: the graph as it is.
- ``trig``, ``nquads``: the graph split into per-article named graphs by
  :func:`kg.graph.dataset_from_graph` (provenance as named graphs); the union of all graphs
  is the graph, which is what :func:`load_graph` returns for these files.
- ``graphml``: entities as nodes (``label``, ``type``, ``iri``, ``aliases``), relations as
  edges (``relation``, ``confidence``, ``roles``, ``articles``, ``rules``, ``evidence``), for
  Gephi, yEd or Cytoscape; built with networkx from :func:`kg.viz.to_networkx`.
- ``csv``: the facts table, one row per relation between two entities (see ``CSV_COLUMNS``).

Turtle and N-Triples are written by Oxigraph's serializer: :func:`write_graph` converts the
rdflib graph and sorts the statements (the bytes depend on the graph only). Large graphs:
:func:`export_graph` (what ``kg export`` runs) goes through Oxigraph alone when the input is a
store or more than ``LARGE_INPUT_BYTES`` of files (or when asked to), streaming from file to
file, about 30 times faster than rdflib parsing and writing at a million triples. Those files
hold the same graph but not the same bytes as :func:`write_graph`'s: statements in input (or
store) order, numbers from a store in canonical form (0.7 for 0.700).
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.plugins.serializers.trig import TrigSerializer
from rdflib.term import Node

from .errors import ConfigError, InputError
from .files import write_atomic
from .graph import dataset_from_graph, literal_text
from .vocab import bind_namespaces, detect_base_iri

if TYPE_CHECKING:
    from .store import GraphStore

_MAX_DETAIL = 300  # characters of a parser message kept in an error line
LARGE_INPUT_BYTES = 16 * 2**20  # input size from which kg export uses Oxigraph (~100k triples)
ENGINES = ("auto", "rdflib", "oxigraph")
_OXIGRAPH_FORMATS = {"turtle": "TURTLE", "nt": "N_TRIPLES"}  # formats Oxigraph writes for kg
# Several values in one CSV cell or GraphML attribute (roles, article ids, sentences).
VALUE_SEPARATOR = " | "
CSV_COLUMNS = ("subject", "subject_label", "relation", "object", "object_label", "confidence",
               "roles", "article_ids", "rules", "evidence")


@contextmanager
def quiet_rdflib() -> Iterator[None]:
    """Silence the deprecation warnings rdflib 7 raises from inside its own Dataset, TriG and
    JSON-LD code (it calls the APIs it deprecated); not something kg's users can act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"(ConjunctiveGraph|Dataset\.\w+) is deprecated",
                                DeprecationWarning)
        yield


def _sorted_lines(data: bytes) -> bytes:
    # One statement a line, so sorting the lines makes the file independent of store order.
    return b"".join(sorted(line for line in data.splitlines(keepends=True) if line.strip()))


def _oxigraph_serialize(graph: Graph, rdf_format: str) -> bytes | None:
    """``graph`` written by Oxigraph's serializer, statements sorted (so the bytes depend on the
    graph only, not on store order), with the graph's prefixes; None when a term is one Oxigraph
    refuses (then rdflib writes it). About 3 times faster than rdflib's Turtle writer on a
    build's graph, the serial step that most limited ``--workers``."""
    import pyoxigraph

    cache: dict[Node, Any] = {}

    def term(node: Node) -> Any:
        found = cache.get(node)
        if found is None:
            if isinstance(node, URIRef):
                found = pyoxigraph.NamedNode(str(node))
            elif isinstance(node, Literal):
                if node.language:
                    found = pyoxigraph.Literal(str(node), language=node.language)
                elif node.datatype is not None:
                    found = pyoxigraph.Literal(str(node), datatype=pyoxigraph.NamedNode(str(node.datatype)))
                else:
                    found = pyoxigraph.Literal(str(node))
            elif isinstance(node, BNode):
                found = pyoxigraph.BlankNode(str(node))
            else:  # a variable or formula: not RDF; rdflib's serializer reports it
                raise ValueError(f"not an RDF term: {node!r}")
            cache[node] = found
        return found

    try:
        triples = [pyoxigraph.Triple(term(s), term(p), term(o)) for s, p, o in graph]
    except ValueError:
        return None
    triples.sort(key=str)  # N-Triples form: subjects together, then predicates
    prefixes = {prefix: str(ns) for prefix, ns in graph.namespaces() if prefix and prefix != "xml"}
    return pyoxigraph.serialize(triples, format=getattr(pyoxigraph.RdfFormat, rdf_format), prefixes=prefixes) or b""


def _serialize_turtle(graph: Graph) -> bytes:
    data = _oxigraph_serialize(graph, "TURTLE")
    return data if data is not None else graph.serialize(format="turtle", encoding="utf-8")


def _serialize_ntriples(graph: Graph) -> bytes:
    data = _oxigraph_serialize(graph, "N_TRIPLES")
    return _sorted_lines(data if data is not None else graph.serialize(format="nt", encoding="utf-8"))


def _term_key(term: Node) -> str:
    return term.n3()


class _OrderedGraph(Graph):
    """A view of a graph whose subjects, predicates and objects come out sorted, for rdflib's
    RDF/XML serializer, which writes in store (hash) order."""

    def subjects(self, predicate=None, object=None, unique=False):  # noqa: A002 - rdflib's name
        return iter(sorted(set(super().subjects(predicate, object)), key=_term_key))

    def predicate_objects(self, subject=None, unique=False):
        pairs = set(super().predicate_objects(subject))
        return iter(sorted(pairs, key=lambda pair: (_term_key(pair[0]), _term_key(pair[1]))))


def _serialize_rdfxml(graph: Graph) -> bytes:
    data = _OrderedGraph(store=graph.store, identifier=graph.identifier).serialize(
        format="xml", encoding="utf-8")
    # The namespace declarations come from a set; their order means nothing, so sort them.
    head, sep, body = data.partition(b"\n>\n")
    lines = head.split(b"\n")
    declarations = sorted(line for line in lines if line.startswith(b"   xmlns"))
    others = [line for line in lines if not line.startswith(b"   xmlns")]
    return b"\n".join(others + declarations) + sep + body


def _canonical_json(value: Any, ordered: bool = False) -> Any:
    # Arrays from rdflib follow its hash-ordered store; sort every one except "@list" values.
    if isinstance(value, dict):
        return {key: _canonical_json(item, key == "@list") for key, item in value.items()}
    if isinstance(value, list):
        items = [_canonical_json(item) for item in value]
        return items if ordered else sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
    return value


def _serialize_jsonld(graph: Graph) -> bytes:
    context = {prefix: str(ns) for prefix, ns in sorted(graph.namespaces()) if prefix}
    with quiet_rdflib():
        data = json.loads(graph.serialize(format="json-ld", context=context, encoding="utf-8"))
    text = json.dumps(_canonical_json(data), indent=2, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


class _StableTrigSerializer(TrigSerializer):
    """rdflib's TriG serializer with the graphs in a fixed order (default graph first, then
    named graphs by IRI) instead of the store's hash order."""

    def __init__(self, store: Dataset) -> None:
        super().__init__(store)
        unique = {context.identifier: context for context in self.contexts}
        default = self.default_context
        self.contexts = sorted(unique.values(),
                               key=lambda c: (c.identifier != default, str(c.identifier)))


def _serialize_trig(graph: Graph) -> bytes:
    stream = io.BytesIO()
    with quiet_rdflib():
        _StableTrigSerializer(dataset_from_graph(graph)).serialize(stream, encoding="utf-8")
    return stream.getvalue()


def _serialize_nquads(graph: Graph) -> bytes:
    with quiet_rdflib():
        data = dataset_from_graph(graph).serialize(format="nquads", encoding="utf-8")
    return _sorted_lines(data)


def _joined(values: Any) -> str:
    return VALUE_SEPARATOR.join(literal_text(str(v)) for v in values)


def _relation_rows(graph: Graph) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """(subject node record, object node record, edge record) per relation, in a stable order,
    with plain str/float values that GraphML and CSV can hold."""
    from .table import to_networkx

    drawn = to_networkx(graph)
    article_ids = {key: record["id"] or key for key, record in drawn.graph["articles"].items()}
    nodes = {node: _node_record(data) for node, data in drawn.nodes(data=True)}
    for subject, obj, data in drawn.edges(data=True):
        evidence = data["evidence"]
        edge: dict[str, Any] = {
            "relation": literal_text(data["relation"]),
            "predicate": literal_text(data["predicate"]),
            "roles": _joined(data["roles"]),
            "article_ids": _joined(article_ids.get(a, a) for a in data["articles"]),
            "rules": _joined(e["rule"] for e in evidence),
            "evidence": _joined(e["sentence"] for e in evidence),
        }
        if data["confidence"] is not None:
            edge["confidence"] = float(data["confidence"])
        yield nodes[subject], nodes[obj], edge


def _node_record(data: dict[str, Any]) -> dict[str, Any]:
    return {"iri": literal_text(data["iri"]), "label": literal_text(data["label"]),
            "type": data["type"], "aliases": _joined(data["aliases"])}


def _serialize_graphml(graph: Graph) -> bytes:
    out = nx.MultiDiGraph()
    for subject, obj, edge in _relation_rows(graph):
        for node in (subject, obj):
            out.add_node(node["iri"], **node)
        out.add_edge(subject["iri"], obj["iri"], key=edge["relation"], **edge)
    stream = io.BytesIO()
    nx.write_graphml_xml(out, stream, encoding="utf-8")
    # XML parsers turn a raw carriage return into a line feed; a character reference survives.
    return stream.getvalue().replace(b"\r", b"&#13;")


def _serialize_csv(graph: Graph) -> bytes:
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for subject, obj, edge in _relation_rows(graph):
        writer.writerow({
            "subject": subject["iri"], "subject_label": subject["label"],
            "object": obj["iri"], "object_label": obj["label"],
            **{key: edge.get(key, "") for key in CSV_COLUMNS if key in edge},
        })
    return stream.getvalue().encode("utf-8")


@dataclass(frozen=True)
class GraphFormat:
    """A file format kg writes; RDF formats are read back as well."""

    name: str
    extensions: tuple[str, ...]  # lower case, with the dot; the first one is the usual one
    media_type: str
    rdflib_parser: str | None  # None: not RDF, written only
    serialize: Callable[[Graph], bytes]
    quads: bool = False  # RDF with named graphs (read into a Dataset)

    @property
    def is_rdf(self) -> bool:
        """Whether files of this format are RDF that :func:`load_graph` reads."""
        return self.rdflib_parser is not None


FORMATS: dict[str, GraphFormat] = {
    f.name: f
    for f in (
        GraphFormat("turtle", (".ttl",), "text/turtle", "turtle", _serialize_turtle),
        GraphFormat("nt", (".nt",), "application/n-triples", "nt", _serialize_ntriples),
        GraphFormat(
            "json-ld", (".jsonld", ".json"), "application/ld+json", "json-ld", _serialize_jsonld
        ),
        GraphFormat("rdf-xml", (".rdf",), "application/rdf+xml", "xml", _serialize_rdfxml),
        GraphFormat("trig", (".trig",), "application/trig", "trig", _serialize_trig, quads=True),
        GraphFormat("nquads", (".nq",), "application/n-quads", "nquads", _serialize_nquads,
                    quads=True),
        GraphFormat("graphml", (".graphml",), "application/graphml+xml", None,
                    _serialize_graphml),
        GraphFormat("csv", (".csv",), "text/csv", None, _serialize_csv),
    )
}
_ALIASES = {"ttl": "turtle", "ntriples": "nt", "n-triples": "nt", "jsonld": "json-ld",
            "nq": "nquads", "n-quads": "nquads", "xml": "rdf-xml", "rdfxml": "rdf-xml",
            "rdf/xml": "rdf-xml"}


def get_format(name: str) -> GraphFormat:
    """The registered format called ``name`` (or an alias such as "ttl"); ConfigError if none."""
    key = name.strip().lower()
    found = FORMATS.get(_ALIASES.get(key, key))
    if found is None:
        raise ConfigError(f"unknown graph format {name!r} (known: {', '.join(FORMATS)})")
    return found


def graph_file_name(fmt: str, stem: str = "graph") -> str:
    """The usual file name for format ``fmt``: ``graph.ttl``, ``graph.trig``, ``graph.csv`` ..."""
    return stem + get_format(fmt).extensions[0]


def format_for_path(path: str | Path) -> GraphFormat:
    """The format implied by the extension of ``path``; InputError if no format claims it."""
    suffix = Path(path).suffix.lower()
    for graph_format in FORMATS.values():
        if suffix in graph_format.extensions:
            return graph_format
    known = ", ".join(ext for f in FORMATS.values() for ext in f.extensions)
    raise InputError(f"cannot tell the RDF format of {path} from its extension (known: {known})")


def write_graph(graph: Graph, path: str | Path, fmt: str = "turtle") -> Path:
    """Serialize ``graph`` in format ``fmt`` (a FORMATS key or alias) to ``path``, atomically.

    The whole document is serialized before the file is touched, so a serializer error leaves
    any existing file as it was. Returns the path written.
    """
    graph_format = get_format(fmt)
    return write_atomic(path, graph_format.serialize(graph))


def load_graph(path: str | Path, fmt: str | None = None) -> Graph:
    """Read an RDF file; the format is ``fmt`` or else guessed from the extension.

    TriG and N-Quads files give the union of their graphs. When the base IRI a kg graph was
    built with can be told (:func:`kg.vocab.detect_base_iri`), its ``ent:``, ``person:``,
    ``organization:`` and ``place:`` prefixes are bound. Raises InputError with one line when the file is missing, unreadable or does not parse.
    """
    source = Path(path)
    graph_format = get_format(fmt) if fmt is not None else format_for_path(source)
    if graph_format.rdflib_parser is None:
        raise InputError(f"{source}: {graph_format.name} files are written by kg but are not "
                         f"RDF and cannot be read back; use a Turtle file")
    if not source.is_file():
        raise InputError(f"graph file not found: {source}")
    graph = bind_namespaces(Graph(bind_namespaces="core"))
    try:
        with quiet_rdflib():
            if graph_format.quads:
                dataset = Dataset()
                dataset.parse(source, format=graph_format.rdflib_parser)
                for prefix, namespace in dataset.namespaces():
                    graph.bind(prefix, namespace, override=False)
                graph.addN((s, p, o, graph) for s, p, o, _ in dataset.quads())
            else:
                graph.parse(source, format=graph_format.rdflib_parser)
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror or exc}") from exc
    except Exception as exc:  # rdflib parsers raise many unrelated types on bad input
        detail = " ".join(str(exc).split())[:_MAX_DETAIL] or type(exc).__name__
        raise InputError(f"cannot parse {source} as {graph_format.name}: {detail}") from exc
    base_iri = detect_base_iri(graph)
    return bind_namespaces(graph, base_iri) if base_iri else graph


def load_graphs(paths: list[str | Path] | tuple[str | Path, ...]) -> Graph:
    """The union of the RDF files at ``paths`` (formats from the extensions), with the
    prefixes of each; InputError as for :func:`load_graph`, or when ``paths`` is empty."""
    if not paths:
        raise InputError("no graph file given")
    graphs = [load_graph(path) for path in paths]
    union = graphs[0]
    for other in graphs[1:]:
        for prefix, namespace in other.namespaces():
            union.bind(prefix, namespace, override=False)
        union.addN((s, p, o, union) for s, p, o in other)
    return union


def _serialize_store(graph: GraphStore, rdf_format: Any) -> bytes:
    import pyoxigraph

    from .vocab import namespaces

    prefixes = dict(graph.prefixes)
    prefixes.update({p: str(ns) for p, ns in namespaces(graph.base_iri).items()})
    return graph.store.dump(format=rdf_format, from_graph=pyoxigraph.DefaultGraph(),
                            prefixes=prefixes)


def _serialize_file(source: Path, rdf_format: Any) -> tuple[bytes, int]:
    """One RDF file re-serialized by Oxigraph as it streams (literals as written)."""
    import pyoxigraph

    from .store import _rdf_format
    from .vocab import PREFIXES, namespaces

    in_format, _ = _rdf_format(source)
    if not source.is_file():
        raise InputError(f"graph file not found: {source}")
    count = 0
    try:
        parser = pyoxigraph.parse(path=source, format=in_format,
                                  base_iri=source.resolve().as_uri())
        first = next(parser, None)  # the header's prefixes are known from here on
        prefixes = {p: ns for p, ns in (parser.prefixes or {}).items() if p}
        prefixes.update(PREFIXES)
        entity = prefixes.get("ent", "")
        if entity.endswith("entity/"):
            prefixes.update({p: str(ns) for p, ns in namespaces(entity[:-len("entity/")]).items()})

        def triples() -> Iterator[Any]:
            nonlocal count
            for quad in chain([first] if first is not None else [], parser):
                count += 1
                yield pyoxigraph.Triple(quad.subject, quad.predicate, quad.object)

        data = pyoxigraph.serialize(triples(), format=rdf_format, prefixes=prefixes)
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror or exc}") from exc
    except (SyntaxError, ValueError) as exc:
        detail = " ".join(str(exc).split())[:_MAX_DETAIL] or type(exc).__name__
        raise InputError(f"cannot parse {source} as RDF: {detail}") from exc
    return data or b"", count


def export_store(graph: GraphStore, path: str | Path, fmt: str = "turtle") -> Path:
    """Write a store's graph as Turtle or N-Triples with Oxigraph's serializer, atomically
    (ConfigError for another format: convert with ``graph.to_graph()`` and
    :func:`write_graph`)."""
    import pyoxigraph

    name = get_format(fmt).name
    if name not in _OXIGRAPH_FORMATS:
        raise ConfigError(f"Oxigraph writes {', '.join(_OXIGRAPH_FORMATS)}, not {name}")
    rdf_format = getattr(pyoxigraph.RdfFormat, _OXIGRAPH_FORMATS[name])
    return write_atomic(path, _serialize_store(graph, rdf_format))


def _input_bytes(sources: list[Path]) -> int:
    total = 0
    for source in sources:
        try:
            total += source.stat().st_size
        except OSError:
            pass
    return total


def export_graph(sources: list[str | Path], path: str | Path, fmt: str = "turtle", *,
                 engine: str = "auto") -> tuple[Path, int]:
    """``kg export``: the union of RDF files, or a store folder (or output folder holding
    one), written to ``path`` in format ``fmt``; returns (path, triples written).

    ``engine`` "oxigraph" writes Turtle and N-Triples with Oxigraph's serializer (files
    stream through it), "rdflib" with :func:`write_graph`; "auto" picks Oxigraph for a store
    or more than LARGE_INPUT_BYTES of input. Other formats always go through rdflib.
    """
    from .store import open_graph, store_folder

    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    graph_format = get_format(fmt)
    paths = [Path(p) for p in sources]
    if not paths:
        raise InputError("no graph file given")
    is_store = len(paths) == 1 and store_folder(paths[0]) is not None
    oxigraph = graph_format.name in _OXIGRAPH_FORMATS and (
        engine == "oxigraph" or (engine == "auto" and (
            is_store or _input_bytes(paths) > LARGE_INPUT_BYTES)))
    if is_store:
        graph = open_graph(paths)
        if oxigraph:
            return export_store(graph, path, graph_format.name), len(graph)
        rdflib_graph = graph.to_graph()
        return write_graph(rdflib_graph, path, graph_format.name), len(rdflib_graph)
    if oxigraph:
        import pyoxigraph

        rdf_format = getattr(pyoxigraph.RdfFormat, _OXIGRAPH_FORMATS[graph_format.name])
        if len(paths) == 1:
            data, count = _serialize_file(paths[0], rdf_format)
            return write_atomic(path, data), count
        graph = open_graph(paths)  # several files: their union, without duplicates
        return write_atomic(path, _serialize_store(graph, rdf_format)), len(graph)
    rdflib_graph = load_graphs(paths)
    return write_graph(rdflib_graph, path, graph_format.name), len(rdflib_graph)
