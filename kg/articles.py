"""Reading articles from .txt, .html and .jsonl files, and cleaning scraping junk out of them.

``read_articles`` streams: it holds one file at a time, never the corpus (plus, for the whole
run, the list of input files, their ids and a SHA-1 per text read). Before the first article
it lists the files and parses JSONL files for their ids, so that an id shared by two inputs is
suffixed whichever comes first. Inputs that yield nothing are reported through ``on_skip`` with
a one-line reason; only a path that does not exist at all raises. The file-system side
(regular files only, size cap, symlink loops, decoding, kg output folders) is in
:mod:`kg.sources`.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import sys
import unicodedata
from functools import lru_cache
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from .errors import InputError
from .names import slug
from .sources import (
    CP1252_WARNING,
    DEFAULT_MAX_FILE_BYTES,
    OUTPUT_MARKER,
    InputRefused,
    check_regular_file,
    decode,
    is_output_dir,
    looks_binary,
    output_dir_reason,
    read_bytes_capped,
    walk_files,
)
from .types import Article, Skipped

__all__ = [
    "CP1252_WARNING", "DEFAULT_MAX_FILE_BYTES", "OUTPUT_MARKER", "clean_text", "extract_html",
    "is_output_dir", "plain_text", "read_articles", "strip_tags", "web_url",
]

TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm")
JSONL_SUFFIXES = (".jsonl",)
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + JSONL_SUFFIXES

MAX_TITLE_CHARS = 200

# --------------------------------------------------------------------------------------------
# Junk patterns (data). Each line pattern must match a whole line (after stripping), so an
# ordinary sentence that merely mentions cookies or sharing inside a paragraph is kept.

_I = re.IGNORECASE

# Inline markers left by ad plugins: [ad_1], [ad], [ads], [advertisement], [Anzeige] ...
AD_MARKERS: tuple[re.Pattern[str], ...] = (
    re.compile(
        r"[ \t]*\[\s*(?:ad|ads|advert|advertisement|advertising|sponsored|anzeige|werbung|"
        r"publicit[ée]|pub)(?:[\s_-]*\d+)?\s*\]",
        _I,
    ),
)

# Language-neutral junk lines; the comment-form, cookie, share-bar and "advertisement" lines of
# each language are data, in kg/rules/<lang>/language.json (comment_footers, junk_lines).
NEUTRAL_JUNK_LINES: tuple[re.Pattern[str], ...] = (re.compile(r"^\*+$"),)


@lru_cache(maxsize=None)
def _line_patterns(extra_folders: tuple[str, ...] = ()) -> tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]]:
    """(comment footers, junk lines) of every language: an article's language is not known
    while it is cleaned, and one language's boilerplate does not occur as prose in another."""
    from .languages import language_data

    data = language_data(extra=extra_folders).values()
    footers = tuple(p for d in data for p in d.comment_footers)
    junk = NEUTRAL_JUNK_LINES + tuple(p for d in data for p in d.junk_lines)
    return footers, junk


_BLANK_RUNS = re.compile(r"\n(?:[ \t]*\n){2,}")
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)


def clean_text(text: str) -> str:
    """Remove scraping junk (ad markers, comment forms, cookie and share lines) from ``text``.

    Line based and conservative: a line is dropped only when the whole line is junk, and a
    comment-form heading ("Leave a comment", "Laisser un commentaire", "Kommentar verfassen")
    cuts the text there. Runs of 3+ blank lines collapse to one blank line; leading and
    trailing white space is trimmed. Offsets computed later refer to the returned string.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    footers, junk = _line_patterns()
    kept: list[str] = []
    for line in text.split("\n"):
        if line.strip():
            for marker in AD_MARKERS:
                line = marker.sub("", line)
            if not line.strip():
                continue  # the line held nothing but ad markers
        stripped = line.strip()
        if stripped and any(p.match(stripped) for p in footers):
            break
        if stripped and any(p.match(stripped) for p in junk):
            continue
        kept.append(line)
    cleaned = _TRAILING_SPACE.sub("", "\n".join(kept))
    cleaned = _BLANK_RUNS.sub("\n\n", cleaned)
    return cleaned.strip()


# --------------------------------------------------------------------------------------------
# Decoding


def _mostly_text(text: str) -> bool:
    """At most 5% control, unassigned or replacement characters in the first 64K characters."""
    text = text[:65536]
    if not text:
        return True
    odd = sum(
        1
        for c in text
        if (unicodedata.category(c) in ("Cc", "Co", "Cs", "Cn") and c not in "\t\n\r\f")
        or c == "\ufffd"
    )
    return odd / len(text) <= 0.05


# --------------------------------------------------------------------------------------------
# HTML extraction

DROP_TAGS = frozenset(
    "script style noscript nav header footer aside form iframe svg button template "
    "select textarea canvas object embed dialog".split()
)
BLOCK_TAGS = frozenset(
    "p div section article main h1 h2 h3 h4 h5 h6 li ul ol dl dt dd tr td th table "
    "blockquote pre figure figcaption hr address body".split()
)
VOID_TAGS = frozenset(
    "area base br col embed hr img input link meta source track wbr param keygen".split()
)
# Tags whose class/id is checked for boilerplate names; containers such as article, main and
# body are not (WordPress puts "tag-social" and the like on the article element itself).
CLASS_CHECKED_TAGS = frozenset("div section ul ol li p span aside nav figure table dl".split())
BOILERPLATE_CLASS = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|menu|breadcrumbs?|cookies?|consent|gdpr|banner|"
    r"comments?|comment-respond|respond|share|sharing|sharedaddy|social|related|"
    r"advert|advertisement|ads?|adslot|sponsored|promo|newsletter|subscribe|sidebar|"
    r"popup|modal|outbrain|taboola)(?:$|[\s_-])",
    re.IGNORECASE,
)
_IMPLICIT_CLOSERS = {"p": {"p"}, "li": {"li"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"},
                     "tr": {"tr"}, "td": {"td", "th"}, "th": {"td", "th"}, "option": {"option"}}
_SPACE_RUN = re.compile(r"\s+")


class _ArticleHTMLParser(HTMLParser):
    """Collects blocks of visible text, separately for the whole body and for article/main."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        # how many of each tag are open: a stray end tag or "is <head> open?" costs O(1), not a
        # scan of the stack (which made unclosed tags plus stray end tags quadratic)
        self.open_count: Counter[str] = Counter()
        self.drop_depth: int | None = None  # stack length at which a dropped element opened
        self.loose_drop_depth: int | None = None  # same, ignoring class/id (fallback text)
        self.article_depth: int | None = None
        self.main_depth: int | None = None
        self.blocks: dict[str, list[str]] = {"body": [], "loose": [], "article": [], "main": []}
        self.current: dict[str, list[str]] = {key: [] for key in self.blocks}
        self.articles: list[list[str]] = []  # blocks of each top-level <article>
        self.in_title = False
        self.title_parts: list[str] = []
        self.in_h1 = False
        self.h1_parts: list[str] = []
        self.seen_h1 = False
        self.url = ""
        self.canonical = ""
        self.published = ""
        self.time_datetime = ""
        self.lang = ""

    # -- structure ---------------------------------------------------------------------------
    def _open(self, tag: str, attrs: list[tuple[str, str | None]]) -> dict[str, str]:
        """What every opening tag does, self-closing or not: metadata and block breaks."""
        attr = {k.lower(): (v or "") for k, v in attrs}
        self._metadata(tag, attr)
        if tag in BLOCK_TAGS:
            self._flush()
        elif tag == "br":
            self._line_break()
        return attr

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = self._open(tag, attrs)
        if tag in VOID_TAGS:
            return
        closers = _IMPLICIT_CLOSERS.get(tag)
        if closers and self.stack and self.stack[-1] in closers:
            self._pop_to(len(self.stack) - 1)
        self.stack.append(tag)
        self.open_count[tag] += 1
        depth = len(self.stack)
        hidden = "hidden" in attr or attr.get("aria-hidden") == "true"
        by_tag = tag in DROP_TAGS or hidden
        by_class = tag in CLASS_CHECKED_TAGS and any(
            BOILERPLATE_CLASS.search(attr.get(name, "")) for name in ("class", "id")
        )
        if self.drop_depth is None and (by_tag or by_class):
            self.drop_depth = depth
        if self.loose_drop_depth is None and by_tag:
            self.loose_drop_depth = depth
        if tag == "article" and self.article_depth is None and self.drop_depth is None:
            self._flush()
            self.article_depth = depth
            self.blocks["article"] = []
            self.articles.append(self.blocks["article"])
        if (tag == "main" or attr.get("role") == "main") and self.main_depth is None \
                and self.drop_depth is None:
            self.main_depth = depth
        if tag == "title" and not self.title_parts and not self.open_count["svg"]:
            self.in_title = True
        if tag == "h1" and not self.seen_h1 and self.drop_depth is None:
            self.in_h1 = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCK_TAGS:
            self._flush()
        if tag == "title":
            self.in_title = False
        if tag == "h1" and self.in_h1:
            self.in_h1 = False
            self.seen_h1 = True
        if not self.open_count[tag]:
            return  # a stray end tag closes nothing
        index = len(self.stack) - 1
        while self.stack[index] != tag:  # amortised O(1): every element scanned is popped
            index -= 1
        self._pop_to(index)

    def _pop_to(self, index: int) -> None:
        """Close every open element from ``index`` up (unclosed children included)."""
        closed = self.stack[index:]
        if any(t in BLOCK_TAGS for t in closed):
            self._flush()
        self.open_count.subtract(closed)
        del self.stack[index:]
        depth = len(self.stack)
        if self.drop_depth is not None and self.drop_depth > depth:
            self.drop_depth = None
        if self.loose_drop_depth is not None and self.loose_drop_depth > depth:
            self.loose_drop_depth = None
        if self.article_depth is not None and self.article_depth > depth:
            self.article_depth = None
        if self.main_depth is not None and self.main_depth > depth:
            self.main_depth = None

    # -- text --------------------------------------------------------------------------------
    def _line_break(self) -> None:
        for parts in self.current.values():
            parts.append("\n")

    def handle_data(self, data: str) -> None:
        # the parser decoded entities once; tags spelled with them (&lt;script&gt;) go here
        data = _SPACE_RUN.sub(" ", strip_tags(data))
        if self.in_title:
            self.title_parts.append(data)
            return
        if self.open_count["head"] and not self.open_count["body"]:
            return
        if self.in_h1:
            self.h1_parts.append(data)
        if self.loose_drop_depth is None:
            self.current["loose"].append(data)
        if self.drop_depth is not None:
            return
        self.current["body"].append(data)
        if self.article_depth is not None:
            self.current["article"].append(data)
        if self.main_depth is not None:
            self.current["main"].append(data)

    def _flush(self) -> None:
        for key, parts in self.current.items():
            if parts:
                lines = (_SPACE_RUN.sub(" ", line).strip() for line in "".join(parts).split("\n"))
                block = "\n".join(line for line in lines if line)
                if block:
                    self.blocks[key].append(block)
                parts.clear()

    # -- metadata ----------------------------------------------------------------------------
    def _metadata(self, tag: str, attr: dict[str, str]) -> None:
        if tag == "html" and attr.get("lang"):
            self.lang = attr["lang"]
        elif tag == "meta":
            key = (attr.get("property") or attr.get("name") or attr.get("itemprop") or "").lower()
            content = attr.get("content", "").strip()
            if key == "og:url" and content and not self.url:
                self.url = content
            elif key in ("article:published_time", "datepublished", "date", "pubdate") \
                    and content and not self.published:
                self.published = content
        elif tag == "link" and "canonical" in attr.get("rel", "").lower().split():
            self.canonical = self.canonical or attr.get("href", "").strip()
        elif tag == "time" and attr.get("datetime") and not self.time_datetime:
            self.time_datetime = attr["datetime"].strip()

    def result(self) -> tuple[str, str, str, str, str]:
        """(text, title, url, published, lang) once the whole document was fed."""
        self._flush()
        # Several <article> elements (teasers, comments): the longest is the story.
        longest = max(self.articles, key=lambda b: sum(map(len, b)), default=[])
        text_blocks = longest or self.blocks["main"] or self.blocks["body"] or self.blocks["loose"]
        title = _SPACE_RUN.sub(" ", "".join(self.title_parts)).strip()
        if not title:
            title = _SPACE_RUN.sub(" ", "".join(self.h1_parts)).strip()
        return (
            "\n\n".join(text_blocks),
            title,
            web_url(self.url)[0] or web_url(self.canonical)[0],
            self.published or self.time_datetime,
            self.lang,
        )


def extract_html(markup: str) -> tuple[str, str, str, str, str]:
    """Main text of an HTML page and its metadata: ``(text, title, url, published, lang)``.

    Boilerplate elements (script, nav, header, footer, forms, elements whose class or id names
    a menu, cookie banner, comment or share box, related links or ads) are dropped. The text of
    ``<article>`` (the longest one, when there are several), else of ``<main>``, is preferred
    over the whole body. Blocks become paragraphs separated by a blank line, ``<br>`` a line
    break. ``text`` is not yet passed through :func:`clean_text`.
    """
    parser = _ArticleHTMLParser()
    parser.feed(markup)
    parser.close()
    return parser.result()


# --------------------------------------------------------------------------------------------
# Reading



def _normalise_lang(value: str) -> str | None:
    """Primary language subtag ("de-DE" -> "de"); None for an empty or malformed value."""
    primary = value.strip().replace("_", "-").split("-")[0].lower()
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def _title_from_text(text: str) -> str:
    for line in text.split("\n"):
        line = line.strip()
        if line:
            if len(line) <= MAX_TITLE_CHARS and not line.endswith("."):
                return line
            return ""
    return ""


def _wanted(name: str) -> bool:
    return name.lower().endswith(SUPPORTED_SUFFIXES)


def read_articles(
    paths: Iterable[str | Path],
    *,
    lang: str | None = None,
    on_skip: Callable[[Skipped], None],
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Iterator[Article]:
    """Stream the articles found in ``paths`` (files or folders), cleaned with :func:`clean_text`.

    Folders are walked recursively in sorted order; hidden files and folders, unsupported
    extensions and kg output folders (see :func:`is_output_dir`) inside them are ignored.
    Supported: ``.txt``, ``.html``/``.htm`` and ``.jsonl`` (one JSON object a line, ``text``
    required; ``id``, ``title``, ``url``, ``published``, ``lang`` optional). Text is UTF-8 with
    invalid bytes replaced where they are (a warning on the article); a file that is not UTF-8
    at all is decoded as cp1252 (a warning too). HTML entities are decoded once and markup is
    removed, so escaped tags never reach the text; a URL that is not http(s) is dropped.

    Never read, each reported through ``on_skip`` with a one-line reason: FIFOs, sockets and
    devices, files over ``max_file_bytes``, symlink loops, binary and empty files, bad JSONL
    lines, and a second copy of a text already read.

    Ids come from the input, never from the order of reading: the file stem, the JSONL ``id``
    (else ``<stem>-<line>``); when two inputs of the run would get the same id (compared as IRI
    slugs), each gets ``-<8 hex digits of its text's SHA-1>`` appended.

    ``Article.lang`` is ``lang`` when given, else the language the input declares (``<html
    lang>``, the JSONL ``lang`` field) reduced to its primary subtag, else None (the caller
    detects it). Paths are checked up front: a missing path raises :class:`InputError` before
    anything is read.
    """
    if lang is not None:
        lang = _normalise_lang(lang) or lang
    if isinstance(paths, (str, Path)):
        paths = [paths]  # one path, not an iterable of characters
    resolved = [Path(p) for p in paths]
    for path in resolved:
        if not os.path.lexists(path):
            raise InputError(f"input path does not exist: {path}")
    return _Reader(lang, on_skip, max_file_bytes).read(resolved)


@dataclass(frozen=True)
class _Draft:
    """An article before its id is final: ``base_id`` may be shared with another input."""

    base_id: str
    source: str
    text: str
    lang: str | None
    title: str = ""
    url: str = ""
    published: str = ""
    warnings: tuple[str, ...] = ()


class _Reader:
    """One call of :func:`read_articles`: the files, the id collisions and the texts seen."""

    def __init__(self, lang: str | None, on_skip: Callable[[Skipped], None], max_bytes: int):
        self.lang = lang
        self.on_skip = on_skip
        self.max_bytes = max_bytes
        self.seen_text: dict[bytes, str] = {}  # SHA-1 of the text -> source that had it first
        self.used_slugs: set[str] = set()
        self.base_counts: Counter[str] = Counter()

    def read(self, paths: list[Path]) -> Iterator[Article]:
        files = list(self._files(paths))
        # First pass, ids only, so that an id is suffixed whenever it is shared, whichever
        # input comes first. JSONL files are parsed for their ids; nothing is reported here.
        counted: set[str] = set()
        for path in files:
            real = os.path.realpath(path)
            if real in counted:  # the same file named twice is one input (read once, below)
                continue
            counted.add(real)
            if path.suffix.lower() in JSONL_SUFFIXES:
                self.base_counts.update(slug(draft_id) for draft_id in self._jsonl_ids(path))
            else:
                self.base_counts[slug(path.stem)] += 1
        for path in files:
            for draft in self._read_file(path):
                article = self._finish(draft)
                if article is not None:
                    yield article

    # -- which files -----------------------------------------------------------------------------
    def _files(self, paths: list[Path]) -> Iterator[Path]:
        for path in paths:
            if path.is_dir():
                if is_output_dir(path):
                    self.on_skip(Skipped(str(path), output_dir_reason(path)))
                else:
                    yield from walk_files(path, _wanted, self.on_skip)
            elif is_output_dir(path.parent):
                self.on_skip(Skipped(str(path), output_dir_reason(path.parent)))
            elif not _wanted(path.name):
                try:
                    check_regular_file(path)
                except InputRefused as exc:
                    self.on_skip(Skipped(str(path), str(exc)))
                    continue
                self.on_skip(Skipped(str(path), f"unsupported file type {path.suffix or '(none)'!r}; "
                                                f"expected one of {', '.join(SUPPORTED_SUFFIXES)}"))
            else:
                yield path

    def _load(self, path: Path, report: bool = True) -> tuple[str, tuple[str, ...]] | None:
        """Decoded text of a file, or None (reported when ``report``) if it is not read."""
        source = str(path)
        try:
            data = read_bytes_capped(path, self.max_bytes)
        except InputRefused as exc:
            if report:
                self.on_skip(Skipped(source, str(exc)))
            return None
        if looks_binary(data):
            if report:
                self.on_skip(Skipped(source, "binary file, not text"))
            return None
        raw, warnings = decode(data)
        if not _mostly_text(raw):
            if report:
                self.on_skip(Skipped(source, "binary file, not text"))
            return None
        if not raw.strip():
            if report:
                self.on_skip(Skipped(source, "empty file"))
            return None
        return raw, warnings

    # -- one file --------------------------------------------------------------------------------
    def _read_file(self, path: Path) -> Iterator[_Draft]:
        loaded = self._load(path)
        if loaded is None:
            return
        raw, warnings = loaded
        suffix = path.suffix.lower()
        if suffix in JSONL_SUFFIXES:
            yield from self._read_jsonl(path, raw, warnings)
            return
        title = url = published = ""
        hint: str | None = None
        if suffix in HTML_SUFFIXES:
            body, title, url, published, declared = extract_html(raw)
            hint = _normalise_lang(declared) if declared else None
            text = clean_text(body)
        else:
            text = clean_text(plain_text(raw))
            title = _title_from_text(text)
        if not text:
            self.on_skip(Skipped(str(path), "no article text left after cleaning"))
            return
        yield _Draft(path.stem, str(path), text, self.lang or hint, title, url, published, warnings)

    def _jsonl_ids(self, path: Path) -> Iterator[str]:
        loaded = self._load(path, report=False)
        if loaded is None:
            return
        for number, record in _jsonl_records(loaded[0]):
            if isinstance(record, dict) and isinstance(record.get("text"), str):
                yield _jsonl_id(record, path, number)

    def _read_jsonl(self, path: Path, raw: str, warnings: tuple[str, ...]) -> Iterator[_Draft]:
        for number, record in _jsonl_records(raw):
            source = f"{path}:{number}"
            where = f"{path.name}:{number}"
            reason = record if isinstance(record, str) else _record_problem(record)
            if reason is None:
                text = clean_text(plain_text(record["text"]))
                reason = None if text else 'empty "text"'
            if reason is not None:
                self.on_skip(Skipped(source, f"{where}: {reason}"))
                continue
            url, url_problem = web_url(record.get("url") or "")
            declared = record.get("lang")
            yield _Draft(
                base_id=_jsonl_id(record, path, number),
                source=source,
                text=text,
                lang=self.lang or (_normalise_lang(declared) if declared else None),
                title=plain_text(record.get("title") or "").strip(),
                url=url,
                published=(record.get("published") or "").strip(),
                warnings=warnings + ((url_problem,) if url_problem else ()),
            )

    # -- ids and duplicates ----------------------------------------------------------------------
    def _finish(self, draft: _Draft) -> Article | None:
        digest = hashlib.sha1(draft.text.encode("utf-8")).digest()
        first = self.seen_text.get(digest)
        if first is not None:
            self.on_skip(Skipped(draft.source, f"same text as {first}; read once"))
            return None
        self.seen_text[digest] = draft.source
        article_id = draft.base_id
        if self.base_counts[slug(article_id)] > 1:
            article_id = f"{article_id}-{digest.hex()[:8]}"
        candidate, n = article_id, 1
        while slug(candidate) in self.used_slugs:  # only if a suffixed id equals another id
            n += 1
            candidate = f"{article_id}-{n}"
        self.used_slugs.add(slug(candidate))
        return Article(
            id=candidate, source=draft.source, text=draft.text, lang=draft.lang,
            title=draft.title, url=draft.url, published=draft.published, warnings=draft.warnings,
        )


# --------------------------------------------------------------------------------------------
# JSONL records, plain text, URLs

_OPTIONAL_FIELDS = ("title", "url", "published", "lang")


def _jsonl_records(raw: str) -> Iterator[tuple[int, dict | str | object]]:
    """(line number, parsed value) for each non-blank line; a str value is why it did not parse.

    Split on "\\n" only: JSON strings may legally hold U+2028 and other line separators.
    """
    for number, line in enumerate(raw.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"invalid JSON ({exc.msg} at column {exc.colno})"
        except RecursionError:
            yield number, "invalid JSON (nested too deeply)"
        except ValueError as exc:  # an integer longer than sys.get_int_max_str_digits()
            if "integer string conversion" in str(exc):
                limit = sys.get_int_max_str_digits()
                yield number, f"invalid JSON (a number of more than {limit} digits)"
            else:
                yield number, f"invalid JSON ({str(exc).splitlines()[0][:80]})"


def _record_problem(record: object) -> str | None:
    """Why a parsed JSONL value is not an article, or None."""
    if not isinstance(record, dict):
        return f"expected a JSON object, got {type(record).__name__}"
    text = record.get("text")
    if not isinstance(text, str):
        return "missing \"text\"" if text is None else "\"text\" is not a string"
    bad = [k for k in _OPTIONAL_FIELDS if record.get(k) is not None and not isinstance(record[k], str)]
    raw_id = record.get("id")
    if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, (str, int))):
        bad.insert(0, "id")
    if bad:
        return f"field {', '.join(repr(k) for k in bad)} must be a string"
    return None


def _jsonl_id(record: dict, path: Path, number: int) -> str:
    raw_id = record.get("id")
    wanted = str(raw_id).strip() if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else ""
    return wanted or f"{path.stem}-{number}"


# An HTML start or end tag: a letter after "<" or "</", no "<" or ">" inside. Linear: each
# attempt stops at the next "<".
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:[\s/][^<>]*)?>")


def strip_tags(text: str) -> str:
    """``text`` with anything shaped like an HTML tag removed (``Acme</script>`` -> ``Acme``)."""
    return _TAG.sub("", text) if "<" in text else text


def plain_text(text: str) -> str:
    """Text from a .txt file or a JSONL field: HTML entities decoded once, then tags removed.

    Decoding first is what keeps ``Acme&lt;/script&gt;`` from becoming raw markup.
    """
    return strip_tags(html.unescape(text)) if ("&" in text or "<" in text) else text


def web_url(value: str) -> tuple[str, str | None]:
    """``(url, None)`` for an absolute http(s) URL, else ``("", one-line reason)``.

    ``javascript:``, ``data:``, relative and malformed URLs are not kept as an article's URL.
    """
    url = value.strip()
    if not url:
        return "", None
    shown = url if len(url) <= 60 else url[:57] + "..."
    reason = f"url {shown!r} ignored: not an http(s) URL"
    if any(c.isspace() or ord(c) < 32 or c in "<>\"" for c in url):
        return "", reason
    try:
        parts = urlsplit(url)
    except ValueError:
        return "", reason
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "", reason
    return url, None
