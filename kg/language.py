"""Language identification without extra dependencies.

Each language has a profile of frequent function words (articles, pronouns, prepositions,
auxiliaries) and a few characteristic letters, read from its ``language.json`` (see
:mod:`kg.languages`). A text is scored by the share of its words
that belong to each profile. Spanish, Italian, Dutch and Portuguese have profiles too, but only
so that text in those languages is recognised as "not one we support" and reported as "und".

Names, brands and borrowed words ("E-Commerce", "Shop", "App") are not function words, so
they dilute every profile equally instead of pulling German or French text towards English.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from .languages import detection_only_profiles, language_data, supported_languages

UNDETERMINED = "und"


@lru_cache(maxsize=None)
def profiles(extra_folders: tuple[str, ...] = ()) -> dict[str, tuple[frozenset[str], frozenset[str], tuple[re.Pattern[str], ...]]]:
    """Language -> (function words, hint letters, hint patterns): every language folder's
    ``language.json`` plus the detection-only profiles (recognised so that they can be
    rejected as "und")."""
    out = {code: (words, frozenset(letters), ()) for code, (words, letters) in detection_only_profiles().items()}
    for code, data in language_data(extra=extra_folders).items():
        out[code] = (data.function_words, frozenset(data.hint_letters), data.hint_patterns)
    return out


@lru_cache(maxsize=None)
def supported(extra_folders: tuple[str, ...] = ()) -> tuple[str, ...]:
    return supported_languages(extra=extra_folders)


HINT_WEIGHT = 0.5

MIN_WORDS = 4  # fewer words than this: too short to decide
MIN_SHARE = 0.12  # best language must explain at least this share of the words
MIN_HITS = 2.0  # and at least this many function-word hits (plus hints)

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
# A word, optionally keeping an elision apostrophe: "d'Amazon" -> "d'", "amazon".
_WORD = re.compile(r"[^\W\d_]+'?")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.translate(_APOSTROPHES).casefold())


def language_scores(text: str) -> dict[str, float]:
    """Share of the words of ``text`` explained by each profile (function words plus hints).

    Keys are every profiled language, including the detection-only ones; values are in [0, 1].
    """
    words = _words(text)
    if not words:
        return {lang: 0.0 for lang in profiles()}
    hits = _raw_hits(words, text)
    return {lang: min(1.0, value / len(words)) for lang, value in hits.items()}


def _raw_hits(words: list[str], text: str, extra_folders: tuple[str, ...] = ()) -> dict[str, float]:
    counts = Counter(words)  # each distinct word checked once per profile, not each occurrence
    plain = text.translate(_APOSTROPHES)
    hits: dict[str, float] = {}
    for lang, (vocabulary, letters, patterns) in profiles(extra_folders).items():
        count = float(sum(n for w, n in counts.items() if w in vocabulary))
        count += HINT_WEIGHT * sum(len(p.findall(plain)) for p in patterns)
        if letters:
            count += HINT_WEIGHT * sum(n for w, n in counts.items() if not letters.isdisjoint(w))
        hits[lang] = count
    return hits


def detect_language(text: str, extra_folders: tuple[str, ...] = ()) -> tuple[str, float]:
    """Guess whether ``text`` is English, French or German.

    Returns ``(lang, score)`` with ``lang`` a supported language (one with a rule folder) or
    "und". ``score`` is the
    confidence in that verdict, in [0, 1]: the winning profile's share of the words, scaled by
    its margin over the runner-up. "und" is returned with score 0.0 when the text is too short
    or no profile explains enough of it, and with the other language's confidence when the text
    is clearly in a language kg does not support (Spanish, Italian, Dutch, Portuguese).
    """
    words = _words(text)
    if len(words) < MIN_WORDS:
        return UNDETERMINED, 0.0
    hits = _raw_hits(words, text, extra_folders)
    ranked = sorted(hits.items(), key=lambda item: (-item[1], item[0]))
    (best, best_hits), (_, second_hits) = ranked[0], ranked[1]
    share = best_hits / len(words)
    if best_hits < MIN_HITS or share < MIN_SHARE:
        return UNDETERMINED, 0.0
    margin = (best_hits - second_hits) / best_hits
    # Full confidence once a third of the words are function words and the margin is wide.
    confidence = round(min(1.0, share / 0.33) * min(1.0, 0.3 + margin), 3)
    if best not in supported(extra_folders):
        return UNDETERMINED, confidence
    if best_hits == second_hits:
        return UNDETERMINED, 0.0
    return best, confidence
