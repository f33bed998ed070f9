"""A learned relation scorer: a linear classifier over candidate mention pairs.

The second :class:`~kg.extraction.RelationExtractor` (registered as ``learned``). For every
candidate pair of :func:`kg.extraction.candidate_pairs` it computes sparse features — entity
types, order and distance, the words between and around, the lexicon classes of those words
(``hire_verbs``, ``former``, ``office_nouns`` ...: the same class names in every language, so
evidence carries across languages), the dependency path where the pipeline parses — and a
multinomial logistic model gives the probability of each relation (or none). Claims at or
above the model's threshold go through the same post-steps as the rules' claims.

The model is plain JSON (feature -> per-class weights), trained by ``scripts/train-scorer``
from annotated real articles only; scoring needs no machine-learning library.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from .extraction import ArticleView, Scored, apposition_owner
from .names import fold
from .resources import PACKAGE_DIR
from .types import RELATIONS

NONE = "none"
LEARNED_CUE = "learned"  # provenance id of a claim: "<lang>.<relation>.learned", like a rule id
DEFAULT_MODEL = PACKAGE_DIR / "models" / "scorer.json"
MAX_BETWEEN = 12  # words between the two names that are looked at one by one
_DIST_BUCKETS = (1, 2, 3, 5, 8, 12, 20)


def _bucket(n: int) -> str:
    for edge in _DIST_BUCKETS:
        if n <= edge:
            return str(edge)
    return "far"


def _word(token) -> str:
    return (token.lemma_ or token.text).lower()


def lexicon_classes(lexicon) -> dict[str, tuple[str, ...]]:
    """Lower-cased word -> the names of the lexicon lists that hold it."""
    cached = _CLASS_CACHE.get(id(lexicon))
    if cached is not None and cached[0] is lexicon:
        return cached[1]
    table: dict[str, list[str]] = {}
    for name, words in lexicon.lists.items():
        if name in ("not_names", "name_particles", "anaphora_determiners", "conjunctions"):
            continue
        for word in words:
            if " " not in word:
                table.setdefault(word.lower(), []).append(name)
    out = {w: tuple(sorted(set(names))) for w, names in table.items()}
    _CLASS_CACHE[id(lexicon)] = (lexicon, out)
    return out


_CLASS_CACHE: dict[int, tuple[object, dict[str, tuple[str, ...]]]] = {}


def _classes_of(token, classes: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    low = token.lower_
    found = classes.get(low) or classes.get(_word(token))
    if found:
        return found
    for suffix_len in (7, 6, 5, 4):  # German compounds: "Vorstandschef" ends in a title
        if len(low) > suffix_len + 2:
            found = classes.get(low[-suffix_len:])
            if found:
                return found
    return ()


class _Tokens:
    """What the features read of every token of one article, read once (a spaCy ``Token`` is
    built anew on every ``doc[i]``, and pairs share their words)."""

    __slots__ = ("word", "text", "ent", "space", "classes", "head", "dep", "sent_start", "sent_end", "parsed")

    def __init__(self, doc, classes: dict[str, tuple[str, ...]]) -> None:
        tokens = list(doc)
        self.word = [_word(t) for t in tokens]
        self.text = [t.text for t in tokens]
        self.ent = [t.ent_type_ for t in tokens]
        self.space = [t.is_space for t in tokens]
        self.classes = [_classes_of(t, classes) for t in tokens]
        self.parsed = doc.has_annotation("DEP")
        self.head = [t.head.i for t in tokens] if self.parsed else []
        self.dep = [t.dep_ for t in tokens] if self.parsed else []
        self.sent_start = [0] * len(tokens)
        self.sent_end = [len(tokens)] * len(tokens)
        for sent in doc.sents:
            for i in range(sent.start, sent.end):
                self.sent_start[i], self.sent_end[i] = sent.start, sent.end


def _tokens(view: ArticleView) -> _Tokens:
    cached = view.__dict__.get("_learned_tokens")
    if cached is None:
        cached = _Tokens(view.doc, lexicon_classes(view.lexicon))
        view.__dict__["_learned_tokens"] = cached
    return cached


def _dep_path(tab: _Tokens, s: int, o: int) -> tuple[str, str] | None:
    """Dependency labels from s up to the lowest common ancestor and down to o, and the
    ancestor's lemma; None without a parse or across sentences."""
    if not tab.parsed:
        return None
    head = tab.head
    up = [s]
    while head[up[-1]] != up[-1] and len(up) < 12:
        up.append(head[up[-1]])
    index = {t: k for k, t in enumerate(up)}
    down = [o]
    while down[-1] not in index and head[down[-1]] != down[-1] and len(down) < 12:
        down.append(head[down[-1]])
    if down[-1] not in index:
        return None
    lca = down[-1]
    left = [tab.dep[t] for t in up[:index[lca]]]
    right = [tab.dep[t] for t in down[:-1]]
    return "<".join(left) + "^" + ">".join(reversed(right)), tab.word[lca]


def pair_features(view: ArticleView, s, o) -> list[str]:
    """The features of the ordered pair (subject token s, object token o) of one sentence."""
    lang = view.lang
    tab = _tokens(view)
    classes = lexicon_classes(view.lexicon)
    si, oi = s.i, o.i
    s_m, o_m = view.annotated.mention_at(s), view.annotated.mention_at(o)  # type: ignore[attr-defined]
    ts, to = tab.ent[si] or "none", tab.ent[oi] or "none"
    lo, hi = (si, oi) if si < oi else (oi, si)
    order = "so" if si < oi else "os"
    between = range(lo + 1, hi)
    f = [
        "bias", f"types={ts}>{to}", f"order={order}",
        f"dist={_bucket(len(between))}", f"types_order={ts}>{to}:{order}",
    ]
    if s_m is not None and s_m.refers_to:
        f.append("s_ref")
    if o_m is not None and o_m.refers_to:
        f.append("o_ref")
    names_between = sum(1 for i in between if tab.ent[i])
    f.append(f"names_between={min(names_between, 3)}")
    if any(tab.text[i] == "," for i in between):
        f.append("comma_between")
    if any(tab.text[i] in "()" for i in between):
        f.append("paren_between")
    short = len(between) <= MAX_BETWEEN
    for k, i in enumerate(between):
        if tab.space[i]:
            continue
        for name in tab.classes[i]:
            f.append(f"bw_lex={name}")
            if short:
                f.append(f"bw_lex_{ 'near' if min(k, len(between) - 1 - k) < 3 else 'mid'}={name}")
        if short and not tab.ent[i]:
            f.append(f"{lang}:bw={tab.word[i]}")
    if between and short:
        f.append(f"{lang}:bw_first={tab.word[lo + 1]}")
        f.append(f"{lang}:bw_last={tab.word[hi - 1]}")
    sent_start, sent_end = tab.sent_start[si], tab.sent_end[si]
    for side, i in (("before", lo - 1 if lo - 1 >= sent_start else None),
                    ("after", hi + 1 if hi + 1 < sent_end else None)):
        if i is None:
            f.append(f"{side}=<edge>")
            continue
        f.append(f"{lang}:{side}={tab.word[i]}")
        for name in tab.classes[i]:
            f.append(f"{side}_lex={name}")
    for i in range(max(sent_start, lo - 4), lo):
        for name in tab.classes[i]:
            f.append(f"left_lex={name}")
    for side, name_i, other_i in (("o", oi, si), ("s", si, oi)):
        owner = apposition_owner(view.doc, name_i)  # "A, PDG de X, B, ...": X is A's, not B's
        if owner is not None:
            f.append(f"{side}_apposed={'pair' if owner == other_i else 'other'}")
    path = _dep_path(tab, si, oi)
    if path is not None:
        f.append(f"path={path[0]}")
        f.append(f"{lang}:lca={path[1]}")
        for name in classes.get(path[1], ()):
            f.append(f"lca_lex={name}")
    return f


class LinearModel:
    """Multinomial logistic regression stored as feature -> {class: weight}."""

    def __init__(self, classes: tuple[str, ...], weights: dict[str, dict[str, float]],
                 intercepts: dict[str, float], threshold: float, thresholds: dict[str, float] | None = None) -> None:
        self.classes = classes
        self.weights = weights
        self.intercepts = intercepts
        self.threshold = threshold
        self.thresholds = thresholds or {}

    def threshold_for(self, relation: str) -> float:
        """The probability a claim of ``relation`` needs (per relation, tuned on cross-fitted
        real data: the scorer is good at works_at and located_in, poor at worked_at)."""
        return self.thresholds.get(relation, self.threshold)

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(tuple(raw["classes"]), raw["weights"], raw["intercepts"], float(raw.get("threshold", 0.5)),
                   {k: float(v) for k, v in raw.get("thresholds", {}).items()})

    def probabilities(self, features: list[str]) -> dict[str, float]:
        scores = dict(self.intercepts)
        for feature in set(features):
            for label, weight in self.weights.get(feature, {}).items():
                scores[label] += weight
        top = max(scores.values())
        exp = {label: math.exp(v - top) for label, v in scores.items()}
        total = sum(exp.values())
        return {label: v / total for label, v in exp.items()}


@lru_cache(maxsize=4)
def load_model(path: str) -> LinearModel:
    return LinearModel.load(Path(path))


_FITS = {(s, o): [r for r, (rs, ro, _) in RELATIONS.items() if rs == s and ro == o] for s, o, _ in RELATIONS.values()}


class LearnedExtractor:
    """Scores every candidate pair with the shipped linear model."""

    name = "learned"

    def __init__(self, stage) -> None:
        path = getattr(stage, "learned_model", "") or DEFAULT_MODEL
        if not Path(path).is_file():
            from .errors import ConfigError

            raise ConfigError(f"the learned scorer's model is missing: {path} (retrain with scripts/train-scorer)")
        self.model = load_model(str(path))

    def score(self, view: ArticleView) -> Iterator[Scored]:
        doc = view.doc
        for candidate in view.candidates():
            s, o = doc[candidate.subject], doc[candidate.object]
            if fold(s.text) == fold(o.text):
                continue
            probs = self.model.probabilities(pair_features(view, s, o))
            for relation, p in probs.items():
                if relation == NONE or p < self.model.threshold_for(relation):
                    continue
                yield Scored(relation=relation, subject=s.i, object=o.i, confidence=round(p, 3),
                             source=f"{view.lang}.{relation}.{LEARNED_CUE}", first=min(s.i, o.i),
                             last=max(s.i, o.i), verb_cue=True)

