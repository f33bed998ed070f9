"""Composes the stages as a map and a reduce.

**Map** (:func:`process_article`): one article in, one :class:`~kg.types.ArticleResult` out —
language pipeline, names (:mod:`kg.mentions`), relation extractors and their shared post-steps
(:mod:`kg.extraction`). It reads nothing but the article, the loaded language stage and frozen
hints, so it runs the same in a loop, in worker processes or as cluster tasks, in any order.

**Reduce** (:func:`reduce_results`): the results, in any order, become one
:class:`Extraction`: triples in a canonical order, the type votes of every article summed into
type hints, full person names per article. Resolution (:mod:`kg.resolve`) and the graph stage
work on that alone. Only small results are kept — never a corpus-wide list of spaCy Docs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .articles import read_articles
from .errors import ConfigError, KgError, ModelNotInstalled, NothingBuilt
from .extract import Matchers, compile_matchers
from .extraction import ArticleView, RelationExtractor, extract_relations, extractor_factory
from .files import write_atomic
from .language import detect_language
from .mentions import NO_HINTS, TypeHints, annotate_entities, vote_types
from .sources import OUTPUT_MARKER
from .nlp import LangPipeline, load_pipeline
from .resolve import Resolution, resolve_entities
from .languages import rule_folders, supported_languages
from .rules import RuleSet, load_rules
from .settings import Settings
from .types import Article, ArticleResult, BuildReport, Fact, Skipped, Triple, TypeVote

RULE_TYPED_VOTE = 0.25  # a type known only from the rule that used the name: weak evidence


@dataclass(frozen=True)
class LanguageStage:
    """Everything the map needs for one language, loaded once per process."""

    lang: str
    pipeline: LangPipeline
    ruleset: RuleSet
    matchers: Matchers
    extractors: tuple[RelationExtractor, ...]


@lru_cache(maxsize=None)
def _load_stage(lang: str, models: tuple[str, ...], extractors: tuple[str, ...], folders: tuple[str, ...]) -> LanguageStage:
    folder = rule_folders(folders).get(lang)
    if folder is None:
        raise ModelNotInstalled(f"no rules for language {lang!r}")
    ruleset = load_rules(lang, folder.parent)
    pipeline = load_pipeline(lang, {lang: models})
    matchers = compile_matchers(ruleset, pipeline.nlp.vocab, pipeline.has_parser)
    partial = LanguageStage(lang, pipeline, ruleset, matchers, ())
    built = tuple(extractor_factory(name)(partial) for name in extractors)
    return dataclasses.replace(partial, extractors=built)


def load_stage(lang: str, settings: Settings) -> LanguageStage:
    """The loaded stage of a language (cached per process: pipelines load once)."""
    if lang not in settings.models:
        raise ModelNotInstalled(f"no pipeline is configured for language {lang!r}")
    return _load_stage(lang, settings.models[lang], settings.extractors, settings.rule_folders)


def process_article(article: Article, stage: LanguageStage, hints: TypeHints = NO_HINTS) -> ArticleResult:
    """The per-article map: Article (language known) in, ArticleResult out. Pure: the result
    depends on the article, the stage and the frozen hints only."""
    doc = stage.pipeline(article.text)
    lexicon = stage.ruleset.lexicon
    annotated = annotate_entities(doc, stage.lang, lexicon, hints, use_ner="ner" in stage.pipeline.nlp.pipe_names)
    view = ArticleView(article=article, annotated=annotated, lexicon=lexicon, lang=stage.lang)
    triples = tuple(extract_relations(view, stage.extractors))
    votes = annotated.type_votes + tuple(
        TypeVote(m.name, m.type, RULE_TYPED_VOTE) for t in triples for m in (t.subject, t.object)
    )
    people = tuple(sorted({e.text for e in doc.ents if e.label_ == "Person" and " " in e.text.strip()}))
    return ArticleResult(
        article=dataclasses.replace(article, text=""), triples=triples, people=people,
        type_votes=votes, model=stage.pipeline.name,
    )


def map_article(article: Article, settings: Settings, hints: TypeHints = NO_HINTS) -> ArticleResult:
    """process_article with the stage loaded from settings; a language without a pipeline
    becomes a skipped result instead of an error."""
    try:
        stage = load_stage(article.lang or "und", settings)
    except ModelNotInstalled as exc:
        return ArticleResult(article=dataclasses.replace(article, text=""), triples=(), skipped=Skipped(article.source, str(exc)))
    return process_article(article, stage, hints)


def with_language(articles: Iterable[Article], forced: str | None, on_skip: Callable[[Skipped], None],
                  settings: Settings | None = None) -> Iterator[Article]:
    """Detect each article's language (unless forced); skip what kg has no rules or no
    configured pipeline for."""
    folders = settings.rule_folders if settings else ()
    supported = supported_languages(settings.models if settings else None, folders)
    for article in articles:
        lang = forced or article.lang
        if not lang:
            lang, _score = detect_language(article.text, folders)
        if lang not in supported:
            on_skip(Skipped(article.source, f"language {lang!r} is not supported ({', '.join(supported)}); use --lang to force one"))
            continue
        yield dataclasses.replace(article, lang=lang)


@dataclass
class Extraction:
    """The reduce step's output: everything resolution and the graph stage need."""

    articles: dict[str, Article] = field(default_factory=dict)
    triples: list[Triple] = field(default_factory=list)
    people: dict[str, tuple[str, ...]] = field(default_factory=dict)
    type_hints: dict[str, str] = field(default_factory=dict)
    report: BuildReport = field(default_factory=BuildReport)


def reduce_results(results: Iterable[ArticleResult], report: BuildReport | None = None) -> Extraction:
    """Merge per-article results, in any order, into one Extraction (the same for every order)."""
    out = Extraction(report=report or BuildReport())
    report = out.report
    votes: list[TypeVote] = []
    for done in results:
        article = done.article
        if done.skipped is not None:
            report.skipped.append(done.skipped)
            continue
        report.articles_built += 1
        report.by_language[article.lang] = report.by_language.get(article.lang, 0) + 1
        report.models[article.lang] = done.model
        report.warnings.extend(f"{article.source}: {w}" for w in article.warnings)
        out.articles[article.id] = article
        out.triples.extend(done.triples)
        out.people[article.id] = done.people
        votes.extend(done.type_votes)
    out.triples.sort(key=lambda t: (t.article_id, t.evidence_start, t.subject.start, t.relation, t.object.start, t.rule_id))
    out.articles = dict(sorted(out.articles.items()))
    out.people = dict(sorted(out.people.items()))
    report.skipped.sort(key=lambda s: (s.source, s.reason))
    report.warnings.sort()
    report.by_language = dict(sorted(report.by_language.items()))
    report.models = dict(sorted(report.models.items()))
    out.type_hints = vote_types(votes)
    report.triples = len(out.triples)
    return out


def read_corpus(paths: Iterable[str | Path], settings: Settings, *, lang: str | None, report: BuildReport) -> Iterator[Article]:
    """Read, clean and language-tag every input; skipped inputs go into ``report``."""
    def skip(item: Skipped) -> None:
        report.skipped.append(item)

    def counted(articles: Iterable[Article]) -> Iterator[Article]:
        for article in articles:
            report.articles_read += 1
            yield article

    articles = read_articles(paths, lang=lang, on_skip=skip, max_file_bytes=settings.max_file_bytes)
    yield from with_language(counted(articles), lang, skip, settings)


def map_articles(articles: Iterable[Article], settings: Settings, workers: int = 1) -> Iterator[ArticleResult]:
    """The map over a stream of articles: in this process (``workers`` <= 1) or in that many
    worker processes, each loading its pipelines once. At most a few batches are in flight,
    so memory stays bounded whatever the corpus size; results come in input order."""
    if workers <= 1:
        for article in articles:
            yield map_article(article, settings)
        return
    import concurrent.futures as cf
    import multiprocessing

    window = workers * 8
    context = multiprocessing.get_context("forkserver")
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: list[cf.Future] = []
        for article in articles:
            pending.append(pool.submit(map_article, article, settings))
            if len(pending) >= window:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def extract_corpus(
    paths: Iterable[str | Path],
    settings: Settings,
    *,
    lang: str | None = None,
    progress: Callable[[int, str], None] | None = None,
    workers: int = 1,
) -> Extraction:
    """Map every article through :func:`map_article`, then reduce the results."""
    report = BuildReport()

    def mapped() -> Iterator[ArticleResult]:
        for done in map_articles(read_corpus(paths, settings, lang=lang, report=report), settings, workers):
            yield done
            if progress:
                progress(report.articles_read, done.article.source)

    return reduce_results(mapped(), report)


def resolve_extraction(extraction: Extraction, aliases: Mapping[str, str] | None = None) -> Resolution:
    return resolve_entities(
        extraction.triples,
        aliases=aliases,
        type_hints=extraction.type_hints,
        article_people=extraction.people,
    )


def filter_facts(facts: Iterable[Fact], min_confidence: float) -> list[Fact]:
    return [f for f in facts if f.confidence >= min_confidence]


@dataclass
class BuildResult:
    """A build's result: the rdflib graph, the facts with their evidence (``Fact.sources``),
    every extracted triple, the articles and the report."""

    report: BuildReport
    resolution: Resolution
    facts: list[Fact]
    articles: dict[str, Article]
    graph: object = None  # rdflib.Graph
    triples: list[Triple] = field(default_factory=list)


def run_build(
    paths: Iterable[str | Path],
    settings: Settings,
    *,
    lang: str | None = None,
    aliases: Mapping[str, str] | None = None,
    progress: Callable[[int, str], None] | None = None,
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
) -> BuildResult:
    """Read, map, reduce, resolve and build the graph, writing nothing. ``engine="dask"`` runs
    the per-article stages on a Dask cluster (``scheduler``, else a LocalCluster of ``workers``
    processes; see :mod:`kg.dask_engine`); the reduce and everything after it are the same."""
    from .graph import build_graph

    started = time.perf_counter()
    if engine == "dask":
        from .dask_engine import extract_corpus_dask

        extraction = extract_corpus_dask(paths, settings, lang=lang, progress=progress, workers=workers,
                                         scheduler=scheduler)
    elif engine == "local":
        extraction = extract_corpus(paths, settings, lang=lang, progress=progress, workers=workers)
    else:
        raise ConfigError(f"unknown engine {engine!r} (local, dask)")
    report = extraction.report
    if report.articles_built == 0:
        reasons = "; ".join(f"{s.source}: {s.reason}" for s in report.skipped[:3]) or "no input articles found"
        raise NothingBuilt(f"nothing could be built ({reasons})")
    resolution = resolve_extraction(extraction, aliases)
    facts = filter_facts(resolution.facts, settings.min_confidence)
    report.facts = len(facts)
    report.entities = len({f.subject.key for f in facts} | {f.object.key for f in facts})
    graph = build_graph(facts, extraction.articles, base_iri=settings.base_iri)
    report.seconds = round(time.perf_counter() - started, 2)
    return BuildResult(report=report, resolution=resolution, facts=facts, articles=extraction.articles,
                       graph=graph, triples=extraction.triples)


def write_outputs(result: BuildResult, out_dir: str | Path, *, html: bool = True, max_nodes: int | None = None,
                  formats: Iterable[str] = ()) -> dict[str, str]:
    """Write graph.ttl (plus any other ``formats``), graph.html, triples.jsonl and
    report.json into ``out_dir``, each atomically; returns kind -> path."""
    from .export import get_format, graph_file_name, write_graph

    wanted = [get_format(name) for name in formats]
    report = result.report
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / OUTPUT_MARKER).touch()  # the reader never takes this folder for input
    write_graph(result.graph, out / "graph.ttl", "turtle")
    report.outputs["turtle"] = str(out / "graph.ttl")
    for fmt in wanted:
        if fmt.name != "turtle":
            path = out / graph_file_name(fmt.name)
            write_graph(result.graph, path, fmt.name)
            report.outputs[fmt.name] = str(path)
    if html:
        from .viz import write_html

        write_html(result.graph, out / "graph.html", title="kg: knowledge graph from news", max_nodes=max_nodes)
        report.outputs["html"] = str(out / "graph.html")
    write_triples(result.triples, out / "triples.jsonl")
    report.outputs["triples"] = str(out / "triples.jsonl")
    report.outputs["report"] = str(out / "report.json")
    write_report(report, out / "report.json", seconds=report.seconds)
    return dict(report.outputs)


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
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    shards: str | Path | None = None,
) -> BuildResult:
    """The whole job: :func:`run_build`, then :func:`write_outputs` (and, with ``shards``, the
    graph split into N-Triples files for a bulk loader: :func:`kg.shards.write_shards`)."""
    from .export import get_format

    for name in formats:  # a bad format fails before any work
        get_format(name)
    result = run_build(paths, settings, lang=lang, aliases=aliases, progress=progress, workers=workers,
                       engine=engine, scheduler=scheduler)
    if shards is not None:
        from .shards import write_shards

        result.report.outputs["shards"] = str(write_shards(result.graph, shards))
    write_outputs(result, out_dir, html=html, max_nodes=max_nodes, formats=formats)
    return result


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
    "ArticleResult", "Extraction", "LanguageStage", "BuildResult", "build", "extract_corpus",
    "load_stage", "map_article", "process_article", "reduce_results", "resolve_extraction",
    "filter_facts", "write_triples", "KgError",
]
