"""Punctuation-blind, still exact (issue 9, observation 3): a query matches text whose
characters are the query's in order with only punctuation, spaces or line breaks between them,
and nothing looser. Chinese quotation marks in a query are text, not phrase syntax."""

from __future__ import annotations

import re

import pytest
from search_backends import BACKENDS, open_backend
from test_search_golden import rec

from indexer.search.vocab import Vocabulary

RECORDS = [
    rec("p:1", "培育一批“雄鹰”企业和专精特新“小巨人”企业。", doc=1, seq=1),
    rec("p:2", "扎实推进“两重”建设和“两新”工作。", doc=1, seq=2),
    rec("p:3", "加快构建“4567”现代化产业体系。", doc=1, seq=3),
    rec("p:4", "协调推进“四个全面”战略布局。", doc=2, seq=1),
    rec("p:5", "推进雄鹰\n企业梯度培育（PDF 的换行）。", doc=3, seq=1),
    rec("p:6", "雄鹰的企业不是这里说的那种。", doc=4, seq=1),
    rec("p:7", "新冠疫情防控covid-19与covid19两种写法。", doc=5, seq=1),
    rec("q:1", "不忘初心、牢记使命。", kind="quote", source="讲话", doc=6, doc_kind="quotes"),
]


@pytest.fixture(scope="module", params=BACKENDS)
def ix(tmp_path_factory, request):
    index = open_backend(
        request.param, tmp_path_factory.mktemp("home"), Vocabulary.load(None), request
    )
    index.rebuild(RECORDS, procs=1)
    yield index
    index.close()


def found(ix, q):
    return [h["id"] for h in ix.search(q, limit=50)["hits"]]


@pytest.mark.parametrize(
    "q, rid",
    [
        ("雄鹰企业", "p:1"),
        ("两重建设", "p:2"),
        ("4567现代化产业体系", "p:3"),
        ("四个全面战略布局", "p:4"),
        ("“雄鹰”企业", "p:1"),
        ("「两重」建设", "p:2"),
        ("初心牢记", "q:1"),
        ("雄鹰企业梯度", "p:5"),
    ],
)
def test_query_finds_text_with_punctuation_between(ix, q, rid):
    assert rid in found(ix, q)


def test_no_other_loosening(ix):
    # 的 is a character, not punctuation: 雄鹰的企业 is no hit for 雄鹰企业
    assert "p:6" not in found(ix, "雄鹰企业")
    assert sorted(found(ix, "雄鹰企业")) == ["p:1", "p:5"]
    assert "p:1" not in found(ix, "雄鹰小巨人")
    # two Latin letters or digits keep their separator: covid19 is not covid-19
    assert found(ix, '"covid-19"') == ["p:7"]
    assert found(ix, "初心使命") == []


def test_every_hit_holds_the_query_characters_in_order(ix):
    for q in ("雄鹰企业", "两重建设", "四个全面战略布局", "初心牢记"):
        pat = re.compile(r"[\W_]*".join(map(re.escape, q)))
        for h in ix.search(q, limit=50)["hits"]:
            assert pat.search(h["text"]), (q, h["text"])


def test_pasted_chinese_quotes_highlight_the_whole_span(ix):
    for q in ("“雄鹰”企业", "雄鹰企业"):
        hits = {h["id"]: h for h in ix.search(q, limit=5)["hits"]}
        # the marked span covers the punctuation inside the match, not just 企业
        assert "<mark>雄鹰”企业</mark>" in hits["p:1"]["highlight"]
        assert "<mark>雄鹰\n企业</mark>" in hits["p:5"]["highlight"]


def test_two_character_query_across_punctuation_is_exact(ix):
    res = ix.search("鹰企", limit=50)
    assert sorted(h["id"] for h in res["hits"]) == ["p:1", "p:5"]
    assert res["total"] == 2 and not res["total_is_estimate"]
