"""SHACL validation: the built sample graph conforms, broken graphs do not, one line each."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS

from kg.errors import InputError, ModelNotInstalled
from kg.export import write_graph
from kg.graph import fact_iri
from kg.validate import Violation, format_violation, load_shapes, validate_file, validate_graph
from kg.vocab import KG
from test_export import run_cli
from test_graph import BASE, CHEW, SEATTLE, TIKTOK, sample_facts, sample_graph
from test_queries import build_samples

FACT = fact_iri(BASE, sample_facts()[0])  # Chew works_at TikTok, stated by a1 and a2
HIRES = fact_iri(BASE, sample_facts()[2])  # TikTok hires_in Seattle
EVIDENCE = URIRef(f"{FACT}/evidence/1")
CHEW_IRI = URIRef(BASE + "entity/" + CHEW.key)
TIKTOK_IRI = URIRef(BASE + "entity/" + TIKTOK.key)
SEATTLE_IRI = URIRef(BASE + "entity/" + SEATTLE.key)
XSD_DECIMAL = URIRef("http://www.w3.org/2001/XMLSchema#decimal")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_samples(tmp_path_factory.mktemp("samples"))


def test_validate_built_sample_graph_conforms(sample_file: Path) -> None:
    report = validate_file(sample_file)
    assert [format_violation(v) for v in report.violations] == []
    assert report.conforms


def test_validate_unit_graph_conforms(shapes: Graph) -> None:
    assert validate_graph(sample_graph(), shapes).conforms


def _broken(change) -> Graph:
    graph = sample_graph()
    change(graph)
    return graph


# Each breakage, and a piece of the one line it must be reported with.
BREAKAGES = {
    "domain": (lambda g: g.add((SEATTLE_IRI, KG.works_at, TIKTOK_IRI)),
               "place:seattle:", "subject of kg:works_at must be a kg:Person"),
    "range": (lambda g: g.add((CHEW_IRI, KG.works_at, SEATTLE_IRI)),
              "person:shou-zi-chew kg:works_at", "object of kg:works_at must be a kg:Organization"),
    "two types": (lambda g: g.add((SEATTLE_IRI, RDF.type, KG.Organization)),
                  "place:seattle", "exactly one of the types"),
    "no label": (lambda g: g.remove((TIKTOK_IRI, RDFS.label, None)),
                 "organization:tiktok rdfs:label", "exactly one non-empty rdfs:label"),
    "empty label": (lambda g: g.set((TIKTOK_IRI, RDFS.label, Literal(""))),
                    "organization:tiktok rdfs:label", "non-empty rdfs:label"),
    "confidence above 1": (lambda g: g.set((FACT, KG.confidence, Literal("1.5", datatype=XSD_DECIMAL))),
                           "kg:confidence", "in [0, 1]"),
    "confidence not a decimal": (lambda g: g.set((FACT, KG.confidence, Literal("high"))),
                                 "kg:confidence", "xsd:decimal"),
    "no evidence": (lambda g: g.remove((HIRES, KG.evidence, None)),
                    "kg:evidence", "at least one kg:evidence"),
    "no source article": (lambda g: g.remove((HIRES, PROV.wasDerivedFrom, None)),
                          "prov:wasDerivedFrom", "at least one kg:Article"),
    "source not listed": (lambda g: g.remove((FACT, PROV.wasDerivedFrom, URIRef(BASE + "article/a2"))),
                          str(FACT)[len(BASE):], "does not list with prov:wasDerivedFrom"),
    "evidence without sentence": (lambda g: g.remove((EVIDENCE, KG.sentence, None)),
                                  "kg:sentence", "non-empty kg:sentence"),
    "evidence without article": (lambda g: g.remove((EVIDENCE, DCTERMS.source, None)),
                                 "dcterms:source", "exactly one dcterms:source"),
    "offsets reversed": (lambda g: g.set((EVIDENCE, KG.startOffset, Literal(500))),
                         "kg:startOffset", "<= its kg:endOffset"),
    "reified triple missing": (lambda g: g.remove((CHEW_IRI, KG.works_at, TIKTOK_IRI)),
                               str(FACT)[len(BASE):], "not stated directly"),
    "title on a hiring fact": (lambda g: g.add((HIRES, KG.role, Literal("CEO"))),
                               "hires_in", "titles belong on employment facts"),
    "unknown relation": (lambda g: g.set((HIRES, RDF.predicate, KG.role)),
                         "rdf:predicate", "one of the nine kg relations"),
    "article without id": (lambda g: g.remove((URIRef(BASE + "article/a1"), DCTERMS.identifier, None)),
                           "dcterms:identifier", "exactly one dcterms:identifier"),
}


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_validate_broken_graph_is_reported(shapes: Graph, name: str) -> None:
    change, where, message = BREAKAGES[name]
    report = validate_graph(_broken(change), shapes)
    assert not report.conforms
    lines = [format_violation(v) for v in report.violations]
    assert any(where in line and message in line for line in lines), lines


def test_validate_lines_are_single_lines_sorted_and_unique(shapes: Graph) -> None:
    graph = _broken(lambda g: [g.add((SEATTLE_IRI, KG.works_at, TIKTOK_IRI)),
                               g.set((FACT, KG.confidence, Literal("1.5", datatype=XSD_DECIMAL))),
                               g.set((TIKTOK_IRI, RDFS.label, Literal("a\nb")))])
    report = validate_graph(graph, shapes)
    assert len(set(report.violations)) == len(report.violations)
    keys = [(v.focus, v.path, v.message, v.value) for v in report.violations]
    assert keys == sorted(keys)
    assert all("\n" not in format_violation(v) for v in report.violations)


def test_validate_format_violation() -> None:
    line = format_violation(Violation("person:x", "rdfs:label", "needs a label", value="\"\""))
    assert line == 'Violation: person:x rdfs:label: needs a label (value: "")'
    assert format_violation(Violation("person:x", "", "odd")) == "Violation: person:x: odd"


def test_validate_without_pyshacl_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_pyshacl(name, *args, **kwargs):
        if name == "pyshacl" or name.startswith("pyshacl."):
            raise ImportError("No module named 'pyshacl'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyshacl)
    with pytest.raises(ModelNotInstalled, match="pip install pyshacl"):
        validate_graph(sample_graph())


def test_validate_missing_shapes_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_shapes(tmp_path / "nope.ttl")


# --------------------------------------------------------------------------- kg validate

def test_validate_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_graph(sample_graph(), tmp_path / "good.ttl")
    assert run_cli("validate", str(good)) == 0
    assert "conforms" in capsys.readouterr().out
    bad = write_graph(_broken(BREAKAGES["range"][0]), tmp_path / "bad.trig", fmt="trig")
    assert run_cli("validate", str(bad)) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1].endswith("does not conform (1 violation)")
    assert out[0].startswith("Violation: person:shou-zi-chew kg:works_at: ")


def test_validate_command_bad_input_raises_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="graph file not found"):
        run_cli("validate", str(tmp_path / "missing.ttl"))
