"""kg's German NER: the shipped model, its loading conventions, and the training script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kg.nlp import FALLBACK, KG_DE_NER, KG_DE_NER_DIR, _load, describe_models, is_installed

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"

SENTENCE = "Die Managerin Sabine Hoffmann arbeitet seit Jahren für die Deutsche Telekom in Bonn."


def test_de_ner_is_the_default_german_pipeline_and_ships_inside_kg(settings):
    assert (KG_DE_NER_DIR / "meta.json").is_file()
    assert (KG_DE_NER_DIR / "LICENSE.txt").is_file()
    assert is_installed(KG_DE_NER)
    german = settings.models["de"]
    assert german.index(KG_DE_NER) < german.index(FALLBACK)
    info = describe_models(settings.models)["de"]
    assert info["model"] == KG_DE_NER
    assert "CC BY 4.0" in info["licence"]
    size = sum(f.stat().st_size for f in KG_DE_NER_DIR.rglob("*") if f.is_file())
    assert size < 25 * 1024 * 1024


def test_de_ner_model_finds_person_organization_and_place():
    pipeline = _load("de", KG_DE_NER)
    assert "ner" in pipeline.nlp.pipe_names
    doc = pipeline(SENTENCE)
    ents = {(e.text, e.label_) for e in doc.ents}
    assert ("Sabine Hoffmann", "PER") in ents
    assert ("Bonn", "LOC") in ents
    assert any(label == "ORG" and "Telekom" in text for text, label in ents)


def test_de_ner_keeps_the_fallback_tokenizer_sentences_and_hanta_tags():
    pipeline = _load("de", KG_DE_NER)
    doc = pipeline("Die Tiktok-Mutter Bytedance wächst.\nSeattle bleibt wichtig")
    words = [t.text for t in doc if not t.is_space]
    assert words[:5] == ["Die", "Tiktok", "-", "Mutter", "Bytedance"]
    assert [t.lemma_ for t in doc if t.text == "wächst"] == ["wachsen"]
    assert {t.pos_ for t in doc if t.text == "Mutter"} == {"NOUN"}
    assert len([s for s in doc.sents if s.text.strip()]) == 2


def test_de_ner_fallback_stays_available_without_ner():
    pipeline = _load("de", FALLBACK)
    assert "ner" not in pipeline.nlp.pipe_names
    doc = pipeline(SENTENCE)
    assert {t.tag_ for t in doc if t.text == "Bonn"} == {"NE"}
    assert not doc.ents


def test_de_ner_names_reach_kg_types(settings):
    from kg.mentions import annotate_entities
    from kg.rules import load_rules

    pipeline = _load("de", KG_DE_NER)
    doc = pipeline(SENTENCE)
    annotate_entities(doc, "de", load_rules("de").lexicon, use_ner=True)
    types = {e.text: e.label_ for e in doc.ents}
    assert types.get("Sabine Hoffmann") == "Person"
    assert types.get("Bonn") == "Place"


@pytest.mark.skipif(not (DATA / "germeval2014_devtest").is_dir() or not (DATA / "smartdata_de").is_dir(),
                    reason=f"the open German NER corpora are not in {DATA}")
def test_de_ner_training_script_trains_a_tiny_model(tmp_path):
    out, package = tmp_path / "out", tmp_path / "pkg"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train-de-ner"), "--data", str(DATA), "--output", str(out),
         "--package", str(package), "--sample", "5", "--", "--training.max_epochs", "1", "--training.max_steps", "0"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (out / "corpus" / "train.spacy").is_file()
    assert (package / "meta.json").is_file() and (package / "LICENSE.txt").is_file()
    import spacy

    nlp = spacy.load(package)
    assert set(nlp.get_pipe("ner").labels) <= {"PER", "ORG", "LOC", "MISC"}
