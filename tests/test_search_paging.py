"""Pages of a search whose hits collapse per document (at most two passages of a document on
a page, the rest counted on the first): the page count a speaker sees must not change as they
turn the pages, and every page it promises has hits."""

from __future__ import annotations

import pytest
from search_backends import BACKENDS, open_backend, searching_module
from test_search_golden import rec

from indexer.search.records import IndexRecord
from indexer.search.vocab import Vocabulary

# one long handout that says 宣讲 in 80 passages, and 7 documents that say it once
RECORDS = [
    rec(f"p:{i}", f"第{i}段：基层宣讲要讲身边事。", doc=1, title="长讲义", seq=i, updated=float(i))
    for i in range(1, 81)
] + [
    rec(f"p:{100 + d}", f"第{d}份材料谈到宣讲的方法。", doc=d, title=f"材料{d}", updated=0.5)
    for d in range(2, 9)
]


@pytest.fixture(scope="module", params=BACKENDS)
def ix(tmp_path_factory, request):
    index = open_backend(
        request.param, tmp_path_factory.mktemp("home"), Vocabulary.load(None), request
    )
    index.rebuild([IndexRecord.from_row(r) for r in RECORDS], procs=1)
    yield index
    index.close()


def test_the_page_count_stays_the_same_on_every_page(ix):
    answers = [ix.search("宣讲", limit=3, page=p) for p in range(1, 5)]
    counts = [a["pages"] for a in answers]
    # 2 passages of the long handout + 7 others = 9 hits on the pages: 3 pages of 3
    assert counts == [3, 3, 3, 3], counts
    shown = [h["id"] for a in answers[:3] for h in a["hits"]]
    assert len(shown) == len(set(shown)) == 9
    assert answers[3]["hits"] == []
    assert answers[0]["total"] == 87  # the total still counts every matching passage
    # the handout's passages rank below the shorter materials' (a text the query covers more
    # of ranks higher): its first hit is on the last page, and counts every further passage
    first, second = [h for a in answers[:3] for h in a["hits"] if h["document"]["id"] == 1]
    assert first["more_in_document"] == 78 and second["more_in_document"] == 0


def test_a_search_reading_part_of_its_candidates_counts_the_same(ix, monkeypatch):
    # the newest 20 candidates only are ever read (7 short materials, 13 handout passages):
    # the pages still count 2 of the handout, and its first hit every further passage of it
    searching = searching_module(ix)
    monkeypatch.setattr(searching, "MAX_CANDIDATES", 20)
    monkeypatch.setattr(searching, "FACET_SAMPLE", 20)
    answers = [ix.search("宣讲", limit=3, page=p) for p in range(1, 5)]
    assert [a["pages"] for a in answers] == [3, 3, 3, 3]
    assert not any(a["pages_are_estimate"] for a in answers)
    shown = [h for a in answers[:3] for h in a["hits"]]
    assert len({h["id"] for h in shown}) == 9 and answers[3]["hits"] == []
    assert answers[0]["total"] == 87 and not answers[0]["total_is_estimate"]
    handout = [h["more_in_document"] for h in shown if h["document"]["id"] == 1]
    assert handout == [78, 0]
