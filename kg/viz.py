"""Draw an RDF graph as one self-contained, offline HTML page (rdflib -> networkx -> pyvis).

The graph is read as a table of entities and facts by :mod:`kg.table` (facts folded into the
edges they describe, with confidence, roles, evidence and sources; any other RDF drawn by its
predicates' local names, resources of no known type as "Other").

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
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx
from rdflib import Graph
from rdflib.term import Node

from .errors import ConfigError, KgError
from .files import write_atomic
from .table import MAX_LABEL_CHARS, NODE_TYPES, OTHER, _clip, to_networkx
from .types import RELATIONS


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


ASSET_PACKAGE = "kg.viz_assets"


@dataclass(frozen=True)
class VizStats:
    """What a drawing holds: nodes and edges drawn, and those left out by ``max_nodes``."""

    nodes_drawn: int
    edges_drawn: int
    nodes_left_out: int = 0
    edges_left_out: int = 0


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


