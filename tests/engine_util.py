"""Comparing answers of the rdflib and Oxigraph engines: Oxigraph writes numbers in canonical
form (0.7 where the file says 0.700) and GROUP_CONCAT in no fixed order, so answers are the
same when their terms are the same after canonical numbers and sorted concatenations."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from rdflib import Graph, Literal
from rdflib.namespace import XSD
from rdflib.term import Node

_NUMERIC = {XSD.decimal, XSD.integer, XSD.double, XSD.float, XSD.int, XSD.long,
            XSD.nonNegativeInteger}


def canonical_term(term: Node | None, separator: str | None = None) -> Node | None:
    """``term`` with a numeric value in one lexical form (and, given ``separator``, the parts
    of a concatenated string sorted)."""
    if isinstance(term, Literal) and term.datatype in _NUMERIC:
        try:
            value = Decimal(str(term)).normalize()
        except InvalidOperation:
            return term
        return Literal(f"{value:f}", datatype=XSD.decimal)
    if separator and isinstance(term, Literal) and term.datatype is None and separator in term:
        return Literal(separator.join(sorted(str(term).split(separator))), lang=term.language)
    return term


def canonical_rows(rows, separator: str | None = ", ") -> list[tuple]:
    """The rows of a SELECT answer as a sorted list of canonical terms."""
    return sorted((tuple(canonical_term(t, separator) for t in row) for row in rows),
                  key=lambda row: tuple("" if t is None else t.n3() for t in row))


def canonical_graph(graph: Graph) -> Graph:
    out = Graph()
    out.addN((s, p, canonical_term(o), out) for s, p, o in graph)
    return out
