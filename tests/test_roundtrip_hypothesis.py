"""Property-based: arbitrary names, sentences, roles, rule ids and article metadata go through
graph building and every export format; IRIs stay legal, and rdflib and pyoxigraph (strict)
both read back exactly what was written."""

from __future__ import annotations

import re

import pyoxigraph
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS

from kg.export import FORMATS, VALUE_SEPARATOR
from kg.graph import build_graph, literal_text, text_literal
from kg.names import slug
from kg.types import Article, Entity, Fact
from kg.vocab import KG
from test_export import assert_round_trips, read_csv, read_graphml
from test_graph import triple

# Awkward on purpose: quotes, backslashes, line breaks, controls, a lone surrogate, emoji,
# right-to-left text and bidi overrides, XML and Turtle syntax, non-characters.
NASTY = ['"', "'", '"""', "'''", "\\", "\\u0041", "\n", "\r\n", "\r", "\t", "\x00", "\x0b",
         "\x1b[31m", "\x7f", "\x85", "\u2028", "\ud800", "\ufffe", "\uffff", "🙂", "👩🏽‍💻",
         "שלום", "مرحبا", "\u202e", "\u200f", "<b>&amp;</b>", "]]>", "@en", "^^<x>", "_:b",
         "#", "%20", "{}", " ", ""]
TEXT = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(NASTY) | st.text(max_size=5), max_size=6).map("".join),
)
LANG = st.sampled_from(["en", "fr", "de", "und", "", "EN-gb", "x y", "de-"]) | st.text(max_size=4)
BASES = st.sampled_from(["https://kg.example.org/", "urn:x:kg#", "http://example.org/kg/v2/"])
# Characters never allowed in an IRI reference (RFC 3987), on top of pyoxigraph's own check.
_ILLEGAL_IN_IRI = re.compile(r"[\x00-\x20<>\"{}|^`\\\x7f-\x9f]")


@st.composite
def corpora(draw) -> tuple[Graph, dict[str, str]]:
    """A graph of three arbitrary entities, three facts and two articles; and the texts put in."""
    person, org, place = (draw(TEXT) for _ in range(3))
    alias, sentence, role, rule = (draw(TEXT) for _ in range(4))
    ids = (draw(TEXT), draw(TEXT))
    assume(slug(ids[0]) != slug(ids[1]))  # two article ids that would share an IRI are refused
    chew = Entity(f"person/{person}", person, "Person", (alias,))
    acme = Entity(f"organization/{org}", org, "Organization")
    city = Entity(f"place/{place}", place, "Place")
    works = Fact(chew, "works_at", acme, (
        triple(chew, "works_at", acme, article=ids[0], sentence=sentence, rule=rule, role=role,
               lang=draw(LANG), confidence=draw(st.floats(0, 1))),
        triple(chew, "works_at", acme, article=ids[1], sentence=draw(TEXT), start=7,
               lang=draw(LANG)),
    ), draw(st.floats(0, 1)))
    hires = Fact(acme, "hires_in", city, (triple(acme, "hires_in", city, article=ids[1],
                                                 sentence=sentence, lang=draw(LANG)),), 0.5)
    articles = {
        i: Article(i, draw(TEXT), "", draw(LANG), draw(TEXT), draw(TEXT), draw(TEXT)) for i in ids
    }
    graph = build_graph([works, hires], articles, base_iri=draw(BASES))
    return graph, {"person": person, "sentence": sentence, "role": role}


def _check_iris(graph: Graph) -> None:
    for term in {t for triple_ in graph for t in triple_ if isinstance(t, URIRef)}:
        assert not _ILLEGAL_IN_IRI.search(str(term)), term
        pyoxigraph.NamedNode(str(term))  # raises on an invalid IRI


def _check_graphml(graph: Graph, data: bytes) -> None:
    drawn = read_graphml(data)
    labels = {str(s): str(o) for s, o in graph.subject_objects(RDFS.label)}
    assert set(drawn.nodes) == set(labels)
    for node, attributes in drawn.nodes(data=True):
        if labels[node].strip():  # a blank label is drawn as the IRI's last segment instead
            assert attributes["label"] == labels[node]
    for subject, obj, attributes in drawn.edges(data=True):
        (fact,) = [f for f in graph.subjects(RDF.subject, URIRef(subject))
                   if graph.value(f, RDF.object) == URIRef(obj)]
        evidence = sorted(graph.objects(fact, KG.evidence), key=str)
        expected = VALUE_SEPARATOR.join(str(graph.value(e, KG.sentence)) for e in evidence)
        assert attributes["evidence"] == expected


def _check_csv(graph: Graph, data: bytes) -> None:
    rows = read_csv(data)
    assert len(rows) == 2
    labels = {str(s): str(o) for s, o in graph.subject_objects(RDFS.label)}
    for row in rows:
        for end in ("subject", "object"):
            if labels[row[end]].strip():
                assert row[f"{end}_label"] == labels[row[end]]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora())
def test_roundtrip_any_text_survives_every_format(corpus: tuple[Graph, dict[str, str]]) -> None:
    graph, texts = corpus
    _check_iris(graph)
    sentences = {str(o) for o in graph.objects(None, KG.sentence)}
    assert literal_text(texts["sentence"]) in sentences
    for name, graph_format in FORMATS.items():
        if graph_format.is_rdf:
            assert_round_trips(graph, name)
        elif name == "graphml":
            _check_graphml(graph, graph_format.serialize(graph))
        elif name == "csv":
            _check_csv(graph, graph_format.serialize(graph))
        else:
            pytest.fail(f"no round-trip check for the new format {name}")


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("aAzZxXiI019-"), max_size=14) | st.from_regex(
    r"[a-z]{2,3}(-[a-z]{3})?(-[A-Z][a-z]{3})?(-[A-Z]{2}|-[0-9]{3})?(-[a-z0-9]{5,8})*", fullmatch=True))
def test_roundtrip_language_tags_kg_writes_are_accepted_by_strict_parsers(tag: str) -> None:
    literal = text_literal("x", tag)
    if literal.language is not None:
        pyoxigraph.Literal("x", language=literal.language)  # raises on a malformed tag
