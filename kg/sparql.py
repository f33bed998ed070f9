"""SPARQL over a kg graph: run a query with the project prefixes pre-bound, format the result.

The prefixes of ``kg.vocab`` (kg, schema, prov, dcterms, rdf, rdfs, owl, xsd, skos), those
bound in the graph, and ``ent:``, ``person:``, ``organization:`` and ``place:`` for the base
IRI the graph was built with (read from the graph itself) can be used without PREFIX lines;
a PREFIX line in the query still wins.

Queries are read-only and local: updates, ``SERVICE`` (remote endpoints) and ``FROM`` /
``FROM NAMED`` (which make rdflib fetch and parse IRIs) are refused with a QueryError.

Two engines answer the same queries with the same bindings: rdflib for an ``rdflib.Graph``,
Oxigraph for a :class:`kg.store.GraphStore` (what ``kg query``, ``kg serve`` and ``kg export``
use: it is 100 times faster at a million triples). Oxigraph gives numbers in their canonical
lexical form (``0.8`` where the file says ``0.800``); the values are the same.

Bounds: ``max_rows`` cuts a result (``QueryResult.truncated`` says so) so memory stays bounded;
``timeout`` stops a query between result rows (:class:`QueryTimeout`). Oxigraph cannot be
interrupted inside one row (an aggregate or ORDER BY over a cross product computes before its
first row), so ``kg query`` also runs a :class:`Watchdog` that ends the process on time or
memory, and ``kg serve`` kills its worker process.

The queries shipped in ``queries/`` can be run by name (``kg query graph.ttl moves``); see
:func:`bundled_queries`.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import re
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice, repeat
from pathlib import Path
from typing import Any, TextIO
from xml.etree import ElementTree

from pyparsing import ParseBaseException
from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import XSD
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Node

from .errors import ConfigError, InputError, QueryError
from .graph import literal_text
from .resources import ontology_file
from .store import GraphStore, to_oxigraph, to_rdflib
from .vocab import PREFIXES, bind_namespaces, detect_base_iri, namespaces

RESULT_FORMATS = ("table", "csv", "tsv", "json", "xml")
_SPARQL_RESULTS_NS = "http://www.w3.org/2005/sparql-results#"
# A bundled query's name: a bare word, which can never be a SPARQL query itself.
_QUERY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_PREFIXED_NAME = re.compile(r"^([A-Za-z][\w.-]*)?:([^\s<>\"{}|^`\\]*)$")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)$")
_NT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_PARSER_POSITION = re.compile(r"\s*\(at char \d+\).*$", re.DOTALL)
_PLAIN_LOCAL = re.compile(r"^[^\s<>\"{}|^`\\]+$")
_CELL_ESCAPES = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# What the lexical checks of a query must not look into: comments, strings and IRIs.
_OPAQUE = re.compile(r"""#[^\n]*|'{3}.*?'{3}|"{3}.*?"{3}|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|<[^<>"{}|^`\\\s]*>""",
                     re.DOTALL)
_KEYWORD = r"(?<![\w:?$.-])(?:{})(?![\w:-])"
_REMOTE = re.compile(_KEYWORD.format("SERVICE|FROM"), re.IGNORECASE)
_WHERE = re.compile(_KEYWORD.format("WHERE"), re.IGNORECASE)
_CONSTRUCT = re.compile(_KEYWORD.format("CONSTRUCT"), re.IGNORECASE)
_OXIGRAPH_POSITION = re.compile(r"^error at (\d+):(\d+): ")
_CHECK_EVERY = 256  # result rows between two looks at the clock
DEFAULT_TIMEOUT = 30.0  # seconds a `kg query` may run
DEFAULT_MAX_ROWS = 100_000  # result rows (or triples) `kg query` keeps
DEFAULT_MAX_MEMORY_MB = 2048  # memory a `kg query` may add while it runs


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
    truncated: bool = False  # max_rows cut the result


class QueryTimeout(QueryError):
    """A query ran longer than its time limit."""

    exit_code = 3


def check_limits(timeout: float | None, max_rows: int | None) -> None:
    """ConfigError unless ``timeout`` is None or a finite number of seconds above 0 and
    ``max_rows`` is None or a count of 0 or more."""
    if timeout is not None and not (isinstance(timeout, (int, float)) and 0 < timeout < 1e9):
        raise ConfigError(f"the time limit must be a finite number of seconds above 0 "
                          f"(got {timeout})")
    if max_rows is not None and max_rows < 0:
        raise ConfigError(f"the row limit must be 0 (no limit) or more (got {max_rows})")


def query_namespaces(graph: Graph | GraphStore) -> dict[str, str]:
    """Prefix -> namespace available to queries on ``graph``: its own bindings, kg's, and the
    entity prefixes (``ent:``, ``person:``, ...) of its base IRI when it can be told."""
    found = {prefix: str(ns) for prefix, ns in graph.namespaces() if prefix}
    found.update(PREFIXES)
    base_iri = graph.base_iri if isinstance(graph, GraphStore) else detect_base_iri(graph)
    if base_iri is not None:
        for prefix, namespace in namespaces(base_iri).items():
            found.setdefault(prefix, str(namespace))
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


def _algebra_names(node: Any) -> Iterator[str]:
    if isinstance(node, CompValue):
        yield node.name
        for value in node.values():
            yield from _algebra_names(value)
    elif isinstance(node, (list, tuple, set)):
        for value in node:
            yield from _algebra_names(value)


def _check_local(algebra: CompValue) -> None:
    """Refuse what would make rdflib reach outside the graph: SERVICE, FROM, FROM NAMED."""
    names = set(_algebra_names(algebra))
    if "ServiceGraphPattern" in names:
        raise QueryError("SERVICE is not supported: queries run on the local graph only")
    if "DatasetClause" in names or algebra.get("datasetClause"):
        raise QueryError("FROM and FROM NAMED are not supported: queries run on the loaded "
                         "graph only")


def _deadline(timeout: float | None) -> float | None:
    check_limits(timeout, None)
    return None if timeout is None else time.monotonic() + timeout


def _check_clock(deadline: float | None, timeout: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise QueryTimeout(f"the query took longer than the time limit of {timeout:g} s and "
                           f"was stopped")


def _limited(rows: Iterator[Any], max_rows: int | None, deadline: float | None,
             timeout: float | None, convert: Any) -> tuple[list[Any], bool]:
    """Up to ``max_rows`` rows (None or 0: all), and whether more were left; ``convert``
    maps an iterator of rows to converted rows; the clock is read every ``_CHECK_EVERY``."""
    out: list[Any] = []
    while True:
        batch = _CHECK_EVERY if not max_rows else min(_CHECK_EVERY, max_rows - len(out))
        if batch <= 0:
            return out, next(rows, None) is not None
        before = len(out)
        out.extend(convert(islice(rows, batch)))
        _check_clock(deadline, timeout)
        if len(out) - before < batch:
            return out, False


def _as_tuples(batch: Iterator[Any]) -> Iterator[tuple]:
    return map(tuple, batch)


@contextmanager
def _without_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while result rows are built: rows are tuples of
    terms, never cycles, and at 100,000 rows its passes over them took a third of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Terms(dict):
    """pyoxigraph term -> rdflib term, converting each distinct term once (None stays None)."""

    def __missing__(self, key: Any) -> Node | None:
        value = self[key] = None if key is None else to_rdflib(key)
        return value


def run_query(
    graph: Graph | GraphStore, sparql: str, *, bindings: Mapping[str, Node] | None = None,
    timeout: float | None = None, max_rows: int | None = None,
) -> QueryResult:
    """Run a SPARQL SELECT, ASK, CONSTRUCT or DESCRIBE query on ``graph``: rdflib's engine
    for an rdflib Graph, Oxigraph's for a :class:`kg.store.GraphStore`.

    ``bindings`` pre-binds variables by name (without "?"). ``max_rows`` (None or 0: no
    limit) keeps the first rows (triples for CONSTRUCT) and sets ``truncated``; ``timeout``
    raises QueryTimeout when the limit passes between two rows. Raises QueryError with one
    line (with line and column for a syntax error) when the query is malformed, is an update,
    uses SERVICE, FROM or FROM NAMED, or fails; ConfigError for a bad limit.
    """
    check_limits(timeout, max_rows)
    if isinstance(graph, GraphStore):
        return _run_oxigraph(graph, sparql, bindings or {}, timeout, max_rows)
    deadline = _deadline(timeout)
    prefixes = query_namespaces(graph)
    try:
        prepared = prepareQuery(sparql, initNs=prefixes)
    except ParseBaseException as exc:
        raise _syntax_error(sparql, exc) from exc
    except Exception as exc:  # rdflib reports e.g. an unknown prefix as a bare Exception
        raise QueryError(f"SPARQL query is invalid: {_one_line(exc)}") from exc
    _check_local(prepared.algebra)
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
            triples, truncated = _limited(iter(result.graph or ()), max_rows, deadline, timeout,
                                          _as_tuples)
            out.addN((s, p, o, out) for s, p, o in triples)
            return QueryResult(result.type, graph=out, namespaces=namespaces, truncated=truncated)
        variables = tuple(str(v) for v in result.vars or ())
        rows, truncated = _limited(iter(result), max_rows, deadline, timeout, _as_tuples)
    except QueryError:
        raise
    except Exception as exc:  # evaluation errors surface from deep inside rdflib
        raise QueryError(f"SPARQL query failed: {_one_line(exc)}") from exc
    return QueryResult("SELECT", variables=variables, rows=tuple(rows), namespaces=namespaces,
                       truncated=truncated)


def _masked(sparql: str) -> str:
    """``sparql`` with comments, strings and IRIs blanked out (same length, same offsets)."""
    return _OPAQUE.sub(lambda m: " " * len(m.group()), sparql)


def _check_local_text(masked: str) -> None:
    """The lexical twin of :func:`_check_local`, for Oxigraph (which would call a SERVICE
    endpoint): refuses the SERVICE and FROM keywords wherever they appear."""
    found = _REMOTE.search(masked)
    if found is None:
        return
    if found.group().upper() == "SERVICE":
        raise QueryError("SERVICE is not supported: queries run on the local graph only")
    raise QueryError("FROM and FROM NAMED are not supported: queries run on the loaded "
                     "graph only")


def _pattern_start(masked: str) -> int | None:
    """Offset just after the ``{`` that opens the query's WHERE pattern, or None."""
    where = _WHERE.search(masked)
    if where is not None:
        brace = masked.find("{", where.end())
        return None if brace < 0 else brace + 1
    construct = _CONSTRUCT.search(masked)
    brace = masked.find("{", construct.end() if construct else 0)
    if brace < 0:
        return None
    if construct is not None:  # CONSTRUCT {template} {pattern}: skip the template
        depth = 0
        for index in range(brace, len(masked)):
            depth += {"{": 1, "}": -1}.get(masked[index], 0)
            if depth == 0:
                brace = masked.find("{", index)
                return None if brace < 0 else brace + 1
        return None
    return brace + 1


def _with_bindings(sparql: str, masked: str, bindings: Mapping[str, Node]) -> str:
    """The query with ``VALUES`` for the pre-bound variables first in its WHERE pattern (so
    they are bound throughout it, as rdflib's initBindings do)."""
    start = _pattern_start(masked)
    if start is None:
        raise QueryError("cannot pre-bind variables: the query has no WHERE pattern")
    values = []
    for name, value in bindings.items():
        if not isinstance(value, (URIRef, Literal)):
            raise QueryError(f"cannot pre-bind ?{name} to a blank node")
        values.append(f"VALUES ?{name.lstrip('?$')} {{ {value.n3()} }}")
    return sparql[:start] + " " + " ".join(values) + " " + sparql[start:]


def _oxigraph_error(sparql: str, exc: Exception, prefixes: Mapping[str, str]) -> QueryError:
    """The same one-line error rdflib's parser gives, else Oxigraph's with a position."""
    try:
        prepareQuery(sparql, initNs=prefixes)
    except ParseBaseException as rdflib_exc:
        return _syntax_error(sparql, rdflib_exc)
    except Exception as rdflib_exc:  # e.g. an unknown prefix
        return QueryError(f"SPARQL query is invalid: {_one_line(rdflib_exc)}")
    message = _one_line(exc)
    position = _OXIGRAPH_POSITION.match(message)
    if position:
        line, column = position.groups()
        return QueryError(f"SPARQL syntax error at line {line}, column {column}: "
                          f"{message[position.end():]}")
    return QueryError(f"SPARQL query is invalid: {message}")


def _run_oxigraph(graph: GraphStore, sparql: str, bindings: Mapping[str, Node],
                  timeout: float | None, max_rows: int | None) -> QueryResult:
    deadline = _deadline(timeout)
    cached = graph.cache.get("query_namespaces")
    if cached is None:  # the same for every query on this store
        prefixes = query_namespaces(graph)
        cached = graph.cache["query_namespaces"] = (prefixes, tuple(sorted(prefixes.items())))
    prefixes, namespaces = cached
    lowered = sparql.lower()
    masked = sparql
    if bindings or "service" in lowered or "from" in lowered or "describe" in lowered:
        masked = _masked(sparql)
        _check_local_text(masked)
    text = _with_bindings(sparql, masked, bindings) if bindings else sparql
    convert = _Terms().__getitem__

    try:
        result = graph.store.query(text, prefixes=prefixes)
    except SyntaxError as exc:
        raise _oxigraph_error(text, exc, prefixes) from exc
    except Exception as exc:  # evaluation errors (OSError, ValueError, RuntimeError ...)
        raise QueryError(f"SPARQL query failed: {_one_line(exc)}") from exc
    try:
        with _without_gc():
            return _oxigraph_result(graph, result, masked, namespaces, convert, deadline,
                                    timeout, max_rows)
    except QueryError:
        raise
    except Exception as exc:
        raise QueryError(f"SPARQL query failed: {_one_line(exc)}") from exc


def _oxigraph_result(graph: GraphStore, result: Any, masked: str,
                     namespaces: tuple[tuple[str, str], ...], convert: Any,
                     deadline: float | None, timeout: float | None,
                     max_rows: int | None) -> QueryResult:
    """An Oxigraph answer as a QueryResult of rdflib terms."""
    import pyoxigraph

    if isinstance(result, pyoxigraph.QueryBoolean):
        return QueryResult("ASK", boolean=bool(result), namespaces=namespaces)
    if isinstance(result, pyoxigraph.QueryTriples):
        triples, truncated = _limited(
            iter(result), max_rows, deadline, timeout,
            lambda batch: [(convert(t.subject), convert(t.predicate), convert(t.object))
                           for t in batch])
        out = Graph(bind_namespaces="core")
        for prefix, namespace in graph.namespaces():
            out.bind(prefix, namespace)
        bind_namespaces(out)
        out.addN((s, p, o, out) for s, p, o in triples)
        kind = "CONSTRUCT"
        if re.search(_KEYWORD.format("DESCRIBE"), masked, re.IGNORECASE):
            kind = "DESCRIBE"
            _add_reifications(graph, out, convert)
        return QueryResult(kind, graph=out, namespaces=namespaces, truncated=truncated)
    variables = tuple(v.value for v in result.variables)
    # map(tuple, map(map, ...)): the conversion loops run in C, not per row in Python
    rows, truncated = _limited(iter(result), max_rows, deadline, timeout,
                               lambda batch: map(tuple, map(map, repeat(convert), batch)))
    return QueryResult("SELECT", variables=variables, rows=tuple(rows), namespaces=namespaces,
                       truncated=truncated)


def _add_reifications(graph: GraphStore, out: Graph, convert: Any) -> None:
    """Complete Oxigraph's DESCRIBE answer to rdflib's (:meth:`rdflib.Graph.cbd`): for each
    described resource, the statements reifying its triples, with their own descriptions."""
    import pyoxigraph

    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    store, default = graph.store, pyoxigraph.DefaultGraph()
    subject_p, predicate_p, object_p = (pyoxigraph.NamedNode(rdf + name)
                                        for name in ("subject", "predicate", "object"))
    done: set[Node] = set()

    def describe(node: Node) -> None:
        done.add(node)
        pending = [node]
        while pending:
            current = pending.pop()
            term = to_oxigraph(current)
            for quad in store.quads_for_pattern(term, None, None, default):
                triple = (current, convert(quad.predicate), convert(quad.object))
                out.add(triple)
                if isinstance(triple[2], BNode) and triple[2] not in done:
                    done.add(triple[2])
                    pending.append(triple[2])
            for quad in store.quads_for_pattern(None, subject_p, term, default):
                statement = quad.subject
                predicates = list(store.quads_for_pattern(statement, predicate_p, None, default))
                objects = list(store.quads_for_pattern(statement, object_p, None, default))
                if len(predicates) == 1 and len(objects) == 1:
                    reified = (current, convert(predicates[0].object), convert(objects[0].object))
                    node_ = convert(statement)
                    if reified in out and node_ not in done:
                        done.add(node_)
                        pending.append(node_)

    for resource in {s for s in out.subjects() if not isinstance(s, BNode)}:
        if resource not in done:
            describe(resource)


def _resident_bytes() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # not Linux: no memory watch
        return None


class Watchdog:
    """Ends the process with one error line when a query overruns its time or memory: the
    only way to stop an Oxigraph query that is busy inside one result row (for the CLI only;
    Oxigraph releases the GIL while it works, so this thread runs meanwhile).

    ``max_memory`` is in bytes above the resident size when the watchdog starts (None: no
    memory watch). Use as a context manager around the query.
    """

    def __init__(self, timeout: float, max_memory: int | None = None, *,
                 code: int = QueryTimeout.exit_code, poll: float = 0.05) -> None:
        self.timeout = timeout
        self.code = code
        self.poll = poll
        base = _resident_bytes()
        self.memory_ceiling = None if max_memory is None or base is None else base + max_memory
        self.max_memory = max_memory
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="kg-query-watchdog", daemon=True)

    def _fire(self, message: str) -> None:
        sys.stderr.write(f"kg: error: {message}\n")
        sys.stderr.flush()
        os._exit(self.code)

    def _watch(self) -> None:
        deadline = time.monotonic() + self.timeout
        while not self._stop.wait(self.poll):
            if time.monotonic() > deadline:
                self._fire(f"the query took longer than the time limit of {self.timeout:g} s "
                           f"and was stopped (--timeout)")
            if self.memory_ceiling is not None:
                resident = _resident_bytes()
                if resident is not None and resident > self.memory_ceiling:
                    self._fire(f"the query needed more than {self.max_memory // 2**20} MB of "
                               f"memory and was stopped (--max-memory)")

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


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


def _tsv_term(term: Node | None) -> str:
    """A term in the SPARQL 1.1 TSV results syntax (Turtle/N-Triples terms, escaped)."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    text = f'"{str(term).translate(_NT_ESCAPES)}"'
    if isinstance(term, Literal) and term.language:
        return f"{text}@{term.language}"
    if isinstance(term, Literal) and term.datatype is not None and term.datatype != XSD.string:
        return f"{text}^^<{term.datatype}>"
    return text


def _format_tsv(result: QueryResult) -> str:
    lines = ["\t".join(f"?{name}" for name in result.variables)]
    lines.extend("\t".join(_tsv_term(term) for term in row) for row in result.rows)
    return "\n".join(lines) + "\n"


def _xml_term(parent: ElementTree.Element, term: Node) -> None:
    if isinstance(term, URIRef):
        ElementTree.SubElement(parent, "uri").text = literal_text(str(term))
    elif isinstance(term, BNode):
        ElementTree.SubElement(parent, "bnode").text = literal_text(str(term))
    elif isinstance(term, Literal):
        element = ElementTree.SubElement(parent, "literal")
        if term.language:
            element.set("{http://www.w3.org/XML/1998/namespace}lang", term.language)
        elif term.datatype is not None:
            element.set("datatype", str(term.datatype))
        element.text = literal_text(str(term))
    else:
        raise QueryError(f"cannot represent {term!r} in SPARQL XML results")


def _format_xml(result: QueryResult) -> str:
    """SPARQL 1.1 XML results. Characters XML 1.0 cannot hold (C0 controls other than tab
    and line breaks) are dropped; a carriage return is kept as a character reference."""
    root = ElementTree.Element("sparql", xmlns=_SPARQL_RESULTS_NS)
    head = ElementTree.SubElement(root, "head")
    if result.kind == "ASK":
        ElementTree.SubElement(root, "boolean").text = "true" if result.boolean else "false"
    else:
        for name in result.variables:
            ElementTree.SubElement(head, "variable", name=name)
        results = ElementTree.SubElement(root, "results")
        for row in result.rows:
            item = ElementTree.SubElement(results, "result")
            for name, term in zip(result.variables, row):
                if term is not None:
                    _xml_term(ElementTree.SubElement(item, "binding", name=name), term)
    text = ElementTree.tostring(root, encoding="unicode", xml_declaration=False)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text.replace("\r", "&#13;") + "\n"


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

    ``fmt`` is "table" (aligned columns, IRIs shortened with the prefixes), or one of the
    SPARQL 1.1 result formats "csv", "tsv", "json" and "xml". ASK gives "true"/"false" (a
    boolean document for "json" and "xml"); CONSTRUCT and DESCRIBE give Turtle whatever
    ``fmt`` is. Raises ConfigError for an unknown format.
    """
    if fmt not in RESULT_FORMATS:
        raise ConfigError(f"unknown result format {fmt!r} (known: {', '.join(RESULT_FORMATS)})")
    if result.graph is not None:
        return result.graph.serialize(format="turtle")
    if fmt == "json":
        return _format_json(result)
    if fmt == "xml":
        return _format_xml(result)
    if result.kind == "ASK":
        return ("true" if result.boolean else "false") + "\n"
    if fmt == "csv":
        return _format_csv(result)
    if fmt == "tsv":
        return _format_tsv(result)
    return _format_table(result)


def queries_dir() -> Path:
    """The shipped ``queries/`` folder, beside ``ontology/``: at the top of a source checkout,
    or in ``share/kg-news/`` of an installation."""
    return ontology_file().parent.parent / "queries"


def bundled_queries() -> dict[str, Path]:
    """Name -> path of every query shipped in ``queries/`` (the name is the file stem)."""
    folder = queries_dir()
    return {path.stem: path for path in sorted(folder.glob("*.rq")) if path.is_file()}


def describe_query(text: str) -> str:
    """The comment header of a query file (what it answers, its parameters) as plain text."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].strip())
    return "\n".join(lines).strip()


def _read_query_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"query file not found: {path}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"query file {path} is not UTF-8 text") from exc
    except OSError as exc:
        raise InputError(f"cannot read query file {path}: {exc.strerror or exc}") from exc


def read_query_arg(arg: str, stdin: TextIO) -> str:
    """The query text an argument stands for: ``-`` reads ``stdin``, ``@path`` reads a file
    (e.g. ``@queries/people.rq``), a bare word names a query shipped in ``queries/`` (e.g.
    ``moves``), anything else is the query itself.

    Raises InputError when the file cannot be read, QueryError when the query is empty or
    no shipped query has the name.
    """
    if arg == "-":
        text = stdin.read()
    elif arg.startswith("@"):
        if not arg[1:]:
            raise InputError("expected a file name after '@'")
        text = _read_query_file(Path(arg[1:]))
    elif _QUERY_NAME.match(arg):
        known = bundled_queries()
        if arg not in known:
            raise QueryError(f"no bundled query named {arg!r} (known: {', '.join(known)}); "
                             f"give SPARQL text, @file.rq or - for standard input")
        text = _read_query_file(known[arg])
    else:
        text = arg
    if not text.strip():
        raise QueryError("the SPARQL query is empty")
    return text


def parse_binding(text: str, prefixes: Mapping[str, str] | None = None) -> tuple[str, Node]:
    """``NAME=VALUE`` (e.g. from ``--bind``) as a variable name and an RDF term.

    VALUE is read as in Turtle: ``<iri>`` is an IRI, ``prefix:local`` an IRI when the prefix
    is known (``prefixes``, default kg's), a bare number an xsd:integer or xsd:decimal,
    ``"text"`` a string, and anything else a plain string (``person="Anna Müller"`` and
    ``person=Anna Müller`` are the same). Raises QueryError for a malformed binding.
    """
    name, sep, value = text.partition("=")
    name = name.strip().lstrip("?$")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise QueryError(f"a binding reads NAME=VALUE, e.g. article=en_zalando (got {text!r})")
    known = dict(PREFIXES if prefixes is None else prefixes)
    if value.startswith("<") and value.endswith(">") and len(value) > 2:
        return name, URIRef(value[1:-1])
    prefixed = _PREFIXED_NAME.match(value)
    if prefixed and (prefixed.group(1) or "") in known:
        return name, URIRef(known[prefixed.group(1) or ""] + prefixed.group(2))
    if _NUMBER.match(value):
        if "." in value:
            return name, Literal(value, datatype=XSD.decimal)
        return name, Literal(int(value))
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return name, Literal(value)
