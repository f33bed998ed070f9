"""write_graph / load_graph: every format round-trips, writes are atomic, errors are one line."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import graph_diff, to_isomorphic
from rdflib.namespace import RDF

from kg import export
from kg.errors import ConfigError, InputError
from kg.export import FORMATS, format_for_path, get_format, load_graph, write_graph
from kg.vocab import KG, bind_namespaces

# rdflib's XSD namespace warns when pytest probes module globals; a plain one does not.
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
EX = Namespace("https://kg.example.org/entity/")
OXIGRAPH_FORMATS = {
    "turtle": pyoxigraph.RdfFormat.TURTLE,
    "nt": pyoxigraph.RdfFormat.N_TRIPLES,
    "json-ld": pyoxigraph.RdfFormat.JSON_LD,
}
TRICKY = 'quote " backslash \\ newline \n tab \t emoji 🙂 RTL שלום <script>&</script> """'


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


def _to_rdflib(term):
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == str(XSD.string):  # RDF 1.1: the same as a simple literal
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def assert_isomorphic(expected: Graph, actual: Graph, what: str) -> None:
    left, right = to_isomorphic(expected), to_isomorphic(actual)
    if left != right:
        _, only_expected, only_actual = graph_diff(left, right)
        pytest.fail(
            f"{what}: graphs differ\nonly in expected:\n{only_expected.serialize(format='nt')}"
            f"only in actual:\n{only_actual.serialize(format='nt')}"
        )


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".tmp")


# --------------------------------------------------------------------------- formats

@pytest.mark.parametrize("name", sorted(FORMATS))
def test_export_round_trips_through_rdflib(tmp_path: Path, name: str) -> None:
    graph = small_graph()
    path = write_graph(graph, tmp_path / f"g{FORMATS[name].extensions[0]}", fmt=name)
    loaded = load_graph(path)
    assert len(loaded) == len(graph)
    assert_isomorphic(graph, loaded, name)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_export_output_parses_in_pyoxigraph(tmp_path: Path, name: str) -> None:
    graph = small_graph()
    path = write_graph(graph, tmp_path / f"g{FORMATS[name].extensions[0]}", fmt=name)
    other = Graph()
    for quad in pyoxigraph.parse(path=str(path), format=OXIGRAPH_FORMATS[name]):
        other.add(tuple(_to_rdflib(t) for t in (quad.subject, quad.predicate, quad.object)))
    assert_isomorphic(graph, other, f"pyoxigraph {name}")


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
        "[write_graph(test_export.small_graph(), f'{sys.argv[2]}/{sys.argv[3]}.{n}', fmt=n) "
        "for n in FORMATS]"
    )
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent), str(tmp_path), seed],
                       env=env, check=True)
    for name in FORMATS:
        outputs = {(tmp_path / f"{seed}.{name}").read_bytes() for seed in ("1", "2", "3")}
        assert len(outputs) == 1, name


def test_export_turtle_uses_project_prefixes(tmp_path: Path) -> None:
    text = write_graph(small_graph(), tmp_path / "g.ttl").read_text(encoding="utf-8")
    assert "@prefix kg: <https://w3id.org/kg-news/ontology#> ." in text
    assert "kg:works_at" in text


@pytest.mark.parametrize(("alias", "name"), [("ttl", "turtle"), ("TURTLE", "turtle"),
                                             ("ntriples", "nt"), ("jsonld", "json-ld")])
def test_export_format_aliases(alias: str, name: str) -> None:
    assert get_format(alias).name == name


def test_export_unknown_format_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown graph format 'rdfa'.*turtle"):
        write_graph(small_graph(), tmp_path / "g.x", fmt="rdfa")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("filename", "name"), [("g.ttl", "turtle"), ("G.TTL", "turtle"),
                                                ("g.nt", "nt"), ("g.jsonld", "json-ld"),
                                                ("g.json", "json-ld")])
def test_export_format_is_guessed_from_the_extension(filename: str, name: str) -> None:
    assert format_for_path(filename).name == name


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
    monkeypatch.setattr(export.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(export.os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
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

    monkeypatch.setattr(export.os, "replace", refuse)
    with pytest.raises(InputError, match="cannot write .*g.ttl: Permission denied"):
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

    monkeypatch.setattr(export.os, "fdopen", HalfWriter)
    with pytest.raises(InputError, match="No space left on device"):
        write_graph(small_graph(), target)
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_export_write_into_a_directory_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "g.ttl").mkdir()
    with pytest.raises(InputError, match="cannot write"):
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
