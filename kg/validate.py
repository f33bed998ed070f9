"""Check a graph against kg's SHACL shapes (``ontology/shapes.ttl``) with pyshacl.

pyshacl is needed only here and is imported when a graph is validated, so the rest of kg works
without it. Validation runs without inference and never fetches anything (no owl:imports).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from .errors import ModelNotInstalled
from .sparql import query_namespaces, shorten_iri
from .resources import ontology_file

SHAPES_FILE = "shapes.ttl"


@dataclass(frozen=True)
class Violation:
    """One SHACL validation result: the node, the property path, what is wrong."""

    focus: str  # the focus node, shortened with the graph's prefixes
    path: str  # the property path ("" when the shape has none, e.g. a node-level check)
    message: str
    severity: str = "Violation"  # "Violation", "Warning" or "Info"
    value: str = ""  # the offending value, when there is one


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of :func:`validate_graph`; ``conforms`` is False when any result is a
    violation (warnings and infos alone still conform)."""

    conforms: bool
    violations: tuple[Violation, ...]


def load_shapes(path: str | Path | None = None) -> Graph:
    """The shapes graph: ``path``, or the shipped ``ontology/shapes.ttl``.

    Raises InputError with one line when the file is missing or does not parse.
    """
    from .export import load_graph  # export depends on more than validation needs

    return load_graph(ontology_file(SHAPES_FILE) if path is None else path, fmt="turtle")


def _pyshacl_validate():
    try:
        from pyshacl import validate
    except ImportError as exc:
        raise ModelNotInstalled("pyshacl is not installed; run: pip install pyshacl") from exc
    return validate


def _term_text(term: Node | None, prefixes: dict[str, str]) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return shorten_iri(str(term), prefixes)
    if isinstance(term, Literal):
        return " ".join(str(term).split())
    return f"_:{term}"


def _path_text(results: Graph, path: Node | None, prefixes: dict[str, str]) -> str:
    if isinstance(path, BNode):
        inverse = results.value(path, SH.inversePath)
        if inverse is not None:
            return "^" + _path_text(results, inverse, prefixes)
        return "(complex path)"
    return _term_text(path, prefixes)


def validate_graph(graph: Graph, shapes: Graph | None = None) -> ValidationReport:
    """Validate ``graph`` against ``shapes`` (default: the shipped shapes).

    Results are sorted by focus node, path and message, without duplicates. Raises ModelNotInstalled when pyshacl
    is not installed.
    """
    validate = _pyshacl_validate()
    conforms, results, _text = validate(
        graph, shacl_graph=shapes if shapes is not None else load_shapes(),
        inference="none", advanced=True, allow_warnings=True, do_owl_imports=False,
    )
    prefixes = query_namespaces(graph)
    found = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        messages = sorted(str(m) for m in results.objects(result, SH.resultMessage))
        severity = results.value(result, SH.resultSeverity)
        found.append(Violation(
            focus=_term_text(results.value(result, SH.focusNode), prefixes),
            path=_path_text(results, results.value(result, SH.resultPath), prefixes),
            message=" ".join(messages[0].split()) if messages else "constraint not met",
            severity=str(severity).rpartition("#")[2] if severity is not None else "Violation",
            value=_term_text(results.value(result, SH.value), prefixes),
        ))
    # Two constraints of one shape (say datatype and range) can fail with the same message.
    unique = sorted(set(found), key=lambda v: (v.focus, v.path, v.message, v.value, v.severity))
    return ValidationReport(conforms=bool(conforms), violations=tuple(unique))


def format_violation(violation: Violation) -> str:
    """One line: ``<severity>: <focus node> <path>: <message> (value: <value>)``."""
    where = f"{violation.focus} {violation.path}".rstrip()
    value = f" (value: {violation.value})" if violation.value else ""
    line = f"{violation.severity}: {where}: {violation.message}{value}"
    return line.replace("\n", " ").replace("\r", " ")


def validate_file(path: str | Path, shapes_path: str | Path | None = None) -> ValidationReport:
    """Load the RDF file at ``path`` and validate it; InputError for an unreadable file."""
    from .export import load_graph

    return validate_graph(load_graph(path), load_shapes(shapes_path))


__all__ = ["SHAPES_FILE", "ValidationReport", "Violation", "format_violation",
           "load_shapes", "validate_file", "validate_graph"]
