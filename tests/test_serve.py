"""The SPARQL endpoint over real HTTP on 127.0.0.1 (ephemeral port), with SPARQLWrapper as the
client: protocol, result formats, read-only, time limit; content negotiation on its own."""

from __future__ import annotations

import csv
from decimal import Decimal
import http.client
import io
import json
import multiprocessing
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import to_isomorphic
from SPARQLWrapper import (
    CSV,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    XML,
    SPARQLWrapper,
)
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from engine_util import canonical_graph
from kg.errors import ConfigError
from kg.export import write_graph
from kg.sparql import run_query
from kg.serve import (
    DEFAULT_HOST,
    MAX_BODY,
    SparqlServer,
    choose_format,
    is_loopback,
    make_server,
    negotiate,
    serve,
)
from test_export import run_cli
from test_graph import BASE, sample_graph

TIMEOUT = 3.0  # the server's per-query limit in these tests
CLIENT_TIMEOUT = 30  # no request may hang the suite
WORKS_AT = "SELECT ?p ?o WHERE { ?p kg:works_at ?o }"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
CHEW = URIRef(BASE + "entity/person/shou-zi-chew")
TIKTOK = URIRef(BASE + "entity/organization/tiktok")


@pytest.fixture(scope="module")
def server() -> Iterator[SparqlServer]:
    running = make_server(sample_graph(), port=0, timeout=TIMEOUT, workers=2)
    thread = threading.Thread(target=running.serve_forever, name="test-sparql", daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.shutdown()
        running.server_close()
        thread.join(10)
        assert not thread.is_alive()


def client(server: SparqlServer, query: str, fmt: str = JSON) -> SPARQLWrapper:
    sparql = SPARQLWrapper(server.url)
    sparql.setTimeout(CLIENT_TIMEOUT)
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    return sparql


def request(server: SparqlServer, method: str = "GET", path: str = "/sparql",
            body: bytes | None = None, headers: dict[str, str] | None = None
            ) -> tuple[int, dict[str, str], bytes]:
    """A raw HTTP request; (status, headers, body) whatever the status."""
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=CLIENT_TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def get(server: SparqlServer, accept: str | None = None, **params: str) -> tuple[int, dict, bytes]:
    return request(server, path="/sparql?" + urllib.parse.urlencode(params),
                   headers={"Accept": accept} if accept else {})


# --------------------------------------------------------------------------- SPARQLWrapper

def test_serve_listens_on_loopback_by_default(server: SparqlServer) -> None:
    assert DEFAULT_HOST == "127.0.0.1"
    assert server.server_address[0] == "127.0.0.1"
    assert server.url.startswith("http://127.0.0.1:")


def test_serve_select_as_json(server: SparqlServer) -> None:
    document = client(server, WORKS_AT).queryAndConvert()
    assert document["head"]["vars"] == ["p", "o"]
    (row,) = document["results"]["bindings"]
    assert row["p"] == {"type": "uri", "value": str(CHEW)}


def test_serve_select_as_xml(server: SparqlServer) -> None:
    document = client(server, WORKS_AT, XML).queryAndConvert()
    uris = [node.firstChild.data for node in document.getElementsByTagName("uri")]
    assert uris == [str(CHEW), str(TIKTOK)]


def test_serve_select_as_csv_and_tsv(server: SparqlServer) -> None:
    text = client(server, WORKS_AT, CSV).queryAndConvert().decode("utf-8")
    assert list(csv.reader(io.StringIO(text))) == [["p", "o"], [str(CHEW), str(TIKTOK)]]
    lines = client(server, WORKS_AT, TSV).queryAndConvert().decode("utf-8").splitlines()
    assert lines == ["?p\t?o", f"<{CHEW}>\t<{TIKTOK}>"]


def test_serve_select_literals_keep_language_and_datatype(server: SparqlServer) -> None:
    query = "SELECT ?s ?c WHERE { ?e kg:sentence ?s ; kg:confidence ?c ; kg:rule 'de.works_at.chef_bei' }"
    (row,) = client(server, query).queryAndConvert()["results"]["bindings"]
    assert row["s"] == {"type": "literal", "value": "TikTok-Chef Shou Zi Chew sagte.", "xml:lang": "de"}
    # Oxigraph writes numbers in canonical form (0.7 for the file's 0.700): the same value.
    assert row["c"]["datatype"].endswith("#decimal") and Decimal(row["c"]["value"]) == Decimal("0.7")


@pytest.mark.parametrize("answer", [True, False])
def test_serve_ask(server: SparqlServer, answer: bool) -> None:
    query = "ASK { ?p kg:works_at ?o }" if answer else "ASK { ?p kg:founded ?o }"
    assert client(server, query).queryAndConvert()["boolean"] is answer


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("fmt", [TURTLE, N3, RDFXML, JSONLD])
@pytest.mark.parametrize("query", [
    "CONSTRUCT { ?o kg:employs ?p } WHERE { ?p kg:works_at ?o }",
    f"DESCRIBE <{CHEW}>",
])
def test_serve_graph_results_in_every_rdf_format(server: SparqlServer, fmt: str, query: str) -> None:
    result = client(server, query, fmt).queryAndConvert()
    graph = result if isinstance(result, Graph) else Graph().parse(data=result, format="turtle")
    assert len(graph) > 0
    expected = run_query(sample_graph(), query).graph
    # Oxigraph answers: numbers in canonical form, otherwise the same graph as rdflib's.
    assert to_isomorphic(canonical_graph(graph)) == to_isomorphic(canonical_graph(expected))


def test_serve_post_form_encoded(server: SparqlServer) -> None:
    sparql = client(server, WORKS_AT)
    sparql.setMethod(POST)
    assert len(sparql.queryAndConvert()["results"]["bindings"]) == 1


def test_serve_post_sparql_query_body(server: SparqlServer) -> None:
    sparql = client(server, "SELECT ?l WHERE { ?x rdfs:label ?l } ORDER BY ?l")
    sparql.setMethod(POST)
    sparql.setRequestMethod(POSTDIRECTLY)
    labels = [b["l"]["value"] for b in sparql.queryAndConvert()["results"]["bindings"]]
    assert labels == ["ByteDance", "Seattle", "Shou Zi Chew", "TikTok"]


def test_serve_update_is_refused(server: SparqlServer) -> None:
    sparql = client(server, f"INSERT DATA {{ <{CHEW}> <urn:p> 'x' }}")
    sparql.setMethod(POST)
    with pytest.raises(urllib.error.HTTPError) as caught:
        sparql.query()
    assert caught.value.code == 403
    assert b"read-only" in caught.value.read()
    status, _, body = request(server, "POST", body=b"DELETE WHERE { ?s ?p ?o }",
                              headers={"Content-Type": "application/sparql-update"})
    assert status == 403 and b"read-only" in body
    assert client(server, "ASK { ?s <urn:p> ?o }").queryAndConvert()["boolean"] is False


def test_serve_update_sent_as_a_query_is_a_bad_query(server: SparqlServer) -> None:
    status, _, body = get(server, query="DELETE WHERE { ?s ?p ?o }")
    assert status == 400 and b"read-only" in body
    assert client(server, "ASK { ?s ?p ?o }").queryAndConvert()["boolean"] is True


def test_serve_malformed_query_is_400(server: SparqlServer) -> None:
    with pytest.raises(QueryBadFormed):
        client(server, "SELECT ?x WHERE { ?x ").query()


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * FROM <http://127.0.0.1:9/data.ttl> WHERE { ?s ?p ?o }",
])
def test_serve_never_fetches_remote_data(server: SparqlServer, query: str) -> None:
    status, _, body = get(server, query=query)
    assert status == 400 and b"not supported" in body


def test_serve_slow_query_times_out_and_the_endpoint_recovers(server: SparqlServer) -> None:
    status, headers, body = get(server, query=SLOW)
    assert status == 503
    assert b"time limit" in body
    for _ in range(3):  # the killed worker is replaced; the other one answers meanwhile
        assert client(server, "ASK { ?s ?p ?o }").queryAndConvert()["boolean"] is True


# --------------------------------------------------------------------------- raw HTTP

def test_serve_html_page_with_a_query_box(server: SparqlServer) -> None:
    status, headers, body = request(server, path="/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in headers["content-security-policy"]
    page = body.decode("utf-8")
    assert '<form action="/sparql" method="get">' in page and '<textarea name="query"' in page


@pytest.mark.parametrize(("fmt", "media"), [
    ("json", "application/sparql-results+json"), ("xml", "application/sparql-results+xml"),
    ("csv", "text/csv; charset=utf-8"), ("tsv", "text/tab-separated-values; charset=utf-8"),
])
def test_serve_format_parameter_overrides_accept(server: SparqlServer, fmt: str, media: str) -> None:
    status, headers, _ = get(server, accept="text/html", query=WORKS_AT, format=fmt)
    assert status == 200 and headers["content-type"] == media


def test_serve_browser_accept_header_gets_a_result(server: SparqlServer) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    status, headers, _ = get(server, accept=accept, query=WORKS_AT)
    assert status == 200 and headers["content-type"] == "application/sparql-results+xml"


@pytest.mark.parametrize(("method", "path", "body", "headers", "status"), [
    ("GET", "/sparql", None, {}, 400),  # no query
    ("GET", "/sparql?query=ASK{}&query=ASK{}", None, {}, 400),  # two queries
    ("GET", "/elsewhere?query=ASK{}", None, {}, 404),
    ("GET", "/sparql?query=ASK{}&default-graph-uri=http://x.example/", None, {}, 400),
    ("GET", "/sparql?query=ASK{}&format=turtle", None, {}, 400),  # no Turtle for ASK
    ("POST", "/sparql", b"ASK {}", {"Content-Type": "text/plain"}, 415),
    ("POST", "/sparql", b"\xff\xfe", {"Content-Type": "application/sparql-query"}, 400),
    ("POST", "/sparql", b"x" * (MAX_BODY + 1), {"Content-Type": "application/sparql-query"}, 413),
    ("PUT", "/sparql", b"", {}, 405),
    ("DELETE", "/sparql", None, {}, 405),
])
def test_serve_bad_requests_get_clear_4xx(server: SparqlServer, method: str, path: str,
                                          body: bytes | None, headers: dict, status: int) -> None:
    got, answer_headers, answer = request(server, method, path, body, headers)
    assert got == status
    assert answer_headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.strip() and b"\n" not in answer.strip()


def test_serve_head_has_no_body(server: SparqlServer) -> None:
    status, headers, body = request(server, "HEAD", "/")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0


# --------------------------------------------------------------------------- negotiation

@pytest.mark.parametrize(("accept", "expected"), [
    (None, "application/sparql-results+json"),
    ("", "application/sparql-results+json"),
    ("text/csv", "text/csv"),
    ("text/csv;q=0.5, text/tab-separated-values", "text/tab-separated-values"),
    ("application/sparql-results+xml;q=0.9, application/sparql-results+json;q=0.9",
     "application/sparql-results+json"),
    ("text/*", "text/csv"),
    ("image/png", "application/sparql-results+json"),
    ("text/csv;q=0, */*;q=0.1", "application/sparql-results+json"),
    ("application/json", "application/json"),
    ("bogus;;q=x, text/csv", "text/csv"),
])
def test_serve_negotiate(accept: str | None, expected: str) -> None:
    offered = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
               "text/tab-separated-values", "application/json"]
    assert negotiate(accept, offered) == expected


@pytest.mark.parametrize(("kind", "accept", "requested", "expected"), [
    ("SELECT", None, None, ("json", "application/sparql-results+json")),
    ("ASK", "application/xml", None, ("xml", "application/sparql-results+xml")),
    ("CONSTRUCT", None, None, ("turtle", "text/turtle")),
    ("DESCRIBE", "application/n-triples", None, ("nt", "application/n-triples")),
    ("CONSTRUCT", "application/json", None, ("json-ld", "application/ld+json")),
    ("CONSTRUCT", "text/plain", None, ("nt", "application/n-triples")),
    ("CONSTRUCT", None, "rdf-xml", ("rdf-xml", "application/rdf+xml")),
    ("SELECT", "text/csv", "tsv", ("tsv", "text/tab-separated-values")),
    ("SELECT", None, "text/csv", ("csv", "text/csv")),
])
def test_serve_choose_format(kind: str, accept: str | None, requested: str | None,
                             expected: tuple[str, str]) -> None:
    assert choose_format(kind, accept, requested) == expected


def test_serve_choose_format_refuses_a_format_the_result_cannot_take() -> None:
    with pytest.raises(ConfigError, match="cannot hold SELECT results"):
        choose_format("SELECT", None, "turtle")


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("192.168.1.5", False), ("::", False),
])
def test_serve_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(("options", "message"), [
    ({"workers": 0}, "workers"), ({"timeout": 0}, "time limit"), ({"port": 70000}, "port"),
])
def test_serve_bad_options_are_config_errors(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_server(Graph(), **options)


def test_serve_loads_files_and_stops_on_shutdown(tmp_path) -> None:
    """serve() as `kg serve` runs it: files merged, answers, stops when shut down."""
    first = write_graph(sample_graph(), tmp_path / "a.ttl")
    extra = Graph()
    extra.add((URIRef(BASE + "entity/person/x"), URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
               Literal("X")))
    second = write_graph(extra, tmp_path / "b.nt", fmt="nt")
    answers: list[int] = []
    workers_before = set(multiprocessing.active_children())

    def ready(running: SparqlServer) -> None:
        def ask_then_stop() -> None:
            try:
                query = urllib.parse.urlencode({"query": "SELECT ?l WHERE { ?s rdfs:label ?l }"})
                with urllib.request.urlopen(f"{running.url}?{query}", timeout=CLIENT_TIMEOUT) as r:
                    answers.append(len(json.load(r)["results"]["bindings"]))
            finally:
                running.shutdown()

        threading.Thread(target=ask_then_stop, daemon=True).start()

    done = threading.Thread(target=serve, args=([first, second],),
                            kwargs={"port": 0, "workers": 1, "on_ready": ready}, daemon=True)
    done.start()
    done.join(60)
    assert not done.is_alive()
    assert answers == [5]
    assert set(multiprocessing.active_children()) <= workers_before  # its workers are gone


@pytest.mark.parametrize(("kind", "requested", "expected"), [
    ("CONSTRUCT", "n3", "turtle"), ("CONSTRUCT", "rdf+xml", "rdf-xml"), ("DESCRIBE", "xml", "rdf-xml"),
    ("CONSTRUCT", "json", "json-ld"), ("SELECT", "json", "json"), ("ASK", "xml", "xml"),
])
def test_serve_format_names_sparqlwrapper_sends(kind: str, requested: str, expected: str) -> None:
    assert choose_format(kind, None, requested)[0] == expected



# --------------------------------------------------------------------------- kg serve

def test_serve_command_defaults_and_clean_stop(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict = {}

    def fake_serve(paths, **options):
        seen.update(options, paths=paths)
        raise KeyboardInterrupt

    monkeypatch.setattr("kg.serve.serve", fake_serve)
    assert run_cli("serve", "a.ttl", "b.ttl", "--quiet") == 0
    assert seen["paths"] == ["a.ttl", "b.ttl"]
    assert (seen["host"], seen["port"], seen["timeout"], seen["workers"]) == ("127.0.0.1", 7878, 10.0, 2)
    assert capsys.readouterr().err == "stopped\n"


def test_serve_command_warns_when_not_on_loopback(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("kg.serve.serve", lambda paths, **options: None)
    assert run_cli("serve", "a.ttl", "--host", "0.0.0.0", "--quiet") == 0
    assert "warning: listening on 0.0.0.0" in capsys.readouterr().err
