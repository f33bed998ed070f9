"""Oxigraph stores (kg.store) and the Oxigraph engine of kg.query: the same answers as rdflib's,
persistent stores, bounds, `kg query` and `kg export` on stores, and the SPARQL benchmark's
smoke run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import to_isomorphic

from engine_util import canonical_graph, canonical_rows
from kg.cli import main
from kg.errors import ConfigError, InputError, QueryError
from kg.export import export_graph, load_graph, write_graph
from kg.sparql import (
    QueryTimeout,
    bundled_queries,
    parse_binding,
    query_namespaces,
    run_query,
)
from kg.store import STORE_DIR, GraphStore, memory_store, open_graph, open_store, write_store
from test_export import run_cli
from test_graph import BASE, sample_graph

ROOT = Path(__file__).resolve().parent.parent
QUERIES = bundled_queries()
PERSON = "SELECT ?p ?l WHERE { ?p a kg:Person ; rdfs:label ?l } ORDER BY ?l"
TYPICAL = {
    "label lookup": 'SELECT ?e ?t WHERE { ?e rdfs:label "TikTok" ; a ?t }',
    "2-hop path": "SELECT ?p ?o ?x WHERE { ?p kg:works_at ?o . ?o ?r ?x . ?x a kg:Place }",
    "count by relation": "SELECT ?r (COUNT(*) AS ?n) WHERE { ?f a kg:Fact ; rdf:predicate ?r } "
                         "GROUP BY ?r",
    "confidence filter": "SELECT ?f ?c WHERE { ?f kg:confidence ?c FILTER(?c >= 0.7) }",
    "evidence of one fact": "SELECT ?f ?s WHERE { ?f a kg:Fact ; kg:evidence/kg:sentence ?s }",
}


@pytest.fixture(scope="module")
def graph() -> Graph:
    return sample_graph()


@pytest.fixture(scope="module")
def store(graph: Graph) -> GraphStore:
    return memory_store(graph)


def big_file(folder: Path, triples: int) -> Path:
    """A graph in kg's vocabulary of about ``triples`` triples (the benchmark's generator)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import sparql as bench
    finally:
        sys.path.remove(str(ROOT / "bench"))
    template = write_graph(sample_graph(), folder / "template.nt", fmt="nt")
    lines = sorted(line for line in template.read_text(encoding="utf-8").splitlines() if line)
    path = folder / f"big-{triples}.nt"
    path.write_text("\n".join(bench.generate(lines, triples)) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the same answers

@pytest.mark.parametrize("name", sorted(QUERIES))
def test_store_bundled_queries_answer_as_rdflib_does(graph: Graph, store: GraphStore,
                                                     name: str) -> None:
    text = QUERIES[name].read_text(encoding="utf-8")
    expected, actual = run_query(graph, text), run_query(store, text)
    assert actual.kind == expected.kind == "SELECT"
    assert actual.variables == expected.variables
    assert canonical_rows(actual.rows) == canonical_rows(expected.rows)


@pytest.mark.parametrize("name", sorted(TYPICAL))
def test_store_typical_queries_answer_as_rdflib_does(graph: Graph, store: GraphStore,
                                                     name: str) -> None:
    expected, actual = run_query(graph, TYPICAL[name]), run_query(store, TYPICAL[name])
    assert expected.rows, "the query should find something in the sample graph"
    assert canonical_rows(actual.rows) == canonical_rows(expected.rows)


@pytest.mark.parametrize(("name", "binding"), [
    ("evidence", "predicate=kg:works_at"), ("hiring", "organization=TikTok"),
    ("facts_by_confidence", "min_confidence=0.8"), ("article_facts", "article=a1"),
])
def test_store_bindings_answer_as_rdflib_does(graph: Graph, store: GraphStore, name: str,
                                              binding: str) -> None:
    text = QUERIES[name].read_text(encoding="utf-8")
    bindings = dict([parse_binding(binding, query_namespaces(graph))])
    expected = run_query(graph, text, bindings=bindings)
    actual = run_query(store, text, bindings=bindings)
    assert canonical_rows(actual.rows) == canonical_rows(expected.rows)


@pytest.mark.parametrize("query", [
    "ASK { ?p kg:works_at ?o }", "ASK { ?p kg:founded ?o }",
    "CONSTRUCT { ?o kg:employs ?p } WHERE { ?p kg:works_at ?o }",
    f"DESCRIBE <{BASE}entity/person/shou-zi-chew>",
    "DESCRIBE ?o WHERE { ?p kg:works_at ?o }",
])
def test_store_ask_construct_describe_answer_as_rdflib_does(graph: Graph, store: GraphStore,
                                                            query: str) -> None:
    expected, actual = run_query(graph, query), run_query(store, query)
    assert actual.kind == expected.kind and actual.boolean == expected.boolean
    if expected.graph is not None:
        assert to_isomorphic(canonical_graph(actual.graph)) == \
            to_isomorphic(canonical_graph(expected.graph))


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { ?s ?p }", "SELECT * WHERE { ?s nope:p ?o }",
    "INSERT DATA { <a> <b> <c> }",
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * FROM <http://127.0.0.1:9/data.ttl> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <http://127.0.0.1:9/g> WHERE { GRAPH ?g { ?s ?p ?o } }",
])
def test_store_refusals_and_errors_are_the_same_line(graph: Graph, store: GraphStore,
                                                     query: str) -> None:
    with pytest.raises(QueryError) as expected:
        run_query(graph, query)
    with pytest.raises(QueryError) as actual:
        run_query(store, query)
    assert str(actual.value) == str(expected.value)


@pytest.mark.parametrize("query", [
    'SELECT ?s WHERE { ?s rdfs:label "from the service" }',
    "SELECT ?s WHERE { ?s rdfs:label ?l } # FROM <http://x/> SERVICE",
    "PREFIX from: <http://x/> SELECT ?from WHERE { ?from from:service ?o }",
])
def test_store_keywords_in_strings_comments_and_names_are_not_refused(store: GraphStore,
                                                                      query: str) -> None:
    assert run_query(store, query).kind == "SELECT"


# --------------------------------------------------------------------------- bounds

@pytest.mark.parametrize("engine", ["rdflib", "oxigraph"])
def test_store_max_rows_cuts_and_says_so(graph: Graph, store: GraphStore, engine: str) -> None:
    target = graph if engine == "rdflib" else store
    full = run_query(target, "SELECT * WHERE { ?s ?p ?o }")
    cut = run_query(target, "SELECT * WHERE { ?s ?p ?o }", max_rows=3)
    assert len(cut.rows) == 3 and cut.truncated and not full.truncated
    assert not run_query(target, "SELECT * WHERE { ?s ?p ?o }", max_rows=len(full.rows)).truncated
    graph_cut = run_query(target, "CONSTRUCT WHERE { ?s ?p ?o }", max_rows=2)
    assert len(graph_cut.graph) == 2 and graph_cut.truncated


@pytest.mark.parametrize("engine", ["rdflib", "oxigraph"])
def test_store_timeout_stops_between_rows(graph: Graph, store: GraphStore, engine: str) -> None:
    target = graph if engine == "rdflib" else store
    with pytest.raises(QueryTimeout, match="time limit of 1e-09 s"):
        run_query(target, "SELECT * WHERE { ?s ?p ?o }", timeout=1e-9)


@pytest.mark.parametrize(("options", "message"), [
    ({"timeout": float("inf")}, "finite"), ({"timeout": float("nan")}, "finite"),
    ({"timeout": 0}, "finite"), ({"timeout": -1}, "finite"), ({"max_rows": -1}, "row limit"),
])
def test_store_bad_limits_are_config_errors(store: GraphStore, options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        run_query(store, "ASK {}", **options)


# --------------------------------------------------------------------------- persistent stores

def test_store_written_and_opened_read_only(tmp_path: Path, graph: Graph) -> None:
    path = write_store(graph, tmp_path / "out")
    assert path == tmp_path / "out" / STORE_DIR
    for where in (path, tmp_path / "out"):  # the store folder, or the output folder
        opened = open_store(where)
        assert len(opened) == len(graph) and opened.base_iri == BASE
        assert opened.prefixes["kg"] == "https://w3id.org/kg-news/ontology#"
        assert to_isomorphic(canonical_graph(opened.to_graph())) == \
            to_isomorphic(canonical_graph(graph))
        assert canonical_rows(run_query(opened, PERSON).rows) == \
            canonical_rows(run_query(graph, PERSON).rows)
    assert [p.name for p in (tmp_path / "out").iterdir()] == [STORE_DIR]


def test_store_rewrite_replaces_the_whole_store(tmp_path: Path, graph: Graph) -> None:
    write_store(graph, tmp_path)
    small = Graph()
    small.add((URIRef(BASE + "entity/person/x"), URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
               Literal("X")))
    write_store(small, tmp_path)
    assert len(open_store(tmp_path)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [STORE_DIR]  # no staging left


def test_store_from_files_merges_them_like_load_graphs(tmp_path: Path, graph: Graph) -> None:
    turtle = write_graph(graph, tmp_path / "g.ttl")
    trig = write_graph(graph, tmp_path / "g.trig", fmt="trig")
    for sources in ([turtle], [trig], [turtle, trig]):
        opened = open_store(write_store(sources, tmp_path / "out"))
        assert len(opened) == len(graph) and opened.base_iri == BASE


@pytest.mark.parametrize("setup", ["missing", "empty folder", "not a store"])
def test_store_open_without_a_store_is_one_input_error(tmp_path: Path, setup: str) -> None:
    where = tmp_path / "x"
    if setup != "missing":
        where.mkdir()
    if setup == "not a store":
        (where / STORE_DIR).mkdir()
    with pytest.raises(InputError, match="no kg store in") as error:
        open_store(where)
    assert "\n" not in str(error.value)


def test_store_open_graph_refuses_a_folder_among_files(tmp_path: Path, graph: Graph) -> None:
    turtle = write_graph(graph, tmp_path / "g.ttl")
    with pytest.raises(InputError, match="is a folder"):
        open_graph([turtle, tmp_path])


# --------------------------------------------------------------------------- kg query, kg export

def test_store_query_command_opens_an_output_folder(tmp_path: Path, graph: Graph,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    write_store(graph, tmp_path / "out")
    assert main(["query", str(tmp_path / "out"), "hiring", "--format", "csv"]) == 0
    assert "TikTok,Seattle" in capsys.readouterr().out


def test_store_query_command_cut_result_warns(tmp_path: Path, graph: Graph,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    write_store(graph, tmp_path)
    assert main(["query", str(tmp_path), "SELECT * WHERE { ?s ?p ?o }", "--max-rows", "2",
                 "--format", "tsv"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 3
    assert err == "kg: warning: the result was cut at 2 rows (--max-rows)\n"


@pytest.mark.parametrize("option", [("--timeout", "inf"), ("--timeout", "nan"),
                                    ("--timeout", "0"), ("--max-rows", "-1"),
                                    ("--max-memory", "0")])
def test_store_query_command_bad_limits_fail_before_work(tmp_path: Path, option: tuple) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kg.cli", "query", str(tmp_path / "missing.ttl"), "ASK {}", *option],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("kg: error: ")
    assert "missing.ttl" not in result.stderr  # the limits are checked before the graph is read


@pytest.mark.parametrize(("query", "options", "message"), [
    ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", ("--timeout", "2"),
     "time limit of 2 s"),
    ("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?i", ("--max-memory", "200"),
     "more than 200 MB"),
])
def test_store_query_command_stops_a_cross_product(tmp_path_factory: pytest.TempPathFactory,
                                                   query: str, options: tuple,
                                                   message: str) -> None:
    """A cross product on a 44k-triple graph ends with one line and a non-zero exit; the
    subprocess timeout is only a guard against hanging."""
    path = big_file(tmp_path_factory.mktemp("big"), 44_000)
    result = subprocess.run([sys.executable, "-m", "kg.cli", "query", str(path), query, *options],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == QueryTimeout.exit_code
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert result.stdout == ""


def test_store_export_command_writes_a_store_with_oxigraph(tmp_path: Path, graph: Graph,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    write_store(graph, tmp_path / "out")
    for name in ("g.ttl", "g.nt"):
        assert run_cli("export", str(tmp_path / "out"), "--out", str(tmp_path / name)) == 0
        back = load_graph(tmp_path / name)  # every output still loads in rdflib
        assert to_isomorphic(canonical_graph(back)) == to_isomorphic(canonical_graph(graph))
    assert f"({len(graph)} triples)" in capsys.readouterr().out
    assert run_cli("export", str(tmp_path / "out"), "--out", str(tmp_path / "g.jsonld")) == 0
    assert len(load_graph(tmp_path / "g.jsonld")) == len(graph)


@pytest.mark.parametrize("fmt", ["turtle", "nt"])
def test_store_export_streams_files_through_oxigraph_unchanged(tmp_path: Path, graph: Graph,
                                                               fmt: str) -> None:
    source = write_graph(graph, tmp_path / "in.ttl")
    path, count = export_graph([source], tmp_path / f"out.{fmt}", fmt, engine="oxigraph")
    assert count == len(graph)
    assert to_isomorphic(load_graph(path, fmt)) == to_isomorphic(graph)  # literals as written
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in.ttl", f"out.{fmt}"])


def test_store_export_bad_input_is_one_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("<a> <b> .\n", encoding="utf-8")
    with pytest.raises(InputError, match="cannot parse"):
        export_graph([bad], tmp_path / "out.nt", "nt", engine="oxigraph")
    assert not (tmp_path / "out.nt").exists()


# --------------------------------------------------------------------------- the benchmark

def test_store_benchmark_smoke_run(tmp_path: Path) -> None:
    template = write_graph(sample_graph(), tmp_path / "template.nt", fmt="nt")
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "sparql.py"), "--triples", "2000", "--runs", "1",
         "--data", str(tmp_path / "data"), "--template", str(template),
         "--json", str(tmp_path / "figures.json")],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    figures = json.loads((tmp_path / "figures.json").read_text())
    names = {row["name"] for row in figures["rows"]}
    assert figures["triples"] == 2000
    assert {"open persistent store", "label lookup", "export store as turtle",
            "export store as nt"} <= names
    assert {f"queries/{name}.rq" for name in QUERIES} <= names


@pytest.mark.parametrize(("value", "language"), [("Anna Müller", None), ("李伟", "zh"),
                                                 ("", None), ("Chef", "de-DE")])
def test_store_string_literals_are_rdflibs_own(value: str, language: str | None) -> None:
    """kg builds plain and language-tagged literals without rdflib's constructor (speed);
    they must be indistinguishable from the constructor's."""
    import pyoxigraph

    from kg.store import to_rdflib

    made = to_rdflib(pyoxigraph.Literal(value, language=language) if language
                     else pyoxigraph.Literal(value))
    expected = Literal(value, lang=language)
    assert made == expected and hash(made) == hash(expected) and made.eq(expected)
    # Oxigraph writes language tags in lower case (de-de); rdflib compares them so too.
    assert (made.language, made.datatype, made.value) == (
        expected.language and expected.language.lower(), expected.datatype, expected.value)
    assert made.n3().lower() == expected.n3().lower()
    graph = Graph()
    graph.add((URIRef("http://x/s"), URIRef("http://x/p"), made))
    assert (URIRef("http://x/s"), URIRef("http://x/p"), expected) in graph


def test_store_build_command_leaves_a_store_that_query_opens(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["build", str(ROOT / "samples"), "--out", str(out), "--store", "--no-html"]) == 0
    assert f"store:   {out / STORE_DIR}" in capsys.readouterr().out
    built = load_graph(out / "graph.ttl")
    assert len(open_store(out)) == len(built)
    assert main(["query", str(out), "moves", "--format", "tsv"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    expected = run_query(built, QUERIES["moves"].read_text(encoding="utf-8")).rows
    assert len(rows) == len(expected) > 0
