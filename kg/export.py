"""Write graphs to files atomically, and read them back; one registry of RDF formats.

A format is a name, the file extensions that imply it, a serializer that must give the same
bytes for the same graph, and the rdflib parser that reads it back. Add a format by adding a
``GraphFormat`` to ``FORMATS``; the tests loop over every entry.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdflib import Graph

from .errors import ConfigError, InputError
from .vocab import bind_namespaces

_MAX_DETAIL = 300  # characters of a parser message kept in an error line


def _serialize_turtle(graph: Graph) -> bytes:
    return graph.serialize(format="turtle", encoding="utf-8")


def _serialize_ntriples(graph: Graph) -> bytes:
    # One triple a line, so sorting the lines makes the file independent of graph order.
    lines = graph.serialize(format="nt", encoding="utf-8").splitlines(keepends=True)
    return b"".join(sorted(line for line in lines if line.strip()))


def _canonical_json(value: Any, ordered: bool = False) -> Any:
    # Arrays from rdflib follow its hash-ordered store; sort every one except "@list" values.
    if isinstance(value, dict):
        return {key: _canonical_json(item, key == "@list") for key, item in value.items()}
    if isinstance(value, list):
        items = [_canonical_json(item) for item in value]
        return items if ordered else sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
    return value


def _serialize_jsonld(graph: Graph) -> bytes:
    context = {prefix: str(ns) for prefix, ns in sorted(graph.namespaces()) if prefix}
    data = json.loads(graph.serialize(format="json-ld", context=context, encoding="utf-8"))
    text = json.dumps(_canonical_json(data), indent=2, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


@dataclass(frozen=True)
class GraphFormat:
    """An RDF syntax kg reads and writes."""

    name: str
    extensions: tuple[str, ...]  # lower case, with the dot; the first one is the usual one
    media_type: str
    rdflib_parser: str
    serialize: Callable[[Graph], bytes]


FORMATS: dict[str, GraphFormat] = {
    f.name: f
    for f in (
        GraphFormat("turtle", (".ttl",), "text/turtle", "turtle", _serialize_turtle),
        GraphFormat("nt", (".nt",), "application/n-triples", "nt", _serialize_ntriples),
        GraphFormat(
            "json-ld", (".jsonld", ".json"), "application/ld+json", "json-ld", _serialize_jsonld
        ),
    )
}
_ALIASES = {"ttl": "turtle", "ntriples": "nt", "n-triples": "nt", "jsonld": "json-ld"}


def get_format(name: str) -> GraphFormat:
    """The registered format called ``name`` (or an alias such as "ttl"); ConfigError if none."""
    key = name.strip().lower()
    found = FORMATS.get(_ALIASES.get(key, key))
    if found is None:
        raise ConfigError(f"unknown graph format {name!r} (known: {', '.join(FORMATS)})")
    return found


def format_for_path(path: str | Path) -> GraphFormat:
    """The format implied by the extension of ``path``; InputError if no format claims it."""
    suffix = Path(path).suffix.lower()
    for graph_format in FORMATS.values():
        if suffix in graph_format.extensions:
            return graph_format
    known = ", ".join(ext for f in FORMATS.values() for ext in f.extensions)
    raise InputError(f"cannot tell the RDF format of {path} from its extension (known: {known})")


def _fsync_directory(folder: Path) -> None:
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


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a
    partial one: a temporary file in the same folder, fsync, then os.replace.

    Missing parent folders are created. A file that already exists keeps its permissions;
    a new file gets 0644. Raises InputError, naming the path, if it cannot be written.
    """
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
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
    _fsync_directory(folder)
    return target


def write_graph(graph: Graph, path: str | Path, fmt: str = "turtle") -> Path:
    """Serialize ``graph`` in format ``fmt`` (a FORMATS key or alias) to ``path``, atomically.

    The whole document is serialized before the file is touched, so a serializer error leaves
    any existing file as it was. Returns the path written.
    """
    graph_format = get_format(fmt)
    return write_bytes_atomic(path, graph_format.serialize(graph))


def load_graph(path: str | Path, fmt: str | None = None) -> Graph:
    """Read an RDF file; the format is ``fmt`` or else guessed from the extension.

    Raises InputError with one line when the file is missing, unreadable or does not parse.
    """
    source = Path(path)
    graph_format = get_format(fmt) if fmt is not None else format_for_path(source)
    if not source.is_file():
        raise InputError(f"graph file not found: {source}")
    graph = bind_namespaces(Graph(bind_namespaces="core"))
    try:
        with warnings.catch_warnings():
            # rdflib's own JSON-LD parser trips over rdflib's own deprecation; not our concern.
            warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
            graph.parse(source, format=graph_format.rdflib_parser)
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror or exc}") from exc
    except Exception as exc:  # rdflib parsers raise many unrelated types on bad input
        detail = " ".join(str(exc).split())[:_MAX_DETAIL] or type(exc).__name__
        raise InputError(f"cannot parse {source} as {graph_format.name}: {detail}") from exc
    return graph
