"""Training the learned scorer (:mod:`kg.learned`) from annotated real articles.

Used by ``scripts/train-scorer``; needs scikit-learn (``pip install .[train]``), which
scoring does not. Examples are the candidate pairs of each article, labelled with the gold
relation when the gold file states that relation between the two names and the pair's
sentence holds (part of) the gold evidence; every other pair is a "none" example.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .evaluate import GoldTriple, _Normaliser
from .extraction import ArticleView, candidate_pairs
from .learned import NONE, pair_features
from .mentions import annotate_entities
from .names import fold
from .pipeline import load_stage
from .settings import Settings
from .types import RELATIONS, Article


@dataclass(frozen=True)
class Example:
    article: str
    features: tuple[str, ...]
    label: str


def _spans(text: str, evidence: str) -> list[tuple[int, int]]:
    out, start = [], text.find(evidence)
    while start >= 0 and evidence:
        out.append((start, start + len(evidence)))
        start = text.find(evidence, start + 1)
    return out


def article_examples(article: Article, gold: Sequence[GoldTriple], aliases: Mapping[str, str], settings: Settings) -> list[Example]:
    """Labelled candidate pairs of one article (language known)."""
    stage = load_stage(article.lang or "und", settings)
    doc = stage.pipeline(article.text)
    annotated = annotate_entities(doc, stage.lang, stage.ruleset.lexicon, use_ner="ner" in stage.pipeline.nlp.pipe_names)
    view = ArticleView(article=article, annotated=annotated, lexicon=stage.ruleset.lexicon, lang=stage.lang)
    norm = _Normaliser(aliases)
    known = {norm.base(g.subject) for g in gold} | {norm.base(g.object) for g in gold}
    surnames: dict[str, set[str]] = {}
    for name in known:
        if " " in name:
            surnames.setdefault(name.split()[-1], set()).add(name)

    def gold_name(token) -> str:
        mention = annotated.mention_at(token)
        label = mention.name if mention is not None else token.text
        key = norm.name(label, known)
        if key in known:
            return key
        words = key.split()
        if len(words) > 1 and norm.name(" ".join(words[:-1]), known) in known:
            return norm.name(" ".join(words[:-1]), known)  # "Siemens AG" -> "Siemens"
        if len(surnames.get(key, ())) == 1:
            return next(iter(surnames[key]))
        return key

    facts: dict[tuple[str, str], list[tuple[str, list[tuple[int, int]]]]] = {}
    for g in gold:
        s, o = norm.name(g.subject, known), norm.name(g.object, known)
        where = _spans(article.text, g.evidence)
        facts.setdefault((s, o), []).append((g.relation, where))
        if RELATIONS[g.relation][2]:
            facts.setdefault((o, s), []).append((g.relation, where))

    out = []
    for candidate in candidate_pairs(doc):
        s, o = doc[candidate.subject], doc[candidate.object]
        if fold(s.text) == fold(o.text):
            continue
        sent = s.sent
        label = NONE
        for relation, where in facts.get((gold_name(s), gold_name(o)), ()):
            if not where or any(a < sent.end_char and sent.start_char < b for a, b in where):
                label = relation
                break
        out.append(Example(article.id, tuple(pair_features(view, s, o)), label))
    return out


def fit(examples: Sequence[Example], *, c: float = 1.0, seed: int = 0, threshold: float = 0.5,
        min_count: int = 2) -> dict:
    """Fit a multinomial logistic regression; returns the JSON-ready model."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    counts: dict[str, int] = {}
    for ex in examples:
        for f in set(ex.features):
            counts[f] = counts.get(f, 0) + 1
    rows = [{f: 1.0 for f in ex.features if counts[f] >= min_count} for ex in examples]
    labels = [ex.label for ex in examples]
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform(rows)
    model = LogisticRegression(C=c, max_iter=2000, random_state=seed)
    model.fit(x, labels)
    classes = [str(c_) for c_ in model.classes_]
    coef = model.coef_
    if len(classes) == 2:  # binary problems store one row: expand to both classes
        import numpy as np

        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercepts = [-model.intercept_[0] / 2, model.intercept_[0] / 2]
    else:
        intercepts = list(model.intercept_)
    weights: dict[str, dict[str, float]] = {}
    for j, feature in enumerate(vectorizer.feature_names_):
        per_class = {classes[k]: round(float(coef[k, j]), 4) for k in range(len(classes)) if abs(coef[k, j]) >= 1e-3}
        if per_class:
            weights[feature] = per_class
    return {
        "format": "kg-linear-scorer/1",
        "classes": classes,
        "intercepts": {classes[k]: round(float(intercepts[k]), 4) for k in range(len(classes))},
        "weights": dict(sorted(weights.items())),
        "threshold": threshold,
        "training": {"examples": len(examples), "positives": sum(1 for label in labels if label != NONE),
                     "C": c, "seed": seed, "min_count": min_count},
    }


def write_model(model: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def read_articles_for(ids: Iterable[str], folders: Sequence[Path]) -> list[Article]:
    """The articles with these ids (file stems), read and cleaned the way a build reads them,
    with the language from the file name prefix (en_, fr_, de_)."""
    from .articles import read_articles

    wanted = set(ids)
    files = []
    for folder in folders:
        for stem in sorted(wanted):
            path = folder / f"{stem}.txt"
            if path.is_file():
                files.append(path)
    found = {}
    for article in read_articles(files, on_skip=lambda _s: None):
        found[article.id] = article
    return [dataclasses.replace(article, lang=article.id.split("_", 1)[0]) for article in found.values()]
