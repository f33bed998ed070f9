"""Languages are data: one folder per language, validated against one schema at load.

A language folder (``kg/rules/<iso 639-1 code>/``, or one in a folder named by the
``[rules] extra_folders`` setting) holds:

``relations.jsonl`` and ``lexicon.json``
    the relation rules and word lists (validated by :mod:`kg.rules`);
``language.json``
    what the reader and the language detector need (schema below).

A language is supported when it has such a folder and a ``[models]`` line naming its pipeline
(``blank`` is spaCy's tokenizer with a sentence splitter, for a language without a trained
pipeline). Adding a language is adding a folder and a model line: no Python changes.
``kg/rules/_template/`` is a skeleton to copy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import RuleError
from .resources import RULES_DIR

# The schema of language.json: key -> (kind, required). Kinds: "words" (list of strings),
# "letters" (a string), "patterns" (list of regular expressions, case-insensitive).
LANGUAGE_SCHEMA: dict[str, tuple[str, bool]] = {
    "function_words": ("words", True),  # articles, pronouns, prepositions: language detection
    "hint_letters": ("letters", False),  # letters that point to the language (ä, é)
    "hint_patterns": ("patterns", False),  # each match points to the language (English "’s")
    "comment_footers": ("patterns", False),  # a line that opens a comment form: cut from there
    "junk_lines": ("patterns", False),  # whole lines that are scraping junk wherever they are
}
_CODE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True)
class LanguageData:
    code: str
    function_words: frozenset[str]
    hint_letters: str = ""
    hint_patterns: tuple[re.Pattern[str], ...] = ()
    comment_footers: tuple[re.Pattern[str], ...] = ()
    junk_lines: tuple[re.Pattern[str], ...] = ()


def rule_folders(extra: Iterable[str | Path] = ()) -> dict[str, Path]:
    """Language code -> its folder: the shipped ones, then those in ``extra`` (which win)."""
    out: dict[str, Path] = {}
    for root in (RULES_DIR, *map(Path, extra)):
        if not root.is_dir():
            raise RuleError(f"rules folder not found: {root}")
        for folder in sorted(root.iterdir()):
            if _CODE.match(folder.name) and (folder / "relations.jsonl").is_file():
                out[folder.name] = folder
    return out


@lru_cache(maxsize=None)
def load_language(folder: Path) -> LanguageData:
    """Read and validate ``folder/language.json``; an unknown or misspelt key, a wrong type or a
    bad pattern fails with the file and the key named."""
    from .rules import read_json_object

    path = folder / "language.json"
    raw = read_json_object(path, "language data (every language folder needs language.json)")
    values: dict[str, object] = {}
    for key, value in raw.items():
        if key.startswith("_"):
            continue
        if key not in LANGUAGE_SCHEMA:
            raise RuleError(f"{path}: unknown key {key!r} (known: {', '.join(LANGUAGE_SCHEMA)})")
        kind, _ = LANGUAGE_SCHEMA[key]
        if kind == "letters":
            if not isinstance(value, str):
                raise RuleError(f"{path}: key {key!r} must be a string")
            values[key] = value
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RuleError(f"{path}: key {key!r} must be a list of strings")
        if kind == "words":
            values[key] = frozenset(w.casefold() for w in value)
        else:
            patterns = []
            for pattern in value:
                try:
                    patterns.append(re.compile(pattern, 0 if key == "hint_patterns" else re.IGNORECASE))
                except re.error as exc:
                    raise RuleError(f"{path}: key {key!r}: bad pattern {pattern!r}: {exc}") from exc
            values[key] = tuple(patterns)
    missing = [key for key, (_, required) in LANGUAGE_SCHEMA.items() if required and key not in values]
    if missing:
        raise RuleError(f"{path}: missing keys {', '.join(missing)}")
    return LanguageData(code=folder.name, **values)  # type: ignore[arg-type]


def supported_languages(models: dict[str, tuple[str, ...]] | None = None, extra: Iterable[str | Path] = ()) -> tuple[str, ...]:
    """Languages with a rule folder and (when ``models`` is given) a configured pipeline."""
    folders = rule_folders(extra)
    return tuple(sorted(code for code in folders if models is None or code in models))


def language_data(codes: Iterable[str] | None = None, extra: Iterable[str | Path] = ()) -> dict[str, LanguageData]:
    folders = rule_folders(tuple(extra))
    return {code: load_language(folder) for code, folder in folders.items() if codes is None or code in codes}


@lru_cache(maxsize=1)
def detection_only_profiles() -> dict[str, tuple[frozenset[str], str]]:
    """Profiles of languages kg recognises only to reject them (Spanish, Italian, ...)."""
    raw = json.loads((RULES_DIR / "common" / "detection_profiles.json").read_text(encoding="utf-8"))
    return {
        code: (frozenset(w.casefold() for w in p["function_words"]), p.get("hint_letters", ""))
        for code, p in raw["profiles"].items()
    }
