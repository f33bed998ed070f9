"""The per-article map as tasks on a Dask cluster (``kg build ... --engine dask``).

Optional: ``pip install kg-news[dask]``. Dask is imported only when a build asks for this
engine, never when kg is imported.

The cluster does what :func:`kg.pipeline.read_corpus` and :func:`kg.pipeline.map_articles` do
in one process; the client reduces the results with the same :func:`kg.pipeline.reduce_results`,
so the graph is the local one. Two rounds of tasks, both over paths and byte ranges, never
texts:

1. **Plan** (one task per group of files): each worker reads its files as the local reader
   does and returns, per article, its base id, source, SHA-1 of the cleaned text and (JSONL)
   the byte range and number of its line, plus the ids the reader counts for collisions and
   the inputs it skips. The client lists the files (a ``stat`` walk, no reading) and, from
   these small manifests in file order, gives every article exactly the id and duplicate
   verdict the local reader gives (:meth:`kg.articles._Reader._finish`'s rules).
2. **Map** (one task per partition of ``partition_size`` articles, a bounded number in
   flight): the worker re-reads its byte ranges, rebuilds the articles with their planned
   ids, detects the language and runs :func:`kg.pipeline.map_article`. Language stages load
   once per worker process (:class:`WarmStages` and the per-process cache of ``load_stage``).

A partition is a pure function of its paths and ranges, so a task the scheduler re-runs
because its worker died gives the same results, and the client takes each partition's
results exactly once (one future each): a killed worker neither loses nor duplicates facts.
An article whose map raises becomes a ``Skipped`` entry with a one-line reason, like any
skipped input; a partition that kills workers repeatedly (Dask's ``allowed-failures``) has
all its articles reported skipped.

Inputs must be visible at the same path on the client and every worker (a shared file
system); relative paths are sent as absolute ones and reported as given. Input files must not
change during a build (a changed article is reported skipped, not built from other text).
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .articles import JSONL_SUFFIXES, _Reader, read_articles
from .errors import ConfigError, InputError, KgError, ModelNotInstalled
from .names import slug
from .pipeline import BATCH_ARTICLES, Extraction, load_stage, map_article, map_batch, reduce_results, with_language
from .settings import Settings
from .sources import read_bytes_capped
from .types import Article, ArticleResult, BuildReport, Skipped

PLAN_FILES_PER_TASK = 32
PARTITION_SIZE = 16  # articles per map task: large enough to hide task overhead (~1 ms)
IN_FLIGHT_PER_WORKER = 3  # map tasks queued per worker: keeps workers busy, memory bounded
_UTF8_BOM = b"\xef\xbb\xbf"


class DaskNotInstalled(KgError):
    """The dask engine was asked for but dask.distributed is not installed."""


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise DaskNotInstalled("the dask engine needs dask.distributed; run: pip install 'kg-news[dask]'") from None
    return distributed


# --------------------------------------------------------------------------------------------
# Plan: what the reader would make of each file


@dataclass(frozen=True)
class InputFile:
    """One input file: as given (``shown``, used in every report line) and as opened."""

    shown: str
    opened: str

    def source(self, text: str) -> str:
        """A source or reason written with the opened path, rewritten as the user gave it."""
        return text.replace(self.opened, self.shown) if self.opened != self.shown else text


@dataclass(frozen=True)
class Entry:
    """One article the reader would yield from a file, before its id is final."""

    source: str
    base_id: str
    digest: bytes  # SHA-1 of the cleaned text, as the reader computes it
    line: int = 0  # JSONL line number (1-based); 0 for a whole .txt/.html file
    start: int = 0  # byte range of that line in the file
    end: int = 0


@dataclass(frozen=True)
class FilePlan:
    file: InputFile
    counted_ids: tuple[str, ...]  # the base ids the reader counts for collisions
    entries: tuple[Entry, ...]
    skipped: tuple[Skipped, ...]
    codec: str | None = None  # JSONL: how the whole file decoded (None: re-read it whole)
    warnings: tuple[str, ...] = ()  # JSONL: the decoding warnings every line carries


def _jsonl_codec(data: bytes, text: str) -> tuple[str | None, int]:
    """A codec that decodes any line range of ``data`` exactly as the reader decoded the
    whole file to ``text`` (line breaks are the same bytes), and where line 1 starts."""
    offset = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    body = data[offset:]
    for codec in ("utf-8", "cp1252", "latin-1"):
        try:
            if body.decode(codec, errors="replace" if codec == "utf-8" else "strict") == text:
                return codec, offset
        except UnicodeDecodeError:
            continue
    return None, 0  # UTF-16: not splittable by bytes


def _line_ranges(data: bytes, offset: int, wanted: set[int]) -> dict[int, tuple[int, int]]:
    ranges: dict[int, tuple[int, int]] = {}
    start, number = offset, 1
    last = max(wanted, default=0)
    while number <= last:
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        if number in wanted:
            ranges[number] = (start, end)
        start, number = end + 1, number + 1
    return ranges


def plan_files(files: list[InputFile], lang: str | None, max_bytes: int) -> list[FilePlan]:
    """Task: the plan of each file (runs on a worker)."""
    plans = []
    for file in files:
        skipped: list[Skipped] = []
        reader = _Reader(lang, skipped.append, max_bytes)
        path = Path(file.opened)
        is_jsonl = path.suffix.lower() in JSONL_SUFFIXES
        counted = tuple(reader._jsonl_ids(path)) if is_jsonl else (path.stem,)
        drafts = list(reader._read_file(path))
        codec, warnings, ranges = None, (), {}
        if is_jsonl and drafts:
            data = read_bytes_capped(path, max_bytes)
            loaded = reader._load(path, report=False)
            if loaded is not None:
                warnings = loaded[1]
                codec, offset = _jsonl_codec(data, loaded[0])
                if codec is not None:
                    ranges = _line_ranges(data, offset, {_line_of(d.source) for d in drafts})
        entries = []
        for draft in drafts:
            digest = hashlib.sha1(draft.text.encode("utf-8")).digest()
            line = _line_of(draft.source) if is_jsonl else 0
            start, end = ranges.get(line, (0, 0))
            entries.append(Entry(file.source(draft.source), draft.base_id, digest, line, start, end))
        plans.append(FilePlan(
            file, counted, tuple(entries),
            tuple(Skipped(file.source(s.source), file.source(s.reason)) for s in skipped), codec, warnings,
        ))
    return plans


def _line_of(source: str) -> int:
    return int(source.rpartition(":")[2])


# --------------------------------------------------------------------------------------------
# Ids: the reader's rules, applied on the client to the plans in file order


@dataclass(frozen=True)
class Planned:
    """An article with its final id, ready to be mapped."""

    plan: FilePlan
    entry: Entry
    article_id: str


class IdPlanner:
    """:meth:`kg.articles._Reader._finish` over manifests: same ids, same duplicates."""

    def __init__(self, plans: list[FilePlan]) -> None:
        self.base_counts: Counter[str] = Counter()
        counted: set[str] = set()
        for plan in plans:
            real = os.path.realpath(plan.file.opened)
            if real not in counted:  # the same file named twice is one input
                counted.add(real)
                self.base_counts.update(slug(i) for i in plan.counted_ids)
        self.seen: dict[bytes, str] = {}
        self.used_slugs: set[str] = set()

    def assign(self, plan: FilePlan, on_skip: Callable[[Skipped], None]) -> Iterator[Planned]:
        for entry in plan.entries:
            first = self.seen.get(entry.digest)
            if first is not None:
                on_skip(Skipped(entry.source, f"same text as {first}; read once"))
                continue
            self.seen[entry.digest] = entry.source
            article_id = entry.base_id
            if self.base_counts[slug(article_id)] > 1:
                article_id = f"{article_id}-{entry.digest.hex()[:8]}"
            candidate, n = article_id, 1
            while slug(candidate) in self.used_slugs:
                n += 1
                candidate = f"{article_id}-{n}"
            self.used_slugs.add(slug(candidate))
            yield Planned(plan, entry, candidate)


# --------------------------------------------------------------------------------------------
# Map: a partition of planned articles


@dataclass(frozen=True)
class WorkItem:
    """Articles of one file in one partition: a byte range (JSONL) or the whole file."""

    file: InputFile
    ids: tuple[tuple[str, str, bytes], ...]  # (source, article id, digest)
    codec: str | None = None
    warnings: tuple[str, ...] = ()
    start: int = 0
    end: int = 0
    first_line: int = 0


def partitions(planned: Iterable[Planned], size: int) -> Iterator[tuple[WorkItem, ...]]:
    """Group planned articles into partitions of ``size``, consecutive JSONL lines of a file
    in one partition becoming one byte range."""
    batch: list[Planned] = []

    def items() -> tuple[WorkItem, ...]:
        out: list[WorkItem] = []
        for p in batch:
            ident = (p.entry.source, p.article_id, p.entry.digest)
            last = out[-1] if out else None
            if p.entry.line and last is not None and last.file == p.plan.file and last.codec == p.plan.codec:
                # the next line of the same file: one range (or one whole-file read, UTF-16)
                out[-1] = dataclasses.replace(last, ids=last.ids + (ident,), end=p.entry.end)
            elif p.entry.line and p.plan.codec:
                out.append(WorkItem(p.plan.file, (ident,), p.plan.codec, p.plan.warnings,
                                    p.entry.start, p.entry.end, p.entry.line))
            else:
                out.append(WorkItem(p.plan.file, (ident,)))
        return tuple(out)

    for p in planned:
        batch.append(p)
        if len(batch) >= size:
            yield items()
            batch = []
    if batch:
        yield items()


def _read_range(path: str, start: int, end: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(start)
        return handle.read(end - start)


def _drafts(item: WorkItem, reader: _Reader) -> Iterator:
    path = Path(item.file.opened)
    if item.codec is None:
        yield from reader._read_file(path)
        return
    data = _read_range(item.file.opened, item.start, item.end)
    text = data.decode(item.codec, errors="replace" if item.codec == "utf-8" else "strict")
    # the reader numbers lines from the top of the file: pad so this range keeps its numbers
    yield from reader._read_jsonl(path, "\n" * (item.first_line - 1) + text, item.warnings)


def map_partition(items: tuple[WorkItem, ...], settings: Settings, lang: str | None, max_bytes: int) -> list[ArticleResult]:
    """Task: read, clean, detect and map the articles of a partition (runs on a worker)."""
    results: list[ArticleResult | Article] = []  # an Article is mapped below, in batches
    for item in items:
        wanted = {source: (article_id, digest) for source, article_id, digest in item.ids}
        reader = _Reader(lang, lambda _skip: None, max_bytes)  # read skips were planned
        found: set[str] = set()
        try:
            drafts = list(_drafts(item, reader))
        except (OSError, UnicodeDecodeError) as exc:
            drafts = []
            reason = f"cannot re-read on the worker: {exc}"
        else:
            reason = "input changed during the build; not read"
        for draft in drafts:
            source = item.file.source(draft.source)
            if source not in wanted or source in found:
                continue
            article_id, digest = wanted[source]
            if hashlib.sha1(draft.text.encode("utf-8")).digest() != digest:
                continue
            found.add(source)
            article = Article(id=article_id, source=source, text=draft.text, lang=draft.lang, title=draft.title,
                              url=draft.url, published=draft.published, warnings=draft.warnings)
            results.append(article)
        for source, article_id, _digest in item.ids:
            if source not in found:
                results.append(_skipped(Article(id=article_id, source=source, text=""), reason))
    return _map_pending(results, settings, lang)


def _map_pending(slots: list[ArticleResult | Article], settings: Settings, lang: str | None) -> list[ArticleResult]:
    """Each Article of ``slots`` mapped (language detected, then :func:`kg.pipeline.map_batch` in
    batches, as a local build does), in place; results keep their order."""
    out: list = list(slots)
    ready: list[tuple[int, Article]] = []
    for n, item in enumerate(slots):
        if isinstance(item, ArticleResult):
            continue
        skips: list[Skipped] = []
        tagged = list(with_language([item], lang, skips.append, settings))
        if tagged:
            ready.append((n, tagged[0]))
        else:
            out[n] = ArticleResult(article=dataclasses.replace(item, text=""), triples=(), skipped=skips[0])
    for start in range(0, len(ready), BATCH_ARTICLES):
        chunk = ready[start:start + BATCH_ARTICLES]
        try:
            mapped = map_batch([article for _n, article in chunk], settings)
        except Exception:  # noqa: BLE001 — one bad article must not fail its partition
            mapped = [_map_one(article, settings, lang) for _n, article in chunk]
        for (n, _article), result in zip(chunk, mapped):
            out[n] = result
    return out


def _skipped(article: Article, reason: str) -> ArticleResult:
    return ArticleResult(article=article, triples=(), skipped=Skipped(article.source, reason))


def _map_one(article: Article, settings: Settings, lang: str | None) -> ArticleResult:
    skips: list[Skipped] = []
    tagged = list(with_language([article], lang, skips.append, settings))
    if not tagged:
        return ArticleResult(article=dataclasses.replace(article, text=""), triples=(), skipped=skips[0])
    try:
        return map_article(tagged[0], settings)
    except Exception as exc:  # one bad article must not fail its partition
        line = (str(exc).splitlines() or [""])[0][:200]
        return _skipped(dataclasses.replace(article, text=""), f"failed on a worker: {type(exc).__name__}: {line}")


# --------------------------------------------------------------------------------------------
# Workers: language stages load once per process


class WarmStages:
    """Worker plugin: load the language stages of ``langs`` when a worker starts (and when a
    dead one is replaced), so no task pays for it and every task finds them in the cache."""

    def __init__(self, settings: Settings, langs: Iterable[str]) -> None:
        self.settings = settings
        self.langs = tuple(langs)

    def setup(self, worker=None) -> None:
        for lang in self.langs:
            try:
                load_stage(lang, self.settings)
            except ModelNotInstalled:
                pass  # its articles are reported skipped, as in a local build

    def teardown(self, worker=None) -> None:
        pass


def stage_loads() -> dict[str, int]:
    """How many language stages this process has loaded (for tests and the bench)."""
    from .pipeline import _load_stage

    return {"loaded": _load_stage.cache_info().misses, "pid": os.getpid()}


def _plugin(settings: Settings, langs: Iterable[str]):
    distributed = _import_distributed()

    class _WarmStagesPlugin(WarmStages, distributed.WorkerPlugin):
        name = "kg-warm-stages"

    return _WarmStagesPlugin(settings, langs)


# --------------------------------------------------------------------------------------------
# The client side


def expand_paths(paths: Iterable[str | Path]) -> list[str]:
    """``paths`` with glob patterns (``shards/*.jsonl``, ``**``) expanded in sorted order; a
    path that exists as written is kept as is; a pattern matching nothing is an InputError."""
    out: list[str] = []
    for raw in map(str, paths):
        if os.path.lexists(raw) or not glob.has_magic(raw):
            out.append(raw)
            continue
        found = sorted(glob.glob(raw, recursive=True))
        if not found:
            raise InputError(f"no input matches {raw!r}")
        out.extend(found)
    return out


def open_client(scheduler: str | None = None, workers: int | None = None, *, timeout: float = 60):
    """(client, cluster): a client of the scheduler at ``scheduler``, or of a new LocalCluster
    of ``workers`` single-threaded worker processes (default: one per core)."""
    distributed = _import_distributed()
    if scheduler:
        try:
            return distributed.Client(scheduler, timeout=timeout), None
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    cluster = distributed.LocalCluster(
        n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
        dashboard_address=":0", scheduler_kwargs={"dashboard": False}, silence_logs=logging.ERROR,
    )
    return distributed.Client(cluster, timeout=timeout), cluster


def kg_version() -> str:
    from . import __version__

    return __version__


def _check_versions(client) -> None:
    """Every worker must run this kg: the map's results are only the same with the same code."""
    mine = kg_version()
    other = {address: v for address, v in client.run(kg_version).items() if v != mine}
    if other:
        address, version = sorted(other.items())[0]
        raise ConfigError(f"Dask worker {address} runs kg {version}, this client kg {mine}; "
                          f"install the same kg version (and models) on every worker")


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def extract_corpus_dask(
    paths: Iterable[str | Path],
    settings: Settings,
    *,
    lang: str | None = None,
    progress: Callable[[int, str], None] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    partition_size: int = PARTITION_SIZE,
    warm: bool = True,
    timeout: float | None = None,
) -> Extraction:
    """:func:`kg.pipeline.extract_corpus` on a Dask cluster: ``client`` if given (left open),
    else the scheduler at ``scheduler``, else a LocalCluster of ``workers`` processes (both
    closed at the end). ``timeout`` bounds the whole build (seconds; default none)."""
    own = client is None
    cluster = None
    if own:
        client, cluster = open_client(scheduler, workers)
    try:
        return _extract(client, expand_paths(paths), settings, lang, progress, partition_size, warm, timeout)
    finally:
        if own:
            client.close(timeout=60)
            if cluster is not None:
                cluster.close(timeout=60)


def _extract(client, paths: list[str], settings: Settings, lang: str | None,
             progress: Callable[[int, str], None] | None, partition_size: int, warm: bool,
             timeout: float | None) -> Extraction:
    distributed = _import_distributed()
    deadline = None if timeout is None else time.monotonic() + timeout

    def left() -> float | None:
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    report = BuildReport()
    skip = report.skipped.append
    read_articles(paths, lang=lang, on_skip=skip, max_file_bytes=settings.max_file_bytes)  # raises for a missing path
    listing = _Reader(lang, skip, settings.max_file_bytes)  # the local reader's walk: a stat, no reading
    files = [InputFile(str(p), str(p) if p.is_absolute() else os.path.abspath(p))
             for p in listing._files([Path(p) for p in paths])]
    _check_versions(client)
    if warm:
        client.register_plugin(_plugin(settings, sorted(settings.models)), name="kg-warm-stages")

    # 1. plan: manifests (ids, digests, byte ranges) of every file, kept in file order
    plan_futures = [client.submit(plan_files, group, lang, settings.max_file_bytes, pure=False)
                    for group in _chunks(files, PLAN_FILES_PER_TASK)]
    plans = [plan for future in plan_futures for plan in future.result(timeout=left())]
    client.cancel(plan_futures)
    for plan in plans:
        report.skipped.extend(plan.skipped)
    planner = IdPlanner(plans)

    def planned() -> Iterator[Planned]:
        for plan in plans:
            for item in planner.assign(plan, skip):
                report.articles_read += 1
                yield item

    # 2. map: partitions stream through a bounded window; each future's result is taken once
    window = IN_FLIGHT_PER_WORKER * max(1, len(client.scheduler_info().get("workers", {})))

    def results() -> Iterator[ArticleResult]:
        done = 0
        queue = distributed.as_completed(timeout=left())
        parts: dict[str, tuple[WorkItem, ...]] = {}

        def collect(future) -> Iterator[ArticleResult]:
            nonlocal done
            part = parts.pop(future.key)
            try:
                batch = future.result()
            except distributed.KilledWorker as exc:
                reason = f"its partition killed Dask workers repeatedly ({exc.__class__.__name__}); not built"
                batch = [_skipped(Article(id=i, source=s, text=""), reason) for item in part for s, i, _d in item.ids]
            future.release()
            for result in batch:
                done += 1
                if progress:
                    progress(done, result.article.source)
                yield result

        for part in partitions(planned(), partition_size):
            future = client.submit(map_partition, part, settings, lang, settings.max_file_bytes, pure=False)
            parts[future.key] = part
            queue.add(future)
            while queue.count() >= window:
                yield from collect(next(queue))
        for future in queue:
            yield from collect(future)

    return reduce_results(results(), report)
