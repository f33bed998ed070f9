"""The rule engine: one scorer behind :class:`kg.extraction.RelationExtractor`.

This is the only place rules are interpreted. Names are single tokens here (see
``kg.mentions``), so a token pattern's entity slots align one-to-one with names. A match
becomes a :class:`kg.extraction.Scored` claim; enumeration, negation, hedging, tense and type
checks are the shared post-steps of :mod:`kg.extraction`, the same for every extractor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from .extraction import Scored
from .rules import Rule, RuleSet


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
