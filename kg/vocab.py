"""The kg ontology terms as a closed namespace, and the prefixes bound in every graph and query.

``KG`` mirrors ``ontology/kg.ttl`` term for term (a test keeps the two in step). It is closed,
so ``KG.work_at`` raises ``AttributeError`` instead of minting a new, silently wrong IRI.
"""

from __future__ import annotations

from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SDO, SKOS, XSD, DefinedNamespace

from .types import ENTITY_TYPES

ONTOLOGY_VERSION = "0.1.0"
ONTOLOGY_IRI = URIRef("https://w3id.org/kg-news/ontology")
ONTOLOGY_VERSION_IRI = URIRef(f"https://w3id.org/kg-news/ontology/{ONTOLOGY_VERSION}")

SCHEMA = SDO  # https://schema.org/, closed as well

# Path segments under the base IRI, one per kind of node kg mints.
ENTITY_PATH = "entity/"
ARTICLE_PATH = "article/"
FACT_PATH = "fact/"
GRAPH_PATH = "graph/"  # named graphs of TriG / N-Quads exports, one per article

# Entity type -> its prefix, also the folder under ``<base>entity/`` (keys read "person/<slug>").
ENTITY_PREFIXES: dict[str, str] = {type_: type_.lower() for type_ in ENTITY_TYPES}


class KG(DefinedNamespace):
    """kg news ontology: people, organizations, places, and the provenance of each fact."""

    _fail = True
    _warn = False
    _NS = Namespace("https://w3id.org/kg-news/ontology#")

    # Classes
    Person: URIRef  # A human being named in the news.
    Organization: URIRef  # A company, institution, agency or other organization.
    Place: URIRef  # A city, region or country.
    Article: URIRef  # A news article that facts were extracted from.
    Fact: URIRef  # A reified statement of one relation, with its provenance.
    Evidence: URIRef  # One sentence of one article stating a fact, and the rule that found it.

    # Relations between entities (local names exactly as in the evaluation schema)
    works_at: URIRef  # Person -> Organization, currently
    worked_at: URIRef  # Person -> Organization, formerly
    founded: URIRef  # Person -> Organization
    hires_in: URIRef  # Organization -> Place
    located_in: URIRef  # Organization -> Place
    parent_of: URIRef  # Organization -> Organization (owns)
    recruits_from: URIRef  # Organization -> Organization (hires staff away from)
    competes_with: URIRef  # Organization -> Organization, symmetric
    based_in: URIRef  # Person -> Place

    # Provenance
    evidence: URIRef  # Fact -> Evidence
    confidence: URIRef  # Fact or Evidence -> xsd:decimal in [0, 1]
    sentence: URIRef  # Evidence -> the sentence text
    startOffset: URIRef  # Evidence -> character offset where the sentence starts
    endOffset: URIRef  # Evidence -> character offset where the sentence ends
    rule: URIRef  # Evidence -> id of the extraction rule, e.g. "de.works_at.chef_bei"
    role: URIRef  # Fact or Evidence -> job title stated with the fact


# The fixed prefixes; ``ent:``, ``person:``, ``organization:`` and ``place:`` depend on the
# base IRI and are added by ``namespaces``.
PREFIXES: dict[str, str] = {
    "kg": str(KG),
    "schema": str(SCHEMA),
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
}


def entity_namespace(base_iri: str) -> Namespace:
    """The ``ent:`` namespace, ``<base_iri>entity/``."""
    return Namespace(base_iri + ENTITY_PATH)


def namespaces(base_iri: str | None = None) -> dict[str, Namespace]:
    """Prefix -> namespace for graphs and queries. With ``base_iri``, also ``ent:`` and one
    prefix per entity type: ``person:`` is ``<base_iri>entity/person/`` and so on."""
    out = {prefix: Namespace(iri) for prefix, iri in PREFIXES.items()}
    if base_iri is not None:
        entities = entity_namespace(base_iri)
        out["ent"] = entities
        for prefix in ENTITY_PREFIXES.values():
            out[prefix] = Namespace(f"{entities}{prefix}/")
    return out


def detect_base_iri(graph: Graph) -> str | None:
    """The base IRI a kg graph was built with, or None when it cannot be told.

    Read from the ``ent:`` prefix when the graph has it bound (Turtle, TriG and JSON-LD files
    kg wrote), else from the IRI of any typed entity, ``<base>entity/<type>/<name>``.
    """
    for prefix, namespace in graph.namespaces():
        if prefix == "ent" and str(namespace).endswith(ENTITY_PATH):
            return str(namespace)[: -len(ENTITY_PATH)]
    found: list[str] = []
    for type_, prefix in ENTITY_PREFIXES.items():
        marker = f"{ENTITY_PATH}{prefix}/"
        for node in graph.subjects(RDF.type, KG[type_]):
            head, sep, tail = str(node).rpartition(marker)
            if sep and head and tail and "/" not in tail:
                found.append(head)
                break
    return min(found) if found else None


def bind_namespaces(graph: Graph, base_iri: str | None = None) -> Graph:
    """Bind the project prefixes in ``graph`` (replacing clashing bindings) and return it."""
    for prefix, namespace in namespaces(base_iri).items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph
