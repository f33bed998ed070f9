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
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
from rdflib import Dataset, Graph
from rdflib.plugins.serializers.trig import TrigSerializer
from rdflib.term import Node

from .errors import ConfigError, InputError
from .files import write_atomic
from .graph import dataset_from_graph, literal_text
from .vocab import bind_namespaces, detect_base_iri

_MAX_DETAIL = 300  # characters of a parser message kept in an error line
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


def _serialize_turtle(graph: Graph) -> bytes:
    return graph.serialize(format="turtle", encoding="utf-8")


def _serialize_ntriples(graph: Graph) -> bytes:
    return _sorted_lines(graph.serialize(format="nt", encoding="utf-8"))


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
    from .viz import to_networkx  # networkx and the folding of facts into edges live there

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
