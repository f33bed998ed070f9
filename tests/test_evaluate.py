"""Reading gold/alias files and scoring predicted triples against them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.errors import InputError
from kg.evaluate import (
    Counts,
    GoldTriple,
    PredictedTriple,
    eval_to_json,
    format_eval,
    read_aliases,
    read_gold,
    score,
)

EVAL = Path(__file__).parent / "fixtures" / "eval"
LANGS = {"en_parcelwise": "en", "fr_velocar": "fr", "de_kobaltwerk": "de"}


@pytest.fixture
def gold() -> list[GoldTriple]:
    return read_gold(EVAL / "gold.tsv")


@pytest.fixture
def aliases() -> dict[str, str]:
    return read_aliases(EVAL / "aliases.tsv")


def test_evaluate_read_gold_skips_header_comments_and_blanks(gold: list[GoldTriple]) -> None:
    assert len(gold) == 8
    first = gold[0]
    assert (first.article, first.subject, first.relation, first.object) == (
        "en_parcelwise", "Dana Whitfield", "works_at", "Parcelwise")
    assert first.evidence == "Its chief executive, Dana Whitfield"
    assert first.source == f"{EVAL / 'gold.tsv'}:4"


def test_evaluate_read_gold_unknown_relation_names_file_and_line() -> None:
    with pytest.raises(InputError, match=r"bad_relation\.tsv:2: unknown relation 'employed_by'"):
        read_gold(EVAL / "bad_relation.tsv")


def test_evaluate_read_gold_short_line_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "short.tsv").write_text("a\tb\tworks_at\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"short\.tsv:1: expected 5"):
        read_gold(tmp_path / "short.tsv")
    with pytest.raises(InputError, match="not found"):
        read_gold(tmp_path / "absent.tsv")


def test_evaluate_read_gold_allows_missing_evidence(tmp_path: Path) -> None:
    (tmp_path / "g.tsv").write_text("x\tA\tfounded\tB\n", encoding="utf-8")
    expected = GoldTriple("x", "A", "founded", "B", "", f"{tmp_path / 'g.tsv'}:1")
    assert read_gold(tmp_path / "g.tsv") == [expected]


def test_evaluate_read_aliases(aliases: dict[str, str], tmp_path: Path) -> None:
    assert aliases == {
        "Velocar SA": "Vélocar",
        "Whitfield": "Dana Whitfield",
        "Kobaltwerk GmbH": "Kobaltwerk",
        "Leipzig-Mitte": "Leipzig",
    }
    (tmp_path / "bad.tsv").write_text("only one field\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.tsv:1"):
        read_aliases(tmp_path / "bad.tsv")


def test_evaluate_perfect_predictions_score_one(
    gold: list[GoldTriple], aliases: dict[str, str]
) -> None:
    predicted = [PredictedTriple(g.article, g.subject, g.relation, g.object) for g in gold]
    result = score(predicted, gold, aliases, LANGS)
    assert result.overall == Counts(tp=7, fp=0, fn=0)  # the duplicated gold line counts once
    assert result.overall.f1 == 1.0
    assert result.missed == [] and result.spurious == []


def test_evaluate_case_accents_and_aliases_match(
    gold: list[GoldTriple], aliases: dict[str, str]
) -> None:
    predicted = [
        ("en_parcelwise", "WHITFIELD", "works_at", "parcelwise"),
        ("fr_velocar", "Velocar SA", "hires_in", "nantes"),
        ("fr_velocar", "claire dumoulin", "works_at", "Velocar"),
        ("de_kobaltwerk", "Kobaltwerk GmbH", "hires_in", "Leipzig-Mitte"),
    ]
    result = score(predicted, gold, aliases, LANGS)
    assert result.overall.tp == 4 and result.overall.fp == 0


def test_evaluate_possessives_and_german_genitive(
    gold: list[GoldTriple], aliases: dict[str, str]
) -> None:
    predicted = [
        ("de_kobaltwerk", "Mara Lind", "founded", "Kobaltwerks"),  # genitive -s
        ("en_parcelwise", "Dana Whitfield", "works_at", "Parcelwise’s"),  # English possessive
        ("fr_velocar", "Claire Dumoulin", "works_at", "d’Vélocar"),  # French elision
    ]
    result = score(predicted, gold, aliases, LANGS)
    assert result.overall == Counts(tp=3, fp=0, fn=4)


def test_evaluate_genitive_strip_only_towards_known_gold_names(gold: list[GoldTriple]) -> None:
    # "Leipzigs" -> "Leipzig" is a gold name of de_kobaltwerk; "Hamburgs" -> "Hamburg" is not.
    result = score(
        [("de_kobaltwerk", "Kobaltwerk", "hires_in", "Leipzigs"),
         ("de_kobaltwerk", "Kobaltwerk", "hires_in", "Hamburgs")],
        gold, {}, LANGS,
    )
    assert result.by_article["de_kobaltwerk"] == Counts(tp=1, fp=1, fn=1)
    assert result.spurious == [PredictedTriple("de_kobaltwerk", "Kobaltwerk", "hires_in", "Hamburgs")]


def test_evaluate_symmetric_relation_matches_either_direction(gold: list[GoldTriple]) -> None:
    reversed_pair = score([("en_parcelwise", "Boxly", "competes_with", "Parcelwise")], gold, {}, LANGS)
    assert reversed_pair.by_relation["competes_with"] == Counts(tp=1, fp=0, fn=0)
    # an asymmetric relation does not match reversed
    wrong_way = PredictedTriple("en_parcelwise", "Parcelwise", "works_at", "Dana Whitfield")
    reversed_works = score([wrong_way], gold, {}, LANGS)
    assert reversed_works.by_article["en_parcelwise"] == Counts(tp=0, fp=1, fn=3)
    assert reversed_works.spurious == [wrong_way]


def test_evaluate_duplicates_count_once_and_other_articles_ignored(gold: list[GoldTriple]) -> None:
    predicted = [("en_parcelwise", "Parcelwise", "located_in", "Rotterdam")] * 3 + [
        ("en_parcelwise", "Parcelwise", "located_in", "Delft"),
        ("en_parcelwise", "parcelwise", "located_in", "DELFT"),
        ("unscored_article", "A", "founded", "B"),
        ("fr_velocar", "Vélocar", "hires_in", "Nantes"),  # same article, other gold line's
    ]
    result = score(predicted, gold, {}, LANGS)
    assert result.by_relation["located_in"] == Counts(tp=1, fp=1, fn=0)
    assert "unscored_article" not in result.by_article
    assert result.overall == Counts(tp=2, fp=1, fn=5)


def test_evaluate_matching_is_per_article(gold: list[GoldTriple]) -> None:
    # a true triple attributed to the wrong article is both spurious and missed
    result = score([("fr_velocar", "Kobaltwerk", "hires_in", "Leipzig")], gold, {}, LANGS)
    assert result.by_article["fr_velocar"] == Counts(tp=0, fp=1, fn=2)
    assert result.by_article["de_kobaltwerk"] == Counts(tp=0, fp=0, fn=2)


def test_evaluate_per_language_figures(gold: list[GoldTriple]) -> None:
    predicted = [
        ("en_parcelwise", "Dana Whitfield", "works_at", "Parcelwise"),
        ("en_parcelwise", "Dana Whitfield", "founded", "Parcelwise"),
        ("de_kobaltwerk", "Kobaltwerk", "hires_in", "Leipzig"),
        ("de_kobaltwerk", "Mara Lind", "founded", "Kobaltwerk"),
    ]
    result = score(predicted, gold, {}, LANGS)
    assert result.by_language == {
        "de": Counts(tp=2, fp=0, fn=0),
        "en": Counts(tp=1, fp=1, fn=2),
        "fr": Counts(tp=0, fp=0, fn=2),
    }
    assert result.by_language["en"].precision == pytest.approx(0.5)
    assert result.by_language["en"].recall == pytest.approx(1 / 3)
    assert result.by_language["en"].f1 == pytest.approx(0.4)
    # overall is micro-averaged over all articles
    assert result.overall == Counts(tp=3, fp=1, fn=4)
    assert result.overall.precision == pytest.approx(0.75)
    assert result.overall.recall == pytest.approx(3 / 7)


def test_evaluate_article_without_language_counts_as_und(gold: list[GoldTriple]) -> None:
    result = score([], gold, {}, {"en_parcelwise": "en"})
    assert set(result.by_language) == {"en", "und"}
    assert result.by_language["und"] == Counts(tp=0, fp=0, fn=4)


def test_evaluate_alias_chains_are_followed(gold: list[GoldTriple]) -> None:
    aliases = {"KW": "Kobaltwerk GmbH", "Kobaltwerk GmbH": "Kobaltwerk"}
    result = score([("de_kobaltwerk", "Mara Lind", "founded", "KW")], gold, aliases, LANGS)
    assert result.by_relation["founded"] == Counts(tp=1, fp=0, fn=0)


def test_evaluate_format_eval_has_tables_and_error_lists(gold: list[GoldTriple]) -> None:
    result = score([("en_parcelwise", "Parcelwise", "located_in", "Delft")], gold, {}, LANGS)
    report = format_eval(result, by_article=True)
    for heading in ("relation", "language", "language relation", "article", "overall", "missed (7):", "spurious (1):"):
        assert heading in report
    assert "\narticle " not in format_eval(result)  # the article table only when asked
    assert "en_parcelwise: Parcelwise --located_in--> Delft" in report
    assert 'Mara Lind --founded--> Kobaltwerk  "Gründerin Mara Lind"' in report
    overall_line = next(line for line in report.splitlines() if line.startswith("all "))
    assert overall_line.split() == ["all", "0", "1", "7", "0.000", "0.000", "0.000"]


def test_evaluate_eval_to_json_is_serialisable(gold: list[GoldTriple]) -> None:
    result = score([("en_parcelwise", "Dana Whitfield", "works_at", "Parcelwise")], gold, {}, LANGS)
    data = json.loads(json.dumps(eval_to_json(result)))
    assert data["overall"] == {
        "tp": 1, "fp": 0, "fn": 6, "precision": 1.0, "recall": 0.1429, "f1": 0.25}
    assert data["by_language"]["en"]["tp"] == 1
    assert set(data["by_relation"]) == {
        "competes_with", "founded", "hires_in", "located_in", "works_at"}
    assert len(data["missed"]) == 6 and data["spurious"] == []
    assert set(data["missed"][0]) == {"article", "subject", "relation", "object", "evidence"}


def test_evaluate_places_compare_through_the_gazetteer() -> None:
    # gold spells a place as the article does; kg names it once for all languages
    gold = [GoldTriple("de_a", "Acme", "located_in", "Wien", ""), GoldTriple("de_a", "Acme", "hires_in", "Linz", ""),
            GoldTriple("fr_b", "Velo", "located_in", "Royaume-Uni", "")]
    predicted = [("de_a", "Acme", "located_in", "Vienna"), ("de_a", "Acme", "hires_in", "Graz"),
                 ("fr_b", "Velo", "located_in", "United Kingdom")]
    result = score(predicted, gold, {}, {"de_a": "de", "fr_b": "fr"})
    assert (result.overall.tp, result.overall.fp, result.overall.fn) == (2, 1, 1)


def test_evaluate_place_codes_keep_their_case_through_aliases() -> None:
    # the alias file maps a spelling onto "USA": the code must still read as the country
    gold = [GoldTriple("fr_a", "Acme", "hires_in", "USA", "")]
    result = score([("fr_a", "Acme", "hires_in", "United States")], gold, {"Etats-Unis": "USA", "United States": "USA"},
                   {"fr_a": "fr"})
    assert (result.overall.tp, result.overall.fp, result.overall.fn) == (1, 0, 0)
