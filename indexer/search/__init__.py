"""The search engine, seen from outside: open one with :func:`open_engine` and talk to it through
its interface (:class:`~indexer.search.engine.SearchEngine`): records in as
:class:`~indexer.search.records.IndexRecord`, queries as
:class:`~indexer.search.engine.SearchRequest` or the query language (:mod:`indexer.search.query`), answers out as plain dicts.

Backends live in subpackages (``indexer.search.whoosh``); nothing outside this package imports
them (an import-linter contract in pyproject.toml says so). What every backend shares stays
here: the query language, the vocabulary file model, suggestions, homophone variants, the
plain-text matching units and the highlighter.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from indexer.search.engine import SearchEngine, SearchFilters, SearchRequest
from indexer.search.query import ParsedQuery, is_expensive, parse
from indexer.search.records import IndexRecord
from indexer.search.text import segment_texts
from library.errors import UsageError

WRITER_SETTING = "search_writer"  # settings.json key
WRITER_ENV = "LECTURELIB_SEARCH_WRITER"  # overrides it
WRITERS = ("bulk", "public")


def search_writer(settings: Mapping | None = None, *, home: Path | None = None) -> str:
    """How the Whoosh backend writes segments: ``"bulk"`` (default, fast: in-memory postings
    written through Whoosh internals) or ``"public"`` (Whoosh's public ``IndexWriter`` API
    only). ``$LECTURELIB_SEARCH_WRITER`` overrides the ``search_writer`` setting, taken from
    ``settings`` or else from ``home``'s settings.json."""
    value = os.environ.get(WRITER_ENV, "").strip()
    where = f"环境变量 {WRITER_ENV}"
    if not value:
        if settings is None and home is not None:
            settings = _home_settings(Path(home))
        value = str((settings or {}).get(WRITER_SETTING) or "bulk").strip()
        where = f"设置 {WRITER_SETTING}"
    value = value.lower()
    if value not in WRITERS:
        raise UsageError(
            f"{where} 的值“{value}”无效。",
            "可用：bulk（默认，批量写入，较快）、public（Whoosh 公开的写入接口）",
        )
    return value


def _home_settings(home: Path) -> dict:
    try:
        data = json.loads((home / "settings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing, or unreadable (the home itself reports that)
    return data if isinstance(data, dict) else {}


DATABASE_SETTING = "database_url"  # settings.json key
DATABASE_ENV = "LECTURELIB_DATABASE_URL"  # overrides it
POSTGRES_SCHEMES = ("postgresql://", "postgresql+psycopg://", "postgres://")


def database_url(settings: Mapping | None = None, *, home: Path | None = None) -> str | None:
    """The library's database URL: ``$LECTURELIB_DATABASE_URL``, else the ``database_url``
    setting of ``settings`` or else of ``home``'s settings.json; None when unset."""
    value = os.environ.get(DATABASE_ENV, "").strip()
    if not value:
        if settings is None and home is not None:
            settings = _home_settings(Path(home))
        value = str((settings or {}).get(DATABASE_SETTING) or "").strip()
    return value or None


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and url.lower().startswith(POSTGRES_SCHEMES)


def _psycopg_dsn(url: str) -> str:
    """A URL psycopg takes: SQLAlchemy's ``postgresql+psycopg://`` without its driver."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest


def open_engine(
    path: Path,
    vocab,
    taxonomy=None,
    *,
    writer: str | None = None,
    settings: Mapping | None = None,
    database_url: str | None = None,
) -> SearchEngine:
    """The library's search engine. With a PostgreSQL ``database_url`` (given, else
    :func:`database_url` of ``settings`` / the settings.json beside ``path`` / the environment)
    the PostgreSQL backend in that database; otherwise the embedded engine (Whoosh + jieba) on
    ``path`` (a library home's ``index/``), whose ``writer`` ("bulk" | "public") defaults to
    :func:`search_writer` of ``settings``, else of the settings.json beside ``path``."""
    url = database_url or _database_url(settings, home=Path(path).parent)
    if is_postgres_url(url):
        from indexer.search.postgres.index import PgSearchEngine

        return PgSearchEngine(_psycopg_dsn(url), vocab, taxonomy, home=Path(path).parent)
    from indexer.search.whoosh.index import SearchIndex

    if writer is None:
        writer = search_writer(settings, home=Path(path).parent)
    elif writer not in WRITERS:
        raise UsageError(f"搜索写入方式“{writer}”无效。", "可用：bulk、public")
    return SearchIndex(path, vocab, taxonomy, writer=writer)


_database_url = database_url  # open_engine's keyword shadows the function


__all__ = [
    "open_engine",
    "search_writer",
    "database_url",
    "is_postgres_url",
    "SearchEngine",
    "SearchRequest",
    "SearchFilters",
    "IndexRecord",
    "ParsedQuery",
    "parse",
    "is_expensive",
    "segment_texts",
    "WRITERS",
]
