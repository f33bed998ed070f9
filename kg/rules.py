"""Loading and validating the per-language rule data in ``kg/rules/<lang>/``.

Each language folder holds the same two files:

``relations.jsonl``
    One rule a line. A rule names its ``id`` (``<lang>.<relation>.<cue>``), a spaCy ``Matcher``
    token ``pattern`` (or a ``DependencyMatcher`` ``dep_pattern``), what it ``emit``s, a base
    ``confidence`` and example sentences with the facts they must yield. Pattern tokens may use
    three shorthands that are expanded here: ``"SLOT": name`` names the token for ``emit``,
    ``"ENT": type`` requires an entity of that type (or an untyped name, which the rule then
    types; ``"TYPED": true`` beside it refuses untyped names), ``{"GAP": n}`` allows up to n tokens that are not people, companies or untyped names
    (``{"SKIP": n}``: any tokens; past 14 the gap is unbounded within the clause)
    within the clause, a string ``"@list"``
    inside ``IN``/``NOT_IN`` stands for a word list of ``lexicon.json``, and ``{@list}`` inside
    a ``REGEX`` stands for an alternation of that list's words (escaped, longest first), so a
    vocabulary shared by many patterns lives in one list.
``lexicon.json``
    Word lists: cue lists referenced by rules, and the engine's lists (conjunctions, negations,
    hedges, titles, entity cues, words that are never names).

A malformed rule raises :class:`RuleError` naming the file, the line and the rule id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import RuleError
from .resources import RULES_DIR
from .types import ENTITY_TYPES, RELATIONS

_MISSING = object()

UNKNOWN = "Unknown"  # label of a name whose type is not known yet
REFERENCE = "Ref"  # label suffix of a pronoun standing for a name ("PersonRef" for "he")


def base_type(label: str) -> str:
    """The entity type of a Doc label: "PersonRef" -> "Person"."""
    return label[: -len(REFERENCE)] if label.endswith(REFERENCE) else label
LONGEST_BOUNDED_GAP = 14
_SENTENCE_PUNCT = (".", "!", "?", ";", ":", "\n", "\n\n")

# The lexicon schema. Lists the engine itself reads; every language must define them
# (possibly empty): a misspelt key is then a missing one.
ENGINE_LISTS = (
    "conjunctions",  # joins enumerations: "and", "und", "et", "as well as"
    "negations",  # "not", "nicht", "pas": no fact
    "hedges",  # "could", "soll", "pourrait": lower confidence
    "titles",  # job-title heads, never names
    "title_words",  # words a job title is made of ("chief", "operating", "officer")
    "not_names",  # capitalised words that are never names
    "org_cues",  # a name after these is an organisation ("the company X")
    "person_cues",  # a name after these is a person
    "place_cues",  # a name after these is a place
    "org_compound_heads",  # "X-owned", "X-Konzern": X is an organisation
    "name_particles",  # "von", "de", "van" inside person names
    "former",  # former-job markers before a company: "ex", "former", "ehemalige"
    "org_anaphora",  # nouns that refer back to the article's company: "company", "Konzern"
    "anaphora_determiners",  # determiners before those nouns: "the", "der", "la"
    "as_words",  # "as", "als", "comme", "en tant que" before a job title
)
# Lists the engine reads when present (empty otherwise).
OPTIONAL_LISTS = (
    "org_relatives",  # "which", "qui": after "Name," types it an organisation
    "person_relatives",  # "who": after "Name," types it a person
    "cue_compounds",  # hyphenated cue words read whole ("start-up", "Tech-Konzern")
    "relation_compound_heads",  # "Tiktok-Mutter Bytedance": the first name only modifies the next
    "institution_heads",  # "Institut", "Union": their names go on in lower case ("Union des journalistes")
    "name_linkers",  # "de", "des", "pour la": inside such a name, never at its end
    "genitive_linkers",  # "de", "des", "of": an institution's name goes on after them
    "institution_nouns",  # lower-case nouns that open a name with "de": "université de Syracuse"
    "honorifics",  # "Mr", "Mme", "Frau": the name after them is a person, whatever NER says
    "implicit_titles",  # "said chief executive X" with no company in the sentence: X's post at the one before
    "institution_suffixes",  # "-ministerium", "-kammer": a compound noun so ending names an institution
    "org_name_tails",  # "Institution", "Energie": after a name, part of an organisation's name
    "glued_former_prefixes",  # "ex" in "Exbankchef": a past post
    "not_glued_former",  # words that merely start so: "export", "expert"
    "indefinite_articles",  # "ein", "eine": the noun after them names no institution
    "leave_verbs",  # "resign", "quitter": their past subject worked at the company named with them
    "dismiss_verbs",  # "replace", "sack", "limoger": their object worked at the company named with them
    "occupations",  # "analyste", "economist", "-chef": after "Name," they type a person
    "tenure_verbs",  # "diriger", "run": told in a past that is over, the post was held before
    "past_auxiliaries",  # "avoir": with a past participle, a finished past ("a dirigé"); not English "have"
    "copulas",  # "être", "become": a company named right after one is a predicate, not a subject
    "trusted_ner_labels",  # "Person": NER's label kept on a name of capitalised words with no known first name
    "rival_nouns",  # "rival", "Konkurrent": with a company after it and none before, it stands for the one named before
)
# Word -> word tables the engine reads when present.
ENGINE_TABLES = (
    "contractions",  # contracted prepositions read as their base: "im" -> "in", "du" -> "de"
    "pronouns",  # pronoun -> "person", "organization" or "any": coreference (kg/mentions.py)
)


@dataclass(frozen=True)
class Emit:
    relation: str
    subject: str
    object: str


@dataclass(frozen=True)
class Example:
    text: str
    expect: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str  # "token" or "dep"
    pattern: tuple  # compiled spaCy pattern (list of dicts), as a tuple for hashing
    slots: dict[str, Any]  # slot name -> pattern index (token) or RIGHT_ID (dep)
    emits: tuple[Emit, ...]
    confidence: float
    role: str | None
    examples: tuple[Example, ...]
    source: str
    entity_slots: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Lexicon:
    lists: dict[str, frozenset[str]]
    tables: dict[str, dict[str, str]] = field(default_factory=dict)
    _memo: dict = field(default_factory=dict, compare=False, repr=False)  # derived forms, read per claim

    def __getitem__(self, name: str) -> frozenset[str]:
        if name in self.lists:
            return self.lists[name]
        if name in OPTIONAL_LISTS:
            return frozenset()
        raise KeyError(name)

    def pairs(self, name: str) -> dict[str, str]:
        """A word -> word table (empty when the language defines none)."""
        return self.tables.get(name, {})

    def derived(self, key: tuple, compute: Callable[[], object]) -> object:
        """``compute()``, remembered under ``key`` for this lexicon (a form derived from its
        lists, or a per-word verdict read over and over)."""
        found = self._memo.get(key, _MISSING)
        if found is _MISSING:
            found = self._memo[key] = compute()
        return found

    def lowered(self, name: str) -> frozenset[str]:
        """A list's entries in lower case (computed once)."""
        key = ("lowered", name)
        if key not in self._memo:
            self._memo[key] = frozenset(w.lower() for w in self[name])
        return self._memo[key]

    def multiword(self, name: str) -> tuple[tuple[str, ...], ...]:
        """Entries of a list split into lower-case words, longest first (computed once)."""
        key = ("multiword", name)
        if key not in self._memo:
            self._memo[key] = tuple(sorted((tuple(e.lower().split()) for e in self[name]), key=len, reverse=True))
        return self._memo[key]


@dataclass(frozen=True)
class RuleSet:
    lang: str
    rules: tuple[Rule, ...]
    lexicon: Lexicon


@lru_cache(maxsize=None)
def load_rules(lang: str, rules_dir: Path = RULES_DIR) -> RuleSet:
    """Load and validate ``rules_dir/<lang>/``; cached per language."""
    folder = rules_dir / lang
    if not (folder / "relations.jsonl").is_file():
        raise RuleError(f"no rules for language {lang!r} in {folder}")
    lexicon = load_lexicon(folder / "lexicon.json")
    rules: list[Rule] = []
    seen: set[str] = set()
    path = folder / "relations.jsonl"
    text = path.read_text(encoding="utf-8")
    referenced = set(re.findall(r'"@([A-Za-z_][A-Za-z0-9_]*)"', text)) | set(_REGEX_LIST.findall(text))
    read_by_engine = set(ENGINE_LISTS) | set(OPTIONAL_LISTS) | set(ENGINE_TABLES)
    for name in sorted(set(lexicon.lists) | set(lexicon.tables)):
        if name not in read_by_engine and name not in referenced:
            raise RuleError(
                f"{folder / 'lexicon.json'}: unknown key {name!r}: neither read by the engine nor "
                f"used by a rule as '@{name}' (misspelt?)"
            )
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        where = f"{path}:{lineno}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RuleError(f"{where}: not valid JSON: {exc.msg}") from exc
        rule = compile_rule(raw, lexicon, where, lang)
        if rule.id in seen:
            raise RuleError(f"{where}: rule id {rule.id!r} is used twice")
        seen.add(rule.id)
        rules.append(rule)
    return RuleSet(lang=lang, rules=tuple(rules), lexicon=lexicon)


def read_json_object(path: Path, what: str) -> dict:
    """A language file's JSON object; a missing file, bad JSON or another type is a RuleError
    naming the file (and the line)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RuleError(f"{path}: missing {what}") from exc
    except json.JSONDecodeError as exc:
        raise RuleError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(raw, dict):
        raise RuleError(f"{path}: {what} must be a JSON object")
    return raw


def load_lexicon(path: Path) -> Lexicon:
    raw = read_json_object(path, "lexicon (a JSON object of word lists)")
    lists: dict[str, frozenset[str]] = {}
    tables: dict[str, dict[str, str]] = {}
    for name, words in raw.items():
        if name.startswith("_"):
            continue
        if name in ENGINE_TABLES:
            if not isinstance(words, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in words.items()):
                raise RuleError(f"{path}: key {name!r} must be an object mapping words to words")
            tables[name] = {k.lower(): v.lower() for k, v in words.items()}
            continue
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise RuleError(f"{path}: key {name!r} must be a list of strings")
        lists[name] = frozenset(words)
    missing = [name for name in ENGINE_LISTS if name not in lists]
    if missing:
        raise RuleError(f"{path}: missing lists {', '.join(missing)}")
    return Lexicon(lists, tables)


def compile_rule(raw: Any, lexicon: Lexicon, where: str, lang: str) -> Rule:
    """Validate one rule dict and expand its shorthands into a spaCy pattern."""
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: a rule must be a JSON object")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise RuleError(f"{where}: rule without an id")
    where = f"{where} (rule {rule_id})"
    if not rule_id.startswith(f"{lang}."):
        raise RuleError(f"{where}: id must start with '{lang}.'")
    known = {"id", "relation", "subject", "object", "emit", "pattern", "dep_pattern", "confidence",
             "role", "examples", "comment"}
    unknown = set(raw) - known
    if unknown:
        raise RuleError(f"{where}: unknown keys {sorted(unknown)}")
    emits = _read_emits(raw, where)
    confidence = raw.get("confidence", 0.8)
    if not isinstance(confidence, (int, float)) or not 0 < confidence <= 1:
        raise RuleError(f"{where}: confidence must be a number in (0, 1]")
    if ("pattern" in raw) == ("dep_pattern" in raw):
        raise RuleError(f"{where}: give exactly one of 'pattern' and 'dep_pattern'")
    if "pattern" in raw:
        kind = "token"
        pattern, slots, entity_slots = _compile_token_pattern(raw["pattern"], lexicon, where)
    else:
        kind = "dep"
        pattern, slots, entity_slots = _compile_dep_pattern(raw["dep_pattern"], lexicon, where)
    role = raw.get("role")
    for emit in emits:
        for slot in (emit.subject, emit.object):
            if slot not in slots:
                raise RuleError(f"{where}: emit names slot {slot!r}, which the pattern lacks")
            if slot not in entity_slots:
                raise RuleError(f"{where}: slot {slot!r} must require an entity (ENT)")
        subj_type, obj_type, _ = RELATIONS[emit.relation]
        for slot, wanted in ((emit.subject, subj_type), (emit.object, obj_type)):
            if wanted not in entity_slots[slot]:
                raise RuleError(f"{where}: slot {slot!r} of {emit.relation} must allow {wanted}")
    if role is not None and role not in slots:
        raise RuleError(f"{where}: role slot {role!r} is not in the pattern")
    examples = _read_examples(raw.get("examples", []), where)
    return Rule(
        id=rule_id, kind=kind, pattern=tuple(pattern), slots=slots, emits=emits,
        confidence=float(confidence), role=role, examples=examples, source=where,
        entity_slots=entity_slots,
    )


def _read_emits(raw: dict, where: str) -> tuple[Emit, ...]:
    if "emit" in raw:
        items = raw["emit"]
        if not isinstance(items, list) or not items:
            raise RuleError(f"{where}: 'emit' must be a non-empty list of [subject, relation, object]")
    elif {"relation", "subject", "object"} <= set(raw):
        items = [[raw["subject"], raw["relation"], raw["object"]]]
    else:
        raise RuleError(f"{where}: give 'relation', 'subject' and 'object', or 'emit'")
    emits = []
    for item in items:
        if not (isinstance(item, list) and len(item) == 3 and all(isinstance(x, str) for x in item)):
            raise RuleError(f"{where}: each emit is [subject slot, relation, object slot]")
        subject, relation, obj = item
        if relation not in RELATIONS:
            raise RuleError(f"{where}: unknown relation {relation!r}")
        emits.append(Emit(relation=relation, subject=subject, object=obj))
    return tuple(emits)


def _read_examples(items: Any, where: str) -> tuple[Example, ...]:
    if not isinstance(items, list):
        raise RuleError(f"{where}: 'examples' must be a list")
    examples = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise RuleError(f"{where}: each example needs a 'text'")
        expect = item.get("expect", [])
        if not isinstance(expect, list) or not all(
            isinstance(e, list) and len(e) == 3 and e[1] in RELATIONS for e in expect
        ):
            raise RuleError(f"{where}: example 'expect' must be a list of [subject, relation, object]")
        examples.append(Example(text=item["text"], expect=tuple(tuple(e) for e in expect)))
    return tuple(examples)


def _entity_types(value: Any, where: str) -> tuple[str, ...]:
    types = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, list) else ()
    if not types or any(t not in ENTITY_TYPES for t in types):
        raise RuleError(f"{where}: ENT must be one of {ENTITY_TYPES} or a list of them")
    return types


_REGEX_LIST = re.compile(r"\{@([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_regex(pattern: str, lexicon: Lexicon, where: str) -> str:
    """Replace each "{@name}" of a REGEX by a group of the list's words: (?:longest|long|l)."""
    def alternation(match: re.Match) -> str:
        words = sorted(_lookup("@" + match.group(1), lexicon, where), key=lambda w: (-len(w), w))
        if not words:
            raise RuleError(f"{where}: lexicon list {match.group(1)!r} in a REGEX is empty")
        return "(?:" + "|".join(re.escape(w) for w in words) + ")"
    expanded = _REGEX_LIST.sub(alternation, pattern)
    try:
        re.compile(expanded)
    except re.error as exc:
        raise RuleError(f"{where}: bad REGEX {pattern!r}: {exc}") from None
    return expanded


def _expand_lists(value: Any, lexicon: Lexicon, where: str) -> Any:
    """Replace "@name" strings (alone or inside lists) by the lexicon's words, and "{@name}"
    inside a REGEX by an alternation of them."""
    if isinstance(value, dict):
        return {k: _expand_regex(v, lexicon, where) if k == "REGEX" and isinstance(v, str)
                else _expand_lists(v, lexicon, where) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("@"):
        return sorted(_lookup(value, lexicon, where))
    if isinstance(value, list):
        out: list = []
        for item in value:
            if isinstance(item, str) and item.startswith("@"):
                out.extend(sorted(_lookup(item, lexicon, where)))
            else:
                out.append(_expand_lists(item, lexicon, where))
        return out
    return value


def _lookup(ref: str, lexicon: Lexicon, where: str) -> frozenset[str]:
    try:
        return lexicon[ref[1:]]
    except KeyError:
        raise RuleError(f"{where}: unknown lexicon list {ref!r}") from None


def _expand_token(token: Any, lexicon: Lexicon, where: str) -> tuple[dict, str | None, tuple[str, ...] | None]:
    if not isinstance(token, dict):
        raise RuleError(f"{where}: each pattern token must be an object")
    token = dict(token)
    slot = token.pop("SLOT", None)
    types = None
    # a GAP may not cross a person, company or untyped name; it may cross a place ("beim
    # Stuttgarter Autobauer Porsche")
    for gap, extra in (("GAP", {"ENT_TYPE": {"NOT_IN": ["Person", "Organization", UNKNOWN]}}), ("SKIP", {})):
        if gap in token:
            size = token.pop(gap)
            if token or not isinstance(size, int) or size < 1:
                raise RuleError(f"{where}: a {gap} token is {{\"{gap}\": n}} with n >= 1")
            # spaCy expands {0,n} into n optional tokens, and several long ones in a pattern
            # make its matcher's states explode (gigabytes on one article): past
            # LONGEST_BOUNDED_GAP a gap is unbounded within the clause instead.
            op = f"{{0,{size}}}" if size <= LONGEST_BOUNDED_GAP else "*"
            return {**extra, "ORTH": {"NOT_IN": list(_SENTENCE_PUNCT)}, "OP": op}, slot, None
    strict = token.pop("TYPED", False)
    if "ENT" in token:
        types = _entity_types(token.pop("ENT"), where)
        untyped = [] if strict is True else [UNKNOWN]
        token["ENT_TYPE"] = {"IN": list(types) + untyped + [t + REFERENCE for t in types if t != "Place"]}
    expanded = _expand_lists(token, lexicon, where)
    for key in ("LOWER", "NORM"):  # lexicon lists keep natural case; these attributes are lower-case
        value = expanded.get(key)
        if isinstance(value, dict):
            expanded[key] = {op: [v.lower() for v in vals] if isinstance(vals, list) else vals for op, vals in value.items()}
        elif isinstance(value, str):
            expanded[key] = value.lower()
    return expanded, slot, types


def _compile_token_pattern(pattern: Any, lexicon: Lexicon, where: str):
    if not isinstance(pattern, list) or not pattern:
        raise RuleError(f"{where}: 'pattern' must be a non-empty list of token objects")
    compiled, slots, entity_slots = [], {}, {}
    for index, token in enumerate(pattern):
        spacy_token, slot, types = _expand_token(token, lexicon, where)
        if slot is not None:
            if slot in slots:
                raise RuleError(f"{where}: slot {slot!r} appears twice")
            slots[slot] = index
            if types is not None:
                entity_slots[slot] = types
        compiled.append(spacy_token)
    _check_spacy_pattern(compiled, "token", where)
    return compiled, slots, entity_slots


def _compile_dep_pattern(pattern: Any, lexicon: Lexicon, where: str):
    if not isinstance(pattern, list) or not pattern:
        raise RuleError(f"{where}: 'dep_pattern' must be a non-empty list of nodes")
    compiled, slots, entity_slots = [], {}, {}
    for node in pattern:
        if not isinstance(node, dict) or "RIGHT_ID" not in node or "RIGHT_ATTRS" not in node:
            raise RuleError(f"{where}: each dep_pattern node needs RIGHT_ID and RIGHT_ATTRS")
        node = dict(node)
        attrs, _, types = _expand_token(node["RIGHT_ATTRS"], lexicon, where)
        node["RIGHT_ATTRS"] = attrs
        slots[node["RIGHT_ID"]] = node["RIGHT_ID"]
        if types is not None:
            entity_slots[node["RIGHT_ID"]] = types
        compiled.append(node)
    _check_spacy_pattern(compiled, "dep", where)
    return compiled, slots, entity_slots


def _check_spacy_pattern(pattern: list, kind: str, where: str) -> None:
    """Let spaCy itself validate the expanded pattern, so errors surface at load time."""
    from spacy.matcher import DependencyMatcher, Matcher
    from spacy.vocab import Vocab

    try:
        if kind == "token":
            Matcher(Vocab(), validate=True).add("check", [pattern])
        else:
            DependencyMatcher(Vocab(), validate=True).add("check", [pattern])
    except Exception as exc:  # spaCy raises ValueError / MatchPatternError with details
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RuleError(f"{where}: invalid spaCy pattern: {first}") from exc
