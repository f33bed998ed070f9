"""Writing output files atomically: readers see the old file or the new one, never half of one.

Every output kg writes (graphs, the HTML page, triples, the build report) goes through here, so
a crash or a full disk mid-write never leaves a truncated file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import OutputError


def fsync_directory(folder: Path) -> None:
    """Flush a folder's entries (a rename into it) to disk; a no-op where unsupported."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not supported on this platform (e.g. Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a
    partial one: a temporary file in the same folder, fsync, then os.replace.

    Missing parent folders are created. Text is written as UTF-8. A file that already exists
    keeps its permissions; a new file gets 0644. Raises OutputError, naming the path, if it
    cannot be written.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    target = Path(path)
    folder = target.parent
    tmp_name: str | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        mode = target.stat().st_mode & 0o7777 if target.exists() else 0o644
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
    fsync_directory(folder)
    return target
