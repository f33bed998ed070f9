"""Hostile builds (issue 12, build side): one article's failure, size or slowness never aborts
the run; bad options fail before any work; the output set is switched atomically; builds are
incremental and always isomorphic to a clean build; one build per output folder at a time.

Pathological inputs are small here (they must finish quickly); their growth is bounded by
construction (pieces, capped sentences) and checked by counts, not by wall-clock ratios.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import pytest

import kg.pipeline as pipeline
from kg.pipeline import cap_sentences, load_stage, map_article, pipe_pipeline, run_build, run_pipeline, split_text
from kg.types import Article

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from hostile import bad_html, prose, single_line  # noqa: E402  (the benchmark's generators)

GOOD = ROOT / "samples" / "en_siemens_berlin_ai_hub.txt"


def corpus(tmp_path: Path, **extra: str) -> Path:
    """A folder with one good English sample plus ``extra`` files (name -> text)."""
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    (folder / GOOD.name).write_text(GOOD.read_text(encoding="utf-8"), encoding="utf-8")
    for name, text in extra.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def reason_for(result, name: str) -> str:
    reasons = [s.reason for s in result.report.skipped if name in s.source]
    assert len(reasons) == 1, result.report.skipped
    assert "\n" not in reasons[0] and "Traceback" not in reasons[0]
    return reasons[0]


# -- 1. per-article failures -----------------------------------------------------------------

def test_hostile_build_split_text_rejoins_and_bounds_pieces():
    text = prose(12_000) + " " + single_line(7_000)
    pieces = split_text(text, 2_000)
    assert "".join(p for _, p in pieces) == text
    assert all(len(p) <= 2_000 for _, p in pieces)
    assert all(text[o:o + len(p)] == p for o, p in pieces)
    assert all(p.endswith(("\n\n", ". ", " ")) for _, p in pieces[:-1])  # cut at a boundary


def test_hostile_build_sentences_are_capped_in_a_line_without_punctuation(settings):
    stage = load_stage("en", settings)
    doc = run_pipeline(stage.pipeline, single_line(6_000), max_tokens=60)
    assert max(len(s) for s in doc.sents) <= 60
    assert len(list(doc.sents)) >= len(doc) // 60


def test_hostile_build_cap_sentences_prefers_a_comma_and_leaves_short_sentences(settings):
    nlp = load_stage("en", settings).pipeline.nlp
    doc = nlp.make_doc("word " * 30 + ", " + "word " * 30)
    assert cap_sentences(doc, 40) == 1 and doc[31].is_sent_start  # just after the comma
    assert cap_sentences(nlp.make_doc("A short sentence ."), 40) == 0


def test_hostile_build_punctuated_paragraph_is_not_cut_inside_its_sentences(settings):
    # German splits sentences by punctuation: the cap counts from the last full stop, not
    # from the start of a long paragraph (it once cut "... sagte Acme-| Chefin Eva Roth")
    stage = load_stage("de", settings)
    sentence = "Die Firma wächst, sagte die Acme-Chefin Eva Roth am Montag in einem Gespräch."
    text = " ".join([sentence] * 30)  # about 480 tokens, no line break
    for doc in (run_pipeline(stage.pipeline, text, max_tokens=40),
                next(pipe_pipeline(stage.pipeline, [text], max_tokens=40))):
        sents = list(doc.sents)
        assert len(sents) == 30 and all(s.text.strip() == sentence for s in sents)


def test_hostile_build_chunked_article_keeps_offsets_into_its_text(settings):
    text = "\n\n".join([GOOD.read_text(encoding="utf-8")] * 3)
    article = Article(id="long", source="long.txt", text=text, lang="en")
    whole = map_article(article, settings)
    chunked = map_article(article, dataclasses.replace(settings, chunk_chars=1_500))
    assert chunked.skipped is None and chunked.triples
    for t in chunked.triples:
        assert text[t.evidence_start:t.evidence_end] == t.evidence
        for m in (t.subject, t.object):
            assert text[m.start:m.end] == m.text
    # the same facts are found, give or take those straddling a cut
    facts = lambda r: {(t.subject.name, t.relation, t.object.name) for t in r.triples}  # noqa: E731
    assert len(facts(chunked) & facts(whole)) >= 0.8 * len(facts(whole))


def test_hostile_build_article_over_spacy_max_length_is_processed_in_pieces(settings, monkeypatch):
    stage = load_stage("en", settings)
    monkeypatch.setattr(stage.pipeline.nlp, "max_length", 3_000)  # stands for 1,000,000
    text = GOOD.read_text(encoding="utf-8") * 4
    result = map_article(Article(id="big", source="big.txt", text=text, lang="en"), settings)
    assert result.skipped is None and result.triples


def test_hostile_build_line_without_punctuation_builds_next_to_a_good_article(tmp_path, settings):
    result = run_build([corpus(tmp_path, **{"line.txt": single_line(15_000)})], settings, lang="en")
    assert result.report.articles_built == 2 and not result.report.skipped


def test_hostile_build_html_with_unclosed_tags_builds_next_to_a_good_article(tmp_path, settings):
    result = run_build([corpus(tmp_path, **{"tags.html": bad_html(30_000)})], settings, lang="en")
    assert result.report.articles_built == 2 and not result.report.skipped


def test_hostile_build_error_in_one_article_skips_it_with_one_line(tmp_path, settings, monkeypatch):
    real = pipeline.annotate_entities

    def failing(doc, *args, **kwargs):
        if "EXPLODE" in doc.text:
            raise ValueError("boom\nsecond line of a long message")
        return real(doc, *args, **kwargs)

    monkeypatch.setattr(pipeline, "annotate_entities", failing)
    result = run_build([corpus(tmp_path, **{"bad.txt": "Acme hired Jo Li. EXPLODE here.\n"})], settings, lang="en")
    assert result.report.articles_built == 1
    assert reason_for(result, "bad.txt").startswith("could not be processed: ValueError: boom second line")


def test_hostile_build_deep_recursion_in_one_article_is_skipped(tmp_path, settings, monkeypatch):
    real = pipeline.annotate_entities

    def recursing(doc, *args, **kwargs):
        if "RECURSE" in doc.text:
            def down(n):
                return down(n + 1)
            down(0)
        return real(doc, *args, **kwargs)

    monkeypatch.setattr(pipeline, "annotate_entities", recursing)
    result = run_build([corpus(tmp_path, **{"deep.txt": "RECURSE Acme hired Jo Li.\n"})], settings, lang="en")
    assert result.report.articles_built == 1 and "RecursionError" in reason_for(result, "deep.txt")


def test_hostile_build_time_budget_skips_a_slow_article_in_process(tmp_path, settings, monkeypatch):
    real = pipeline.annotate_entities

    def slow(doc, *args, **kwargs):
        if "SLOWLY" in doc.text:
            time.sleep(30)  # the alarm interrupts this, like any long step in the map
        return real(doc, *args, **kwargs)

    monkeypatch.setattr(pipeline, "annotate_entities", slow)
    started = time.monotonic()
    result = run_build([corpus(tmp_path, **{"slow.txt": "SLOWLY Acme hired Jo Li.\n"})],
                       dataclasses.replace(settings, article_seconds=1.0), lang="en")
    assert time.monotonic() - started < 25
    assert result.report.articles_built == 1
    assert "per-article budget of 1 s" in reason_for(result, "slow.txt")


def test_hostile_build_time_budget_without_alarm_checks_between_steps(settings, monkeypatch):
    real = pipeline.annotate_entities

    def slow(doc, *args, **kwargs):
        time.sleep(0.3)
        return real(doc, *args, **kwargs)

    monkeypatch.setattr(pipeline, "annotate_entities", slow)
    monkeypatch.setattr(pipeline.threading, "main_thread", lambda: None)  # as in a worker thread
    text = "\n\n".join(["Acme hired Jo Li in Leeds."] * 400)
    result = map_article(Article(id="t", source="t.txt", text=text, lang="en"),
                         dataclasses.replace(settings, article_seconds=0.5, chunk_chars=1_000))
    assert result.skipped is not None and "budget" in result.skipped.reason


def test_hostile_build_time_budget_works_in_worker_processes(tmp_path, settings):
    folder = corpus(tmp_path, **{"huge.txt": prose(400_000)})
    (folder / "second.txt").write_text("Boxly opened a depot in Leeds. Boxly hired Jo Li.\n", encoding="utf-8")
    result = run_build([folder], dataclasses.replace(settings, article_seconds=4.0), lang="en", workers=2)
    assert result.report.articles_built == 2
    assert "budget of 4 s" in reason_for(result, "huge.txt")


# -- 2. bad options fail before any work -----------------------------------------------------

def run_cli(*argv: str) -> int:
    from kg.cli import main

    return main(list(argv))


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if any input is read (the options must be refused first)."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("inputs were read before the options were checked")

    monkeypatch.setattr(pipeline, "read_articles", refuse)


@pytest.mark.parametrize("case", ["existing-file", "missing-parent", "parent-is-file", "read-only-parent"])
def test_hostile_build_bad_out_path_fails_before_work(tmp_path, capsys, no_work, case):
    (tmp_path / "afile").write_text("x")
    out = {"existing-file": tmp_path / "afile", "missing-parent": tmp_path / "nope" / "out",
           "parent-is-file": tmp_path / "afile" / "out", "read-only-parent": Path("/proc") / "kg-out"}[case]
    assert run_cli("build", str(GOOD), "--out", str(out)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kg: error: --out") and "\n" not in err


@pytest.mark.parametrize("flag", [["--workers", "0"], ["--workers", "many"], ["--article-seconds", "0"],
                                  ["--article-seconds", "inf"], ["--article-seconds", "nan"], ["--max-nodes", "0"],
                                  ["--min-confidence", "2"], ["--base-iri", 'http://x/a>b<c"d/']])
def test_hostile_build_bad_option_value_fails_in_one_line(tmp_path, capsys, no_work, flag):
    assert run_cli("build", str(GOOD), "--out", str(tmp_path / "out"), *flag) == 2
    err = capsys.readouterr().err.strip()
    assert "error" in err and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_hostile_build_bad_budget_in_config_fails_in_one_line(tmp_path, capsys, no_work):
    config = tmp_path / "kg.cfg"
    config.write_text("[build]\narticle_seconds = -1\n")
    assert run_cli("--config", str(config), "build", str(GOOD), "--out", str(tmp_path / "out")) == 2
    assert "article_seconds" in capsys.readouterr().err


# -- 3. an atomic, consistent output set -----------------------------------------------------

import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402

from rdflib import Graph  # noqa: E402
from rdflib.compare import graph_diff, isomorphic, to_isomorphic  # noqa: E402

from kg.pipeline import build, remove_articles  # noqa: E402

NAMES = ("graph.ttl", "graph.html", "triples.jsonl", "report.json")
SECOND = "Boxly opened a depot in Leeds. Boxly hired Jo Li from Acme.\n"


def assert_same_graph(got: Graph, want: Graph) -> None:
    if not isomorphic(got, want):
        _both, only_got, only_want = graph_diff(to_isomorphic(got), to_isomorphic(want))
        pytest.fail(f"graphs differ:\nonly built:\n{only_got.serialize(format='nt')}\n"
                    f"only expected:\n{only_want.serialize(format='nt')}")


def output_set(out: Path) -> tuple[str, Graph]:
    """The generation every top-level name resolves into (all the same one) and its graph."""
    generation = (out / "current").resolve()
    for name in NAMES:
        assert (out / name).resolve() == generation / name and (out / name).is_file(), name
    assert json.loads((out / "report.json").read_text())["generation"] == generation.name
    return generation.name, Graph().parse(out / "graph.ttl", format="turtle")


def no_leftovers(out: Path) -> None:
    assert [p.name for p in (out / "generations").iterdir()] == [(out / "current").resolve().name]
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


@pytest.fixture(scope="module")
def old_set(tmp_path_factory, settings):
    """An output folder built from one article (copied per test)."""
    base = tmp_path_factory.mktemp("old")
    inputs = base / "in"
    inputs.mkdir()
    (inputs / GOOD.name).write_text(GOOD.read_text(encoding="utf-8"), encoding="utf-8")
    build([inputs], base / "out", settings, lang="en")
    return base


def kg_process(*argv: str, env: dict | None = None) -> subprocess.Popen:
    code = "import sys; from kg.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, *argv], cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def pause_at(phase: str, flag: Path, *argv: str) -> subprocess.Popen:
    proc = kg_process(*argv, env={"KG_TEST_PAUSE_AT": phase, "KG_TEST_PAUSE_FILE": str(flag)})
    deadline = time.monotonic() + 180
    while not flag.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the build never reached its pause point"
        time.sleep(0.05)
    return proc


@pytest.mark.parametrize("phase, survivor", [("map", "old"), ("staged", "old"), ("renamed", "old"),
                                             ("switched", "new"), ("cleanup", "new")])
def test_hostile_build_sigkill_at_each_phase_leaves_one_whole_set(tmp_path, old_set, settings, phase, survivor):
    shutil.copytree(old_set, tmp_path, symlinks=True, dirs_exist_ok=True)
    out, inputs = tmp_path / "out", tmp_path / "in"
    old_generation, old_graph = output_set(out)
    (inputs / "second.txt").write_text(SECOND, encoding="utf-8")
    proc = pause_at(phase, tmp_path / "paused", "build", str(inputs), "--out", str(out), "--lang", "en")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    generation, graph = output_set(out)
    assert (generation == old_generation) == (survivor == "old")
    if survivor == "old":
        assert_same_graph(graph, old_graph)
    # the next build cleans what the killed one left and gives the graph of a clean build
    again = kg_process("build", str(inputs), "--out", str(out), "--lang", "en")
    assert again.wait(timeout=300) == 0, again.communicate()
    no_leftovers(out)
    _generation, graph = output_set(out)
    assert_same_graph(graph, run_build([inputs], settings, lang="en").graph)


def test_hostile_build_second_build_on_a_locked_folder_refuses_or_waits(tmp_path, old_set, capsys):
    shutil.copytree(old_set, tmp_path, symlinks=True, dirs_exist_ok=True)
    out, inputs = tmp_path / "out", tmp_path / "in"
    holder = pause_at("staged", tmp_path / "paused", "build", str(inputs), "--out", str(out), "--fresh")
    try:
        assert run_cli("build", str(inputs), "--out", str(out), "--lang", "en") == 3
        err = capsys.readouterr().err.strip()
        assert "another kg build is writing to" in err and f"pid {holder.pid}" in err and "\n" not in err
        import threading

        box = {}
        waiter = threading.Thread(target=lambda: box.setdefault("rc", run_cli(
            "build", str(inputs), "--out", str(out), "--lang", "en", "--wait", "--no-html")))
        waiter.start()
        time.sleep(1)
        assert waiter.is_alive()  # waiting for the lock
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.communicate()
    waiter.join(timeout=300)
    assert box.get("rc") == 0


def test_hostile_build_output_folder_is_never_read_as_input(tmp_path, old_set, settings):
    shutil.copytree(old_set, tmp_path, symlinks=True, dirs_exist_ok=True)
    result = build([tmp_path], tmp_path / "out", settings, lang="en")  # the folder holding --out
    assert result.report.articles_built == 1 and result.changes["unchanged"] == 1


# -- 4. incremental builds -------------------------------------------------------------------

@pytest.fixture
def mapped(monkeypatch):
    """The ids of the articles the map actually runs on (in this process)."""
    seen: list[str] = []
    real = pipeline.process_articles  # every map goes through it, batched or one by one

    def counting(articles, *args, **kwargs):
        seen.extend(article.id for article in articles)
        return real(articles, *args, **kwargs)

    monkeypatch.setattr(pipeline, "process_articles", counting)
    return seen


def clean_graph(settings, *paths: Path) -> Graph:
    return run_build(list(paths), settings).graph


def samples(tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "samples"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(ROOT / "samples" / name, folder / name)
    return folder


ALL = sorted(p.name for p in (ROOT / "samples").iterdir() if p.suffix in (".txt", ".html", ".jsonl"))


def test_hostile_build_adding_an_article_maps_only_it(tmp_path, settings, mapped):
    first = samples(tmp_path, ALL[:-1])
    build([first], tmp_path / "out", settings)
    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copy(ROOT / "samples" / ALL[-1], extra / ALL[-1])
    mapped.clear()
    result = build([extra], tmp_path / "out", settings)
    assert len(mapped) >= 1 and all(ALL[-1].split(".")[0] in m for m in mapped)
    assert result.changes["added"] == len(mapped) >= 1 and result.changes["changed"] == result.changes["unchanged"] == 0
    assert_same_graph(output_set(tmp_path / "out")[1], clean_graph(settings, first, extra))


def test_hostile_build_unchanged_articles_are_no_ops(tmp_path, settings, mapped):
    folder = samples(tmp_path, ALL[:3])
    first = build([folder], tmp_path / "out", settings)
    mapped.clear()
    again = build([folder], tmp_path / "out", settings)
    assert mapped == [] and again.changes["added"] == again.changes["changed"] == 0
    assert_same_graph(again.graph, first.graph)


def test_hostile_build_changed_article_replaces_its_facts(tmp_path, settings, mapped):
    folder = corpus(tmp_path, **{"second.txt": SECOND})
    build([folder], tmp_path / "out", settings, lang="en")
    (folder / "second.txt").write_text("Zentro opened an office in Porto. Zentro hired Ana Sousa.\n", encoding="utf-8")
    mapped.clear()
    result = build([folder], tmp_path / "out", settings, lang="en")
    assert mapped == ["second"] and result.changes["changed"] == 1
    names = {f.subject.name for f in result.facts} | {f.object.name for f in result.facts}
    assert "Boxly" not in names and "Zentro" in names
    assert_same_graph(output_set(tmp_path / "out")[1], run_build([folder], settings, lang="en").graph)


def test_hostile_build_remove_drops_the_facts_only_it_supported(tmp_path, settings):
    folder = corpus(tmp_path, **{"second.txt": SECOND})
    build([folder], tmp_path / "out", settings, lang="en")
    result, removed = remove_articles([str(folder / "second.txt")], tmp_path / "out", settings)
    assert removed == ["second"]
    names = {f.subject.name for f in result.facts} | {f.object.name for f in result.facts}
    assert "Boxly" not in names and "Siemens" in " ".join(names)
    (folder / "second.txt").unlink()
    assert_same_graph(output_set(tmp_path / "out")[1], run_build([folder], settings, lang="en").graph)


def test_hostile_build_remove_unknown_article_fails_in_one_line(tmp_path, old_set, capsys):
    shutil.copytree(old_set, tmp_path, symlinks=True, dirs_exist_ok=True)
    assert run_cli("remove", "no-such-article", "--out", str(tmp_path / "out")) == 1
    assert "no article 'no-such-article'" in capsys.readouterr().err


def test_hostile_build_same_content_under_two_paths_counts_once(tmp_path, settings, mapped):
    folder = corpus(tmp_path)
    build([folder], tmp_path / "out", settings, lang="en")
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(GOOD, copy / "renamed.txt")
    mapped.clear()
    result = build([copy], tmp_path / "out", settings, lang="en")
    assert mapped == [] and result.report.articles_built == 1
    assert "same text as" in reason_for(result, "renamed.txt")
    assert_same_graph(result.graph, run_build([folder], settings, lang="en").graph)


def test_hostile_build_other_settings_map_stored_articles_again(tmp_path, settings, mapped):
    folder = corpus(tmp_path, **{"second.txt": SECOND})
    build([folder], tmp_path / "out", settings, lang="en")
    other = dataclasses.replace(settings, max_sentence_tokens=120)
    mapped.clear()
    empty = tmp_path / "empty.txt"
    empty.write_text("Acme hired Jo Li in Leeds.\n", encoding="utf-8")
    result = build([empty], tmp_path / "out", other, lang="en")
    assert sorted(mapped) == sorted([GOOD.stem, "second", "empty"])
    assert_same_graph(result.graph, run_build([folder, empty], other, lang="en").graph)
