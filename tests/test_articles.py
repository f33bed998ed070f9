"""Reading .txt/.html/.jsonl inputs and cleaning scraping junk."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kg.articles import clean_text, extract_html, read_articles
from kg.errors import InputError
from kg.types import Article, Skipped

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
CORPUS = FIXTURES / "corpus"


def read(*paths: str | Path, lang: str | None = None) -> tuple[list[Article], list[Skipped]]:
    skipped: list[Skipped] = []
    articles = list(read_articles(paths, lang=lang, on_skip=skipped.append))
    return articles, skipped


def by_id(articles: list[Article]) -> dict[str, Article]:
    return {a.id: a for a in articles}


# -- folders, order, ids ------------------------------------------------------------------------


def test_articles_folder_is_walked_recursively_in_sorted_order() -> None:
    articles, _ = read(CORPUS)
    assert [a.id for a in articles] == [
        "en_parcelwise", "fr_velocar", "de_kobaltwerk", "a1-1da73d2f", "wire-3", "a1-cacf2d0e"]
    assert articles[2].source.endswith("nested/de_kobaltwerk.html")


def test_articles_reading_twice_gives_identical_results() -> None:
    assert read(CORPUS) == read(CORPUS)


def test_articles_hidden_files_and_unknown_extensions_in_folders_are_ignored(tmp_path: Path) -> None:
    shutil.copytree(CORPUS, tmp_path / "corpus")
    (tmp_path / "corpus" / ".draft.txt").write_text("A hidden draft that must not be read.\n")
    (tmp_path / "corpus" / ".cache").mkdir()
    (tmp_path / "corpus" / ".cache" / "old.txt").write_text("Cached copy.\n")
    articles, skipped = read(tmp_path / "corpus")
    assert len(articles) == 6
    assert not any("draft" in a.id or "old" == a.id for a in articles)
    assert not any("notes.md" in s.source for s in skipped)


def test_articles_read_articles_is_lazy_generator() -> None:
    skipped: list[Skipped] = []
    stream = read_articles([CORPUS], on_skip=skipped.append)
    first = next(iter(stream))
    assert first.id == "en_parcelwise"
    assert skipped == []  # the jsonl file has not been touched yet


def test_articles_repeated_ids_get_content_hash_suffixes_independent_of_order(
    tmp_path: Path,
) -> None:
    for folder in ("a", "b", "c"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "story.txt").write_text(f"Story from folder {folder} about a merger.\n")
    (tmp_path / "a" / "unique.txt").write_text("Only one file has this name.\n")
    articles, _ = read(tmp_path)
    ids = {a.text.split()[3]: a.id for a in articles if a.text.startswith("Story")}
    assert all(re.fullmatch(r"story-[0-9a-f]{8}", i) for i in ids.values())
    assert len(set(ids.values())) == 3
    assert "unique" in {a.id for a in articles}  # no suffix where nothing collides
    backwards, _ = read(tmp_path / "c", tmp_path / "b", tmp_path / "a")
    assert {a.source: a.id for a in backwards} == {a.source: a.id for a in articles}


def test_articles_ids_that_differ_only_in_punctuation_collide_as_iris(tmp_path: Path) -> None:
    (tmp_path / "a b.txt").write_text("First story about Boxly.\n")
    (tmp_path / "a-b.txt").write_text("Second story about Boxly.\n")
    articles, _ = read(tmp_path)
    assert all(re.fullmatch(r"a[ -]b-[0-9a-f]{8}", a.id) for a in articles)


def test_articles_missing_path_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_articles([CORPUS, tmp_path / "nowhere"], on_skip=lambda s: None)


def test_articles_named_unsupported_file_is_skipped_with_reason() -> None:
    articles, skipped = read(CORPUS / "notes.md")
    assert articles == []
    assert len(skipped) == 1 and "unsupported file type '.md'" in skipped[0].reason


# -- .txt -------------------------------------------------------------------------------------


def test_articles_txt_title_source_and_cleaned_text() -> None:
    articles, skipped = read(CORPUS / "en_parcelwise.txt")
    assert skipped == []
    (article,) = articles
    assert article.id == "en_parcelwise"
    assert article.source == str(CORPUS / "en_parcelwise.txt")
    assert article.title == "Parcelwise opens second warehouse near Rotterdam"
    assert article.text.startswith(article.title + "\n\n")
    assert "[ad_1]" not in article.text
    assert "Share this" not in article.text
    assert "Accept all cookies" not in article.text
    assert "We use cookies" not in article.text
    assert "Leave a Reply" not in article.text and "Name *" not in article.text
    # a sentence that merely mentions cookies stays
    assert "would not use cookies from partners" in article.text
    assert article.lang is None and article.warnings == ()


def test_articles_txt_first_line_with_final_period_is_not_a_title(tmp_path: Path) -> None:
    (tmp_path / "plain.txt").write_text("Boxly hired ten drivers in Leeds.\nMore follows.\n")
    (article,), _ = read(tmp_path / "plain.txt")
    assert article.title == ""


def test_articles_txt_long_first_line_is_not_a_title(tmp_path: Path) -> None:
    (tmp_path / "long.txt").write_text("word " * 60 + "\nSecond line.\n")
    (article,), _ = read(tmp_path / "long.txt")
    assert article.title == ""


def test_articles_lang_argument_overrides_every_article() -> None:
    articles, _ = read(CORPUS, lang="FR")
    assert {a.lang for a in articles} == {"fr"}


def test_articles_utf8_bom_is_stripped(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes("\ufeffBoxly opens a depot in Leeds.".encode("utf-8"))
    (article,), _ = read(tmp_path / "bom.txt")
    assert article.text == "Boxly opens a depot in Leeds."
    assert article.warnings == ()


def test_articles_cp1252_file_is_decoded_with_warning(tmp_path: Path) -> None:
    text = "Die Müller GmbH eröffnet ein Büro in Köln – sagt der Geschäftsführer.\n"
    (tmp_path / "alt.txt").write_bytes(text.encode("cp1252"))
    (article,), skipped = read(tmp_path / "alt.txt")
    assert skipped == []
    assert article.text == text.strip()
    assert article.warnings == ("decoded as cp1252",)


def test_articles_binary_file_is_skipped_not_raised(tmp_path: Path) -> None:
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (tmp_path / "noise.txt").write_bytes(bytes(range(1, 32)) * 20)
    articles, skipped = read(tmp_path)
    assert articles == []
    assert [s.reason for s in skipped] == ["binary file, not text", "binary file, not text"]


def test_articles_empty_and_whitespace_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "a_empty.txt").write_bytes(b"")
    (tmp_path / "b_blank.html").write_text("  \n\t\n")
    (tmp_path / "c_junk_only.txt").write_text("[ad_1]\n\nShare this\n\n*\n")
    articles, skipped = read(tmp_path)
    assert articles == []
    assert [s.reason for s in skipped] == [
        "empty file", "empty file", "no article text left after cleaning"]
    assert all("\n" not in s.reason for s in skipped)


def test_articles_utf16_with_bom_is_read(tmp_path: Path) -> None:
    (tmp_path / "wide.txt").write_bytes("Boxly opens a depot in Leeds.".encode("utf-16"))
    (article,), skipped = read(tmp_path / "wide.txt")
    assert skipped == [] and article.text == "Boxly opens a depot in Leeds."


# -- .html ------------------------------------------------------------------------------------


def test_articles_html_extracts_article_and_metadata() -> None:
    (article,), skipped = read(CORPUS / "nested" / "de_kobaltwerk.html")
    assert skipped == []
    assert article.id == "de_kobaltwerk"
    assert article.title == "Kobaltwerk eröffnet Standort in Leipzig | Beispielzeitung"
    assert article.url == "https://news.example.org/kobaltwerk-leipzig"
    assert article.published == "2024-03-05T08:00:00+01:00"
    assert article.lang == "de"
    assert article.text.split("\n\n")[0] == "Kobaltwerk eröffnet Standort in Leipzig"
    assert "Stadt & ihre Hochschulen" in article.text


@pytest.mark.parametrize(
    "junk",
    ["Skripttext", "display: none", "Startseite", "Wir verwenden Cookies", "Alle akzeptieren",
     "Teilen", "Schlagwörter", "Verwandter Artikel", "Leserkommentar", "Kommentar verfassen",
     "Impressum"],
)
def test_articles_html_drops_script_nav_banner_and_boilerplate(junk: str) -> None:
    (article,), _ = read(CORPUS / "nested" / "de_kobaltwerk.html")
    assert junk not in article.text


def test_articles_html_keeps_paragraphs_and_line_breaks() -> None:
    text, *_ = extract_html("<body><div><p>One  \n two.</p><p>Three.<br>Four.</p></div></body>")
    assert text == "One two.\n\nThree.\nFour."


def test_articles_html_without_article_uses_main_then_body() -> None:
    main = extract_html("<body><p>Outside.</p><main><p>Inside main.</p></main></body>")
    body = extract_html("<body><div class='menu'>Menu</div><p>Only body text.</p></body>")
    assert main[0] == "Inside main."
    assert body[0] == "Only body text."


def test_articles_html_prefers_longest_article_and_h1_title() -> None:
    markup = (
        "<html><body><article><p>Short teaser.</p></article>"
        "<article><h1>Boxly expands</h1>"
        "<p>Boxly opens a large depot in Leeds this spring.</p></article>"
        "<link rel='canonical' href='https://example.org/boxly'>"
        "<time datetime='2024-02-01'>1 Feb</time>"
        "</body></html>"
    )
    text, title, url, published, lang = extract_html(markup)
    assert text == "Boxly expands\n\nBoxly opens a large depot in Leeds this spring."
    assert (title, url, published, lang) == (
        "Boxly expands", "https://example.org/boxly", "2024-02-01", "")


def test_articles_html_class_filter_does_not_drop_whole_page() -> None:
    # boilerplate-looking classes on body/article must not remove the story itself
    text, *_ = extract_html(
        "<body class='has-cookie-banner'><article class='tag-share'><p>Story.</p></article></body>"
    )
    assert text == "Story."


# -- .jsonl -----------------------------------------------------------------------------------


def test_articles_jsonl_fields_ids_and_sources() -> None:
    articles, _ = read(CORPUS / "wire.jsonl")
    found = by_id(articles)
    assert list(found) == ["a1-1da73d2f", "wire-3", "a1-cacf2d0e"]
    first = found["a1-1da73d2f"]
    assert first.source == f"{CORPUS / 'wire.jsonl'}:1"
    assert (first.title, first.url, first.published, first.lang) == (
        "Nordlicht Energy hires in Aberdeen", "https://example.org/a1", "2024-05-01", "en")
    assert first.text == (
        "Nordlicht Energy is hiring 40 engineers in Aberdeen.\n\n"
        "The company already has an office there."
    )
    assert found["wire-3"].source.endswith("wire.jsonl:3")


def test_articles_jsonl_bad_lines_are_skipped_and_rest_is_read() -> None:
    articles, skipped = read(CORPUS / "wire.jsonl")
    assert len(articles) == 3
    reasons = [s.reason for s in skipped]
    assert [r.split(":")[1] for r in reasons] == ["5", "6", "7", "8", "9"]
    assert all(r.startswith("wire.jsonl:") for r in reasons)
    assert "invalid JSON" in reasons[0]
    assert "expected a JSON object" in reasons[1]
    assert 'missing "text"' in reasons[2]
    assert "'title' must be a string" in reasons[3]
    assert 'empty "text"' in reasons[4]
    assert [s.source for s in skipped][0] == f"{CORPUS / 'wire.jsonl'}:5"


def test_articles_jsonl_numeric_id_and_line_separator_in_text(tmp_path: Path) -> None:
    escaped = '{"id": 7, "text": "Boxly grows.\\u2028Still one record."}\n'
    raw = '{"id": "r", "text": "Boxly shrinks.\u2028Still one record."}\n'
    (tmp_path / "feed.jsonl").write_text(escaped, encoding="utf-8")
    (tmp_path / "raw.jsonl").write_text(raw, encoding="utf-8")
    articles, skipped = read(tmp_path / "feed.jsonl", tmp_path / "raw.jsonl")
    assert skipped == []
    assert [a.id for a in articles] == ["7", "r"]


# -- clean_text -------------------------------------------------------------------------------


def test_articles_clean_text_english_junk() -> None:
    raw = (
        "Boxly opened a depot in Leeds.\n[ad_1]\nIt hired 40 people. [advertisement] More soon.\n"
        "Share this article\nAdvertisement\n\n\n\n\nThe end of the story.\n"
        "Leave a comment\n"
        "Your email address will not be published. Required fields are marked *\nName *"
    )
    assert clean_text(raw) == (
        "Boxly opened a depot in Leeds.\nIt hired 40 people. More soon.\n\nThe end of the story."
    )


def test_articles_clean_text_french_junk() -> None:
    raw = (
        "Vélocar recrute à Nantes.\n[ad_2]\nPartager sur Facebook\n"
        "Nous utilisons des cookies pour améliorer votre expérience.\nAccepter les cookies\n"
        "La direction confirme.\n\nLaisser un commentaire\n"
        "Votre adresse e-mail ne sera pas publiée. Les champs obligatoires sont indiqués avec *\n*"
    )
    assert clean_text(raw) == "Vélocar recrute à Nantes.\nLa direction confirme."


def test_articles_clean_text_french_required_fields_line_alone() -> None:
    raw = "Texte utile.\nLes champs obligatoires sont indiqués avec *\nSuite."
    assert clean_text(raw) == "Texte utile.\nSuite."


def test_articles_clean_text_german_junk() -> None:
    raw = (
        "Kobaltwerk stellt in Leipzig ein.\n[Anzeige]\n"
        "Wir verwenden Cookies, um die Seite zu verbessern.\n"
        "Alle Cookies akzeptieren\nArtikel teilen: WhatsApp, E-Mail\nDie Gründerin ist zufrieden.\n"
        "Erforderliche Felder sind mit * markiert\nSchreibe einen Kommentar\n"
        "Deine E-Mail-Adresse wird nicht veröffentlicht.\nLeserbrief"
    )
    assert clean_text(raw) == "Kobaltwerk stellt in Leipzig ein.\nDie Gründerin ist zufrieden."


def test_articles_clean_text_kommentar_verfassen_cuts_footer() -> None:
    assert clean_text("Ein Satz.\n\nKommentar verfassen\nAbbrechen") == "Ein Satz."


@pytest.mark.parametrize(
    "sentence",
    [
        "The regulator said websites that use cookies must ask first, and Boxly agreed.",
        "Share prices of Boxly rose 4% after the announcement.",
        "Les sites qui utilisent des cookies devront demander l’accord des lecteurs, selon la CNIL.",
        "Die Behörde prüft, ob Händler Cookies ohne Zustimmung setzen, "
        "und will alle Cookies akzeptieren lassen.",
        "Teilen wollte der Konzern die Zahlen nicht.",
        "Comments from the chief executive were brief.",
        "Kommentar",
    ],
)
def test_articles_clean_text_keeps_ordinary_sentences(sentence: str) -> None:
    text = f"First paragraph.\n\n{sentence}\n\nLast paragraph."
    assert clean_text(text) == text


def test_articles_clean_text_collapses_blank_runs_and_crlf() -> None:
    assert clean_text("A.\r\n\r\n\r\n\r\nB.  \r\nC.") == "A.\n\nB.\nC."


def test_articles_html_drops_boilerplate_tags_without_class_hints() -> None:
    dropped = "script style noscript nav header footer aside form iframe svg button template".split()
    markup = "<body>" + "".join(f"<{t}>gone-{t}</{t}>" for t in dropped) + "<p>Kept text.</p></body>"
    text, *_ = extract_html(markup)
    assert text == "Kept text."


def test_articles_single_path_string_is_one_path() -> None:
    articles = list(read_articles(str(CORPUS / "fr_velocar.txt"), on_skip=lambda s: None))
    assert [a.id for a in articles] == ["fr_velocar"]
