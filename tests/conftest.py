"""Shared fixtures: one Extractor per language set for the whole session (models load once)."""

from __future__ import annotations

import pytest

from kg.settings import load_settings


@pytest.fixture(scope="session")
def settings():
    return load_settings()


@pytest.fixture(scope="session")
def extractor(settings):
    from kg.pipeline import Extractor

    return Extractor(settings)


@pytest.fixture
def extract_triples(extractor):
    """extract_triples(text, lang) -> the Triples one article made of ``text`` yields."""
    from kg.types import Article

    def run(text: str, lang: str):
        return extractor.process_article(Article(id="t", source="test", text=text, lang=lang)).triples

    return run


@pytest.fixture
def extract(extract_triples):
    """extract(text, lang) -> set of (subject, relation, object) surface triples."""

    def run(text: str, lang: str) -> set[tuple[str, str, str]]:
        return {(t.subject.text, t.relation, t.object.text) for t in extract_triples(text, lang)}

    return run
