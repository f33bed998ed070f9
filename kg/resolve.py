"""Entity resolution: surface mentions from all articles -> one Entity per real-world thing.

Merging, in order: the user's alias file; the place gazetteer (États-Unis, USA, Vereinigte
Staaten -> United States); case, accents, possessives and elisions (``kg.names.fold``); legal
suffixes (Siemens AG -> Siemens); German genitives (Amazons -> Amazon, when "Amazon" is known);
surname-only mentions after a full name in the same article (or a surname only one person in
the build has); small typos (Bytedace -> ByteDance) between names of the same type. Every merge
is recorded with its reason.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .mentions import load_gazetteer
from .names import clean_surface, display_form, fold, slug
from .types import RELATIONS, Entity, Fact, Mention, Merge, Triple


@dataclass
class Resolution:
    facts: list[Fact]
    entities: list[Entity]
    merges: list[Merge] = field(default_factory=list)
    dropped: list[tuple[Triple, str]] = field(default_factory=list)


def combine_confidence(values: Iterable[float]) -> float:
    """Noisy-or: independent sources saying the same thing make it more certain."""
    remaining = 1.0
    for value in values:
        remaining *= 1.0 - max(0.0, min(1.0, value))
    return round(1.0 - remaining, 3)


def resolve_entities(
    triples: Iterable[Triple],
    *,
    aliases: Mapping[str, str] | None = None,
    type_hints: Mapping[str, str] | None = None,
    article_people: Mapping[str, Iterable[str]] | None = None,
) -> Resolution:
    """Group mentions into entities and triples into facts.

    ``aliases`` maps a spelling to its canonical name (user file; wins over everything).
    ``type_hints`` maps folded names to a type seen by NER/gazetteer anywhere in the build.
    ``article_people`` lists full person names per article, for surname back-references.
    """
    triples = list(triples)
    user = {fold(a): clean_surface(c) for a, c in (aliases or {}).items()}
    gaz = load_gazetteer()
    hints = dict(type_hints or {})
    people = {a: [clean_surface(p) for p in names] for a, names in (article_people or {}).items()}

    # 1. the type of each name: majority of its mentions, NER/gazetteer hints counting double
    votes: dict[str, Counter] = defaultdict(Counter)
    for t in triples:
        for m in (t.subject, t.object):
            votes[_base_key(m.name, user, gaz)][m.type] += 1
    for name, type_ in hints.items():
        key = _base_key(name, user, gaz)
        if key in votes:
            votes[key][type_] += 2
    final_type = {key: _winner(counter) for key, counter in votes.items()}

    resolution = Resolution(facts=[], entities=[])
    kept: list[Triple] = []
    for t in triples:
        bad = [m for m in (t.subject, t.object) if final_type[_base_key(m.name, user, gaz)] != m.type]
        if bad:
            resolution.dropped.append((t, f"{bad[0].name!r} is a {final_type[_base_key(bad[0].name, user, gaz)]} elsewhere"))
        else:
            kept.append(t)

    # 2. surface forms -> (type, key)
    surfaces: dict[tuple[str, str], Counter] = defaultdict(Counter)  # (type, key) -> surface counts
    mention_key: dict[tuple[str, str, str], tuple[str, str]] = {}  # (article, text, type) -> (type, key)
    reasons: dict[tuple[str, str], str] = {}
    kept = [_uninflect(t) if t.lang == "de" else t for t in kept]
    for t in kept:
        for m in (t.subject, t.object):
            key, reason = _key(m.name, m.type, user, gaz)
            surfaces[(m.type, key)][display_form(m.name)] += 1
            mention_key[(t.article_id, m.name, m.type)] = (m.type, key)
            if reason:
                reasons[(m.type, key, display_form(m.name))] = reason  # type: ignore[index]

    redirect: dict[tuple[str, str], tuple[tuple[str, str], str]] = {}
    _merge_genitives(surfaces, redirect)
    _merge_surnames(kept, surfaces, mention_key, people, user, gaz, redirect)
    _merge_typos(surfaces, redirect)

    def target(type_key: tuple[str, str]) -> tuple[str, str]:
        seen = set()
        while type_key in redirect and type_key not in seen:
            seen.add(type_key)
            type_key = redirect[type_key][0]
        return type_key

    # 3. entities
    grouped: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for type_key, counts in surfaces.items():
        grouped[target(type_key)].update(counts)
    entities: dict[tuple[str, str], Entity] = {}
    by_surface: dict[tuple[str, str], tuple[str, str]] = {}  # (type, surface) -> its key
    for (type_, key), counts in surfaces.items():
        for surface in counts:
            by_surface.setdefault((type_, surface), (type_, key))
    for (type_, key), counts in sorted(grouped.items()):
        name = _canonical_name(counts, key, user, gaz, type_)
        aliases_ = tuple(sorted(s for s in counts if s != name))
        entities[(type_, key)] = Entity(key=f"{type_.lower()}/{slug(key)}", name=name, type=type_, aliases=aliases_)
    for (type_, key), counts in sorted(surfaces.items()):
        entity = entities[target((type_, key))]
        for surface in sorted(counts):
            if surface == entity.name:
                continue
            # the link to the entity's own spelling, whichever side was redirected
            canonical_key = by_surface.get((type_, entity.name))
            why = (
                redirect.get((type_, key), (None, ""))[1]
                or (canonical_key != (type_, key) and redirect.get(canonical_key, (None, ""))[1])
                or reasons.get((type_, key, surface))  # type: ignore[arg-type]
                or "same name after case/accent/possessive folding"
            )
            resolution.merges.append(Merge(alias=surface, entity_key=entity.key, reason=why))

    # 4. facts
    by_fact: dict[tuple[str, str, str], list[Triple]] = defaultdict(list)
    ents: dict[str, Entity] = {}
    for t in kept:
        s = entities[target(mention_key[(t.article_id, t.subject.name, t.subject.type)])]
        o = entities[target(mention_key[(t.article_id, t.object.name, t.object.type)])]
        if s.key == o.key:
            resolution.dropped.append((t, "subject and object are the same entity"))
            continue
        if RELATIONS[t.relation][2] and o.key < s.key:
            s, o = o, s
        ents[s.key], ents[o.key] = s, o
        by_fact[(s.key, t.relation, o.key)].append(t)
    for (s_key, relation, o_key), sources in sorted(by_fact.items()):
        sources.sort(key=lambda t: (t.article_id, t.evidence_start, t.rule_id))
        resolution.facts.append(Fact(
            subject=ents[s_key], relation=relation, object=ents[o_key], sources=tuple(sources),
            confidence=combine_confidence(_best_per_sentence(sources)),
        ))
    used = {f.subject.key for f in resolution.facts} | {f.object.key for f in resolution.facts}
    resolution.entities = sorted((e for e in entities.values() if e.key in used), key=lambda e: e.key)
    resolution.merges = [m for m in resolution.merges if m.entity_key in used]
    return resolution


_INFLECTED_ADJECTIVE = re.compile(r"^([A-ZÄÖÜ]\w*sch)(?:en|er|em|es)(?=\s)")


def _uninflect(t: Triple) -> Triple:
    """German names open with an adjective that declines: "der Deutschen Telekom" -> "Deutsche
    Telekom", "Bayerischen Motoren Werke" -> "Bayerische ..." (only the -sch- adjectives, which
    are safe to restore)."""
    def fix(m: Mention) -> Mention:
        name = _INFLECTED_ADJECTIVE.sub(r"\1e", m.name)
        if name == m.name:
            return m
        return dataclasses.replace(m, refers_to=name) if m.refers_to else dataclasses.replace(m, text=name)

    subject, obj = fix(t.subject), fix(t.object)
    return t if (subject, obj) == (t.subject, t.object) else dataclasses.replace(t, subject=subject, object=obj)


def _best_per_sentence(sources: list[Triple]) -> list[float]:
    """One vote per (article, sentence): two rules firing on one sentence are not two sources."""
    best: dict[tuple[str, int], float] = {}
    for t in sources:
        key = (t.article_id, t.evidence_start)
        best[key] = max(best.get(key, 0.0), t.confidence)
    return list(best.values())


def _winner(counter: Counter) -> str:
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], ("Organization", "Person", "Place").index(kv[0])))
    return ranked[0][0]


def _strip_legal(name: str, gaz) -> str:
    words = name.split()
    while len(words) > 1 and gaz.legal(words[-1]) == "strong":
        words.pop()
    return " ".join(words)


def _base_key(text: str, user: Mapping[str, str], gaz) -> str:
    """Key used for type voting: alias-mapped, place-canonical, legal suffix dropped, folded."""
    return _key(text, None, user, gaz)[0]


def _key(text: str, type_: str | None, user: Mapping[str, str], gaz) -> tuple[str, str]:
    surface = clean_surface(text)
    folded = fold(surface)
    if folded in user:
        return fold(user[folded]), "alias file"
    if fold(_strip_legal(surface, gaz)) in user:
        return fold(user[fold(_strip_legal(surface, gaz))]), "alias file"
    if type_ in (None, "Place"):
        place = gaz.place(surface)
        if place:
            return fold(place), "place gazetteer"
    stripped = _strip_legal(surface, gaz)
    if stripped != surface:
        return fold(stripped), "legal-form suffix dropped"
    return folded, ""


def _canonical_name(counts: Counter, key: str, user: Mapping[str, str], gaz, type_: str) -> str:
    for value in user.values():
        if fold(value) == key:
            return value
    if type_ == "Place":
        for surface in counts:
            place = gaz.place(surface)
            if place:
                return place
    def rank(item):
        surface, n = item
        inner_caps = any(c.isupper() for c in surface[1:])
        possessive = surface.endswith(("'s", "'"))  # "Amazon's" only if nothing else was seen
        words = len(surface.split())
        if type_ == "Person":  # a person is named in full: "Rebecca Thorsen", not "Thorsen"
            return (possessive, -words, -n, not inner_caps, surface)
        return (possessive, -n, -words, not inner_caps, surface)
    # an organisation's legal suffix is dropped from its name only where the text also names it
    # without one ("Tesla Inc" and "Tesla"): "News Corporation" alone is not called "News"
    seen = {surface.casefold() for surface in counts}
    forms = Counter()
    for surface, n in counts.items():
        stripped = _strip_legal(surface, gaz) if type_ == "Organization" else surface
        forms[stripped if stripped.casefold() in seen else surface] += n
    # spellings that differ only in case are one form, shown in CamelCase if any ("TikTok")
    by_case: dict[str, list[str]] = defaultdict(list)
    for form in forms:
        by_case[form.casefold()].append(form)
    merged = Counter()
    for variants in by_case.values():
        shown = sorted(variants, key=lambda v: (not any(c.isupper() for c in v[1:]), -forms[v], v))[0]
        merged[shown] = sum(forms[v] for v in variants)
    return sorted(merged.items(), key=rank)[0][0]


def _merge_genitives(surfaces, redirect) -> None:
    """German genitive: "Amazons" -> "Amazon" when the bare name is a known entity of that type."""
    keys = set(surfaces)
    for type_, key in sorted(keys):
        if key.endswith("s") and (type_, key[:-1]) in keys and len(key) > 3:
            redirect[(type_, key)] = ((type_, key[:-1]), "genitive -s")


def _merge_surnames(triples, surfaces, mention_key, people, user, gaz, redirect) -> None:
    """Surname-only person mentions -> the full name in the same article, else a unique one."""
    full_names: dict[str, set[tuple[str, str]]] = defaultdict(set)  # folded surname -> person keys
    per_article: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    for (type_, key) in surfaces:
        if type_ == "Person" and " " in key:
            for tail in _tails(key):
                full_names[tail].add((type_, key))
    for article, names in people.items():
        for name in names:
            key = _key(name, "Person", user, gaz)[0]
            if " " in key:
                surfaces.setdefault(("Person", key), Counter())
                for tail in _tails(key):
                    per_article[article][tail] = ("Person", key)
                    full_names[tail].add(("Person", key))
    for t in triples:
        for m in (t.subject, t.object):
            if m.type != "Person":
                continue
            type_key = mention_key[(t.article_id, m.name, m.type)]
            key = type_key[1]
            if " " in key and key not in per_article[t.article_id]:
                for tail in _tails(key):
                    per_article[t.article_id].setdefault(tail, type_key)
    for t in triples:
        for m in (t.subject, t.object):
            type_key = mention_key[(t.article_id, m.name, m.type)]
            if m.type != "Person" or type_key in redirect:
                continue
            key = type_key[1]
            local = per_article[t.article_id].get(key)
            if local and local != type_key:
                redirect[type_key] = (local, "surname after the full name in the same article")
            elif len(full_names.get(key, ())) == 1 and next(iter(full_names[key])) != type_key:
                redirect[type_key] = (next(iter(full_names[key])), "surname of the only person so named in the build")
    for type_key in [k for k, v in surfaces.items() if not v]:
        if not any(target == type_key for target, _ in redirect.values()):
            del surfaces[type_key]


def _tails(key: str) -> list[str]:
    words = key.split()
    return [" ".join(words[i:]) for i in range(1, len(words))]


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Levenshtein distance, giving up (returning limit + 1) once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _one_word_misspelt(a: str, b: str) -> bool:
    """Same words but one, misspelt by one edit (two in a word of ten letters or more), in a
    word of at least six letters: "bytedace"/"bytedance", but not "ge aerospace"/"gkn
    aerospace"."""
    wa, wb = a.split(), b.split()
    if len(wa) != len(wb):
        return False
    differing = [(x, y) for x, y in zip(wa, wb) if x != y]
    if len(differing) != 1:
        return False
    x, y = differing[0]
    if min(len(x), len(y)) < 6 or x[0] != y[0]:
        return False
    allowed = 1 if len(x) < 10 else 2
    return edit_distance(x, y, allowed) <= allowed


def _merge_typos(surfaces, redirect) -> None:
    """Names of one type within a small edit distance: the rarer spelling joins the commoner.

    Only names that could be typos of each other are compared: blocked by type, first letter
    and word count, and within a block by length (two letters apart at most), so the cost
    grows with the block sizes, not with the square of the build's names."""
    blocks: dict[tuple[str, str, int], list[tuple[str, tuple]]] = defaultdict(list)
    for (type_, key), counts in surfaces.items():
        if (type_, key) not in redirect and type_ != "Place" and key:
            camel = any(any(c.isupper() for c in surface[1:]) for surface in counts)
            # commoner first; on a tie the CamelCase and the longer spelling (typos drop letters)
            blocks[(type_, key[0], len(key.split()))].append((key, (-sum(counts.values()), not camel, -len(key), key)))
    for (type_, _, _), keys in blocks.items():
        keys.sort(key=lambda kv: kv[1])
        by_length: dict[int, list[tuple[int, str]]] = defaultdict(list)  # length -> (rank, key)
        for rank, (key, _) in enumerate(keys):
            by_length[len(key)].append((rank, key))
        for i, (rare, _) in enumerate(keys):
            if len(rare) < 6:
                continue
            nearby = sorted(
                (rank, common) for size in range(len(rare) - 2, len(rare) + 3)
                for rank, common in by_length.get(size, ()) if rank < i
            )
            for _, common in nearby:
                if (type_, common) in redirect:
                    continue
                if _one_word_misspelt(rare, common):
                    redirect[(type_, rare)] = ((type_, common), f"spelling within a small edit distance of {common!r}")
                    break
