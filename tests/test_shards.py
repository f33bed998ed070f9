"""N-Triples shards of the resolved graph, and the dask engine as an optional extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from kg.pipeline import run_build
from kg.shards import partition_graph, read_shards, write_shards

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


@pytest.fixture(scope="module")
def local(settings):
    return run_build([SAMPLES], settings)


@pytest.mark.parametrize("per_shard", [1, 3, 1000])
def test_shards_are_disjoint_and_their_union_is_the_graph(local, tmp_path, per_shard):
    shards = partition_graph(local.graph, per_shard)
    articles = len(local.articles)
    assert len(shards) == max(1, -(-articles // per_shard))
    assert sum(len(s) for s in shards) == len(local.graph)  # each triple exactly once
    write_shards(local.graph, tmp_path, articles_per_shard=per_shard)
    files = sorted(tmp_path.glob("part-*.nt"))
    assert len(files) == len(shards)
    for path in files:  # each shard alone is valid N-Triples
        Graph().parse(path, format="nt")
    assert isomorphic(read_shards(tmp_path), local.graph)


def test_shards_load_in_pyoxigraph(local, tmp_path):
    pyoxigraph = pytest.importorskip("pyoxigraph")
    write_shards(local.graph, tmp_path, articles_per_shard=2)
    store = pyoxigraph.Store()
    for path in sorted(tmp_path.glob("part-*.nt")):
        store.bulk_load(path=str(path), format=pyoxigraph.RdfFormat.N_TRIPLES)
    assert len(store) == len(local.graph)


def test_shards_keep_each_article_with_its_evidence(local):
    from rdflib.namespace import DCTERMS, RDF

    from kg.vocab import KG

    for shard in partition_graph(local.graph, 1):
        held = Graph()
        for triple in shard:
            held.add(triple)
        for evidence in held.subjects(RDF.type, KG.Evidence):
            source = held.value(evidence, DCTERMS.source)
            assert (source, RDF.type, KG.Article) in held


def test_shards_of_an_earlier_build_are_replaced(local, tmp_path):
    write_shards(local.graph, tmp_path, articles_per_shard=1)
    write_shards(local.graph, tmp_path, articles_per_shard=1000)
    assert [p.name for p in tmp_path.glob("part-*.nt")] == ["part-00000.nt"]
    assert (tmp_path / ".kg-output").exists()


def test_shards_kg_and_the_dask_engine_module_import_no_dask():
    code = ("import sys, kg, kg.cli, kg.pipeline, kg.dask_engine, kg.shards; "
            "bad = [m for m in ('dask', 'distributed') if m in sys.modules]; "
            "sys.exit(f'imported {bad}' if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_shards_missing_dask_is_one_actionable_error(monkeypatch, settings):
    from kg.dask_engine import DaskNotInstalled, extract_corpus_dask

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(DaskNotInstalled, match=r"pip install 'kg-news\[dask\]'"):
        extract_corpus_dask([SAMPLES], settings)
