"""Typography normalised before NLP, with a map back to the original text.

Web news mixes typographic apostrophes and quotes (’ ‘ ‚ “ ” „), no-break and thin spaces,
soft hyphens and zero-width characters with their plain forms; tokenizers and rule patterns see
"O’s" and "O's", "Jean‑Marc" and "Jean-Marc" as different things. :func:`normalise` returns the
plain text the per-article stages read and, when anything changed, the offset of every
character of it in the original text, so evidence and mention offsets still point into the
article as written (and evidence is quoted from it). Sentences glued together by a lost
paragraph break get a space between them.
"""

from __future__ import annotations

import re

# one character for one: the plain form
_SAME_LENGTH = str.maketrans({
    "\u2019": "'", "\u2018": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u2002": " ", "\u2003": " ",
    "\u2010": "-", "\u2011": "-",
})
# removed: soft hyphen, zero-width space / joiners, a stray byte-order mark
_DROPPED = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_CHANGED = "\u2019\u2018\u201a\u201b\u2032\u02bc\u201c\u201d\u201e\u201f\u2033\u00a0\u202f\u2009\u2007\u2002\u2003\u2010\u2011"
_ANY = re.compile("[" + re.escape(_CHANGED + _DROPPED) + "]")


# A sentence glued to the next one ("... limitées.Amazon aussi"): feeds that drop paragraph
# breaks leave this about five times per French article in the corpus, and the tokenizer then
# reads "limitées.Amazon" as one word (no sentence end, no name). A space goes in after the
# full stop when a lower-case letter, digit, closing bracket or quote comes before it and an
# upper-case letter after, or an opening quote and an upper-case letter ('... Xiufeng Yang."Nous
# voulions': a quotation glued on is as common as a sentence). "U.S.A" and "M.Dupont" keep
# theirs: an upper-case letter before.
# The same feeds glue their inter-titles ("... du Bénin.- Second rang -C'est"): a space goes in
# after such a full stop and after the dash that closes the title, else "Bénin.-" is one word
# and the name ends in ".-".
_GLUED = re.compile(r"(?<=[a-zß-ÿ0-9)\]\"»%'’”])[.!?](?=[\"“„«‘']?[A-ZÀ-Þ][a-zß-ÿ]|-\s)|(?<=\s)-(?=[A-ZÀ-Þ][a-zß-ÿ'’])")


def normalise(text: str) -> tuple[str, list[int] | None]:
    """(plain text, index) where ``index[i]`` is the original offset of plain character i and
    ``index[len(plain)] == len(text)``; index is None when nothing changed. An inserted space
    maps to the offset of the character after it."""
    glued = {m.end() for m in _GLUED.finditer(text)}
    if not glued and not _ANY.search(text):
        return text, None
    plain, index = [], []
    for i, char in enumerate(text):
        if i in glued:
            plain.append(" ")
            index.append(i)
        if char in _DROPPED:
            continue
        plain.append(char)
        index.append(i)
    index.append(len(text))
    return "".join(plain).translate(_SAME_LENGTH), index
