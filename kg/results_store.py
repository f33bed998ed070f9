"""The output folder: one consistent set of outputs, switched atomically, plus a store of
per-article results for incremental builds, kept off-limits to a second build by a lock.

Layout of ``--out DIR``::

    DIR/graph.ttl, graph.html, ...   symlinks "current/<name>": what users open
    DIR/current                      symlink "generations/<id>": the one switch
    DIR/generations/<id>/            one build's whole output set + index.json
    DIR/store/<hh>/<hash>.json       per-article results, keyed by content hash
    DIR/.kg-output                   marker: the reader never takes DIR for input
    DIR/.kg-lock                     fcntl lock: one build per folder at a time

A build writes its outputs into ``generations/.staging-<id>/``, renames that folder to
``generations/<id>`` and then replaces the ``current`` link with one ``rename(2)``: whatever
moment a build is killed at, ``current`` names either the whole old set or the whole new one,
and the top-level names (which go through ``current``) follow it. Stale staging folders, old
generations, temporary links and files are removed when the next build starts.

``index.json`` lists the articles of a generation, in the order they were first added: id,
content hash and metadata. The store holds, per content hash (language + text), the text and
the :class:`~kg.types.ArticleResult` the map made of it, with a fingerprint of the code,
rules and settings that made it; a record with another fingerprint is mapped again from its
text. An incremental build is therefore: read the index, map only new or changed articles,
reduce all results — the same reduce a clean build runs, so the graph is the same.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, KgError, OutputError
from .files import fsync_directory, write_atomic
from .sources import OUTPUT_MARKER
from .types import Article, ArticleResult, Mention, Skipped, Triple, TypeVote

LOCK_FILE = ".kg-lock"
CURRENT = "current"
GENERATIONS = "generations"
STORE = "results"  # per-article results; "store" is the Oxigraph store (kg/store.py)
INDEX = "index.json"
STAGING_PREFIX = ".staging-"
INDEX_VERSION = 1
_TMP_NAME = re.compile(r"^\..+\.tmp$")  # kg.files.write_atomic's temporary files


class FolderBusy(KgError):
    """Another build holds the output folder's lock."""

    exit_code = 3


# -- options ---------------------------------------------------------------------------------

def check_out_dir(out_dir: str | Path) -> Path:
    """Fail before any work if ``out_dir`` cannot be an output folder: it names a file, or its
    parent is missing, not a folder or not writable. Raises ConfigError (exit code 2)."""
    out = Path(out_dir)
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise ConfigError(f"--out {out} is an existing file, not a folder")
        if not _writable(out):
            raise ConfigError(f"--out {out} is not writable")
        return out
    parent = out.absolute().parent
    if not parent.exists():
        raise ConfigError(f"--out {out}: parent folder {parent} does not exist")
    if not parent.is_dir():
        raise ConfigError(f"--out {out}: {parent} is not a folder")
    if not _writable(parent):
        raise ConfigError(f"--out {out}: cannot create it, {parent} is not writable")
    return out


def _writable(folder: Path) -> bool:
    """Can a folder be created in ``folder``? Tried for real (permission bits do not tell for
    root, read-only mounts or special file systems)."""
    import tempfile

    try:
        os.rmdir(tempfile.mkdtemp(prefix=".kg-probe-", dir=folder))
    except OSError:
        return False
    return True


# -- test hook -------------------------------------------------------------------------------

def pause_point(phase: str) -> None:
    """For the kill tests only: with KG_TEST_PAUSE_AT=<phase>, touch KG_TEST_PAUSE_FILE and
    wait there (to be killed). Does nothing otherwise."""
    if os.environ.get("KG_TEST_PAUSE_AT") != phase:
        return
    flag = os.environ.get("KG_TEST_PAUSE_FILE")
    if flag:
        Path(flag).write_text(phase, encoding="utf-8")
    time.sleep(120)


# -- JSON of results -------------------------------------------------------------------------

def result_to_json(result: ArticleResult) -> dict:
    """The result as plain JSON data: what ``dataclasses.asdict`` gives, without its deep
    copies of every leaf (it was a tenth of the main process's work in a parallel build)."""
    return _plain(result)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain(value):
    kind = type(value)
    if kind in (str, int, float, bool) or value is None:
        return value
    if kind is tuple or kind is list:
        return [_plain(v) for v in value]
    names = _FIELDS.get(kind)
    if names is None:
        if not dataclasses.is_dataclass(value):
            return value
        names = _FIELDS.setdefault(kind, tuple(f.name for f in dataclasses.fields(value)))
    return {name: _plain(getattr(value, name)) for name in names}


def _article(data: dict) -> Article:
    return Article(**{**data, "warnings": tuple(data.get("warnings", ()))})


def _triple(data: dict) -> Triple:
    return Triple(**{**data, "subject": Mention(**data["subject"]), "object": Mention(**data["object"])})


def result_from_json(data: dict) -> ArticleResult:
    return ArticleResult(
        article=_article(data["article"]),
        triples=tuple(_triple(t) for t in data["triples"]),
        people=tuple(data.get("people", ())),
        type_votes=tuple(TypeVote(**v) for v in data.get("type_votes", ())),
        model=data.get("model", ""),
        skipped=Skipped(**data["skipped"]) if data.get("skipped") else None,
    )


def retarget(result: ArticleResult, article: Article) -> ArticleResult:
    """A stored result (keyed by content) as the result of ``article``: the map reads only an
    article's text and language, so only the metadata and the article id in triples change."""
    meta = dataclasses.replace(article, text="")
    triples = result.triples if all(t.article_id == article.id for t in result.triples) else tuple(
        dataclasses.replace(t, article_id=article.id) for t in result.triples)
    skipped = dataclasses.replace(result.skipped, source=article.source) if result.skipped else None
    return dataclasses.replace(result, article=meta, triples=triples, skipped=skipped)


def content_hash(article: Article) -> str:
    """The store key of an article's content: its language and text."""
    return hashlib.sha256(f"{article.lang or ''}\0{article.text}".encode("utf-8")).hexdigest()


# -- the index of a generation ---------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One article of an output set: its id, content hash and metadata (text dropped)."""

    id: str
    hash: str
    article: Article


def entries_to_json(entries: Iterable[Entry]) -> dict:
    return {"version": INDEX_VERSION, "articles": [
        {"id": e.id, "hash": e.hash, "article": dataclasses.asdict(e.article)} for e in entries]}


def entries_from_json(data: dict) -> list[Entry]:
    if data.get("version") != INDEX_VERSION:
        return []
    return [Entry(e["id"], e["hash"], _article(e["article"])) for e in data.get("articles", ())]


# -- the folder ------------------------------------------------------------------------------

_HELD: dict[str, int] = {}  # locks this process holds: path -> depth (flock is per open file)


class OutputFolder:
    """An output folder, locked for one build. Use as a context manager::

        with OutputFolder(out, wait=False) as folder:
            entries = folder.load_index()
            ...
            folder.publish(write_files, entries)
    """

    def __init__(self, path: str | Path, *, wait: bool = False):
        self.path = Path(path)
        self.wait = wait
        self._fd: int | None = None
        self._key = ""

    # locking
    def __enter__(self) -> "OutputFolder":
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            (self.path / OUTPUT_MARKER).touch()  # the reader never takes this folder for input
        except OSError as exc:
            raise OutputError(f"cannot create output folder {self.path}: {exc.strerror or exc}") from exc
        self._key = str(self.path.resolve())
        if self._key in _HELD:
            _HELD[self._key] += 1
            return self
        fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except OSError as exc:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                who = f" (pid {holder})" if holder.isdigit() else ""
                raise FolderBusy(f"another kg build is writing to {self.path}{who}; "
                                 f"try again when it is done, or pass --wait") from None
            raise OutputError(f"cannot lock {self.path / LOCK_FILE}: {exc.strerror or exc}") from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        self._fd = fd
        _HELD[self._key] = 1
        self.clean_stale()
        return self

    def __exit__(self, *exc_info) -> None:
        _HELD[self._key] -= 1
        if _HELD[self._key] == 0:
            del _HELD[self._key]
            if self._fd is not None:
                os.close(self._fd)  # releases the lock
                self._fd = None

    # reading
    def current_generation(self) -> Path | None:
        link = self.path / CURRENT
        if not link.is_symlink():
            return None
        target = (self.path / os.readlink(link)).resolve()
        return target if target.is_dir() else None

    def load_index(self) -> list[Entry]:
        """The articles of the current output set ([] for a new or pre-generations folder)."""
        current = self.current_generation()
        if current is None or not (current / INDEX).is_file():
            return []
        try:
            return entries_from_json(json.loads((current / INDEX).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OutputError(f"{current / INDEX} is unreadable ({exc}); rebuild with --fresh") from exc

    def current_options(self) -> dict:
        """The output options (html, max_nodes, formats) the current set was written with."""
        current = self.current_generation()
        try:
            return dict(json.loads((current / "report.json").read_text(encoding="utf-8")).get("options") or {})
        except (TypeError, OSError, ValueError):
            return {}

    def _record_path(self, key: str) -> Path:
        return self.path / STORE / key[:2] / f"{key}.json"

    def load_record(self, key: str, fingerprint: str) -> tuple[str | None, ArticleResult | None]:
        """(text, result) stored under ``key``; result is None when it was made by other code,
        rules or settings (then the text is mapped again); (None, None) when absent."""
        try:
            data = json.loads(self._record_path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None, None
        text = data.get("text")
        if data.get("fingerprint") != fingerprint:
            return text, None
        try:
            return text, result_from_json(data["result"])
        except (KeyError, TypeError):
            return text, None

    def save_record(self, key: str, text: str, result: ArticleResult, fingerprint: str) -> None:
        data = {"fingerprint": fingerprint, "text": text, "result": result_to_json(result)}
        _write_unsynced(self._record_path(key), json.dumps(data, ensure_ascii=False, sort_keys=True))

    # writing
    def publish(self, write_files: Callable[[Path], Iterable[str]], entries: Iterable[Entry] | None) -> Path:
        """Write a new output set with ``write_files(staging folder) -> file names`` plus the
        index, then switch ``current`` to it in one rename, link the top-level names, and
        remove the old set and unreferenced store records. Returns the new generation."""
        gen_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{secrets.token_hex(3)}"
        generations = self.path / GENERATIONS
        staging = generations / f"{STAGING_PREFIX}{gen_id}"
        final = generations / gen_id
        try:
            staging.mkdir(parents=True)
            names = list(write_files(staging))
            if entries is not None:
                entries = list(entries)
                write_atomic(staging / INDEX, json.dumps(entries_to_json(entries), ensure_ascii=False))
            _fsync_tree(staging)
            pause_point("staged")
            os.rename(staging, final)
            fsync_directory(generations)
            pause_point("renamed")
            self._switch(gen_id)
            pause_point("switched")
            self._link_top_level(names)
            self._remove_old(keep=gen_id, entries=entries)
        except OSError as exc:
            raise OutputError(f"cannot write the outputs in {self.path}: {exc.strerror or exc}") from exc
        return final

    def _switch(self, gen_id: str) -> None:
        tmp = self.path / f".{CURRENT}.{gen_id}.tmp"
        os.symlink(f"{GENERATIONS}/{gen_id}", tmp)
        os.replace(tmp, self.path / CURRENT)  # the switch: atomic
        fsync_directory(self.path)

    def _link_top_level(self, names: Iterable[str]) -> None:
        """DIR/<name> -> current/<name> for every output; links to outputs the current set
        lacks are removed. A regular file of an older kg (plain outputs) is replaced."""
        wanted = set(names)
        for name in sorted(wanted):
            link = self.path / name
            target = f"{CURRENT}/{name}"
            if link.is_symlink() and os.readlink(link) == target:
                continue
            if link.is_dir() and not link.is_symlink():
                continue  # never replace a user's folder
            tmp = self.path / f".{name}.link.tmp"
            if tmp.is_symlink() or tmp.exists():
                tmp.unlink()
            os.symlink(target, tmp)
            os.replace(tmp, link)
        for link in self.path.iterdir():
            if link.is_symlink() and link.name not in wanted and os.readlink(link).startswith(f"{CURRENT}/"):
                link.unlink()
        fsync_directory(self.path)

    def _remove_old(self, keep: str, entries: list[Entry] | None) -> None:
        generations = self.path / GENERATIONS
        for child in generations.iterdir():
            if child.name != keep:
                shutil.rmtree(child, ignore_errors=True)
                pause_point("cleanup")
        if entries is not None:
            live = {e.hash for e in entries}
            for record in (self.path / STORE).glob("*/*.json") if (self.path / STORE).is_dir() else ():
                if record.stem not in live:
                    record.unlink(missing_ok=True)

    def clean_stale(self) -> None:
        """What a killed build left: staging folders, generations other than the current one,
        temporary links and files. Store records are kept: a killed build's mapped results are
        reused by the next build of the same texts (and removed once an index without them is
        published)."""
        current = self.current_generation()
        generations = self.path / GENERATIONS
        if generations.is_dir():
            for child in generations.iterdir():
                if current is None or child.resolve() != current:
                    if current is None and not child.name.startswith(STAGING_PREFIX):
                        continue  # no valid current link: keep finished generations for repair
                    shutil.rmtree(child, ignore_errors=True)
        for child in self.path.iterdir():
            if _TMP_NAME.match(child.name) and (child.is_file() or child.is_symlink()):
                child.unlink(missing_ok=True)
        store = self.path / STORE
        if store.is_dir():
            for tmp in store.glob("*/.*.tmp"):
                tmp.unlink(missing_ok=True)


def _write_unsynced(path: Path, text: str) -> None:
    """A store record: a cache entry, so renamed into place without fsync (a record lost or
    torn by a power cut fails to parse and its text is mapped again)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _fsync_tree(folder: Path) -> None:
    """Flush every file of a staged generation before it is switched in."""
    for path in folder.iterdir():
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    fsync_directory(folder)
