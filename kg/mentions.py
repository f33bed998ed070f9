"""Finding and typing names (Person / Organization / Place) in a parsed article.

spaCy's NER labels are mapped onto kg's three types and corrected by context; the German
fallback, which has no NER, finds names from HanTa's proper-noun tags. Both then apply the same
evidence, strongest first: legal-form suffixes, the place gazetteer, types already seen in this
build, first names, cue words before the name ("Konzern", "société", "rival") or hyphen heads
after it ("-Mutter", "-Chef", "-Büro"), and job titles before a name. A name with no evidence
stays ``Unknown`` and may be typed later by the rule that uses it.

The result is written into ``doc.ents`` and every name is merged into one token, so relation
patterns can treat a name as a single token with ``ENT_TYPE`` set.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from .names import fold
from .resources import RULES_DIR
from .rules import UNKNOWN, Lexicon

_LABELS = {
    "PERSON": "Person", "PER": "Person",
    "ORG": "Organization",
    "GPE": "Place", "LOC": "Place",
    "MISC": UNKNOWN, "PRODUCT": UNKNOWN, "NORP": None, "FAC": UNKNOWN, "WORK_OF_ART": None,
    "EVENT": None,
}
_DETERMINERS = {"the", "a", "an", "le", "la", "les", "l'", "l’", "der", "die", "das", "des", "dem", "den"}
_NAME_TAGS = {"NE", "FM"}
_MAX_NAME_TOKENS = 6


@dataclass(frozen=True)
class Gazetteer:
    """General-knowledge lists shared by all languages (``kg/rules/common/``)."""

    places: dict[str, str]  # folded alias -> canonical place name
    place_kinds: dict[str, str]  # canonical -> country | city | region
    place_adjectives: dict[str, dict[str, str]]  # lang -> folded adjective -> canonical place
    first_names: frozenset[str]  # folded
    legal_strong: frozenset[str]  # folded
    legal_weak: frozenset[str]

    def canonical_place(self, name: str) -> str | None:
        return self.places.get(fold(name))


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    common = RULES_DIR / "common"

    def read(name: str) -> dict:
        return json.loads((common / name).read_text(encoding="utf-8"))

    places: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for entry in read("places.json")["places"]:
        canonical = entry["name"]
        kinds[canonical] = entry.get("kind", "city")
        for alias in [canonical, *entry.get("aliases", [])]:
            places.setdefault(fold(alias), canonical)
    adjectives = {
        lang: {fold(adj): place for adj, place in table.items()}
        for lang, table in read("place_adjectives.json").items()
        if not lang.startswith("_")
    }
    legal = read("legal_forms.json")
    strong = legal.get("strong", legal.get("legal_forms", []))
    return Gazetteer(
        places=places,
        place_kinds=kinds,
        place_adjectives=adjectives,
        first_names=frozenset(fold(n) for n in read("first_names.json")["first_names"]),
        legal_strong=frozenset(fold(f) for f in strong),
        legal_weak=frozenset(fold(f) for f in legal.get("weak", [])),
    )


@dataclass
class TypeMemory:
    """Types seen so far in this build, by folded name: evidence from earlier articles."""

    votes: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def record(self, name: str, type_: str, weight: float = 1.0) -> None:
        if type_ != UNKNOWN:
            self.votes[fold(name)][type_] += weight

    def type_of(self, name: str) -> str | None:
        counts = self.votes.get(fold(name))
        if not counts:
            return None
        (best, n), *rest = counts.most_common(2) + [(None, 0)]
        return best if n > rest[0][1] else None

    def knows(self, name: str) -> bool:
        return fold(name) in self.votes


@dataclass
class _Span:
    start: int
    end: int
    type: str
    reason: str


def annotate_entities(doc, lang: str, lexicon: Lexicon, memory: TypeMemory, *, use_ner: bool) -> list[tuple[int, int, str, str]]:
    """Find and type names, set ``doc.ents`` and merge each name into one token.

    Returns ``(start_char, end_char, type, reason)`` per name, for explanations and tests.
    """
    gaz = load_gazetteer()
    spans = _ner_spans(doc, lexicon) if use_ner else _proper_noun_spans(doc, lexicon, gaz, memory)
    spans = _add_gazetteer_places(doc, spans, gaz)
    spans = _add_known_names(doc, spans, memory, lexicon)
    for span in spans:
        _type_span(doc, span, lang, lexicon, gaz, memory)
    _surname_backreferences(doc, spans)
    spans = [s for s in spans if _keep(doc, s, lexicon)]
    _set_and_merge(doc, spans)
    for ent in doc.ents:
        if ent.label_ != UNKNOWN:
            memory.record(ent.text, ent.label_, 0.5 if lang == "de" and not use_ner else 1.0)
    return [(e.start_char, e.end_char, e.label_, "") for e in doc.ents]


# -- candidate spans ---------------------------------------------------------------------------

def _ner_spans(doc, lexicon: Lexicon) -> list[_Span]:
    out = []
    for ent in doc.ents:
        label = _LABELS.get(ent.label_)
        if label is None:
            continue
        start, end = _trim(doc, ent.start, ent.end, lexicon)
        if start < end:
            out.append(_Span(start, end, label, f"ner:{ent.label_}"))
    return out


def _trim(doc, start: int, end: int, lexicon: Lexicon) -> tuple[int, int]:
    """Drop determiners, job titles and punctuation at the edges of a name."""
    titles = {w.lower() for w in lexicon["titles"]}
    while start < end and (
        doc[start].lower_ in _DETERMINERS or doc[start].lower_ in titles or doc[start].is_punct
        or doc[start].is_space or doc[start].lower_ in {"'s", "’s"}
    ):
        start += 1
    while end > start and (doc[end - 1].is_punct or doc[end - 1].is_space or doc[end - 1].lower_ in {"'s", "’s", "'"}):
        end -= 1
    return start, end


def _is_name_token(token, lexicon: Lexicon, gaz: Gazetteer, memory: TypeMemory, seen: frozenset[str] = frozenset()) -> bool:
    """Could this token be (part of) a name? Proper-noun tag, gazetteer, or seen before."""
    text = token.text
    if not text[:1].isupper() or token.is_punct:
        return False
    folded = fold(text)
    if folded in _folded(lexicon, "titles") or folded in _folded(lexicon, "not_names"):
        return False
    if token.tag_ in _NAME_TAGS:
        return True
    if folded in gaz.places or folded in gaz.legal_strong or folded in seen or memory.knows(text):
        return True
    # German genitive of a known name: "Amazons", "Tiktoks"
    stem = folded[:-1] if folded.endswith("s") else None
    return bool(stem) and (stem in seen or stem in gaz.places or memory.knows(stem))


@lru_cache(maxsize=64)
def _folded_cached(words: frozenset[str]) -> frozenset[str]:
    return frozenset(fold(w) for w in words)


def _folded(lexicon: Lexicon, name: str) -> frozenset[str]:
    return _folded_cached(lexicon[name])


def _proper_noun_spans(doc, lexicon: Lexicon, gaz: Gazetteer, memory: TypeMemory) -> list[_Span]:
    """German fallback: chunks of proper-noun tokens, joined over hyphens, with legal forms."""
    particles = {w.lower() for w in lexicon["name_particles"]}
    seen = frozenset(fold(t.text) for t in doc if t.tag_ == "NE")

    def name_like(k: int) -> bool:
        return k < n and _is_name_token(doc[k], lexicon, gaz, memory, seen)

    def glued_hyphen(k: int) -> bool:
        return doc[k].text == "-" and not doc[k - 1].whitespace_ and not doc[k].whitespace_

    out: list[_Span] = []
    i, n = 0, len(doc)
    while i < n:
        token = doc[i]
        starts_adj = (
            token.tag_.startswith("ADJ") and token.text[:1].isupper() and not token.is_sent_start
            and i + 1 < n and doc[i + 1].tag_ == "NE"
        )
        if not (name_like(i) or starts_adj):
            i += 1
            continue
        j = i + 1
        while j < n and j - i < _MAX_NAME_TOKENS:
            nxt = doc[j]
            if name_like(j):
                j += 1
            elif glued_hyphen(j) and name_like(j + 1):
                j += 2
            elif nxt.lower_ in particles and name_like(j + 1) and fold(token.text) in gaz.first_names:
                j += 2
            elif fold(nxt.text) in gaz.legal_strong or fold(nxt.text) in gaz.legal_weak:
                j += 1
            else:
                break
        # a chunk never spans a sentence start
        for k in range(i + 1, j):
            if doc[k].is_sent_start:
                j = k
                break
        out.append(_Span(i, j, UNKNOWN, "proper-noun"))
        i = j
    return out


def _overlaps(spans: list[_Span], start: int, end: int) -> bool:
    return any(s.start < end and start < s.end for s in spans)


def _add_gazetteer_places(doc, spans: list[_Span], gaz: Gazetteer) -> list[_Span]:
    """Places from the gazetteer that NER missed (or saw as part of nothing)."""
    n = len(doc)
    for i in range(n):
        if not doc[i].text[:1].isupper():
            continue
        for size in (4, 3, 2, 1):
            if i + size > n:
                continue
            span = doc[i:i + size]
            if fold(span.text) in gaz.places and not _overlaps(spans, i, i + size):
                spans.append(_Span(i, i + size, "Place", "gazetteer"))
                break
    return sorted(spans, key=lambda s: s.start)


def _add_known_names(doc, spans: list[_Span], memory: TypeMemory, lexicon: Lexicon) -> list[_Span]:
    """Names typed earlier in this build that NER missed here."""
    if not memory.votes:
        return spans
    for i, token in enumerate(doc):
        if not token.text[:1].isupper() or _overlaps(spans, i, i + 1):
            continue
        for size in (3, 2, 1):
            span = doc[i:i + size]
            if i + size <= len(doc) and not _overlaps(spans, i, i + size) and memory.type_of(span.text):
                spans.append(_Span(i, i + size, memory.type_of(span.text), "known"))
                break
    return sorted(spans, key=lambda s: s.start)


# -- typing ------------------------------------------------------------------------------------

def _type_span(doc, span: _Span, lang: str, lexicon: Lexicon, gaz: Gazetteer, memory: TypeMemory) -> None:
    text = doc[span.start:span.end].text
    tokens = doc[span.start:span.end]
    folded_last = fold(tokens[-1].text)
    if folded_last in gaz.legal_strong or (folded_last in gaz.legal_weak and len(tokens) > 1):
        span.type, span.reason = "Organization", "legal-form"
        return
    if fold(text) in gaz.places and span.type != "Person":
        span.type, span.reason = "Place", "gazetteer"
        return
    known = memory.type_of(text)
    first = fold(tokens[0].text)
    prev = _previous_word(doc, span.start)
    compound_head = _compound_head(doc, span.end)
    if compound_head and compound_head in _folded(lexicon, "org_compound_heads"):
        span.type, span.reason = "Organization", f"compound:-{compound_head}"
    elif prev and prev in _folded(lexicon, "org_cues") and span.type in (UNKNOWN, "Person", "Organization"):
        if span.type != "Organization":
            span.type, span.reason = "Organization", f"cue:{prev}"
    elif span.type != UNKNOWN and span.reason.startswith("ner"):
        if known and known != span.type and span.type != "Person":
            span.type, span.reason = known, "known"
        elif span.type == "Person" and len(tokens) == 1 and known == "Organization":
            span.type, span.reason = known, "known"
    elif known:
        span.type, span.reason = known, "known"
    elif first in gaz.first_names and len(tokens) >= 2 and all(t.text[:1].isupper() for t in tokens):
        span.type, span.reason = "Person", "first-name"
    elif prev and prev in _folded(lexicon, "person_cues") and _looks_like_person(tokens, gaz):
        span.type, span.reason = "Person", f"cue:{prev}"
    elif prev and prev in _folded(lexicon, "place_cues") and len(tokens) == 1:
        span.type, span.reason = "Place", f"cue:{prev}"


def _looks_like_person(tokens, gaz: Gazetteer) -> bool:
    if fold(tokens[0].text) in gaz.first_names:
        return True
    return 2 <= len(tokens) <= 4 and all(t.text[:1].isupper() and not t.text.isupper() for t in tokens)


def _previous_word(doc, start: int) -> str | None:
    i = start - 1
    while i >= 0 and (doc[i].is_space or doc[i].text in {"«", "„", '"', "“"}):
        i -= 1
    return fold(doc[i].text) if i >= 0 else None


def _compound_head(doc, end: int) -> str | None:
    """The noun after a hyphen glued to the name: "Tiktok-Mutter" -> "mutter"."""
    if end + 1 < len(doc) and doc[end].text == "-" and not doc[end - 1].whitespace_ and not doc[end].whitespace_:
        return fold(doc[end + 1].text)
    return None


def _surname_backreferences(doc, spans: list[_Span]) -> None:
    """A lone surname after "First Last" in the same article is that person."""
    surnames = {fold(doc[s.end - 1].text) for s in spans if s.type == "Person" and s.end - s.start >= 2}
    for span in spans:
        if span.end - span.start == 1 and span.type in (UNKNOWN, "Organization") and fold(doc[span.start].text) in surnames:
            if span.type == UNKNOWN or span.reason.startswith("ner"):
                span.type, span.reason = "Person", "surname"
    # multi-token surnames ("Le Bourgeois")
    full = [doc[s.start:s.end] for s in spans if s.type == "Person" and s.end - s.start >= 3]
    tails = {fold(p[1:].text) for p in full}
    for span in spans:
        if span.type == UNKNOWN and fold(doc[span.start:span.end].text) in tails:
            span.type, span.reason = "Person", "surname"


def _keep(doc, span: _Span, lexicon: Lexicon) -> bool:
    text = doc[span.start:span.end].text
    folded = fold(text)
    if not folded or folded in _folded(lexicon, "not_names") or folded in _folded(lexicon, "titles"):
        return False
    return any(c.isalpha() for c in text)


def _set_and_merge(doc, spans: list[_Span]) -> None:
    from spacy.tokens import Span
    from spacy.util import filter_spans

    ents = filter_spans([Span(doc, s.start, s.end, label=s.type) for s in spans if s.start < s.end])
    doc.ents = ents
    with doc.retokenize() as retokenizer:
        for ent in ents:
            if len(ent) > 1:
                retokenizer.merge(ent, attrs={"LEMMA": ent.text, "TAG": "NE", "POS": "PROPN"})
