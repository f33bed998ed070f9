"""Shared by the round-trip tests: pyoxigraph terms as rdflib terms, and graph comparison
that prints the difference on failure."""

from __future__ import annotations

import pyoxigraph
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import graph_diff, to_isomorphic
from rdflib.namespace import XSD


def oxigraph_to_rdflib(term):
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == str(XSD.string):  # RDF 1.1: the same as a simple literal
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def assert_isomorphic(expected: Graph, actual: Graph, what: str) -> None:
    left, right = to_isomorphic(expected), to_isomorphic(actual)
    if left != right:
        _, only_expected, only_actual = graph_diff(left, right)
        pytest.fail(
            f"{what}: graphs differ\nonly in expected:\n{only_expected.serialize(format='nt')}"
            f"only in actual:\n{only_actual.serialize(format='nt')}"
        )
