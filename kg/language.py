"""Language identification for en, fr and de without extra dependencies.

Each language has a profile of frequent function words (articles, pronouns, prepositions,
auxiliaries) and a few characteristic letters. A text is scored by the share of its words
that belong to each profile. Spanish, Italian, Dutch and Portuguese have profiles too, but only
so that text in those languages is recognised as "not one we support" and reported as "und".

Names, brands and borrowed words ("E-Commerce", "Shop", "App") are not function words, so
they dilute every profile equally instead of pulling German or French text towards English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

SUPPORTED = ("en", "fr", "de")
UNDETERMINED = "und"

# Function words per language. Shared words ("in", "die", "de") may appear in several lists;
# they count for each, so only the distinctive words decide.
FUNCTION_WORDS: Mapping[str, frozenset[str]] = {
    "en": frozenset(
        """
        the a an and or but of to in on at by for from with without about into over after
        before between under than as is are was were be been being am has have had do does did
        will would shall should can could may might must not no it its this that these
        those there their they them he him his she her hers we our us you your i me my who whom
        which what when where why how also just only more most very so such than then said says
        while because if all any some each both other new up out over against during since
        until whose one two
        """.split()
    ),
    "fr": frozenset(
        """
        le la les l' un une des du de d' et ou mais donc car ni que qu' qui quoi dont où
        ce cet cette ces c' il ils elle elles on nous vous je j' me m' te t' se s' lui leur
        leurs son sa ses mon ma mes notre nos votre vos est sont était étaient été être avoir
        a ont avait avaient aura sera fait pas ne n' plus moins très aussi déjà encore
        dans en sur sous pour par avec sans chez vers entre depuis pendant selon contre
        au aux lorsque lorsqu' puisque puisqu' jusqu' quand comme si tout tous toute toutes
        cela ça ceci celui celle ceux y alors ainsi après avant
        """.split()
    ),
    "de": frozenset(
        """
        der die das den dem des ein eine einen einem einer eines und oder aber doch denn
        nicht kein keine keinen ist sind war waren wird werden wurde wurden worden hat haben
        hatte hatten sein seine seinen seiner ihre ihren ihrer ihm ihn ihr es er sie wir
        ich du man sich zu zum zur mit von vom auf für bei beim nach aus im am an ans ins
        um über unter vor hinter zwischen durch gegen ohne seit als wie auch noch nur schon
        jetzt bereits sehr mehr dass daß wenn weil ob so dieser diese dieses diesem diesen
        kann können soll sollen muss müssen will wollen wo was wer auch dort hier bis
        """.split()
    ),
    # Detection-only profiles: recognised so they can be rejected as "und".
    "es": frozenset(
        """
        el la los las un una unos unas y o pero de del al en con por para sin sobre entre
        que quien cual cuando donde como es son fue eran ser está están estaba ha han había
        no se su sus lo le les nos mi tu muy más también ya este esta estos estas ese esa
        hasta desde según porque aunque todo todos
        """.split()
    ),
    "it": frozenset(
        """
        il lo la i gli le un uno una un' l' di del dello della dei degli delle dell' a al
        allo alla ai agli alle all' da dal dalla in nel nello nella nei nelle nell' con su
        sul sulla per tra fra e ed o ma che chi cui non è sono era erano essere ha hanno
        aveva si ci anche più molto questo questa questi quello quella come quando dove
        perché se già ancora
        """.split()
    ),
    "nl": frozenset(
        """
        de het een en of maar van in op te aan met voor door bij naar uit over om tot
        dat die dit deze wat wie waar hoe is zijn was waren wordt worden werd heeft hebben
        had niet geen ook nog al wel er hij zij ze wij we jij u ik hun haar zich als dan
        zo maar meer zeer omdat want tegen zonder onder tussen
        """.split()
    ),
    "pt": frozenset(
        """
        o a os as um uma uns umas e ou mas de do da dos das em no na nos nas ao aos com
        por para pelo pela sem sobre que quem qual quando onde como é são foi eram ser
        está estão estava tem têm não se seu sua seus suas lhe muito mais também já este
        esta isso isto esse essa até desde porque
        """.split()
    ),
}

# Letters that point to a language; each word containing one adds HINT_WEIGHT to the score.
HINT_LETTERS: Mapping[str, str] = {
    "de": "äöüß",
    "fr": "éèêàçœâîôûëïù",
    "es": "ñáíóú¿¡",
    "it": "ìòù",
    "pt": "ãõç",
}
HINT_WEIGHT = 0.5
# English possessive "’s" after a word (TikTok’s) is a hint for English.
_EN_POSSESSIVE = re.compile(r"\w['’]s\b")

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
        return {lang: 0.0 for lang in FUNCTION_WORDS}
    hits = _raw_hits(words, text)
    return {lang: min(1.0, value / len(words)) for lang, value in hits.items()}


def _raw_hits(words: list[str], text: str) -> dict[str, float]:
    hits: dict[str, float] = {}
    for lang, vocabulary in FUNCTION_WORDS.items():
        count = float(sum(1 for w in words if w in vocabulary))
        letters = HINT_LETTERS.get(lang, "")
        if letters:
            count += HINT_WEIGHT * sum(1 for w in words if any(c in letters for c in w))
        hits[lang] = count
    hits["en"] += HINT_WEIGHT * len(_EN_POSSESSIVE.findall(text.translate(_APOSTROPHES)))
    return hits


def detect_language(text: str) -> tuple[str, float]:
    """Guess whether ``text`` is English, French or German.

    Returns ``(lang, score)`` with ``lang`` one of "en", "fr", "de" or "und". ``score`` is the
    confidence in that verdict, in [0, 1]: the winning profile's share of the words, scaled by
    its margin over the runner-up. "und" is returned with score 0.0 when the text is too short
    or no profile explains enough of it, and with the other language's confidence when the text
    is clearly in a language kg does not support (Spanish, Italian, Dutch, Portuguese).
    """
    words = _words(text)
    if len(words) < MIN_WORDS:
        return UNDETERMINED, 0.0
    hits = _raw_hits(words, text)
    ranked = sorted(hits.items(), key=lambda item: (-item[1], item[0]))
    (best, best_hits), (_, second_hits) = ranked[0], ranked[1]
    share = best_hits / len(words)
    if best_hits < MIN_HITS or share < MIN_SHARE:
        return UNDETERMINED, 0.0
    margin = (best_hits - second_hits) / best_hits
    # Full confidence once a third of the words are function words and the margin is wide.
    confidence = round(min(1.0, share / 0.33) * min(1.0, 0.3 + margin), 3)
    if best not in SUPPORTED:
        return UNDETERMINED, confidence
    if best_hits == second_hits:
        return UNDETERMINED, 0.0
    return best, confidence
