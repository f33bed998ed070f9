"""The Dask engine builds the same graph as a local build (issue 13).

Runs on a 2-worker LocalCluster (processes) started once for the module and closed at its
end; the killed-worker test starts its own. Every wait is bounded. Skipped without dask.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from rdflib.compare import graph_diff, isomorphic, to_isomorphic  # noqa: E402

from kg.cli import main  # noqa: E402
from kg.dask_engine import extract_corpus_dask, open_client, stage_loads  # noqa: E402
from kg.export import load_graph  # noqa: E402
from kg.pipeline import finish_build, run_build  # noqa: E402
from kg.shards import read_shards  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
TIMEOUT = 600  # seconds: a bound on every build and wait, far above what they take


def _cluster(n: int = 2):
    client, cluster = open_client(None, n, timeout=TIMEOUT)
    client.wait_for_workers(n, timeout=TIMEOUT)
    return client, cluster


@pytest.fixture(scope="module")
def dask_client():
    client, cluster = _cluster()
    try:
        yield client
    finally:
        client.close(timeout=60)
        cluster.close(timeout=60)


@pytest.fixture(scope="module")
def local(settings):
    return run_build([SAMPLES], settings)


def _graph(extraction, settings):
    return finish_build(extraction, settings).graph


def _assert_isomorphic(expected, got):
    if not isomorphic(expected, got):
        _both, only_expected, only_got = graph_diff(to_isomorphic(expected), to_isomorphic(got))
        missing = "\n".join(sorted(t.n3() if hasattr(t, "n3") else str(t) for t in only_expected)[:10])
        extra = "\n".join(sorted(str(t) for t in only_got)[:10])
        pytest.fail(f"graphs differ\nonly in the local build:\n{missing}\nonly in the dask build:\n{extra}")


def _same_report(a, b):
    fields = ("articles_read", "articles_built", "by_language", "skipped", "warnings", "triples", "models")
    assert {f: getattr(a, f) for f in fields} == {f: getattr(b, f) for f in fields}


def test_dask_build_is_isomorphic_to_a_local_build(dask_client, local, settings):
    result = run_build([SAMPLES], settings, engine="dask", scheduler=dask_client.scheduler.address)
    _assert_isomorphic(local.graph, result.graph)
    assert result.triples == local.triples  # the reduce's canonical order: same list
    assert sorted(result.articles) == sorted(local.articles)
    _same_report(local.report, result.report)
    assert (result.report.facts, result.report.entities) == (local.report.facts, local.report.entities)


def test_dask_loads_each_language_stage_once_per_worker(dask_client, settings):
    small = 1  # one article a task: the most tasks per worker
    before = dask_client.run(stage_loads)
    first = extract_corpus_dask([SAMPLES], settings, client=dask_client, partition_size=small, timeout=TIMEOUT)
    loads = dask_client.run(stage_loads)
    extract_corpus_dask([SAMPLES], settings, client=dask_client, partition_size=small, timeout=TIMEOUT)
    again = dask_client.run(stage_loads)
    assert first.report.articles_built >= 8 and len(loads) == 2
    for address, info in loads.items():
        # at most one load per configured language (the worker plugin warms them; other tests
        # may have done it already), then never again, however many articles follow
        assert info["loaded"] - before[address]["loaded"] <= len(settings.models), (address, info)
        assert info["loaded"] >= 1
        assert again[address] == info
    assert len({info["pid"] for info in loads.values()}) == 2  # two processes, not threads


def _corpus(tmp_path: Path) -> Path:
    """JSONL shards and files whose ids collide, a duplicate text, bad lines, BOMs, cp1252, UTF-16."""
    texts = sorted(p.read_text(encoding="utf-8") for p in SAMPLES.glob("*.txt"))
    texts += [json.loads(line)["text"] for line in (SAMPLES / "briefs.jsonl").read_text(encoding="utf-8").splitlines()
              if line.strip()]
    assert len(texts) >= 7
    shards = tmp_path / "shards"
    shards.mkdir()
    rows_a = [{"id": "same", "text": texts[0]}, {"id": "a1", "text": texts[1], "title": "A one"},
              "not json", {"id": "a2", "text": texts[2], "url": "javascript:x"}, {"text": texts[3]}]
    rows_b = [{"id": "same", "text": texts[4]}, {"id": "b1", "text": texts[1]},  # a duplicate text
              {"id": "b2", "text": 5}, {"id": "b3", "text": texts[5], "lang": "fr-FR"}]
    lines_a = [json.dumps(r, ensure_ascii=False) if isinstance(r, dict) else r for r in rows_a]
    (shards / "a.jsonl").write_bytes(b"\xef\xbb\xbf" + "\n".join(lines_a).encode("utf-8") + b"\n\n")
    (shards / "b.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows_b), encoding="utf-8")
    (shards / "c.jsonl").write_bytes(json.dumps({"id": "c1", "text": texts[0].replace("the", "thé")},
                                                ensure_ascii=True).encode("ascii").replace(b"\\u00e9", b"\xe9"))
    utf16 = [{"id": "d1", "text": texts[5] + " Coda one."}, {"id": "d2", "text": texts[6] + " Coda two."}]
    (shards / "d.jsonl").write_text("\n".join(json.dumps(r) for r in utf16), encoding="utf-16")  # BOM: read whole
    (shards / "same.txt").write_text(texts[2] + "\nA different ending.", encoding="utf-8")
    return shards


def test_dask_ids_skips_and_globs_match_a_local_build(dask_client, settings, tmp_path):
    shards = _corpus(tmp_path)
    inputs = [str(shards / "*.jsonl"), str(shards / "same.txt")]
    from kg.dask_engine import expand_paths

    local = run_build(expand_paths(inputs), settings)
    result = run_build(inputs, settings, engine="dask", scheduler=dask_client.scheduler.address)
    assert sorted(result.articles) == sorted(local.articles)
    assert any(a.endswith(tuple("0123456789abcdef")) and a.startswith("same-") for a in result.articles)
    assert any("same text as" in s.reason for s in result.report.skipped)
    _same_report(local.report, result.report)
    _assert_isomorphic(local.graph, result.graph)


def test_dask_article_without_a_pipeline_is_skipped_as_locally(dask_client, settings):
    no_french = dataclasses.replace(settings, models={**settings.models, "fr": ("no_such_model_xx",)})
    local = run_build([SAMPLES], no_french)
    result = run_build([SAMPLES], no_french, engine="dask", scheduler=dask_client.scheduler.address)
    assert local.report.skipped, "French articles should have been skipped"
    assert result.report.skipped == local.report.skipped
    assert all("\n" not in s.reason for s in result.report.skipped)
    _assert_isomorphic(local.graph, result.graph)


def test_dask_failing_article_becomes_a_one_line_skip(dask_client, settings):
    def patch():
        import kg.dask_engine as engine

        original = getattr(engine, "_unpatched_map_article", engine.map_article)
        original_batch = getattr(engine, "_unpatched_map_batch", engine.map_batch)

        def failing(article, settings, hints=None):
            if article.id == "en_zalando_coo_lisbon":
                raise RuntimeError("parser exploded\nsecond line of the message")
            return original(article, settings)

        def failing_batch(articles, settings, hints=None):  # the batch fails; its articles go one by one
            if any(a.id == "en_zalando_coo_lisbon" for a in articles):
                raise RuntimeError("batch exploded")
            return original_batch(articles, settings)

        engine._unpatched_map_article, engine._unpatched_map_batch = original, original_batch
        engine.map_article, engine.map_batch = failing, failing_batch

    def unpatch():
        import kg.dask_engine as engine

        engine.map_article = engine.__dict__.pop("_unpatched_map_article", engine.map_article)
        engine.map_batch = engine.__dict__.pop("_unpatched_map_batch", engine.map_batch)

    dask_client.run(patch)
    try:
        ex = extract_corpus_dask([SAMPLES], settings, client=dask_client, timeout=TIMEOUT)
    finally:
        dask_client.run(unpatch)
    [skip] = ex.report.skipped
    assert skip.source.endswith("en_zalando_coo_lisbon.html")
    assert skip.reason == "failed on a worker: RuntimeError: parser exploded"
    assert "en_zalando_coo_lisbon" not in ex.articles and len(ex.articles) >= 7


def test_dask_killed_worker_loses_and_duplicates_no_facts(local, settings):
    client, cluster = _cluster()
    killed: list[int] = []

    def kill_a_busy_worker(done: int, _source: str) -> None:
        if killed:
            return
        busy = [w for w, keys in client.processing().items() if keys]
        if not busy:
            return
        pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    try:
        pids_before = set(client.run(os.getpid).values())
        ex = extract_corpus_dask([SAMPLES], settings, client=client, partition_size=1, progress=kill_a_busy_worker,
                                 timeout=TIMEOUT)
        client.wait_for_workers(2, timeout=TIMEOUT)
        pids_after = set(client.run(os.getpid).values())
    finally:
        client.close(timeout=60)
        cluster.close(timeout=60)
    assert killed and killed[0] in pids_before and killed[0] not in pids_after  # the nanny replaced it
    assert ex.report.skipped == local.report.skipped
    assert ex.report.articles_built == local.report.articles_built
    assert ex.triples == local.triples  # nothing lost, nothing twice
    _assert_isomorphic(local.graph, _graph(ex, settings))


def test_dask_cli_build_with_scheduler_and_shards(dask_client, local, tmp_path):
    out, shards = tmp_path / "out", tmp_path / "shards"
    code = main(["build", str(SAMPLES), "--out", str(out), "--engine", "dask", "--no-html",
                 "--scheduler", dask_client.scheduler.address, "--shards", str(shards)])
    assert code == 0
    _assert_isomorphic(local.graph, load_graph(out / "graph.ttl"))
    _assert_isomorphic(local.graph, read_shards(shards))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["outputs"]["shards"] == str(shards)


def test_dask_worker_with_another_kg_version_is_refused(dask_client, settings):
    from kg.errors import ConfigError

    def set_version(version):
        import kg

        previous, kg.__version__ = kg.__version__, version
        return previous

    [address, *_] = sorted(dask_client.scheduler_info()["workers"])
    previous = dask_client.run(set_version, "0.0.0-other", workers=[address])[address]
    try:
        with pytest.raises(ConfigError, match="runs kg 0.0.0-other"):
            extract_corpus_dask([SAMPLES], settings, client=dask_client, timeout=TIMEOUT)
    finally:
        dask_client.run(set_version, previous, workers=[address])
