"""The search engine, seen from outside: open one with :func:`open_engine` and talk to it through
its interface. Backends live in subpackages (``indexer.search.whoosh``); nothing outside this
package imports them (an import-linter contract in pyproject.toml says so)."""

from __future__ import annotations

from pathlib import Path


def open_engine(path: Path, vocab, taxonomy=None):
    """The embedded engine (Whoosh + jieba) on ``path``."""
    from indexer.search.whoosh.index import SearchIndex
    return SearchIndex(path, vocab, taxonomy)


__all__ = ["open_engine"]
