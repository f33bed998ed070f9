"""German pipelines side by side: kg's German NER (kg_de_ner) against the HanTa-only fallback.

    .venv/bin/python bench/de_ner.py [--repeat N] [--json]

Each pipeline runs in a fresh process (so load time and peak memory are its own) over the
German articles of samples/ and devset/, repeated N times: model load time (spaCy already
imported, then with the import), words per second of the pipeline call (tokenizer, sentences,
HanTa tags and lemmas, and for kg_de_ner the NER and the place gazetteer), words per second of
kg's names stage on top (annotate_entities), and peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODELS = ("fallback", "kg_de_ner")


def measure(model: str, repeat: int) -> dict:
    started = time.perf_counter()
    import spacy  # noqa: F401

    import_seconds = time.perf_counter() - started
    from kg.articles import read_articles
    from kg.mentions import TypeMemory, annotate_entities
    from kg.nlp import _load
    from kg.pipeline import with_language
    from kg.rules import load_rules

    articles = with_language(read_articles([ROOT / "samples", ROOT / "devset"], on_skip=lambda s: None), None, lambda s: None)
    texts = [a.text for a in articles if a.lang == "de"]
    words = sum(len(t.split()) for t in texts) * repeat
    started = time.perf_counter()
    pipeline = _load("de", model)
    load_seconds = time.perf_counter() - started
    lexicon = load_rules("de").lexicon
    pipeline(texts[0])  # warm up
    started = time.perf_counter()
    docs = [pipeline(text) for _ in range(repeat) for text in texts]
    nlp_seconds = time.perf_counter() - started
    memory = TypeMemory()
    started = time.perf_counter()
    for doc in docs:
        annotate_entities(doc, "de", lexicon, memory, use_ner="ner" in pipeline.nlp.pipe_names)
    names_seconds = time.perf_counter() - started
    return {
        "model": model, "articles": len(texts) * repeat, "words": words,
        "load_s": round(load_seconds, 2), "load_with_spacy_import_s": round(load_seconds + import_seconds, 2),
        "pipeline_words_per_s": round(words / nlp_seconds),
        "pipeline_and_names_words_per_s": round(words / (nlp_seconds + names_seconds)),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", choices=MODELS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one, args.repeat)))
        return 0
    results = []
    for model in MODELS:
        out = subprocess.run([sys.executable, __file__, "--one", model, "--repeat", str(args.repeat)],
                             capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        keys = [k for k in results[0] if k != "model"]
        print(f"{'':>32} " + " ".join(f"{r['model']:>12}" for r in results))
        for key in keys:
            print(f"{key:>32} " + " ".join(f"{r[key]:>12}" for r in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
