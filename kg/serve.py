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
- it listens on the loopback interface unless told otherwise, and answers only requests whose
  ``Host`` header names the address it listens on (or, on loopback, ``localhost``), so a web
  page cannot reach it through DNS rebinding;
- queries run on Oxigraph in worker *processes* that open one read-only store on disk (the
  store folder given, or one written to a temporary folder at start), so a million triples
  cost seconds to start, not minutes per worker. A query that overruns the time limit, needs
  more than ``max_memory`` bytes, or whose client hangs up is stopped by killing its worker,
  which is replaced (Oxigraph cannot interrupt a query, and a thread could not be stopped).
  Workers also block outgoing network connections with an audit hook;
- fairness: at most ``workers - 1`` queries may run longer than ``short_time`` seconds at once
  (one if there is a single worker); a query that would be one more is stopped with 503, so
  one worker always stays free for short queries. Waiting queries are served first come,
  first served;
- connections: at most ``max_connections`` at once (more get 503), headers must arrive within
  ``HEADER_TIMEOUT`` seconds and an idle keep-alive connection is closed after
  ``IDLE_TIMEOUT``; the listen backlog is ``BACKLOG``; responses go out in one write with
  TCP_NODELAY;
- logging: one line per request and per client that disconnects, control characters escaped;
- results are cut at ``max_rows`` rows or triples (header ``X-Kg-Truncated``); request bodies
  are limited to ``MAX_BODY`` bytes.
"""

from __future__ import annotations

import html
import logging
import math
import multiprocessing
import os
import queue
import re
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .errors import ConfigError, KgError, QueryError

if TYPE_CHECKING:  # rdflib and the query module load in the workers, not for `kg --help`
    from rdflib import Graph

    from .sparql import QueryResult
    from .store import GraphStore

LOG = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
DEFAULT_TIMEOUT = 10.0  # seconds a query may run
DEFAULT_WORKERS = 2  # queries answered at the same time
DEFAULT_SHORT_TIME = 1.0  # seconds after which a query counts as long (see fairness above)
DEFAULT_MAX_ROWS = 100_000  # result rows or triples an answer holds at most
DEFAULT_MAX_MEMORY = 2 * 2**30  # bytes a worker may grow by while it answers one query
DEFAULT_MAX_CONNECTIONS = 256  # client connections open at once
MAX_WORKERS = 64
MAX_BODY = 1_000_000  # bytes of a POST body
WORKER_START_TIMEOUT = 120.0  # seconds a new worker may take to open the store
HEADER_TIMEOUT = 10.0  # seconds a client has to send a request line and its headers
IDLE_TIMEOUT = 15.0  # seconds a keep-alive connection may wait for its next request
BACKLOG = 128  # connections the kernel queues before accept
_POLL = 0.05  # seconds between two looks at a running query (client gone? memory?)
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
_LOG_ESCAPES = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")

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
    truncated: bool = False  # the result was cut at the row limit

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


def _answer_query(graph: GraphStore, request: tuple[str, str | None, str | None],
                  max_rows: int | None) -> Answer:
    from .sparql import run_query

    query, accept, requested = request
    try:
        result = run_query(graph, query, max_rows=max_rows)
        answer = render(result, accept, requested)
        return replace(answer, truncated=True) if result.truncated else answer
    except (QueryError, ConfigError) as exc:
        return Answer.text(400, str(exc))
    except Exception as exc:  # anything else is the endpoint's fault, not the client's
        LOG.exception("query failed")
        return Answer.text(500, f"internal error: {type(exc).__name__}")


def _worker_main(conn: Connection, store_path: str, max_rows: int | None) -> None:
    """Entry point of a worker process: open the store, then answer queries until told to
    stop (``None``) or killed."""
    from .sparql import run_query
    from .store import open_store

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops us
    sys.addaudithook(_block_network)
    graph = open_store(store_path)
    # Warm up (imports, prefixes, result formats), so that a fresh worker's first query is not
    # slow enough to count as a long one.
    render(run_query(graph, "SELECT * WHERE { ?s ?p ?o } LIMIT 1"), None)
    conn.send("ready")
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        conn.send(_answer_query(graph, request, max_rows))


def _resident_bytes(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # not Linux, or gone: no memory watch
        return None


def _client_gone(sock: socket.socket) -> bool:
    """Whether the peer of ``sock`` has closed or reset the connection (without reading
    anything a pipelining client may have sent)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except (OSError, ValueError):
        return True


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, context: Any, store_path: str, max_rows: int | None) -> None:
        self.conn, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_worker_main, args=(child, store_path, max_rows), name="kg-serve-worker",
            daemon=True)
        self.process.start()
        child.close()
        self.base_memory: int | None = None
        self._lock = threading.Lock()
        self._gone = False  # killed or stopped: the pipe is closed (close it only once)

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout) or self.conn.recv() != "ready":
            raise KgError("a query worker could not open the store")
        self.base_memory = _resident_bytes(self.process.pid or 0)

    def kill(self) -> None:
        with self._lock:
            if self._gone:
                return
            self._gone = True
            self.process.kill()
            self.process.join(5)
            self.conn.close()

    def stop(self) -> None:
        with self._lock:
            if self._gone:
                return
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                pass
            self.process.join(2)
        if self.process.is_alive():
            self.kill()
        else:
            with self._lock:
                if not self._gone:
                    self._gone = True
                    self.conn.close()


def check_options(*, workers: int = DEFAULT_WORKERS, timeout: float = DEFAULT_TIMEOUT,
                  port: int = DEFAULT_PORT, short_time: float = DEFAULT_SHORT_TIME,
                  max_rows: int | None = DEFAULT_MAX_ROWS,
                  max_connections: int = DEFAULT_MAX_CONNECTIONS) -> None:
    """ConfigError, with one line, for an option value the server cannot run with; called
    before any work (loading a graph, starting workers)."""
    if not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ConfigError(f"the number of workers must be within 1..{MAX_WORKERS} (got {workers})")
    for name, value in (("the time limit", timeout), ("the short-query time", short_time)):
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ConfigError(f"{name} must be a finite number of seconds above 0 (got {value})")
    if not 0 <= port <= 65535:
        raise ConfigError(f"port must be within 0..65535 (got {port})")
    if max_rows is not None and max_rows < 0:
        raise ConfigError(f"the row limit must be 0 (no limit) or more (got {max_rows})")
    if max_connections < 1:
        raise ConfigError(f"the connection limit must be at least 1 (got {max_connections})")


class WorkerPool:
    """Worker processes that open the same read-only store and run one query at a time.

    :meth:`run` waits at most ``timeout`` seconds in all (for a free worker, then for the
    answer); a worker that overruns, outgrows ``max_memory`` bytes, whose client hangs up, or
    whose query would be one long query too many (fairness, see the module doc) is killed and
    replaced in the background.
    """

    def __init__(self, store_path: str | Path, *, size: int = DEFAULT_WORKERS,
                 timeout: float = DEFAULT_TIMEOUT, short_time: float = DEFAULT_SHORT_TIME,
                 max_rows: int | None = DEFAULT_MAX_ROWS,
                 max_memory: int | None = DEFAULT_MAX_MEMORY) -> None:
        check_options(workers=size, timeout=timeout, short_time=short_time, max_rows=max_rows)
        self.timeout = timeout
        self.short_time = short_time
        self.max_memory = max_memory
        self.long_slots = max(1, size - 1)
        self._long = 0
        self._store_path = str(store_path)
        self._max_rows = max_rows or None
        self._context = multiprocessing.get_context("spawn")  # no fork of a threaded process
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
        worker = _Worker(self._context, self._store_path, self._max_rows)
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
            LOG.error("could not start a replacement query worker")
            return
        if self._closed:
            self._forget(worker)
        else:
            self._idle.put(worker)

    def _replace_later(self, worker: _Worker) -> None:
        self._forget(worker)
        threading.Thread(target=self._replace, name="kg-serve-respawn", daemon=True).start()

    def _become_long(self) -> bool:
        with self._lock:
            if self._long >= self.long_slots:
                return False
            self._long += 1
            return True

    def _over_memory(self, worker: _Worker) -> bool:
        if self.max_memory is None or worker.base_memory is None:
            return False
        resident = _resident_bytes(worker.process.pid or 0)
        return resident is not None and resident > worker.base_memory + self.max_memory

    def run(self, query: str, accept: str | None = None, requested: str | None = None,
            client: socket.socket | None = None) -> Answer | None:
        """Answer one query; 503 when no worker is free in time, the query overruns or would
        starve short queries, None when ``client`` hung up meanwhile (the query is stopped)."""
        deadline = time.monotonic() + self.timeout
        try:
            worker = self._idle.get(timeout=self.timeout)
        except queue.Empty:
            return Answer.text(503, "all query workers are busy; try again later")
        started = time.monotonic()
        long = False
        watch_client = client is not None
        try:
            worker.conn.send((query, accept, requested))
            while True:
                now = time.monotonic()
                if now >= deadline:
                    problem = (f"the query took longer than the time limit of "
                               f"{self.timeout:g} s and was stopped")
                    break
                ready = wait([worker.conn], min(_POLL, deadline - now))
                if ready:
                    answer = worker.conn.recv()
                    self._idle.put(worker)
                    return answer
                if watch_client and _client_gone(client):  # type: ignore[arg-type]
                    LOG.info("client hung up; its query was stopped")
                    self._replace_later(worker)
                    return None
                if self._over_memory(worker):
                    problem = (f"the query needed more than {self.max_memory // 2**20} MB "
                               f"and was stopped")
                    break
                if not long and time.monotonic() - started > self.short_time:
                    long = self._become_long()
                    if not long:
                        problem = ("the query runs long while other long queries hold the "
                                   "workers; it was stopped to keep one free for short "
                                   "queries; try again later")
                        break
        except (EOFError, OSError, ValueError) as exc:  # ValueError: its pipe was closed
            if self._closed:  # the server is stopping and stopped it
                return Answer.text(503, "the server is stopping")
            LOG.error("a query worker died: %s", " ".join(str(exc).split()) or type(exc).__name__)
            self._replace_later(worker)
            return Answer.text(500, "the query worker died; try again")
        finally:
            if long:
                with self._lock:
                    self._long -= 1
        self._replace_later(worker)
        return Answer.text(503, problem)

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


_WILDCARD_HOSTS = ("", "0.0.0.0", "::")


def _host_names(host: str, port: int, extra: Sequence[str] = ()) -> frozenset[str]:
    """The ``Host`` header values a server bound to ``host``:``port`` accepts (lower case)."""
    names = {host, *extra}
    if is_loopback(host):
        names.update(LOOPBACK_HOSTS)
    accepted = set()
    for name in names:
        shown = f"[{name}]" if ":" in name and not name.startswith("[") else name
        accepted.add(f"{shown}:{port}".lower())
        if port == 80:
            accepted.add(shown.lower())
    return frozenset(accepted)


def _is_ip_literal(host_header: str) -> bool:
    import ipaddress

    name = host_header.rsplit(":", 1)[0] if not host_header.endswith("]") else host_header
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def _escape_log(text: str) -> str:
    return _LOG_ESCAPES.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class SparqlServer(ThreadingHTTPServer):
    """ThreadingHTTPServer answering the SPARQL protocol from a :class:`WorkerPool`."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = BACKLOG

    def __init__(self, address: tuple[str, int], pool: WorkerPool, page: bytes, *,
                 max_connections: int = DEFAULT_MAX_CONNECTIONS,
                 allowed_hosts: Sequence[str] = (), cleanup: Path | None = None) -> None:
        self.pool = pool
        self.page = page
        self.max_connections = max_connections
        self._connections = 0
        self._connections_lock = threading.Lock()
        self._cleanup = cleanup
        super().__init__(address, SparqlHandler)
        host, port = self.server_address[:2]
        self.wildcard = address[0] in _WILDCARD_HOSTS
        self.host_names = _host_names(str(host), int(port), tuple(allowed_hosts))

    @property
    def url(self) -> str:
        """The endpoint's URL, e.g. ``http://127.0.0.1:7878/sparql``."""
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}/sparql"

    def accepts_host(self, header: str | None) -> bool:
        """Whether a request with this ``Host`` header is for this server (DNS rebinding:
        a name that resolves to us but is not ours is refused)."""
        if not header:
            return False
        value = header.strip().lower()
        if value in self.host_names:
            return True
        port = str(self.server_address[1])
        return self.wildcard and _is_ip_literal(value) and value.endswith(f":{port}")

    def process_request(self, request: Any, client_address: Any) -> None:
        """Start a thread for the connection, or answer 503 at once when too many are open."""
        with self._connections_lock:
            full = self._connections >= self.max_connections
            if not full:
                self._connections += 1
        if full:
            body = b"too many connections; try again later\n"
            try:
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                                b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: "
                                + str(len(body)).encode() + b"\r\n\r\n" + body)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        with self._connections_lock:
            self._connections -= 1

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One log line for a client that went away or timed out; a traceback only for a
        fault of the server itself."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            LOG.info("%s disconnected: %s", client_address[0], type(error).__name__)
        else:
            LOG.exception("error while answering %s", client_address[0])

    def server_close(self) -> None:
        """Close the socket, stop the workers, remove a temporary store."""
        super().server_close()
        self.pool.close()
        if self._cleanup is not None:
            shutil.rmtree(self._cleanup, ignore_errors=True)
            self._cleanup = None


class _DeadlineReader:
    """The request stream with a deadline: each read may wait only for the time left, so a
    client sending its headers one byte at a time cannot hold a thread for long."""

    def __init__(self, raw: Any, sock: socket.socket) -> None:
        self.raw = raw
        self.sock = sock
        self.deadline: float | None = None

    def _arm(self) -> None:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("request not received in time")
            self.sock.settimeout(left)

    def readline(self, *args: Any) -> bytes:
        self._arm()
        return self.raw.readline(*args)

    def read(self, *args: Any) -> bytes:
        self._arm()
        return self.raw.read(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class SparqlHandler(BaseHTTPRequestHandler):
    """One request of the SPARQL 1.1 Protocol (query operation only)."""

    server: SparqlServer
    server_version = "kg-sparql"
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # not TCP (tests may use other sockets)
            pass
        self.rfile = _DeadlineReader(self.rfile, self.connection)  # type: ignore[assignment]

    def handle_one_request(self) -> None:
        reader: _DeadlineReader = self.rfile  # type: ignore[assignment]
        reader.deadline = None
        self.connection.settimeout(IDLE_TIMEOUT)
        try:
            if not reader.raw.peek(1):  # the client closed a kept-alive connection
                self.close_connection = True
                return
        except (TimeoutError, ConnectionError):
            self.close_connection = True
            return
        reader.deadline = time.monotonic() + HEADER_TIMEOUT
        super().handle_one_request()

    def handle(self) -> None:
        try:
            super().handle()
        except (TimeoutError, ConnectionError) as exc:
            LOG.info("%s disconnected: %s", self.client_address[0], type(exc).__name__)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        LOG.info("%s", _escape_log(f"{self.address_string()} {format % args}"))

    def _send(self, answer: Answer, extra: Mapping[str, str] | None = None) -> None:
        self.rfile.deadline = None  # type: ignore[attr-defined]
        self.connection.settimeout(IDLE_TIMEOUT)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        if answer.truncated:
            self.send_header("X-Kg-Truncated", "true")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    def _route(self) -> str | None:
        if not self.server.accepts_host(self.headers.get("Host")):
            self.close_connection = True
            self._send(Answer.text(421, "the Host header does not name this server"))
            return None
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
        answer = self.server.pool.run(queries[0], self.headers.get("Accept"), formats[0],
                                      client=self.connection)
        if answer is None:  # the client hung up: nobody to answer
            self.close_connection = True
            return
        self._send(answer)

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
        self.rfile.deadline = time.monotonic() + HEADER_TIMEOUT  # type: ignore[attr-defined]
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


def _page(graph: Graph | GraphStore, timeout: float) -> bytes:
    from .sparql import query_namespaces

    prefixes = ", ".join(f"{p}:" for p in sorted(query_namespaces(graph)))
    return PAGE.format(triples=len(graph), timeout=timeout, prefixes=html.escape(prefixes),
                       example=html.escape(EXAMPLE_QUERY)).encode("utf-8")


def make_server(graph: Graph | GraphStore | str | Path, *, host: str = DEFAULT_HOST,
                port: int = DEFAULT_PORT, timeout: float = DEFAULT_TIMEOUT,
                workers: int = DEFAULT_WORKERS, short_time: float = DEFAULT_SHORT_TIME,
                max_rows: int | None = DEFAULT_MAX_ROWS,
                max_memory: int | None = DEFAULT_MAX_MEMORY,
                max_connections: int = DEFAULT_MAX_CONNECTIONS,
                allowed_hosts: Sequence[str] = ()) -> SparqlServer:
    """A ready SPARQL server for ``graph``: an rdflib Graph, a GraphStore, or the path of a
    store folder (port 0 picks a free port; see ``.url``).

    A graph that is not a store on disk is written to a temporary store, removed when the
    server closes. Starts the worker processes, then binds the socket; call
    ``serve_forever()`` to answer, ``shutdown()`` from another thread to stop, then
    ``server_close()``. Raises ConfigError for a bad option, before any work, or when the
    address cannot be bound.
    """
    from .store import GraphStore, open_store, write_store

    check_options(workers=workers, timeout=timeout, port=port, short_time=short_time,
                  max_rows=max_rows, max_connections=max_connections)
    temporary: Path | None = None
    if isinstance(graph, (str, Path)):
        graph = open_store(graph)
    if not (isinstance(graph, GraphStore) and graph.path is not None):
        temporary = Path(tempfile.mkdtemp(prefix="kg-serve-"))
        try:
            graph = open_store(write_store(graph, temporary))
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
    assert graph.path is not None
    try:
        pool = WorkerPool(graph.path, size=workers, timeout=timeout, short_time=short_time,
                          max_rows=max_rows, max_memory=max_memory)
    except BaseException:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        raise
    try:
        return SparqlServer((host, port), pool, _page(graph, timeout),
                            max_connections=max_connections, allowed_hosts=allowed_hosts,
                            cleanup=temporary)
    except OSError as exc:
        pool.close()
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    return host in LOOPBACK_HOSTS or bool(re.fullmatch(r"127(?:\.\d{1,3}){3}", host))


def serve(paths: Sequence[str | Path], *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          timeout: float = DEFAULT_TIMEOUT, workers: int = DEFAULT_WORKERS,
          on_ready: Callable[[SparqlServer], None] | None = None, **options: Any) -> None:
    """Serve a store folder (or an output folder holding one), or the union of RDF files,
    until interrupted; ``options`` are those of :func:`make_server`.

    Bad options raise ConfigError before anything is loaded. ``on_ready(server)`` is called
    once the server listens (the CLI prints the URL there).
    """
    from .store import open_graph, store_folder, write_store

    check_options(workers=workers, timeout=timeout, port=port,
                  **{k: v for k, v in options.items()
                     if k in ("short_time", "max_rows", "max_connections")})
    items = list(paths)
    temporary: Path | None = None
    try:
        if len(items) == 1 and store_folder(items[0]) is not None:
            graph: Any = open_graph(items)
        else:  # parse the files straight into a temporary store on disk (no rdflib)
            temporary = Path(tempfile.mkdtemp(prefix="kg-serve-"))
            graph = open_graph([write_store(items, temporary)])
        server = make_server(graph, host=host, port=port, timeout=timeout, workers=workers,
                             **options)
        try:
            if on_ready is not None:
                on_ready(server)
            server.serve_forever()
        finally:
            server.server_close()
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
