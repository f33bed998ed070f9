"""Throughput of kg's per-article stages against the language pipelines alone, per language.

    .venv/bin/python bench/throughput.py [--runs 5] [--repeat 1] [--corpus DIR ...] [--json]

Texts: the bundled samples and the fictional dev set (about 32 articles, 10,000 words), or the
articles under ``--corpus`` folders (e.g. ``../shared/eval/realdev/articles``), repeated
``--repeat`` times. For each language, ``--runs`` rounds are timed side by side, interleaved:

- ``spacy``: the language pipeline alone over the texts, ``nlp.pipe`` (German: kg's own
  pipeline, its NER and the HanTa tagger that gives it part-of-speech tags);
- ``kg``: kg's whole per-article map over the same texts, as the engines run it
  (:func:`kg.pipeline.process_articles` on batches of ``BATCH_ARTICLES``: typography, the same
  pipeline, names and coreference, rules, learned scorer, post-steps).

Prints min / median / max seconds of each, and the ratio kg / spaCy (of the medians, and the
min / median / max of the per-round ratios). Model loading is timed apart; peak memory is the
process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.articles import read_articles  # noqa: E402
from kg.pipeline import BATCH_ARTICLES, load_stage, process_article, process_articles, with_language  # noqa: E402
from kg.settings import load_settings  # noqa: E402


def spread(values: list[float], digits: int = 3) -> dict:
    ordered = sorted(values)
    return {"min": round(ordered[0], digits), "median": round(statistics.median(ordered), digits),
            "max": round(ordered[-1], digits)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="interleaved rounds per language (default 5)")
    parser.add_argument("--repeat", type=int, default=1, help="each text this many times per round")
    parser.add_argument("--corpus", type=Path, action="append", help="article folders instead of the bundled texts")
    parser.add_argument("--limit", type=int, default=0, help="at most this many articles per language")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = load_settings()
    sources = args.corpus or [ROOT / "samples", *(ROOT / "devset" / lang for lang in ("en", "fr", "de"))]
    by_lang: dict[str, list] = defaultdict(list)
    for article in with_language(read_articles(sources, on_skip=lambda s: None), None, lambda s: None):
        if not args.limit or len(by_lang[article.lang]) < args.limit:
            by_lang[article.lang].append(article)

    started = time.perf_counter()
    stages = {lang: load_stage(lang, settings) for lang in sorted(by_lang)}
    load_seconds = time.perf_counter() - started

    result: dict = {"runs": args.runs, "model_load_s": round(load_seconds, 2), "languages": {}}
    for lang, articles in sorted(by_lang.items()):
        articles = articles * args.repeat
        texts = [a.text for a in articles]
        pipeline = stages[lang].pipeline
        words = sum(len(t.split()) for t in texts)
        for article in articles[:3]:  # warm caches (lexicon forms, gazetteer) before timing
            process_article(article, stages[lang])
        spacy_s, kg_s = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            for doc in pipeline.nlp.pipe(texts):
                if pipeline.postprocess is not None:
                    pipeline.postprocess(doc)
            spacy_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for start in range(0, len(articles), BATCH_ARTICLES):
                process_articles(articles[start:start + BATCH_ARTICLES], stages[lang])
            kg_s.append(time.perf_counter() - t0)
        ratios = [k / s for k, s in zip(kg_s, spacy_s)]
        result["languages"][lang] = {
            "articles": len(articles), "words": words, "pipeline": pipeline.name,
            "spacy_s": spread(spacy_s), "kg_s": spread(kg_s),
            "spacy_words_per_s": round(words / statistics.median(spacy_s)),
            "kg_words_per_s": round(words / statistics.median(kg_s)),
            "kg_over_spacy_of_medians": round(statistics.median(kg_s) / statistics.median(spacy_s), 3),
            "kg_over_spacy_per_run": spread(ratios),
        }
    all_spacy = sum(v["spacy_s"]["median"] for v in result["languages"].values())
    all_kg = sum(v["kg_s"]["median"] for v in result["languages"].values())
    result["kg_over_spacy_all"] = round(all_kg / all_spacy, 3) if all_spacy else None
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"model load {result['model_load_s']} s; {args.runs} interleaved runs; peak RSS {result['peak_rss_mb']} MB")
    for lang, v in result["languages"].items():
        r = v["kg_over_spacy_per_run"]
        print(f"{lang}: {v['articles']} articles, {v['words']} words ({v['pipeline']}); "
              f"spaCy s {v['spacy_s']['min']} / {v['spacy_s']['median']} / {v['spacy_s']['max']}, "
              f"kg s {v['kg_s']['min']} / {v['kg_s']['median']} / {v['kg_s']['max']}; "
              f"kg/spaCy {v['kg_over_spacy_of_medians']} (per run {r['min']} / {r['median']} / {r['max']})")
    print(f"all languages: kg/spaCy {result['kg_over_spacy_all']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
