"""Shared fixtures. Loaded language stages are cached per process (models load once), but they
hold no state between articles: every test builds its articles afresh and passes alone."""

from __future__ import annotations

import pytest

from kg.settings import load_settings


@pytest.fixture(scope="session")
def settings():
    return load_settings()


@pytest.fixture
def extract_triples(settings):
    """extract_triples(text, lang) -> the Triples one article made of ``text`` yields."""
    from kg.pipeline import load_stage, process_article
    from kg.types import Article

    def run(text: str, lang: str):
        return process_article(Article(id="t", source="test", text=text, lang=lang), load_stage(lang, settings)).triples

    return run


@pytest.fixture
def extract(extract_triples):
    """extract(text, lang) -> set of (subject, relation, object) triples, references by name."""

    def run(text: str, lang: str) -> set[tuple[str, str, str]]:
        return {(t.subject.name, t.relation, t.object.name) for t in extract_triples(text, lang)}

    return run
