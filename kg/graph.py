"""The graph stage: resolved facts and article metadata in, an rdflib Graph out.

Every fact is written twice: as the direct triple ``<s> kg:works_at <o>`` so plain SPARQL
works, and as a reified ``kg:Fact`` node carrying the combined confidence, the roles, the
source articles and one ``kg:Evidence`` node per source triple (sentence, offsets, rule).

Node IRIs depend only on the input, never on iteration order, so the same facts always give
the same IRIs and the same Turtle::

    <base>entity/<Entity.key>                   a kg:Person | kg:Organization | kg:Place
    <base>article/<slug of Article.id>          a kg:Article
    <base>fact/<16 hex of sha1(s|relation|o)>   a kg:Fact, rdf:Statement
    <fact IRI>/evidence/<n>                     a kg:Evidence   (n = 1, 2, ...)
    <base>graph/<slug of Article.id>            named graph of what the article asserts

Named graphs (TriG, N-Quads): :func:`dataset_from_graph` splits the same statements into a
dataset whose union is exactly the graph. The default graph keeps the entities, the articles,
every direct triple and every kg:Fact node (combined confidence, roles, prov:wasDerivedFrom),
so a store that queries only the default graph still answers "who works where". Each article
gets the named graph ``<base>graph/<article slug>`` holding what that article asserts: the
direct triples it states (also in the default graph) and its kg:Evidence nodes with their
``kg:evidence`` links, which live only there. ``GRAPH ?g { ?p kg:works_at ?o }`` thus tells
which articles state a fact.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from .settings import check_base_iri
from .names import slug
from .types import ENTITY_TYPES, RELATIONS, Article, Entity, Fact, Triple
from .vocab import ARTICLE_PATH, ENTITY_PATH, FACT_PATH, GRAPH_PATH, KG, SCHEMA, bind_namespaces

# C0 controls other than tab, LF and CR, plus the two non-characters XML also rejects.
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SURROGATES = re.compile("[\ud800-\udfff]")
# A well-formed BCP 47 language tag (RFC 5646 section 2.1, without the grandfathered tags),
# as strict RDF parsers check it: language[-extlang][-script][-region]*[-variant]
# *[-extension][-privateuse], or a private-use tag alone.
_LANGUAGE_TAG = re.compile(
    r"^(?:(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?"
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?"
    r"|[Xx](?:-[A-Za-z0-9]{1,8})+)$"
)
_THOUSANDTH = Decimal("0.001")


def literal_text(text: str) -> str:
    """``text`` made safe for every RDF syntax: drop C0 controls except tab/LF/CR and U+FFFE/F,
    and replace lone surrogates (left by undecodable input) with U+FFFD."""
    return _SURROGATES.sub("\ufffd", _NOT_XML_CHARS.sub("", text))


def _key_path(key: str) -> str:
    # Keys are "<type>/<slug>" already; slug() leaves such segments unchanged and makes
    # anything else IRI-safe, so a stray space or '#' in a key cannot break the IRI.
    return "/".join(slug(part) for part in key.split("/"))


def entity_iri(base_iri: str, entity: Entity) -> URIRef:
    """``<base_iri>entity/<entity.key>``, e.g. ``https://kg.example.org/entity/organization/tiktok``."""
    return URIRef(base_iri + ENTITY_PATH + _key_path(entity.key))


def article_iri(base_iri: str, article_id: str) -> URIRef:
    """``<base_iri>article/<slug of article_id>``."""
    return URIRef(base_iri + ARTICLE_PATH + slug(article_id))


def fact_iri(base_iri: str, fact: Fact) -> URIRef:
    """``<base_iri>fact/<first 16 hex digits of sha1("subject_key|relation|object_key")>``."""
    # surrogatepass: a key left with a lone surrogate by undecodable input still hashes.
    digest = hashlib.sha1(
        f"{fact.subject.key}|{fact.relation}|{fact.object.key}".encode("utf-8", "surrogatepass")
    ).hexdigest()
    return URIRef(base_iri + FACT_PATH + digest[:16])


def evidence_iri(fact_node: URIRef, number: int) -> URIRef:
    """``<fact IRI>/evidence/<number>``, numbered from 1."""
    return URIRef(f"{fact_node}/evidence/{number}")


def confidence_literal(value: float) -> Literal:
    """An xsd:decimal with three decimals; ValueError unless ``value`` rounds into [0, 1]."""
    if not math.isfinite(value):
        raise ValueError(f"confidence must be a finite number (got {value!r})")
    rounded = Decimal(repr(float(value))).quantize(_THOUSANDTH, rounding=ROUND_HALF_EVEN)
    rounded = abs(rounded) if rounded.is_zero() else rounded  # never "-0.000"
    if not Decimal(0) <= rounded <= Decimal(1):
        raise ValueError(f"confidence must be within [0, 1] (got {value!r})")
    return Literal(str(rounded), datatype=XSD.decimal)


def text_literal(text: str, lang: str | None = None) -> Literal:
    """A string literal of cleaned ``text``, language-tagged when ``lang`` is a usable tag
    (not empty, not "und")."""
    cleaned = literal_text(text)
    if lang and lang.lower() != "und" and _LANGUAGE_TAG.match(lang):
        return Literal(cleaned, lang=lang.lower())
    return Literal(cleaned)


def issued_literal(published: str) -> Literal:
    """xsd:date or xsd:dateTime when ``published`` is an ISO 8601 date or date-time,
    otherwise the cleaned text as a plain string."""
    text = published.strip()
    try:
        return Literal(date.fromisoformat(text).isoformat(), datatype=XSD.date)
    except ValueError:
        pass
    try:
        return Literal(datetime.fromisoformat(text).isoformat(), datatype=XSD.dateTime)
    except ValueError:
        return Literal(literal_text(text))


def _source_order(triple: Triple) -> tuple:
    # Every field, so the order is total and independent of the input order.
    return (
        triple.article_id,
        triple.evidence_start,
        triple.evidence_end,
        triple.rule_id,
        triple.evidence,
        triple.role,
        triple.confidence,
        triple.lang,
        triple.subject.start,
        triple.subject.end,
        triple.subject.text,
        triple.subject.type,
        triple.object.start,
        triple.object.end,
        triple.object.text,
        triple.object.type,
    )


def sorted_sources(fact: Fact) -> list[Triple]:
    """The fact's source triples without duplicates, in the order evidence nodes are numbered."""
    return sorted(set(fact.sources), key=_source_order)


def _check_fact(fact: Fact) -> None:
    if fact.relation not in RELATIONS:
        raise ValueError(f"unknown relation {fact.relation!r} (known: {', '.join(RELATIONS)})")
    for entity in (fact.subject, fact.object):
        if entity.type not in ENTITY_TYPES:
            raise ValueError(f"entity {entity.key!r} has unknown type {entity.type!r}")


class _Builder:
    """Accumulates one graph; keeps track of minted IRIs to refuse silent collisions."""

    def __init__(self, base_iri: str, articles: Mapping[str, Article]) -> None:
        self.base_iri = check_base_iri(base_iri)
        self.graph = bind_namespaces(Graph(bind_namespaces="core"), base_iri)
        self.articles = {article.id: article for article in articles.values()}
        self.entities: dict[str, Entity] = {}
        self.facts: dict[tuple[str, str, str], Fact] = {}
        self.minted: dict[URIRef, str] = {}

    def _mint(self, iri: URIRef, owner: str) -> URIRef:
        previous = self.minted.setdefault(iri, owner)
        if previous != owner:
            raise ValueError(f"{previous!r} and {owner!r} would share the IRI <{iri}>")
        return iri

    def collect(self, facts: Iterable[Fact]) -> None:
        for fact in facts:
            _check_fact(fact)
            for entity in (fact.subject, fact.object):
                known = self.entities.setdefault(entity.key, entity)
                if known != entity:
                    raise ValueError(f"two different entities share the key {entity.key!r}")
            identity = (fact.subject.key, fact.relation, fact.object.key)
            known_fact = self.facts.setdefault(identity, fact)
            if known_fact != fact:
                raise ValueError(f"two different facts state {'|'.join(identity)!r}")

    def article_node(self, article_id: str) -> URIRef:
        return self._mint(article_iri(self.base_iri, article_id), f"article {article_id}")

    def add_entity(self, entity: Entity) -> None:
        graph = self.graph
        node = self._mint(entity_iri(self.base_iri, entity), f"entity {entity.key}")
        graph.add((node, RDF.type, KG[entity.type]))
        label = literal_text(entity.name)
        graph.add((node, RDFS.label, Literal(label)))
        for alias in sorted({literal_text(a) for a in entity.aliases} - {label}):
            graph.add((node, SKOS.altLabel, Literal(alias)))

    def add_article(self, article_id: str) -> None:
        graph = self.graph
        node = self.article_node(article_id)
        graph.add((node, RDF.type, KG.Article))
        graph.add((node, DCTERMS.identifier, Literal(literal_text(article_id))))
        article = self.articles.get(article_id)
        if article is None:  # referenced by a triple but not passed in: identifier only
            return
        if article.title.strip():
            graph.add((node, DCTERMS.title, text_literal(article.title.strip(), article.lang)))
        if article.lang:
            graph.add((node, DCTERMS.language, Literal(literal_text(article.lang))))
        if article.published.strip():
            graph.add((node, DCTERMS.issued, issued_literal(article.published)))
        if article.url.strip():
            url = literal_text(article.url.strip())
            graph.add((node, SCHEMA.url, Literal(url, datatype=XSD.anyURI)))

    def add_fact(self, fact: Fact) -> None:
        graph = self.graph
        subject = entity_iri(self.base_iri, fact.subject)
        predicate = KG[fact.relation]
        obj = entity_iri(self.base_iri, fact.object)
        graph.add((subject, predicate, obj))

        identity = f"fact {fact.subject.key}|{fact.relation}|{fact.object.key}"
        node = self._mint(fact_iri(self.base_iri, fact), identity)
        graph.add((node, RDF.type, KG.Fact))
        graph.add((node, RDF.type, RDF.Statement))
        graph.add((node, RDF.subject, subject))
        graph.add((node, RDF.predicate, predicate))
        graph.add((node, RDF.object, obj))
        graph.add((node, KG.confidence, confidence_literal(fact.confidence)))
        for role in fact.roles:
            graph.add((node, KG.role, Literal(literal_text(role))))
        for article_id in sorted({t.article_id for t in fact.sources}):
            graph.add((node, PROV.wasDerivedFrom, self.article_node(article_id)))
        for number, triple in enumerate(sorted_sources(fact), start=1):
            self.add_evidence(node, evidence_iri(node, number), triple)

    def add_evidence(self, fact_node: URIRef, node: URIRef, triple: Triple) -> None:
        graph = self.graph
        article = self.articles.get(triple.article_id)
        lang = triple.lang or (article.lang if article else None)
        graph.add((fact_node, KG.evidence, node))
        graph.add((node, RDF.type, KG.Evidence))
        graph.add((node, KG.sentence, text_literal(triple.evidence, lang)))
        graph.add((node, KG.startOffset, Literal(triple.evidence_start, datatype=XSD.integer)))
        graph.add((node, KG.endOffset, Literal(triple.evidence_end, datatype=XSD.integer)))
        graph.add((node, KG.rule, Literal(literal_text(triple.rule_id))))
        graph.add((node, KG.confidence, confidence_literal(triple.confidence)))
        graph.add((node, DCTERMS.source, self.article_node(triple.article_id)))
        if triple.role:
            graph.add((node, KG.role, Literal(literal_text(triple.role))))


def build_graph(
    facts: Iterable[Fact], articles: Mapping[str, Article], *, base_iri: str
) -> Graph:
    """The RDF graph of ``facts`` with provenance, and the metadata of ``articles``.

    ``articles`` maps article id to Article; only metadata is used (the text may be empty).
    Every article passed in is described, as is every article a source triple names.
    The result has the project prefixes bound and is the same for the same input, whatever
    the order of ``facts``. Raises ValueError for an unknown relation or entity type, a
    confidence outside [0, 1], a bad base IRI, or two different things that would share
    an IRI (e.g. article ids "a b" and "a-b").
    """
    builder = _Builder(base_iri, articles)
    builder.collect(facts)
    # Insertion order decides the order of some serializations: insert in sorted order.
    for key in sorted(builder.entities):
        builder.add_entity(builder.entities[key])
    referenced = {t.article_id for fact in builder.facts.values() for t in fact.sources}
    for article_id in sorted(referenced | set(builder.articles)):
        builder.add_article(article_id)
    for identity in sorted(builder.facts):
        builder.add_fact(builder.facts[identity])
    return builder.graph


def article_graph_iri(article_node: URIRef) -> URIRef:
    """The named graph of an article: ``<base>graph/<slug>`` for ``<base>article/<slug>``;
    an article IRI kg did not mint names its own graph."""
    head, sep, tail = str(article_node).rpartition(ARTICLE_PATH)
    if sep and tail and "/" not in tail:
        return URIRef(head + GRAPH_PATH + tail)
    return article_node


_Triple = tuple[Node, Node, Node]


def _article_statements(graph: Graph) -> tuple[dict[URIRef, set[_Triple]], set[_Triple]]:
    """Named graph -> the triples it holds, and the triples that leave the default graph."""
    named: dict[URIRef, set[_Triple]] = {}
    moved: set[_Triple] = set()
    for evidence in set(graph.subjects(RDF.type, KG.Evidence)):
        sources = {o for o in graph.objects(evidence, DCTERMS.source) if isinstance(o, URIRef)}
        if not sources:  # no article to file it under: it stays in the default graph
            continue
        statements = set(graph.triples((evidence, None, None)))
        asserted: set[_Triple] = set()
        for fact in graph.subjects(KG.evidence, evidence):
            statements.add((fact, KG.evidence, evidence))
            direct = tuple(graph.value(fact, p) for p in (RDF.subject, RDF.predicate, RDF.object))
            if None not in direct and direct in graph:
                asserted.add(direct)
        moved |= statements
        for source in sources:
            named.setdefault(article_graph_iri(source), set()).update(statements | asserted)
    return named, moved


def dataset_from_graph(graph: Graph) -> Dataset:
    """``graph`` as a dataset with one named graph per article (see the module docstring).

    The union of the default graph and the named graphs is exactly ``graph``; a graph without
    kg:Evidence nodes gives a dataset with only a default graph. The graph's prefixes are kept.
    Named graphs are created in IRI order, so serializations are stable.
    """
    dataset = Dataset()
    for prefix, namespace in graph.namespaces():
        dataset.bind(prefix, namespace, override=True, replace=True)
    named, moved = _article_statements(graph)
    default = dataset.default_graph
    default.addN((s, p, o, default) for s, p, o in graph if (s, p, o) not in moved)
    for name in sorted(named):
        target = dataset.graph(name)
        target.addN((s, p, o, target) for s, p, o in named[name])
    return dataset


def build_dataset(
    facts: Iterable[Fact], articles: Mapping[str, Article], *, base_iri: str
) -> Dataset:
    """:func:`build_graph`, split into per-article named graphs by :func:`dataset_from_graph`."""
    return dataset_from_graph(build_graph(facts, articles, base_iri=base_iri))
