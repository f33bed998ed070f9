"""The learned scorer (kg/learned.py), its training (kg/learned_train.py) and calibration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import kg
from kg.calibration import Calibrator, fit_isotonic
from kg.learned import DEFAULT_MODEL, LinearModel
from kg.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
REALDEV = ROOT.parent / "shared" / "eval" / "realdev"


def test_learned_linear_model_gives_probabilities_and_per_relation_thresholds():
    model = LinearModel(("none", "works_at"), {"f": {"works_at": 2.0}}, {"none": 0.0, "works_at": -1.0}, 0.5,
                        {"works_at": 0.3})
    probs = model.probabilities(["f", "f", "unknown-feature"])
    assert abs(sum(probs.values()) - 1.0) < 1e-9
    assert probs["works_at"] > probs["none"]  # a feature counts once, however often listed
    assert model.threshold_for("works_at") == 0.3 and model.threshold_for("parent_of") == 0.5


def test_learned_shipped_model_is_plain_json_with_its_provenance():
    raw = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
    assert raw["format"] == "kg-linear-scorer/1"
    assert "none" in raw["classes"] and raw["training"]["sets"]
    assert set(raw["thresholds"]) <= set(raw["classes"])


def test_learned_extractor_claims_go_through_the_post_steps(tmp_path):
    """With only the learned scorer, a plain employment sentence yields works_at, and the same
    sentence negated yields nothing (negation is a shared post-step)."""
    config = tmp_path / "kg.cfg"
    config.write_text("[extract]\nextractors = learned\n", encoding="utf-8")
    settings = load_settings(config)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(
        "Markets\n\nJane Roe, the chief executive of Stripe, said profits rose.\n", encoding="utf-8")
    (tmp_path / "in" / "b.txt").write_text(
        "Markets\n\nJane Roe, who is not the chief executive of Stripe, said profits rose.\n", encoding="utf-8")
    facts = kg.build(tmp_path / "in", settings, lang="en").facts
    by_article = {(t.article_id, f.relation) for f in facts for t in f.sources}
    assert ("a", "works_at") in by_article
    assert ("b", "works_at") not in by_article


def test_learned_isotonic_calibration_is_monotone_and_bins_small_counts():
    points = [(0.1, False)] * 10 + [(0.3, True)] * 3 + [(0.3, False)] * 7 + [(0.6, True)] * 9 + [(0.6, False)] + [(0.9, True)] * 2
    thresholds, values = fit_isotonic(points, min_bin=5)
    assert thresholds[0] == 0.0 and thresholds == sorted(thresholds)
    assert values == sorted(values)
    calibrator = Calibrator({"rules": (tuple(thresholds), tuple(values))})
    assert calibrator("rules", 0.05) == values[0]
    assert calibrator("learned", 0.95) == values[-1]  # unknown kind: the rules' table


@pytest.mark.skipif(not REALDEV.is_dir(), reason=f"{REALDEV} is absent: training needs annotated real articles")
def test_learned_training_from_real_gold_gives_a_loadable_model(tmp_path):
    pytest.importorskip("sklearn", reason="training needs scikit-learn (pip install .[train])")
    from kg.evaluate import read_aliases, read_gold
    from kg.learned_train import article_examples, fit, read_articles_for, write_model

    settings = load_settings()
    gold = read_gold(REALDEV / "gold.tsv")
    by_article: dict = {}
    for g in gold:
        by_article.setdefault(g.article, []).append(g)
    wanted = sorted(a for a in by_article if a.startswith("en_"))[:3]
    examples = []
    for article in read_articles_for(wanted, [REALDEV / "articles"]):
        examples += article_examples(article, by_article[article.id], read_aliases(REALDEV / "aliases.tsv"), settings)
    assert any(e.label != "none" for e in examples) and any(e.label == "none" for e in examples)
    model = fit(examples, c=0.5, seed=0, threshold=0.4, min_count=1)
    path = tmp_path / "scorer.json"
    write_model(model, path)
    assert fit(examples, c=0.5, seed=0, threshold=0.4, min_count=1)["weights"] == model["weights"]  # reproducible
    loaded = LinearModel.load(path)
    assert loaded.classes == tuple(model["classes"])
    config = tmp_path / "kg.cfg"
    config.write_text(f"[extract]\nextractors = rules, learned\nlearned_model = {path}\n", encoding="utf-8")
    assert kg.build(ROOT / "samples" / "en_siemens_berlin_ai_hub.txt", load_settings(config)).facts


def test_calibration_can_claim_a_floor_of_precision_not_its_estimate():
    # z > 0: a bin claims the lower end of its Wilson interval, below the bin's own precision,
    # the more so the fewer facts it holds; the table stays non-decreasing
    from kg.calibration import wilson_lower

    assert wilson_lower(9, 10, 1.0) < 0.9 < wilson_lower(900, 1000, 1.0) + 0.02
    assert wilson_lower(90, 100, 1.0) > wilson_lower(9, 10, 1.0)
    points = [(0.2, False)] * 12 + [(0.5, True)] * 8 + [(0.5, False)] * 4 + [(0.9, True)] * 19 + [(0.9, False)]
    _, mean = fit_isotonic(points, min_bin=5)
    _, floor = fit_isotonic(points, min_bin=5, z=1.0)
    assert floor == sorted(floor) and all(f < m for f, m in zip(floor, mean))
    assert floor[-1] < 19 / 20 < mean[-1] + 0.05
