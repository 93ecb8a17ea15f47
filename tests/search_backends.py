"""The search backends a search-answer suite runs against: the Whoosh backend with each segment
writer, and the PostgreSQL backend (marked ``postgres``: a fresh database of the throwaway
cluster of tests/pgcluster.py per engine). Every answer must be the same on each."""

from __future__ import annotations

import pytest

from indexer.search import WRITERS, open_engine

BACKENDS = [*WRITERS, pytest.param("postgres", marks=pytest.mark.postgres)]


def open_backend(backend: str, home, vocab, request, taxonomy=None):
    """An engine of ``backend`` for a library home; the PostgreSQL database it uses is dropped
    when the requesting fixture's scope ends."""
    if backend != "postgres":
        return open_engine(home / "index", vocab, taxonomy, writer=backend)
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.create_database()
    request.addfinalizer(lambda: cluster.drop_database(url))
    return open_engine(home / "index", vocab, taxonomy, database_url=url)


def searching_module(engine):
    """The module holding the backend's tuning constants (MAX_CANDIDATES, FACET_SAMPLE)."""
    import importlib

    if type(engine).__module__.startswith("indexer.search.postgres"):
        return importlib.import_module("indexer.search.postgres.searching")
    return importlib.import_module("indexer.search.whoosh.searching")
