"""Typography normalised before NLP, with a map back to the original text.

Web news mixes typographic apostrophes and quotes (’ ‘ ‚ “ ” „), no-break and thin spaces,
soft hyphens and zero-width characters with their plain forms; tokenizers and rule patterns see
"O’s" and "O's", "Jean‑Marc" and "Jean-Marc" as different things. :func:`normalise` returns the
plain text the per-article stages read and, when anything changed, the offset of every
character of it in the original text, so evidence and mention offsets still point into the
article as written (and evidence is quoted from it).
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


def normalise(text: str) -> tuple[str, list[int] | None]:
    """(plain text, index) where ``index[i]`` is the original offset of plain character i and
    ``index[len(plain)] == len(text)``; index is None when nothing changed."""
    if not _ANY.search(text):
        return text, None
    plain, index = [], []
    for i, char in enumerate(text):
        if char in _DROPPED:
            continue
        plain.append(char)
        index.append(i)
    index.append(len(text))
    return "".join(plain).translate(_SAME_LENGTH), index
