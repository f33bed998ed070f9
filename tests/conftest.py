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
def extract(extractor):
    """extract(text, lang) -> set of (subject, relation, object) surface triples."""
    from kg.types import Article

    def run(text: str, lang: str) -> set[tuple[str, str, str]]:
        article = Article(id="t", source="test", text=text, lang=lang)
        result = extractor.process_article(article)
        return {(t.subject.text, t.relation, t.object.text) for t in result.triples}

    return run
