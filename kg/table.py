"""Reading an RDF graph as a table of facts: entities as nodes, facts as edges (networkx).

kg's own model is read as entities (typed ``kg:Person``, ``kg:Organization``, ``kg:Place``)
joined by the direct relation triples; each reified ``kg:Fact`` (or any ``rdf:Statement``) is
folded into the edge it describes, with its confidence, roles, evidence sentences and source
articles. Evidence and article resources are folded the same way. Any other RDF is read too:
every triple between two resources becomes an edge labelled with the predicate's local name,
literals are kept for tooltips, and resources of no known type are of type "Other".

Both the HTML page (:mod:`kg.viz`) and the GraphML/CSV exports (:mod:`kg.export`) read graphs
through :func:`to_networkx`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, RDFS, SKOS
from rdflib.term import Node

from .types import ENTITY_TYPES, RELATIONS
from .vocab import KG, SCHEMA

SCHEMA_HTTP = Namespace("http://schema.org/")  # the http:// spelling some graphs use (open)

OTHER = "Other"
NODE_TYPES = (*ENTITY_TYPES, OTHER)

LABEL_PREDICATES = (RDFS.label, SKOS.prefLabel, SCHEMA.name, SCHEMA_HTTP.name, FOAF.name,
                    DCTERMS.title)
ALIAS_PREDICATES = (SKOS.altLabel,)
FOLDED_CLASSES = (KG.Fact, RDF.Statement, KG.Evidence, KG.Article)
MAX_LABEL_CHARS = 40
MAX_LITERAL_CHARS = 500
MAX_LITERALS = 20


@dataclass
class _Article:
    key: str
    iri: str
    identifier: str = ""
    title: str = ""
    url: str = ""
    issued: str = ""
    language: str = ""

    def record(self) -> dict[str, str]:
        return {"iri": self.iri, "id": self.identifier, "title": self.title, "url": self.url,
                "issued": self.issued, "lang": self.language}


@dataclass
class _EdgeInfo:
    """Everything known about one drawn edge, merged over its direct triple and facts."""

    relation: str
    predicate: str
    symmetric: bool
    confidence: float | None = None
    roles: set[str] = field(default_factory=set)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    articles: set[str] = field(default_factory=set)
    literals: list[tuple[str, str]] = field(default_factory=list)
    facts: int = 0


def local_name(term: Node) -> str:
    """The last segment of an IRI (after ``#``, ``/`` or ``:``); a blank node's own id."""
    text = str(term)
    if isinstance(term, BNode):
        return f"_:{text}"
    for sep in ("#", "/", ":"):
        head, found, tail = text.rstrip(sep).rpartition(sep)
        if found and tail:
            return tail
    return text


def to_networkx(graph: Graph) -> nx.MultiDiGraph:
    """Turn an RDF graph into a networkx multigraph ready to draw.

    Nodes are keyed by their rdflib term and carry ``label``, ``type`` (one of
    Person/Organization/Place/Other), ``iri``, ``aliases``, ``classes``, ``literals`` and
    ``articles``; edges are keyed by relation name and carry ``relation``, ``predicate``,
    ``symmetric``, ``confidence`` (None when unknown), ``roles``, ``evidence``, ``articles``
    and ``literals``. The graph attribute ``articles`` maps article keys to their records.
    """
    index = _Index(graph)
    folded = _folded_nodes(index)
    articles = _collect_articles(index)
    out = nx.MultiDiGraph(articles={key: art.record() for key, art in sorted(articles.items())})
    edges: dict[tuple[Node, str, Node], _EdgeInfo] = {}
    for subject in sorted(index.subjects() - folded, key=_sort_key):
        if not isinstance(subject, Literal):
            _add_node(out, index, subject)
    for s, p, o in index.triples():
        if s in folded or isinstance(o, Literal) or p == RDF.type or o in folded:
            continue
        _merge_edge(edges, s, p, o)
    for fact in sorted(folded, key=_sort_key):
        _fold_fact(index, fact, edges, articles)
    for (s, key, o), info in sorted(edges.items(), key=lambda item: _edge_sort_key(item[0])):
        for end in (s, o):
            if end not in out:
                _add_node(out, index, end)
        out.add_edge(s, o, key=key, relation=info.relation, predicate=info.predicate,
                     symmetric=info.symmetric, confidence=info.confidence,
                     roles=sorted(info.roles), evidence=info.evidence,
                     articles=sorted(info.articles), literals=info.literals, facts=info.facts)
    for node in out.nodes:
        found: set[str] = set()
        for _, _, data in out.in_edges(node, data=True):
            found.update(data["articles"])
        for _, _, data in out.out_edges(node, data=True):
            found.update(data["articles"])
        out.nodes[node]["articles"] = sorted(found)
    return out


def _sort_key(term: Node) -> tuple[int, str]:
    return (isinstance(term, BNode), str(term))


def _edge_sort_key(key: tuple[Node, str, Node]) -> tuple[tuple[int, str], str, tuple[int, str]]:
    return (_sort_key(key[0]), key[1], _sort_key(key[2]))


class _Index:
    """Subject -> predicate -> objects, built in one pass (rdflib look-ups are slow in bulk)."""

    def __init__(self, graph: Graph) -> None:
        self._by_subject: dict[Node, dict[Node, list[Node]]] = defaultdict(lambda: defaultdict(list))
        self._by_predicate: dict[Node, list[tuple[Node, Node]]] = defaultdict(list)
        for s, p, o in graph:
            self._by_subject[s][p].append(o)
            self._by_predicate[p].append((s, o))

    def subjects(self) -> set[Node]:
        return set(self._by_subject)

    def subjects_of_type(self, cls: URIRef) -> set[Node]:
        return {s for s, o in self._by_predicate.get(RDF.type, ()) if o == cls}

    def pairs(self, predicate: URIRef) -> list[tuple[Node, Node]]:
        return self._by_predicate.get(predicate, [])

    def objects(self, subject: Node, predicate: Node) -> list[Node]:
        props = self._by_subject.get(subject)
        return props.get(predicate, []) if props else []

    def value(self, subject: Node, predicate: Node) -> Node | None:
        """One object, the same one on every run (the least in sort order)."""
        values = self.objects(subject, predicate)
        return min(values, key=_sort_key) if values else None

    def triples(self) -> Iterator[tuple[Node, Node, Node]]:
        for s, props in self._by_subject.items():
            for p, values in props.items():
                for o in values:
                    yield s, p, o

    def predicate_objects(self, subject: Node) -> Iterator[tuple[Node, Node]]:
        for p, values in self._by_subject.get(subject, {}).items():
            for o in values:
                yield p, o


def _folded_nodes(index: _Index) -> set[Node]:
    """Resources shown inside tooltips rather than as nodes: facts, evidence, articles."""
    folded: set[Node] = set()
    for cls in FOLDED_CLASSES:
        folded.update(index.subjects_of_type(cls))
    # Any reification (rdf:subject/predicate/object) between two resources folds into its edge;
    # one whose object is a literal, or that lacks a part, cannot and is drawn as a node.
    for statement in {s for s, _ in index.pairs(RDF.subject)}:
        parts = [index.value(statement, p) for p in (RDF.subject, RDF.predicate, RDF.object)]
        if any(part is None for part in parts) or isinstance(parts[0], Literal) or isinstance(
                parts[2], Literal):
            folded.discard(statement)
        else:
            folded.add(statement)
    return folded


def _text(index: _Index, subject: Node, predicate: URIRef) -> str:
    values = sorted(str(v) for v in index.objects(subject, predicate) if isinstance(v, Literal))
    return values[0] if values else ""


def _collect_articles(index: _Index) -> dict[str, _Article]:
    candidates = index.subjects_of_type(KG.Article)
    for predicate in (PROV.wasDerivedFrom, DCTERMS.source):
        candidates.update(o for _, o in index.pairs(predicate) if not isinstance(o, Literal))
    found: dict[str, _Article] = {}
    for node in candidates:
        urls = sorted(str(v) for p in (SCHEMA.url, SCHEMA_HTTP.url) for v in index.objects(node, p))
        found[str(node)] = _Article(
            key=str(node), iri=str(node), identifier=_text(index, node, DCTERMS.identifier),
            title=_text(index, node, DCTERMS.title), url=urls[0] if urls else "",
            issued=_text(index, node, DCTERMS.issued), language=_text(index, node, DCTERMS.language))
    return found


def _best_label(index: _Index, node: Node) -> str:
    for predicate in LABEL_PREDICATES:
        labels = [v for v in index.objects(node, predicate) if isinstance(v, Literal) and str(v).strip()]
        if labels:
            # Prefer a label without language, then English, then the first in order.
            labels.sort(key=lambda v: (bool(v.language), v.language != "en", str(v)))
            return str(labels[0])
    return local_name(node)


def _node_type(index: _Index, node: Node) -> tuple[str, list[str]]:
    classes = [local_name(c) for c in sorted(index.objects(node, RDF.type), key=_sort_key)]
    for kind in ENTITY_TYPES:
        if kind in classes or (kind == "Organization" and "Organisation" in classes):
            return kind, classes
    return OTHER, classes


def _literals(index: _Index, node: Node) -> list[tuple[str, str]]:
    skip = {RDFS.label, *ALIAS_PREDICATES}
    found = sorted((local_name(p), _clip(str(o), MAX_LITERAL_CHARS))
                   for p, o in index.predicate_objects(node)
                   if isinstance(o, Literal) and p not in skip)
    return found[:MAX_LITERALS]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _add_node(out: nx.MultiDiGraph, index: _Index, node: Node) -> None:
    kind, classes = _node_type(index, node)
    aliases = sorted({str(v) for p in ALIAS_PREDICATES for v in index.objects(node, p)})
    out.add_node(node, label=_best_label(index, node), type=kind, iri=str(node),
                 aliases=aliases, classes=classes, literals=_literals(index, node), articles=[])


def _relation_of(predicate: Node) -> tuple[str, bool]:
    name = local_name(predicate)
    if str(predicate).startswith(str(KG)) and name in RELATIONS:
        return name, RELATIONS[name][2]
    return name, False


def _edge_key(s: Node, relation: str, symmetric: bool, o: Node) -> tuple[Node, str, Node]:
    if symmetric and _sort_key(o) < _sort_key(s):
        return (o, relation, s)
    return (s, relation, o)


def _merge_edge(edges: dict[tuple[Node, str, Node], _EdgeInfo], s: Node, p: Node,
                o: Node) -> _EdgeInfo:
    relation, symmetric = _relation_of(p)
    key = _edge_key(s, relation, symmetric, o)
    if key not in edges:
        edges[key] = _EdgeInfo(relation=relation, predicate=str(p), symmetric=symmetric)
    return edges[key]


def _number(value: Node | None) -> float | None:
    if isinstance(value, Literal):
        try:
            number = float(value.toPython())
        except (TypeError, ValueError):
            return None
        return number if math.isfinite(number) else None
    return None


def _offset(value: Node | None) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None


FACT_PREDICATES = frozenset({RDF.type, RDF.subject, RDF.predicate, RDF.object, KG.confidence,
                             KG.role, PROV.wasDerivedFrom, KG.evidence})


def _fold_fact(index: _Index, fact: Node, edges: dict[tuple[Node, str, Node], _EdgeInfo],
               articles: dict[str, _Article]) -> None:
    s, p, o = (index.value(fact, q) for q in (RDF.subject, RDF.predicate, RDF.object))
    if s is None or p is None or o is None:
        return  # an evidence or article resource, folded into its fact
    info = _merge_edge(edges, s, p, o)
    info.facts += 1
    confidence = _number(index.value(fact, KG.confidence))
    if confidence is not None:
        info.confidence = confidence if info.confidence is None else max(info.confidence, confidence)
    info.roles.update(str(r) for r in index.objects(fact, KG.role))
    info.articles.update(str(a) for a in index.objects(fact, PROV.wasDerivedFrom) if str(a) in articles)
    for evidence in sorted(index.objects(fact, KG.evidence), key=_sort_key):
        sentence = index.value(evidence, KG.sentence)
        source = index.value(evidence, DCTERMS.source)
        article = str(source) if source is not None and str(source) in articles else None
        info.evidence.append({
            "sentence": _clip(str(sentence), 2000) if sentence is not None else "",
            "lang": (sentence.language or "") if isinstance(sentence, Literal) else "",
            "rule": _text(index, evidence, KG.rule),
            "confidence": _number(index.value(evidence, KG.confidence)),
            "article": article,
            "start": _offset(index.value(evidence, KG.startOffset)),
            "end": _offset(index.value(evidence, KG.endOffset)),
        })
        if article:
            info.articles.add(article)
    for q, v in sorted(index.predicate_objects(fact), key=lambda qv: (str(qv[0]), str(qv[1]))):
        if q not in FACT_PREDICATES and isinstance(v, Literal) and len(info.literals) < MAX_LITERALS:
            info.literals.append((local_name(q), _clip(str(v), MAX_LITERAL_CHARS)))
