"""write_graph / load_graph: every format round-trips, writes are atomic, errors are one line.

The helpers here (parsing with pyoxigraph, comparing graphs and datasets) are shared by the
other RDF test modules.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import networkx as nx
import pyoxigraph
import pytest
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

from kg import files
from kg.cli_rdf import add_commands
from kg.errors import ConfigError, InputError, OutputError
from kg.export import (
    CSV_COLUMNS,
    FORMATS,
    VALUE_SEPARATOR,
    GraphFormat,
    format_for_path,
    get_format,
    graph_file_name,
    load_graph,
    load_graphs,
    quiet_rdflib,
    write_graph,
)
from kg.graph import dataset_from_graph
from kg.vocab import KG, bind_namespaces
from oxigraph_util import assert_isomorphic, oxigraph_to_rdflib

# rdflib's XSD namespace warns when pytest probes module globals; a plain one does not.
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
EX = Namespace("https://kg.example.org/entity/")
TRICKY = 'quote " backslash \\ newline \n tab \t CR \r emoji 🙂 RTL שלום <script>&</script> """'
RDF_FORMATS = sorted(name for name, f in FORMATS.items() if f.is_rdf)
OTHER_FORMATS = sorted(name for name, f in FORMATS.items() if not f.is_rdf)
# Graph name -> graph; None is the default graph.
Graphs = dict[URIRef | None, Graph]


def small_graph(order: int = 1) -> Graph:
    triples = [
        (EX["person/a"], KG.works_at, EX["organization/b"]),
        (EX["person/a"], RDF.type, KG.Person),
        (EX["person/a"], RDF.type, URIRef("https://schema.org/Person")),
        (EX["person/a"], KG.role, Literal("CEO")),
        (EX["person/a"], KG.role, Literal("Chef")),
        (EX["person/a"], KG.role, Literal("Chef", lang="de")),
        (EX["person/a"], URIRef("http://www.w3.org/2000/01/rdf-schema#label"), Literal(TRICKY)),
        (EX["person/a"], KG.sentence, Literal(TRICKY, lang="de")),
        (EX["person/a"], KG.confidence, Literal("0.500", datatype=XSD.decimal)),
        (EX["person/a"], KG.startOffset, Literal(3, datatype=XSD.integer)),
        (EX["organization/b"], URIRef("https://schema.org/url"),
         Literal("https://x.example/a b", datatype=XSD.anyURI)),
    ]
    graph = bind_namespaces(Graph(bind_namespaces="core"), "https://kg.example.org/")
    for t in triples[::order]:
        graph.add(t)
    return graph


def kg_graph() -> Graph:
    """A graph as build_graph makes it: facts, evidence from two articles, roles."""
    from test_graph import sample_graph

    return sample_graph()


def parse_with_oxigraph(data: bytes, graph_format: GraphFormat) -> Graphs:
    """Every graph in ``data`` as pyoxigraph reads it (strictly), by graph name."""
    out: Graphs = {}
    media = pyoxigraph.RdfFormat.from_media_type(graph_format.media_type)
    for quad in pyoxigraph.parse(data, format=media):
        name = None if isinstance(quad.graph_name, pyoxigraph.DefaultGraph) else URIRef(
            quad.graph_name.value)
        out.setdefault(name, Graph()).add(
            tuple(oxigraph_to_rdflib(t) for t in (quad.subject, quad.predicate, quad.object)))
    return out


def parse_with_rdflib(data: bytes, graph_format: GraphFormat) -> Graphs:
    """Every graph in ``data`` as rdflib reads it, by graph name."""
    with quiet_rdflib():
        if not graph_format.quads:
            return {None: Graph().parse(data=data, format=graph_format.rdflib_parser)}
        dataset = Dataset()
        dataset.parse(data=data, format=graph_format.rdflib_parser)
        out: Graphs = {}
        for s, p, o, name in dataset.quads():
            key = None if name == dataset.default_graph.identifier else name
            out.setdefault(key, Graph()).add((s, p, o))
    return out


def expected_graphs(graph: Graph, graph_format: GraphFormat) -> Graphs:
    """What a file of ``graph`` in ``graph_format`` should hold, by graph name."""
    if not graph_format.quads:
        return {None: graph} if len(graph) else {}
    with quiet_rdflib():
        dataset = dataset_from_graph(graph)
        out: Graphs = {}
        for s, p, o, name in dataset.quads():
            key = None if name == dataset.default_graph.identifier else name
            out.setdefault(key, Graph()).add((s, p, o))
    return out


def assert_same_graphs(expected: Graphs, actual: Graphs, what: str) -> None:
    """Same graph names, and each named graph isomorphic; the diff is printed on failure."""
    expected = {k: v for k, v in expected.items() if len(v)}
    actual = {k: v for k, v in actual.items() if len(v)}
    assert sorted(map(str, actual)) == sorted(map(str, expected)), f"{what}: graph names"
    for name, graph in expected.items():
        assert_isomorphic(graph, actual[name], f"{what}, graph {name or 'default'}")


def assert_round_trips(graph: Graph, name: str) -> None:
    """Serialize ``graph`` as ``name``; rdflib and pyoxigraph must read the same graphs back."""
    graph_format = FORMATS[name]
    data = graph_format.serialize(graph)
    expected = expected_graphs(graph, graph_format)
    assert_same_graphs(expected, parse_with_rdflib(data, graph_format), f"rdflib {name}")
    assert_same_graphs(expected, parse_with_oxigraph(data, graph_format), f"pyoxigraph {name}")


def read_graphml(data: bytes) -> nx.MultiDiGraph:
    return nx.read_graphml(io.BytesIO(data), force_multigraph=True)


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def run_cli(*argv: str) -> int:
    """Parse ``argv`` with kg/cli_rdf.py's sub-parsers and run the command, as kg/cli.py will."""
    parser = argparse.ArgumentParser(prog="kg")
    found = add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return found[args.command](args)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".tmp")


# --------------------------------------------------------------------------- formats

def test_export_registry_has_the_promised_formats() -> None:
    assert set(FORMATS) >= {"turtle", "nt", "json-ld", "trig", "nquads", "graphml", "csv"}
    assert {name for name, f in FORMATS.items() if f.quads} == {"trig", "nquads"}
    assert OTHER_FORMATS == ["csv", "graphml"]


@pytest.mark.parametrize("graph", [small_graph, kg_graph], ids=["small", "kg"])
@pytest.mark.parametrize("name", RDF_FORMATS)
def test_export_round_trips_through_rdflib_and_pyoxigraph(name: str, graph) -> None:
    assert_round_trips(graph(), name)


@pytest.mark.parametrize("name", RDF_FORMATS)
def test_export_written_file_loads_back_as_the_same_graph(tmp_path: Path, name: str) -> None:
    graph = kg_graph()
    path = write_graph(graph, tmp_path / graph_file_name(name), fmt=name)
    loaded = load_graph(path)
    assert len(loaded) == len(graph)
    assert_isomorphic(graph, loaded, name)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_export_output_does_not_depend_on_insertion_order(tmp_path: Path, name: str) -> None:
    first = write_graph(small_graph(1), tmp_path / "one", fmt=name).read_bytes()
    second = write_graph(small_graph(-1), tmp_path / "two", fmt=name).read_bytes()
    assert first == second


def test_export_output_is_identical_across_hash_seeds(tmp_path: Path) -> None:
    # rdflib's store iterates in hash order, which changes with PYTHONHASHSEED.
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import test_export; "
        "from kg.export import FORMATS, write_graph; "
        "[write_graph(g(), f'{sys.argv[2]}/{sys.argv[3]}.{g.__name__}.{n}', fmt=n) "
        "for n in FORMATS for g in (test_export.small_graph, test_export.kg_graph)]"
    )
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent), str(tmp_path), seed],
                       env=env, check=True)
    for name in FORMATS:
        for graph in ("small_graph", "kg_graph"):
            outputs = {(tmp_path / f"{seed}.{graph}.{name}").read_bytes() for seed in ("1", "2", "3")}
            assert len(outputs) == 1, (name, graph)


def test_export_turtle_uses_project_prefixes(tmp_path: Path) -> None:
    text = write_graph(small_graph(), tmp_path / "g.ttl").read_text(encoding="utf-8")
    assert "@prefix kg: <https://w3id.org/kg-news/ontology#> ." in text
    assert "kg:works_at" in text
    assert "\nperson:a " in text and "kg:works_at organization:b" in text


def test_export_trig_puts_evidence_in_per_article_graphs() -> None:
    text = FORMATS["trig"].serialize(kg_graph()).decode("utf-8")
    assert "<https://kg.example.org/graph/a1> {" in text
    assert "<https://kg.example.org/graph/a2> {" in text
    assert text.index("{") < text.index("graph/a1> {") < text.index("graph/a2> {")


def test_export_nquads_names_the_article_graph() -> None:
    lines = FORMATS["nquads"].serialize(kg_graph()).decode("utf-8").splitlines()
    sentences = [line for line in lines if "#sentence>" in line]
    assert sentences and all(line.endswith(("<https://kg.example.org/graph/a1> .",
                                            "<https://kg.example.org/graph/a2> .")) for line in sentences)
    assert lines == sorted(lines)


# --------------------------------------------------------------------------- GraphML and CSV

def _labels(graph: Graph) -> dict[str, str]:
    return {str(s): str(o) for s, o in graph.subject_objects(RDFS.label)}


def test_export_graphml_reads_back_with_networkx() -> None:
    graph = kg_graph()
    drawn = read_graphml(FORMATS["graphml"].serialize(graph))
    labels = _labels(graph)
    assert {n: d["label"] for n, d in drawn.nodes(data=True)} == labels
    assert {d["type"] for _, d in drawn.nodes(data=True)} == {"Person", "Organization", "Place"}
    edges = {(s, d["relation"], o): d for s, o, d in drawn.edges(data=True)}
    chew = "https://kg.example.org/entity/person/shou-zi-chew"
    tiktok = "https://kg.example.org/entity/organization/tiktok"
    assert set(edges) == {
        (chew, "works_at", tiktok),
        ("https://kg.example.org/entity/organization/bytedance", "parent_of", tiktok),
        (tiktok, "hires_in", "https://kg.example.org/entity/place/seattle"),
    }
    works = edges[(chew, "works_at", tiktok)]
    assert works["confidence"] == pytest.approx(0.97)
    assert works["roles"].split(VALUE_SEPARATOR) == ["CEO", "Chef"]
    assert works["article_ids"].split(VALUE_SEPARATOR) == ["a1", "a2"]
    assert works["evidence"].split(VALUE_SEPARATOR) == [
        "TikTok CEO Shou Zi Chew said.", "TikTok-Chef Shou Zi Chew sagte."]


def test_export_csv_is_the_facts_table() -> None:
    rows = read_csv(FORMATS["csv"].serialize(kg_graph()))
    assert list(rows[0]) == list(CSV_COLUMNS)
    by_relation = {row["relation"]: row for row in rows}
    assert sorted(by_relation) == ["hires_in", "parent_of", "works_at"]
    works = by_relation["works_at"]
    assert works["subject_label"] == "Shou Zi Chew" and works["object_label"] == "TikTok"
    assert works["subject"] == "https://kg.example.org/entity/person/shou-zi-chew"
    assert float(works["confidence"]) == pytest.approx(0.97)
    assert works["article_ids"] == "a1 | a2"
    assert works["rules"] == "en.works_at.ceo_of | de.works_at.chef_bei"


def test_export_graphml_and_csv_keep_tricky_text() -> None:
    from test_graph import NASTY_CLEAN, nasty_graph

    graph = nasty_graph(NASTY_CLEAN)
    drawn = read_graphml(FORMATS["graphml"].serialize(graph))
    assert NASTY_CLEAN in {d["label"] for _, d in drawn.nodes(data=True)}
    (edge,) = [d for _, _, d in drawn.edges(data=True)]
    assert edge["evidence"] == NASTY_CLEAN and edge["roles"] == NASTY_CLEAN
    (row,) = read_csv(FORMATS["csv"].serialize(graph))
    assert row["subject_label"] == NASTY_CLEAN and row["evidence"] == NASTY_CLEAN


@pytest.mark.parametrize("name", OTHER_FORMATS)
def test_export_non_rdf_files_cannot_be_loaded(tmp_path: Path, name: str) -> None:
    path = write_graph(kg_graph(), tmp_path / graph_file_name(name), fmt=name)
    with pytest.raises(InputError, match="not RDF"):
        load_graph(path)


@pytest.mark.parametrize(("alias", "name"), [("ttl", "turtle"), ("TURTLE", "turtle"),
                                             ("ntriples", "nt"), ("jsonld", "json-ld"),
                                             ("nq", "nquads"), ("N-Quads", "nquads"),
                                             ("xml", "rdf-xml")])
def test_export_format_aliases(alias: str, name: str) -> None:
    assert get_format(alias).name == name


def test_export_unknown_format_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown graph format 'rdfa'.*turtle"):
        write_graph(small_graph(), tmp_path / "g.x", fmt="rdfa")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("filename", "name"), [("g.ttl", "turtle"), ("G.TTL", "turtle"),
                                                ("g.nt", "nt"), ("g.jsonld", "json-ld"),
                                                ("g.json", "json-ld"), ("g.trig", "trig"),
                                                ("g.nq", "nquads"), ("g.rdf", "rdf-xml"),
                                                ("g.graphml", "graphml"), ("g.csv", "csv")])
def test_export_format_is_guessed_from_the_extension(filename: str, name: str) -> None:
    assert format_for_path(filename).name == name


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_export_graph_file_name_uses_the_first_extension(name: str) -> None:
    assert graph_file_name(name) == "graph" + FORMATS[name].extensions[0]
    assert format_for_path(graph_file_name(name)).name == name


# --------------------------------------------------------------------------- atomic writes

def test_export_write_leaves_no_temp_file(tmp_path: Path) -> None:
    write_graph(small_graph(), tmp_path / "g.ttl")
    write_graph(small_graph(), tmp_path / "g.ttl")
    assert [p.name for p in tmp_path.iterdir()] == ["g.ttl"]


def test_export_write_creates_missing_folders(tmp_path: Path) -> None:
    path = write_graph(small_graph(), tmp_path / "a" / "b" / "g.ttl")
    assert path.is_file()


def test_export_write_fsyncs_before_replacing(tmp_path: Path, monkeypatch) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(files.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(files.os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    write_graph(small_graph(), tmp_path / "g.ttl")
    assert calls[:2] == ["fsync", "replace"]


def test_export_serializer_failure_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "g.ttl"
    target.write_text("old content", encoding="utf-8")

    def broken(graph: Graph) -> bytes:
        raise RuntimeError("serializer exploded")

    monkeypatch.setitem(FORMATS, "turtle", replace(FORMATS["turtle"], serialize=broken))
    with pytest.raises(RuntimeError):
        write_graph(small_graph(), target)
    assert target.read_text(encoding="utf-8") == "old content"
    assert leftovers(tmp_path) == []


def test_export_failed_replace_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "g.ttl"
    target.write_text("old content", encoding="utf-8")

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.os, "replace", refuse)
    with pytest.raises(OutputError, match="cannot write .*g.ttl: Permission denied"):
        write_graph(small_graph(), target)
    assert target.read_text(encoding="utf-8") == "old content"
    assert leftovers(tmp_path) == []


def test_export_failed_write_leaves_no_half_written_target(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "g.ttl"
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, fd: int, mode: str) -> None:
            self.handle = real_fdopen(fd, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self.handle.close()

        def write(self, data: bytes) -> None:
            self.handle.write(data[: len(data) // 2])
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fdopen", HalfWriter)
    with pytest.raises(OutputError, match="No space left on device"):
        write_graph(small_graph(), target)
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_export_write_into_a_directory_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "g.ttl").mkdir()
    with pytest.raises(OutputError, match="cannot write"):
        write_graph(small_graph(), tmp_path / "g.ttl")
    assert leftovers(tmp_path) == []


def test_export_new_file_is_world_readable_and_existing_mode_is_kept(tmp_path: Path) -> None:
    fresh = write_graph(small_graph(), tmp_path / "new.ttl")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
    kept = tmp_path / "kept.ttl"
    kept.write_text("x", encoding="utf-8")
    kept.chmod(0o600)
    write_graph(small_graph(), kept)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


# --------------------------------------------------------------------------- loading

def test_export_load_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="graph file not found"):
        load_graph(tmp_path / "nope.ttl")


def test_export_load_parse_error_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix kg: <x> .\nkg:a kg:b \"unterminated .\n\n\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_graph(bad)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"cannot parse {bad} as turtle: ")


def test_export_load_unknown_extension_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "g.xyz"
    path.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="cannot tell the RDF format.*\\.ttl"):
        load_graph(path)


def test_export_load_with_explicit_format(tmp_path: Path) -> None:
    path = tmp_path / "graph.data"
    path.write_bytes(FORMATS["nt"].serialize(small_graph()))
    assert len(load_graph(path, fmt="nt")) == len(small_graph())


def test_export_load_binds_project_prefixes(tmp_path: Path) -> None:
    path = tmp_path / "g.nt"
    path.write_bytes(FORMATS["nt"].serialize(small_graph()))
    prefixes = {p: str(ns) for p, ns in load_graph(path).namespaces()}
    assert prefixes["kg"] == str(KG)
    assert prefixes["schema"] == "https://schema.org/"


def test_export_load_binds_entity_prefixes_of_the_detected_base(tmp_path: Path) -> None:
    path = write_graph(kg_graph(), tmp_path / "g.nt", fmt="nt")
    prefixes = {p: str(ns) for p, ns in load_graph(path).namespaces()}
    assert prefixes["person"] == "https://kg.example.org/entity/person/"
    assert prefixes["ent"] == "https://kg.example.org/entity/"


def test_export_load_graphs_merges_files(tmp_path: Path) -> None:
    first = write_graph(small_graph(), tmp_path / "a.ttl")
    second = write_graph(kg_graph(), tmp_path / "b.trig", fmt="trig")
    merged = load_graphs([first, second])
    assert len(merged) == len(small_graph() + kg_graph())
    with pytest.raises(InputError, match="no graph file"):
        load_graphs([])



# --------------------------------------------------------------------------- kg export

@pytest.mark.parametrize("name", sorted(FORMATS))
def test_export_command_writes_every_format(tmp_path: Path, name: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    source = write_graph(kg_graph(), tmp_path / "in.ttl")
    out = tmp_path / "out.data"
    assert run_cli("export", str(source), "--format", name, "--out", str(out)) == 0
    assert out.read_bytes() == FORMATS[name].serialize(load_graph(source))
    assert capsys.readouterr().out.startswith(f"{name}: {out} (")


def test_export_command_takes_the_format_from_the_extension(tmp_path: Path) -> None:
    source = write_graph(kg_graph(), tmp_path / "in.ttl")
    assert run_cli("export", str(source), "--out", str(tmp_path / "g.trig")) == 0
    assert b"graph/a1> {" in (tmp_path / "g.trig").read_bytes()
    assert run_cli("export", str(source), "--out", str(tmp_path / "g.unknown")) == 0
    assert (tmp_path / "g.unknown").read_bytes() == FORMATS["turtle"].serialize(load_graph(source))


def test_export_command_bad_input_is_a_one_line_error(tmp_path: Path) -> None:
    source = write_graph(kg_graph(), tmp_path / "in.ttl")
    with pytest.raises(ConfigError, match="unknown graph format 'gml'"):
        run_cli("export", str(source), "--format", "gml", "--out", str(tmp_path / "x"))
    with pytest.raises(InputError, match="graph file not found"):
        run_cli("export", str(tmp_path / "missing.ttl"), "--out", str(tmp_path / "x.nt"))
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.nt").exists()


def test_turtle_and_ntriples_are_written_by_oxigraph_sorted_and_read_back_by_rdflib():
    # every fact has its own evidence namespace (fact/<id>/evidence/): rdflib's writer was
    # quadratic in them; Oxigraph writes the same graph, its bytes independent of store order
    from rdflib import Graph, Literal, Namespace, URIRef
    from rdflib.namespace import XSD

    from kg.export import _serialize_ntriples, _serialize_turtle
    from kg.vocab import bind_namespaces

    base = "https://kg.example.org/"
    kgns = Namespace("https://w3id.org/kg-news/ontology#")
    statements = []
    for n in range(300):
        fact = URIRef(f"{base}fact/{n:016x}")
        statements.append((fact, kgns.confidence, Literal(0.5 + n / 1000)))
        for k in (1, 2):
            evidence = URIRef(f"{base}fact/{n:016x}/evidence/{k}")
            statements.append((fact, kgns.evidence, evidence))
            statements.append((evidence, kgns.text, Literal(f"sentence {n} «{k}» \"q\"\n", lang="en")))
    statements.append((URIRef(f"{base}entity/organization/acme"), kgns.label, Literal("Acme")))
    statements.append((URIRef(f"{base}article/a1"), kgns.date, Literal("2020-01-02", datatype=XSD.date)))
    forward = bind_namespaces(Graph(bind_namespaces="core"))
    backward = bind_namespaces(Graph(bind_namespaces="core"))
    for triple in statements:
        forward.add(triple)
    for triple in reversed(statements):
        backward.add(triple)
    for serialize, fmt in ((_serialize_turtle, "turtle"), (_serialize_ntriples, "nt")):
        data = serialize(forward)
        assert data == serialize(backward)
        assert set(Graph().parse(data=data, format=fmt)) == set(forward)
    turtle = _serialize_turtle(forward).decode()
    assert "@prefix kg: <https://w3id.org/kg-news/ontology#> ." in turtle
    assert "kg:confidence" in turtle