"""build_graph: stable IRIs, typed and labelled entities, provenance, literals that survive."""

from __future__ import annotations

import hashlib
import logging
import os
import random
import subprocess
import sys
import warnings
from pathlib import Path

import pyoxigraph
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS

from kg.graph import (
    article_graph_iri,
    build_dataset,
    build_graph,
    confidence_literal,
    dataset_from_graph,
    entity_iri,
    fact_iri,
    issued_literal,
    literal_text,
    sorted_sources,
)
from kg.resources import ontology_file
from kg.types import RELATIONS, Article, Entity, Fact, Mention, Triple
from kg.vocab import KG, detect_base_iri
from oxigraph_util import assert_isomorphic, oxigraph_to_rdflib as _to_rdflib

BASE = "https://kg.example.org/"
# rdflib's XSD and SDO namespaces warn when pytest probes module globals; plain ones do not.
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SCHEMA = Namespace("https://schema.org/")
NASTY = (
    'He said "hi" \\ and \'bye\'\nnew line\r\ttab'
    " NUL\x00 BEL\x07 ESC\x1b VT\x0b FF\x0c DEL\x7f"
    " emoji 🙂👩🏽‍💻 RTL שלום مرحبا \u202e <script>alert('x')</script> ]]> &amp; \"\"\" '''"
    ' trailing backslash \\'
)
NASTY_CLEAN = NASTY.translate({c: None for c in (0x00, 0x07, 0x1B, 0x0B, 0x0C)})

# --------------------------------------------------------------------------- sample data

CHEW = Entity("person/shou-zi-chew", "Shou Zi Chew", "Person", ("Chew", "S. Z. Chew"))
TIKTOK = Entity("organization/tiktok", "TikTok", "Organization", ("Tik Tok",))
BYTEDANCE = Entity("organization/bytedance", "ByteDance", "Organization")
SEATTLE = Entity("place/seattle", "Seattle", "Place")
SAMPLE_ENTITIES = {"Person": CHEW, "Organization": TIKTOK, "Place": SEATTLE}


def triple(
    subject: Entity,
    relation: str,
    obj: Entity,
    *,
    article: str = "a1",
    sentence: str = "TikTok CEO Shou Zi Chew said.",
    start: int = 0,
    rule: str = "en.works_at.ceo_of",
    confidence: float = 0.8,
    role: str = "",
    lang: str = "en",
) -> Triple:
    return Triple(
        subject=Mention(subject.name, subject.type, start, start + len(subject.name)),
        relation=relation,
        object=Mention(obj.name, obj.type, start + 1, start + 1 + len(obj.name)),
        article_id=article,
        lang=lang,
        evidence=sentence,
        evidence_start=start,
        evidence_end=start + len(sentence),
        rule_id=rule,
        confidence=confidence,
        role=role,
    )


def sample_facts() -> list[Fact]:
    works = Fact(
        CHEW,
        "works_at",
        TIKTOK,
        (
            triple(CHEW, "works_at", TIKTOK, role="CEO", confidence=0.9),
            triple(
                CHEW, "works_at", TIKTOK, article="a2", sentence="TikTok-Chef Shou Zi Chew sagte.",
                start=40, rule="de.works_at.chef_bei", role="Chef", lang="de", confidence=0.7,
            ),
        ),
        0.97,
    )
    parent = Fact(
        BYTEDANCE,
        "parent_of",
        TIKTOK,
        (triple(BYTEDANCE, "parent_of", TIKTOK, sentence="ByteDance owns TikTok.", start=80,
                rule="en.parent_of.owns"),),
        0.8,
    )
    hires = Fact(
        TIKTOK, "hires_in", SEATTLE,
        (triple(TIKTOK, "hires_in", SEATTLE, sentence="TikTok is hiring in Seattle.", start=120,
                rule="en.hires_in.hiring_in", confidence=0.6),),
        0.6,
    )
    return [works, parent, hires]


def sample_articles() -> dict[str, Article]:
    return {
        "a1": Article("a1", "news/a1.txt", "", "en", "TikTok's boss", "https://news.example/a1?x=1&y=2",
                      "2024-03-01"),
        "a2": Article("a2", "news/a2.html", "", "de", "TikTok-Chef", "https://news.example/a2",
                      "2024-03-02T10:15:00+01:00"),
    }


def sample_graph() -> Graph:
    return build_graph(sample_facts(), sample_articles(), base_iri=BASE)


def sample_turtle() -> bytes:
    return sample_graph().serialize(format="turtle", encoding="utf-8")


# --------------------------------------------------------------------------- helpers

def parse_with_oxigraph(data: bytes) -> Graph:
    graph = Graph()
    for quad in pyoxigraph.parse(data, format=pyoxigraph.RdfFormat.TURTLE):
        graph.add(tuple(_to_rdflib(t) for t in (quad.subject, quad.predicate, quad.object)))
    return graph


def round_trip_everywhere(graph: Graph, caplog: pytest.LogCaptureFixture) -> tuple[Graph, Graph]:
    """Serialize to Turtle, parse back with rdflib and pyoxigraph, fail on any warning."""
    data = graph.serialize(format="turtle", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.WARNING):
            by_rdflib = Graph().parse(data=data, format="turtle")
            by_oxigraph = parse_with_oxigraph(data)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert len(by_rdflib) == len(graph) == len(by_oxigraph)
    assert_isomorphic(graph, by_rdflib, "rdflib round trip")
    assert_isomorphic(graph, by_oxigraph, "pyoxigraph round trip")
    return by_rdflib, by_oxigraph


def nasty_graph(text: str) -> Graph:
    person = Entity("person/x", text or "x", "Person", (text + " alias",))
    org = Entity("organization/y", "Y", "Organization")
    fact = Fact(person, "works_at", org,
                (triple(person, "works_at", org, sentence=text, rule=text, role=text),), 0.5)
    article = Article("a1", "s", "", "en", text, text, text)
    return build_graph([fact], {"a1": article}, base_iri=BASE)


# --------------------------------------------------------------------------- IRIs

def test_graph_entity_iri_is_base_entity_key() -> None:
    assert entity_iri(BASE, TIKTOK) == URIRef("https://kg.example.org/entity/organization/tiktok")


def test_graph_entity_iri_stays_safe_for_odd_keys() -> None:
    odd = Entity("organization/Ärzte ohne Grenzen#1", "Ärzte ohne Grenzen", "Organization")
    assert entity_iri(BASE, odd) == URIRef(BASE + "entity/organization/arzte-ohne-grenzen-1")


def test_graph_fact_iri_is_sha1_of_subject_relation_object() -> None:
    fact = sample_facts()[0]
    digest = hashlib.sha1(b"person/shou-zi-chew|works_at|organization/tiktok").hexdigest()[:16]
    assert fact_iri(BASE, fact) == URIRef(f"{BASE}fact/{digest}")


def test_graph_iris_do_not_depend_on_input_order() -> None:
    facts = sample_facts()
    shuffled = [
        Fact(f.subject, f.relation, f.object, tuple(reversed(f.sources)), f.confidence)
        for f in reversed(facts)
    ]
    articles = dict(reversed(list(sample_articles().items())))
    again = build_graph(shuffled, articles, base_iri=BASE).serialize(format="turtle")
    assert again == sample_graph().serialize(format="turtle")


def test_graph_turtle_is_identical_across_processes_and_hash_seeds() -> None:
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import test_graph; "
        "sys.stdout.buffer.write(test_graph.sample_turtle())"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script, str(Path(__file__).parent)],
            capture_output=True, env=env, check=True,
        )
        outputs.add(done.stdout)
    assert outputs == {sample_turtle()}


def test_graph_evidence_numbering_is_deterministic() -> None:
    fact = sample_facts()[0]
    flipped = Fact(fact.subject, fact.relation, fact.object, tuple(reversed(fact.sources)), 0.97)
    assert sorted_sources(fact) == sorted_sources(flipped)
    graph = sample_graph()
    first = URIRef(f"{fact_iri(BASE, fact)}/evidence/1")
    second = URIRef(f"{fact_iri(BASE, fact)}/evidence/2")
    assert graph.value(first, KG.rule) == Literal("en.works_at.ceo_of")  # article a1 first
    assert graph.value(second, KG.rule) == Literal("de.works_at.chef_bei")


def test_graph_duplicate_sources_give_one_evidence_node() -> None:
    fact = sample_facts()[1]
    doubled = Fact(fact.subject, fact.relation, fact.object, fact.sources * 2, fact.confidence)
    graph = build_graph([doubled], {}, base_iri=BASE)
    assert len(list(graph.objects(fact_iri(BASE, fact), KG.evidence))) == 1


# --------------------------------------------------------------------------- entities

def test_graph_every_entity_has_type_and_label() -> None:
    graph = sample_graph()
    entities = {s for s, p, _ in graph if p in {KG[r] for r in RELATIONS}}
    entities |= {o for _, p, o in graph if p in {KG[r] for r in RELATIONS}}
    assert len(entities) == 4
    for node in entities:
        types = set(graph.objects(node, RDF.type))
        assert len(types) == 1 and types <= {KG.Person, KG.Organization, KG.Place}, node
        assert len(list(graph.objects(node, RDFS.label))) == 1, node


def test_graph_entity_label_and_aliases() -> None:
    graph = sample_graph()
    node = entity_iri(BASE, CHEW)
    assert graph.value(node, RDFS.label) == Literal("Shou Zi Chew")
    assert set(graph.objects(node, SKOS.altLabel)) == {Literal("Chew"), Literal("S. Z. Chew")}
    assert (node, RDF.type, KG.Person) in graph


@pytest.mark.parametrize("relation", sorted(RELATIONS))
def test_graph_predicate_local_name_is_the_relation_name(relation: str) -> None:
    subject_type, object_type, _ = RELATIONS[relation]
    subject = SAMPLE_ENTITIES[subject_type]
    obj = BYTEDANCE if object_type == subject_type == "Organization" else SAMPLE_ENTITIES[object_type]
    fact = Fact(subject, relation, obj, (triple(subject, relation, obj),), 0.5)
    graph = build_graph([fact], {}, base_iri=BASE)
    direct = [p for s, p, o in graph if s == entity_iri(BASE, subject) and o == entity_iri(BASE, obj)]
    assert direct == [URIRef("https://w3id.org/kg-news/ontology#" + relation)]
    assert graph.value(fact_iri(BASE, fact), RDF.predicate) == KG[relation]


def test_graph_uses_only_terms_declared_in_the_ontology() -> None:
    ontology = Graph().parse(ontology_file(), format="turtle")
    graph = sample_graph()
    used = {t for triple_ in graph for t in triple_ if isinstance(t, URIRef) and t.startswith(str(KG))}
    assert sorted(t for t in used if (t, None, None) not in ontology) == []


# --------------------------------------------------------------------------- provenance

def test_graph_fact_node_reifies_the_direct_triple() -> None:
    graph = sample_graph()
    fact = sample_facts()[0]
    node = fact_iri(BASE, fact)
    s, o = entity_iri(BASE, CHEW), entity_iri(BASE, TIKTOK)
    assert (s, KG.works_at, o) in graph
    assert {KG.Fact, RDF.Statement} == set(graph.objects(node, RDF.type))
    assert graph.value(node, RDF.subject) == s
    assert graph.value(node, RDF.predicate) == KG.works_at
    assert graph.value(node, RDF.object) == o
    assert graph.value(node, KG.confidence) == Literal("0.970", datatype=XSD.decimal)
    assert set(graph.objects(node, KG.role)) == {Literal("CEO"), Literal("Chef")}
    assert set(graph.objects(node, PROV.wasDerivedFrom)) == {
        URIRef(BASE + "article/a1"), URIRef(BASE + "article/a2")
    }


def test_graph_evidence_node_carries_sentence_offsets_rule_and_source() -> None:
    graph = sample_graph()
    evidence = URIRef(f"{fact_iri(BASE, sample_facts()[0])}/evidence/2")
    assert (fact_iri(BASE, sample_facts()[0]), KG.evidence, evidence) in graph
    assert (evidence, RDF.type, KG.Evidence) in graph
    assert graph.value(evidence, KG.sentence) == Literal("TikTok-Chef Shou Zi Chew sagte.", lang="de")
    assert graph.value(evidence, KG.startOffset) == Literal(40, datatype=XSD.integer)
    assert graph.value(evidence, KG.endOffset) == Literal(71, datatype=XSD.integer)
    assert graph.value(evidence, KG.rule) == Literal("de.works_at.chef_bei")
    assert graph.value(evidence, KG.confidence) == Literal("0.700", datatype=XSD.decimal)
    assert graph.value(evidence, DCTERMS.source) == URIRef(BASE + "article/a2")
    assert graph.value(evidence, KG.role) == Literal("Chef")


def test_graph_evidence_without_role_has_no_role() -> None:
    graph = sample_graph()
    evidence = URIRef(f"{fact_iri(BASE, sample_facts()[1])}/evidence/1")
    assert graph.value(evidence, KG.rule) == Literal("en.parent_of.owns")
    assert list(graph.objects(evidence, KG.role)) == []


def test_graph_sentence_is_plain_when_language_is_unknown() -> None:
    fact = Fact(CHEW, "based_in", SEATTLE, (triple(CHEW, "based_in", SEATTLE, lang="und"),), 0.5)
    graph = build_graph([fact], {}, base_iri=BASE)
    (sentence,) = graph.objects(None, KG.sentence)
    assert sentence.language is None and sentence.datatype is None


def test_graph_article_metadata() -> None:
    graph = sample_graph()
    a1, a2 = URIRef(BASE + "article/a1"), URIRef(BASE + "article/a2")
    assert (a1, RDF.type, KG.Article) in graph
    assert graph.value(a1, DCTERMS.identifier) == Literal("a1")
    assert graph.value(a1, DCTERMS.title) == Literal("TikTok's boss", lang="en")
    assert graph.value(a1, DCTERMS.language) == Literal("en")
    assert graph.value(a1, DCTERMS.issued) == Literal("2024-03-01", datatype=XSD.date)
    assert graph.value(a2, DCTERMS.issued) == Literal("2024-03-02T10:15:00+01:00", datatype=XSD.dateTime)
    url = graph.value(a1, SCHEMA.url)
    assert url == Literal("https://news.example/a1?x=1&y=2", datatype=XSD.anyURI)
    assert isinstance(url, Literal)


def test_graph_article_not_passed_in_still_gets_a_node() -> None:
    graph = build_graph(sample_facts(), {}, base_iri=BASE)
    a2 = URIRef(BASE + "article/a2")
    assert set(graph.predicate_objects(a2)) == {(RDF.type, KG.Article), (DCTERMS.identifier, Literal("a2"))}


def test_graph_article_id_is_slugged_in_the_iri() -> None:
    article = Article("Le Monde: 12/03", "x", "", "fr")
    graph = build_graph([], {article.id: article}, base_iri=BASE)
    node = URIRef(BASE + "article/le-monde-12-03")
    assert graph.value(node, DCTERMS.identifier) == Literal("Le Monde: 12/03")


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ("2024-03-01", Literal("2024-03-01", datatype=XSD.date)),
        ("2024-03-01T08:00:00", Literal("2024-03-01T08:00:00", datatype=XSD.dateTime)),
        ("2024-03-01T08:00:00Z", Literal("2024-03-01T08:00:00+00:00", datatype=XSD.dateTime)),
        ("1 March 2024", Literal("1 March 2024")),
        ("2024-13-45", Literal("2024-13-45")),
    ],
)
def test_graph_issued_literal(published: str, expected: Literal) -> None:
    assert issued_literal(published) == expected


def test_graph_empty_article_fields_are_left_out() -> None:
    article = Article("bare", "x", "")
    graph = build_graph([], {"bare": article}, base_iri=BASE)
    node = URIRef(BASE + "article/bare")
    assert {p for p, _ in graph.predicate_objects(node)} == {RDF.type, DCTERMS.identifier}


# --------------------------------------------------------------------------- literals

def test_graph_literal_text_strips_controls_but_keeps_tab_and_newlines() -> None:
    assert literal_text("a\x00b\x01c\x1fd\te\nf\rg\x7fh") == "abcd\te\nf\rg\x7fh"
    assert literal_text("bad \ud800 surrogate") == "bad \ufffd surrogate"
    assert literal_text("non-char \uffff") == "non-char "


@pytest.mark.parametrize(
    ("value", "lexical"), [(0.8, "0.800"), (1, "1.000"), (0.12345, "0.123"), (-0.0001, "0.000"),
                           (1.0004, "1.000")]
)
def test_graph_confidence_has_three_decimals(value: float, lexical: str) -> None:
    assert confidence_literal(value) == Literal(lexical, datatype=XSD.decimal)


@pytest.mark.parametrize("value", [1.5, -0.2, float("nan"), float("inf")])
def test_graph_confidence_outside_unit_interval_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        confidence_literal(value)


def test_graph_turtle_parses_in_rdflib_and_pyoxigraph(caplog: pytest.LogCaptureFixture) -> None:
    round_trip_everywhere(sample_graph(), caplog)


def test_graph_nasty_strings_survive_the_round_trip(caplog: pytest.LogCaptureFixture) -> None:
    graph = nasty_graph(NASTY)
    for parsed in round_trip_everywhere(graph, caplog):
        assert Literal(NASTY_CLEAN, lang="en") in set(parsed.objects(None, KG.sentence))
        assert Literal(NASTY_CLEAN) in set(parsed.objects(None, KG.rule))
        assert Literal(NASTY_CLEAN) in set(parsed.objects(None, RDFS.label))
        assert Literal(NASTY_CLEAN, datatype=XSD.anyURI) in set(parsed.objects(None, SCHEMA.url))


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_graph_any_text_survives_the_round_trip(text: str) -> None:
    graph = nasty_graph(text)
    data = graph.serialize(format="turtle", encoding="utf-8")
    assert_isomorphic(graph, Graph().parse(data=data, format="turtle"), "rdflib")
    assert_isomorphic(graph, parse_with_oxigraph(data), "pyoxigraph")
    (sentence,) = graph.objects(None, KG.sentence)
    assert str(sentence) == literal_text(text)


# --------------------------------------------------------------------------- refusals

def test_graph_unknown_relation_is_refused() -> None:
    bad = Fact(CHEW, "likes", TIKTOK, (), 0.5)
    with pytest.raises(ValueError, match="likes"):
        build_graph([bad], {}, base_iri=BASE)


def test_graph_unknown_entity_type_is_refused() -> None:
    odd = Entity("event/x", "X", "Event")
    with pytest.raises(ValueError, match="Event"):
        build_graph([Fact(CHEW, "works_at", odd, (), 0.5)], {}, base_iri=BASE)


def test_graph_conflicting_entities_are_refused() -> None:
    other = Entity(TIKTOK.key, "Tiktok Inc", "Organization")
    facts = [Fact(CHEW, "works_at", TIKTOK, (), 0.5), Fact(CHEW, "founded", other, (), 0.5)]
    with pytest.raises(ValueError, match="organization/tiktok"):
        build_graph(facts, {}, base_iri=BASE)


def test_graph_article_ids_sharing_an_iri_are_refused() -> None:
    articles = {i: Article(i, "x", "") for i in ("a b", "a-b")}
    with pytest.raises(ValueError, match="same IRI|share the IRI"):
        build_graph([], articles, base_iri=BASE)


@pytest.mark.parametrize("base", ["https://kg.example.org", "kg/", "https://kg.example.org/a b/"])
def test_graph_bad_base_iri_is_refused(base: str) -> None:
    from kg.errors import ConfigError

    with pytest.raises(ConfigError, match="base IRI"):
        build_graph(sample_facts(), {}, base_iri=base)


def test_graph_hash_base_iri_works() -> None:
    graph = build_graph(sample_facts(), {}, base_iri="urn:x:kg#")
    assert (URIRef("urn:x:kg#entity/organization/tiktok"), RDF.type, KG.Organization) in graph


def test_graph_is_empty_but_valid_without_facts(caplog: pytest.LogCaptureFixture) -> None:
    graph = build_graph([], {}, base_iri=BASE)
    assert len(graph) == 0
    round_trip_everywhere(graph, caplog)


def test_graph_bound_prefixes() -> None:
    prefixes = {p: str(ns) for p, ns in sample_graph().namespaces()}
    assert prefixes["kg"] == str(KG)
    assert prefixes["ent"] == BASE + "entity/"
    assert prefixes["schema"] == "https://schema.org/"
    for prefix in ("prov", "dcterms", "rdfs", "owl", "xsd", "skos"):
        assert prefix in prefixes


def test_graph_shuffled_facts_give_isomorphic_graphs() -> None:
    facts = sample_facts()
    random.Random(7).shuffle(facts)
    assert_isomorphic(sample_graph(), build_graph(facts, sample_articles(), base_iri=BASE), "shuffle")


def test_graph_fact_from_several_articles_keeps_every_source() -> None:
    graph = sample_graph()
    fact = sample_facts()[0]
    node = fact_iri(BASE, fact)
    evidence = list(graph.objects(node, KG.evidence))
    sources = {graph.value(e, DCTERMS.source) for e in evidence}
    assert len(evidence) == 2
    assert sources == set(graph.objects(node, PROV.wasDerivedFrom)) == {
        URIRef(BASE + "article/a1"), URIRef(BASE + "article/a2")}
    # The combined confidence is the fact's, above either sentence's own.
    combined = graph.value(node, KG.confidence).toPython()
    assert combined > max(graph.value(e, KG.confidence).toPython() for e in evidence)


def test_graph_roles_sit_on_the_employment_fact_only() -> None:
    graph = sample_graph()
    with_roles = {graph.value(f, RDF.predicate) for f in graph.subjects(KG.role, None)
                  if (f, RDF.type, KG.Fact) in graph}
    assert with_roles == {KG.works_at}


# --------------------------------------------------------------------------- named graphs

def _quads(dataset) -> dict:
    out: dict = {}
    for s, p, o, name in dataset.quads():
        key = None if name == dataset.default_graph.identifier else name
        out.setdefault(key, set()).add((s, p, o))
    return out


def test_graph_article_graph_iri_parallels_the_article_iri() -> None:
    assert article_graph_iri(URIRef(BASE + "article/a-1")) == URIRef(BASE + "graph/a-1")
    foreign = URIRef("https://news.example/story/1")
    assert article_graph_iri(foreign) == foreign


def test_graph_dataset_union_is_the_graph() -> None:
    graph = sample_graph()
    quads = _quads(build_dataset(sample_facts(), sample_articles(), base_iri=BASE))
    union = set().union(*quads.values())
    assert union == set(graph)
    assert sorted(str(k) for k in quads if k is not None) == [BASE + "graph/a1", BASE + "graph/a2"]


def test_graph_dataset_keeps_direct_triples_and_facts_in_the_default_graph() -> None:
    quads = _quads(dataset_from_graph(sample_graph()))
    default = quads[None]
    chew, tiktok = entity_iri(BASE, CHEW), entity_iri(BASE, TIKTOK)
    node = fact_iri(BASE, sample_facts()[0])
    assert (chew, KG.works_at, tiktok) in default
    assert (node, KG.confidence, Literal("0.970", datatype=XSD.decimal)) in default
    assert not any(p in (KG.evidence, KG.sentence) for _, p, _ in default)


def test_graph_dataset_article_graph_holds_what_the_article_asserts() -> None:
    quads = _quads(dataset_from_graph(sample_graph()))
    a2 = quads[URIRef(BASE + "graph/a2")]
    fact = fact_iri(BASE, sample_facts()[0])
    evidence = URIRef(f"{fact}/evidence/2")
    chew, tiktok = entity_iri(BASE, CHEW), entity_iri(BASE, TIKTOK)
    assert (chew, KG.works_at, tiktok) in a2
    assert (fact, KG.evidence, evidence) in a2
    assert (evidence, KG.sentence, Literal("TikTok-Chef Shou Zi Chew sagte.", lang="de")) in a2
    assert {s for s, _, _ in a2} == {chew, fact, evidence}
    # Article a1 states all three facts; a2 only the employment.
    assert len([t for t in quads[URIRef(BASE + "graph/a1")] if t[1] == KG.evidence]) == 3


def test_graph_dataset_of_a_graph_without_evidence_is_the_default_graph_only() -> None:
    graph = Graph()
    graph.add((URIRef("urn:a"), RDFS.label, Literal("a")))
    assert _quads(dataset_from_graph(graph)) == {None: set(graph)}


@pytest.mark.parametrize("base", [BASE, "urn:x:kg#", "https://example.org/kg/v1/"])
def test_graph_base_iri_is_detected_from_prefixes_and_from_data(base: str) -> None:
    graph = build_graph(sample_facts(), {}, base_iri=base)
    assert detect_base_iri(graph) == base
    bare = Graph(bind_namespaces="none")
    for triple_ in graph:
        bare.add(triple_)
    assert detect_base_iri(bare) == base


def test_graph_base_iri_of_a_foreign_graph_is_unknown() -> None:
    graph = Graph()
    graph.add((URIRef("https://x.example/people/1"), RDF.type, KG.Person))
    assert detect_base_iri(graph) is None


def test_graph_key_with_a_lone_surrogate_still_gets_a_fact_iri() -> None:
    odd = Entity("person/\ud800", "\ud800", "Person")
    graph = build_graph([Fact(odd, "works_at", TIKTOK, (triple(odd, "works_at", TIKTOK),), 0.5)],
                        {}, base_iri=BASE)
    assert len(list(graph.subjects(RDF.type, KG.Fact))) == 1


@pytest.mark.parametrize(
    ("lang", "tagged"),
    [("en", "en"), ("de-CH", "de-ch"), ("zh-Hant-TW", "zh-hant-tw"), ("es-419", "es-419"),
     ("x-kg", "x-kg"), ("a", None), ("en-a", None), ("de-", None), ("e1", None), ("und", None),
     ("", None), ("abcdefghi", None), ("en_US", None)],
)
def test_graph_sentence_language_tag_must_be_well_formed(lang: str, tagged: str | None) -> None:
    fact = Fact(CHEW, "based_in", SEATTLE, (triple(CHEW, "based_in", SEATTLE, lang=lang),), 0.5)
    (sentence,) = build_graph([fact], {}, base_iri=BASE).objects(None, KG.sentence)
    assert sentence.language == tagged
