"""The shipped queries (queries/*.rq): documented, portable, and answering real questions about
the graph built from the bundled sample corpus (samples/)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS
from rdflib.plugins.sparql import prepareQuery

from kg.cli import main
from kg.export import load_graph
from kg.sparql import (
    RESULT_FORMATS,
    QueryResult,
    bundled_queries,
    describe_query,
    format_result,
    parse_binding,
    query_namespaces,
    read_query_arg,
    run_query,
)
from kg.vocab import KG

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
QUERIES = bundled_queries()
# The questions issue 4 asks the shipped queries to answer, by query name.
REQUIRED = ("moves", "hiring", "evidence", "people_per_company", "facts_by_confidence",
            "article_facts")


def build_samples(folder: Path) -> Path:
    """Build the sample corpus into ``folder`` (no HTML) and return the Turtle file."""
    from kg.pipeline import build
    from kg.settings import load_settings

    result = build([SAMPLES], folder, load_settings(), html=False)
    return Path(result.report.outputs["turtle"])


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_samples(tmp_path_factory.mktemp("samples"))


@pytest.fixture(scope="module")
def sample(sample_file: Path) -> Graph:
    return load_graph(sample_file)


@pytest.fixture(scope="module")
def store(sample_file: Path) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load(path=str(sample_file), format=pyoxigraph.RdfFormat.TURTLE)
    return store


def ask(graph: Graph, name: str, **bindings: str) -> QueryResult:
    """Run the bundled query ``name`` with ``NAME=VALUE`` bindings as `kg query --bind` would."""
    prefixes = query_namespaces(graph)
    bound = dict(parse_binding(f"{k}={v}", prefixes) for k, v in bindings.items())
    return run_query(graph, read_query_arg(name, io.StringIO()), bindings=bound)


def rows(result: QueryResult) -> list[dict[str, str]]:
    return [{name: str(v) if v is not None else "" for name, v in zip(result.variables, row)}
            for row in result.rows]


def projected(text: str) -> list[str]:
    """The names a query's SELECT clause returns, in order."""
    return [str(v) for v in prepareQuery(text).algebra["PV"]]


# --------------------------------------------------------------------------- documentation

def test_queries_cover_the_required_questions() -> None:
    assert set(REQUIRED) <= set(QUERIES)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_queries_are_documented(name: str) -> None:
    text = QUERIES[name].read_text(encoding="utf-8")
    header = describe_query(text)
    question, *rest = header.splitlines()
    assert question.endswith("?"), "the first line is the question the query answers"
    assert any(line.startswith("Parameters") for line in rest)
    (columns,) = [line for line in rest if line.startswith("Columns:")]
    assert [c.strip() for c in columns[len("Columns:"):].split(",")] == projected(text)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_queries_documented_parameters_are_query_variables(name: str) -> None:
    text = QUERIES[name].read_text(encoding="utf-8")
    header = describe_query(text)
    body = text[text.index("SELECT"):]
    parameters = re.findall(r"^\?(\w+)\s", header.split("Parameters", 1)[1], re.MULTILINE)
    assert parameters, "every query takes at least one optional parameter"
    for parameter in parameters:
        assert f"?{parameter}" in body


# --------------------------------------------------------------------------- against the samples

@pytest.mark.parametrize("name", sorted(QUERIES))
def test_queries_answer_on_the_sample_corpus(sample: Graph, name: str) -> None:
    result = run_query(sample, read_query_arg(name, io.StringIO()))
    assert result.kind == "SELECT"
    assert len(result.rows) > 0
    for fmt in RESULT_FORMATS:
        assert format_result(result, fmt)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_queries_are_portable_to_pyoxigraph(sample: Graph, store: pyoxigraph.Store,
                                           name: str) -> None:
    text = QUERIES[name].read_text(encoding="utf-8")
    solutions = list(store.query(text))
    assert len(solutions) == len(run_query(sample, text).rows)


def test_queries_moves(sample: Graph) -> None:
    moves = rows(ask(sample, "moves"))
    assert {"person": "Laura Brennecke", "from": "Philips", "to": "Siemens Healthineers"}.items() \
        <= next(r for r in moves if r["person"] == "Laura Brennecke").items()
    for row in moves:
        assert row["from"] != row["to"]
        assert 0 < float(row["confidence"]) <= 1
    assert rows(ask(sample, "moves", person="Laura Brennecke")) == [
        r for r in moves if r["person"] == "Laura Brennecke"]


def test_queries_hiring(sample: Graph) -> None:
    hiring = rows(ask(sample, "hiring"))
    assert {("Quantellis", "Munich"), ("Quantellis", "Leipzig")} <= {
        (r["organization"], r["place"]) for r in hiring}
    quantellis = rows(ask(sample, "hiring", organization="Quantellis"))
    assert {r["organization"] for r in quantellis} == {"Quantellis"}
    assert all(r["articles"] == "de_quantellis_siemens_wechsel" for r in quantellis)


def test_queries_evidence_for_one_fact(sample: Graph) -> None:
    found = rows(ask(sample, "evidence", subject="Laura Brennecke", predicate="kg:works_at",
                     object="Siemens Healthineers"))
    assert found
    for row in found:
        assert (row["subject"], row["relation"], row["object"]) == (
            "Laura Brennecke", "works_at", "Siemens Healthineers")
        assert "Brennecke" in row["sentence"]
        assert row["article"] == "brief_en_healthineers_boston"
        assert int(row["start"]) < int(row["end"])


def test_queries_people_per_company(sample: Graph) -> None:
    table = {r["organization"]: r for r in rows(ask(sample, "people_per_company"))}
    assert "Katrin Vollmer" in table["Quantellis"]["people"]
    assert "Katrin Vollmer" in table["Siemens"]["former_people"]
    for row in table.values():
        assert int(row["staff"]) == len([p for p in row["people"].split(", ") if p])
        assert int(row["staff"]) + int(row["former_staff"]) > 0


def test_queries_facts_by_confidence(sample: Graph) -> None:
    everything = rows(ask(sample, "facts_by_confidence"))
    confidences = [float(r["confidence"]) for r in everything]
    assert confidences == sorted(confidences, reverse=True)
    facts = set(sample.subjects(RDF.type, KG.Fact))
    assert sum(1 for _ in everything) == len(facts)
    sure = rows(ask(sample, "facts_by_confidence", min_confidence="0.8"))
    assert sure == [r for r in everything if float(r["confidence"]) >= 0.8]
    assert 0 < len(sure) < len(everything)


def test_queries_article_facts(sample: Graph) -> None:
    article = "de_quantellis_siemens_wechsel"
    found = rows(ask(sample, "article_facts", article=article))
    assert found and {r["article"] for r in found} == {article}
    node = next(sample.subjects(DCTERMS.identifier, Literal(article)))

    def label(fact: URIRef, end: URIRef) -> str:
        return str(sample.value(sample.value(fact, end), RDFS.label))

    stated = {(label(f, RDF.subject), str(sample.value(f, RDF.predicate)).rpartition("#")[2],
               label(f, RDF.object)) for f in sample.subjects(PROV.wasDerivedFrom, node)}
    assert {(r["subject"], r["relation"], r["object"]) for r in found} == stated


def test_queries_provenance_of_every_sample_fact(sample: Graph) -> None:
    for fact in sample.subjects(RDF.type, KG.Fact):
        evidence = list(sample.objects(fact, KG.evidence))
        assert evidence, fact
        sources = {sample.value(e, DCTERMS.source) for e in evidence}
        assert sources == set(sample.objects(fact, PROV.wasDerivedFrom)), fact
        # evidence keeps each extractor's own score; the fact's confidence is calibrated precision
        assert all(0 <= sample.value(e, KG.confidence).toPython() <= 1 for e in evidence), fact
        assert 0 < sample.value(fact, KG.confidence).toPython() <= 1, fact


def test_queries_run_by_name_from_the_command_line(sample_file: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", str(sample_file), "moves"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["?person", "?from", "?to", "?role", "?confidence"]
    assert "Laura Brennecke" in out
