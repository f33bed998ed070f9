"""Opening input files safely: which paths are read at all, how many bytes, and how they decode.

Everything here is about bytes and the file system, nothing about articles: a folder walk that
survives symlink loops and skips kg's own output folders, a read that refuses FIFOs, devices and
sockets and stops at a size cap, and UTF-8 decoding that replaces bad bytes locally. Every
refusal is a :class:`InputRefused` with a one-line reason the caller turns into a ``Skipped``.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from .types import Skipped

# A build writes this empty file into its output folder; a folder holding it is never read.
OUTPUT_MARKER = ".kg-output"
# Output folders written before the marker existed are recognised by these two files.
_OUTPUT_FILES = ("report.json", "graph.ttl")

DEFAULT_MAX_FILE_BYTES = 50_000_000  # same as [build] max_file_bytes in kg/default.cfg

CP1252_WARNING = "decoded as cp1252"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"
_READ_CHUNK = 1 << 20


class InputRefused(Exception):
    """A path that is not read; ``str(exc)`` is the one-line reason."""


def is_output_dir(path: str | Path) -> bool:
    """True when ``path`` is a folder kg wrote a build into (it holds ``OUTPUT_MARKER``, or both
    report.json and graph.ttl)."""
    folder = Path(path)
    try:
        if (folder / OUTPUT_MARKER).is_file():
            return True
        return all((folder / name).is_file() for name in _OUTPUT_FILES)
    except OSError:
        return False


def output_dir_reason(path: Path) -> str:
    return f"kg output folder ({OUTPUT_MARKER} or report.json + graph.ttl), not read as input"


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    if exc.errno == errno.ENOENT:
        return "broken symlink or vanished file"
    return exc.strerror or str(exc)


def walk_files(
    folder: Path,
    wanted: Callable[[str], bool],
    on_skip: Callable[[Skipped], None],
    _seen: set[tuple[int, int]] | None = None,
) -> Iterator[Path]:
    """Files under ``folder`` whose name ``wanted`` accepts, recursively, in name order.

    Hidden entries are ignored. Symlinked folders are followed once each (by device and inode),
    so a folder loop ends; a file symlink loop, a broken link and kg output folders are reported
    through ``on_skip`` and not descended into. Non-regular files with a wanted name (FIFOs,
    sockets, devices) are yielded so that :func:`read_bytes_capped` reports them.
    """
    seen = set() if _seen is None else _seen
    try:
        info = folder.stat()
        with os.scandir(folder) as scan:
            entries = sorted((e for e in scan if not e.name.startswith(".")), key=lambda e: e.name)
    except OSError as exc:
        on_skip(Skipped(str(folder), f"cannot read folder: {_os_reason(exc)}"))
        return
    key = (info.st_dev, info.st_ino)
    if key in seen:
        return
    seen.add(key)
    for entry in entries:
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()
        except OSError as exc:  # ELOOP from a link pointing at itself, EACCES ...
            if wanted(entry.name):
                on_skip(Skipped(str(path), f"cannot read file: {_os_reason(exc)}"))
            continue
        if is_dir:
            if is_output_dir(path):
                on_skip(Skipped(str(path), output_dir_reason(path)))
                continue
            yield from walk_files(path, wanted, on_skip, seen)
        elif wanted(entry.name):
            yield path


def read_bytes_capped(path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``max_bytes`` bytes.

    The file is opened non-blocking and checked with fstat before anything is read, so a FIFO
    never blocks and ``/dev/zero`` is never read; the read stops one byte past the cap, so a
    file that grows while being read cannot exhaust memory either.
    """
    check_regular_file(path)
    info = os.stat(path)
    if info.st_size > max_bytes:
        raise InputRefused(_too_large(info.st_size, max_bytes))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputRefused(f"cannot read file: {_os_reason(exc)}") from None
    try:
        _check_regular(os.fstat(fd).st_mode)  # it may have been swapped since the stat
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(_READ_CHUNK, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InputRefused(f"cannot read file: {_os_reason(exc)}") from None
    finally:
        os.close(fd)
    if size > max_bytes:
        raise InputRefused(_too_large(size, max_bytes, grew=True))
    return b"".join(chunks)


def check_regular_file(path: Path) -> None:
    """Raise :class:`InputRefused` unless ``path`` is (a link to) a regular file. Reads nothing."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InputRefused(f"cannot read file: {_os_reason(exc)}") from None
    _check_regular(info.st_mode)


def _check_regular(mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = (
        "a FIFO" if stat.S_ISFIFO(mode)
        else "a socket" if stat.S_ISSOCK(mode)
        else "a character device" if stat.S_ISCHR(mode)
        else "a block device" if stat.S_ISBLK(mode)
        else "a folder" if stat.S_ISDIR(mode)
        else "a special file"
    )
    raise InputRefused(f"not a regular file but {kind}; not read")


def _too_large(size: int, cap: int, grew: bool = False) -> str:
    what = "grew past" if grew else f"is {size:,} bytes, over"
    return f"file {what} the {cap:,}-byte limit ([build] max_file_bytes)"


# --------------------------------------------------------------------------------------------
# Decoding


def looks_binary(data: bytes) -> bool:
    """NUL bytes (unless UTF-16 with a BOM), or many control characters in the first 8 KB."""
    if data.startswith(_UTF16_BOMS):
        try:
            data.decode("utf-16")
            return False
        except UnicodeDecodeError:
            return True
    if b"\x00" in data:
        return True
    sample = data[:8192]
    if not sample:
        return False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(sample) > 0.05


def decode(data: bytes) -> tuple[str, tuple[str, ...]]:
    """Text of ``data`` and warnings: UTF-16 with a BOM, else UTF-8 (BOM stripped).

    Invalid UTF-8 sequences become U+FFFD where they are, with a warning counting them. Only
    when the bytes are not UTF-8 at all — more invalid sequences than valid non-ASCII
    characters, as in any cp1252 or latin-1 text — is the whole input decoded as cp1252
    (latin-1 for cp1252's five undefined bytes), with a warning.
    """
    if data.startswith(_UTF16_BOMS):
        return data.decode("utf-16"), ()
    if data.startswith(_UTF8_BOM):
        data = data[3:]
    try:
        return data.decode("utf-8"), ()
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode("utf-8"))
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    good = non_ascii - text.count("\ufffd")
    if bad > good:
        try:
            return data.decode("cp1252"), (CP1252_WARNING,)
        except UnicodeDecodeError:
            return data.decode("latin-1"), (CP1252_WARNING,)
    noun = "sequence" if bad == 1 else "sequences"
    return text, (f"{bad} invalid UTF-8 byte {noun} replaced with U+FFFD",)
