"""The build is a pure map and an explicit reduce; extractors and languages plug in as data."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib.compare import isomorphic, to_isomorphic

import kg
import kg.errors
from kg.errors import RuleError
from kg.extraction import Scored, register_extractor
from kg.resources import RULES_DIR
from kg.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


def _sample_files() -> list[Path]:
    return sorted(p for p in SAMPLES.iterdir() if p.suffix in (".txt", ".html", ".jsonl"))


def test_architecture_any_permutation_of_the_corpus_gives_an_isomorphic_graph(settings):
    files = _sample_files()
    reference = kg.build(files, settings).graph
    for seed in (1, 2):
        shuffled = files[:]
        random.Random(seed).shuffle(shuffled)
        graph = kg.build(list(reversed(shuffled)) if seed == 2 else shuffled, settings).graph
        if not isomorphic(reference, graph):
            a, b = to_isomorphic(reference), to_isomorphic(graph)
            only_a = sorted(map(str, set(a) - set(b)))[:5]
            only_b = sorted(map(str, set(b) - set(a)))[:5]
            pytest.fail(f"order changed the graph: only in sorted order {only_a}; only in permuted {only_b}")


def test_architecture_the_map_is_pure(settings):
    """The same article gives the same result before and after other articles were processed."""
    from kg.pipeline import load_stage, process_article
    from kg.types import Article

    text = "Nina Kraus, bislang Vorständin bei Henkel, wechselt zur Hamburger Beiersdorf AG."
    article = Article(id="a", source="a", text=text, lang="de")
    stage = load_stage("de", settings)
    first = process_article(article, stage)
    for other in ("Die Beiersdorf AG baut in Hamburg.", "Henkel und Beiersdorf sind Konkurrenten."):
        process_article(Article(id="o", source="o", text=other, lang="de"), stage)
    assert process_article(article, stage) == first


class _EveryRivalPair:
    """A toy second extractor: 'rival' in a sentence makes every pair of companies in it
    competitors. Registered without touching the rule engine."""

    name = "toy-rivals"

    def __init__(self, stage) -> None:
        self.lang = stage.lang

    def score(self, view):
        doc = view.doc
        for candidate in view.candidates():
            s, o = doc[candidate.subject], doc[candidate.object]
            if s.ent_type_ == o.ent_type_ == "Organization" and s.i < o.i and any(t.lower_ == "rivals" for t in s.sent):
                yield Scored("competes_with", s.i, o.i, 0.5, f"{self.lang}.competes_with.toy-rivals", s.i, o.i, verb_cue=True)


def test_architecture_a_second_extractor_registers_and_goes_through_the_post_steps(tmp_path):
    register_extractor("toy-rivals", _EveryRivalPair)
    config = tmp_path / "kg.cfg"
    config.write_text("[extract]\nextractors = rules, toy-rivals\n", encoding="utf-8")
    settings = load_settings(config)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(
        "Markets\n\nThe rivals Siemens AG and Bosch GmbH reported results on Monday.\n"
        "The rivals Siemens AG and Bosch GmbH did not merge.\n", encoding="utf-8")
    result = kg.build(tmp_path / "in", settings, lang="en")
    facts = {(f.subject.name, f.relation, f.object.name) for f in result.facts}
    assert ("Bosch GmbH", "competes_with", "Siemens AG") in facts  # named as written: no bare "Bosch" in the text
    sources = [t for f in result.facts for t in f.sources if t.rule_id.endswith(".toy-rivals")]
    assert sources and all("did not" not in t.evidence for t in sources)  # negation post-step


def test_architecture_unknown_extractor_fails_before_any_work(tmp_path):
    config = tmp_path / "kg.cfg"
    config.write_text("[extract]\nextractors = rules, no-such-extractor\n", encoding="utf-8")
    with pytest.raises(kg.errors.ConfigError, match="no-such-extractor"):
        kg.build(SAMPLES / "en_siemens_berlin_ai_hub.txt", load_settings(config))


def _dutch_language(root: Path) -> Path:
    """A throwaway language made from the skeleton folder: data only, no Python."""
    folder = root / "nl"
    shutil.copytree(RULES_DIR / "_template", folder)
    lexicon = json.loads((folder / "lexicon.json").read_text(encoding="utf-8"))
    lexicon["conjunctions"] = ["en", "of"]
    lexicon["negations"] = ["niet", "geen"]
    lexicon["work_verbs"] = ["werkt", "werkte"]
    (folder / "lexicon.json").write_text(json.dumps(lexicon), encoding="utf-8")
    language = json.loads((folder / "language.json").read_text(encoding="utf-8"))
    language["function_words"] = "de het een en van in op te dat die is niet bij voor met zijn was".split()
    (folder / "language.json").write_text(json.dumps(language), encoding="utf-8")
    rule = {"id": "nl.works_at.werkt_bij", "relation": "works_at", "subject": "p", "object": "o",
            "pattern": [{"SLOT": "p", "ENT": "Person"}, {"LOWER": {"IN": "@work_verbs"}}, {"LOWER": "bij"},
                        {"SLOT": "o", "ENT": "Organization"}]}
    (folder / "relations.jsonl").write_text(json.dumps(rule) + "\n", encoding="utf-8")
    return folder


def test_architecture_a_new_language_is_a_folder_and_a_model_line(tmp_path):
    _dutch_language(tmp_path / "rules")
    config = tmp_path / "kg.cfg"
    config.write_text(f"[rules]\nextra_folders = {tmp_path / 'rules'}\n\n[models]\nnl = blank\n", encoding="utf-8")
    settings = load_settings(config)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "nieuws.txt").write_text(
        "Nieuws uit de stad\n\nVolgens de krant is het nieuws dat Anna Jansen werkt bij Philips, en dat is een goed bericht voor de stad.\n",
        encoding="utf-8")
    result = kg.build(tmp_path / "in", settings)  # no --lang: detected from language.json
    assert result.report.by_language == {"nl": 1}
    assert {(f.subject.name, f.relation, f.object.name) for f in result.facts} == {("Anna Jansen", "works_at", "Philips")}


def test_architecture_a_misspelt_lexicon_key_names_file_and_key(tmp_path):
    folder = _dutch_language(tmp_path / "rules")
    lexicon = json.loads((folder / "lexicon.json").read_text(encoding="utf-8"))
    lexicon["formr"] = lexicon.pop("former")
    (folder / "lexicon.json").write_text(json.dumps(lexicon), encoding="utf-8")
    from kg.rules import load_rules

    with pytest.raises(RuleError, match=r"lexicon\.json.*former"):
        load_rules("nl", folder.parent)
    lexicon["former"] = []
    (folder / "lexicon.json").write_text(json.dumps(lexicon), encoding="utf-8")
    with pytest.raises(RuleError, match=r"lexicon\.json.*'formr'"):
        load_rules("nl", folder.parent)


def test_architecture_an_unknown_language_key_names_file_and_key(tmp_path):
    folder = _dutch_language(tmp_path / "rules")
    data = json.loads((folder / "language.json").read_text(encoding="utf-8"))
    data["function_wrods"] = data.pop("function_words")
    (folder / "language.json").write_text(json.dumps(data), encoding="utf-8")
    from kg.languages import load_language

    with pytest.raises(RuleError, match=r"language\.json.*'function_wrods'"):
        load_language(folder)


def test_architecture_bad_base_iri_fails_in_one_line_before_any_work(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "kg.cli", "build", str(SAMPLES), "--out", str(tmp_path / "out"),
         "--base-iri", "https://x.org/a b/"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "base IRI" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_architecture_python_api_builds_writes_and_queries(tmp_path):
    result = kg.build(SAMPLES / "en_siemens_berlin_ai_hub.txt")
    assert result.facts and all(t.evidence for f in result.facts for t in f.sources)
    outputs = kg.write(result, tmp_path / "out", html=False)
    assert Path(outputs["turtle"]).is_file()
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    in_memory = int(kg.query(result.graph, count).rows[0][0])
    from_file = int(kg.query(outputs["turtle"], count).rows[0][0])
    assert in_memory == from_file == len(result.graph)
