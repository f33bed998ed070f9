"""Rule files: every rule validates, and every rule's example sentences yield what they say."""

from __future__ import annotations

import json

import pytest

from kg.errors import RuleError
from kg.names import fold
from kg.resources import RULES_DIR
from kg.languages import supported_languages
from kg.rules import load_rules

LANGS = supported_languages()
EXAMPLES = [
    pytest.param(lang, rule.id, example, id=f"{rule.id}#{i}")
    for lang in LANGS
    for rule in load_rules(lang).rules
    for i, example in enumerate(rule.examples)
]


def test_rules_every_language_has_a_folder():
    assert set(LANGS) >= {"en", "fr", "de"}


@pytest.mark.parametrize("lang", LANGS)
def test_rules_every_relation_is_covered(lang):
    from kg.types import RELATIONS

    covered = {emit.relation for rule in load_rules(lang).rules for emit in rule.emits}
    assert covered == set(RELATIONS), f"{lang} lacks rules for {set(RELATIONS) - covered}"


@pytest.mark.parametrize("lang", LANGS)
def test_rules_every_rule_has_an_example(lang):
    missing = [r.id for r in load_rules(lang).rules if not r.examples]
    assert not missing, f"rules without example sentences: {missing}"


def _norm(name: str) -> str:
    """Compare names as resolution would: place names canonical, German genitive -s dropped."""
    from kg.mentions import load_gazetteer

    place = load_gazetteer().place(name)
    return fold(place or name)


@pytest.mark.parametrize("lang,rule_id,example", EXAMPLES)
def test_rules_example_yields_expected_facts(extract_triples, lang, rule_id, example):
    triples = extract_triples(example.text, lang)
    if not example.expect:  # a counter-example: this rule must not fire on it
        fired = [(t.subject.text, t.relation, t.object.text) for t in triples if t.rule_id == rule_id]
        assert not fired, f"{rule_id} must not fire on {example.text!r}; it gave {fired}"
        return
    found = {(_norm(t.subject.name), t.relation, _norm(t.object.name)) for t in triples}
    found |= {(s[:-1] if s.endswith("s") else s, r, o[:-1] if o.endswith("s") else o) for s, r, o in found}
    for subject, relation, obj in example.expect:
        assert (_norm(subject), relation, _norm(obj)) in found, (
            f"{rule_id}: expected {subject} {relation} {obj} from {example.text!r}; got {sorted(found)}"
        )


def _write_rules(tmp_path, lang, lines, lexicon=None):
    folder = tmp_path / lang
    folder.mkdir()
    from kg.rules import ENGINE_LISTS, ENGINE_TABLES, OPTIONAL_LISTS

    engine = set(ENGINE_LISTS) | set(OPTIONAL_LISTS) | set(ENGINE_TABLES)
    base = {k: v for k, v in json.loads((RULES_DIR / "en" / "lexicon.json").read_text()).items() if k in engine}
    (folder / "lexicon.json").write_text(json.dumps(lexicon or base))
    (folder / "relations.jsonl").write_text("\n".join(lines) + "\n")
    return tmp_path


@pytest.mark.parametrize(
    "line,message",
    [
        ('{"id": "xx.works_at.a", "relation": "works_at", "subject": "p", "object": "o", "pattern": [{"SLOT": "p", "ENT": "Person"}, {"SLOT": "o", "ENT": "Organization"}]}', "id must start with 'en.'"),
        ('{"id": "en.works_at.a", "relation": "employs", "subject": "p", "object": "o", "pattern": [{"SLOT": "p", "ENT": "Person"}]}', "unknown relation"),
        ('{"id": "en.works_at.a", "relation": "works_at", "subject": "p", "object": "o", "pattern": [{"SLOT": "p", "ENT": "Person"}]}', "slot 'o'"),
        ('{"id": "en.works_at.a", "relation": "works_at", "subject": "p", "object": "o", "pattern": [{"SLOT": "p", "ENT": "Place"}, {"SLOT": "o", "ENT": "Organization"}]}', "must allow Person"),
        ('{"id": "en.works_at.a", "relation": "works_at", "subject": "p", "object": "o", "pattern": [{"SLOT": "p", "ENT": "Person"}, {"LOWER": {"IN": "@nope"}}, {"SLOT": "o", "ENT": "Organization"}]}', "unknown lexicon list"),
        ('{"id": "en.works_at.a", "relation": "works_at", "subject": "p", "object": "o", "pattern": [{"SLOT": "p", "ENT": "Person"}, {"BOGUS": 1}, {"SLOT": "o", "ENT": "Organization"}]}', "invalid spaCy pattern"),
        ('{"id": "en.works_at.a", "relation": "works_at"', "not valid JSON"),
        ('{"id": "en.works_at.a", "relation": "works_at", "subject": "p", "object": "o", "pattern": [{"SLOT": "p", "ENT": "Person"}, {"LOWER": {"REGEX": "^.*{@nope}$"}}, {"SLOT": "o", "ENT": "Organization"}]}', "unknown lexicon list"),
        ('{"id": "en.works_at.a", "relation": "works_at", "subject": "p", "object": "o", "pattern": [{"SLOT": "p", "ENT": "Person"}, {"LOWER": {"REGEX": "^({@titles}$"}}, {"SLOT": "o", "ENT": "Organization"}]}', "bad REGEX"),
    ],
)
def test_rules_bad_rule_names_file_line_and_id(tmp_path, line, message):
    rules_dir = _write_rules(tmp_path, "en", ['// a comment line', line])
    with pytest.raises(RuleError) as info:
        load_rules.__wrapped__("en", rules_dir)
    text = str(info.value)
    assert "relations.jsonl:2" in text and message in text
    if "not valid JSON" not in message and "id must" not in message:
        assert "en.works_at.a" in text


def test_rules_regex_list_reference_expands_to_the_lists_words(tmp_path):
    from kg.rules import ENGINE_LISTS, ENGINE_TABLES, OPTIONAL_LISTS

    engine = set(ENGINE_LISTS) | set(OPTIONAL_LISTS) | set(ENGINE_TABLES)
    lexicon = {k: v for k, v in json.loads((RULES_DIR / "en" / "lexicon.json").read_text()).items() if k in engine}
    lexicon["heads"] = ["chef", "leiter", "c.e.o"]
    line = ('{"id": "en.works_at.a", "relation": "works_at", "subject": "p", "object": "o", "pattern": '
            '[{"SLOT": "p", "ENT": "Person"}, {"LOWER": {"REGEX": "^(ex-)?.*{@heads}$"}}, {"SLOT": "o", "ENT": "Organization"}]}')
    rules = load_rules.__wrapped__("en", _write_rules(tmp_path, "en", [line], lexicon))
    regex = rules.rules[0].pattern[1]["LOWER"]["REGEX"]
    import re

    assert regex == r"^(ex-)?.*(?:leiter|c\.e\.o|chef)$"
    assert re.match(regex, "konzernchef") and re.match(regex, "ex-abteilungsleiter")
    assert not re.match(regex, "chefkoch") and not re.match(regex, "cxeo")


def test_rules_a_list_used_only_inside_a_regex_counts_as_used(tmp_path):
    from kg.rules import ENGINE_LISTS, ENGINE_TABLES, OPTIONAL_LISTS

    engine = set(ENGINE_LISTS) | set(OPTIONAL_LISTS) | set(ENGINE_TABLES)
    lexicon = {k: v for k, v in json.loads((RULES_DIR / "en" / "lexicon.json").read_text()).items() if k in engine}
    lexicon["heads"] = ["chef"]
    lexicon["unused"] = ["x"]
    line = ('{"id": "en.works_at.a", "relation": "works_at", "subject": "p", "object": "o", "pattern": '
            '[{"SLOT": "p", "ENT": "Person"}, {"LOWER": {"REGEX": "{@heads}"}}, {"SLOT": "o", "ENT": "Organization"}]}')
    with pytest.raises(RuleError, match="'unused'"):
        load_rules.__wrapped__("en", _write_rules(tmp_path, "en", [line], lexicon))


def test_rules_duplicate_ids_are_rejected(tmp_path):
    line = '{"id": "en.works_at.a", "relation": "works_at", "subject": "p", "object": "o", "pattern": [{"SLOT": "p", "ENT": "Person"}, {"SLOT": "o", "ENT": "Organization"}]}'
    with pytest.raises(RuleError, match="used twice"):
        load_rules.__wrapped__("en", _write_rules(tmp_path, "en", [line, line]))
