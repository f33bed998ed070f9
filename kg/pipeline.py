"""Composes the stages: articles -> language -> NLP -> names -> rules -> resolution -> graph.

Each article is processed on its own (:func:`process_article`: Article in, triples out) and
only its small results are kept — never a corpus-wide list of spaCy Docs — so the same function
can later be mapped over a cluster. Resolution and graph building then work on triples, which
are small.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

from .articles import read_articles
from .errors import KgError, ModelNotInstalled, NothingBuilt
from .extract import compile_matchers, extract_triples
from .files import write_atomic
from .language import detect_language
from .mentions import TypeMemory, annotate_entities, promote_rule_typed_names
from .names import slug
from .nlp import LangPipeline, load_pipeline
from .resolve import Resolution, resolve_entities
from .rules import load_rules
from .settings import Settings
from .types import LANGUAGES, Article, BuildReport, Fact, Skipped, Triple


@dataclass(frozen=True)
class ArticleResult:
    """What one article contributes: its metadata (text dropped), triples and person names."""

    article: Article
    triples: tuple[Triple, ...]
    people: tuple[str, ...]
    model: str


@dataclass
class Extraction:
    """Everything the later stages need, after every article has been streamed through."""

    articles: dict[str, Article] = field(default_factory=dict)
    triples: list[Triple] = field(default_factory=list)
    people: dict[str, tuple[str, ...]] = field(default_factory=dict)
    memory: TypeMemory = field(default_factory=TypeMemory)
    report: BuildReport = field(default_factory=BuildReport)


class Extractor:
    """Holds the per-language pipelines and compiled matchers, loaded once per process."""

    def __init__(self, settings: Settings, memory: TypeMemory | None = None):
        self.settings = settings
        self.memory = memory if memory is not None else TypeMemory()
        self._loaded: dict[str, tuple[LangPipeline, object, object]] = {}

    def stage(self, lang: str):
        """The pipeline, rules and compiled matchers of a language, loaded on first use."""
        if lang not in self._loaded:
            pipeline = load_pipeline(lang, self.settings.models)
            ruleset = load_rules(lang)
            matchers = compile_matchers(ruleset, pipeline.nlp.vocab, pipeline.has_parser)
            self._loaded[lang] = (pipeline, ruleset, matchers)
        return self._loaded[lang]

    def process_article(self, article: Article) -> ArticleResult:
        """Article (language known) in, triples out. Raises ModelNotInstalled for a language
        without a pipeline."""
        pipeline, ruleset, matchers = self.stage(article.lang or "und")
        doc = pipeline(article.text)
        annotate_entities(doc, article.lang, ruleset.lexicon, self.memory, use_ner="ner" in pipeline.nlp.pipe_names)
        triples = tuple(extract_triples(article, doc, ruleset, matchers))
        if promote_rule_typed_names(doc, triples, ruleset.lexicon):
            triples = tuple(extract_triples(article, doc, ruleset, matchers))
        for t in triples:  # a rule's typing is weak evidence for later articles
            for m in (t.subject, t.object):
                self.memory.record(m.text, m.type, 0.25)
        people = tuple(sorted({e.text for e in doc.ents if e.label_ == "Person" and " " in e.text.strip()}))
        return ArticleResult(
            article=dataclasses.replace(article, text=""), triples=triples, people=people, model=pipeline.name,
        )


def with_language(articles: Iterable[Article], forced: str | None, on_skip: Callable[[Skipped], None]) -> Iterator[Article]:
    """Detect each article's language (unless forced); skip what kg has no rules for."""
    for article in articles:
        lang = forced or article.lang
        if not lang:
            lang, _score = detect_language(article.text)
        if lang not in LANGUAGES:
            on_skip(Skipped(article.source, f"language {lang!r} is not supported (en, fr, de); use --lang to force one"))
            continue
        yield dataclasses.replace(article, lang=lang)


def extract_corpus(
    paths: Iterable[str | Path],
    settings: Settings,
    *,
    lang: str | None = None,
    progress: Callable[[int, str], None] | None = None,
) -> Extraction:
    """Stream every article through the per-article stages and collect the small results."""
    result = Extraction()
    report = result.report
    extractor = Extractor(settings, result.memory)

    def skip(item: Skipped) -> None:
        report.skipped.append(item)

    def counted(articles: Iterable[Article]) -> Iterator[Article]:
        for article in articles:
            report.articles_read += 1
            yield article

    taken: set[str] = set()
    for article in with_language(counted(read_articles(paths, lang=lang, on_skip=skip)), lang, skip):
        article = _unique_iri_id(article, taken)
        try:
            done = extractor.process_article(article)
        except ModelNotInstalled as exc:
            skip(Skipped(article.source, str(exc)))
            continue
        report.articles_built += 1
        report.by_language[article.lang] = report.by_language.get(article.lang, 0) + 1
        report.models[article.lang] = done.model
        report.warnings.extend(f"{article.source}: {w}" for w in article.warnings)
        result.articles[article.id] = done.article
        result.triples.extend(done.triples)
        result.people[article.id] = done.people
        if progress:
            progress(report.articles_read, article.source)
    report.triples = len(result.triples)
    return result


def _unique_iri_id(article: Article, taken: set[str]) -> Article:
    """Article ids become IRIs through slug(); "a b" and "a-b" would collide, so the later
    one gets a numbered id."""
    base, n = article.id, 1
    candidate = base
    while slug(candidate) in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(slug(candidate))
    return article if candidate == base else dataclasses.replace(article, id=candidate)


def resolve_extraction(extraction: Extraction, aliases: Mapping[str, str] | None = None) -> Resolution:
    hints = {name: extraction.memory.type_of(name) for name in extraction.memory.votes}
    return resolve_entities(
        extraction.triples,
        aliases=aliases,
        type_hints={k: v for k, v in hints.items() if v},
        article_people=extraction.people,
    )


def filter_facts(facts: Iterable[Fact], min_confidence: float) -> list[Fact]:
    return [f for f in facts if f.confidence >= min_confidence]


@dataclass
class BuildResult:
    report: BuildReport
    resolution: Resolution
    facts: list[Fact]
    articles: dict[str, Article]


def build(
    paths: Iterable[str | Path],
    out_dir: str | Path,
    settings: Settings,
    *,
    lang: str | None = None,
    aliases: Mapping[str, str] | None = None,
    html: bool = True,
    max_nodes: int | None = None,
    progress: Callable[[int, str], None] | None = None,
    formats: Iterable[str] = (),
) -> BuildResult:
    """The whole job: read, extract, resolve, write graph.ttl (plus any other ``formats``),
    graph.html, triples.jsonl and report.json — each atomically."""
    from .export import get_format, graph_file_name, write_graph
    from .graph import build_graph

    wanted = [get_format(name) for name in formats]  # a bad format fails before any work

    started = time.perf_counter()
    extraction = extract_corpus(paths, settings, lang=lang, progress=progress)
    report = extraction.report
    if report.articles_built == 0:
        reasons = "; ".join(f"{s.source}: {s.reason}" for s in report.skipped[:3]) or "no input articles found"
        raise NothingBuilt(f"nothing could be built ({reasons})")
    resolution = resolve_extraction(extraction, aliases)
    facts = filter_facts(resolution.facts, settings.min_confidence)
    report.facts = len(facts)
    report.entities = len({f.subject.key for f in facts} | {f.object.key for f in facts})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    graph = build_graph(facts, extraction.articles, base_iri=settings.base_iri)
    write_graph(graph, out / "graph.ttl", "turtle")
    report.outputs["turtle"] = str(out / "graph.ttl")
    for fmt in wanted:
        if fmt.name != "turtle":
            path = out / graph_file_name(fmt.name)
            write_graph(graph, path, fmt.name)
            report.outputs[fmt.name] = str(path)
    if html:
        from .viz import write_html

        write_html(graph, out / "graph.html", title="kg: knowledge graph from news", max_nodes=max_nodes)
        report.outputs["html"] = str(out / "graph.html")
    write_triples(extraction.triples, out / "triples.jsonl")
    report.outputs["triples"] = str(out / "triples.jsonl")
    write_report(report, out / "report.json", seconds=time.perf_counter() - started)
    report.outputs["report"] = str(out / "report.json")
    return BuildResult(report=report, resolution=resolution, facts=facts, articles=extraction.articles)


def write_triples(triples: Iterable[Triple], path: Path) -> None:
    """Every extracted triple with its evidence, one JSON object a line (input for re-resolution)."""
    lines = [json.dumps(dataclasses.asdict(t), ensure_ascii=False, sort_keys=True) for t in triples]
    write_atomic(path, "\n".join(lines) + ("\n" if lines else ""))


def write_report(report: BuildReport, path: Path, seconds: float) -> None:
    data = dataclasses.asdict(report)
    data["seconds"] = round(seconds, 2)
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


class ProgressLine:
    """A one-line progress display on a terminal; silent when stderr is not a TTY."""

    def __init__(self, stream=None, total: int | None = None):
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.total = total
        self.started = time.perf_counter()

    def __call__(self, done: int, source: str) -> None:
        if not self.enabled:
            return
        rate = done / max(time.perf_counter() - self.started, 1e-6)
        if self.total:
            width = 30
            filled = int(width * min(done, self.total) / self.total)
            bar = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}"
        else:
            bar = f"{done} articles"
        name = os.path.basename(source)[-40:]
        self.stream.write(f"\r{bar} {rate:5.1f}/s {name:<40}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()


def count_inputs(paths: Iterable[str | Path]) -> int | None:
    """Number of article files (jsonl lines counted) for the progress bar; None if unknown."""
    total = 0
    try:
        for p in map(Path, paths):
            files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")]
            for f in files:
                suffix = f.suffix.lower()
                if suffix == ".jsonl":
                    with open(f, "rb") as handle:
                        total += sum(1 for line in handle if line.strip())
                elif suffix in (".txt", ".html", ".htm"):
                    total += 1
    except OSError:
        return None
    return total or None


__all__ = [
    "ArticleResult", "Extraction", "Extractor", "BuildResult", "build", "extract_corpus",
    "resolve_extraction", "filter_facts", "write_triples", "KgError",
]
