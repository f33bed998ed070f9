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
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping

from .names import fold
from .resources import RULES_DIR
from .rules import REFERENCE, UNKNOWN, Lexicon, base_type
from .types import Mention, TypeVote

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

    places_folded: dict[str, str]  # folded alias -> canonical place name
    places_exact: dict[str, str]  # short upper-case codes (US, LA, UK): matched case-sensitively
    place_kinds: dict[str, str]  # canonical -> country | city | region
    place_adjectives: dict[str, dict[str, str]]  # lang -> folded adjective -> canonical place
    first_names: frozenset[str]  # folded
    legal_strong: frozenset[str]  # exact forms: "SA" is a legal form, French "sa" is not
    legal_weak: frozenset[str]
    first_pieces: frozenset[str] = frozenset()  # first word piece of every place form, folded

    def may_start_place(self, word: str) -> bool:
        """Can a place name begin with this word? A cheap test before the spans are tried."""
        return _first_piece(fold(word)) in self.first_pieces

    def place(self, text: str) -> str | None:
        """Canonical place name for a surface form, or None."""
        text = text.strip()
        return self.places_exact.get(text) or self.places_folded.get(fold(text))

    def legal(self, word: str) -> str | None:
        """"strong" for registered legal forms (AG, GmbH, Inc.), "weak" (Group, Holding), else None."""
        if word in self.legal_strong or word.rstrip(".") in self.legal_strong:
            return "strong"
        if word in self.legal_weak:
            return "weak"
        return None


_PIECE = re.compile(r"[^\W_]+")


def glued_hyphen(doc, k: int) -> bool:
    """Is ``doc[k]`` a hyphen inside one word ("Tiktok-Mutter", "GPA-djp-Chef"), no space on
    either side? The tokenizers split such compounds at their hyphens."""
    return 1 <= k < len(doc) and doc[k].text == "-" and not doc[k - 1].whitespace_ and not doc[k].whitespace_


def _first_piece(folded: str) -> str:
    found = _PIECE.search(folded)
    return found.group(0) if found else folded


def _is_code(alias: str) -> bool:
    letters = alias.replace(".", "")
    return len(letters) <= 3 and letters.isupper()


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    common = RULES_DIR / "common"

    def read(name: str) -> dict:
        return json.loads((common / name).read_text(encoding="utf-8"))

    folded: dict[str, str] = {}
    exact: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for entry in read("places.json")["places"]:
        canonical = entry["name"]
        kinds[canonical] = entry.get("kind", "city")
        for alias in [canonical, *entry.get("aliases", [])]:
            if _is_code(alias):
                exact.setdefault(alias, canonical)
            else:
                folded.setdefault(fold(alias), canonical)
    adjectives = {
        lang: {fold(adj): place for adj, place in table.items()}
        for lang, table in read("place_adjectives.json").items()
        if isinstance(table, dict)
    }
    legal = read("legal_forms.json")
    return Gazetteer(
        places_folded=folded,
        places_exact=exact,
        place_kinds=kinds,
        place_adjectives=adjectives,
        first_names=frozenset(fold(n) for n in read("first_names.json")["first_names"]),
        legal_strong=frozenset(legal.get("strong", [])),
        legal_weak=frozenset(legal.get("weak", [])),
        first_pieces=frozenset(_first_piece(fold(form)) for form in [*folded, *exact]),
    )


@dataclass(frozen=True)
class TypeHints:
    """Frozen name -> type evidence from outside the article (a documented second pass feeds
    the types voted in a first pass over the corpus). Empty by default: an article is then
    annotated from its own text alone, whatever else is in the build."""

    types: Mapping[str, str] = field(default_factory=dict)  # folded name -> type

    @classmethod
    def from_votes(cls, votes: Iterable[TypeVote]) -> "TypeHints":
        return cls(types=vote_types(votes))

    def type_of(self, name: str) -> str | None:
        return self.types.get(fold(name))

    def knows(self, name: str) -> bool:
        return fold(name) in self.types


NO_HINTS = TypeHints()


def vote_types(votes: Iterable[TypeVote]) -> dict[str, str]:
    """The reduce step over type votes: per folded name, the type with the most weight when
    it clearly leads (a tie types nothing). Independent of the order of the votes."""
    tally: dict[str, Counter] = defaultdict(Counter)
    for vote in votes:
        tally[fold(vote.name)][vote.type] += vote.weight
    out = {}
    for name, counts in tally.items():
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            out[name] = ranked[0][0]
    return out


@dataclass
class _Span:
    start: int
    end: int
    type: str
    reason: str


@dataclass(frozen=True)
class Annotated:
    """The mention stage's output for one article: the Doc with every name merged into one
    token and typed in ``doc.ents`` (the Doc stays inside the extraction stage), the mentions
    with their references, and the type votes the article casts for the build's reduce step."""

    doc: object  # spacy.tokens.Doc
    mentions: tuple[Mention, ...]
    type_votes: tuple[TypeVote, ...]

    def mention_at(self, token) -> Mention | None:
        """The mention a (merged) name token stands for."""
        return self._by_start.get(token.idx)

    @property
    def _by_start(self) -> dict[int, Mention]:
        index = self.__dict__.get("_index")
        if index is None:
            index = {m.start: m for m in self.mentions}
            object.__setattr__(self, "_index", index)
        return index


def annotate_entities(doc, lang: str, lexicon: Lexicon, hints: TypeHints = NO_HINTS, *, use_ner: bool) -> Annotated:
    """Find and type names, set ``doc.ents`` and merge each name into one token; references
    (a city adjective standing for its city, "the company" for the article's main company)
    become mentions that carry the name they refer to."""
    gaz = load_gazetteer()
    # German pipelines carry HanTa's STTS tags; a pipeline without NER reads capitalisation alone
    spans = _proper_noun_spans(doc, lexicon, gaz, hints, stts=lang == "de" or not use_ner)
    ner = _ner_spans(doc, lexicon) if use_ner else []
    if use_ner and lang == "de":  # kg's German name rules first; NER adds the names they miss
        ner = _german_ner_candidates(doc, ner, gaz)
        spans = sorted(spans + [s for s in ner if not _overlaps(spans, s.start, s.end)], key=lambda s: s.start)
    elif use_ner:  # NER first; proper-noun chunks only where NER saw nothing
        spans = ner + [s for s in spans if not _overlaps(ner, s.start, s.end)]
    spans = _drop_title_compounds(doc, spans, lexicon, gaz)
    spans = _split_run_together(doc, spans, lexicon, gaz)
    spans = _org_name_tails(doc, spans, lexicon)
    spans = _institution_compounds(doc, spans, lexicon, gaz)
    spans = _title_compound_employers(doc, spans, lexicon, gaz)
    spans = _add_gazetteer_places(doc, spans, gaz)
    spans = _add_known_names(doc, spans, hints)
    spans = _institution_names(doc, spans, lexicon)
    for span in spans:
        _type_span(doc, span, lang, lexicon, gaz, hints)
    spans = _national_units(doc, spans, gaz)
    _one_type_per_name(doc, spans)
    spans = _spread_names(doc, spans)
    _surname_backreferences(doc, spans)
    if lang == "de":  # last: every rule-based type comes first
        _type_by_ner(spans, ner)
        _surname_backreferences(doc, spans)  # full names typed by NER just now type their surnames
    spans = [s for s in spans if _keep(doc, s, lexicon)]
    _set_and_merge(doc, spans)
    references = _place_adjectives(doc, lang, gaz)
    references += _coreference(doc, lexicon, references)
    if references:
        doc.ents = sorted(list(doc.ents) + [span for span, _ in references], key=lambda span: span.start)
    refs = {span.start_char: ref for span, ref in references}
    mentions = []
    votes = []
    weight = 0.5 if lang == "de" else 1.0
    for ent in doc.ents:
        ref = refs.get(ent.start_char)
        mentions.append(Mention(
            text=ent.text, type=base_type(ent.label_), start=ent.start_char, end=ent.end_char,
            refers_to=ref[0] if ref else "", weight=ref[1] if ref else 1.0,
            ref_start=ref[2] if ref and len(ref) > 2 else -1,
        ))
        if ent.label_ != UNKNOWN and ref is None:
            votes.append(TypeVote(ent.text, ent.label_, weight))
    return Annotated(doc=doc, mentions=tuple(mentions), type_votes=tuple(votes))


def _german_ner_candidates(doc, ner: list[_Span], gaz: Gazetteer) -> list[_Span]:
    """German NER entities as extra name candidates, without adjectives: kg reads place
    adjectives itself ("Münchner" -> Munich), so an entity starting with one loses it, and one
    that is then a lone common noun ("Münchner Start-up") or only adjectives ("deutschen") goes."""
    table = gaz.place_adjectives.get("de", {})
    out = []
    for span in ner:
        start = span.start
        while start < span.end and fold(doc[start].text) in table:
            start += 1
        tokens = doc[start:span.end]
        if not len(tokens) or all(t.tag_.startswith("ADJ") for t in tokens):
            continue
        if start > span.start and len(tokens) == 1 and tokens[0].tag_ == "NN":
            continue
        out.append(_Span(start, span.end, span.type, span.reason))
    return out


def _type_by_ner(spans: list[_Span], ner: list[_Span]) -> None:
    """A German name the rules found but could not type takes the type of the NER entity over
    it, when that is one type and, for a lone word, not a person (a surname is typed by its full
    name) nor a place (places come from the gazetteer): as for NER names in _type_span."""
    for span in spans:
        if span.type != UNKNOWN or span.reason != "proper-noun":
            continue
        types = {n.type for n in ner if n.start < span.end and span.start < n.end}
        if len(types) != 1 or UNKNOWN in types:
            continue
        if span.end - span.start == 1 and types & {"Person", "Place"}:
            continue
        span.type, span.reason = types.pop(), "ner:type"


# -- candidate spans ---------------------------------------------------------------------------

def _ner_spans(doc, lexicon: Lexicon) -> list[_Span]:
    out = []
    for ent in doc.ents:
        label = _LABELS.get(ent.label_)
        if label is None:
            continue
        pieces = [(ent.start, ent.end)]
        if label == "Place":  # "the Czech Republic, South Africa": NER ran two places together
            cuts = [t.i for t in ent if t.text == ","]
            bounds = [ent.start] + [c + 1 for c in cuts]
            pieces = list(zip(bounds, cuts + [ent.end]))
        for piece_start, piece_end in pieces:
            start, end = _trim(doc, piece_start, piece_end, lexicon)
            if start < end and end < len(doc) and load_gazetteer().legal(doc[end].text) == "strong":
                end += 1  # "Schneider Electric" + "SE"
            if start < end:
                out.append(_Span(start, end, label, f"ner:{ent.label_}"))
    return out


def _trim(doc, start: int, end: int, lexicon: Lexicon) -> tuple[int, int]:
    """Drop determiners, job titles and punctuation at the edges of a name."""
    titles = lexicon.lowered("titles")
    def plain_lower(token) -> bool:  # "de", "ligne" — but not "eBay"
        return token.text[:1].islower() and not any(c.isupper() for c in token.text[1:])

    while start < end and (
        (doc[start].lower_ in _DETERMINERS and doc[start].text[:1].islower()) or doc[start].lower_ in titles
        or doc[start].is_punct
        or doc[start].is_space or doc[start].lower_ in {"'s", "’s"} or (end - start > 1 and plain_lower(doc[start]))
    ):
        start += 1
    if start < end and doc[start].lower_ in lexicon.lowered("institution_heads"):
        # "Union des journalistes de Lagos", "Académie chinoise des sciences": an institution's
        # name goes on in lower case; only linking words and punctuation end it
        linkers = lexicon.lowered("name_linkers")
        if end < len(doc) and doc[end - 1].lower_ in linkers and doc[end].text[:1].isupper() and not doc[end].is_punct:
            end += 1  # NER stopped before the place: "... des journalistes de | Lagos"
        institutions = lexicon.lowered("institution_nouns") | lexicon.lowered("institution_heads")
        for k in range(start + 2, end):  # "Institut de pharmacie | de la prestigieuse université Tsinghua":
            if doc[k].lower_ in institutions:  # a second institution is another name
                cut = _lead_in(doc, k, start + 1, linkers)
                if cut < k and doc[cut].lower_ in linkers:
                    end = cut
                    break
        while end > start + 1 and (doc[end - 1].is_punct or doc[end - 1].is_space or doc[end - 1].lower_ in linkers):
            end -= 1
        return start, end
    while end > start and (
        doc[end - 1].is_punct or doc[end - 1].is_space or doc[end - 1].lower_ in {"'s", "’s", "'"}
        or (end - start > 1 and plain_lower(doc[end - 1]))
    ):
        end -= 1
    if start < end and all(plain_lower(t) and (t.is_stop or t.lower_ in _DETERMINERS) for t in doc[start:end]):
        return start, start  # "université de" with the name left out: "de" is no name ("franceinfo" is)
    return start, end


def _lead_in(doc, k: int, floor: int, linkers: frozenset[str]) -> int:
    """Where the linking words and adjectives that lead up to token k begin (not before
    ``floor``): "... | de la prestigieuse | université"."""
    while k > floor and (doc[k - 1].lower_ in linkers or doc[k - 1].pos_ == "ADJ"):
        k -= 1
    return k


def _is_name_token(token, lexicon: Lexicon, gaz: Gazetteer, hints: TypeHints, seen: frozenset[str] = frozenset()) -> bool:
    """Could this token be (part of) a name? Proper-noun tag, gazetteer, or seen before."""
    text = token.text
    if not text[:1].isupper() or token.is_punct:
        return False
    folded = fold(text)
    if folded in _folded(lexicon, "titles") or folded in _folded(lexicon, "not_names"):
        return False
    if token.tag_ in _NAME_TAGS or token.pos_ == "PROPN":
        return True
    if gaz.place(text) or gaz.legal(text) == "strong" or folded in seen or hints.knows(text):
        return True
    # German genitive of a known name: "Amazons", "Tiktoks"
    stem = folded[:-1] if folded.endswith("s") else None
    return bool(stem) and (stem in seen or gaz.place(text[:-1]) is not None or hints.knows(stem))


@lru_cache(maxsize=64)
def _folded_cached(words: frozenset[str]) -> frozenset[str]:
    return frozenset(fold(w) for w in words)


def _folded(lexicon: Lexicon, name: str) -> frozenset[str]:
    return _folded_cached(lexicon[name])


def _proper_noun_spans(doc, lexicon: Lexicon, gaz: Gazetteer, hints: TypeHints, *, stts: bool) -> list[_Span]:
    """Chunks of proper-noun tokens, joined over hyphens, with legal forms.

    With German STTS tags (the fallback, ``stts``), a capitalised word inside a sentence that
    the tagger did not take for a noun ("Google" read as the verb googeln) is a name too, and
    so is a capitalised noun right after a company cue ("die Google-Mutter Alphabet").
    """
    particles = lexicon.lowered("name_particles")
    seen = frozenset(fold(t.text) for t in doc if t.tag_ == "NE" or t.pos_ == "PROPN")
    adjectives = gaz.place_adjectives.get("de", {}) if stts else {}
    org_cues = _folded(lexicon, "org_cues")

    def name_like(k: int) -> bool:
        if k >= n:
            return False
        token = doc[k]
        if stts and k + 1 < n and fold(doc[k + 1].text) in gaz.first_names \
                and _title_compound(token.lower_, lexicon) and not hints.knows(token.text):
            return False  # "SPÖ-Bautensprecherin Ruth Becher": a title before a name is none of it
        if _is_name_token(token, lexicon, gaz, hints, seen):
            return True
        if not stts or not token.text[:1].isupper() or token.is_punct:
            return False
        folded = fold(token.text)
        if folded in gaz.first_names and k + 1 < n and doc[k + 1].text[:1].isupper() and doc[k + 1].tag_ != "ART":
            return True
        if k + 1 < n and gaz.legal(doc[k + 1].text) == "strong" and not token.tag_.startswith(("ART", "$")):
            return True  # "Beiersdorf AG": a registered legal form follows company names only
        if k > 0 and fold(doc[k - 1].text) in _folded(lexicon, "honorifics") and folded not in _folded(lexicon, "titles"):
            return True  # "Frau Brandstätter", even when the tagger read an adjective
        if token.is_sent_start:
            return False
        if folded in adjectives or folded in _folded(lexicon, "titles") or folded in _folded(lexicon, "not_names"):
            return False
        if not token.tag_.startswith(("NN", "ADJ", "ART", "CARD", "$", "TRUNC", "PPER", "PPOS", "PDS", "PIS")):
            return True  # German capitalises nouns and names only
        return token.tag_.startswith("NN") and _previous_word(doc, k, _folded(lexicon, "cue_compounds")) in org_cues

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
            elif j == i + 1 and fold(token.text) in gaz.first_names and nxt.text[:1].isupper() \
                    and not nxt.is_punct and fold(nxt.text) not in _folded(lexicon, "titles"):
                j += 1  # "Benedikt Ruhland": the surname the tagger took for a noun
            elif glued_hyphen(doc, j) and name_like(j + 1):
                j += 2
            elif nxt.lower_ in particles and name_like(j + 1) and fold(token.text) in gaz.first_names:
                j += 2
            elif gaz.legal(nxt.text):
                j += 1
            else:
                break
        # a chunk never spans a sentence start (one after punctuation or a line break: parsers
        # sometimes start a "sentence" inside a name)
        for k in range(i + 1, j):
            before = doc[k - 1]
            if doc[k].is_sent_start and (before.is_punct or before.is_space or "\n" in before.whitespace_):
                j = k
                break
        out.append(_Span(i, j, UNKNOWN, "proper-noun"))
        i = j
    return out


def _title_compound(word: str, lexicon: Lexicon) -> bool:
    """A lower-case word that is a job title or a compound ending in one ("bautensprecherin",
    "generalsekretär"), by the titles and title heads of four letters or more."""
    def compute() -> bool:
        heads = _long_title_heads(lexicon)
        return any(word == h or word.endswith(h) and len(word) > len(h) + 1 for h in heads)

    return lexicon.derived(("title_compound", word), compute)


def _long_title_heads(lexicon: Lexicon) -> tuple[str, ...]:
    def compute() -> tuple[str, ...]:
        words = lexicon.lowered("titles") | frozenset(w.lower() for w in lexicon.lists.get("title_heads", ()))
        return tuple(sorted(w for w in words if len(w) >= 4 and w.isalpha()))

    return lexicon.derived(("long_title_heads",), compute)


def _overlaps(spans: list[_Span], start: int, end: int) -> bool:
    return any(s.start < end and start < s.end for s in spans)


def _add_gazetteer_places(doc, spans: list[_Span], gaz: Gazetteer) -> list[_Span]:
    """Places from the gazetteer that NER missed (or saw as part of nothing)."""
    n = len(doc)
    for i in range(n):
        word = doc[i].text
        if not word[:1].isupper() or not gaz.may_start_place(word):
            continue
        for size in (4, 3, 2, 1):
            if i + size > n:
                continue
            span = doc[i:i + size]
            if gaz.place(span.text) and not _overlaps(spans, i, i + size):
                spans.append(_Span(i, i + size, "Place", "gazetteer"))
                break
    return sorted(spans, key=lambda s: s.start)


def _add_known_names(doc, spans: list[_Span], hints: TypeHints) -> list[_Span]:
    """Names typed earlier in this build that NER missed here."""
    if not hints.types:
        return spans
    for i, token in enumerate(doc):
        if not token.text[:1].isupper() or _overlaps(spans, i, i + 1):
            continue
        for size in (3, 2, 1):
            if i + size > len(doc) or _overlaps(spans, i, i + size):
                continue
            known = hints.type_of(doc[i:i + size].text)
            if known:
                spans.append(_Span(i, i + size, known, "known"))
                break
    return sorted(spans, key=lambda s: s.start)


def _institution_compounds(doc, spans: list[_Span], lexicon: Lexicon, gaz: Gazetteer) -> list[_Span]:
    """German institutions named by a compound common noun: "im Finanzministerium", "der
    Arbeiterkammer", "die Staatsanwaltschaft Wien" (with the place after it). A compound, not
    the bare head ("ein Ministerium"), and not after an indefinite article."""
    suffixes = tuple(sorted(lexicon.lowered("institution_suffixes"), key=len, reverse=True))
    if not suffixes:
        return spans
    by_start = {s.start: s for s in spans}
    added = []
    for token in doc:
        word = token.lower_
        if not token.text[:1].isupper() or not word.endswith(suffixes) or not token.is_alpha and "-" not in word:
            continue
        suffix = next(x for x in suffixes if word.endswith(x))
        i = token.i
        # "US-Botschaft": a name glued to it makes the bare head a compound
        glued = i >= 2 and glued_hyphen(doc, i - 1) and any(s.end == i - 1 for s in spans)
        if len(word) <= len(suffix) + 2 and not glued or _overlaps(spans, token.i, token.i + 1):
            continue
        if token.i > 0 and doc[token.i - 1].lower_ in lexicon.lowered("indefinite_articles"):
            continue
        start, end = token.i, token.i + 1
        after = by_start.get(end)
        if end < len(doc) and gaz.place(doc[end].text) and (after is None or after.end == end + 1):
            end += 1  # "Staatsanwaltschaft Wien"
            spans = [s for s in spans if s is not after]
        elif after is not None or end < len(doc) and doc[end].tag_ == "NE":
            continue  # "der Mediaagentur Mindshare": the noun introduces a name
        before = next((s for s in spans if s.end == start - 1), None)
        if before is not None and glued_hyphen(doc, start - 1):
            start = before.start  # "Flick-Privatstiftung"
            spans = [s for s in spans if s is not before]
        added.append(_Span(start, end, "Organization", "institution-compound"))
    return sorted(spans + added, key=lambda s: s.start)


def _title_compound_employers(doc, spans: list[_Span], lexicon: Lexicon, gaz: Gazetteer) -> list[_Span]:
    """The name glued before a job title is the employer, whole: "Constantia-Flexibles-Chef",
    "GPA-djp-Chef", "IG-Metall-Vorsitzende" (German; the tokenizer splits the compound at its
    hyphens and NER often keeps the first piece only). Only where a name was found among the
    pieces, so "Konzern-Chef" makes no company; "Ex-" is no part of it; a place is none."""
    if "title_heads" not in lexicon.lists:
        return spans
    prefixes = lexicon.lowered("glued_former_prefixes")
    added, dropped = [], set()
    for token in doc[2:]:
        i = token.i
        if not glued_hyphen(doc, i - 1) or not _title_compound(token.lower_, lexicon):
            continue
        start, end = i - 2, i - 1
        while start >= 2 and glued_hyphen(doc, start - 1):
            start -= 2
        if doc[start].lower_ in prefixes and start + 2 < end:
            start += 2
        inside = [s for s in spans if s.start < end and start < s.end]
        if not inside or any(s.start < start or s.end > end for s in inside) or end - start == 1 \
                or any(s.start == start and s.end == end for s in inside) or gaz.place(doc[start:end].text):
            continue
        dropped.update(id(s) for s in inside)
        added.append(_Span(start, end, "Organization", "title-compound"))
    if not added:
        return spans
    return sorted([s for s in spans if id(s) not in dropped] + added, key=lambda s: s.start)


def _org_name_tails(doc, spans: list[_Span], lexicon: Lexicon) -> list[_Span]:
    """A name followed by a company noun that belongs to it is one organisation: "Brookings
    Institution", "Wien Energie" (a place, then "Energie"), which German taggers and NER stop
    short of because the last word is a common noun."""
    tails = lexicon["org_name_tails"]
    if not tails:
        return spans
    taken = {s.start for s in spans}
    out = []
    for span in spans:
        end = span.end
        if (span.type in ("Organization", UNKNOWN, "Place") and end < len(doc) and doc[end].text in tails
                and doc[end - 1].whitespace_ and end not in taken and not _overlaps(spans, end, end + 1)):
            span = _Span(span.start, end + 1, "Organization", "name-tail")
        out.append(span)
    return out


def _drop_title_compounds(doc, spans: list[_Span], lexicon: Lexicon, gaz: Gazetteer) -> list[_Span]:
    """A job title glued into a compound is not part of the name after it: "Exbankchef Wolfgang
    Kulterer", "Finanzvorstand Anna Roth" (a word ending in a title, before a first name)."""
    titles = [t for t in lexicon.lowered("titles") if len(t) >= 4]
    out = []
    for span in spans:
        if span.end - span.start >= 3 or span.end - span.start == 2 and span.type != "Person":
            word = doc[span.start].lower_
            if (fold(doc[span.start + 1].text) in gaz.first_names and word not in titles
                    and any(word.endswith(t) and len(word) > len(t) + 1 for t in titles)):
                span = _Span(span.start + 1, span.end, span.type, span.reason)
        out.append(span)
    return out


def _split_run_together(doc, spans: list[_Span], lexicon: Lexicon, gaz: Gazetteer) -> list[_Span]:
    """Names NER ran together become two: an employer and a full name after a job title
    (:func:`_titled_run`), a full name and its employer after "de" (:func:`_affiliation`)."""
    titles = lexicon.derived(("split_titles",), lambda: frozenset(
        w.lower() for name in ("titles", "role_heads", "occupations") for w in lexicon.lists.get(name, ())))
    out: list[_Span] = []
    for span in spans:
        out += _titled_run(doc, span, lexicon, gaz, titles) or _affiliation(doc, span, lexicon, gaz) or [span]
    return out


def _titled_run(doc, span: _Span, lexicon: Lexicon, gaz: Gazetteer, titles: frozenset[str]) -> list[_Span] | None:
    """"la PDG de | France Télévisions Delphine Ernotte": after a job title, the company up to the
    first name, the person from it (a first name, then capitalised words to the end); not inside
    an institution's name ("Institut Marie Curie") nor a hyphenated first name."""
    start, end = span.start, span.end
    if end - start < 3 or span.type not in ("Organization", UNKNOWN, "Person"):
        return None
    if span.type == "Person" and fold(doc[start].text) in gaz.first_names:
        return None  # a person NER found, opening on a first name, is one person
    linkers = lexicon.lowered("genitive_linkers")
    before = doc[start - 1].lower_ if start > 0 else ""
    # "le PDG (extrémiste) de | Snapchat Evan Spiegel": the title, maybe with one word after it
    if not (before in titles or before in linkers and any(
            doc[k].lower_ in titles for k in range(max(0, start - 3), start - 1))):
        return None
    heads = lexicon.lowered("institution_heads")
    for k in range(start + 1, end - 1):
        if fold(doc[k].text) in gaz.first_names and fold(doc[k - 1].text) not in gaz.first_names \
                and doc[k - 1].lower_ not in heads and doc[k - 1].is_alpha and doc[k - 1].whitespace_ \
                and all(t.text[:1].isupper() for t in doc[k:end]):
            return [_Span(start, k, "Organization", span.reason), _Span(k, end, "Person", span.reason + "+split")]
    return None


def _affiliation(doc, span: _Span, lexicon: Lexicon, gaz: Gazetteer) -> list[_Span] | None:
    """"Jeanne Massa | de | Habiteo": a person of a company (of a place, when the gazetteer knows
    it). Not a particle of the name itself: the linker comes after a surname ("Apolline de
    Malherbe" keeps its "de"), then one to three capitalised words to the end of the name."""
    start, end = span.start, span.end
    linkers = lexicon.lowered("genitive_linkers")
    if not linkers or span.type != "Person" or end - start < 4 or fold(doc[start].text) not in gaz.first_names:
        return None
    for k in range(start + 2, end - 1):
        if doc[k].lower_ in linkers and fold(doc[k - 1].text) not in gaz.first_names \
                and doc[k - 1].text[:1].isupper() and end - k - 1 <= 3 \
                and all(t.text[:1].isupper() for t in doc[k + 1:end]):
            kind = "Place" if gaz.place(doc[k + 1:end].text) else "Organization"  # "Jean Roe de Lyon"
            return [_Span(start, k, "Person", span.reason), _Span(k + 1, end, kind, span.reason + "+affiliation")]
    return None


def _institution_names(doc, spans: list[_Span], lexicon: Lexicon) -> list[_Span]:
    """Institutions whose names run on in lower case: a lower-case institution noun before
    "de" and a name ("l'université de Syracuse"), and a capitalised institution head whose name
    goes on after "de"/"des" in lower-case words that NER left out ("la Société des journalistes
    professionnels"). Both become one organisation name."""
    genitive = lexicon.lowered("genitive_linkers")
    if not genitive:
        return spans
    nouns = lexicon.lowered("institution_nouns")
    heads = lexicon.lowered("institution_heads")
    linkers = lexicon.lowered("name_linkers") | genitive
    by_start = {s.start: s for s in spans}
    n = len(doc)
    out = []
    for span in spans:
        if doc[span.start].lower_ in heads and span.end < n and doc[span.end].lower_ in genitive:
            k = last = span.end
            while k < n and k - span.end < 8:
                token = doc[k]
                if token.lower_ in linkers:
                    k += 1
                elif token.is_alpha and token.text.islower() and token.pos_ in ("NOUN", "ADJ") and token.lower_ not in nouns:
                    k += 1
                    last = k
                else:
                    break
            if k < n and (doc[k].lower_ in nouns or doc[k].lower_ in heads):
                # "Institut de pharmacie | de la prestigieuse université Tsinghua": the words
                # that lead to a second institution belong to neither name
                last = _lead_in(doc, last, span.end, linkers)
            if last > span.end and not _overlaps(spans, span.end, last):
                span = _Span(span.start, last, span.type, span.reason)
        if span.type == "Place" and doc[span.start].lower_ in heads and span.end - span.start > 2 \
                and doc[span.start + 1].lower_ in genitive:
            span = _Span(span.start, span.end, "Organization", "institution")  # "la Cité de l'espace"
        out.append(span)
    spans = out
    for token in doc:
        if token.lower_ not in nouns or token.i + 1 >= n:
            continue
        if token.i + 2 < n and doc[token.i + 1].lower_ in genitive:
            name = by_start.get(token.i + 2)  # "l'université de Syracuse"
        else:
            name = by_start.get(token.i + 1)  # "l'université Radboud"
            if name is not None and name.type == "Place":
                continue  # "l'université Paris" is rare; "l'école Lyon" is no name either
        if name is None:
            continue
        if name.type not in ("Place", UNKNOWN, "Organization") or _overlaps(spans, token.i, token.i + 1):
            continue
        spans = [s for s in spans if s.start != name.start] + [_Span(token.i, name.end, "Organization", "institution")]
    return sorted(spans, key=lambda s: s.start)


# -- typing ------------------------------------------------------------------------------------

def _type_span(doc, span: _Span, lang: str, lexicon: Lexicon, gaz: Gazetteer, hints: TypeHints) -> None:
    text = doc[span.start:span.end].text
    tokens = doc[span.start:span.end]
    legal = gaz.legal(tokens[-1].text)
    if legal == "strong" or (legal == "weak" and len(tokens) > 1):
        span.type, span.reason = "Organization", "legal-form"
        return
    prev = _previous_word(doc, span.start, _folded(lexicon, "cue_compounds"))
    if prev and prev in _folded(lexicon, "honorifics") and len(tokens) <= 4 and all(
            t.text[:1].isupper() or t.text == "-" or fold(t.text) in _folded(lexicon, "name_particles") for t in tokens):
        span.type, span.reason = "Person", f"cue:{prev}"  # "Mr Molyneux", whatever NER guessed
        return
    if gaz.place(text) and span.type != "Person":
        span.type, span.reason = "Place", "gazetteer"
        return
    known = hints.type_of(text)
    first = fold(tokens[0].text)
    if prev in gaz.place_adjectives.get(lang, {}) and span.start >= 2:
        prev = _previous_word(doc, span.start - 1, _folded(lexicon, "cue_compounds"))  # "la société bordelaise Octave Data"
    compound_head = _compound_head(doc, span.end)
    if compound_head in ("based", "basé", "basée"):  # "Cranfield-based": a place
        span.type, span.reason = "Place", f"compound:-{compound_head}"
    elif compound_head and compound_head in _folded(lexicon, "org_compound_heads"):
        span.type, span.reason = "Organization", f"compound:-{compound_head}"
    elif prev and _is_org_cue(prev, lexicon, lang) and span.type in (UNKNOWN, "Person", "Organization") and not (
            span.type == "Person" and span.reason.startswith("ner") and first in gaz.first_names and len(tokens) >= 2):
        # "the chipmaker Arm" is a company; "games maker Peter Molyneux", a person NER saw as one, stays one
        if span.type != "Organization":
            span.type, span.reason = "Organization", f"cue:{prev}"
    elif span.type != UNKNOWN and span.reason.startswith("ner"):
        person_like = first in gaz.first_names and 2 <= len(tokens) <= 5 and all(t.text[:1].isupper() or t.text == "-" for t in tokens)
        if known and known != span.type and span.type != "Person":
            span.type, span.reason = known, "known"
        elif span.type == "Person" and len(tokens) == 1 and known == "Organization":
            span.type, span.reason = known, "known"
        elif span.type in ("Organization", "Place") and person_like and not known:
            span.type, span.reason = "Person", "first-name"  # "Simon Champion" is no place
        elif span.type == "Person" and len(tokens) > 1 and first not in gaz.first_names and not known \
                and not ("Person" in lexicon["trusted_ner_labels"] and _name_shaped(tokens, gaz, lexicon)):
            span.type, span.reason = UNKNOWN, "ner:person-without-first-name"
        elif span.type == "Person" and len(tokens) == 1:
            # a lone word is a person only as the surname of a full name (checked later):
            # news names people in full; "Alan a promu ..." is a company
            span.type, span.reason = UNKNOWN, "ner:lone-word"
        elif span.type == "Place" and len(tokens) == 1 and not known:
            span.type, span.reason = UNKNOWN, "ner:place-not-in-gazetteer"
        elif span.type == "Place" and not known and gaz.place(tokens[0].text) \
                and all(t.text[:1].isupper() or t.is_punct or t.like_num for t in tokens[1:]):
            # "France Télévisions", "Paris-Normandie", "France-Antilles": a place and more, and
            # the whole no place the gazetteer knows: a name built on a place (a channel, a paper)
            span.type, span.reason = UNKNOWN, "ner:place-name-and-more"
        elif span.type == "Organization" and not known and 2 <= len(tokens) <= 3 \
                and all(t.is_alpha and t.text[:1].isupper() and not t.text.isupper() for t in tokens) \
                and _role_apposition(doc, span.end, lexicon, lang):
            span.type, span.reason = "Person", "apposition:occupation"  # "Kelsey Broderick, analyste du ..."
    elif known:
        span.type, span.reason = known, "known"
    elif first in gaz.first_names and len(tokens) >= 2 and all(t.text[:1].isupper() or t.text == "-" for t in tokens):
        span.type, span.reason = "Person", "first-name"
    elif prev and prev in _folded(lexicon, "person_cues") and _looks_like_person(tokens, gaz):
        span.type, span.reason = "Person", f"cue:{prev}"
    elif prev and prev in _folded(lexicon, "place_cues") and len(tokens) == 1:
        span.type, span.reason = "Place", f"cue:{prev}"
    if span.type == UNKNOWN:
        cue = _apposition_cue(doc, span.end, lexicon, lang)
        if cue:
            span.type, span.reason = cue


def _apposition_cue(doc, end: int, lexicon: Lexicon, lang: str) -> tuple[str, str] | None:
    """What follows the name may type it: "Stripe, the payments company," / "Stripe, which"
    -> Organization; "Okafor, who" -> Person."""
    if end + 1 >= len(doc) or doc[end].text != ",":
        return None
    following = doc[end + 1]
    if following.lower_ in _folded(lexicon, "org_relatives"):
        return "Organization", f"apposition:{following.lower_}"
    if following.lower_ in _folded(lexicon, "person_relatives"):
        return "Person", f"apposition:{following.lower_}"
    occupation = _role_apposition(doc, end, lexicon, lang)  # the apposition's head comes first:
    if occupation:  # "X, analyste du cabinet Y" is a person, though "cabinet" follows
        return "Person", f"apposition:{occupation}"
    cues = _folded(lexicon, "org_cues")
    for token in doc[end + 1:end + 7]:
        if token.is_punct or token.ent_type_:
            break
        if fold(token.text) in cues:
            return "Organization", f"apposition:{token.lower_}"
    return None


def _role_apposition(doc, end: int, lexicon: Lexicon, lang: str) -> str | None:
    """The occupation a ", " after a name opens on, after at most two articles or adjectives:
    "Kelsey Broderick, analyste du cabinet ...", "X, a senior economist at ...", "X,
    Finanzchef der ..." (German compounds end in one). Such a name is a person's."""
    occupations = _folded(lexicon, "occupations")
    if not occupations or end + 1 >= len(doc) or doc[end].text != ",":
        return None
    for token in doc[end + 1:end + 4]:
        word = fold(token.text)
        if word in occupations or (lang == "de" and word.endswith(_compound_cues(occupations))):
            return token.lower_
        if token.pos_ not in ("DET", "ADJ") or token.ent_type_:
            return None
    return None


def _spread_names(doc, spans: list[_Span]) -> list[_Span]:
    """A name typed once is that name wherever else it occurs in the article, also where the
    tagger took it for a common noun ("Sonnwerk hat ...") and as the head of a hyphen compound
    ("Sonnwerk-Gründerin")."""
    typed: dict[tuple[str, ...], str] = {}
    for span in spans:
        if span.type != UNKNOWN and span.end - span.start <= 4:
            typed.setdefault(tuple(t.text for t in doc[span.start:span.end]), span.type)
    if not typed:
        return spans
    by_first: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
    for words, type_ in typed.items():
        by_first[words[0]].append((words, type_))
    added = []
    for token in doc:
        for words, type_ in sorted(by_first.get(token.text, ()), key=lambda item: -len(item[0])):
            end = token.i + len(words)
            if tuple(t.text for t in doc[token.i:end]) == words and not _overlaps(spans + added, token.i, end):
                added.append(_Span(token.i, end, type_, "same name elsewhere in the article"))
                break
    return sorted(spans + added, key=lambda s: s.start)


def _national_units(doc, spans: list[_Span], gaz: Gazetteer) -> list[_Span]:
    """A company name followed by a country is its national unit, one organisation: "Google
    France", "Siemens Deutschland", and "Paypal France" that NER took for a place."""
    def country(text: str) -> bool:
        return gaz.place_kinds.get(gaz.place(text) or "") == "country"

    out: list[_Span] = []
    for span in spans:
        tokens = doc[span.start:span.end]
        if (span.type == "Place" and len(tokens) >= 2 and not gaz.place(tokens.text) and country(tokens[-1].text)
                and not gaz.place(tokens[:-1].text) and tokens[0].text[:1].isupper() and span.reason.startswith("ner")):
            span.type, span.reason = "Organization", "national-unit"
        previous = out[-1] if out else None
        if (previous is not None and previous.type == "Organization" and previous.end == span.start
                and span.type == "Place" and span.end - span.start == 1 and country(tokens.text)
                and doc[previous.end - 1].whitespace_ and not doc[previous.end - 1].is_punct):
            out[-1] = _Span(previous.start, span.end, "Organization", "national-unit")
            continue
        out.append(span)
    return out


def _one_type_per_name(doc, spans: list[_Span]) -> None:
    """Within one article a name has one type: the one its strongest mention shows ("la pépite
    Aérolithe" types every later "Aérolithe"); among NER guesses alone, the majority."""
    strong: dict[str, str] = {}
    guesses: dict[str, Counter] = defaultdict(Counter)
    for span in spans:
        name = fold(doc[span.start:span.end].text)
        if span.type == UNKNOWN:
            continue
        if span.reason.startswith(("ner", "proper-noun")):
            guesses[name][span.type] += 1
        else:
            strong.setdefault(name, span.type)
    for span in spans:
        name = fold(doc[span.start:span.end].text)
        if name in strong and span.reason.startswith(("ner", "proper-noun")):
            span.type, span.reason = strong[name], "same name elsewhere in the article"
        elif name in guesses and name not in strong and span.reason.startswith(("ner", "proper-noun")):
            (best, n), *rest = guesses[name].most_common(2) + [(None, 0)]
            if n > rest[0][1]:
                span.type = best


def _is_org_cue(word: str, lexicon: Lexicon, lang: str) -> bool:
    """A company cue word; in German also a compound ending in one ("Batteriehersteller")."""
    cues = _folded(lexicon, "org_cues")
    if word in cues:
        return True
    return lang == "de" and word.endswith(_compound_cues(cues))


@lru_cache(maxsize=8)
def _compound_cues(cues: frozenset[str]) -> tuple[str, ...]:
    """The cue words long enough to end a German compound ("-firma", "-hersteller")."""
    return tuple(sorted(cue for cue in cues if len(cue) >= 5))


def _name_shaped(tokens, gaz: Gazetteer, lexicon: Lexicon) -> bool:
    """A name NER read as a person although its first name is in no list ("Kingsley Coman",
    "Takis Candilis"), kept a person where the language's NER is trusted on persons: two to
    four capitalised words, none of them an organisation word, the first no place ("Blake
    Irving" is a person, "Berlin Mitte" no)."""
    if not 2 <= len(tokens) <= 4:
        return False
    heads = _folded(lexicon, "org_compound_heads")
    for t in tokens:
        if t.text == "-":
            continue
        if not (t.text[:1].isupper() and not t.text.isupper() and t.text.replace("-", "").isalpha()):
            return False
        if fold(t.text) in heads:
            return False
    return not gaz.place(tokens[0].text)


def _looks_like_person(tokens, gaz: Gazetteer) -> bool:
    if fold(tokens[0].text) in gaz.first_names:
        return True
    return 2 <= len(tokens) <= 4 and all(t.text[:1].isupper() and not t.text.isupper() for t in tokens)


def _previous_word(doc, start: int, cue_compounds: frozenset[str] = frozenset()) -> str | None:
    """The word before a name, folded; for a hyphen compound ("Start-up", "E-Commerce-Riese")
    the whole compound if it is a cue, else its last part."""
    i = start - 1
    while i >= 0 and (doc[i].is_space or doc[i].text in {"«", "„", '"', "“"}):
        i -= 1
    if i < 0:
        return None
    j = i
    while j >= 2 and glued_hyphen(doc, j - 1):
        j -= 2
    compound = fold(doc[j:i + 1].text)
    return compound if j < i and compound in cue_compounds else fold(doc[i].text)


def _compound_head(doc, end: int) -> str | None:
    """The noun after a hyphen glued to the name: "Tiktok-Mutter" -> "mutter"."""
    if end + 1 < len(doc) and glued_hyphen(doc, end):
        return fold(doc[end + 1].text)
    return None


def _surname_backreferences(doc, spans: list[_Span]) -> None:
    """A lone surname after "First Last" in the same article is that person, found or not."""
    surnames = {fold(doc[s.end - 1].text) for s in spans if s.type == "Person" and s.end - s.start >= 2}
    for token in doc:
        if token.text[:1].isupper() and fold(token.text) in surnames and not _overlaps(spans, token.i, token.i + 1):
            spans.append(_Span(token.i, token.i + 1, "Person", "surname"))
    spans.sort(key=lambda s: s.start)
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


ANAPHORA_FACTOR = 0.7  # "der Konzern" taken for the article's main company
ADJECTIVE_FACTOR = 0.9  # "der Münchner Konzern" -> Munich
ADJECTIVE = "adjective"  # ENT_ID of a city adjective, so rules tell "Münchner Konzern" from "in München"


def _place_adjectives(doc, lang: str, gaz: Gazetteer) -> list:
    """City and region adjectives ("Münchner", "parisienne", "Parisian") become Place mentions
    standing for the place. Country adjectives are left alone: nationality is not location."""
    table = gaz.place_adjectives.get(lang, {})
    if not table:
        return []
    from spacy.tokens import Span

    out = []
    for token in doc:
        place = table.get(fold(token.text))
        if place and not token.ent_type_ and gaz.place_kinds.get(place) == "city":
            out.append((Span(doc, token.i, token.i + 1, label="Place", span_id=ADJECTIVE), (place, ADJECTIVE_FACTOR)))
    return out


def topic_organization(doc) -> str | None:
    """The article's main company: the most mentioned organisation, if it clearly leads."""
    counts = Counter(fold(e.text) for e in doc.ents if e.label_ == "Organization")
    ranked = counts.most_common(2)
    if not ranked or ranked[0][1] < 3 or (len(ranked) > 1 and ranked[0][1] < 1.5 * ranked[1][1]):
        return None
    surfaces = Counter(e.text for e in doc.ents if e.label_ == "Organization" and fold(e.text) == ranked[0][0])
    return surfaces.most_common(1)[0][0]


_SUBJECTS = ("nsubj", "nsubj:pass", "nsubjpass", "sb")


def _is_subject(ent) -> bool:
    """The subject of its clause, or an apposition to it ("Luxury goods group LVMH has sold").
    Without a parse (German), a name opening its sentence right before the finite verb: the
    verb-second subject ("Wolfspeed hat ... abgeworben")."""
    root = ent.root
    if root.doc.has_annotation("DEP"):
        return root.dep_ in _SUBJECTS or root.dep_ == "appos" and root.head.dep_ in _SUBJECTS
    after = ent.end < len(root.doc) and root.doc[ent.end]
    return ent.start == ent.sent.start and bool(after) and "FIN" in after.tag_

PRONOUN_FACTOR = 0.8  # "it", "er", "il" resolved to the nearest fitting name


def _antecedent(doc, token, wanted: str, window_start: int):
    """The name a reference at ``token`` most likely stands for: among the names of ``wanted``
    type ("any": Person or Organization) from ``window_start`` up to the token, the subject of
    its clause first, then a name of the reference's own sentence, then the first name of its
    sentence, then the nearest."""
    allowed = ("Person", "Organization", UNKNOWN) if wanted == "any" else (wanted, UNKNOWN)
    best, best_score = None, None
    for ent in doc.ents:
        if ent.start >= token.i or ent.start < window_start:
            continue
        # an untyped name may be the antecedent too: the reference then stays untyped and
        # yields no fact, rather than jumping to a typed name further away
        if ent.label_ not in allowed:
            continue
        if ent.root.ent_id_ or ent.root.dep_ == "poss" and ent.root.head.i == token.i:
            continue
        sent = ent.sent
        first = next((e for e in sent.ents if e.label_ in allowed), None)
        subject = _is_subject(ent)
        score = (
            2 * subject,  # "Luxury goods group LVMH has sold ...": the apposition to the subject
            ent.label_ != UNKNOWN,
            sent.start == token.sent.start,  # same sentence before the earlier one
            first is not None and first.start == ent.start,
            ent.start,  # then the nearest
        )
        if best_score is None or score > best_score:
            best, best_score = ent, score
    return best


def _rival_named_after(doc, i: int) -> bool:
    """A company named right after the rival noun at ``i``, across at most two adjectives or
    place words ("son rival sud-coréen Samsung", "US rivals Ford")."""
    for token in doc[i + 1:i + 4]:
        if token.ent_type_ == "Organization":
            return True
        if not (token.pos_ == "ADJ" or token.ent_type_ == "Place" or token.text == "-"):
            return False
    return False


def _names_the_noun(following) -> bool:
    """The token after a company noun names that company ("the company Stripe", "des Konzerns
    Siemens", "la société X-Y"); a person's full name there does not ("le directeur du groupe |
    Jérôme Fenoglio": the group is the company named before)."""
    if following.text == "-":
        return True
    return bool(following.ent_type_) and not (following.ent_type_ == "Person" and " " in following.text)


def _name_soon_after(doc, i: int) -> bool:
    """A company name within three words after the noun at ``i``, with no punctuation or verb
    between: the noun introduces that name rather than referring back."""
    for token in doc[i + 1:i + 5]:
        if token.ent_type_ in ("Organization", UNKNOWN):
            return True
        if token.is_punct or token.pos_ in ("VERB", "AUX", "CCONJ") or token.tag_.startswith(("V", "KON")):
            return False
    return False


def _determiner_before(doc, i: int, determiners: frozenset[str], taken: set[int]) -> bool:
    """A determiner before the noun at ``i``, directly or across up to four modifiers: adjectives,
    place names and city adjectives, "X-based" ("the Montreal-based firm", "den Wolfsburger
    Konzern", "the troubled group")."""
    k = i - 1
    while k >= 0 and i - k <= 5:
        token = doc[k]
        if token.lower_ in determiners:
            return True
        modifier = (
            k in taken or token.ent_type_ == "Place" or token.pos_ == "ADJ" or token.tag_.startswith(("ADJ", "JJ", "VBN"))
            or token.text == "-" and not token.whitespace_
        )
        if not modifier:
            return False
        k -= 1
    return False


IMPLICIT_FACTOR = 0.7  # a bare title before a name, standing for the company of the sentence before
CHAIN_FACTOR = 0.9  # a reference resolved through an earlier reference, not a name


def _chained(chain: list, wanted: str, window_start: int):
    """The latest earlier reference from ``window_start`` on that stands for a typed name of
    the wanted type: (type, name, weight, char of the name)."""
    for i, kind, name, weight, char in reversed(chain):
        if i < window_start:
            return None
        if wanted == "any" and kind in ("Person", "Organization") or kind == wanted:
            return kind, name, weight, char
    return None


def _coreference(doc, lexicon: Lexicon, taken: list) -> list:
    """Within-article coreference for pronouns ("it", "its", "il", "er", "sein") and definite
    descriptions ("the company", "le groupe", "der Konzern"): each becomes a mention that
    refers to a name of the same or the preceding sentence (the annotation convention), chosen
    by :func:`_antecedent`. A description with no name in that window refers to the article's
    main company when one clearly leads, at a lower weight."""
    from spacy.tokens import Span

    pronouns = lexicon.pairs("pronouns")  # word -> Person | Organization | any
    implicit = lexicon.lowered("implicit_titles")
    rivals = lexicon.lowered("rival_nouns")
    nouns = lexicon.lowered("org_anaphora")
    determiners = lexicon.lowered("anaphora_determiners")
    used = {span.start for span, _ in taken}
    topic = topic_organization(doc) if nouns else None
    sentences = list(doc.sents)
    sent_index = {s.start: k for k, s in enumerate(sentences)}
    out = []
    chain: list[tuple[int, str, str, float, int]] = []  # resolved references: (token, type, name, weight, char)
    for token in doc:
        if token.ent_type_ or token.i in used:
            continue
        low = token.lower_
        wanted, weight, fallback = None, PRONOUN_FACTOR, None
        if low in pronouns:
            wanted = {"person": "Person", "organization": "Organization"}.get(pronouns[low], "any")
        elif low in nouns and _determiner_before(doc, token.i, determiners, used):
            following = doc[token.i + 1] if token.i + 1 < len(doc) else None
            if following is not None and _names_the_noun(following):
                continue  # "the company Stripe", "des Konzerns Siemens": a name follows
            if _name_soon_after(doc, token.i):
                continue  # "du groupe californien de logiciels Oracle", "la chaîne du groupe Canal+"
            if following is not None and following.lower_ in lexicon.lowered("relation_compound_heads"):
                continue  # "la société mère de X": a parent company, not the company named before
            wanted, weight, fallback = "Organization", ANAPHORA_FACTOR, topic
        elif low in rivals and _rival_named_after(doc, token.i) and not any(
                e.label_ == "Organization" and e.start < token.i for e in token.sent.ents):
            # "Rival Sony will launch ...", "bietet Konkurrent Cyberport": with no company
            # before it in the sentence, the rival is the rival of the company named before
            wanted, weight = "Organization", IMPLICIT_FACTOR
        elif (low in implicit and token.i + 1 < len(doc) and doc[token.i + 1].ent_type_ == "Person"
              and not any(e.label_ == "Organization" for e in token.sent.ents)):
            # "said chief executive X" with no company in the sentence: the title is X's post at
            # the company of the sentence before ("Eurotunnel ... said chief executive X")
            wanted, weight = "Organization", IMPLICIT_FACTOR
        if wanted is None:
            continue
        k = sent_index.get(token.sent.start, 0)
        window_start = sentences[k - 1].start if k > 0 else token.sent.start
        ante = _antecedent(doc, token, wanted, window_start)
        linked = _chained(chain, wanted, window_start) if ante is None or ante.label_ == UNKNOWN else None
        if linked is not None:
            # no typed name in reach, but a reference in reach already stands for one: "Mr X said
            # ... \"...,\" he said. He left Y": the second "he" is X too (a chain, weaker)
            kind, name, link_weight, char = linked
            weight = min(weight, link_weight) * CHAIN_FACTOR
            label = kind + REFERENCE if low in pronouns else kind
            out.append((Span(doc, token.i, token.i + 1, label=label), (name, weight, char)))
            chain.append((token.i, kind, name, weight, char))
        elif ante is not None:
            # a pronoun is labelled "<type>Ref": rules take it where they take a name, and a
            # gap that may not cross a name may cross it ("splits his time between ...")
            label = ante.label_ + REFERENCE if low in pronouns else ante.label_
            out.append((Span(doc, token.i, token.i + 1, label=label), (ante.text, weight, ante.start_char)))
            if ante.label_ != UNKNOWN:
                chain.append((token.i, ante.label_, ante.text, weight, ante.start_char))
        elif fallback is not None:
            out.append((Span(doc, token.i, token.i + 1, label="Organization"), (fallback, ANAPHORA_FACTOR * 0.9)))
    return out


def _set_and_merge(doc, spans: list[_Span]) -> None:
    from spacy.tokens import Span
    from spacy.util import filter_spans

    ents = filter_spans([Span(doc, s.start, s.end, label=s.type) for s in spans if s.start < s.end])
    doc.ents = ents
    with doc.retokenize() as retokenizer:
        for ent in ents:
            if len(ent) > 1:
                retokenizer.merge(ent, attrs={"LEMMA": ent.text, "TAG": "NE", "POS": "PROPN"})
