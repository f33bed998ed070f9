"""The rule engine: one article's annotated Doc in, Triples out.

This is the only place rules are interpreted. Names are single tokens here (see
``kg.mentions``), so a token pattern's entity slots align one-to-one with names. The engine
adds what every rule needs: enumerations ("Amazon, Meta and Microsoft" -> one fact each),
negation ("did not", "n'a pas", "nicht" -> no fact), hedging ("could", "pourrait", "soll",
"laut Insidern" -> lower confidence), and typing of untyped names by the slot they fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from .mentions import refers_to
from .names import fold
from .rules import UNKNOWN, Rule, RuleSet
from .types import RELATIONS, Article, Mention, Triple

HEDGE_FACTOR = 0.6
RULE_TYPED_FACTOR = 0.85  # a name typed only by the rule that uses it
ENUMERATION_FACTOR = 0.95
EMPLOYMENT = ("works_at", "worked_at", "founded")  # the facts a job title belongs to


_CUE_ATTRS = {"LOWER": "lower_", "LEMMA": "lemma_", "ORTH": "text", "TEXT": "text", "NORM": "norm_"}


@dataclass
class CompiledRule:
    """One token rule's own matcher plus the cue words and names a sentence must contain for
    it to have any chance, checked before the (costly) matcher runs."""

    rule: Rule
    matcher: object
    cues: tuple[tuple[str, frozenset[str]], ...]  # (token attribute, allowed values), all needed
    names: int  # entity tokens the pattern needs at least

    def may_match(self, features: dict[str, set[str]], names: int) -> bool:
        return names >= self.names and all(features[attr] & values for attr, values in self.cues)


@dataclass
class Matchers:
    """spaCy matchers compiled for one vocabulary (one per pipeline)."""

    token: list[CompiledRule]
    dep: object | None
    rules: dict[str, Rule]


def _requirements(pattern) -> tuple[tuple[tuple[str, frozenset[str]], ...], int]:
    """Cue words and the number of names every match of a token pattern must contain."""
    cues, names = [], 0
    for token in pattern:
        if token.get("OP") not in (None, "+", "1"):
            continue  # optional or negated: requires nothing
        if "ENT_TYPE" in token and token["ENT_TYPE"] not in ("", None) and "IN" in token["ENT_TYPE"]:
            names += 1
        for attr, field in _CUE_ATTRS.items():
            value = token.get(attr)
            if isinstance(value, str):
                cues.append((field, frozenset([value])))
            elif isinstance(value, dict) and isinstance(value.get("IN"), list):
                cues.append((field, frozenset(value["IN"])))
    return tuple(cues), names


def compile_matchers(ruleset: RuleSet, vocab, with_parser: bool) -> Matchers:
    from spacy.matcher import DependencyMatcher, Matcher

    token_rules = []
    has_dep_rules = any(rule.kind == "dep" for rule in ruleset.rules)
    dep = DependencyMatcher(vocab) if with_parser and has_dep_rules else None
    for rule in ruleset.rules:
        if rule.kind == "token":
            matcher = Matcher(vocab)
            matcher.add(rule.id, [list(rule.pattern)])
            cues, names = _requirements(rule.pattern)
            token_rules.append(CompiledRule(rule=rule, matcher=matcher, cues=cues, names=names))
        elif dep is not None:
            dep.add(rule.id, [list(rule.pattern)])
    return Matchers(token=token_rules, dep=dep, rules={r.id: r for r in ruleset.rules})


def extract_triples(article: Article, doc, ruleset: RuleSet, matchers: Matchers) -> Iterator[Triple]:
    """Apply every rule to every sentence; yield each fact once per sentence."""
    best: dict[tuple, Triple] = {}
    for rule, sent, slots in _matches(doc, matchers):
        for triple in _triples_from_match(article, rule, sent, slots, ruleset):
            key = (triple.subject.start, triple.relation, triple.object.start, triple.evidence_start)
            if key not in best or best[key].confidence < triple.confidence:
                best[key] = triple
    # "X, CFO of Y since 2020, left Y": a past job stated in the sentence outweighs a current one
    past = {(t.subject.start, t.object.text, t.evidence_start) for t in best.values() if t.relation == "worked_at"}
    kept = [t for t in best.values()
            if not (t.relation == "works_at" and (t.subject.start, t.object.text, t.evidence_start) in past)]
    yield from sorted(kept, key=lambda t: (t.evidence_start, t.subject.start, t.relation, t.object.start))


def _matches(doc, matchers: Matchers) -> Iterator[tuple[Rule, object, dict[str, list]]]:
    strings = doc.vocab.strings
    for sent in doc.sents:
        features = {field: {getattr(t, field) for t in sent} for field in set(_CUE_ATTRS.values())}
        names = sum(1 for t in sent if t.ent_type_)
        for compiled in matchers.token:
            if not compiled.may_match(features, names):
                continue
            rule = compiled.rule
            for _match_id, start, _end, alignments in compiled.matcher(sent, with_alignments=True):
                by_index: dict[int, list] = {}
                for offset, pattern_index in enumerate(alignments):
                    by_index.setdefault(pattern_index, []).append(sent[start + offset])
                yield rule, sent, {name: by_index.get(index, []) for name, index in rule.slots.items()}
    if matchers.dep is not None:
        for match_id, token_ids in matchers.dep(doc):
            rule = matchers.rules[strings[match_id]]
            node_ids = [node["RIGHT_ID"] for node in rule.pattern]
            slots = {name: [doc[token_ids[node_ids.index(name)]]] for name in rule.slots}
            yield rule, doc[token_ids[0]].sent, slots


def _triples_from_match(article: Article, rule: Rule, sent, slots: dict[str, list], ruleset: RuleSet) -> Iterator[Triple]:
    lexicon = ruleset.lexicon
    matched = [t for tokens in slots.values() for t in tokens]
    if not matched:
        return
    first, last = min(t.i for t in matched), max(t.i for t in matched)
    if _negated(sent, first, last, lexicon, after=_has_verb_cue(rule)):
        return
    confidence = rule.confidence
    if _hedged(sent, lexicon):
        confidence *= HEDGE_FACTOR
    role = _role_text(slots.get(rule.role, [])) if rule.role else ""
    evidence = sent.text.strip()
    ev_start = sent.start_char + (len(sent.text) - len(sent.text.lstrip()))
    for emit in rule.emits:
        subj_type, obj_type, _ = RELATIONS[emit.relation]
        subjects = _members(slots[emit.subject], subj_type, sent, lexicon)
        objects = _members(slots[emit.object], obj_type, sent, lexicon)
        for s_token, s_factor in subjects:
            for o_token, o_factor in objects:
                relation = emit.relation
                if relation == "works_at" and _marked_former(o_token, lexicon):
                    relation = "worked_at"  # "Ex-SAP-Manager X", "ex-Google engineer X"
                if s_token.i == o_token.i or fold(_mention(s_token, subj_type).text) == fold(_mention(o_token, obj_type).text):
                    continue
                yield Triple(
                    subject=_mention(s_token, subj_type),
                    relation=relation,
                    object=_mention(o_token, obj_type),
                    article_id=article.id,
                    lang=ruleset.lang,
                    evidence=evidence,
                    evidence_start=ev_start,
                    evidence_end=ev_start + len(evidence),
                    rule_id=rule.id,
                    confidence=round(min(1.0, confidence * s_factor * o_factor), 3),
                    role=(role or _nearby_role(s_token, sent, lexicon)) if relation in EMPLOYMENT else "",
                )


def _marked_former(token, lexicon) -> bool:
    """Is the company marked as a past employer right before its name: "Ex-SAP-Manager",
    "ex-Google engineer", "former Barclays banker", "l'ancien Renault ..."?"""
    doc = token.doc
    former = {w.lower().rstrip("-") for w in lexicon.lists.get("former", ())}
    i = token.i
    if i >= 2 and doc[i - 1].text == "-" and not doc[i - 1].whitespace_ and not doc[i - 2].whitespace_:
        return doc[i - 2].lower_ in former  # glued: Ex-SAP
    return i >= 1 and doc[i - 1].lower_.rstrip("-") in former


def _role_text(tokens: list) -> str:
    """The title a rule captured, whole: "Chef" in "E-Commerce-Chef" grows to the compound."""
    if not tokens:
        return ""
    doc = tokens[0].doc
    lo, hi = min(t.i for t in tokens), max(t.i for t in tokens) + 1
    while lo >= 2 and doc[lo - 1].text == "-" and not doc[lo - 1].whitespace_ and not doc[lo - 2].whitespace_ \
            and not doc[lo - 2].ent_type_:
        lo -= 2
    return doc[lo:hi].text


def _nearby_role(person, sent, lexicon) -> str:
    """The job title written next to a person, when the rule did not capture one: before the
    name ("chief executive Daniel Ek", "Finanzchefin Jana Weber"), in an apposition after it
    ("Jana Weber, Finanzchefin ...") or after "as"/"als"/"comme" ("... as chief operating
    officer"). Empty if no title word is there."""
    words = {w.lower() for w in lexicon.lists.get("title_words", ())}
    heads = {w.lower() for w in lexicon["titles"]}
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
            if token.lower_ in {"as", "als", "comme", "en tant que"}:
                nxt = token.i + 1
                while nxt < sent.end and doc[nxt].pos_ in ("DET", "ADJ") and not is_title(doc[nxt]):
                    nxt += 1
                role = run(nxt, 1)
                break
    return role


def _mention(token, wanted_type: str) -> Mention:
    """The name in the slot; for "the company"-style references, the company referred to."""
    ref = refers_to(token)
    text = ref[0] if ref else token.text
    return Mention(text=text, type=wanted_type, start=token.idx, end=token.idx + len(token.text))


def _fits(token, wanted_type: str) -> float:
    """1.0 if the name has the wanted type, a lower factor if untyped, 0 if it clashes."""
    label = token.ent_type_
    ref = refers_to(token)
    if ref:
        return ref[1] if label == wanted_type else 0.0
    if label == wanted_type:
        return 1.0
    if label == UNKNOWN:
        # a lone untyped word is rarely a person (surnames were typed by the mention stage)
        if wanted_type == "Person" and " " not in token.text.strip():
            return 0.0
        return RULE_TYPED_FACTOR
    return 0.0


def _members(tokens: list, wanted_type: str, sent, lexicon) -> list[tuple[object, float]]:
    """The slot's name plus the other members of an enumeration it belongs to."""
    if not tokens:
        return []
    head = tokens[0]
    factor = _fits(head, wanted_type)
    if not factor:
        return []
    out = [(head, factor)]
    for neighbour in _enumeration(head, sent, lexicon):
        f = _fits(neighbour, wanted_type)
        if f:
            out.append((neighbour, f * ENUMERATION_FACTOR))
    return out


def _enumeration(head, sent, lexicon) -> list:
    """Names joined to ``head`` by commas and conjunctions, left and right, within the sentence.

    A chain joined by commas alone ("Facebook, Meta") is an apposition, not a list: it counts
    only if some link of the chain is a conjunction ("Amazon, Meta and Microsoft").
    """
    conjunctions = lexicon.multiword("conjunctions")
    doc = head.doc
    # a preposition or article repeated before each member: "d'Amazon, de Microsoft ou de Meta"
    previous = doc[head.i - 1] if head.i - 1 >= sent.start else None
    before = _preposition(previous) if previous is not None and previous.pos_ in ("ADP", "DET") else None
    found, has_conjunction = [], False
    for direction in (1, -1):
        i = head.i
        while True:
            step = _skip_separator(doc, i, direction, sent, conjunctions, before)
            if step is None or not doc[step[0]].ent_type_:
                break
            j, by_conjunction = step
            has_conjunction = has_conjunction or by_conjunction
            found.append(doc[j])
            i = j
    return found if has_conjunction else []


def _skip_separator(doc, i: int, direction: int, sent, conjunctions, repeated: str | None) -> tuple[int, bool] | None:
    """From the name at i, step over one separator ("," / a conjunction / both) in ``direction``,
    and over the repeated preposition; return (index of the next token, whether a conjunction
    was crossed), or None when no separator follows."""
    def inside(k: int) -> bool:
        return sent.start <= k < sent.end

    def conjunction_size(k: int) -> int:
        for words in conjunctions:
            size = len(words)
            lo = k if direction == 1 else k - size + 1
            if sent.start <= lo and lo + size <= sent.end and tuple(t.lower_ for t in doc[lo:lo + size]) == words:
                return size
        return 0

    k = i + direction
    if direction == -1 and repeated and inside(k) and _preposition(doc[k]) == repeated and not doc[k].ent_type_:
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
    if direction == 1 and repeated and inside(k) and _preposition(doc[k]) == repeated:
        k += 1
        while inside(k) and k - i < 8 and doc[k].pos_ in ("ADJ", "DET") and not doc[k].ent_type_:
            k += 1  # "in Villach und im malaysischen Kulim"
    return (k, crossed_conjunction) if inside(k) else None


_SAME_PREPOSITION = {
    "d": "de", "du": "de", "des": "de", "l": "le", "la": "le", "les": "le", "au": "à", "aux": "à",
    "im": "in", "ins": "in", "am": "an", "zum": "zu", "zur": "zu", "beim": "bei", "vom": "von",
}


def _preposition(token) -> str:
    """Comparable form of a preposition: elided and contracted forms count as one (d', de, du)."""
    word = token.lower_.rstrip("'’")
    return _SAME_PREPOSITION.get(word, word)


def _has_verb_cue(rule: Rule) -> bool:
    """Does the rule hinge on a verb (a LEMMA cue)? Appositions and noun phrases do not."""
    if rule.kind == "dep":
        return True
    return any(isinstance(token, dict) and "LEMMA" in token for token in rule.pattern)


def _negated(sent, first: int, last: int, lexicon, *, after: bool = True) -> bool:
    """A negation word between (or, for verb rules, just after) the matched names, in the same
    clause as the name that follows it: "did not join Y" and "übernahm Y nicht" count; "X, who
    had not joined Y, stayed at Z" does not negate "stayed at Z", and "der frühere Sixt-Vorstand
    X werde nicht ..." does not negate the apposition."""
    negations = {w.lower() for w in lexicon["negations"]}
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


def _hedged(sent, lexicon) -> bool:
    hedges = lexicon.multiword("hedges")
    words = [t.lower_ for t in sent]
    for hedge in hedges:
        size = len(hedge)
        if any(tuple(words[i:i + size]) == hedge for i in range(len(words) - size + 1)):
            return True
    return False
