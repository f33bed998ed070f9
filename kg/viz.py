"""Draw an RDF graph as one self-contained, offline HTML page (rdflib -> networkx -> pyvis).

kg's own model is drawn as entities (typed ``kg:Person``, ``kg:Organization``, ``kg:Place``)
joined by the direct relation triples; each reified ``kg:Fact`` (or any ``rdf:Statement``) is
folded into the edge it describes, with its confidence, roles, evidence sentences and source
articles, and is not drawn as a node of its own. Evidence and article resources are folded
the same way. Any other Turtle is drawn too: every triple between two resources becomes an
edge labelled with the predicate's local name, literals go into the tooltips and resources of
no known type are of type "Other".

pyvis builds the node and edge records and the vis-network options; the page itself is kg's
own (``kg/viz_assets/``): vis-network's script and stylesheet are inlined from the copy that
ships inside the pyvis package, the data travels as JSON in a ``<script
type="application/json">`` block with ``<``, ``>`` and ``&`` escaped, every piece of text
reaches the page through ``textContent`` and a Content-Security-Policy allows only the page's
own scripts (by hash) and no network access at all.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, RDFS, SKOS
from rdflib.term import Node

from .files import write_atomic
from .errors import ConfigError, KgError
from .types import ENTITY_TYPES, RELATIONS

KG = Namespace("https://w3id.org/kg-news/ontology#")
SCHEMA = Namespace("https://schema.org/")
SCHEMA_HTTP = Namespace("http://schema.org/")

OTHER = "Other"
NODE_TYPES = (*ENTITY_TYPES, OTHER)

# Colour and shape per entity type (shapes whose label sits below them, so sizes compare).
TYPE_STYLE: dict[str, tuple[str, str]] = {
    "Person": ("#4c78a8", "dot"),
    "Organization": ("#f58518", "square"),
    "Place": ("#54a24b", "triangle"),
    OTHER: ("#8c8c8c", "diamond"),
}

# One colour per kg relation; other predicates take the next free colour of EXTRA_COLOURS.
RELATION_COLOURS: dict[str, str] = {
    "works_at": "#1f77b4",
    "worked_at": "#17becf",
    "founded": "#d62728",
    "hires_in": "#2ca02c",
    "located_in": "#8c564b",
    "parent_of": "#9467bd",
    "recruits_from": "#e377c2",
    "competes_with": "#ff7f0e",
    "based_in": "#bcbd22",
}
EXTRA_COLOURS = (
    "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354",
    "#756bb1", "#636363", "#ad494a", "#a55194", "#6b6ecf", "#b5cf6b", "#e7ba52", "#d6616b",
)

# Graphs with more nodes than this get the fast settings: straight edges, a coarser force
# approximation, fixed time steps, edges hidden while dragging and zooming.
BIG_GRAPH_NODES = 400
# Entities drawn when no max_nodes is given: a page of 2,000 opens in a few seconds, a page of a
# million-triple graph's 30,000 would not open at all.
DEFAULT_MAX_NODES = 2000
# Stabilisation iterations times nodes (within 80..1000 iterations): a few seconds in Chromium.
STABILISATION_BUDGET = 200_000

LABEL_PREDICATES = (RDFS.label, SKOS.prefLabel, SCHEMA.name, SCHEMA_HTTP.name, FOAF.name,
                    DCTERMS.title)
ALIAS_PREDICATES = (SKOS.altLabel,)
FOLDED_CLASSES = (KG.Fact, RDF.Statement, KG.Evidence, KG.Article)
MAX_LABEL_CHARS = 40
MAX_LITERAL_CHARS = 500
MAX_LITERALS = 20

ASSET_PACKAGE = "kg.viz_assets"


@dataclass(frozen=True)
class VizStats:
    """What a drawing holds: nodes and edges drawn, and those left out by ``max_nodes``."""

    nodes_drawn: int
    edges_drawn: int
    nodes_left_out: int = 0
    edges_left_out: int = 0


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


def write_html(graph: Graph, path: str | os.PathLike[str], *, title: str = "kg graph",
               max_nodes: int | None = DEFAULT_MAX_NODES) -> VizStats:
    """Write ``graph`` as one self-contained interactive HTML page at ``path``.

    The page works offline from disk: it loads nothing over the network (all scripts and
    styles are inline, a Content-Security-Policy forbids any fetch). When the graph has more
    than ``max_nodes`` entities (None: ``DEFAULT_MAX_NODES``) only the most connected ones (by
    degree) are drawn, with the edges among them, and the page says what was left out. The
    file is replaced atomically. Raises ConfigError for a bad ``max_nodes`` and InputError
    when ``path`` cannot be written.
    """
    if max_nodes is None:
        max_nodes = DEFAULT_MAX_NODES
    if isinstance(max_nodes, bool) or max_nodes < 1:
        raise ConfigError(f"max_nodes must be a positive number (got {max_nodes!r})")
    full = to_networkx(graph)
    drawn = _keep_most_connected(full, max_nodes)
    stats = VizStats(
        nodes_drawn=drawn.number_of_nodes(),
        edges_drawn=drawn.number_of_edges(),
        nodes_left_out=full.number_of_nodes() - drawn.number_of_nodes(),
        edges_left_out=full.number_of_edges() - drawn.number_of_edges(),
    )
    page = render_html(drawn, title=title, totals=full, stats=stats, max_nodes=max_nodes)
    write_atomic(Path(path), page)
    return stats


def render_html(drawn: nx.MultiDiGraph, *, title: str, totals: nx.MultiDiGraph | None = None,
                stats: VizStats | None = None, max_nodes: int | None = None) -> str:
    """The page for an already converted (and possibly cut down) graph, as a string."""
    totals = drawn if totals is None else totals
    if stats is None:
        stats = VizStats(drawn.number_of_nodes(), drawn.number_of_edges())
    data = _page_data(drawn, title=title, totals=totals, stats=stats, max_nodes=max_nodes)
    vis_js, vis_css = _vis_library()
    own_js = _inline_script(_asset("viz.js"))
    vis_js = _inline_script(vis_js)
    counts = data["summary"]["counts"]
    note = data["summary"]["leftOut"]
    replacements = {
        "csp": _content_security_policy([vis_js, own_js]),
        "title": html.escape(title, quote=True),
        "counts": html.escape(counts, quote=True),
        "left_out": html.escape(note, quote=True),
        "left_out_hidden": "" if note else " hidden",
        "vis_css": _inline_style(vis_css),
        "own_css": _inline_style(_asset("viz.css")),
        "data": json_for_script(data),
        "vis_js": vis_js,
        "own_js": own_js,
    }
    return re.sub(r"\{\{(\w+)\}\}", lambda m: replacements[m.group(1)], _asset("page.html"))


def json_for_script(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: ``<``, ``>`` and ``&`` are escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# --- RDF -> networkx -----------------------------------------------------------------------


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


def _keep_most_connected(full: nx.MultiDiGraph, max_nodes: int | None) -> nx.MultiDiGraph:
    if max_nodes is None or full.number_of_nodes() <= max_nodes:
        return full
    ranked = sorted(full.nodes, key=lambda n: (-full.degree(n), full.nodes[n]["label"], str(n)))
    kept = full.subgraph(ranked[:max_nodes]).copy()
    kept.graph.update(full.graph)
    return kept


# --- networkx -> pyvis -> page data ---------------------------------------------------------


def _degree_size(degree: int) -> float:
    return round(min(48.0, 9.0 + 6.0 * math.log2(1 + degree)), 1)


def _relation_colours(relations: Iterable[str]) -> dict[str, str]:
    colours = {}
    spare = iter(EXTRA_COLOURS * (1 + len(set(relations)) // len(EXTRA_COLOURS)))
    for name in sorted(set(relations), key=lambda r: (r not in RELATION_COLOURS, r)):
        colours[name] = RELATION_COLOURS.get(name) or next(spare)
    return colours


def _curves(drawn: nx.MultiDiGraph) -> Iterator[tuple[Node, Node, str, dict[str, Any] | None]]:
    """Each edge with the smoothing that keeps parallel edges between one pair apart."""
    seen: Counter[frozenset[Node]] = Counter()
    for s, o, key in drawn.edges(keys=True):
        pair = frozenset((s, o))
        index = seen[pair]
        seen[pair] += 1
        if index == 0:
            yield s, o, key, None
        else:
            yield s, o, key, {"enabled": True, "type": "curvedCW" if index % 2 else "curvedCCW",
                              "roundness": 0.2 * ((index + 1) // 2)}


def _page_data(drawn: nx.MultiDiGraph, *, title: str, totals: nx.MultiDiGraph, stats: VizStats,
               max_nodes: int | None) -> dict[str, Any]:
    from pyvis.network import Network  # heavy import (IPython, jinja2): only when drawing

    big = drawn.number_of_nodes() > BIG_GRAPH_NODES
    net = Network(directed=True, cdn_resources="in_line")
    ids = {node: index for index, node in enumerate(drawn.nodes)}
    for node, attrs in drawn.nodes(data=True):
        colour, shape = TYPE_STYLE[attrs["type"]]
        degree = drawn.degree(node)
        net.add_node(
            ids[node], label=_clip(attrs["label"], MAX_LABEL_CHARS), shape=shape,
            color={"background": colour, "border": "#ffffff",
                   "highlight": {"background": colour, "border": "#222222"},
                   "hover": {"background": colour, "border": "#222222"}},
            size=_degree_size(degree), name=attrs["label"], kind=attrs["type"], iri=attrs["iri"],
            aliases=attrs["aliases"], classes=attrs["classes"], literals=attrs["literals"],
            articles=attrs["articles"], degree=degree,
            # Loners take no part in the physics; the page lines them up below the rest.
            physics=degree > 0)
    relations = sorted({key for _, _, key in drawn.edges(keys=True)})
    colours = _relation_colours(relations)
    for index, (s, o, key, smooth) in enumerate(_curves(drawn)):
        attrs = drawn.edges[s, o, key]
        colour = colours[key]
        options: dict[str, Any] = {}
        if smooth is not None and not big:
            options["smooth"] = smooth
        confidence = attrs["confidence"]
        net.add_edge(
            ids[s], ids[o], id=index, label=attrs["relation"],
            arrows="" if attrs["symmetric"] else "to",
            color={"color": colour, "highlight": colour, "hover": colour, "opacity": 0.9},
            font={"color": colour},
            width=1.0 + 2.0 * confidence if confidence is not None else 1.5,
            relation=attrs["relation"], predicate=attrs["predicate"],
            symmetric=attrs["symmetric"], confidence=confidence, roles=attrs["roles"],
            evidence=attrs["evidence"], articles=attrs["articles"], literals=attrs["literals"],
            **options)
    _set_options(net, big, drawn.number_of_nodes())
    nodes, edges, _heading, _height, _width, options_json = net.get_network_data()

    type_counts = Counter(attrs["type"] for _, attrs in drawn.nodes(data=True))
    relation_counts = Counter(key for _, _, key in drawn.edges(keys=True))
    article_total = len(totals.graph.get("articles", {}))
    counts = (f"{_n(totals.number_of_nodes(), 'entity', 'entities')}, "
              f"{_n(totals.number_of_edges(), 'fact', 'facts')}, "
              f"{_n(article_total, 'article', 'articles')}")
    left_out = ""
    if stats.nodes_left_out or stats.edges_left_out:
        left_out = (f"Showing the {stats.nodes_drawn:,} most connected entities and the "
                    f"{stats.edges_drawn:,} facts among them (max_nodes={max_nodes}); left out: "
                    f"{_n(stats.nodes_left_out, 'entity', 'entities')} and "
                    f"{_n(stats.edges_left_out, 'fact', 'facts')}.")
    return {
        "title": title,
        "summary": {"counts": counts, "leftOut": left_out, "entities": totals.number_of_nodes(),
                    "facts": totals.number_of_edges(), "articles": article_total,
                    "nodesDrawn": stats.nodes_drawn, "edgesDrawn": stats.edges_drawn,
                    "nodesLeftOut": stats.nodes_left_out, "edgesLeftOut": stats.edges_left_out},
        "types": [{"name": kind, "colour": TYPE_STYLE[kind][0], "shape": TYPE_STYLE[kind][1],
                   "count": type_counts.get(kind, 0)} for kind in NODE_TYPES],
        "relations": [{"name": name, "colour": colours[name], "count": relation_counts[name],
                       "kg": name in RELATIONS} for name in relations],
        "articles": drawn.graph.get("articles", {}),
        "nodes": nodes,
        "edges": edges,
        "options": json.loads(options_json),
        "big": big,
    }


def _n(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def _stabilisation_iterations(node_count: int) -> int:
    """About the same total work for every size: one barnesHut step costs ~n log n."""
    return int(min(1000, max(80, STABILISATION_BUDGET // max(node_count, 1))))


def _set_options(net: Any, big: bool, node_count: int) -> None:
    """vis-network options: pyvis's physics settings plus kg's look and interaction."""
    # From a handful of nodes to BIG_GRAPH_NODES and beyond, repulsion grows and central
    # gravity weakens, so that bigger graphs spread out enough to leave room for the labels.
    spread = min(1.0, max(0.0, (node_count - 50) / (BIG_GRAPH_NODES - 50)))
    net.barnes_hut(gravity=-(4000 + 76000 * spread), central_gravity=0.4 - 0.35 * spread,
                   spring_length=110 + 140 * spread, spring_strength=0.04,
                   damping=0.3 + 0.05 * spread, overlap=0.1 * (1 - spread))
    physics = {key: value for key, value in vars(net.options.physics).items()
               if not key.startswith("use_")}
    physics["barnesHut"] = dict(vars(physics["barnesHut"]), theta=0.9 if big else 0.5)
    physics.update({
        "enabled": True,
        "solver": "barnesHut",
        "minVelocity": 1.0 if big else 0.75,
        "maxVelocity": 60,
        "timestep": 0.5,
        # Adaptive steps cost three force evaluations each: cheaper without for big graphs.
        "adaptiveTimestep": not big,
        "stabilization": {"enabled": True, "iterations": _stabilisation_iterations(node_count),
                          "updateInterval": 20, "fit": True},
    })
    font = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
    net.options = {
        "autoResize": True,
        "nodes": {"borderWidth": 1.5, "borderWidthSelected": 3,
                  "font": {"size": 16 if big else 20, "face": font, "color": "#1a1a1a", "strokeWidth": 4,
                           "strokeColor": "#ffffff"}},
        "edges": {"font": {"size": 12 if big else 15, "face": font, "align": "horizontal", "strokeWidth": 4,
                           "strokeColor": "#ffffff"},
                  "arrows": {"to": {"enabled": True, "scaleFactor": 0.6}},
                  "smooth": False if big else {"enabled": True, "type": "continuous",
                                               "roundness": 0.3},
                  "selectionWidth": 1.5, "hoverWidth": 1},
        "physics": physics,
        "interaction": {"hover": True, "tooltipDelay": 120, "hideEdgesOnDrag": big,
                        "hideEdgesOnZoom": big, "navigationButtons": False,
                        "keyboard": False, "multiselect": False},
        "layout": {"randomSeed": 7, "improvedLayout": node_count <= 100},
    }


# --- page assembly --------------------------------------------------------------------------


def _asset(name: str) -> str:
    return resources.files(ASSET_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def _vis_library() -> tuple[str, str]:
    """vis-network's script and stylesheet as shipped inside the pyvis package (newest copy)."""
    import pyvis

    root = Path(pyvis.__file__).resolve().parent
    found = []
    for script in root.glob("**/vis-*/vis-network.min.js"):
        css = script.with_name("vis-network.css")
        version = tuple(int(x) for x in re.findall(r"\d+", script.parent.name.removeprefix("vis-")))
        if css.is_file():
            found.append((version, script, css))
    if not found:
        raise KgError(f"the pyvis package at {root} lacks vis-network; reinstall pyvis")
    _, script, css = max(found)
    return script.read_text(encoding="utf-8"), css.read_text(encoding="utf-8")


def _inline_script(code: str) -> str:
    """Script text that cannot close or confuse its ``<script>`` element."""
    return re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE).replace("<!--", "<\\!--")


def _inline_style(css: str) -> str:
    return re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)


def _content_security_policy(scripts: list[str]) -> str:
    """Only the page's own scripts run (no inline handlers) and nothing is fetched."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode() + "'"
        for s in scripts)
    return (f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
            "img-src data:; font-src data:; base-uri 'none'; form-action 'none'")


