"""Throughput of kg's extraction against raw spaCy on the same texts.

    .venv/bin/python bench/throughput.py [--repeat N] [--json]

Reads the bundled samples and the dev set (about 23 articles, 7,000 words), repeats them
N times, and times (1) the raw spaCy pipeline of each language over the texts (German: the
fallback's tokenizer + HanTa tagger), (2) kg's per-article stages (names, rules, second pass)
and (3) a whole `build` including resolution and writing the graph. Model loading is timed
apart. Peak memory is the process's maximum resident set size. Prints one line per
measurement (or JSON).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.articles import read_articles  # noqa: E402
from kg.pipeline import build, load_stage, process_article, with_language  # noqa: E402
from kg.settings import load_settings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = load_settings()
    skipped = []
    articles = list(with_language(read_articles([ROOT / "samples", ROOT / "devset"], on_skip=skipped.append), None, skipped.append))
    corpus = articles * args.repeat
    words = sum(len(a.text.split()) for a in corpus)

    started = time.perf_counter()
    stages = {lang: load_stage(lang, settings) for lang in sorted({a.lang for a in articles})}  # load once
    load_seconds = time.perf_counter() - started

    by_lang = defaultdict(list)
    for article in corpus:
        by_lang[article.lang].append(article.text)
    started = time.perf_counter()
    for lang, texts in by_lang.items():
        pipeline = stages[lang].pipeline
        for text in texts:
            pipeline(text)
    spacy_seconds = time.perf_counter() - started

    started = time.perf_counter()
    triples = sum(len(process_article(a, stages[a.lang]).triples) for a in corpus)
    kg_seconds = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        build([ROOT / "samples", ROOT / "devset"], out, settings, html=True)
        build_seconds = time.perf_counter() - started
        sizes = {p.name: p.stat().st_size for p in Path(out).iterdir()}

    result = {
        "articles": len(corpus), "words": words, "model_load_s": round(load_seconds, 2),
        "spacy_articles_per_s": round(len(corpus) / spacy_seconds, 2),
        "spacy_words_per_s": round(words / spacy_seconds),
        "kg_articles_per_s": round(len(corpus) / kg_seconds, 2),
        "kg_words_per_s": round(words / kg_seconds),
        "kg_over_spacy": round(kg_seconds / spacy_seconds, 2),
        "triples": triples, "one_build_s": round(build_seconds, 2), "output_bytes": sizes,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
