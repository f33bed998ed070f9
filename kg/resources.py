"""Files shipped with kg: the ontology and shapes (top-level ``ontology/``) and rule data."""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
RULES_DIR = PACKAGE_DIR / "rules"


def ontology_file(name: str = "kg.ttl") -> Path:
    """Path of a file in ``ontology/``: installed as package data or beside a source checkout."""
    shared = Path(sys.prefix) / "share" / "kg-news" / "ontology" / name  # a non-editable install
    for candidate in (PACKAGE_DIR.parent / "ontology" / name, shared):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"ontology file {name} is missing from the kg installation")
