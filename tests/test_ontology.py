"""The shipped ontology: parses everywhere, matches kg.vocab.KG, documents every term."""

from __future__ import annotations

import pyoxigraph
import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.compare import graph_diff, to_isomorphic
from rdflib.namespace import OWL, RDF, RDFS

from kg.resources import ontology_file
from kg.types import RELATIONS
from kg import vocab
from kg.vocab import KG, ONTOLOGY_IRI, ONTOLOGY_VERSION, ONTOLOGY_VERSION_IRI
from oxigraph_util import oxigraph_to_rdflib as _oxigraph_to_rdflib

# rdflib's XSD namespace warns when pytest probes module globals; a plain one does not.
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
LANGS = ("en", "fr", "de")
DECLARATION_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ontology_file(), format="turtle")


def _declared_kg_terms(graph: Graph) -> set[URIRef]:
    return {
        s
        for t in DECLARATION_TYPES
        for s in graph.subjects(RDF.type, t)
        if isinstance(s, URIRef) and s.startswith(str(KG))
    }


def _kg_terms_mentioned(graph: Graph) -> set[URIRef]:
    return {
        term
        for triple in graph
        for term in triple
        if isinstance(term, URIRef) and term.startswith(str(KG))
    }


def test_ontology_parses_in_pyoxigraph_to_the_same_graph(ontology: Graph) -> None:
    quads = pyoxigraph.parse(path=str(ontology_file()), format=pyoxigraph.RdfFormat.TURTLE)
    other = Graph()
    for quad in quads:
        other.add(tuple(_oxigraph_to_rdflib(t) for t in (quad.subject, quad.predicate, quad.object)))
    assert len(other) == len(ontology)
    left, right = to_isomorphic(ontology), to_isomorphic(other)
    if left != right:
        _, only_rdflib, only_oxigraph = graph_diff(left, right)
        pytest.fail(
            "rdflib and pyoxigraph disagree\nonly rdflib:\n"
            + only_rdflib.serialize(format="nt")
            + "only pyoxigraph:\n"
            + only_oxigraph.serialize(format="nt")
        )


def test_ontology_declares_exactly_the_terms_of_the_vocab_module(ontology: Graph) -> None:
    in_module = {URIRef(str(t)) for t in dir(KG)}
    declared = _declared_kg_terms(ontology)
    assert sorted(in_module - declared) == [], "in kg/vocab.py but not declared in kg.ttl"
    assert sorted(declared - in_module) == [], "declared in kg.ttl but missing from kg/vocab.py"


def test_ontology_uses_no_undeclared_kg_term(ontology: Graph) -> None:
    assert sorted(_kg_terms_mentioned(ontology) - _declared_kg_terms(ontology)) == []


def test_vocab_namespace_is_closed() -> None:
    with pytest.raises(AttributeError):
        KG.work_at  # noqa: B018 - the typo must fail loudly
    assert KG.works_at == URIRef("https://w3id.org/kg-news/ontology#works_at")


def test_ontology_header_names_iri_and_version(ontology: Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(ONTOLOGY_IRI, OWL.versionIRI) == ONTOLOGY_VERSION_IRI
    assert str(ontology.value(ONTOLOGY_IRI, OWL.versionInfo)) == ONTOLOGY_VERSION
    assert str(ONTOLOGY_VERSION_IRI).endswith("/" + ONTOLOGY_VERSION)
    assert str(KG) == str(ONTOLOGY_IRI) + "#"


@pytest.mark.parametrize("term", sorted(str(t) for t in dir(KG)))
def test_ontology_term_has_one_label_and_comment_per_language(ontology: Graph, term: str) -> None:
    node = URIRef(term)
    for predicate in (RDFS.label, RDFS.comment):
        languages = sorted(o.language for o in ontology.objects(node, predicate))
        assert languages == sorted(LANGS), f"{term} {predicate}: {languages}"


@pytest.mark.parametrize("relation", sorted(RELATIONS))
def test_ontology_relation_property_matches_schema(ontology: Graph, relation: str) -> None:
    subject_type, object_type, symmetric = RELATIONS[relation]
    prop = KG[relation]
    assert (prop, RDF.type, OWL.ObjectProperty) in ontology
    assert list(ontology.objects(prop, RDFS.domain)) == [KG[subject_type]]
    assert list(ontology.objects(prop, RDFS.range)) == [KG[object_type]]
    assert ((prop, RDF.type, OWL.SymmetricProperty) in ontology) is symmetric


@pytest.mark.parametrize(
    ("term", "predicate", "target"),
    [
        (KG.Person, RDFS.subClassOf, vocab.SCHEMA.Person),
        (KG.Organization, RDFS.subClassOf, vocab.SCHEMA.Organization),
        (KG.Place, RDFS.subClassOf, vocab.SCHEMA.Place),
        (KG.Article, RDFS.subClassOf, vocab.SCHEMA.NewsArticle),
        (KG.Article, RDFS.subClassOf, URIRef("http://www.w3.org/ns/prov#Entity")),
        (KG.Fact, RDFS.subClassOf, RDF.Statement),
        (KG.works_at, RDFS.subPropertyOf, vocab.SCHEMA.worksFor),
        (KG.founded, OWL.inverseOf, vocab.SCHEMA.founder),
        (KG.parent_of, RDFS.subPropertyOf, vocab.SCHEMA.subOrganization),
        (KG.located_in, RDFS.subPropertyOf, vocab.SCHEMA.location),
        (KG.based_in, RDFS.subPropertyOf, vocab.SCHEMA.homeLocation),
    ],
)
def test_ontology_aligns_to_schema_org(ontology: Graph, term, predicate, target) -> None:
    assert (term, predicate, target) in ontology


def test_ontology_leaves_worked_at_unaligned_and_says_why(ontology: Graph) -> None:
    assert list(ontology.objects(KG.worked_at, RDFS.subPropertyOf)) == []
    assert list(ontology.objects(KG.worked_at, OWL.equivalentProperty)) == []
    (english,) = [c for c in ontology.objects(KG.worked_at, RDFS.comment) if c.language == "en"]
    assert "schema:alumniOf" in english


@pytest.mark.parametrize(
    ("prop", "datatype"),
    [(KG.startOffset, "integer"), (KG.endOffset, "integer"), (KG.rule, "string"), (KG.role, "string")],
)
def test_ontology_datatype_properties_have_ranges(ontology: Graph, prop, datatype: str) -> None:
    assert (prop, RDF.type, OWL.DatatypeProperty) in ontology
    assert str(ontology.value(prop, RDFS.range)).endswith("#" + datatype)


def test_ontology_confidence_is_a_decimal_between_zero_and_one(ontology: Graph) -> None:
    answer = ontology.query(
        """
        ASK {
            kg:confidence rdfs:range ?range .
            ?range owl:onDatatype xsd:decimal ;
                   owl:withRestrictions/rdf:rest*/rdf:first ?low , ?high .
            ?low xsd:minInclusive 0.0 .
            ?high xsd:maxInclusive 1.0 .
        }
        """,
        initNs={"kg": str(KG), "rdfs": str(RDFS), "owl": str(OWL), "rdf": str(RDF),
                "xsd": str(XSD)},
    )
    assert answer.askAnswer


# --------------------------------------------------------------------------- SHACL shapes

SH = Namespace("http://www.w3.org/ns/shacl#")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(ontology_file("shapes.ttl"), format="turtle")


def test_shapes_parse_in_pyoxigraph_to_the_same_graph(shapes: Graph) -> None:
    quads = pyoxigraph.parse(path=str(ontology_file("shapes.ttl")), format=pyoxigraph.RdfFormat.TURTLE)
    other = Graph()
    for quad in quads:
        other.add(tuple(_oxigraph_to_rdflib(t) for t in (quad.subject, quad.predicate, quad.object)))
    assert to_isomorphic(other) == to_isomorphic(shapes)


def test_shapes_use_only_terms_the_ontology_declares(ontology: Graph, shapes: Graph) -> None:
    assert sorted(_kg_terms_mentioned(shapes) - _declared_kg_terms(ontology)) == []


@pytest.mark.parametrize("relation", sorted(RELATIONS))
def test_shapes_check_domain_and_range_of_every_relation(shapes: Graph, relation: str) -> None:
    subject_type, object_type, _ = RELATIONS[relation]
    (shape,) = shapes.subjects(SH.targetSubjectsOf, KG[relation])
    assert list(shapes.objects(shape, SH["class"])) == [KG[subject_type]]
    (prop,) = shapes.objects(shape, SH.property)
    assert shapes.value(prop, SH.path) == KG[relation]
    assert list(shapes.objects(prop, SH["class"])) == [KG[object_type]]


def test_shapes_allow_exactly_the_relations_on_facts(shapes: Graph) -> None:
    (prop,) = [p for p in shapes.objects(None, SH.property) if shapes.value(p, SH.path) == RDF.predicate]
    allowed = set(shapes.items(shapes.value(prop, SH["in"])))
    assert allowed == {KG[r] for r in RELATIONS}


def test_shapes_bound_every_confidence_to_the_unit_interval(shapes: Graph) -> None:
    props = [p for p in shapes.objects(None, SH.property) if shapes.value(p, SH.path) == KG.confidence]
    assert len(props) == 2  # on facts and on evidence
    for prop in props:
        assert shapes.value(prop, SH.datatype) == XSD.decimal
        assert shapes.value(prop, SH.minInclusive).toPython() == 0
        assert shapes.value(prop, SH.maxInclusive).toPython() == 1


def test_shapes_every_message_is_english(shapes: Graph) -> None:
    messages = list(shapes.objects(None, SH.message))
    assert messages and all(m.language == "en" for m in messages)
