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
    exact: object | None = None  # the pattern as written, for spans the fast matcher aligned badly

    def may_match(self, features: dict[str, set[str]], names: int) -> bool:
        return (names >= self.names and all(features[attr] & values for attr, values in self.cues)
                and all(any(regex.search(word) for word in features[attr]) for attr, regex in self.patterns))


@dataclass
class Matchers:
    """spaCy matchers compiled for one vocabulary (one per pipeline)."""

    token: list[CompiledRule]
    dep: object | None
    rules: dict[str, Rule]


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
            exact = None
            if gaps:
                exact = Matcher(vocab)
                exact.add(rule.id, [list(rule.pattern)])
            cues, patterns, names = _requirements(rule.pattern)
            token_rules.append(CompiledRule(rule=rule, matcher=matcher, cues=cues, names=names, gaps=gaps,
                                            exact=exact, patterns=patterns))
        elif dep is not None:
            dep.add(rule.id, [list(rule.pattern)])
    return Matchers(token=token_rules, dep=dep, rules={r.id: r for r in ruleset.rules})


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
        for compiled in matchers.token:
            if not compiled.may_match(features, names):
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
    matched again with the pattern as written (rare), so no span the rule allows is lost.
    """
    for _match_id, start, end, alignments in compiled.matcher(sent, with_alignments=True):
        if not compiled.gaps or _within_bounds(alignments, compiled.gaps):
            yield start, alignments
            continue
        for _id, sub_start, sub_end, sub_alignments in compiled.exact(sent[start:end], with_alignments=True):
            if sub_start == 0 and sub_end == end - start:
                yield start, sub_alignments
                break


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
    while lo >= 2 and doc[lo - 1].text == "-" and not doc[lo - 1].whitespace_ and not doc[lo - 2].whitespace_ \
            and not doc[lo - 2].ent_type_:
        lo -= 2
    return doc[lo:hi].text


def _has_verb_cue(rule: Rule) -> bool:
    """Does the rule hinge on a verb (a LEMMA cue)? Appositions and noun phrases do not."""
    if rule.kind == "dep":
        return True
    return any(isinstance(token, dict) and "LEMMA" in token for token in rule.pattern)
