"""A PostgreSQL server that stalls while a search looks for a better query (a homophone slip,
looser queries) — as a busy machine does under load: the search answers what it found, as the
Whoosh backend does when its budget runs out there, instead of an error page."""

from __future__ import annotations

import pytest
from search_backends import open_backend
from test_search_golden import RECORDS

from indexer.search.vocab import Vocabulary

pytestmark = pytest.mark.postgres


def test_a_stall_while_looking_for_a_better_query_still_answers(tmp_path, request):
    vocab = Vocabulary.load(tmp_path)
    e = open_backend("postgres", tmp_path, vocab, request)
    e.rebuild(RECORDS, procs=1)
    few, none = e.search("江山"), e.search("七星岩")
    assert few["total"] == 1 and none["total"] == 0  # both look for a homophone slip

    class StallingServer(type(e)):
        def _gram_freqs(self, cur, grams):
            cur.execute("SELECT pg_sleep(60)")  # ended by the search's statement_timeout
            return super()._gram_freqs(cur, grams)

    slow = StallingServer(e.dsn, vocab, home=tmp_path)
    try:
        res = slow.search("江山")
        assert res["total"] == 1
        assert [h["id"] for h in res["hits"]] == [h["id"] for h in few["hits"]]
        assert slow.search("七星岩")["total"] == 0
        assert slow.search("江山")["total"] == 1  # the connection is usable afterwards
    finally:
        slow.close()
        e.close()
