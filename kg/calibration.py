"""Confidence that means precision.

Extractors score on their own scales (a rule's base confidence times its factors, a
classifier's probability), and several sentences saying the same thing are combined by
noisy-or. :class:`Calibrator` maps that raw fact confidence to the precision measured on
annotated real articles: a monotone step function per kind of evidence ("rules" only,
"learned" only, or "both"), fitted by isotonic regression (pool adjacent violators) in
``scripts/calibrate``. Among facts whose calibrated confidence is at least c, the share that
is right is then about c, so ``--min-confidence`` is a precision knob.
"""

from __future__ import annotations

import dataclasses
import json
import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .resources import PACKAGE_DIR
from .types import Fact

DEFAULT_CALIBRATION = PACKAGE_DIR / "models" / "calibration.json"
LEARNED_SUFFIX = ".learned"  # the learned scorer's provenance ids: "<lang>.<relation>.learned"


def evidence_kind(fact: Fact) -> str:
    """"rules", "learned" or "both": which extractors stated the fact."""
    learned = {t.rule_id.endswith(LEARNED_SUFFIX) for t in fact.sources}
    return "both" if len(learned) == 2 else ("learned" if True in learned else "rules")


@dataclass(frozen=True)
class Calibrator:
    """kind -> (raw thresholds ascending, calibrated values): raw >= thresholds[i] maps to
    values[i] (the last threshold not above raw); below the first, values[0]."""

    steps: dict[str, tuple[tuple[float, ...], tuple[float, ...]]]

    def __call__(self, kind: str, raw: float) -> float:
        table = self.steps.get(kind) or self.steps.get("rules")
        if not table:
            return raw
        thresholds, values = table
        i = max(0, bisect_right(thresholds, raw) - 1)
        return values[i]

    @classmethod
    def load(cls, path: Path) -> Calibrator:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls({kind: (tuple(t["raw"]), tuple(t["precision"])) for kind, t in raw["kinds"].items()})


@lru_cache(maxsize=4)
def load_calibrator(path: str = str(DEFAULT_CALIBRATION)) -> Calibrator | None:
    return Calibrator.load(Path(path)) if Path(path).is_file() else None


def calibrator_for(setting: str) -> Calibrator | None:
    """The ``[build] calibration`` setting: "" the shipped table, "none" raw confidence, else a file."""
    if setting == "none":
        return None
    return load_calibrator(setting or str(DEFAULT_CALIBRATION))


def calibrate_facts(facts: Iterable[Fact], calibrator: Calibrator | None) -> list[Fact]:
    """Facts with their confidence mapped to measured precision (unchanged without a table)."""
    if calibrator is None:
        return list(facts)
    return [dataclasses.replace(f, confidence=round(calibrator(evidence_kind(f), f.confidence), 3)) for f in facts]


def wilson_lower(right: float, total: float, z: float) -> float:
    """The lower end of the Wilson score interval of a proportion (``z`` standard errors)."""
    if total <= 0:
        return 0.0
    p = right / total
    centre = p + z * z / (2 * total)
    spread = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return max(0.0, (centre - spread) / (1 + z * z / total))


def fit_isotonic(points: Sequence[tuple[float, bool]], min_bin: int = 8, z: float = 0.0) -> tuple[list[float], list[float]]:
    """Pool adjacent violators over (raw confidence, right?) points, sorted by confidence:
    returns the step function's raw thresholds and non-decreasing precisions. Bins hold at
    least ``min_bin`` points and their precision is smoothed, so that a handful of facts
    cannot claim certainty (nor worthlessness).

    With ``z`` > 0 a bin claims the lower end of its precision's Wilson interval instead
    (z = 1: about 84% sure the precision is at least that): the facts of a new article set
    are not the ones the bins were fitted on, and a confidence should be a floor, not a hope."""
    ordered = sorted(points)
    blocks: list[list[float]] = []  # [start raw, right, total]
    for raw, right in ordered:
        if blocks and (blocks[-1][2] < min_bin or blocks[-1][0] == raw):
            blocks[-1][1] += right
            blocks[-1][2] += 1
        else:
            blocks.append([raw, float(right), 1.0])
    if len(blocks) > 1 and blocks[-1][2] < min_bin:
        last = blocks.pop()
        blocks[-1][1] += last[1]
        blocks[-1][2] += last[2]
    merged = True
    while merged:
        merged = False
        for i in range(len(blocks) - 1):
            if blocks[i][1] / blocks[i][2] > blocks[i + 1][1] / blocks[i + 1][2]:
                blocks[i][1] += blocks[i + 1][1]
                blocks[i][2] += blocks[i + 1][2]
                del blocks[i + 1]
                merged = True
                break
    thresholds = [b[0] for b in blocks]
    thresholds[0] = 0.0
    if z > 0:
        values = [wilson_lower(b[1], b[2], z) for b in blocks]
    else:  # Laplace-smoothed: a bin of n facts, k right, claims (k + 1) / (n + 2), never 0 or 1
        values = [(b[1] + 1) / (b[2] + 2) for b in blocks]
    for i in range(len(values) - 2, -1, -1):  # smoothing must not undo the order: lower, never raise
        values[i] = min(values[i], values[i + 1])
    return thresholds, [round(v, 3) for v in values]
