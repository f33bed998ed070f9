"""SPARQL over a kg graph: run a query with the project prefixes pre-bound, format the result.

The prefixes of ``kg.vocab`` (kg, schema, prov, dcterms, rdf, rdfs, owl, xsd, skos) and those
bound in the graph (``ent:`` in graphs kg built) can be used without PREFIX lines; a PREFIX
line in the query still wins.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from pyparsing import ParseBaseException
from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.term import Node

from .errors import ConfigError, InputError, QueryError
from .vocab import PREFIXES, bind_namespaces

RESULT_FORMATS = ("table", "csv", "json")
_PARSER_POSITION = re.compile(r"\s*\(at char \d+\).*$", re.DOTALL)
_PLAIN_LOCAL = re.compile(r"^[^\s<>\"{}|^`\\]+$")
_CELL_ESCAPES = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class QueryResult:
    """The materialised answer to one query.

    ``kind`` is "SELECT", "ASK", "CONSTRUCT" or "DESCRIBE". SELECT fills ``variables`` and
    ``rows`` (None where a variable is unbound), ASK fills ``boolean``, CONSTRUCT and DESCRIBE
    fill ``graph``. ``namespaces`` are the (prefix, namespace) pairs the query could use,
    for shortening IRIs in a table.
    """

    kind: str
    variables: tuple[str, ...] = ()
    rows: tuple[tuple[Node | None, ...], ...] = ()
    boolean: bool | None = None
    graph: Graph | None = None
    namespaces: tuple[tuple[str, str], ...] = ()


def query_namespaces(graph: Graph) -> dict[str, str]:
    """Prefix -> namespace available to queries on ``graph``: its own bindings, then kg's."""
    found = {prefix: str(ns) for prefix, ns in graph.namespaces() if prefix}
    found.update(PREFIXES)
    return found


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _syntax_error(sparql: str, exc: ParseBaseException) -> QueryError:
    try:
        parseUpdate(sparql)
    except Exception:  # not an update either: report the query parser's complaint
        detail = " ".join(_PARSER_POSITION.sub("", str(exc)).split())
        return QueryError(
            f"SPARQL syntax error at line {exc.lineno}, column {exc.col}: {detail}"
        )
    return QueryError("SPARQL updates (INSERT, DELETE, LOAD ...) are not supported: "
                      "queries are read-only")


def run_query(
    graph: Graph, sparql: str, *, bindings: Mapping[str, Node] | None = None
) -> QueryResult:
    """Run a SPARQL SELECT, ASK, CONSTRUCT or DESCRIBE query on ``graph``.

    ``bindings`` pre-binds variables by name (without "?"). Raises QueryError with one line
    (with line and column for a syntax error) when the query is malformed or fails.
    """
    prefixes = query_namespaces(graph)
    try:
        prepared = prepareQuery(sparql, initNs=prefixes)
    except ParseBaseException as exc:
        raise _syntax_error(sparql, exc) from exc
    except Exception as exc:  # rdflib reports e.g. an unknown prefix as a bare Exception
        raise QueryError(f"SPARQL query is invalid: {_one_line(exc)}") from exc
    init = {Variable(name.lstrip("?$")): value for name, value in (bindings or {}).items()}
    namespaces = tuple(sorted(prefixes.items()))
    try:
        result = graph.query(prepared, initBindings=init)
        if result.type == "ASK":
            return QueryResult("ASK", boolean=bool(result.askAnswer), namespaces=namespaces)
        if result.type in ("CONSTRUCT", "DESCRIBE"):
            out = Graph(bind_namespaces="core")
            for prefix, namespace in graph.namespaces():
                out.bind(prefix, namespace)
            bind_namespaces(out)
            for triple in result.graph or ():
                out.add(triple)
            return QueryResult(result.type, graph=out, namespaces=namespaces)
        variables = tuple(str(v) for v in result.vars or ())
        rows = tuple(tuple(row) for row in result)
    except Exception as exc:  # evaluation errors surface from deep inside rdflib
        raise QueryError(f"SPARQL query failed: {_one_line(exc)}") from exc
    return QueryResult("SELECT", variables=variables, rows=rows, namespaces=namespaces)


def shorten_iri(iri: str, namespaces: Mapping[str, str] | tuple[tuple[str, str], ...]) -> str:
    """``prefix:local`` with the longest matching namespace, else ``<iri>``."""
    pairs = namespaces.items() if isinstance(namespaces, Mapping) else namespaces
    best: tuple[str, str] | None = None
    for prefix, namespace in pairs:
        if iri.startswith(namespace) and (best is None or len(namespace) > len(best[1])):
            local = iri[len(namespace):]
            if _PLAIN_LOCAL.match(local):
                best = (prefix, namespace)
    if best is None:
        return f"<{iri}>"
    return f"{best[0]}:{iri[len(best[1]):]}"


def _cell(term: Node | None, namespaces: tuple[tuple[str, str], ...]) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        text = shorten_iri(str(term), namespaces)
    elif isinstance(term, BNode):
        text = f"_:{term}"
    else:
        text = str(term)
    # One line per row, and no terminal escape sequences smuggled in by a loaded graph.
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text.translate(_CELL_ESCAPES))


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide East Asian characters count twice."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _format_table(result: QueryResult) -> str:
    header = [f"?{name}" for name in result.variables]
    body = [[_cell(term, result.namespaces) for term in row] for row in result.rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in body]) for i, h in enumerate(header)]
    lines = ["  ".join(_pad(h, w) for h, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(_pad(c, w) for c, w in zip(r, widths)).rstrip() for r in body)
    count = len(body)
    lines.append(f"({count} row{'' if count == 1 else 's'})")
    return "\n".join(lines) + "\n"


def _csv_value(term: Node | None) -> str:
    if term is None:
        return ""
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)  # IRIs as they are, literals as their lexical form


def _format_csv(result: QueryResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(result.variables)
    for row in result.rows:
        writer.writerow([_csv_value(term) for term in row])
    return buffer.getvalue()


def _json_term(term: Node) -> dict[str, str]:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    if isinstance(term, Literal):
        out = {"type": "literal", "value": str(term)}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype is not None:
            out["datatype"] = str(term.datatype)
        return out
    raise QueryError(f"cannot represent {term!r} in SPARQL JSON results")


def _format_json(result: QueryResult) -> str:
    if result.kind == "ASK":
        document: dict = {"head": {}, "boolean": bool(result.boolean)}
    else:
        bindings = [
            {name: _json_term(term) for name, term in zip(result.variables, row) if term is not None}
            for row in result.rows
        ]
        document = {"head": {"vars": list(result.variables)}, "results": {"bindings": bindings}}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def format_result(result: QueryResult, fmt: str = "table") -> str:
    """Render ``result`` as text.

    ``fmt`` is "table" (aligned columns, IRIs shortened with the prefixes), "csv" (SPARQL 1.1
    CSV results) or "json" (SPARQL 1.1 JSON results). ASK gives "true"/"false" (a JSON
    boolean document for "json"); CONSTRUCT and DESCRIBE give Turtle whatever ``fmt`` is.
    Raises ConfigError for an unknown format.
    """
    if fmt not in RESULT_FORMATS:
        raise ConfigError(f"unknown result format {fmt!r} (known: {', '.join(RESULT_FORMATS)})")
    if result.graph is not None:
        return result.graph.serialize(format="turtle")
    if fmt == "json":
        return _format_json(result)
    if result.kind == "ASK":
        return ("true" if result.boolean else "false") + "\n"
    if fmt == "csv":
        return _format_csv(result)
    return _format_table(result)


def read_query_arg(arg: str, stdin: TextIO) -> str:
    """The query text an argument stands for: ``-`` reads ``stdin``, ``@path`` reads a file
    (e.g. ``@queries/people.rq``), anything else is the query itself.

    Raises InputError when the file cannot be read, QueryError when the query is empty.
    """
    if arg == "-":
        text = stdin.read()
    elif arg.startswith("@"):
        path = Path(arg[1:])
        if not arg[1:]:
            raise InputError("expected a file name after '@'")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError as exc:
            raise InputError(f"query file not found: {path}") from exc
        except UnicodeDecodeError as exc:
            raise InputError(f"query file {path} is not UTF-8 text") from exc
        except OSError as exc:
            raise InputError(f"cannot read query file {path}: {exc.strerror or exc}") from exc
    else:
        text = arg
    if not text.strip():
        raise QueryError("the SPARQL query is empty")
    return text
