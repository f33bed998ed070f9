"""`kg serve` against hostile and careless clients, over real sockets on 127.0.0.1 only: one
test per case of issue 12 (bounded queries, stalls, logs, DNS rebinding, bad options) and a
short load test. Time bounds here are generous guards against hanging, not measurements."""

from __future__ import annotations

import http.client
import logging
import multiprocessing
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import kg.serve
from kg.errors import ConfigError
from kg.serve import BACKLOG, SparqlHandler, SparqlServer, make_server
from test_graph import sample_graph

ROOT = Path(__file__).resolve().parent.parent
CLIENT_TIMEOUT = 30  # no request may hang the suite
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
HUGE_SORT = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?i ?f ?c"
FAST = "SELECT ?p ?o WHERE { ?p kg:works_at ?o }"


@contextmanager
def running(**options) -> Iterator[SparqlServer]:
    """A server for the sample graph on 127.0.0.1 and a free port, stopped afterwards."""
    server = make_server(sample_graph(), host="127.0.0.1", port=0, **options)
    thread = threading.Thread(target=server.serve_forever, name="test-hostile", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def host(server: SparqlServer) -> str:
    return f"127.0.0.1:{server.server_address[1]}"


def query_path(query: str) -> str:
    return "/sparql?" + urllib.parse.urlencode({"query": query})


def ask(server: SparqlServer, query: str = FAST, headers: dict | None = None,
        timeout: float = CLIENT_TIMEOUT) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1],
                                            timeout=timeout)
    try:
        connection.request("GET", query_path(query), headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def raw(server: SparqlServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=CLIENT_TIMEOUT)
    return sock


def closed_by_server(sock: socket.socket, within: float = 20.0) -> bool:
    """Whether the server closes ``sock`` (EOF or reset) within ``within`` seconds."""
    sock.settimeout(within)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


# --------------------------------------------------------------------------- bounded queries

def test_hostile_serve_client_that_hangs_up_has_its_query_stopped(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kg.serve")
    with running(workers=1, timeout=120) as server:
        sock = raw(server)
        sock.sendall(f"GET {query_path(SLOW)} HTTP/1.1\r\nHost: {host(server)}\r\n\r\n".encode())
        time.sleep(1.0)  # the only worker is busy with the slow query now
        sock.close()
        # Were the query left running, the only worker would stay busy for 120 s.
        status, _, _ = ask(server)
        assert status == 200
    assert any("hung up" in r.getMessage() for r in caplog.records)


def test_hostile_serve_slow_queries_leave_a_worker_for_short_ones() -> None:
    with running(workers=2, timeout=120, short_time=0.5) as server:
        answers: list[tuple[int, bytes]] = []

        def slow() -> None:
            status, _, body = ask(server, SLOW, timeout=150)
            answers.append((status, body))

        threads = [threading.Thread(target=slow, daemon=True) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)  # both slow queries have run past the short time
        status, _, body = ask(server)  # would wait for 120 s if both workers were held
        assert status == 200 and b"results" in body
        for _ in range(3):
            assert ask(server)[0] == 200
        deadline = time.monotonic() + 30
        while not answers and time.monotonic() < deadline:
            time.sleep(0.1)
        assert answers and answers[0][0] == 503 and b"long queries" in answers[0][1]


def test_hostile_serve_query_that_outgrows_its_memory_is_stopped() -> None:
    with running(workers=1, timeout=120, max_memory=100 * 2**20) as server:
        status, _, body = ask(server, HUGE_SORT)
        assert status == 503 and b"more than 100 MB" in body
        assert ask(server)[0] == 200  # the worker was replaced


def test_hostile_serve_cuts_large_answers_and_says_so() -> None:
    with running(workers=1, max_rows=2) as server:
        status, headers, body = ask(server, "SELECT * WHERE { ?s ?p ?o }",
                                    {"Accept": "text/tab-separated-values"})
        assert status == 200 and headers["x-kg-truncated"] == "true"
        assert len(body.decode().splitlines()) == 3


# --------------------------------------------------------------------------- connections

def test_hostile_serve_idle_connection_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kg.serve, "IDLE_TIMEOUT", 0.5)
    with running(workers=1) as server:
        assert closed_by_server(raw(server))  # connected, never sent anything
        sock = raw(server)  # a kept-alive connection idle after one answer
        sock.sendall(f"GET {query_path(FAST)} HTTP/1.1\r\nHost: {host(server)}\r\n\r\n".encode())
        assert closed_by_server(sock)


def test_hostile_serve_slow_headers_are_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kg.serve, "HEADER_TIMEOUT", 0.5)
    with running(workers=1) as server:
        sock = raw(server)
        sock.sendall(f"GET {query_path(FAST)} HTTP/1.1\r\n".encode())
        cut = False
        for number in range(100):  # one header line every 0.1 s: slowloris
            try:
                sock.sendall(f"X-Slow-{number}: y\r\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
            time.sleep(0.1)
        assert cut or closed_by_server(sock, within=1.0)


def test_hostile_serve_connection_limit_answers_503() -> None:
    with running(workers=1, max_connections=2) as server:
        held = [raw(server), raw(server)]
        extra = raw(server)
        extra.settimeout(CLIENT_TIMEOUT)
        assert extra.recv(4096).startswith(b"HTTP/1.1 503")
        for sock in held + [extra]:
            sock.close()
        time.sleep(0.2)
        assert ask(server)[0] == 200  # slots come back when connections close


def test_hostile_serve_has_a_real_backlog_and_no_nagle(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    original = SparqlHandler.setup

    def setup(self: SparqlHandler) -> None:
        original(self)
        seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(SparqlHandler, "setup", setup)
    with running(workers=1) as server:
        assert server.request_queue_size == BACKLOG >= 128
        assert ask(server)[0] == 200
    assert seen and all(seen)


# --------------------------------------------------------------------------- logs

def test_hostile_serve_log_escapes_control_characters(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kg.serve")
    with running(workers=1) as server:
        sock = raw(server)
        sock.sendall(f"GET /\x1b[2J\x07evil HTTP/1.1\r\nHost: {host(server)}\r\n"
                     f"Connection: close\r\n\r\n".encode())
        assert closed_by_server(sock)
    messages = [r.getMessage() for r in caplog.records if r.name == "kg.serve"]
    assert any("\\x1b[2J\\x07evil" in m for m in messages)
    assert not any(ch < " " for m in messages for ch in m)


def test_hostile_serve_disconnect_is_one_log_line(caplog: pytest.LogCaptureFixture,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.INFO, logger="kg.serve")
    with running(workers=1) as server:
        sock = raw(server)
        sock.sendall(f"POST /sparql HTTP/1.1\r\nHost: {host(server)}\r\nContent-Type: "
                     f"application/sparql-query\r\nContent-Length: 1000\r\n\r\nASK".encode())
        time.sleep(0.3)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # reset, mid-body
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(
                "disconnected" in r.getMessage() for r in caplog.records):
            time.sleep(0.05)
    records = [r for r in caplog.records if r.name == "kg.serve"]
    assert any("disconnected" in r.getMessage() for r in records)
    assert not any(r.exc_info for r in records)
    assert "Traceback" not in capsys.readouterr().err


# --------------------------------------------------------------------------- Host header

@pytest.mark.parametrize(("header", "status"), [
    ("{port}", 200), ("localhost:{port}", 200), ("127.0.0.1:{port}", 200), ("[::1]:{port}", 200),
    ("evil.example:{port}", 421), ("127.0.0.1:1", 421), ("localhost", 421), (None, 421),
])
def test_hostile_serve_host_header_must_name_the_server(header: str | None, status: int) -> None:
    with running(workers=1) as server:
        port = server.server_address[1]
        sock = raw(server)
        lines = [f"GET {query_path(FAST)} HTTP/1.1"]
        if header is not None:
            value = header.format(port=port)
            lines.append(f"Host: {value if value != str(port) else f'127.0.0.1:{port}'}")
        sock.sendall(("\r\n".join(lines + ["Connection: close", "", ""])).encode())
        sock.settimeout(CLIENT_TIMEOUT)
        assert sock.recv(4096).startswith(f"HTTP/1.1 {status}".encode())
        sock.close()


def test_hostile_serve_wildcard_bind_accepts_ip_literals_and_named_hosts() -> None:
    server = make_server(sample_graph(), host="0.0.0.0", port=0, workers=1,
                         allowed_hosts=["kg.internal"])
    try:
        port = server.server_address[1]
        assert server.accepts_host(f"10.1.2.3:{port}") and server.accepts_host(f"kg.internal:{port}")
        assert not server.accepts_host(f"evil.example:{port}")
        assert not server.accepts_host(f"10.1.2.3:{port + 1}")
    finally:
        server.server_close()


# --------------------------------------------------------------------------- bad options

@pytest.mark.parametrize(("options", "message"), [
    ({"timeout": float("inf")}, "finite"), ({"timeout": float("nan")}, "finite"),
    ({"timeout": -1.0}, "finite"), ({"short_time": float("inf")}, "finite"),
    ({"workers": 0}, "workers"), ({"workers": 1000}, "workers"),
    ({"max_connections": 0}, "connection limit"), ({"max_rows": -1}, "row limit"),
])
def test_hostile_serve_bad_options_fail_before_any_worker_starts(options: dict,
                                                                 message: str) -> None:
    before = set(multiprocessing.active_children())
    with pytest.raises(ConfigError, match=message):
        make_server(sample_graph(), port=0, **options)
    assert set(multiprocessing.active_children()) <= before


@pytest.mark.parametrize("option", [("--timeout", "inf"), ("--timeout", "nan"),
                                    ("--timeout=-inf",), ("--workers", "0"),
                                    ("--workers", "100000"), ("--short-time", "inf"),
                                    ("--max-connections", "0"), ("--max-memory", "0")])
def test_hostile_serve_command_bad_values_exit_2_before_loading(tmp_path: Path,
                                                                option: tuple) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kg.cli", "serve", str(tmp_path / "missing.ttl"), *option],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("kg: error: ")
    assert "missing.ttl" not in result.stderr  # checked before the graph is read


# --------------------------------------------------------------------------- load

def test_hostile_serve_load_8_clients_100_requests_no_errors(
        capsys: pytest.CaptureFixture[str]) -> None:
    """8 keep-alive clients x 100 queries on loopback: every answer 200 (figures printed)."""
    with running(workers=2, timeout=30) as server:
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1],
                                                    timeout=CLIENT_TIMEOUT)
            mine = []
            try:
                for _ in range(100):
                    start = time.perf_counter()
                    connection.request("GET", query_path(FAST),
                                       headers={"Accept": "application/sparql-results+json"})
                    response = connection.getresponse()
                    body = response.read()
                    mine.append(time.perf_counter() - start)
                    if response.status != 200 or b"bindings" not in body:
                        with lock:
                            errors.append(f"{response.status} {body[:80]!r}")
            except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                with lock:
                    errors.append(repr(exc))
            finally:
                connection.close()
                with lock:
                    latencies.extend(mine)

        threads = [threading.Thread(target=client, daemon=True) for _ in range(8)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        wall = time.perf_counter() - start
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert len(latencies) == 800
    p99 = statistics.quantiles(latencies, n=100)[98]
    with capsys.disabled():
        print(f"\nkg serve load: 800 requests in {wall:.2f} s = {800 / wall:.0f} req/s, "
              f"p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
