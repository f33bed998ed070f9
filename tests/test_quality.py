"""Extraction quality on real news: a per-language F1 floor per gold set that may only go up.

Real gold: ``../shared/eval/realdev`` and the blind splits of ``devset/real/`` (their texts
are in ``../shared/corpus``); floors in ``devset/real/floors.json``. The fictional dev set of
the first version (``devset/``) keeps its own floors as a regression guard only. On failure
the test prints the missed and spurious facts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.evaluate import read_aliases, read_gold, score
from kg.pipeline import extract_corpus, final_facts, resolve_extraction

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "devset"
SHARED = ROOT.parent / "shared"
REAL_FLOORS = {k: v for k, v in json.loads((DEVSET / "real" / "floors.json").read_text()).items() if not k.startswith("_")}
FICTION_FLOORS = {k: v for k, v in json.loads((DEVSET / "floors.json").read_text()).items() if not k.startswith("_")}


def _real_set(name: str):
    """(input paths, gold, aliases) of a real gold set, or skip when ../shared is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: real-news gold needs the corpus beside the project")
    if name == "realdev":
        base = SHARED / "eval" / "realdev"
        return [base / "articles"], read_gold(base / "gold.tsv"), read_aliases(base / "aliases.tsv")
    paths, gold, aliases = [], [], {}
    for lang_dir in sorted(p for p in (DEVSET / "real" / name).iterdir() if p.is_dir()):
        stems = lang_dir.joinpath("articles.txt").read_text(encoding="utf-8").split()
        paths += [SHARED / "corpus" / lang_dir.name / f"{stem}.txt" for stem in stems]
        gold += read_gold(lang_dir / "gold.tsv")
        aliases.update(read_aliases(lang_dir / "aliases.tsv"))
    return paths, gold, aliases


def _result(paths, gold, aliases, settings):
    extraction = extract_corpus(paths, settings)
    facts = final_facts(resolve_extraction(extraction), settings)
    predicted = {(t.article_id, f.subject.name, f.relation, f.object.name) for f in facts for t in f.sources}
    langs = {a.id: a.lang for a in extraction.articles.values()}
    return score(predicted, gold, aliases, langs)


def _check(result, lang: str, floor: float, what: str) -> None:
    counts = result.by_language.get(lang)
    assert counts is not None, f"no {lang} articles were scored in {what}"
    if counts.f1 < floor:
        missed = [f"  {g.article}: {g.subject} {g.relation} {g.object}" for g in result.missed if g.article.startswith(lang)]
        spurious = [f"  {p[0]}: {p[1]} {p[2]} {p[3]}" for p in result.spurious if p[0].startswith(lang)]
        pytest.fail(f"{what} {lang} F1 {counts.f1:.3f} < floor {floor:.3f}\nmissed:\n" + "\n".join(missed[:60])
                    + "\nspurious:\n" + "\n".join(spurious[:60]))


@pytest.fixture(scope="module")
def real_results(settings):
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = _result(*_real_set(name), settings)
        return cache[name]

    return get


@pytest.mark.parametrize("name,lang", [(n, lang) for n, floors in sorted(REAL_FLOORS.items()) for lang in sorted(floors)])
def test_quality_real_news_f1_floor(real_results, name, lang):
    _check(real_results(name), lang, REAL_FLOORS[name][lang], name)


@pytest.fixture(scope="module")
def fiction_result(settings):
    return _result([DEVSET / lang for lang in sorted(FICTION_FLOORS)], read_gold(DEVSET / "gold.tsv"),
                   read_aliases(DEVSET / "aliases.tsv"), settings)


@pytest.mark.parametrize("lang", sorted(FICTION_FLOORS))
def test_quality_fictional_devset_regression_floor(fiction_result, lang):
    _check(fiction_result, lang, FICTION_FLOORS[lang], "fictional devset")
