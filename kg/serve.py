"""A read-only SPARQL 1.1 Protocol endpoint over kg graphs, on the standard library's HTTP server.

``GET /sparql?query=...``, ``POST /sparql`` with a form-encoded ``query=`` or an
``application/sparql-query`` body; ``/`` serves a small HTML page with a query box (and answers
queries like ``/sparql`` when given one). SELECT and ASK results are SPARQL JSON (default),
XML, CSV or TSV; CONSTRUCT and DESCRIBE results are Turtle (default), N-Triples, RDF/XML or
JSON-LD, chosen by the Accept header or by a ``format`` parameter (``json``, ``xml``, ``csv``,
``tsv``, ``turtle``, ``nt``, ``rdf-xml``, ``json-ld``).

Safety:

- read-only: ``update=`` and ``application/sparql-update`` are refused with 403, and a query
  that is an update with 400; queries are run by :func:`kg.sparql.run_query`, which refuses
  ``SERVICE``, ``FROM`` and ``FROM NAMED``, so nothing is ever fetched from elsewhere;
- it listens on the loopback interface unless told otherwise;
- each query runs in a worker *process* holding its own copy of the graph; when a query takes
  longer than the time limit the answer is 503 and the worker is killed and replaced (rdflib
  cannot interrupt a query, and a thread could not be stopped). Workers also block outgoing
  network connections with an audit hook and turn off rdflib's loading of FROM graphs;
- request bodies are limited to ``MAX_BODY`` bytes.
"""

from __future__ import annotations

import html
import logging
import multiprocessing
import queue
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .errors import ConfigError, KgError, QueryError

if TYPE_CHECKING:  # rdflib and the query module load in the workers, not for `kg --help`
    from rdflib import Graph

    from .sparql import QueryResult

LOG = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
DEFAULT_TIMEOUT = 10.0  # seconds a query may run
DEFAULT_WORKERS = 2  # queries answered at the same time
MAX_BODY = 1_000_000  # bytes of a POST body
WORKER_START_TIMEOUT = 120.0  # seconds a new worker may take to load the graph
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")

# Offered media type -> result format of kg.sparql.format_result; the first is the default.
RESULT_MEDIA_TYPES: dict[str, str] = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
}
# Offered media type -> format of kg.export.FORMATS; the first is the default.
GRAPH_MEDIA_TYPES: dict[str, str] = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "rdf-xml",
    "application/ld+json": "json-ld",
    "application/x-turtle": "turtle",
    "application/turtle": "turtle",
    "text/plain": "nt",
    "application/json": "json-ld",
    "application/xml": "rdf-xml",
}
# Format -> the media type answers in it are labelled with (its first offer).
_RESULT_CANONICAL = {fmt: media for media, fmt in reversed(RESULT_MEDIA_TYPES.items())}
_GRAPH_CANONICAL = {fmt: media for media, fmt in reversed(GRAPH_MEDIA_TYPES.items())}
# Values of the ``format`` / ``output`` parameter (as SPARQLWrapper and browsers send them).
_RESULT_NAMES = {name: name for name in _RESULT_CANONICAL}
_GRAPH_NAMES = {**{name: name for name in _GRAPH_CANONICAL}, "ttl": "turtle", "n3": "turtle",
                "ntriples": "nt", "n-triples": "nt", "rdf+xml": "rdf-xml", "rdfxml": "rdf-xml",
                "xml": "rdf-xml", "jsonld": "json-ld", "json": "json-ld"}
_BLOCKED_AUDIT_EVENTS = frozenset({"socket.connect", "socket.getaddrinfo", "urllib.Request"})


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, media type and body."""

    status: int
    content_type: str
    body: bytes

    @classmethod
    def text(cls, status: int, message: str) -> Answer:
        """A one-line plain-text answer (errors)."""
        return cls(status, "text/plain; charset=utf-8", (message.rstrip() + "\n").encode("utf-8"))


# --------------------------------------------------------------------------- negotiation

def _parse_accept(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        quality = 1.0
        for parameter in fields[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = max(0.0, min(1.0, float(value)))
                except ValueError:
                    quality = 0.0
        ranges.append((media, quality))
    return ranges


def _quality(media: str, ranges: list[tuple[str, float]]) -> float:
    """The quality the Accept ranges give ``media``: the most specific matching range wins."""
    kind = media.split("/")[0]
    best: tuple[int, float] | None = None
    for pattern, quality in ranges:
        if pattern == media:
            specificity = 3
        elif pattern == f"{kind}/*":
            specificity = 2
        elif pattern == "*/*":
            specificity = 1
        else:
            continue
        if best is None or specificity > best[0]:
            best = (specificity, quality)
    return best[1] if best else 0.0


def negotiate(accept: str | None, offered: Sequence[str]) -> str:
    """The offered media type the Accept header prefers (ties go to the earlier offer); the
    first offer when the header is missing or accepts none of them."""
    ranges = _parse_accept(accept or "")
    if not ranges:
        return offered[0]
    scored = [(_quality(media, ranges), -index, media) for index, media in enumerate(offered)]
    quality, _, media = max(scored)
    return media if quality > 0 else offered[0]


def choose_format(kind: str, accept: str | None, requested: str | None = None) -> tuple[str, str]:
    """(format name, media type) for a result of ``kind`` ("SELECT", "ASK", "CONSTRUCT",
    "DESCRIBE"): the ``format`` parameter when given, else by the Accept header.

    Raises ConfigError when ``requested`` names no format for that kind of result.
    """
    graph_result = kind in ("CONSTRUCT", "DESCRIBE")
    table = GRAPH_MEDIA_TYPES if graph_result else RESULT_MEDIA_TYPES
    canonical = _GRAPH_CANONICAL if graph_result else _RESULT_CANONICAL
    if requested:
        key = requested.strip().lower()
        name = table.get(key) or (_GRAPH_NAMES if graph_result else _RESULT_NAMES).get(key)
        if name is None:
            raise ConfigError(f"format {requested!r} cannot hold {kind} results "
                              f"(known: {', '.join(canonical)})")
        return name, canonical[name]
    media = negotiate(accept, list(table))
    return table[media], canonical[table[media]]


def render(result: QueryResult, accept: str | None, requested: str | None = None) -> Answer:
    """A query result as an HTTP answer in the negotiated format (ConfigError when the
    ``format`` parameter names none for this kind of result)."""
    from .export import get_format
    from .sparql import format_result

    name, media = choose_format(result.kind, accept, requested)
    if result.graph is not None:
        body = get_format(name).serialize(result.graph)
    else:
        body = format_result(result, name).encode("utf-8")
    charset = "" if media.endswith(("+json", "/json", "+xml", "/xml")) else "; charset=utf-8"
    return Answer(200, media + charset, body)


# --------------------------------------------------------------------------- worker processes

def _block_network(event: str, _args: tuple) -> None:
    if event in _BLOCKED_AUDIT_EVENTS:
        raise PermissionError(f"kg serve: network access is disabled in query workers ({event})")


def _answer_query(graph: Graph, request: tuple[str, str | None, str | None]) -> Answer:
    from .sparql import run_query

    query, accept, requested = request
    try:
        result = run_query(graph, query)
        return render(result, accept, requested)
    except (QueryError, ConfigError) as exc:
        return Answer.text(400, str(exc))
    except Exception as exc:  # anything else is the endpoint's fault, not the client's
        LOG.exception("query failed")
        return Answer.text(500, f"internal error: {type(exc).__name__}")


def _worker_main(conn: Connection, data: bytes, prefixes: list[tuple[str, str]]) -> None:
    """Entry point of a worker process: load the graph, then answer queries until told to
    stop (``None``) or killed."""
    import rdflib.plugins.sparql
    from rdflib import Graph

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops us
    rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False
    sys.addaudithook(_block_network)
    graph = Graph(bind_namespaces="core")
    graph.parse(data=data, format="nt")
    for prefix, namespace in prefixes:
        graph.bind(prefix, namespace, override=True, replace=True)
    conn.send("ready")
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        conn.send(_answer_query(graph, request))


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, context: Any, data: bytes, prefixes: list[tuple[str, str]]) -> None:
        self.conn, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_worker_main, args=(child, data, prefixes), name="kg-serve-worker", daemon=True
        )
        self.process.start()
        child.close()

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout) or self.conn.recv() != "ready":
            raise KgError("a query worker could not load the graph")

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(2)
        if self.process.is_alive():
            self.kill()
        else:
            self.conn.close()


class WorkerPool:
    """Worker processes, each with a copy of the graph, that run one query at a time.

    :meth:`run` waits at most ``timeout`` seconds in all (for a free worker, then for the
    answer); a worker that overruns is killed and replaced in the background.
    """

    def __init__(self, graph: Graph, *, size: int = DEFAULT_WORKERS,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        if size < 1:
            raise ConfigError(f"the number of workers must be at least 1 (got {size})")
        if not timeout > 0:
            raise ConfigError(f"the time limit must be more than 0 seconds (got {timeout})")
        self.timeout = timeout
        self._context = multiprocessing.get_context("spawn")  # no fork of a threaded process
        self._data = graph.serialize(format="nt", encoding="utf-8")
        self._prefixes = [(p, str(ns)) for p, ns in graph.namespaces() if p]
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        started = [self._spawn() for _ in range(size)]
        try:
            for worker in started:
                worker.wait_ready(WORKER_START_TIMEOUT)
        except BaseException:
            self.close()
            raise
        for worker in started:
            self._idle.put(worker)

    def _spawn(self) -> _Worker:
        worker = _Worker(self._context, self._data, self._prefixes)
        with self._lock:
            self._all.add(worker)
        return worker

    def _forget(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.kill()

    def _replace(self) -> None:
        if self._closed:
            return
        try:
            worker = self._spawn()
            worker.wait_ready(WORKER_START_TIMEOUT)
        except Exception:  # noqa: BLE001 - logged; the pool runs on with fewer workers
            LOG.exception("could not start a replacement query worker")
            return
        if self._closed:
            self._forget(worker)
        else:
            self._idle.put(worker)

    def _replace_later(self, worker: _Worker) -> None:
        self._forget(worker)
        threading.Thread(target=self._replace, name="kg-serve-respawn", daemon=True).start()

    def run(self, query: str, accept: str | None = None, requested: str | None = None) -> Answer:
        """Answer one query; 503 when no worker is free in time or the query overruns."""
        deadline = time.monotonic() + self.timeout
        try:
            worker = self._idle.get(timeout=self.timeout)
        except queue.Empty:
            return Answer.text(503, "all query workers are busy; try again later")
        try:
            worker.conn.send((query, accept, requested))
            if worker.conn.poll(max(0.0, deadline - time.monotonic())):
                answer = worker.conn.recv()
                self._idle.put(worker)
                return answer
        except (EOFError, OSError) as exc:
            LOG.error("a query worker died: %s", exc)
            self._replace_later(worker)
            return Answer.text(500, "the query worker died; try again")
        self._replace_later(worker)
        return Answer.text(503, f"the query took longer than the time limit of "
                                f"{self.timeout:g} s and was stopped")

    def close(self) -> None:
        """Stop every worker."""
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.stop()


# --------------------------------------------------------------------------- HTTP

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>kg SPARQL endpoint</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }}
textarea {{ width: 100%; font-family: monospace; font-size: 0.9rem; }}
code {{ background: #f3f3f3; padding: 0 0.2rem; }}
</style>
</head>
<body>
<h1>kg SPARQL endpoint</h1>
<p>{triples} triples, read-only. Queries run for at most {timeout:g} s. Prefixes {prefixes}
can be used without <code>PREFIX</code> lines.</p>
<form action="/sparql" method="get">
<textarea name="query" rows="14" spellcheck="false">{example}</textarea>
<p><label>Results as
<select name="format">
<option value="json">SPARQL JSON</option>
<option value="xml">SPARQL XML</option>
<option value="csv">CSV</option>
<option value="tsv">TSV</option>
<option value="turtle">Turtle (CONSTRUCT, DESCRIBE)</option>
<option value="nt">N-Triples (CONSTRUCT, DESCRIBE)</option>
<option value="json-ld">JSON-LD (CONSTRUCT, DESCRIBE)</option>
<option value="rdf-xml">RDF/XML (CONSTRUCT, DESCRIBE)</option>
</select></label>
<button type="submit">Run query</button></p>
</form>
<p>SPARQL 1.1 Protocol: <code>GET /sparql?query=...</code>, or <code>POST /sparql</code> with
<code>query=...</code> (form-encoded) or an <code>application/sparql-query</code> body; the
result format follows the <code>Accept</code> header.</p>
</body>
</html>
"""

EXAMPLE_QUERY = """SELECT ?person ?organization WHERE {
  ?p kg:works_at ?o ; rdfs:label ?person .
  ?o rdfs:label ?organization .
}
ORDER BY ?organization ?person
LIMIT 100"""


class SparqlServer(ThreadingHTTPServer):
    """ThreadingHTTPServer answering the SPARQL protocol from a :class:`WorkerPool`."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], pool: WorkerPool, page: bytes) -> None:
        self.pool = pool
        self.page = page
        super().__init__(address, SparqlHandler)

    @property
    def url(self) -> str:
        """The endpoint's URL, e.g. ``http://127.0.0.1:7878/sparql``."""
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}/sparql"

    def server_close(self) -> None:
        """Close the socket and stop the workers."""
        super().server_close()
        self.pool.close()


class SparqlHandler(BaseHTTPRequestHandler):
    """One request of the SPARQL 1.1 Protocol (query operation only)."""

    server: SparqlServer
    server_version = "kg-sparql"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        LOG.info("%s %s", self.address_string(), format % args)

    def _send(self, answer: Answer, extra: Mapping[str, str] | None = None) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    def _route(self) -> str | None:
        path = urlsplit(self.path).path
        if path in ("/", "/sparql"):
            return path
        self._send(Answer.text(404, f"not found: {path} (the endpoint is /sparql)"))
        return None

    def _dispatch(self, params: dict[str, list[str]], body_query: str | None = None) -> None:
        if "update" in params:
            self._send(Answer.text(403, "this endpoint is read-only: SPARQL Update is refused"))
            return
        for name in ("default-graph-uri", "named-graph-uri", "using-graph-uri",
                     "using-named-graph-uri"):
            if name in params:
                self._send(Answer.text(400, f"{name} is not supported: queries run on the "
                                            "loaded graph only"))
                return
        queries = params.get("query", []) + ([body_query] if body_query is not None else [])
        if len(queries) != 1:
            problem = "no query given" if not queries else "more than one query given"
            self._send(Answer.text(400, f"{problem}: send exactly one 'query'"))
            return
        formats = params.get("format") or params.get("output") or [None]
        self._send(self.server.pool.run(queries[0], self.headers.get("Accept"), formats[0]))

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        """Protocol query via GET, or the HTML page at ``/`` without a query."""
        route = self._route()
        if route is None:
            return
        params = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        if not params and route == "/":
            csp = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
            self._send(Answer(200, "text/html; charset=utf-8", self.server.page),
                       {"Content-Security-Policy": csp})
            return
        self._dispatch(params)

    do_HEAD = do_GET

    def _read_body(self) -> bytes | None:
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            self._send(Answer.text(411, "a POST needs a Content-Length"))
            return None
        try:
            length = int(length_header)
        except ValueError:
            length = -1
        if length < 0:
            self._send(Answer.text(400, "bad Content-Length"))
            return None
        if length > MAX_BODY:
            # Read a modest excess so the client sees the answer rather than a broken pipe.
            if length <= 2 * MAX_BODY:
                self.rfile.read(length)
            self.close_connection = True
            self._send(Answer.text(413, f"request body larger than {MAX_BODY} bytes"))
            return None
        return self.rfile.read(length)

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        """Protocol query via POST: form-encoded or ``application/sparql-query``."""
        if self._route() is None:
            return
        body = self._read_body()
        if body is None:
            return
        media = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        params = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            self._send(Answer.text(400, "the request body is not UTF-8"))
            return
        if media == "application/sparql-update":
            self._send(Answer.text(403, "this endpoint is read-only: SPARQL Update is refused"))
        elif media == "application/sparql-query":
            self._dispatch(params, body_query=text)
        elif media == "application/x-www-form-urlencoded":
            for name, values in parse_qs(text, keep_blank_values=True).items():
                params.setdefault(name, []).extend(values)
            self._dispatch(params)
        else:
            self._send(Answer.text(415, "send application/x-www-form-urlencoded or "
                                        "application/sparql-query"))

    def _refuse(self) -> None:
        self._send(Answer.text(405, "only GET and POST are supported"), {"Allow": "GET, POST"})

    do_PUT = do_DELETE = do_PATCH = _refuse


def _page(graph: Graph, timeout: float) -> bytes:
    from .sparql import query_namespaces

    prefixes = ", ".join(f"{p}:" for p in sorted(query_namespaces(graph)))
    return PAGE.format(triples=len(graph), timeout=timeout, prefixes=html.escape(prefixes),
                       example=html.escape(EXAMPLE_QUERY)).encode("utf-8")


def make_server(graph: Graph, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                timeout: float = DEFAULT_TIMEOUT, workers: int = DEFAULT_WORKERS) -> SparqlServer:
    """A ready SPARQL server for ``graph`` (port 0 picks a free port; see ``.url``).

    Starts the worker processes, then binds the socket; call ``serve_forever()`` to answer,
    ``shutdown()`` from another thread to stop, then ``server_close()``. Raises ConfigError
    for a bad port, worker count or time limit, or when the address cannot be bound.
    """
    if not 0 <= port <= 65535:
        raise ConfigError(f"port must be within 0..65535 (got {port})")
    pool = WorkerPool(graph, size=workers, timeout=timeout)
    try:
        return SparqlServer((host, port), pool, _page(graph, timeout))
    except OSError as exc:
        pool.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    return host in LOOPBACK_HOSTS or bool(re.fullmatch(r"127(?:\.\d{1,3}){3}", host))


def serve(paths: Sequence[str | Path], *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          timeout: float = DEFAULT_TIMEOUT, workers: int = DEFAULT_WORKERS,
          on_ready: Callable[[SparqlServer], None] | None = None) -> None:
    """Load the graph files at ``paths`` and answer queries until interrupted.

    ``on_ready(server)`` is called once the server listens (the CLI prints the URL there).
    """
    from .export import load_graphs

    server = make_server(load_graphs(list(paths)), host=host, port=port, timeout=timeout,
                         workers=workers)
    try:
        if on_ready is not None:
            on_ready(server)
        server.serve_forever()
    finally:
        server.server_close()
