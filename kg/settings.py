"""Settings: the shipped kg/default.cfg, then a user file, then command-line overrides."""

from __future__ import annotations

import configparser
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

DEFAULT_CONFIG = Path(__file__).with_name("default.cfg")


@dataclass(frozen=True)
class Settings:
    base_iri: str
    min_confidence: float
    models: dict[str, tuple[str, ...]] = field(default_factory=dict)
    extractors: tuple[str, ...] = ("rules",)
    rule_folders: tuple[str, ...] = ()  # extra folders of language folders (kg/languages.py)
    learned_model: str = ""  # the learned scorer's model file; "" = the one shipped with kg
    calibration: str = ""  # confidence calibration table; "" = shipped, "none" = raw confidence
    # A .txt/.html/.jsonl file larger than this is skipped unread (kg.articles.read_articles).
    max_file_bytes: int = 50_000_000
    # The per-article map (kg.pipeline.process_article): texts longer than chunk_chars are
    # processed in pieces cut at paragraph or sentence ends; no sentence is longer than
    # max_sentence_tokens; an article taking longer than article_seconds is skipped.
    chunk_chars: int = 100_000
    max_sentence_tokens: int = 150
    article_seconds: float = 60.0


# Characters that may not appear in an IRI written between <...> in Turtle or N-Triples.
_BAD_IRI_CHARS = re.compile(r"[\x00-\x20<>\"{}|^`\\]")


def check_base_iri(base_iri: str) -> str:
    """The one check of a base IRI (settings, CLI and library alike): absolute http(s) or urn,
    ending in '/' or '#', no character an IRI may not hold. Raises ConfigError."""
    if not base_iri.startswith(("http://", "https://", "urn:")):
        raise ConfigError(f"base IRI must start with http://, https:// or urn: (got {base_iri!r})")
    if not base_iri.endswith(("/", "#")):
        raise ConfigError(f"base IRI must end with '/' or '#' (got {base_iri!r})")
    bad = _BAD_IRI_CHARS.search(base_iri)
    if bad:
        raise ConfigError(f"base IRI contains {bad.group()!r}, which an IRI may not hold (got {base_iri!r})")
    return base_iri


def load_settings(user_file: str | Path | None = None, **overrides) -> Settings:
    """Read the defaults, then ``user_file`` (only the keys it sets), then non-None overrides."""
    parser = configparser.ConfigParser()
    parser.read(DEFAULT_CONFIG, encoding="utf-8")
    if user_file is not None:
        path = Path(user_file)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error as exc:
            raise ConfigError(f"config file {path} is malformed: {exc}") from exc
    try:
        base_iri = parser.get("graph", "base_iri")
        min_confidence = parser.getfloat("build", "min_confidence")
        max_file_bytes = parser.getint("build", "max_file_bytes")
        chunk_chars = parser.getint("build", "chunk_chars")
        max_sentence_tokens = parser.getint("build", "max_sentence_tokens")
        article_seconds = parser.getfloat("build", "article_seconds")
    except (configparser.Error, ValueError) as exc:
        raise ConfigError(f"bad setting: {exc}") from exc
    models = {
        lang: tuple(m.strip() for m in value.split(",") if m.strip())
        for lang, value in parser.items("models")
    }
    extractors = tuple(x.strip() for x in parser.get("extract", "extractors", fallback="rules").split(",") if x.strip())
    if not extractors:
        raise ConfigError("[extract] extractors names no extractor")
    rule_folders = tuple(x.strip() for x in parser.get("rules", "extra_folders", fallback="").split(",") if x.strip())
    learned_model = parser.get("extract", "learned_model", fallback="").strip()
    calibration = parser.get("build", "calibration", fallback="").strip()
    if calibration not in ("", "none") and not Path(calibration).is_file():
        raise ConfigError(f"[build] calibration: file not found: {calibration}")
    if learned_model and not Path(learned_model).is_file():
        raise ConfigError(f"[extract] learned_model: file not found: {learned_model}")
    if overrides.get("base_iri") is not None:
        base_iri = overrides["base_iri"]
    if overrides.get("min_confidence") is not None:
        min_confidence = float(overrides["min_confidence"])
    if overrides.get("max_file_bytes") is not None:
        max_file_bytes = int(overrides["max_file_bytes"])
    if overrides.get("article_seconds") is not None:
        article_seconds = float(overrides["article_seconds"])
    base_iri = check_base_iri(base_iri if base_iri.endswith(("/", "#")) else base_iri + "/")
    if not 0.0 <= min_confidence <= 1.0:
        raise ConfigError(f"min_confidence must be within [0, 1] (got {min_confidence})")
    if max_file_bytes < 1:
        raise ConfigError(f"max_file_bytes must be a positive number of bytes (got {max_file_bytes})")
    check_article_seconds(article_seconds)
    if not 1_000 <= chunk_chars <= 1_000_000:
        raise ConfigError(f"chunk_chars must be between 1000 and 1000000 characters (got {chunk_chars})")
    if not 20 <= max_sentence_tokens <= 10_000:
        raise ConfigError(f"max_sentence_tokens must be between 20 and 10000 (got {max_sentence_tokens})")
    return Settings(
        base_iri=base_iri, min_confidence=min_confidence, models=models, extractors=extractors,
        rule_folders=rule_folders, max_file_bytes=max_file_bytes, learned_model=learned_model, calibration=calibration,
        chunk_chars=chunk_chars, max_sentence_tokens=max_sentence_tokens, article_seconds=article_seconds,
    )


def check_article_seconds(seconds: float) -> float:
    """A per-article time budget must be a positive, finite number of seconds."""
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ConfigError(f"article_seconds must be a positive, finite number of seconds (got {seconds})")
    return seconds
