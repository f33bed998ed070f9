"""Scoring predicted triples against gold triples (format: ``../shared/eval/SCHEMA.md``).

Labels are compared after :func:`kg.names.fold` (case, accents, elisions, English possessives),
the alias map, and stripping a German genitive "-s" when that yields a gold name of the article
("Amazons" -> "Amazon"). Each article is a set of triples, so duplicates count once; the
symmetric relations (``competes_with``) match in either direction. Only articles that appear
in the gold file are scored. Figures are micro-averaged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from .errors import InputError
from .names import fold
from .types import RELATIONS

UNKNOWN_LANGUAGE = "und"


@dataclass(frozen=True)
class GoldTriple:
    """One line of a gold file; ``source`` is "file:line"."""

    article: str
    subject: str
    relation: str
    object: str
    evidence: str = ""
    source: str = ""


class PredictedTriple(NamedTuple):
    """A system triple as surface labels; any 4-tuple in this order is accepted too."""

    article: str
    subject: str
    relation: str
    object: str
    evidence: str = ""
    confidence: float = 1.0


@dataclass(frozen=True)
class Counts:
    """True positives, false positives and false negatives, with the derived figures."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


@dataclass(frozen=True)
class EvalResult:
    """Micro-averaged figures overall and per relation, language and article, plus the errors.

    ``missed`` are gold triples not found (false negatives); ``spurious`` are predictions that
    match no gold triple (false positives), each as first emitted.
    """

    overall: Counts
    by_relation: dict[str, Counts] = field(default_factory=dict)
    by_language: dict[str, Counts] = field(default_factory=dict)
    by_article: dict[str, Counts] = field(default_factory=dict)
    missed: list[GoldTriple] = field(default_factory=list)
    spurious: list[PredictedTriple] = field(default_factory=list)
    by_language_relation: dict[str, Counts] = field(default_factory=dict)  # "de works_at" -> counts


# --------------------------------------------------------------------------------------------
# Reading


def _tsv_rows(path: str | Path) -> Iterable[tuple[int, list[str]]]:
    """(line number, fields) of the non-blank, non-comment lines of a UTF-8 TSV file."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"evaluation file not found: {file}")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        yield number, [f.strip() for f in line.split("\t")]


def read_gold(path: str | Path) -> list[GoldTriple]:
    """Read a gold TSV file: ``article, subject, relation, object, evidence`` a line.

    A header line whose first field is "article", blank lines and ``#`` comments are skipped;
    the evidence column may be missing. A short line, an empty field or an unknown relation
    raises :class:`InputError` naming the file and line.
    """
    triples: list[GoldTriple] = []
    for number, fields in _tsv_rows(path):
        where = f"{path}:{number}"
        if fields[0].casefold() == "article" and not triples:
            continue
        if len(fields) < 4:
            raise InputError(
                f"{where}: expected 5 tab-separated fields "
                f"(article, subject, relation, object, evidence), got {len(fields)}"
            )
        article, subject, relation, obj = fields[:4]
        if not (article and subject and relation and obj):
            raise InputError(f"{where}: article, subject, relation and object must not be empty")
        if relation not in RELATIONS:
            raise InputError(
                f"{where}: unknown relation {relation!r}; expected one of {', '.join(RELATIONS)}"
            )
        evidence = "\t".join(fields[4:]).strip()
        triples.append(GoldTriple(article, subject, relation, obj, evidence, where))
    return triples


def read_aliases(path: str | Path) -> dict[str, str]:
    """Read an alias TSV file (``alias<TAB>canonical``) into a dict, as written.

    A header line "alias<TAB>canonical", blank lines and ``#`` comments are skipped; a line
    without exactly two non-empty fields raises :class:`InputError` naming the file and line.
    """
    aliases: dict[str, str] = {}
    for number, fields in _tsv_rows(path):
        if len(fields) != 2 or not all(fields):
            raise InputError(f"{path}:{number}: expected 'alias<TAB>canonical'")
        alias, canonical = fields
        if alias.casefold() == "alias" and canonical.casefold() == "canonical":
            continue
        aliases[alias] = canonical
    return aliases


# --------------------------------------------------------------------------------------------
# Matching

Key = tuple[str, str, str]  # (subject, relation, object), normalised


@lru_cache(maxsize=100_000)
def _place_key(label: str) -> str:
    """A place's key is its gazetteer name: gold spells places as the article does ("Wien",
    "Royaume-Uni") while kg names them once for every language ("Vienna", "United Kingdom");
    both are the same entity. Other names are left as they are."""
    from .mentions import load_gazetteer

    place = load_gazetteer().place(label)
    return fold(place if place else label)


class _Normaliser:
    """Maps a surface label to its comparison key for one article."""

    def __init__(self, aliases: Mapping[str, str]) -> None:
        folded = {fold(a): fold(c) for a, c in aliases.items() if fold(a) and fold(c)}
        self.cased = {fold(c): c.strip() for c in aliases.values()}
        # Follow chains (A -> B -> C) so every alias lands on its final canonical name.
        self.aliases: dict[str, str] = {}
        for alias in folded:
            target, seen = folded[alias], {alias}
            while target in folded and target not in seen:
                seen.add(target)
                target = folded[target]
            self.aliases[alias] = target

    def base(self, label: str) -> str:
        key = fold(label)
        if key in self.aliases:  # the canonical name as the alias file writes it ("USA" is a code)
            return _place_key(self.cased.get(self.aliases[key], self.aliases[key]))
        return _place_key(label.strip())

    def name(self, label: str, known: set[str]) -> str:
        key = self.base(label)
        if key not in known and len(key) > 2 and key.endswith("s"):
            stripped = self.base(key[:-1])
            if stripped in known:  # German genitive: "Amazons" -> "Amazon"
                return stripped
        return key

    def key(self, subject: str, relation: str, obj: str, known: set[str]) -> Key:
        """Comparison key of a triple; symmetric relations put their two names in order."""
        s, o = self.name(subject, known), self.name(obj, known)
        if RELATIONS.get(relation, ("", "", False))[2] and o < s:
            s, o = o, s
        return s, relation, o




def score(
    predicted: Iterable[PredictedTriple | tuple[str, str, str, str]],
    gold: list[GoldTriple],
    aliases: Mapping[str, str],
    article_langs: Mapping[str, str],
) -> EvalResult:
    """Compare ``predicted`` with ``gold`` article by article and count tp, fp and fn.

    ``aliases`` maps surface names to canonical ones (both folded before use);
    ``article_langs`` gives each article's language for the per-language figures (articles
    missing from it count as "und"). Predictions for articles absent from ``gold`` are ignored.
    """
    norm = _Normaliser(aliases)
    gold_sets: dict[str, dict[Key, GoldTriple]] = {}
    for triple in gold:
        gold_sets.setdefault(triple.article, {})
    known: dict[str, set[str]] = {article: set() for article in gold_sets}
    for triple in gold:
        known[triple.article].update((norm.base(triple.subject), norm.base(triple.object)))
    for triple in gold:
        names = known[triple.article]
        key = norm.key(triple.subject, triple.relation, triple.object, names)
        gold_sets[triple.article].setdefault(key, triple)

    predicted_sets: dict[str, dict[Key, PredictedTriple]] = {article: {} for article in gold_sets}
    for item in predicted:
        triple = PredictedTriple(*item)
        if triple.article not in gold_sets:
            continue
        names = known[triple.article]
        key = norm.key(triple.subject, triple.relation, triple.object, names)
        previous = predicted_sets[triple.article].get(key)
        if previous is None or triple.confidence > previous.confidence:
            predicted_sets[triple.article][key] = triple

    by_relation: dict[str, Counts] = {}
    by_language: dict[str, Counts] = {}
    by_article: dict[str, Counts] = {}
    by_language_relation: dict[str, Counts] = {}
    missed: list[GoldTriple] = []
    spurious: list[PredictedTriple] = []
    for article in sorted(gold_sets):
        expected, got = gold_sets[article], predicted_sets[article]
        lang = article_langs.get(article) or UNKNOWN_LANGUAGE
        article_counts = Counts()
        for key in sorted(expected.keys() | got.keys()):
            hit = Counts(
                tp=int(key in expected and key in got),
                fp=int(key in got and key not in expected),
                fn=int(key in expected and key not in got),
            )
            if hit.fp:
                spurious.append(got[key])
            if hit.fn:
                missed.append(expected[key])
            relation = key[1]
            by_relation[relation] = by_relation.get(relation, Counts()) + hit
            both = f"{lang} {relation}"
            by_language_relation[both] = by_language_relation.get(both, Counts()) + hit
            article_counts += hit
        by_article[article] = article_counts
        by_language[lang] = by_language.get(lang, Counts()) + article_counts

    overall = sum(by_article.values(), Counts())
    return EvalResult(
        overall=overall,
        by_relation=dict(sorted(by_relation.items())),
        by_language=dict(sorted(by_language.items())),
        by_article=by_article,
        missed=missed,
        spurious=spurious,
        by_language_relation=dict(sorted(by_language_relation.items())),
    )


# --------------------------------------------------------------------------------------------
# Reporting


def _table(title: str, rows: Mapping[str, Counts]) -> list[str]:
    width = max([len(title), *(len(name) for name in rows)])
    lines = [f"{title:<{width}}  {'tp':>4} {'fp':>4} {'fn':>4}  {'P':>6} {'R':>6} {'F1':>6}"]
    for name, c in rows.items():
        lines.append(
            f"{name:<{width}}  {c.tp:>4} {c.fp:>4} {c.fn:>4}  "
            f"{c.precision:>6.3f} {c.recall:>6.3f} {c.f1:>6.3f}"
        )
    return lines


def format_eval(result: EvalResult, *, by_article: bool = False, errors: bool = True) -> str:
    """Plain-text report: tables per relation, language, language and relation (and article),
    overall, then the missed and spurious facts with their evidence."""
    lines: list[str] = []
    lines += _table("relation", result.by_relation) + [""]
    lines += _table("language", result.by_language) + [""]
    lines += _table("language relation", result.by_language_relation) + [""]
    if by_article:
        lines += _table("article", result.by_article) + [""]
    lines += _table("overall", {"all": result.overall}) + [""]
    if not errors:
        return "\n".join(lines) + "\n"
    lines.append(f"missed ({len(result.missed)}):")
    for g in result.missed:
        evidence = f'  "{g.evidence}"' if g.evidence else ""
        lines.append(f"  {g.article}: {g.subject} --{g.relation}--> {g.object}{evidence}")
    lines.append("")
    lines.append(f"spurious ({len(result.spurious)}):")
    for p in result.spurious:
        evidence = f'  "{p.evidence}"' if p.evidence else ""
        lines.append(f"  {p.article}: {p.subject} --{p.relation}--> {p.object} ({p.confidence:.2f}){evidence}")
    return "\n".join(lines) + "\n"


def judge(predicted: Iterable[PredictedTriple | tuple], gold: list[GoldTriple], aliases: Mapping[str, str]) -> list[bool | None]:
    """For each predicted triple: is it in the gold of its article (None: article not in gold)?"""
    norm = _Normaliser(aliases)
    known: dict[str, set[str]] = {}
    for triple in gold:
        known.setdefault(triple.article, set()).update((norm.base(triple.subject), norm.base(triple.object)))
    keys: dict[str, set[Key]] = {}
    for triple in gold:
        keys.setdefault(triple.article, set()).add(norm.key(triple.subject, triple.relation, triple.object, known[triple.article]))
    out: list[bool | None] = []
    for item in predicted:
        p = PredictedTriple(*item)
        if p.article not in keys:
            out.append(None)
            continue
        out.append(norm.key(p.subject, p.relation, p.object, known[p.article]) in keys[p.article])
    return out


CALIBRATION_LEVELS = (0.5, 0.7, 0.9)


def calibration_table(predicted: Iterable[PredictedTriple], gold: list[GoldTriple], aliases: Mapping[str, str],
                      article_langs: Mapping[str, str], levels: Iterable[float] = CALIBRATION_LEVELS) -> list[tuple[float, Counts]]:
    """For each level c: the counts of the facts with confidence >= c (confidence should mean
    precision: their precision should be at least c)."""
    items = [PredictedTriple(*p) for p in predicted]
    return [(c, score([p for p in items if p.confidence >= c], gold, aliases, article_langs).overall) for c in levels]


def format_calibration(rows: list[tuple[float, Counts]]) -> str:
    lines = [f"{'confidence >=':<14} {'facts':>6} {'right':>6} {'precision':>9}"]
    for level, counts in rows:
        facts = counts.tp + counts.fp
        precision = f"{counts.precision:.3f}" if facts else "-"
        lines.append(f"{level:<14.2f} {facts:>6} {counts.tp:>6} {precision:>9}")
    return "\n".join(lines) + "\n"


def _counts_json(counts: Counts) -> dict[str, float | int]:
    return {
        "tp": counts.tp,
        "fp": counts.fp,
        "fn": counts.fn,
        "precision": round(counts.precision, 4),
        "recall": round(counts.recall, 4),
        "f1": round(counts.f1, 4),
    }


def eval_to_json(result: EvalResult) -> dict[str, Any]:
    """The result as JSON-serialisable data (figures rounded to 4 decimals)."""
    return {
        "overall": _counts_json(result.overall),
        "by_relation": {k: _counts_json(v) for k, v in result.by_relation.items()},
        "by_language": {k: _counts_json(v) for k, v in result.by_language.items()},
        "by_article": {k: _counts_json(v) for k, v in result.by_article.items()},
        "by_language_relation": {k: _counts_json(v) for k, v in result.by_language_relation.items()},
        "missed": [
            {"article": g.article, "subject": g.subject, "relation": g.relation,
             "object": g.object, "evidence": g.evidence}
            for g in result.missed
        ],
        "spurious": [p._asdict() for p in result.spurious],
    }
