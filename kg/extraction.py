"""Relation extraction: candidates, scorers behind one protocol, shared post-steps.

One article's annotated Doc goes through three steps here:

1. **Candidates** (:func:`candidate_pairs`): every ordered pair of mentions in a sentence whose
   types (or ``Unknown``) fit some relation. A reference ("the company", "der Konzern") is a
   mention that carries the name it stands for, so a pair through a reference links a name
   from another sentence.
2. **Scorers**: each registered :class:`RelationExtractor` proposes :class:`Scored` relations
   over those mentions (the rule engine of :mod:`kg.extract` is one; a learned classifier is
   another). Extractors only say "this relation, these two names, this sure"; they never build
   Triples themselves.
3. **Post-steps** (:func:`finish`), the same for every extractor: enumeration ("Amazon, Meta
   and Microsoft" -> one fact each), type checks (an untyped name takes the type of the slot it
   fills, and keeps it for the rest of the article), tense ("Ex-SAP-Manager" -> worked_at),
   negation (no fact), hedging (lower confidence), the job title, and one fact per sentence.

A new extractor is registered with :func:`register_extractor` and named in the ``[extract]``
setting; nothing in the rule engine changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from .mentions import glued_hyphen, load_gazetteer
from .names import fold
from .rules import UNKNOWN, Lexicon, base_type
from .types import RELATIONS, Article, Mention, Triple

HEDGE_FACTOR = 0.6
RULE_TYPED_FACTOR = 0.85  # a name typed only by the extractor that uses it
ENUMERATION_FACTOR = 0.95
EMPLOYMENT = ("works_at", "worked_at", "founded")  # the facts a job title belongs to


@dataclass(frozen=True)
class Candidate:
    """An ordered pair of mentions in one sentence (token indices into the annotated Doc)."""

    subject: int
    object: int
    sentence: int  # index of the sentence's first token


@dataclass(frozen=True)
class Scored:
    """One extractor's claim: ``relation`` holds between the names at two tokens.

    ``first``/``last`` bound the words the claim rests on (negation looks there); ``verb_cue``
    says the claim hinges on a verb (then a negation just after the names counts too)."""

    relation: str
    subject: int
    object: int
    confidence: float
    source: str  # rule id or extractor name, kept as provenance
    first: int
    last: int
    role: str = ""
    verb_cue: bool = True


@dataclass(frozen=True)
class ArticleView:
    """What a scorer may look at: the article, its annotated Doc and mentions, the language's
    lexicon and the candidate pairs."""

    article: Article
    annotated: object  # kg.mentions.Annotated
    lexicon: Lexicon
    lang: str

    @property
    def doc(self):
        return self.annotated.doc  # type: ignore[attr-defined]

    def candidates(self) -> list[Candidate]:
        cached = self.__dict__.get("_candidates")
        if cached is None:
            cached = candidate_pairs(self.doc)
            object.__setattr__(self, "_candidates", cached)
        return cached


class RelationExtractor(Protocol):
    """A scorer: proposes relations between mentions of one article."""

    name: str

    def score(self, view: ArticleView) -> Iterable[Scored]: ...


ExtractorFactory = Callable[[object], RelationExtractor]  # called with the language stage
_REGISTRY: dict[str, ExtractorFactory] = {}


def register_extractor(name: str, factory: ExtractorFactory) -> None:
    """Make an extractor available under ``name`` for the ``[extract] extractors`` setting."""
    _REGISTRY[name] = factory


# Extractors shipped with kg, imported when first named ("module:class").
_BUILTIN = {"rules": "kg.extract:RuleExtractor", "learned": "kg.learned:LearnedExtractor"}


def extractor_factory(name: str) -> ExtractorFactory:
    from .errors import ConfigError

    if name not in _REGISTRY and name in _BUILTIN:
        import importlib

        module, attr = _BUILTIN[name].split(":")
        _REGISTRY[name] = getattr(importlib.import_module(module), attr)
    if name not in _REGISTRY:
        raise ConfigError(f"unknown extractor {name!r} (known: {', '.join(registered_extractors())})")
    return _REGISTRY[name]


def registered_extractors() -> tuple[str, ...]:
    return tuple(sorted(set(_REGISTRY) | set(_BUILTIN)))


_OBJECT_TYPES = {(s, o) for s, o, _ in RELATIONS.values()}


def candidate_pairs(doc) -> list[Candidate]:
    """Ordered pairs of mentions within each sentence whose types could stand in a relation."""
    out = []
    for sent in doc.sents:
        names = [t for t in sent if t.ent_type_]
        for s in names:
            for o in names:
                if s.i == o.i:
                    continue
                ts, to = base_type(s.ent_type_), base_type(o.ent_type_)
                if ts == UNKNOWN or to == UNKNOWN or (ts, to) in _OBJECT_TYPES:
                    out.append(Candidate(subject=s.i, object=o.i, sentence=sent.start))
    return out


# -- post-steps ------------------------------------------------------------------------------

def finish(view: ArticleView, claims: Sequence[Scored]) -> list[Triple]:
    """Run every extractor's claims through the shared post-steps; one fact per sentence.

    Names no step could type take the type of the slot they fill. Such a rule-typed name keeps
    that type in the whole article (a surname too), so the claims are read a second time with
    those types — no extractor runs twice."""
    triples = _finish_with(view, claims, {})
    typed: dict[str, str] = {}
    for t in triples:
        for m in (t.subject, t.object):
            token = view.doc.char_span(m.start, m.end)
            if m.type in ("Person", "Organization") and not m.refers_to and token is not None \
                    and token[0].ent_type_ == UNKNOWN:
                typed.setdefault(fold(m.text), m.type)
    if not typed:
        return triples
    for name, type_ in list(typed.items()):
        if type_ == "Person" and " " in name:
            typed.setdefault(name.split()[-1], "Person")
    return _finish_with(view, claims, typed)


def _finish_with(view: ArticleView, claims: Sequence[Scored], typed: dict[str, str]) -> list[Triple]:
    lexicon = view.lexicon

    def label(token) -> str:
        """The token's type; a name typed only by claims elsewhere in the article reads
        "<type>?" (it fits that type, with the rule-typed factor)."""
        if token.ent_type_ == UNKNOWN and fold(token.text) in typed:
            return typed[fold(token.text)] + "?"
        return token.ent_type_

    best: dict[tuple, Triple] = {}
    for claim in claims:
        for triple in _triples(view, claim, label, lexicon):
            key = (triple.subject.start, triple.relation, triple.object.start, triple.evidence_start)
            kept = best.get(key)
            if kept is None or kept.confidence < triple.confidence:
                if kept is not None and kept.role and (not triple.role or triple.rule_id.endswith(".learned")
                                                       and not kept.rule_id.endswith(".learned")):
                    triple = replace(triple, role=kept.role)  # the job title travels on; a rule's reads it best
                best[key] = triple
            elif triple.role and not kept.role:
                best[key] = replace(kept, role=triple.role)
    # One tense per person, company and sentence. "X, CFO of Y since 2020, left Y": a past
    # job a rule states outweighs a current one; a rule's reading outweighs the learned
    # scorer's (rules are the more precise of the two).
    by_tense: dict[tuple, dict[str, list[Triple]]] = {}
    for t in best.values():
        if t.relation in ("works_at", "worked_at"):
            key = (t.subject.start, t.object.name, t.evidence_start)
            by_tense.setdefault(key, {}).setdefault(t.relation, []).append(t)

    def ruled(triples) -> bool:
        return any(not t.rule_id.endswith(".learned") for t in triples)

    def outweighed(t: Triple) -> bool:
        if t.relation not in ("works_at", "worked_at"):
            return False
        other = by_tense[(t.subject.start, t.object.name, t.evidence_start)].get(
            "worked_at" if t.relation == "works_at" else "works_at", ())
        if not other:
            return False
        if t.relation == "works_at" and ruled(other):
            return True
        return t.rule_id.endswith(".learned") and ruled(other)

    # Between two companies one reading per sentence: "Youtube, filiale de Google" is not also
    # Youtube parent_of Google nor a rivalry; a rule's reading outweighs the learned scorer's,
    # and between two learned readings the surer one stays.
    by_pair: dict[tuple, list[Triple]] = {}
    for t in best.values():
        if t.relation in ORG_PAIR_RELATIONS:
            key = (frozenset((t.subject.name, t.object.name)), t.evidence_start)
            by_pair.setdefault(key, []).append(t)

    def overruled(t: Triple) -> bool:
        if t.relation not in ORG_PAIR_RELATIONS or not t.rule_id.endswith(".learned"):
            return False
        rivals = [o for o in by_pair[(frozenset((t.subject.name, t.object.name)), t.evidence_start)]
                  if o is not t and not o.relation == t.relation == "competes_with"]  # symmetric: the same fact
        if any(not o.rule_id.endswith(".learned") for o in rivals):
            return True
        # the same relation both ways, equally sure: the scorer cannot tell the direction
        return any(o.confidence > t.confidence or o.confidence == t.confidence and o.relation == t.relation != "competes_with"
                   for o in rivals)

    kept = [t for t in best.values() if not outweighed(t) and not overruled(t)]
    return sorted(kept, key=lambda t: (t.evidence_start, t.subject.start, t.relation, t.object.start))


ORG_PAIR_RELATIONS = ("parent_of", "competes_with", "recruits_from")


def _modifier(token, lexicon: Lexicon) -> bool:
    """Is this name only the modifier of a relational compound before another name
    ("Tiktok-Mutter Bytedance", "Siemens-Tochter Healthineers")? Then the fact is about the
    next name, and only parent_of may hold for the first one."""
    doc, i = token.doc, token.i
    heads = lexicon.lowered("relation_compound_heads")
    if (token.ent_type_ in ("Organization", UNKNOWN) and i + 2 < len(doc) and doc[i + 1].text.islower()
            and doc[i + 1].lower_ in lexicon.lowered("org_cues") and doc[i + 2].ent_type_ in ("Organization", UNKNOWN)):
        relational = {w.lower() for name in ("rival_nouns", "child_nouns") for w in lexicon.lists.get(name, ())}
        if doc[i + 1].lower_ not in relational | heads | {"parent", "owner", "rival", "competitor"}:
            return True  # "P2P network Red Swoosh": the first name only describes the second
    return (
        i + 3 < len(doc) and doc[i + 1].text == "-" and not token.whitespace_ and not doc[i + 1].whitespace_
        and doc[i + 2].lower_ in heads and bool(doc[i + 3].ent_type_)
    )


def _predicate_nominal(token, lexicon: Lexicon) -> bool:
    """Is the company named after a copula ("veut être Amazon", "to become the Amazon of"),
    so it is what another is likened to, not the subject a rule's gap skips back to?"""
    k = token.i - 1
    if k >= 0 and token.doc[k].pos_ == "DET":
        k -= 1
    return k >= 0 and token.doc[k].lower_ in lexicon.lowered("copulas")


def _triples(view: ArticleView, claim: Scored, label, lexicon: Lexicon) -> Iterator[Triple]:
    doc = view.doc
    subject, obj = doc[claim.subject], doc[claim.object]
    if claim.relation != "parent_of" and (_modifier(subject, lexicon) or _modifier(obj, lexicon)):
        return
    if claim.relation in ("located_in", "hires_in") and not claim.source.endswith(".learned") \
            and _predicate_nominal(subject, lexicon):
        return  # "TikTok veut être Amazon, prévoit des centres aux États-Unis": TikTok's sites
    sent = subject.sent
    if _negated(sent, claim.first, claim.last, lexicon, after=claim.verb_cue):
        return
    if _title_of_previous_person(doc, claim):
        return
    if claim.source.endswith(".learned") and (_apposed_to_another(doc, claim) or _untyped_common_noun(claim, subject, obj, label, view.lang)):
        return
    if claim.relation in ("parent_of", "recruits_from") and obj in _enumeration(subject, sent, lexicon):
        return  # "Les groupes M6, TF1, NRJ ou Altice": members of one list are not each other's parent
    confidence = claim.confidence
    if _hedged(sent, lexicon):
        confidence *= HEDGE_FACTOR
    sent_text = sent.text
    evidence = sent_text.strip()
    ev_start = sent.start_char + (len(sent_text) - len(sent_text.lstrip()))
    subj_type, obj_type, _ = RELATIONS[claim.relation]
    # the verb's tense is read once, at the claim's own names, and holds for every member of a
    # list they head: "X a dirigé Canal+, la Fnac et le groupe Nouvel Observateur"
    left = claim.relation == "works_at" and _left_the_post(subject, obj, lexicon)
    for s_token, s_factor in _members(view, subject, subj_type, sent, label):
        for o_token, o_factor in _members(view, obj, obj_type, sent, label):
            relation = claim.relation
            if relation == "works_at" and (left or _marked_former(o_token, lexicon) or _former_title(doc, claim, lexicon)
                                           or _former_apposition(s_token, o_token, lexicon)):
                relation = "worked_at"  # "Ex-SAP-Manager X", "ex-Google engineer X", "the former head of X, Y"
            if obj_type == "Place" and _state_after_city(o_token):
                continue  # "Hillsboro, Oregon": the city is the place, the state only says where it is
            s_mention, o_mention = _mention(view, s_token, subj_type), _mention(view, o_token, obj_type)
            if s_token.i == o_token.i or fold(s_mention.name) == fold(o_mention.name):
                continue
            start, text = ev_start, evidence
            back = [m.ref_start for m in (s_mention, o_mention) if 0 <= m.ref_start < ev_start]
            if back:  # the name referred to is in an earlier sentence: both are the evidence
                first = doc[doc.char_span(min(back), min(back) + 1, alignment_mode="expand").start].sent
                start = first.start_char
                text = doc.text[start:ev_start + len(evidence)].strip()
            yield Triple(
                subject=s_mention,
                relation=relation,
                object=o_mention,
                article_id=view.article.id,
                lang=view.lang,
                evidence=text,
                evidence_start=start,
                evidence_end=ev_start + len(evidence),
                rule_id=claim.source,
                confidence=round(min(1.0, confidence * s_factor * o_factor), 3),
                role=(claim.role or nearby_role(s_token, sent, lexicon)) if relation in EMPLOYMENT else "",
            )


def _mention(view: ArticleView, token, wanted_type: str) -> Mention:
    """The slot's mention, typed as the relation wants it (references keep their referent)."""
    found = view.annotated.mention_at(token)  # type: ignore[attr-defined]
    return Mention(
        text=token.text, type=wanted_type, start=token.idx, end=token.idx + len(token.text),
        refers_to=found.refers_to if found is not None else "",
        ref_start=found.ref_start if found is not None else -1,
    )


def _fits(view: ArticleView, token, wanted_type: str, label) -> float:
    """1.0 if the name has the wanted type, a lower factor if untyped, 0 if it clashes."""
    found = view.annotated.mention_at(token)  # type: ignore[attr-defined]
    kind = base_type(label(token))
    if found is not None and found.refers_to:
        return found.weight if kind == wanted_type else 0.0
    if kind == wanted_type:
        return 1.0
    if kind == wanted_type + "?":
        return RULE_TYPED_FACTOR
    if kind == UNKNOWN:
        # a lone untyped word is rarely a person (surnames were typed by the mention stage)
        if wanted_type == "Person" and " " not in token.text.strip():
            return 0.0
        return RULE_TYPED_FACTOR
    return 0.0


def _members(view: ArticleView, head, wanted_type: str, sent, label) -> list[tuple[object, float]]:
    """The slot's name plus the other members of an enumeration it belongs to."""
    factor = _fits(view, head, wanted_type, label)
    if not factor:
        return []
    out = [(head, factor)]
    for neighbour in _enumeration(head, sent, view.lexicon):
        f = _fits(view, neighbour, wanted_type, label)
        if f:
            out.append((neighbour, f * ENUMERATION_FACTOR))
    return out


def _former_words(lexicon: Lexicon) -> frozenset[str]:
    """The language's former-job markers, lower case, without a trailing hyphen ("ex-" -> "ex")."""
    return frozenset(w.rstrip("-") for w in lexicon.lowered("former"))


def _is_former(word: str, lexicon: Lexicon) -> bool:
    """Does the (lower-case) word mark a past post: "former", "ancienne", "ex-finanzministerin"
    (glued by a hyphen), "exbankchef" (glued, German data)?"""
    former = _former_words(lexicon)
    return (word.rstrip("-") in former or any(word.startswith(w + "-") for w in former if w)
            or _glued_ex(word, lexicon))


def _marked_former(token, lexicon: Lexicon) -> bool:
    """Is the company marked as a past employer right before its name: "Ex-SAP-Manager",
    "ex-Google engineer", "former Barclays banker", "l'ancien Renault ..."?"""
    doc = token.doc
    former = _former_words(lexicon)
    i = token.i
    if i >= 2 and glued_hyphen(doc, i - 1):
        return doc[i - 2].lower_ in former  # glued: Ex-SAP
    return i >= 1 and doc[i - 1].lower_.rstrip("-") in former


def _title_of_previous_person(doc, claim: Scored) -> bool:
    """"A, PDG de X, B, directrice de Y": a claim that reads "title of X, B" binds X to B, but
    the title stands in apposition to A, the person before it. Only for claims worded title
    first, with the person after the organisation."""
    low = min(claim.subject, claim.object)
    if claim.first >= low or claim.subject < claim.object or claim.first < 2:
        return False
    if RELATIONS[claim.relation][0] != "Person":
        return False
    before = doc[claim.first - 1]
    return before.text == "," and doc[claim.first - 2].ent_type_ in ("Person", "PersonRef")


def _untyped_common_noun(claim: Scored, subject, obj, label, lang: str) -> bool:
    """May the learned scorer not name these? It reads context, not names: it must not make a
    place of an untyped word ("ein Oktopus aus Kartoffelpüree") nor a company or person of a
    single untyped word the tagger reads as a common noun ("Erdäpfel aus Ägypten")."""
    if RELATIONS[claim.relation][1] == "Place" and label(obj) == UNKNOWN:
        return True
    # German capitalises every noun: there an untyped one-word common noun is no name
    return lang == "de" and any(label(t) == UNKNOWN and t.tag_ == "NN" and " " not in t.text for t in (subject, obj))


def _apposed_to_another(doc, claim: Scored) -> bool:
    """A learned person-organisation claim whose organisation sits in another person's
    apposition ("A, directeur de X, B, ...": X is A's), or whose person has an apposition naming
    another organisation right after the name ("B, directrice chez Y, ..." is about Y)."""
    if RELATIONS[claim.relation][0] != "Person" or RELATIONS[claim.relation][1] != "Organization":
        return False
    person, org = claim.subject, claim.object
    owner = apposition_owner(doc, org)
    return owner is not None and owner != person


def apposition_owner(doc, i: int, reach: int = 8) -> int | None:
    """The person whose apposition the name at ``i`` is in: walking left over words that are
    neither names nor commas, to "Person ,". The learned scorer reads it as a feature too."""
    start = doc[i].sent.start
    k = i - 1
    while k > start and i - k <= reach and not doc[k].ent_type_ and doc[k].text not in (",", ";", "(", ")"):
        k -= 1
    if k - 1 >= start and doc[k].text == "," and doc[k - 1].ent_type_ in ("Person", "PersonRef"):
        return k - 1
    return None


def _state_after_city(token) -> bool:
    """Is this place the state or country written after a city ("Hillsboro, Oregon",
    "Lyon, France")? Gold names the city alone then."""
    doc = token.doc
    i = token.i
    if i < 2 or doc[i - 1].text != "," or doc[i - 2].ent_type_ != "Place":
        return False
    gaz = load_gazetteer()
    kinds = gaz.place_kinds
    return kinds.get(gaz.place(doc[i - 2].text) or "") == "city" and kinds.get(gaz.place(token.text) or "") in ("region", "country")


def _glued_ex(word: str, lexicon: Lexicon) -> bool:
    """A compound opening on a glued "former" prefix ("exbankchef"), not a word that merely
    starts so ("experte", "exportchef"): German data (``glued_former_prefixes``,
    ``not_glued_former``); languages without the lists have no such compounds."""
    prefixes = lexicon.lowered("glued_former_prefixes")
    return any(len(word) > len(p) + 4 and word.startswith(p) and word[len(p)] not in "aeiouäöüy" for p in prefixes) \
        and not word.startswith(tuple(lexicon.lowered("not_glued_former")))


_CLIMB = ("appos", "conj", "compound", "flat", "flat:name", "nmod", "poss", "pobj", "prep", "dobj", "obj", "obl", "case")
_SUBJECT_DEPS = ("nsubj",)
_OBJECT_DEPS = ("dobj", "obj", "nsubjpass", "nsubj:pass")  # "replace X", "X was replaced"


def _verb_above(token, limit: int = 4):
    """The nearest verb above a token in the parse, with the path's dependency labels."""
    path = []
    for _ in range(limit):
        path.append(token.dep_)
        if token.dep_ not in _CLIMB + _SUBJECT_DEPS + _OBJECT_DEPS:
            return None, path
        token = token.head
        if token.pos_ in ("VERB", "AUX"):
            return token, path
        if token.ent_type_ in ("Person", "PersonRef"):
            return None, path  # "replace X with Y" parsed with Y under X: X's role, not Y's
    return None, path



def _left_the_post(person, org, lexicon: Lexicon) -> bool:
    """Did the person leave the post the claim names? "May's chairman Gene Kahn resigned",
    "le patron de Renault, Luca de Meo, a démissionné" (the person the past subject of a leave
    verb), "Laura Ashley is parting company with its chief executive X", "replace chief
    executive X" (the person the object of a dismissal verb). The company must hang off the
    same verb: in "X left Google to join Y", Y is a current job."""
    if not person.doc.has_annotation("DEP"):
        return False
    verb, path = _verb_above(person)
    if verb is None:
        return False
    org_verb, _ = _verb_above(org)
    if org_verb is not None and org_verb.i != verb.i:
        return False
    lemma = verb.lemma_.lower()
    if lemma in lexicon.lowered("leave_verbs"):
        return path[-1] in _SUBJECT_DEPS and "Past" in verb.morph.get("Tense")
    if lemma in lexicon.lowered("dismiss_verbs"):  # "replace X with Y": X, not Y
        return path[-1] in _OBJECT_DEPS
    if lemma in lexicon.lowered("tenure_verbs"):  # "X a dirigé Y", "X ran Y": a post held before
        _, org_path = _verb_above(org)  # the company the verb's own object, not a name in an apposition
        return (path[-1] in _SUBJECT_DEPS and org_verb is not None and len(org_path) == 1
                and org_path[0] in _OBJECT_DEPS and _told_as_past(verb, lexicon))
    return False


def _told_as_past(verb, lexicon: Lexicon) -> bool:
    """Is the verb told in a past that is over: a finite past or imperfect ("ran", "dirigeait"),
    or a participle with an auxiliary that tells a finished past in the language
    (``past_auxiliaries``: French "a dirigé", "avait dirigé")? Not the English present perfect
    ("has run Y since 2019"), which goes on: English lists no such auxiliary."""
    tense, form = verb.morph.get("Tense"), verb.morph.get("VerbForm")
    if "Fin" in form and ("Past" in tense or "Imp" in tense):
        return True
    auxiliaries = lexicon.lowered("past_auxiliaries")
    return ("Part" in form and "Past" in tense
            and any(child.dep_.startswith("aux") and child.lemma_.lower() in auxiliaries for child in verb.children))


def _former_title(doc, claim: Scored, lexicon: Lexicon) -> bool:
    """Does the claim's wording open on a title marked as past: "the former chief executive of
    X, Y", "l'ancien directeur de l'AFI Y", "Ex-Finanzministerin Y"? Only when the claim starts
    before both names (a title leading the phrase), so "Y, now head of X, ex-Google" is not."""
    if claim.first >= min(claim.subject, claim.object):
        return False
    first = doc[claim.first].lower_
    if first.rstrip("-") not in _former_words(lexicon) and _is_former(first, lexicon):
        return True  # one token: "ex-finanzministerin", "Exbankchef"
    k = claim.first - 1
    if k >= 0 and doc[k].text == "-" and not doc[k].whitespace_:
        k -= 1
    return k >= 0 and doc[k].lower_.rstrip("-") in _former_words(lexicon)


_APPOSITION_BREAKS = frozenset({",", ";", ":", "(", ")", "\u2013", "\u2014"})


def _former_apposition(person, org, lexicon: Lexicon) -> bool:
    """Is the company inside an apposition to the person that opens on a past title: "X,
    former editor of the daily Y", "X, l'ancienne Première ministre et ancienne présidente de
    l'ONG Y", "X, ehemaliger Chef der Y"? The apposition runs from the comma after the name to
    the company with no other break; its first words (after an article) mark the past."""
    if org.i <= person.i + 2 or person.nbor(1).text != ",":
        return False
    doc = person.doc
    between = doc[person.i + 2:org.i]
    if any(t.text in _APPOSITION_BREAKS or t.ent_type_ == "Person" for t in between):
        return False
    for token in between[:3]:
        if _is_former(token.lower_, lexicon):
            return True
        if token.pos_ not in ("DET", "ADJ") and not token.is_punct:
            return False
    return False


def nearby_role(person, sent, lexicon: Lexicon) -> str:
    """The job title written next to a person, when the extractor did not capture one: before
    the name ("chief executive Daniel Ek", "Finanzchefin Jana Weber"), in an apposition after
    it ("Jana Weber, Finanzchefin ...") or after an "as" word ("... as chief operating
    officer", "als", "comme", "en tant que"). Empty if no title word is there."""
    words = lexicon.lowered("title_words")
    heads = lexicon.lowered("titles")
    as_words = lexicon.multiword("as_words")
    doc = person.doc

    def is_title(token) -> bool:
        low = token.lower_
        return not token.ent_type_ and (low in words or low in heads or any(
            low.endswith(h) for h in heads if len(h) >= 4 and len(low) > len(h)))

    def run(start: int, step: int) -> str:
        i, tokens = start, []
        while sent.start <= i < sent.end and (is_title(doc[i]) or (doc[i].text == "-" and tokens)) and len(tokens) < 8:
            tokens.append(i)
            i += step
        while tokens and doc[tokens[-1]].text == "-":
            tokens.pop()
        if not tokens:
            return ""
        lo, hi = min(tokens), max(tokens) + 1
        edge = ("ADP", "DET", "CCONJ", "PUNCT")  # "directrice financière de": the title ends before "de"
        while hi > lo and doc[hi - 1].pos_ in edge:
            hi -= 1
        while lo < hi and doc[lo].pos_ in edge:
            lo += 1
        if lo >= hi:
            return ""
        span = doc[lo:hi]
        return span.text if any(t.lower_ in heads or is_title(t) and t.lower_ not in words for t in span) else ""

    role = run(person.i - 1, -1)
    if not role and person.i + 2 < sent.end and doc[person.i + 1].text == ",":
        start = person.i + 2
        while start < sent.end and doc[start].pos_ == "DET":
            start += 1
        role = run(start, 1)
    if not role:
        for token in doc[person.i + 1:sent.end]:
            size = _phrase_at(doc, token.i, sent.end, as_words)
            if size:
                nxt = token.i + size
                while nxt < sent.end and doc[nxt].pos_ in ("DET", "ADJ") and not is_title(doc[nxt]):
                    nxt += 1
                role = run(nxt, 1)
                break
    return role


def _phrase_at(doc, i: int, end: int, phrases: tuple[tuple[str, ...], ...]) -> int:
    """Length of the (longest) phrase of ``phrases`` starting at token i, else 0."""
    for words in phrases:
        size = len(words)
        if i + size <= end and tuple(t.lower_ for t in doc[i:i + size]) == words:
            return size
    return 0


def _enumeration(head, sent, lexicon: Lexicon) -> list:
    """Names joined to ``head`` by commas and conjunctions, left and right, within the sentence.

    A chain joined by commas alone ("Facebook, Meta") is an apposition, not a list: it counts
    only if some link of the chain is a conjunction ("Amazon, Meta and Microsoft").
    """
    conjunctions = lexicon.multiword("conjunctions")
    contractions = lexicon.pairs("contractions")
    doc = head.doc
    # a preposition or article repeated before each member: "d'Amazon, de Microsoft ou de Meta"
    previous = doc[head.i - 1] if head.i - 1 >= sent.start else None
    before = _preposition(previous, contractions) if previous is not None and previous.pos_ in ("ADP", "DET") else None
    found, has_conjunction = [], False
    for direction in (1, -1):
        i = head.i
        while True:
            step = _skip_separator(doc, i, direction, sent, conjunctions, before, contractions)
            if step is None or not doc[step[0]].ent_type_:
                break
            j, by_conjunction = step
            has_conjunction = has_conjunction or by_conjunction
            found.append(doc[j])
            i = j
    return found if has_conjunction else []


def _skip_separator(doc, i: int, direction: int, sent, conjunctions, repeated: str | None,
                    contractions: dict[str, str]) -> tuple[int, bool] | None:
    """From the name at i, step over one separator ("," / a conjunction / both) in ``direction``,
    and over the repeated preposition; return (index of the next token, whether a conjunction
    was crossed), or None when no separator follows."""
    def inside(k: int) -> bool:
        return sent.start <= k < sent.end

    def conjunction_size(k: int) -> int:
        word = doc[k].lower_
        for words in conjunctions:
            size = len(words)
            if words[0 if direction == 1 else -1] != word:
                continue  # cheap test on the word at k before the whole phrase
            lo = k if direction == 1 else k - size + 1
            if sent.start <= lo and lo + size <= sent.end and tuple(t.lower_ for t in doc[lo:lo + size]) == words:
                return size
        return 0

    k = i + direction
    if direction == -1 and repeated and inside(k) and _preposition(doc[k], contractions) == repeated and not doc[k].ent_type_:
        k -= 1  # leftwards, the head's own preposition comes first
    crossed_comma = crossed_conjunction = False
    if inside(k) and doc[k].text == ",":
        k += direction
        crossed_comma = True
    size = conjunction_size(k) if inside(k) else 0
    if size:
        k += direction * size
        crossed_conjunction = True
    if not (crossed_comma or crossed_conjunction):
        return None
    if direction == 1 and repeated and inside(k) and _preposition(doc[k], contractions) == repeated:
        k += 1
        while inside(k) and k - i < 8 and doc[k].pos_ in ("ADJ", "DET") and not doc[k].ent_type_:
            k += 1  # "in Villach und im malaysischen Kulim"
    return (k, crossed_conjunction) if inside(k) else None


def _preposition(token, contractions: dict[str, str]) -> str:
    """Comparable form of a preposition: elided and contracted forms count as one (d', de, du;
    the language's ``contractions`` list says which)."""
    word = token.lower_.rstrip("'’")
    return contractions.get(word, word)


def _negated(sent, first: int, last: int, lexicon: Lexicon, *, after: bool = True) -> bool:
    """A negation word between (or, for verb claims, just after) the matched names, in the same
    clause as the name that follows it: "did not join Y" and "übernahm Y nicht" count; "X, who
    had not joined Y, stayed at Z" does not negate "stayed at Z", and "der frühere Sixt-Vorstand
    X werde nicht ..." does not negate the apposition."""
    negations = lexicon.lowered("negations")
    doc = sent.doc
    end = min(sent.end, last + 4) if after else last + 1
    for token in doc[max(sent.start, first - 2):end]:
        if token.i > last and token.is_punct:
            break
        if token.lower_ not in negations:
            continue
        stop = last if token.i < last else end
        if not any(t.is_punct for t in doc[token.i + 1:stop]):
            return True
    return False


def _hedged(sent, lexicon: Lexicon) -> bool:
    """Does the sentence hedge ("reportedly", "soll", "selon des rumeurs")? Read once per
    sentence: the answer is kept in the Doc's ``user_data``."""
    key = ("kg.hedged", sent.start, sent.end)
    cached = sent.doc.user_data.get(key)
    if cached is not None:
        return cached
    hedges = lexicon.multiword("hedges")
    words = [t.lower_ for t in sent]
    firsts = set(words)
    found = False
    for hedge in hedges:
        if hedge[0] not in firsts:
            continue
        size = len(hedge)
        if any(tuple(words[i:i + size]) == hedge for i in range(len(words) - size + 1)):
            found = True
            break
    sent.doc.user_data[key] = found
    return found


def extract_relations(view: ArticleView, extractors: Sequence[RelationExtractor]) -> list[Triple]:
    """Every extractor's claims over one article, through the shared post-steps."""
    claims: list[Scored] = []
    for extractor in extractors:
        claims.extend(extractor.score(view))
    return finish(view, claims)
