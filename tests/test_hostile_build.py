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
from kg.pipeline import cap_sentences, load_stage, map_article, run_build, run_pipeline, split_text
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
