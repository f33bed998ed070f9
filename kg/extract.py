"""The rule engine: one scorer behind :class:`kg.extraction.RelationExtractor`.

This is the only place rules are interpreted. Names are single tokens here (see
``kg.mentions``), so a token pattern's entity slots align one-to-one with names. A match
becomes a :class:`kg.extraction.Scored` claim; enumeration, negation, hedging, tense and type
checks are the shared post-steps of :mod:`kg.extraction`, the same for every extractor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

from .extraction import Scored
from .mentions import glued_hyphen
from .rules import Rule, RuleSet


_CUE_ATTRS = {"LOWER": "lower_", "LEMMA": "lemma_", "ORTH": "text", "TEXT": "text", "NORM": "norm_",
              "ENT_ID": "ent_id_", "ENT_TYPE": "ent_type_"}


@dataclass
class CompiledRule:
    """One token rule's own matcher plus the cue words and names a sentence must contain for
    it to have any chance, checked before the (costly) matcher runs."""

    rule: Rule
    matcher: object
    cues: tuple[tuple[str, frozenset[str]], ...]  # (token attribute, allowed values), all needed
    names: int  # entity tokens the pattern needs at least
    patterns: tuple[tuple[str, re.Pattern], ...] = ()  # (token attribute, REGEX), all needed
    gaps: dict[int, int] = field(default_factory=dict)  # pattern index -> most tokens it may take
    tokens: object | None = None  # each pattern token alone (key: its index), to realign a span
    counts: tuple[tuple[int, int], ...] = ()  # pattern index -> (fewest, most) tokens it takes

    def may_match(self, features: dict[str, set[str]], names: int, found: dict | None = None) -> bool:
        """``found`` keeps, for one sentence, whether some word matched each regular expression:
        rules share their expressions (the title list), and each is tried once a sentence."""
        if names < self.names or any(features[attr].isdisjoint(values) for attr, values in self.cues):
            return False
        for attr, regex in self.patterns:
            key = (attr, regex.pattern)
            hit = found.get(key) if found is not None else None
            if hit is None:
                hit = any(_searched(regex, word) for word in features[attr])
                if found is not None:
                    found[key] = hit
            if not hit:
                return False
        return True


_SEARCHED: dict[int, tuple[re.Pattern, dict[str, bool]]] = {}


def _searched(regex: re.Pattern, word: str) -> bool:
    """``regex.search(word)``, remembered per expression: the long title expressions cost more
    than a lookup, and news repeats its words. Each memory is bounded (cleared past 50,000)."""
    entry = _SEARCHED.get(id(regex))
    if entry is None or entry[0] is not regex:
        entry = _SEARCHED[id(regex)] = (regex, {})
    words = entry[1]
    hit = words.get(word)
    if hit is None:
        if len(words) > 50_000:
            words.clear()
        hit = words[word] = regex.search(word) is not None
    return hit


@dataclass
class Matchers:
    """spaCy matchers compiled for one vocabulary (one per pipeline)."""

    token: list[CompiledRule]
    dep: object | None
    rules: dict[str, Rule]
    # Which token rules a sentence's words can wake: each rule is filed under the values of
    # its rarest word cue (token attribute -> value -> rule positions); rules with no word cue
    # are always tried. A sentence then checks a handful of rules, not all of them.
    index: dict[str, dict[str, tuple[int, ...]]] = field(default_factory=dict)
    always: tuple[int, ...] = ()

    def candidates(self, features: dict[str, set[str]]) -> list[int]:
        found = set(self.always)
        for attr, table in self.index.items():
            for word in features[attr]:
                hit = table.get(word)
                if hit:
                    found.update(hit)
        return sorted(found)


def _requirements(pattern):
    """What every match of a token pattern needs in its sentence: cue words (and entity types
    or ids) as (token attribute, allowed values), regular expressions some word must match,
    and the number of names. Checked before the matcher, which costs far more."""
    cues, patterns, names = [], [], 0
    for token in pattern:
        if token.get("OP") not in (None, "+", "1"):
            continue  # optional or negated: requires nothing
        if "ENT_TYPE" in token and token["ENT_TYPE"] not in ("", None) and "IN" in token["ENT_TYPE"]:
            names += 1
        for attr, field_name in _CUE_ATTRS.items():
            value = token.get(attr)
            if isinstance(value, str) and value:
                cues.append((field_name, frozenset([value])))
            elif isinstance(value, dict) and isinstance(value.get("IN"), list):
                cues.append((field_name, frozenset(value["IN"])))
            elif isinstance(value, dict) and isinstance(value.get("REGEX"), str) and attr != "ENT_TYPE":
                patterns.append((field_name, re.compile(value["REGEX"])))
    return tuple(cues), tuple(patterns), names


_BOUNDED = re.compile(r"^\{0,(\d+)\}$")


def _unbounded(pattern) -> tuple[list[dict], dict[int, int]]:
    """The pattern with each bounded gap ``{0,n}`` as ``*``, and the bounds to check afterwards.

    spaCy expands ``{0,n}`` into n optional tokens and does not merge the states that reach the
    same token by different paths, so a gap of n costs up to 2**n states per start: most of
    kg's matching time. ``*`` is one looping state; the bound is checked on the match's
    alignment instead, which gives the same spans.
    """
    unbounded, gaps = [], {}
    for index, token in enumerate(pattern):
        bounded = _BOUNDED.match(str(token.get("OP", "")))
        if bounded:
            gaps[index] = int(bounded.group(1))
            token = {**token, "OP": "*"}
        unbounded.append(token)
    return unbounded, gaps


def compile_matchers(ruleset: RuleSet, vocab, with_parser: bool) -> Matchers:
    from spacy.matcher import DependencyMatcher, Matcher

    token_rules = []
    has_dep_rules = any(rule.kind == "dep" for rule in ruleset.rules)
    dep = DependencyMatcher(vocab) if with_parser and has_dep_rules else None
    for rule in ruleset.rules:
        if rule.kind == "token":
            pattern, gaps = _unbounded(rule.pattern)
            matcher = Matcher(vocab)
            matcher.add(rule.id, [pattern])
            tokens = None
            if gaps:
                tokens = Matcher(vocab)
                for index, token in enumerate(rule.pattern):
                    tokens.add(str(index), [[{k: v for k, v in token.items() if k != "OP"}]])
            cues, patterns, names = _requirements(rule.pattern)
            token_rules.append(CompiledRule(rule=rule, matcher=matcher, cues=cues, names=names, gaps=gaps,
                                            tokens=tokens, counts=tuple(_counts(t) for t in rule.pattern),
                                            patterns=patterns))
        elif dep is not None:
            dep.add(rule.id, [list(rule.pattern)])
    index: dict[str, dict[str, list[int]]] = {}
    always = []
    for position, compiled in enumerate(token_rules):
        words = [(attr, values) for attr, values in compiled.cues if attr in _WORD_ATTRS]
        if not words:
            always.append(position)
            continue
        attr, values = min(words, key=lambda cue: len(cue[1]))
        for value in values:
            index.setdefault(attr, {}).setdefault(value, []).append(position)
    return Matchers(token=token_rules, dep=dep, rules={r.id: r for r in ruleset.rules},
                    index={attr: {value: tuple(rules) for value, rules in table.items()}
                           for attr, table in index.items()},
                    always=tuple(always))


_WORD_ATTRS = frozenset({"lower_", "lemma_", "text", "norm_"})


class RuleExtractor:
    """The rule engine as a scorer: each match of a rule of ``relations.jsonl`` claims the
    relations the rule emits between the names in its slots, at the rule's confidence."""

    name = "rules"

    def __init__(self, stage) -> None:
        self.matchers: Matchers = stage.matchers

    def score(self, view) -> Iterator[Scored]:
        for rule, _sent, slots in _matches(view.doc, self.matchers):
            matched = [t for tokens in slots.values() for t in tokens]
            if not matched:
                continue
            first, last = min(t.i for t in matched), max(t.i for t in matched)
            role = _role_text(slots.get(rule.role, [])) if rule.role else ""
            verb_cue = _has_verb_cue(rule)
            for emit in rule.emits:
                subjects, objects = slots[emit.subject], slots[emit.object]
                if not subjects or not objects:
                    continue
                yield Scored(
                    relation=emit.relation, subject=subjects[0].i, object=objects[0].i,
                    confidence=rule.confidence, source=rule.id, first=first, last=last,
                    role=role, verb_cue=verb_cue,
                )



def _matches(doc, matchers: Matchers) -> Iterator[tuple[Rule, object, dict[str, list]]]:
    strings = doc.vocab.strings
    for sent in doc.sents:
        features = {field: {getattr(t, field) for t in sent} for field in set(_CUE_ATTRS.values())}
        names = sum(1 for t in sent if t.ent_type_)
        found: dict = {}
        for position in matchers.candidates(features):
            compiled = matchers.token[position]
            if not compiled.may_match(features, names, found):
                continue
            rule = compiled.rule
            for start, alignments in _aligned_matches(compiled, sent):
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


def _aligned_matches(compiled: CompiledRule, sent) -> Iterator[tuple[int, list[int]]]:
    """(start, alignment) of each match of a token rule in a sentence, gaps within bounds.

    The fast matcher keeps one alignment per span; when that one overruns a gap, the span is
    aligned again with the bounds (rare), so no span the rule allows is lost.
    """
    for _match_id, start, end, alignments in compiled.matcher(sent, with_alignments=True):
        if not compiled.gaps or _within_bounds(alignments, compiled.gaps):
            yield start, alignments
            continue
        realigned = _realign(compiled, sent[start:end])
        if realigned is not None:
            yield start, realigned


_OPS = {None: (1, 1), "1": (1, 1), "?": (0, 1), "*": (0, None), "+": (1, None), "!": (1, 1)}
_RANGE = re.compile(r"^\{(\d*),?(\d*)\}$")


def _counts(token: dict) -> tuple[int, int]:
    """How many tokens a pattern token may take: (fewest, most); most -1 means no limit."""
    op = token.get("OP")
    if op in _OPS:
        low, high = _OPS[op]
        return low, -1 if high is None else high
    bounded = _RANGE.match(str(op))
    if not bounded:
        raise ValueError(f"unsupported operator {op!r}")
    low = int(bounded.group(1) or 0)
    if "," not in str(op):
        return low, low
    return low, int(bounded.group(2)) if bounded.group(2) else -1


def _realign(compiled: CompiledRule, span) -> list[int] | None:
    """An alignment of the whole span to the pattern with every bound kept, or None.

    spaCy's matcher expands a bounded gap ``{0,n}`` into n optional states that it never merges,
    so matching a long span with the pattern as written costs up to 2**n states. Here each
    pattern token is tested alone on the span (one matcher call), and a walk over (pattern
    index, position) pairs, each visited once, finds the alignment: the first pattern tokens
    take as few tokens as they can. A negated token ("!") takes one token it does not fit,
    as in spaCy. Where several alignments exist, spaCy's pick may be another valid one.
    """
    strings = span.doc.vocab.strings
    fits: set[tuple[int, int]] = {(int(strings[match_id]), start)
                                  for match_id, start, _end in compiled.tokens(span)}
    size, last = len(span), len(compiled.counts)
    dead: set[tuple[int, int]] = set()
    path = [0] * size

    def walk(index: int, position: int) -> bool:
        if index == last:
            return position == size
        if (index, position) in dead:
            return False
        low, high = compiled.counts[index]
        if compiled.rule.pattern[index].get("OP") == "!":
            if position < size and (index, position) not in fits and walk(index + 1, position + 1):
                path[position] = index
                return True
            dead.add((index, position))
            return False
        taken = 0
        while True:
            if taken >= low and walk(index + 1, position + taken):
                path[position:position + taken] = [index] * taken
                return True
            if (high != -1 and taken >= high) or position + taken >= size \
                    or (index, position + taken) not in fits:
                break
            taken += 1
        dead.add((index, position))
        return False

    return path if walk(0, 0) else None


def _within_bounds(alignments: list[int], gaps: dict[int, int]) -> bool:
    counts: dict[int, int] = {}
    for index in alignments:
        if index in gaps:
            counts[index] = counts.get(index, 0) + 1
            if counts[index] > gaps[index]:
                return False
    return True


def _role_text(tokens: list) -> str:
    """The title a rule captured, whole: "Chef" in "E-Commerce-Chef" grows to the compound."""
    if not tokens:
        return ""
    doc = tokens[0].doc
    lo, hi = min(t.i for t in tokens), max(t.i for t in tokens) + 1
    while lo >= 2 and glued_hyphen(doc, lo - 1) and not doc[lo - 2].ent_type_:
        lo -= 2
    return doc[lo:hi].text


def _has_verb_cue(rule: Rule) -> bool:
    """Does the rule hinge on a verb (a LEMMA cue)? Appositions and noun phrases do not."""
    if rule.kind == "dep":
        return True
    return any(isinstance(token, dict) and "LEMMA" in token for token in rule.pattern)
