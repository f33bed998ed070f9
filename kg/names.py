"""Name normalisation shared by resolution, IRIs and evaluation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212"})
_SPACE = re.compile(r"\s+")
# English possessive, French elided "d'"/"l'" prefixes.
_POSSESSIVE = re.compile(r"(?:'s|s'|')$")
_ELISION = re.compile(r"^(?:d|l|qu|j|n|s|c)'", re.IGNORECASE)


def clean_surface(text: str) -> str:
    """Tidy a surface string: unify apostrophes/dashes, collapse white space, trim punctuation."""
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES).translate(_DASHES)
    text = _SPACE.sub(" ", text).strip()
    return text.strip(" \t\"'«»„“”‚‘,;:.!?()[]{}")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ß", "ss")


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Case- and accent-insensitive comparison key; drops elisions and English possessives.
    Pure and called for every mention many times over: cached."""
    text = clean_surface(text)
    text = _ELISION.sub("", text)
    text = _POSSESSIVE.sub("", text)
    return _SPACE.sub(" ", strip_accents(text).casefold()).strip()


def slug(text: str) -> str:
    """An IRI-safe path segment: ASCII letters, digits and '-' only; never empty."""
    folded = fold(text)
    out = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    if out:
        return out
    # Names with no Latin letters (CJK, Arabic, ...): percent-free stable code points.
    codes = "-".join(f"{ord(c):x}" for c in folded if not c.isspace())
    return "u" + codes if codes else "unnamed"


_LEADING_ELISION = re.compile(r"^(?:d|l|qu)'(?=[A-ZÀ-Ý0-9])")  # lower case: "d'Amazon", not "L'Oréal"


def display_form(text: str) -> str:
    """A surface name without a French elided preposition: "d'Amazon" -> "Amazon"."""
    return _LEADING_ELISION.sub("", clean_surface(text)) or text
