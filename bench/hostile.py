"""Time and peak memory of the per-article map on generated pathological inputs (issue 12).

    python bench/hostile.py                 # every case, each in a fresh process
    python bench/hostile.py line-40k        # one case

Each case runs in its own process so peak RSS is that case's alone; the model load is timed
separately from the map. Inputs are generated here (nothing is read from a corpus).
"""

from __future__ import annotations

import dataclasses
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("the company said it would hire engineers in Berlin after Siemens acquired a start-up "
         "from Munich while Dana Whitfield who joined Amazon Web Services moved to Lisbon and "
         "Zalando competes with ABB and Google former researcher at DeepMind leads robotics").split()


def single_line(size: int, seed: int = 1) -> str:
    """One line of words, names and cue words without any punctuation."""
    rnd = random.Random(seed)
    out, total = [], 0
    while total < size:
        word = rnd.choice(WORDS)
        out.append(word)
        total += len(word) + 1
    return " ".join(out)[:size]


def bad_html(size: int, seed: int = 2) -> str:
    """HTML with unclosed tags and stray end tags around prose."""
    rnd = random.Random(seed)
    parts, total = ["<html><body>"], 0
    while total < size:
        piece = f"<p><b>{single_line(80, rnd.random())} <i>{rnd.choice(WORDS)}</div></span><div><font>"
        parts.append(piece)
        total += len(piece)
    return "".join(parts)


def prose(size: int) -> str:
    """Normal English news prose: the sample article's paragraphs, repeated with the names varied."""
    base = (ROOT / "samples" / "en_siemens_berlin_ai_hub.txt").read_text(encoding="utf-8")
    paragraphs = [p for p in base.split("\n\n")[1:] if p.strip()]
    out, total, n = [], 0, 0
    while total < size:
        p = paragraphs[n % len(paragraphs)].replace("Whitfield", f"Whitfield{n % 97}")
        out.append(p)
        total += len(p) + 2
        n += 1
    return "\n\n".join(out)[:size]


CASES = {
    "line-10k": ("single line, no punctuation", lambda: single_line(10_000), ".txt"),
    "line-40k": ("single line, no punctuation", lambda: single_line(40_000), ".txt"),
    "line-60k": ("single line, no punctuation", lambda: single_line(60_000), ".txt"),
    "html-95k": ("unclosed and stray tags", lambda: bad_html(95_000), ".html"),
    "html-380k": ("unclosed and stray tags", lambda: bad_html(380_000), ".html"),
    "prose-300k": ("normal prose", lambda: prose(300_000), ".txt"),
    "line-1200k": ("single line over spaCy's max_length", lambda: single_line(1_200_000), ".txt"),
}


def run_case(name: str) -> dict:
    from kg.articles import read_articles
    from kg.pipeline import load_stage, map_article
    from kg.settings import load_settings

    import tempfile

    _label, make, suffix = CASES[name]
    settings = dataclasses.replace(load_settings(), article_seconds=10**6)  # measure, do not skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"case{suffix}"
        path.write_text(make(), encoding="utf-8")
        started = time.perf_counter()
        article = next(iter(read_articles([path], lang="en", on_skip=lambda _s: None)))
        read_s = time.perf_counter() - started
    started = time.perf_counter()
    load_stage("en", settings)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    try:
        result = map_article(article, settings)
        outcome = result.skipped.reason if result.skipped else f"{len(result.triples)} triples"
    except Exception as exc:  # the "before" code raises on some inputs
        outcome = f"raised {type(exc).__name__}: {str(exc)[:80]}"
    map_s = time.perf_counter() - started
    return {"case": name, "chars": len(article.text), "read_s": round(read_s, 2), "load_s": round(load_s, 2),
            "map_s": round(map_s, 2), "outcome": outcome,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--child":
        print(json.dumps(run_case(argv[1])))
        return 0
    for name in argv or list(CASES):
        proc = subprocess.run([sys.executable, __file__, "--child", name], capture_output=True, text=True, cwd=ROOT)
        if proc.returncode:
            print(f"{name}: failed\n{proc.stderr[-2000:]}")
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{name:<11} {row['chars']:>8} chars  read {row['read_s']:>6.2f}s  map {row['map_s']:>7.2f}s  "
              f"peak RSS {row['peak_mb']} MB  -> {row['outcome']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
