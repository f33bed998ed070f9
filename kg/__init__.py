"""kg: build a SPARQL-queryable knowledge graph of people, companies and places from news.

The public API is :func:`build`, :func:`write`, :func:`query` and :func:`load_settings`
(see :mod:`kg.api`); heavy libraries load only when they are called.
"""

__version__ = "0.2.0"

from .api import build, query, write  # noqa: E402
from .settings import load_settings  # noqa: E402

__all__ = ["build", "query", "write", "load_settings", "__version__"]
