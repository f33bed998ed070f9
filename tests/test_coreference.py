"""Names typed by honorifics, and references resolved through earlier references (chains)."""

from __future__ import annotations

import pytest

from kg.mentions import annotate_entities
from kg.pipeline import load_stage, run_pipeline


def _types(settings, text: str, lang: str) -> dict[str, str]:
    stage = load_stage(lang, settings)
    doc = run_pipeline(stage.pipeline, text)
    annotate_entities(doc, lang, stage.ruleset.lexicon, use_ner="ner" in stage.pipeline.nlp.pipe_names)
    return {e.text: e.label_ for e in doc.ents}


@pytest.mark.parametrize(
    "lang,text,name",
    [
        ("en", "The results were strong, Mr Halvorsen told analysts on Tuesday.", "Halvorsen"),
        ("en", "Ms Adeyemi-Clarke declined to comment on the figures.", "Adeyemi-Clarke"),
        ("fr", "Les résultats sont solides, a déclaré Mme Vasseur mardi.", "Vasseur"),
        ("de", "Die Zahlen seien gut, sagte Frau Brandstätter am Dienstag.", "Brandstätter"),
    ],
)
def test_coreference_an_honorific_makes_a_person_whatever_ner_says(settings, lang, text, name):
    assert _types(settings, text, lang).get(name) == "Person"


def test_coreference_an_org_cue_does_not_turn_a_named_person_into_a_company(settings):
    types = _types(settings, "Leading games maker Peter Halvorsen has been honoured for his work.", "en")
    assert types.get("Peter Halvorsen") == "Person"


def test_coreference_a_pronoun_reaches_its_name_through_an_earlier_pronoun(extract):
    text = ('Sarah Ode said the results were strong. "We grew faster than anyone," she said. '
            "She left Brightwave Labs in 2020 to start her own firm.")
    assert ("Sarah Ode", "worked_at", "Brightwave Labs") in extract(text, "en")


def test_coreference_a_chain_never_crosses_a_sentence_without_a_reference(extract):
    text = ('Sarah Ode said the results were strong. The market was calm all week. '
            "Analysts expected more. She left Brightwave Labs in 2020.")
    assert not any(s == "Sarah Ode" for s, _, _ in extract(text, "en"))


@pytest.mark.parametrize(
    "lang,text,fact",
    [
        ("en", "Google's chief executive Anna Berg resigned on Friday.", ("Anna Berg", "worked_at", "Google")),
        ("fr", "Le patron de Renault, Luca de Meo, a démissionné hier.", ("Luca de Meo", "worked_at", "Renault")),
        ("en", "Mr Morrow will succeed Shiro Tsuda as president of Vodafone KK in April.", ("Shiro Tsuda", "worked_at", "Vodafone KK")),
        ("en", "The former chief executive of Enron, Jeffrey Skilling, was convicted.", ("Jeffrey Skilling", "worked_at", "Enron")),
    ],
)
def test_syntax_a_post_left_or_marked_past_is_worked_at(extract, lang, text, fact):
    got = extract(text, lang)
    assert fact in got
    assert (fact[0], "works_at", fact[2]) not in got


def test_syntax_leaving_one_company_keeps_the_job_named_under_another_verb(extract):
    got = extract("Anna Berg resigned from Google last year and joined Meta.", "en")
    assert ("Anna Berg", "worked_at", "Google") in got
    assert ("Anna Berg", "works_at", "Meta") in got


def test_syntax_titles_in_a_list_of_speakers_stay_with_their_own_person(extract):
    text = ("Vincent Giret, directeur de franceinfo, Laurence Lafont, directrice chez Microsoft France, "
            "Sébastien Missoffe, directeur général de Google France, prendront la parole.")
    got = extract(text, "fr")
    assert ("Sébastien Missoffe", "works_at", "Google France") in got
    assert ("Laurence Lafont", "works_at", "franceinfo") not in got


def test_coreference_a_full_name_after_the_company_noun_does_not_name_the_company(extract):
    # "le directeur du groupe | Paul Mercier": the noun refers back to Orbis; a person's full
    # name after it is the director, not the group's name
    text = "La société Orbis a publié ses comptes mardi. Le directeur du groupe Paul Mercier a signé."
    assert ("Paul Mercier", "works_at", "Orbis") in extract(text, "fr")
