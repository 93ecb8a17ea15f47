"""No dead ends (issue 9, observation 4): a homophone slip is corrected the way web search
engines do it, abbreviations find the full names that 出处 lines use, and the web page says
what it did."""

from __future__ import annotations

import pytest
from search_backends import BACKENDS, open_backend
from test_search_golden import rec

from indexer.search.vocab import Vocabulary

RECORDS = [
    rec(
        "q:1",
        "绿水青山就是金山银山。",
        kind="quote",
        source="在浙江安吉余村考察时提出",
        speaker="习近平",
        date="2005-08-15",
        doc=1,
        doc_kind="quotes",
    ),
    *[
        rec(f"p:{i}", f"绿水青山是第{i}个村的底色，保护好绿水青山就是发展。", doc=2, seq=i)
        for i in range(1, 8)
    ],
    *[
        rec(f"p:1{i}", f"坚持依法治国，第{i}条经验是把法治挺在前面。", doc=3, seq=i)
        for i in range(1, 8)
    ],
    rec("q:2", "清山绿水之间，一句诗。", kind="quote", source="诗", doc=4, doc_kind="quotes"),
    *[
        rec(
            f"q:2{i}",
            f"第{i}句：高举伟大旗帜。",
            kind="quote",
            source="在中国共产党第二十次全国代表大会上的报告",
            speaker="习近平",
            date="2022-10-16",
            doc=5,
            doc_kind="quotes",
        )
        for i in range(1, 6)
    ],
    rec(
        "q:30",
        "全面深化改革。",
        kind="quote",
        source="在中国共产党第二十届中央委员会第三次全体会议上的讲话",
        date="2024-07-18",
        doc=6,
        doc_kind="quotes",
    ),
    rec(
        "q:31",
        "十九大报告里的一句话。",
        kind="quote",
        source="在中国共产党第十九次全国代表大会上的报告",
        date="2017-10-18",
        doc=7,
        doc_kind="quotes",
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


def test_homophone_slip_shows_the_corrected_results(ix):
    res = ix.search("绿水清山")
    assert res["corrected"] == {"from": "绿水清山", "to": "绿水青山", "original_total": 0}
    assert res["total"] >= 5 and "q:1" in [h["id"] for h in res["hits"]]
    res = ix.search("依法治过")
    assert res["corrected"]["to"] == "依法治国" and res["total"] == 7


def test_a_phrase_in_ascii_quotes_is_taken_as_typed(ix):
    res = ix.search('"绿水清山"')
    assert res["total"] == 0 and "corrected" not in res


def test_no_correction_when_the_query_finds_enough(ix):
    assert "corrected" not in ix.search("绿水青山")
    # 清山绿水 finds one quote; the same-sounding 青山绿水 finds nothing more: left alone
    res = ix.search("清山绿水")
    assert res["total"] == 1 and "corrected" not in res


def test_abbreviations_find_the_full_names_in_sources(ix):
    full = ix.search("第二十次全国代表大会", limit=50)["total"]
    assert full == 5
    assert ix.search("二十大", limit=50)["total"] == full
    assert ix.search("党的二十大", limit=50)["total"] == full
    assert ix.search("十九大")["total"] == 1
    assert [h["id"] for h in ix.search("二十届三中全会")["hits"]] == ["q:30"]


def test_web_page_says_which_results_it_shows(client):
    page = client.get("/search?q=绿水清山").get_data(as_text=True)
    assert "已显示“<strong>绿水青山</strong>”的结果" in page
    assert "仍要搜索" in page and "没有找到" not in page
    assert client.get("/api/search?q=绿水清山").get_json()["corrected"]["to"] == "绿水青山"


def test_variants_change_one_same_sounding_character_the_library_supports():
    from indexer.search.homophone import readings, same_sound, variants

    assert "青" in same_sound("清") and "清" not in same_sound("清")
    assert "hang" in readings("行") and "xing" in readings("行")
    library = {"绿水": 9, "水青": 9, "青山": 9, "依法": 3, "法治": 3, "治国": 3}
    freq = lambda b: library.get(b, 0)  # noqa: E731
    assert variants("绿水清山", freq) == ["绿水青山"]
    assert variants("依法治过", freq) == ["依法治国"]
    assert variants("完全陌生", freq) == []
