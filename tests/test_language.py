"""Function-word language identification for en, fr, de and "und"."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kg.language import detect_language, language_scores, profiles, supported

SUPPORTED = supported()

PARAGRAPHS = {
    "en": (
        "The logistics start-up Parcelwise said on Tuesday that it will open a second warehouse "
        "near Rotterdam and hire about 200 people over the next year. Its chief executive told "
        "reporters that the company had outgrown its first site and wanted to be closer to the port."
    ),
    "en_names": (
        "Vélocar’s new office in Nantes will be run by Claire Dumoulin, who joined from Renault "
        "last year. The Lyon-based company said the team would grow to fifty engineers."
    ),
    "fr": (
        "La société lyonnaise Vélocar a annoncé jeudi qu’elle ouvrira un nouveau bureau à Nantes "
        "et recrutera une cinquantaine d’ingénieurs d’ici la fin de l’année. Selon sa directrice "
        "générale, l’entreprise veut se rapprocher de ses clients dans l’ouest de la France."
    ),
    "fr_brands": (
        "Le groupe mise sur le live shopping : les influenceurs présentent les produits en direct "
        "sur l’app, et le checkout se fait sans quitter le feed. Les marketplaces comme Zalando "
        "Lounge ou Vinted Go suivent de près cette stratégie de social commerce."
    ),
    "de": (
        "Der Münchner Softwarehersteller Kobaltwerk will in diesem Jahr rund 80 neue Stellen in "
        "Leipzig schaffen. Wie die Firma am Montag mitteilte, sollen vor allem Entwicklerinnen "
        "und Entwickler für die Cloud-Sparte eingestellt werden."
    ),
    "de_brands": (
        "Mit dem neuen Shop-Feature setzt die App voll auf E-Commerce: Creator können Produkte "
        "direkt in Livestreams verkaufen, und der Checkout läuft über das In-App-Wallet. Für "
        "Marken wie Nike oder Adidas ist das ein spannender Sales-Channel, sagt ein Manager."
    ),
    "es": (
        "La empresa de transporte anunció el lunes que abrirá una nueva oficina en Valencia y que "
        "contratará a unas cien personas durante los próximos meses. Según su directora, el "
        "objetivo es estar más cerca de los clientes del sur."
    ),
    "it": (
        "L’azienda torinese ha annunciato che aprirà una nuova sede a Bologna e che assumerà "
        "circa cento persone nei prossimi mesi. Secondo il direttore generale, la decisione è "
        "stata presa per essere più vicini ai clienti del nord."
    ),
    "nl": (
        "Het bedrijf uit Utrecht heeft maandag bekendgemaakt dat het een nieuw kantoor in Gent "
        "opent en het komende jaar ongeveer honderd mensen wil aannemen. Volgens de directeur is "
        "de stap nodig omdat de vraag van klanten sterk groeit."
    ),
}


@pytest.mark.parametrize(
    ("key", "expected"),
    [("en", "en"), ("en_names", "en"), ("fr", "fr"), ("fr_brands", "fr"), ("de", "de"),
     ("de_brands", "de"), ("es", "und"), ("it", "und"), ("nl", "und")],
)
def test_language_detects_news_paragraphs(key: str, expected: str) -> None:
    lang, score = detect_language(PARAGRAPHS[key])
    assert lang == expected
    assert 0.0 < score <= 1.0


@pytest.mark.parametrize("lang", ["en", "fr", "de"])
def test_language_supported_paragraphs_are_confident(lang: str) -> None:
    assert detect_language(PARAGRAPHS[lang])[1] >= 0.7


@pytest.mark.parametrize("text", ["", "   ", "TikTok Shop", "Seattle, 2024", "12 345 678 90"])
def test_language_too_short_is_und_with_zero_score(text: str) -> None:
    assert detect_language(text) == ("und", 0.0)


def test_language_names_only_is_und() -> None:
    text = "Amazon Microsoft TikTok ByteDance Seattle Boston Chicago Meta Facebook Alphabet Nvidia"
    assert detect_language(text) == ("und", 0.0)


def test_language_german_with_english_brand_names_is_not_english() -> None:
    scores = language_scores(PARAGRAPHS["de_brands"])
    assert scores["de"] > 2 * scores["en"]


def test_language_profiles_are_data_for_every_supported_language() -> None:
    assert set(SUPPORTED) <= set(profiles())
    assert all(isinstance(words, frozenset) and len(words) > 50 for words, _, _ in profiles().values())


@given(st.text(max_size=300))
def test_language_never_fails_and_stays_in_range(text: str) -> None:
    lang, score = detect_language(text)
    assert lang in (*SUPPORTED, "und")
    assert 0.0 <= score <= 1.0
