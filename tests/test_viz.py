"""kg.viz without a browser: the written page, its data, escaping, max_nodes, any Turtle.

The Turtle fixtures and the big-graph generator here are shared with test_viz_browser.py.

The "no http resource" rule (``http_resource_references``): the page must not make the
browser fetch anything. A resource reference is any ``src``/``href``/``srcset``/``poster``/
``data``/``action``/``formaction``/``background``/``manifest``/``ping``/``xlink:href`` value,
CSS ``url(...)`` or ``@import`` whose target is ``http:``, ``https:`` or protocol-relative
(``//host``), anywhere in the file: markup, inline scripts and inline styles alike. Any
``@import`` at all, and any ``<link>`` other than the ``data:`` favicon, also count. Besides
that, every ``http(s)://`` string outside the JSON data block must be one of the few
non-loaded strings inside vis-network (the SVG namespace, licence and documentation links in
comments and messages, ``VIS_NON_LOADED_URLS``). Inside the data block, IRIs and article URLs
are plain JSON strings: they are never loaded, and the block holds no raw ``<`` or ``>``, so
nothing in it can be read as markup; the page title in ``<title>`` and ``<h1>`` is escaped
text and is left out of the scan for the same reason. The browser tests add the runtime check: the
Performance API lists no loaded resource at all and a CSP forbids any fetch.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib import namespace as ns
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS

from kg.errors import ConfigError, OutputError
from kg.types import RELATIONS
from kg.viz import (
    DEFAULT_MAX_NODES,
    EXTRA_COLOURS,
    RELATION_COLOURS,
    TYPE_STYLE,
    VizStats,
    json_for_script,
    write_html,
)
from kg.table import local_name, to_networkx

KG = Namespace("https://w3id.org/kg-news/ontology#")
SCHEMA = Namespace("https://schema.org/")
BASE = "https://kg.example.org/"

PREFIXES = """\
@prefix kg: <https://w3id.org/kg-news/ontology#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ent: <https://kg.example.org/entity/> .
@prefix art: <https://kg.example.org/article/> .
@prefix fact: <https://kg.example.org/fact/> .
@prefix ev: <https://kg.example.org/evidence/> .
"""

# Five entities, four facts (competes_with is stated in both directions: one edge), two articles.
KG_TURTLE = PREFIXES + """
ent:person\\/anna-schmidt a kg:Person ; rdfs:label "Anna Schmidt" ; skos:altLabel "A. Schmidt" .
ent:organization\\/tiktok a kg:Organization ; rdfs:label "TikTok" ; skos:altLabel "Tik Tok" .
ent:organization\\/bytedance a kg:Organization ; rdfs:label "ByteDance" .
ent:organization\\/snap a kg:Organization ; rdfs:label "Snap" .
ent:place\\/berlin a kg:Place ; rdfs:label "Berlin" .

ent:person\\/anna-schmidt kg:works_at ent:organization\\/tiktok .
ent:organization\\/bytedance kg:parent_of ent:organization\\/tiktok .
ent:organization\\/tiktok kg:hires_in ent:place\\/berlin .
ent:organization\\/tiktok kg:competes_with ent:organization\\/snap .
ent:organization\\/snap kg:competes_with ent:organization\\/tiktok .

fact:1 a kg:Fact, rdf:Statement ; rdf:subject ent:person\\/anna-schmidt ; rdf:predicate kg:works_at ;
  rdf:object ent:organization\\/tiktok ; kg:confidence 0.85 ; kg:role "Head of Sales" ;
  prov:wasDerivedFrom art:a1 ; kg:evidence ev:1 .
ev:1 a kg:Evidence ; kg:sentence "Anna Schmidt, Chefin bei TikTok, sagte am Montag …"@de ;
  kg:startOffset 0 ; kg:endOffset 49 ; kg:rule "de.works_at.chef_bei" ; kg:confidence 0.85 ;
  dcterms:source art:a1 .
fact:2 a kg:Fact, rdf:Statement ; rdf:subject ent:organization\\/bytedance ; rdf:predicate kg:parent_of ;
  rdf:object ent:organization\\/tiktok ; kg:confidence 0.6 ; prov:wasDerivedFrom art:a2 ; kg:evidence ev:2 .
ev:2 a kg:Evidence ; kg:sentence "TikTok's parent ByteDance said on Monday."@en ; kg:startOffset 10 ;
  kg:endOffset 51 ; kg:rule "en.parent_of.parent" ; kg:confidence 0.6 ; dcterms:source art:a2 .
fact:3 a kg:Fact, rdf:Statement ; rdf:subject ent:organization\\/tiktok ; rdf:predicate kg:hires_in ;
  rdf:object ent:place\\/berlin ; kg:confidence 0.4 ; prov:wasDerivedFrom art:a1 ; kg:evidence ev:3 .
ev:3 a kg:Evidence ; kg:sentence "TikTok stellt in Berlin 200 Leute ein."@de ; kg:rule "de.hires_in.stellt_ein" ;
  kg:confidence 0.4 ; dcterms:source art:a1 .
fact:4 a kg:Fact, rdf:Statement ; rdf:subject ent:organization\\/snap ; rdf:predicate kg:competes_with ;
  rdf:object ent:organization\\/tiktok ; kg:confidence 0.7 ; prov:wasDerivedFrom art:a2 ; kg:evidence ev:4 .
ev:4 a kg:Evidence ; kg:sentence "Snap competes with TikTok for advertisers."@en ; kg:rule "en.competes_with.rival" ;
  kg:confidence 0.7 ; dcterms:source art:a2 .

art:a1 a kg:Article ; dcterms:identifier "a1" ; dcterms:title "TikTok wächst in Berlin" ;
  dcterms:language "de" ; dcterms:issued "2024-03-04"^^xsd:date ;
  schema:url "https://news.example.com/tiktok-berlin"^^xsd:anyURI .
art:a2 a kg:Article ; dcterms:identifier "a2" ; dcterms:title "ByteDance and its rivals" ;
  dcterms:language "en" ; dcterms:issued "2024-03-05"^^xsd:date ;
  schema:url "https://news.example.com/bytedance"^^xsd:anyURI .
"""
KG_COUNTS = {"nodes": 5, "edges": 4, "articles": 2}

# Untrusted text in every place the page shows text. Each probe would set window.__pwned.
XSS_NAMES = (
    "<script>window.__pwned=1</script>",
    "<img src=x onerror=\"window.__pwned=2\">",
    "\"",
    "</script>",
    "<!--",
    "<svg onload=window.__pwned=3>",
    "'); window.__pwned=4; ('",
)


def _ttl_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def xss_turtle() -> str:
    """Entities named after XSS probes, plus a fact whose evidence and article are probes too."""
    lines = [PREFIXES]
    for i, name in enumerate(XSS_NAMES):
        lines.append(f"ent:organization\\/probe-{i} a kg:Organization ; rdfs:label {_ttl_string(name)} ;"
                     f" skos:altLabel {_ttl_string(name + ' alias')} .")
    lines.append("ent:organization\\/probe-0 kg:competes_with ent:organization\\/probe-1 .")
    lines.append(
        "fact:x a kg:Fact, rdf:Statement ; rdf:subject ent:organization\\/probe-0 ;"
        " rdf:predicate kg:competes_with ; rdf:object ent:organization\\/probe-1 ;"
        f" kg:confidence 0.9 ; kg:role {_ttl_string(XSS_NAMES[1])} ; prov:wasDerivedFrom art:x ;"
        " kg:evidence ev:x .")
    lines.append(f"ev:x a kg:Evidence ; kg:sentence {_ttl_string(XSS_NAMES[0] + ' said ' + XSS_NAMES[5])}@en ;"
                 f" kg:rule \"en.competes_with.x\" ; kg:confidence 0.9 ; dcterms:source art:x .")
    lines.append(f"art:x a kg:Article ; dcterms:identifier \"x\" ; dcterms:title {_ttl_string(XSS_NAMES[1])} ;"
                 " schema:url \"javascript:window.__pwned=5\" .")
    return "\n".join(lines)


# Plain Turtle that knows nothing of kg: FOAF-ish people, an untyped thing, a blank node.
OTHER_TURTLE = """\
@prefix ex: <http://example.org/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:alice a foaf:Person ; foaf:name "Alice" ; ex:age 42 ; ex:knows ex:bob ; ex:likes ex:thing .
ex:bob a foaf:Person ; foaf:name "Bob" ; ex:memberOf [ rdfs:label "A club" ; ex:founded "1901" ] .
ex:thing ex:colour "blue" ; ex:partOf ex:Whole .
"""


def make_big_graph(n_nodes: int = 2000, n_edges: int = 5000, n_articles: int = 300,
                   seed: int = 5) -> Graph:
    """A graph in kg's model with exactly ``n_nodes`` entities and ``n_edges`` facts.

    Types follow the relation signatures; half of the endpoints are drawn from a Pareto
    distribution so that a few hubs appear, as in news; some entities have no fact at all.
    """
    rng = random.Random(seed)
    graph = Graph()
    per_type = {"Person": n_nodes * 2 // 5, "Organization": n_nodes * 9 // 20}
    per_type["Place"] = n_nodes - per_type["Person"] - per_type["Organization"]
    entities: dict[str, list[URIRef]] = {}
    for kind, count in per_type.items():
        entities[kind] = []
        for i in range(count):
            iri = URIRef(f"{BASE}entity/{kind.lower()}/{kind.lower()}-{i}")
            graph.add((iri, RDF.type, KG[kind]))
            graph.add((iri, RDFS.label, Literal(f"{kind} {i}")))
            if i % 7 == 0:
                graph.add((iri, SKOS.altLabel, Literal(f"{kind[:3]}{i}")))
            entities[kind].append(iri)
    articles = []
    for i in range(n_articles):
        article = URIRef(f"{BASE}article/{i}")
        for p, o in ((RDF.type, KG.Article), (DCTERMS.identifier, Literal(str(i))),
                     (DCTERMS.title, Literal(f"Article {i}")), (DCTERMS.language, Literal("en")),
                     (SCHEMA.url, Literal(f"https://news.example.com/{i}", datatype=ns.XSD.anyURI))):
            graph.add((article, p, o))
        articles.append(article)

    def pick(kind: str) -> URIRef:
        pool = entities[kind]
        if rng.random() < 0.5:
            return pool[min(int(rng.paretovariate(1.2)) - 1, len(pool) - 1)]
        return rng.choice(pool)

    seen: set[tuple[URIRef, str, URIRef]] = set()
    relations = sorted(RELATIONS)
    while len(seen) < n_edges:
        relation = rng.choice(relations)
        subject_type, object_type, symmetric = RELATIONS[relation]
        s, o = pick(subject_type), pick(object_type)
        key = (min(s, o), relation, max(s, o)) if symmetric else (s, relation, o)
        if s == o or key in seen:
            continue
        seen.add(key)
        n = len(seen)
        graph.add((s, KG[relation], o))
        fact, evidence = URIRef(f"{BASE}fact/{n}"), URIRef(f"{BASE}evidence/{n}")
        article = rng.choice(articles)
        confidence = Literal(f"{rng.uniform(0.3, 1.0):.2f}", datatype=ns.XSD.decimal)
        for p, v in ((RDF.type, KG.Fact), (RDF.type, RDF.Statement), (RDF.subject, s),
                     (RDF.predicate, KG[relation]), (RDF.object, o), (KG.confidence, confidence),
                     (PROV.wasDerivedFrom, article), (KG.evidence, evidence)):
            graph.add((fact, p, v))
        for p, v in ((RDF.type, KG.Evidence),
                     (KG.sentence, Literal(f"Sentence {n} says {relation}.", lang="en")),
                     (KG.startOffset, Literal(0)), (KG.endOffset, Literal(24)),
                     (KG.rule, Literal(f"en.{relation}.cue")), (KG.confidence, confidence),
                     (DCTERMS.source, article)):
            graph.add((evidence, p, v))
    return graph


def parse(turtle: str) -> Graph:
    return Graph().parse(data=turtle, format="turtle")


# --- reading the page back ------------------------------------------------------------------

DATA_BLOCK = re.compile(r'<script type="application/json" id="kg-data">(.*?)</script>', re.S)
VIS_NON_LOADED_URLS = frozenset({
    "http://www.w3.org/2000/svg",
    "https://visjs.github.io/vis-network/",
    "http://almende.com",
    "https://github.com/visjs",
    "http://www.apache.org/licenses/LICENSE-2.0",
    "http://opensource.org/licenses/MIT",
    "https://github.com/zloirock/core-js/blob/v3.21.1/LICENSE",
    "https://github.com/zloirock/core-js",
    "https://github.com/uuidjs/uuid#getrandomvalues-not-supported",
})
LOADING_ATTRIBUTE = re.compile(
    r"""(?i)(?:\b(?:src|href|srcset|poster|data|action|formaction|background|manifest|ping)"""
    r"""|xlink:href)\s*=\s*["'`]?\s*(?:https?:|//)""")
# The page title, shown as escaped text (it may well contain a URL that is never loaded).
TEXT_ELEMENTS = re.compile(r"<title>[^<]*</title>|<h1 id=\"kg-title\">[^<]*</h1>")
CSS_URL = re.compile(r"""(?i)url\(\s*["']?\s*(?:https?:|//)""")


def page_data(html: str) -> dict[str, Any]:
    match = DATA_BLOCK.search(html)
    assert match, "the page has no JSON data block"
    return json.loads(match.group(1))


def without_data_block(html: str) -> str:
    return DATA_BLOCK.sub("", html)


def http_resource_references(html: str) -> list[str]:
    """Every way ``html`` could make a browser fetch from the web (see the module docstring)."""
    found = []
    match = DATA_BLOCK.search(html)
    if match and re.search(r"[<>]", match.group(1)):
        found.append("raw < or > inside the JSON data block")
    rest = TEXT_ELEMENTS.sub("", without_data_block(html))
    found += [m.group(0) for m in LOADING_ATTRIBUTE.finditer(rest)]
    found += [m.group(0) for m in CSS_URL.finditer(rest)]
    found += [m.group(0) for m in re.finditer(r"(?i)@import\b.{0,40}", rest)]
    found += [m.group(0) for m in re.finditer(r"(?i)<link\b[^>]*>", rest)
              if m.group(0) != '<link rel="icon" href="data:,">']
    found += [f"unexpected URL {url}" for url in re.findall(r"(?i)https?://[^\s\"'<>)`]*", rest)
              if url not in VIS_NON_LOADED_URLS]
    return found


@pytest.fixture
def write(tmp_path: Path):
    """Write a graph's page into tmp_path; returns (stats, html)."""

    def _write(graph: Graph, name: str = "graph.html", **kwargs: Any) -> tuple[VizStats, str]:
        path = tmp_path / name
        stats = write_html(graph, path, **kwargs)
        return stats, path.read_text(encoding="utf-8")

    return _write


FIXTURES = {
    "kg": lambda: parse(KG_TURTLE),
    "xss": lambda: parse(xss_turtle()),
    "other": lambda: parse(OTHER_TURTLE),
    "empty": Graph,
}


# --- tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_viz_page_has_no_http_resource_references(write, fixture: str) -> None:
    _, html = write(FIXTURES[fixture](), title="http://example.org/title https://x")
    assert http_resource_references(html) == []
    assert "<script src" not in html.lower()


def test_viz_resource_scan_catches_references() -> None:
    bad = ['<script src="https://cdn.example/x.js"></script>', "<link href='//cdn.example/x.css'>",
           "<style>a{background:url(https://x/y.png)}</style>", "<style>@import 'x.css';</style>",
           "<img srcset='http://x/y.png 2x'>", 'e.src="https://x/y.js"']
    for snippet in bad:
        assert http_resource_references(snippet), snippet


def test_viz_page_inlines_vis_network(write) -> None:
    _, html = write(parse(KG_TURTLE))
    assert "vis-network" in html and "@version 9." in html
    assert "bootstrap" not in html.lower()
    # The data, vis-network and kg's own script; nothing else.
    assert re.findall(r"^<script[^>]*>", html, re.M) == [
        '<script type="application/json" id="kg-data">', "<script>", "<script>"]


def test_viz_csp_allows_exactly_the_inline_scripts(write) -> None:
    _, html = write(parse(KG_TURTLE))
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    scripts = re.findall(r"^<script>(.*?)</script>$", html, re.S | re.M)
    assert len(scripts) == 2
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
        assert f"'sha256-{digest}'" in policy


def test_viz_counts_match_the_graph(write) -> None:
    stats, html = write(parse(KG_TURTLE), title="Counts")
    assert stats == VizStats(nodes_drawn=KG_COUNTS["nodes"], edges_drawn=KG_COUNTS["edges"])
    data = page_data(html)
    assert len(data["nodes"]) == KG_COUNTS["nodes"] and len(data["edges"]) == KG_COUNTS["edges"]
    assert '<p id="kg-counts">5 entities, 4 facts, 2 articles</p>' in html
    assert {t["name"]: t["count"] for t in data["types"]} == {
        "Person": 1, "Organization": 3, "Place": 1, "Other": 0}
    assert {r["name"]: r["count"] for r in data["relations"]} == {
        "works_at": 1, "parent_of": 1, "hires_in": 1, "competes_with": 1}


def test_viz_folds_facts_evidence_and_articles_into_edges() -> None:
    drawn = to_networkx(parse(KG_TURTLE))
    assert all("/entity/" in str(node) for node in drawn.nodes)
    anna, tiktok = URIRef(BASE + "entity/person/anna-schmidt"), URIRef(BASE + "entity/organization/tiktok")
    edge = drawn.edges[anna, tiktok, "works_at"]
    assert edge["confidence"] == pytest.approx(0.85)
    assert edge["roles"] == ["Head of Sales"]
    assert edge["articles"] == [BASE + "article/a1"]
    [evidence] = edge["evidence"]
    assert evidence["sentence"].startswith("Anna Schmidt, Chefin bei TikTok")
    assert evidence == evidence | {"lang": "de", "rule": "de.works_at.chef_bei", "start": 0, "end": 49,
                                   "article": BASE + "article/a1"}
    assert drawn.nodes[anna]["aliases"] == ["A. Schmidt"]
    assert drawn.nodes[tiktok]["articles"] == [BASE + "article/a1", BASE + "article/a2"]
    assert drawn.graph["articles"][BASE + "article/a1"]["url"] == "https://news.example.com/tiktok-berlin"


def test_viz_symmetric_relation_is_one_edge_without_arrow(write) -> None:
    _, html = write(parse(KG_TURTLE))
    [edge] = [e for e in page_data(html)["edges"] if e["relation"] == "competes_with"]
    assert edge["arrows"] == "" and edge["symmetric"] is True
    assert edge["confidence"] == pytest.approx(0.7)


def test_viz_styles_types_and_relations_distinctly(write) -> None:
    _, html = write(parse(KG_TURTLE))
    data = page_data(html)
    assert len({(t["colour"], t["shape"]) for t in data["types"]}) == 4
    assert len({t["shape"] for t in data["types"]}) == 4
    assert set(RELATION_COLOURS) == set(RELATIONS)
    assert len(set(RELATION_COLOURS.values()) | set(EXTRA_COLOURS)) == len(RELATION_COLOURS) + len(EXTRA_COLOURS)
    for node in data["nodes"]:
        assert (node["color"]["background"], node["shape"]) == TYPE_STYLE[node["kind"]]
    sizes = {n["name"]: n["size"] for n in data["nodes"]}
    assert sizes["TikTok"] > sizes["ByteDance"]  # size grows with degree
    for edge in data["edges"]:
        assert edge["label"] == edge["relation"]
        assert edge["color"]["color"] == RELATION_COLOURS[edge["relation"]]


def test_viz_escapes_untrusted_text(write) -> None:
    title = "</title><script>window.__pwned=9</script>"
    _, html = write(parse(xss_turtle()), title=title)
    for probe in ("<script>window", "<img", "<svg", "onerror=\"", "</script><"):
        body_outside_scripts = re.sub(r"<script>.*?</script>", "", html, flags=re.S)
        assert probe not in body_outside_scripts, probe
    data_text = DATA_BLOCK.search(html).group(1)
    assert "<" not in data_text and ">" not in data_text and "&" not in data_text.replace("\\u0026", "")
    data = page_data(html)
    assert {n["name"] for n in data["nodes"]} == set(XSS_NAMES)
    assert data["title"] == title
    assert "&lt;/title&gt;&lt;script&gt;" in html
    # The JSON block ends at its own closing tag, not at a "</script>" inside a name.
    assert html.count("</script>") == 3


def test_viz_json_for_script_escapes_markup_characters() -> None:
    text = json_for_script({"a": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


def test_viz_max_nodes_keeps_the_most_connected(write) -> None:
    graph = Graph()
    hub = URIRef(BASE + "entity/organization/hub")
    graph.add((hub, RDF.type, KG.Organization))
    for i in range(6):
        person = URIRef(f"{BASE}entity/person/p{i}")
        graph.add((person, RDF.type, KG.Person))
        graph.add((person, KG.works_at, hub))
    second = URIRef(f"{BASE}entity/person/p0")
    graph.add((second, KG.founded, URIRef(BASE + "entity/organization/other")))
    stats, html = write(graph, max_nodes=2)
    assert stats == VizStats(nodes_drawn=2, edges_drawn=1, nodes_left_out=6, edges_left_out=6)
    data = page_data(html)
    assert {n["iri"] for n in data["nodes"]} == {str(hub), str(second)}
    assert "left out: 6 entities and 6 facts" in html
    assert "8 entities, 7 facts" in html
    assert 'id="kg-left-out" hidden' not in html


def test_viz_max_nodes_larger_than_graph_leaves_nothing_out(write) -> None:
    stats, html = write(parse(KG_TURTLE), max_nodes=100)
    assert stats.nodes_left_out == stats.edges_left_out == 0
    assert 'id="kg-left-out" hidden' in html


def test_viz_max_nodes_defaults_to_the_most_connected_2000(write) -> None:
    graph = make_big_graph(n_nodes=2100, n_edges=4000, n_articles=50)
    for max_nodes in (None, DEFAULT_MAX_NODES):
        stats, html = write(graph, max_nodes=max_nodes)
        assert stats.nodes_drawn == DEFAULT_MAX_NODES == 2000 and stats.nodes_left_out == 100
        assert "Showing the 2,000 most connected entities" in html
        assert 'id="kg-left-out" hidden' not in html


@pytest.mark.parametrize("bad", [0, -3, True])
def test_viz_max_nodes_must_be_positive(tmp_path: Path, bad: int) -> None:
    with pytest.raises(ConfigError, match="max_nodes"):
        write_html(parse(KG_TURTLE), tmp_path / "x.html", max_nodes=bad)
    assert not list(tmp_path.iterdir())


def test_viz_draws_any_turtle(write) -> None:
    stats, html = write(parse(OTHER_TURTLE))
    data = page_data(html)
    nodes = {n["name"]: n for n in data["nodes"]}
    assert {"Alice", "Bob", "A club", "thing", "Whole"} <= set(nodes)
    assert nodes["Alice"]["kind"] == "Person"  # foaf:Person: a Person by its local name
    assert nodes["thing"]["kind"] == "Other" and nodes["Whole"]["kind"] == "Other"
    assert ["age", "42"] in nodes["Alice"]["literals"]
    assert ["colour", "blue"] in nodes["thing"]["literals"]
    assert ["founded", "1901"] in nodes["A club"]["literals"]
    relations = {(nodes_by_id(data)[e["from"]], e["label"], nodes_by_id(data)[e["to"]]) for e in data["edges"]}
    assert relations == {("Alice", "knows", "Bob"), ("Alice", "likes", "thing"),
                         ("Bob", "memberOf", "A club"), ("thing", "partOf", "Whole")}
    assert stats == VizStats(nodes_drawn=5, edges_drawn=4)
    assert all(e["confidence"] is None for e in data["edges"])


def nodes_by_id(data: dict[str, Any]) -> dict[int, str]:
    return {n["id"]: n["name"] for n in data["nodes"]}


def test_viz_draws_the_ontology_itself(write) -> None:
    ontology = Path(__file__).resolve().parents[1] / "ontology" / "kg.ttl"
    if not ontology.is_file():
        pytest.skip("ontology/kg.ttl is not there yet")
    stats, html = write(Graph().parse(ontology))
    assert stats.nodes_drawn > 0 and http_resource_references(html) == []


def test_viz_reified_statement_with_literal_object_stays_a_node(write) -> None:
    graph = parse("""
        @prefix ex: <http://example.org/> .
        @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
        ex:s1 rdf:subject ex:a ; rdf:predicate ex:says ; rdf:object "hello" .
        ex:s2 rdf:subject ex:a ; rdf:predicate ex:knows ; rdf:object ex:b ; ex:note "seen twice" .
    """)
    stats, html = write(graph)
    data = page_data(html)
    names = {n["name"] for n in data["nodes"]}
    assert names == {"s1", "a", "says", "b"}
    [knows] = [e for e in data["edges"] if e["relation"] == "knows"]
    assert knows["literals"] == [["note", "seen twice"]]


def test_viz_local_name() -> None:
    assert local_name(URIRef("https://w3id.org/kg-news/ontology#works_at")) == "works_at"
    assert local_name(URIRef("https://kg.example.org/entity/person/x/")) == "x"
    assert local_name(URIRef("urn:isbn:123")) == "123"


def test_viz_writes_atomically(tmp_path: Path) -> None:
    path = tmp_path / "graph.html"
    path.write_text("old", encoding="utf-8")
    write_html(parse(KG_TURTLE), path)
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["graph.html"]
    with pytest.raises(OutputError, match="cannot write"):  # its folder would be a file
        write_html(parse(KG_TURTLE), tmp_path / "graph.html" / "inner.html")
    assert [p.name for p in tmp_path.iterdir()] == ["graph.html"]


def test_viz_is_deterministic(tmp_path: Path) -> None:
    graph = parse(KG_TURTLE)
    write_html(graph, tmp_path / "a.html")
    write_html(graph, tmp_path / "b.html")
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()


def test_viz_big_graph_uses_the_fast_settings(write) -> None:
    graph = make_big_graph()
    stats, html = write(graph, title="big")
    assert stats == VizStats(nodes_drawn=2000, edges_drawn=5000)
    data = page_data(html)
    physics = data["options"]["physics"]
    assert data["big"] is True and data["options"]["edges"]["smooth"] is False
    assert physics["stabilization"]["iterations"] <= 150 and physics["adaptiveTimestep"] is False
    assert data["summary"]["articles"] == 300
    stats, html = write(graph, name="cut.html", max_nodes=300)
    assert (stats.nodes_drawn, stats.nodes_left_out) == (300, 1700)
    assert stats.edges_drawn + stats.edges_left_out == 5000
    degrees = sorted((n["degree"] for n in page_data(html)["nodes"]), reverse=True)
    assert degrees[0] >= 20  # the hubs are what is kept
