"""Kinds of material (issue 9, observation 5): a speaker can ask for 案例, 讲义, 讲稿, 金句汇编 or
热点问答 beside the record kinds (金句/段落/问答), in ``kind:`` syntax and as a filter, and the
facets count them."""

from __future__ import annotations

import pytest
from search_backends import BACKENDS, open_backend
from test_search_golden import rec

from indexer.search import open_engine
from indexer.search.vocab import Vocabulary
from library.errors import UsageError

RECORDS = [
    rec("q:1", "乡村振兴要靠人才。", kind="quote", source="讲话", doc=1, doc_kind="quotes"),
    rec("p:1", "乡村振兴的理论讲义第一节。", doc=2, doc_kind="handout"),
    rec("p:2", "某村发展特色产业、推进乡村振兴的案例。", doc=3, doc_kind="case"),
    rec("p:3", "乡村振兴宣讲稿的开头。", doc=4, doc_kind="script"),
    rec(
        "qa:1",
        "乡村振兴补贴怎么申请？到镇政府办理。",
        kind="qa",
        question="补贴怎么申请？",
        doc=5,
        doc_kind="qa",
    ),
]


@pytest.fixture(scope="module", params=BACKENDS)
def ix(tmp_path_factory, request):
    index = open_backend(
        request.param, tmp_path_factory.mktemp("home"), Vocabulary.load(None), request
    )
    index.rebuild(RECORDS, procs=1)
    yield index
    index.close()


def found(res):
    return sorted(h["id"] for h in res["hits"])


@pytest.mark.parametrize("value", ["case", "案例"])
def test_kind_syntax_and_filter_take_material_kinds(ix, value):
    assert found(ix.search(f"乡村振兴 kind:{value}")) == ["p:2"]
    assert found(ix.search("乡村振兴", kind=value)) == ["p:2"]
    assert found(ix.search("乡村振兴", doc_kind=value)) == ["p:2"]


def test_script_is_a_kind_not_an_error(ix):
    # before: UsageError 没有“script”这种类型
    assert found(ix.search("乡村振兴", kind="script")) == ["p:3"]
    assert found(ix.search("乡村振兴 类型:讲义")) == ["p:1"]


def test_record_kinds_still_work_and_combine(ix):
    assert found(ix.search("乡村振兴 kind:金句")) == ["q:1"]
    assert (
        found(ix.search("乡村振兴", kind=["quote", "案例"])) == []
    )  # a quote that is a case: none
    assert found(ix.search("乡村振兴", doc_kind=["case", "handout"])) == ["p:1", "p:2"]


def test_material_kind_facet_counts(ix):
    facets = ix.search("乡村振兴")["facets"]
    assert facets["doc_kind"] == {"case": 1, "handout": 1, "qa": 1, "quotes": 1, "script": 1}
    assert facets["kind"] == {"passage": 3, "qa": 1, "quote": 1}


def test_unknown_kind_names_both_lists(ix):
    with pytest.raises(UsageError) as e:
        ix.search("乡村振兴", kind="视频")
    assert "讲义" in e.value.hint and "金句" in e.value.hint


def test_speaker_is_a_facet_and_a_query_field(tmp_path):
    records = [
        rec(
            "q:1",
            "江山就是人民，人民就是江山。",
            kind="quote",
            speaker="习近平",
            doc=1,
            doc_kind="quotes",
        ),
        rec(
            "q:2",
            "人民群众是真正的英雄。",
            kind="quote",
            speaker="毛泽东",
            doc=1,
            doc_kind="quotes",
        ),
        rec("p:1", "人民至上的讲义段落。", doc=2),
    ]
    index = open_engine(tmp_path / "index", Vocabulary.load(None))
    index.rebuild(records, procs=1)
    try:
        assert index.search("人民")["facets"]["speaker"] == {"习近平": 1, "毛泽东": 1}
        assert found(index.search("人民 speaker:习近平")) == ["q:1"]
        # an alias resolves to the canonical speaker
        assert found(index.search("人民 讲话人:习近平总书记")) == ["q:1"]
        assert found(index.search("人民", speaker="毛泽东")) == ["q:2"]
    finally:
        index.close()
