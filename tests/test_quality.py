"""Extraction quality on the dev set: a per-language F1 floor that may only go up.

The dev set (devset/) is original, hand-annotated news text; floors live in devset/floors.json.
On failure the test prints which facts were missed and which were spurious.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.evaluate import read_aliases, read_gold, score
from kg.pipeline import extract_corpus, resolve_extraction

DEVSET = Path(__file__).resolve().parent.parent / "devset"
FLOORS = {k: v for k, v in json.loads((DEVSET / "floors.json").read_text()).items() if not k.startswith("_")}


@pytest.fixture(scope="module")
def devset_result(settings):
    extraction = extract_corpus([DEVSET / lang for lang in sorted(FLOORS)], settings)
    facts = resolve_extraction(extraction).facts
    predicted = {(t.article_id, f.subject.name, f.relation, f.object.name) for f in facts for t in f.sources}
    langs = {a.id: a.lang for a in extraction.articles.values()}
    return score(predicted, read_gold(DEVSET / "gold.tsv"), read_aliases(DEVSET / "aliases.tsv"), langs)


@pytest.mark.parametrize("lang", sorted(FLOORS))
def test_quality_devset_f1_floor(devset_result, lang):
    counts = devset_result.by_language.get(lang)
    assert counts is not None, f"no {lang} articles were scored"
    if counts.f1 < FLOORS[lang]:
        missed = [f"  {g.article}: {g.subject} {g.relation} {g.object}" for g in devset_result.missed if g.article.startswith(lang)]
        spurious = [f"  {p[0]}: {p[1]} {p[2]} {p[3]}" for p in devset_result.spurious if p[0].startswith(lang)]
        pytest.fail(
            f"{lang} F1 {counts.f1:.3f} < floor {FLOORS[lang]:.3f}\nmissed:\n" + "\n".join(missed)
            + "\nspurious:\n" + "\n".join(spurious)
        )
