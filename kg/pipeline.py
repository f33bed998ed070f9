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
import hashlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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
from .nlp import LangPipeline, load_pipeline
from .resolve import Resolution, resolve_entities
from .languages import rule_folders, supported_languages
from .rules import RuleSet, load_rules
from .settings import Settings
from .typography import normalise as normalise_typography
from .types import Article, ArticleResult, BuildReport, Fact, Mention, Skipped, Triple, TypeVote

RULE_TYPED_VOTE = 0.25  # a type known only from the rule that used the name: weak evidence


@dataclass(frozen=True)
class LanguageStage:
    """Everything the map needs for one language, loaded once per process."""

    lang: str
    pipeline: LangPipeline
    ruleset: RuleSet
    matchers: Matchers
    extractors: tuple[RelationExtractor, ...]
    learned_model: str = ""  # for the learned extractor: "" = the shipped model


@lru_cache(maxsize=None)
def _load_stage(lang: str, models: tuple[str, ...], extractors: tuple[str, ...], folders: tuple[str, ...],
                learned_model: str = "") -> LanguageStage:
    folder = rule_folders(folders).get(lang)
    if folder is None:
        raise ModelNotInstalled(f"no rules for language {lang!r}")
    ruleset = load_rules(lang, folder.parent)
    pipeline = load_pipeline(lang, {lang: models})
    matchers = compile_matchers(ruleset, pipeline.nlp.vocab, pipeline.has_parser)
    partial = LanguageStage(lang, pipeline, ruleset, matchers, (), learned_model)
    built = tuple(extractor_factory(name)(partial) for name in extractors)
    return dataclasses.replace(partial, extractors=built)


def load_stage(lang: str, settings: Settings) -> LanguageStage:
    """The loaded stage of a language (cached per process: pipelines load once)."""
    if lang not in settings.models:
        raise ModelNotInstalled(f"no pipeline is configured for language {lang!r}")
    return _load_stage(lang, settings.models[lang], settings.extractors, settings.rule_folders, settings.learned_model)


class ArticleTimeout(Exception):
    """An article used up its time budget ([build] article_seconds)."""


DEFAULT_CHUNK_CHARS = 100_000
DEFAULT_SENTENCE_TOKENS = 150
_CUT_AFTER = (",", ";", ":", "-", "–", "—", ")", "(")  # where a forced sentence cut reads best


def split_text(text: str, max_chars: int) -> list[tuple[int, str]]:
    """``text`` as (offset, piece) pairs, each piece at most ``max_chars`` long, cut at the last
    paragraph break, else line break, else sentence end, else space before the limit (a hard
    cut only when a piece has none). Joining the pieces gives back ``text`` exactly."""
    pieces: list[tuple[int, str]] = []
    start, n = 0, len(text)
    while n - start > max_chars:
        window = text[start:start + max_chars]
        floor = max_chars // 2  # never cut so early that pieces get small
        cut = -1
        for sep in ("\n\n", "\n", ". ", "! ", "? ", " "):
            at = window.rfind(sep, floor)
            if at >= 0:
                cut = at + len(sep)
                break
        if cut <= 0:
            cut = max_chars
        pieces.append((start, text[start:start + cut]))
        start += cut
    if start < n or not pieces:
        pieces.append((start, text[start:]))
    return pieces


def cap_sentences(doc, max_tokens: int) -> int:
    """Start a new sentence wherever one would run past ``max_tokens`` tokens, preferably after
    a comma or dash in its second half; returns the number of cuts. Runs before the parser or
    sentence splitter, which keep these starts: every later per-sentence step (matchers,
    dependency trees, candidate pairs) then works on bounded sentences, so the time per
    character cannot grow with the length of a line without punctuation."""
    cuts = 0
    since, best = 0, -1
    for token in doc:
        i = token.i
        if i == 0 or token.is_sent_start:
            since, best = 0, -1
            continue
        since += 1
        if since >= max_tokens // 2 and doc[i - 1].text in _CUT_AFTER:
            best = i
        if since >= max_tokens:
            cut = best if best > 0 else i
            doc[cut].is_sent_start = True
            cuts += 1
            since, best = i - cut, -1
    return cuts


_SENTENCE_SETTERS = ("parser", "senter")  # trained: they keep the cuts made before them
# Rule-based splitters (punctuation) are cheap and leave tokens they do not split at unset
# before they run: capping before them would count whole paragraphs as one sentence and cut
# good sentences in the middle ("... beschrieb RTR-| Geschäftsführer X"). Cap after them.
_SPLITTERS = ("sentencizer",)


def run_pipeline(pipeline: LangPipeline, text: str, max_tokens: int = DEFAULT_SENTENCE_TOKENS,
                 deadline: float | None = None):
    """The language pipeline on ``text``, as ``pipeline(text)`` but with sentences capped at
    ``max_tokens`` (:func:`cap_sentences`, just before a parser or senter, or just after a
    punctuation sentencizer) and the deadline checked between components."""
    nlp = pipeline.nlp
    doc = nlp.make_doc(text)  # type: ignore[attr-defined]
    capped = False
    for name, component in nlp.pipeline:  # type: ignore[attr-defined]
        if not capped and name in _SENTENCE_SETTERS:
            cap_sentences(doc, max_tokens)
            capped = True
        _check(deadline)
        doc = component(doc)
        if not capped and name in _SPLITTERS:
            cap_sentences(doc, max_tokens)
            capped = True
    if pipeline.postprocess is not None:
        pipeline.postprocess(doc)
    return doc


def _check(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise ArticleTimeout()


def process_article(article: Article, stage: LanguageStage, hints: TypeHints = NO_HINTS, *,
                    chunk_chars: int = DEFAULT_CHUNK_CHARS, max_sentence_tokens: int = DEFAULT_SENTENCE_TOKENS,
                    deadline: float | None = None) -> ArticleResult:
    """The per-article map: Article (language known) in, ArticleResult out. Pure: the result
    depends on the article, the stage and the frozen hints only.

    A text longer than ``chunk_chars`` is processed in pieces (:func:`split_text`) whose
    offsets are shifted back into the article text; a name or fact that straddles a cut, and a
    reference ("the company") to a name in another piece, are lost. ``deadline`` (a
    :func:`time.monotonic` value) is checked between pieces and pipeline components and raises
    :class:`ArticleTimeout`."""
    return process_articles([article], stage, hints, chunk_chars=chunk_chars,
                            max_sentence_tokens=max_sentence_tokens, deadline=deadline)[0]


def process_articles(articles: Sequence[Article], stage: LanguageStage, hints: TypeHints = NO_HINTS, *,
                     chunk_chars: int = DEFAULT_CHUNK_CHARS, max_sentence_tokens: int = DEFAULT_SENTENCE_TOKENS,
                     deadline: float | None = None) -> list[ArticleResult]:
    """:func:`process_article` over several articles of the stage's language, in order, with
    the language pipeline run over all their texts as one stream (each component's own
    batching, as ``nlp.pipe``): the results are those of the articles one by one, faster.
    ``deadline`` holds for the whole batch."""
    limit = min(chunk_chars, getattr(stage.pipeline.nlp, "max_length", chunk_chars))
    pieces: list[tuple[int, int, str, str, list[int] | None]] = []  # article, offset, piece, normalised, index
    for n, article in enumerate(articles):
        for offset, piece in split_text(article.text, limit):
            text, index = normalise_typography(piece)  # ’ -> ', no-break spaces, soft hyphens ...
            pieces.append((n, offset, piece, text, index))
    triples: list[list[Triple]] = [[] for _ in articles]
    people: list[set[str]] = [set() for _ in articles]
    votes: list[list[TypeVote]] = [[] for _ in articles]
    docs = pipe_pipeline(stage.pipeline, (text for _n, _o, _p, text, _i in pieces), max_sentence_tokens, deadline)
    for (n, offset, piece, text, index), doc in zip(pieces, docs):
        _check(deadline)
        part = dataclasses.replace(articles[n], text=text)
        part_triples, part_people, part_votes = _extract_piece(part, doc, stage, hints, deadline)
        if index is not None:
            part_triples = tuple(_to_original(t, index, piece) for t in part_triples)
        triples[n].extend(_shift(t, offset) for t in part_triples) if offset else triples[n].extend(part_triples)
        people[n].update(part_people)
        votes[n].extend(part_votes)
    return [
        ArticleResult(
            article=dataclasses.replace(article, text=""), triples=tuple(triples[n]), people=tuple(sorted(people[n])),
            type_votes=tuple(votes[n]), model=stage.pipeline.name,
        )
        for n, article in enumerate(articles)
    ]


def pipe_pipeline(pipeline: LangPipeline, texts: Iterable[str], max_tokens: int = DEFAULT_SENTENCE_TOKENS,
                  deadline: float | None = None) -> Iterator:
    """:func:`run_pipeline` over a stream of texts: each component takes the stream through its
    own ``pipe`` (batched, as in ``nlp.pipe``), with sentences capped just before the first
    component that sets sentence boundaries, and the deadline checked between documents."""
    nlp = pipeline.nlp

    def made() -> Iterator:
        for text in texts:
            _check(deadline)
            yield nlp.make_doc(text)  # type: ignore[attr-defined]

    def capped(docs: Iterable) -> Iterator:
        for doc in docs:
            cap_sentences(doc, max_tokens)
            yield doc

    docs: Iterable = made()
    capping = True
    for name, component in nlp.pipeline:  # type: ignore[attr-defined]
        if capping and name in _SENTENCE_SETTERS:
            docs = capped(docs)
            capping = False
        docs = component.pipe(docs) if hasattr(component, "pipe") else map(component, docs)
        if capping and name in _SPLITTERS:
            docs = capped(docs)
            capping = False
    for doc in docs:
        if pipeline.postprocess is not None:
            pipeline.postprocess(doc)
        yield doc


def _extract_piece(article: Article, doc, stage: LanguageStage, hints: TypeHints,
                   deadline: float | None) -> tuple[tuple[Triple, ...], set[str], tuple[TypeVote, ...]]:
    """Names, coreference and relations in one piece's annotated Doc (text normalised)."""
    lexicon = stage.ruleset.lexicon
    annotated = annotate_entities(doc, stage.lang, lexicon, hints, use_ner="ner" in stage.pipeline.nlp.pipe_names)
    _check(deadline)
    view = ArticleView(article=article, annotated=annotated, lexicon=lexicon, lang=stage.lang)
    triples = tuple(extract_relations(view, stage.extractors))
    votes = annotated.type_votes + tuple(
        TypeVote(m.name, m.type, RULE_TYPED_VOTE) for t in triples for m in (t.subject, t.object)
    )
    people = {e.text for e in doc.ents if e.label_ == "Person" and " " in e.text.strip()}
    return triples, people, votes


def _to_original(triple: Triple, index: list[int], original: str) -> Triple:
    """A triple found in the typography-normalised text, with offsets, mention words and
    evidence taken back into the text as written."""
    def moved(m: Mention) -> Mention:
        start, end = index[m.start], index[m.end]
        return dataclasses.replace(m, start=start, end=end, text=original[start:end],
                                   ref_start=index[m.ref_start] if m.ref_start >= 0 else -1)

    start, end = index[triple.evidence_start], index[triple.evidence_end]
    return dataclasses.replace(triple, subject=moved(triple.subject), object=moved(triple.object),
                               evidence=original[start:end], evidence_start=start, evidence_end=end)


def _shift(triple: Triple, offset: int) -> Triple:
    """A triple found in a piece, with its offsets moved into the whole article's text."""
    def moved(m: Mention) -> Mention:
        return dataclasses.replace(m, start=m.start + offset, end=m.end + offset)

    return dataclasses.replace(
        triple, subject=moved(triple.subject), object=moved(triple.object),
        evidence_start=triple.evidence_start + offset, evidence_end=triple.evidence_end + offset,
    )


@contextmanager
def time_budget(seconds: float | None) -> Iterator[float | None]:
    """A deadline ``seconds`` from now, enforced two ways. In a process's main thread (the
    ``kg`` command, and every worker of :func:`map_articles`, which runs its tasks in its main
    thread) a SIGALRM timer raises :class:`ArticleTimeout` wherever the article is, even in
    the middle of a pipeline component, as soon as control returns to Python. Elsewhere
    (another thread, a platform without SIGALRM, a caller that already set a timer) the
    yielded deadline is checked between pieces and components only."""
    if not seconds:
        yield None
        return
    deadline = time.monotonic() + seconds
    use_alarm = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
                 and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    previous = None
    if use_alarm:
        def on_alarm(_signum, _frame):
            raise ArticleTimeout()

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield deadline
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def _one_line(text: str, limit: int = 160) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[:limit - 1] + "…"


def map_article(article: Article, settings: Settings, hints: TypeHints = NO_HINTS) -> ArticleResult:
    """process_article with the stage loaded from settings. Never raises for one article: a
    language without a pipeline, an article over its time budget and any error inside the
    map become a skipped result with a one-line reason."""
    def skipped(reason: str) -> ArticleResult:
        return ArticleResult(article=dataclasses.replace(article, text=""), triples=(),
                             skipped=Skipped(article.source, reason))

    try:
        stage = load_stage(article.lang or "und", settings)
    except ModelNotInstalled as exc:
        return skipped(str(exc))
    seconds = settings.article_seconds
    try:
        with time_budget(seconds) as deadline:
            return process_article(article, stage, hints, chunk_chars=settings.chunk_chars,
                                   max_sentence_tokens=settings.max_sentence_tokens, deadline=deadline)
    except ArticleTimeout:
        return skipped(f"{TIMEOUT_REASON} of {seconds:g} s ([build] article_seconds); skipped")
    except RecursionError:
        return skipped("could not be processed: nesting too deep (RecursionError)")
    except Exception as exc:  # one article's failure never aborts the build
        return skipped(_one_line(f"could not be processed: {type(exc).__name__}: {exc}"))


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


BATCH_ARTICLES = 16  # articles a worker maps together (the pipeline batched over them)
BATCH_CHARS = 200_000  # ... and at most this much text


def map_batch(articles: Sequence[Article], settings: Settings, hints: TypeHints = NO_HINTS) -> list[ArticleResult]:
    """:func:`map_article` over several articles, in order: those of one language go through
    :func:`process_articles` together, faster, under one article's time budget. If anything
    goes wrong in a group (an error, the budget spent, no pipeline), its articles are mapped
    again one by one, so a bad article still costs only itself."""
    results: list[ArticleResult | None] = [None] * len(articles)
    groups: dict[str, list[int]] = {}
    for n, article in enumerate(articles):
        groups.setdefault(article.lang or "und", []).append(n)
    for lang, members in groups.items():
        batch = [articles[n] for n in members]
        done: list[ArticleResult] | None = None
        if len(batch) > 1:
            try:
                stage = load_stage(lang, settings)
                with time_budget(settings.article_seconds) as deadline:
                    done = process_articles(batch, stage, hints, chunk_chars=settings.chunk_chars,
                                            max_sentence_tokens=settings.max_sentence_tokens, deadline=deadline)
            except Exception:  # noqa: BLE001 — ArticleTimeout, ModelNotInstalled, any error: one by one
                done = None
        if done is None:
            done = [map_article(article, settings, hints) for article in batch]
        for n, result in zip(members, done):
            results[n] = result
    return results  # type: ignore[return-value]


def batches(articles: Iterable[Article], size: int = BATCH_ARTICLES, chars: int = BATCH_CHARS) -> Iterator[list[Article]]:
    """The stream cut into lists of at most ``size`` articles and about ``chars`` characters."""
    batch: list[Article] = []
    held = 0
    for article in articles:
        batch.append(article)
        held += len(article.text)
        if len(batch) >= size or held >= chars:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch


def map_articles(articles: Iterable[Article], settings: Settings, workers: int = 1) -> Iterator[ArticleResult]:
    """The map over a stream of articles: in this process (``workers`` <= 1) or in that many
    worker processes, each loading its pipelines once. Articles travel in small batches
    (:func:`map_batch`); at most a few batches are in flight, so memory stays bounded whatever
    the corpus size; results come in input order."""
    if workers <= 1:
        for batch in batches(articles):
            yield from map_batch(batch, settings)
        return
    import concurrent.futures as cf
    import multiprocessing

    window = workers * 3
    context = multiprocessing.get_context("forkserver")
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: list[cf.Future] = []
        for batch in batches(articles):
            pending.append(pool.submit(map_batch, batch, settings))
            if len(pending) >= window:
                yield from pending.pop(0).result()
        for future in pending:
            yield from future.result()


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


def final_facts(resolution: Resolution, settings: Settings) -> list[Fact]:
    """The resolved facts with calibrated confidence, at or above ``min_confidence``."""
    from .calibration import calibrate_facts, calibrator_for

    return filter_facts(calibrate_facts(resolution.facts, calibrator_for(settings.calibration)), settings.min_confidence)


def filter_facts(facts: Iterable[Fact], min_confidence: float) -> list[Fact]:
    return [f for f in facts if f.confidence >= min_confidence]


@dataclass
class BuildResult:
    """A build's result: the rdflib graph, the facts with their evidence (``Fact.sources``),
    every extracted triple, the articles and the report. A build into an output folder also
    carries the folder's article index and what changed (``changes``: added, changed,
    unchanged, kept, removed)."""

    report: BuildReport
    resolution: Resolution
    facts: list[Fact]
    articles: dict[str, Article]
    graph: object = None  # rdflib.Graph
    triples: list[Triple] = field(default_factory=list)
    index: list | None = None  # kg.results_store.Entry, in the order articles were added
    changes: dict[str, int] = field(default_factory=dict)


def assemble(results: Iterable[ArticleResult], settings: Settings, *, report: BuildReport,
             aliases: Mapping[str, str] | None = None, started: float | None = None,
             allow_empty: bool = False) -> BuildResult:
    """Reduce, resolve and build the graph from per-article results (fresh or stored alike)."""
    return finish_build(reduce_results(results, report), settings, aliases=aliases, started=started,
                        allow_empty=allow_empty)


def finish_build(extraction: Extraction, settings: Settings, *, aliases: Mapping[str, str] | None = None,
                 started: float | None = None, allow_empty: bool = False) -> BuildResult:
    """Resolve, calibrate and build the graph of a reduced Extraction."""
    from .graph import build_graph

    started = time.perf_counter() if started is None else started
    report = extraction.report
    if report.articles_built == 0 and not allow_empty:
        reasons = "; ".join(f"{s.source}: {s.reason}" for s in report.skipped[:3]) or "no input articles found"
        raise NothingBuilt(f"nothing could be built ({reasons})")
    resolution = resolve_extraction(extraction, aliases)
    facts = final_facts(resolution, settings)
    report.facts = len(facts)
    report.entities = len({f.subject.key for f in facts} | {f.object.key for f in facts})
    graph = build_graph(facts, extraction.articles, base_iri=settings.base_iri)
    report.seconds = round(time.perf_counter() - started, 2)
    return BuildResult(report=report, resolution=resolution, facts=facts, articles=extraction.articles,
                       graph=graph, triples=extraction.triples)


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
    started = time.perf_counter()
    if engine == "dask":
        from .dask_engine import extract_corpus_dask

        extraction = extract_corpus_dask(paths, settings, lang=lang, progress=progress, workers=workers,
                                         scheduler=scheduler)
        return finish_build(extraction, settings, aliases=aliases, started=started)
    if engine != "local":
        raise ConfigError(f"unknown engine {engine!r} (local, dask)")
    extraction = extract_corpus(paths, settings, lang=lang, progress=progress, workers=workers)
    return finish_build(extraction, settings, aliases=aliases, started=started)


def write_outputs(result: BuildResult, out_dir: str | Path, *, html: bool = True, max_nodes: int | None = None,
                  formats: Iterable[str] = (), wait: bool = False) -> dict[str, str]:
    """Write graph.ttl (plus any other ``formats``), graph.html, triples.jsonl and
    report.json as one new output set of ``out_dir`` (:mod:`kg.results_store`: staged, then
    switched in with one rename; the top-level names follow). Returns kind -> path.

    The folder's article index (for incremental builds) is the result's ``index``; a result
    built in memory (:func:`run_build`) has none, so a later incremental build into the same
    folder starts from the articles it is given."""
    from .export import get_format, graph_file_name, write_graph
    from .results_store import OutputFolder, check_out_dir

    wanted = [get_format(name) for name in formats]
    check_out_dir(out_dir)
    report = result.report
    out = Path(out_dir)
    options = {"html": html, "max_nodes": max_nodes, "formats": [f.name for f in wanted if f.name != "turtle"]}

    def write_files(stage: Path) -> list[str]:
        names = ["graph.ttl"]
        write_graph(result.graph, stage / "graph.ttl", "turtle")
        report.outputs["turtle"] = str(out / "graph.ttl")
        for fmt in wanted:
            if fmt.name != "turtle":
                name = graph_file_name(fmt.name)
                write_graph(result.graph, stage / name, fmt.name)
                report.outputs[fmt.name] = str(out / name)
                names.append(name)
        if html:
            from .viz import write_html

            write_html(result.graph, stage / "graph.html", title="kg: knowledge graph from news", max_nodes=max_nodes)
            report.outputs["html"] = str(out / "graph.html")
            names.append("graph.html")
        write_triples(result.triples, stage / "triples.jsonl")
        report.outputs["triples"] = str(out / "triples.jsonl")
        report.outputs["report"] = str(out / "report.json")
        write_report(report, stage / "report.json", seconds=report.seconds,
                     extra={"generation": stage.name.removeprefix(".staging-"), "changes": result.changes,
                            "options": options})
        return names + ["triples.jsonl", "report.json"]

    with OutputFolder(out, wait=wait) as folder:
        folder.publish(write_files, result.index)
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
    wait: bool = False,
    fresh: bool = False,
    engine: str = "local",
    scheduler: str | None = None,
    shards: str | Path | None = None,
) -> BuildResult:
    """The whole job, incremental: the articles already in ``out_dir`` (its index) plus those
    in ``paths``. Only new or changed articles are mapped; unchanged ones are no-ops; an
    article with a known id and a new text replaces the old one; a text already in the folder
    under another id counts once. Stored results and fresh ones go through the same reduce, so
    the graph is the one a clean build of the same articles gives. ``fresh`` ignores what the
    folder holds. The folder is locked for the whole build (``wait`` waits for another build
    to finish instead of failing). ``engine="dask"`` maps on a Dask cluster (always a fresh
    build of ``paths``); ``shards`` also writes the graph as N-Triples files for a bulk loader
    (:func:`kg.shards.write_shards`)."""
    from .export import get_format
    from .results_store import OutputFolder, check_out_dir

    formats = list(formats)
    for name in formats:  # bad options fail before any work
        get_format(name)
    check_out_dir(out_dir)
    started = time.perf_counter()
    with OutputFolder(out_dir, wait=wait) as folder:
        if engine == "local":
            result = _incremental(folder, paths, settings, lang=lang, aliases=aliases, progress=progress,
                                  workers=workers, fresh=fresh, started=started)
        else:
            result = run_build(paths, settings, lang=lang, aliases=aliases, progress=progress, workers=workers,
                               engine=engine, scheduler=scheduler)
        if shards is not None:
            from .shards import write_shards

            result.report.outputs["shards"] = str(write_shards(result.graph, shards))
        write_outputs(result, out_dir, html=html, max_nodes=max_nodes, formats=formats)
    return result


TIMEOUT_REASON = "took longer than the per-article budget"


def _incremental(folder, paths, settings: Settings, *, lang, aliases, progress, workers, fresh, started) -> BuildResult:
    from .results_store import Entry, content_hash, pause_point, retarget

    fingerprint = settings_fingerprint(settings)
    entries: dict[str, Entry] = {} if fresh else {e.id: e for e in folder.load_index()}
    owners = {e.hash: e.id for e in entries.values()}
    report = BuildReport()
    changes = {"added": 0, "changed": 0, "unchanged": 0, "kept": len(entries)}
    fresh_results: dict[str, ArticleResult] = {}
    in_flight: dict[str, tuple[str, str]] = {}  # article id -> (content hash, text)

    def new_articles() -> Iterator[Article]:
        for article in read_corpus(paths, settings, lang=lang, report=report):
            key = content_hash(article)
            meta = dataclasses.replace(article, text="")
            old = entries.get(article.id)
            if old is not None and old.hash == key:
                changes["unchanged"] += 1
                changes["kept"] -= 1
                entries[article.id] = Entry(article.id, key, meta)  # title or URL may be new
                continue
            owner = owners.get(key)
            if owner is not None and owner != article.id:
                report.skipped.append(Skipped(article.source, f"same text as {entries[owner].article.source}; read once"))
                continue
            if old is not None:
                changes["changed"] += 1
                changes["kept"] -= 1
                owners.pop(old.hash, None)
            else:
                changes["added"] += 1
            entries[article.id] = Entry(article.id, key, meta)
            owners[key] = article.id
            _text, stored = folder.load_record(key, fingerprint)
            if stored is None:  # else mapped before (by another id, or by a build killed later)
                in_flight[article.id] = (key, article.text)
                yield article

    def stale_articles() -> Iterator[Article]:
        """Stored articles whose results were made by other code, rules or settings."""
        for entry in list(entries.values()):
            if entry.hash in fresh_results or entry.id in in_flight:
                continue
            text, stored = folder.load_record(entry.hash, fingerprint)
            if stored is None and text is not None:
                in_flight[entry.id] = (entry.hash, text)
                yield dataclasses.replace(entry.article, text=text)

    def all_articles() -> Iterator[Article]:
        yield from new_articles()
        yield from stale_articles()

    for done in map_articles(all_articles(), settings, workers):
        key, text = in_flight.pop(done.article.id)
        if done.skipped is not None and done.skipped.reason.startswith(TIMEOUT_REASON):
            entries.pop(done.article.id, None)  # not kept: tried again when given again
            owners.pop(key, None)
            report.skipped.append(done.skipped)
        else:
            folder.save_record(key, text, done, fingerprint)
            fresh_results[key] = done
        pause_point("map")
        if progress:
            progress(report.articles_read, done.article.source)

    def results() -> Iterator[ArticleResult]:
        for entry in list(entries.values()):
            stored = fresh_results.get(entry.hash) or folder.load_record(entry.hash, fingerprint)[1]
            if stored is None:
                report.warnings.append(f"{entry.article.source}: its stored result is missing; give the article again")
                del entries[entry.id]
                continue
            yield retarget(stored, entry.article)

    result = assemble(results(), settings, report=report, aliases=aliases, started=started)
    result.index = list(entries.values())
    result.changes = changes
    return result


def remove_articles(names: Iterable[str], out_dir: str | Path, settings: Settings, *,
                    aliases: Mapping[str, str] | None = None, wait: bool = False) -> tuple[BuildResult, list[str]]:
    """Remove articles (by id, source path or URL) from an output folder and publish the set
    without them: the facts only they supported go, the others lose their evidence. The
    output options (HTML, formats) of the current set are kept. Returns the result and the
    ids removed; raises KgError if a name matches no article."""
    from .results_store import OutputFolder, check_out_dir, retarget

    check_out_dir(out_dir)
    started = time.perf_counter()
    with OutputFolder(out_dir, wait=wait) as folder:
        entries = folder.load_index()
        if not entries:
            raise KgError(f"{out_dir} holds no articles built by this version of kg")
        removed: list[str] = []
        for name in names:
            hits = [e for e in entries if _names_article(name, e.article)]
            if not hits:
                raise KgError(f"no article {name!r} in {out_dir} (give an article id, source path or URL)")
            removed.extend(e.id for e in hits if e.id not in removed)
        kept = [e for e in entries if e.id not in removed]
        fingerprint = settings_fingerprint(settings)
        report = BuildReport()
        results = []
        for entry in kept:
            text, stored = folder.load_record(entry.hash, fingerprint)
            if stored is None and text is not None:
                stored = map_article(dataclasses.replace(entry.article, text=text), settings)
                folder.save_record(entry.hash, text, stored, fingerprint)
            if stored is not None:
                results.append(retarget(stored, entry.article))
        result = assemble(results, settings, report=report, aliases=aliases, started=started, allow_empty=True)
        result.index = kept
        result.changes = {"removed": len(removed), "kept": len(kept)}
        options = folder.current_options()
        write_outputs(result, out_dir, html=options.get("html", True), max_nodes=options.get("max_nodes"),
                      formats=options.get("formats", ()))
    return result, removed


def _names_article(name: str, article: Article) -> bool:
    if name in (article.id, article.source) or (article.url and name == article.url):
        return True
    source = article.source.rsplit(":", 1)[0] if article.source.rsplit(":", 1)[-1].isdigit() else article.source
    try:
        return Path(name).resolve() == Path(source).resolve() or Path(name).resolve() == Path(article.source).resolve()
    except OSError:
        return False


@lru_cache(maxsize=8)
def _fingerprint(config: str, extra_folders: tuple[str, ...]) -> str:
    digest = hashlib.sha256(config.encode("utf-8"))
    package = Path(__file__).parent
    roots = [package, *(Path(f) for f in extra_folders)]
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                digest.update(str(path.relative_to(root)).encode("utf-8"))
                digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def settings_fingerprint(settings: Settings) -> str:
    """What a stored per-article result depends on besides the text: kg's code and rule data,
    extra rule folders, the model serving each language (and its version), the extractors and
    the map's limits. A stored result with another fingerprint is mapped again."""
    from importlib import metadata

    from .nlp import choose_model

    models = {}
    for lang in sorted(settings.models):
        try:
            name = choose_model(lang, settings.models)
        except KgError:
            name = "missing"
        try:
            version = metadata.version(name)
        except (metadata.PackageNotFoundError, ValueError):
            version = ""
        models[lang] = f"{name} {version}"
    config = json.dumps({"models": models, "extractors": settings.extractors, "chunk_chars": settings.chunk_chars,
                         "max_sentence_tokens": settings.max_sentence_tokens}, sort_keys=True)
    return _fingerprint(config, tuple(settings.rule_folders))


def write_triples(triples: Iterable[Triple], path: Path) -> None:
    """Every extracted triple with its evidence, one JSON object a line (input for re-resolution)."""
    lines = [json.dumps(dataclasses.asdict(t), ensure_ascii=False, sort_keys=True) for t in triples]
    write_atomic(path, "\n".join(lines) + ("\n" if lines else ""))


def write_report(report: BuildReport, path: Path, seconds: float, extra: Mapping[str, object] | None = None) -> None:
    data = dataclasses.asdict(report)
    data["seconds"] = round(seconds, 2)
    data.update(extra or {})
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
    "filter_facts", "write_triples", "KgError", "remove_articles", "assemble", "settings_fingerprint",
]
