"""Golden queries over a small library built here: every pitfall of the architecture guide
(phrase, full-width digits, single character, context-dependent segmentation, Kangxi radicals,
mixed Latin and Chinese), synonyms, filters and facet counts, ranking where it matters,
highlights (exact spans, escaping), collapse and pagination."""

from __future__ import annotations

import pytest
from search_backends import BACKENDS, open_backend, searching_module

from indexer.search.vocab import Vocabulary
from library.errors import UsageError


def rec(
    rid,
    text,
    *,
    kind="passage",
    question=None,
    heading="",
    source="",
    speaker="",
    date=None,
    topics=(),
    audiences=(),
    doc_kind="handout",
    doc=1,
    title="讲义",
    filename="a.docx",
    page=None,
    updated=0.0,
    seq=0,
):
    return {
        "id": rid,
        "kind": kind,
        "text": text,
        "question": question,
        "heading": heading,
        "source": source,
        "speaker": speaker,
        "date": date,
        "year": int(date[:4]) if date else None,
        "topics": list(topics),
        "audiences": list(audiences),
        "doc_kind": doc_kind,
        "document_id": doc,
        "document_title": title,
        "filename": filename,
        "page": page,
        "updated": updated,
        "seq": seq,
    }


LONG = ("开头的铺垫文字。" * 30) + "这里讲到了长江经济带的生态保护。" + ("结尾的补充说明。" * 30)

RECORDS = [
    rec(
        "q:1",
        "江山就是人民，人民就是江山。",
        kind="quote",
        source="在庆祝中国共产党成立100周年大会上的讲话",
        speaker="习近平",
        date="2021-07-01",
        topics=["party-history"],
        doc=1,
        title="金句汇编",
        doc_kind="quotes",
        updated=10,
    ),
    rec(
        "q:2",
        "绿水青山就是金山银山。",
        kind="quote",
        source="在浙江安吉余村考察时的讲话",
        date="2005-08-15",
        topics=["ecology"],
        doc=1,
        title="金句汇编",
        doc_kind="quotes",
        updated=11,
    ),
    rec(
        "q:3",
        "我们要不忘初心、牢记使命，在党的十九大精神指引下奋勇前进。",
        kind="quote",
        source="党课讲稿",
        date="2020-12-05",
        topics=["xi-thought"],
        doc=1,
        title="金句汇编",
        doc_kind="quotes",
        audiences=["agency"],
        updated=12,
    ),
    rec(
        "q:4",
        "实现碳达峰碳中和是一场广泛而深刻的经济社会系统性变革。",
        kind="quote",
        source="中央财经委员会第九次会议",
        date="2021-03-15",
        topics=["ecology"],
        doc=1,
        title="金句汇编",
        doc_kind="quotes",
        updated=13,
    ),
    rec(
        "q:5",
        "青年兴则国家兴，青年强则国家强。",
        kind="quote",
        source="在学校思政课教师座谈会上的讲话",
        speaker="习近平",
        date="2019-03-18",
        topics=["xi-thought"],
        audiences=["school"],
        doc=1,
        title="金句汇编",
        doc_kind="quotes",
        updated=14,
    ),
    rec(
        "q:6",
        "民惟邦本，本固邦宁。",
        kind="quote",
        source="《尚书·五子之歌》",
        topics=["traditional-culture"],
        doc=1,
        title="金句汇编",
        doc_kind="quotes",
        updated=1,
    ),
    rec(
        "q:7",
        "高举中国特色社会主义伟大旗帜，全面贯彻党的二十大精神。",
        kind="quote",
        source="在二十届中央政治局第一次集体学习时的讲话",
        date="2022-10-25",
        topics=["xi-thought"],
        doc=1,
        title="金句汇编",
        doc_kind="quotes",
        updated=15,
    ),
    rec(
        "p:1",
        "２０２４年第3次理论学习中心组会议专题学习新质生产力。",
        heading="一、学习安排",
        date="2024-03-01",
        topics=["cadre-capability"],
        audiences=["agency"],
        doc=2,
        title="干部培训讲义",
        page=1,
        updated=20,
        seq=1,
    ),
    rec(
        "p:2",
        "推进⾰命老区振兴发展，传承红色基因。",
        heading="二、红色传承",
        date="2024-03-01",
        topics=["party-history"],
        audiences=["rural"],
        doc=2,
        title="干部培训讲义",
        page=2,
        updated=20,
        seq=2,
    ),
    rec(
        "p:3",
        "5G网络覆盖到每个行政村，AI助手帮村民查政策，iPhone和安卓手机都能用。",
        heading="三、数字乡村",
        date="2024-03-01",
        topics=["rural-revitalization"],
        audiences=["rural", "online"],
        doc=2,
        title="干部培训讲义",
        page=3,
        updated=20,
        seq=3,
    ),
    rec(
        "p:4",
        "注意<script>alert(1)</script> & 防范网络诈骗的“套路”。",
        heading="四、网络安全",
        date="2024-03-01",
        topics=["rule-of-law"],
        audiences=["online"],
        doc=2,
        title="干部培训讲义",
        page=4,
        updated=20,
        seq=4,
    ),
    rec(
        "p:5",
        LONG,
        heading="五、长江",
        date="2024-03-01",
        topics=["ecology"],
        doc=2,
        title="干部培训讲义",
        page=5,
        updated=20,
        seq=5,
    ),
    rec(
        "p:6",
        "肇庆鼎湖山是中国第一个自然保护区。",
        heading="一、山水肇庆",
        date="2023-06-01",
        topics=["new-zhaoqing"],
        audiences=["community"],
        doc=3,
        title="新时代新肇庆宣讲稿",
        doc_kind="script",
        page=1,
        updated=30,
        seq=1,
    ),
    rec(
        "p:7",
        "宪法是国家的根本法，是治国安邦的总章程。",
        heading="二、宪法宣传",
        date="2022-12-04",
        topics=["rule-of-law"],
        audiences=["school"],
        doc=4,
        title="法治宣讲讲义",
        page=1,
        updated=5,
        seq=1,
    ),
    rec(
        "qa:1",
        "就近就便到社区卫生服务中心办理，带上身份证即可。",
        kind="qa",
        question="医保报销去哪里办？",
        date="2023-01-01",
        topics=["situation-policy"],
        audiences=["community"],
        doc=5,
        title="热点问答",
        doc_kind="qa",
        updated=6,
        seq=1,
    ),
    rec(
        "qa:2",
        "不需要额外缴费，国防教育进校园是公益活动。",
        kind="qa",
        question="国防教育活动收费吗？",
        date="2023-01-01",
        topics=["national-defense"],
        audiences=["school"],
        doc=5,
        title="热点问答",
        doc_kind="qa",
        updated=6,
        seq=2,
    ),
    # one document with many passages about 乡村振兴 (collapse)
    *[
        rec(
            f"p:1{i}",
            f"乡村振兴第{i}条经验：发展特色产业，带动农民增收。",
            heading="经验做法",
            date="2023-05-01",
            topics=["rural-revitalization"],
            audiences=["rural"],
            doc=6,
            title="乡村振兴案例集",
            doc_kind="case",
            page=i,
            updated=40 + i,
            seq=i,
        )
        for i in range(1, 6)
    ],
    # ranking: the whole query inside a quote vs scattered in a passage
    rec(
        "p:20",
        "乡村要振兴，关键在人才；推进共同富裕，要从乡村抓起。",
        heading="杂谈",
        date="2020-01-01",
        topics=["rural-revitalization"],
        doc=7,
        title="杂谈",
        updated=1,
        seq=1,
    ),
    rec(
        "q:8",
        "共同富裕是社会主义的本质要求。",
        kind="quote",
        source="在中央财经委员会第十次会议上的讲话",
        date="2021-08-17",
        topics=["situation-policy"],
        doc=1,
        title="金句汇编",
        doc_kind="quotes",
        updated=2,
    ),
    # ties go to newer: two identical texts
    rec(
        "p:30",
        "调查研究是谋事之基、成事之道。",
        heading="作风",
        date="2019-01-01",
        topics=["cadre-capability"],
        doc=8,
        title="调研讲义甲",
        updated=100,
        seq=1,
    ),
    rec(
        "p:31",
        "调查研究是谋事之基、成事之道。",
        heading="作风",
        date="2023-01-01",
        topics=["cadre-capability"],
        doc=9,
        title="调研讲义乙",
        updated=200,
        seq=1,
    ),
]
# pagination: 23 quotes with 奋斗
RECORDS += [
    rec(
        f"q:{100 + i}",
        f"奋斗是青春最亮丽的底色，第{i}句。",
        kind="quote",
        source="青年奋斗金句",
        date=f"2018-05-{i + 1:02d}",
        topics=["xi-thought"],
        doc=10,
        title="奋斗金句",
        doc_kind="quotes",
        updated=float(i),
    )
    for i in range(23)
]

BY_ID = {r["id"]: r for r in RECORDS}


@pytest.fixture(scope="module", params=BACKENDS)
def ix(tmp_path_factory, request):
    """The golden library, built by each segment writer of the Whoosh backend (settings:
    search_writer) and by the PostgreSQL backend: every answer below must be the same whichever
    built the index."""
    vocab = Vocabulary.load(None)
    index = open_backend(request.param, tmp_path_factory.mktemp("home"), vocab, request)
    index.rebuild(RECORDS, procs=1)
    yield index
    index.close()


def ids(res):
    return [h["id"] for h in res["hits"]]


def all_ids(ix, q, **kw):
    kw.setdefault("limit", 100)
    return ids(ix.search(q, **kw))


# (query, search kwargs, ids that must be found, ids that must not be found)
FOUND = [
    # single characters
    ("党", {}, ["q:3", "q:7"], ["q:2"]),
    ("宪", {}, ["p:7"], []),
    ("兴", {}, ["q:5", "p:2"], ["q:6"]),
    ("肇", {}, ["p:6"], []),
    # two characters cut across jieba's words
    ("山就", {}, ["q:1", "q:2"], []),
    ("是一", {}, ["q:4"], []),
    ("本固", {}, ["q:6"], []),
    ("湖山", {}, ["p:6"], []),
    # context-dependent segmentation: the query segmented alone, the text in context
    ("要不忘", {}, ["q:3"], []),
    ("不忘初心", {}, ["q:3"], []),
    ("忘初心", {}, ["q:3"], []),
    ("初心牢记", {}, ["q:3"], []),  # only a 、 between: punctuation-blind
    ("初心使命", {}, [], ["q:3"]),  # 牢记 between: not a match
    ("邦本", {}, ["q:6"], []),
    ("治国安邦", {}, ["p:7"], []),
    ("国安", {}, ["p:7"], []),
    # full-width digits and letters equal half-width ones
    ("2024年", {}, ["p:1"], []),
    ("２０２４", {}, ["p:1"], []),
    ("第3次", {}, ["p:1"], []),
    ("第３次", {}, ["p:1"], []),
    ("3次", {}, ["p:1"], []),
    # Kangxi radicals equal unified ideographs
    ("革命老区", {}, ["p:2"], []),
    ("⾰命", {}, ["p:2"], []),
    ("老区振兴", {}, ["p:2"], []),
    # mixed Latin and Chinese, no stemming, case-insensitive
    ("5G网络", {}, ["p:3"], []),
    ("5g", {}, ["p:3"], []),
    ("ai", {}, ["p:3"], []),
    ("AI助手", {}, ["p:3"], []),
    ("iphone", {}, ["p:3"], []),
    ("IPHONE", {}, ["p:3"], []),
    ("phone", {}, [], ["p:3"]),  # Latin words match on word boundaries
    ("ａｉ", {}, ["p:3"], []),
    # words must all match
    ("江山 人民", {}, ["q:1"], ["q:2"]),
    ("绿水 金山", {}, ["q:2"], ["q:1"]),
    ("绿水 宪法", {}, [], ["q:2", "p:7"]),
    # OR
    ("绿水 OR 宪法", {}, ["q:2", "p:7"], []),
    ("绿水 | 邦宁", {}, ["q:2", "q:6"], []),
    # exclusion
    ("江山 -人民", {}, [], ["q:1"]),
    ("就是 -江山", {}, ["q:2"], ["q:1"]),
    # exact phrase
    ('"人民就是江山"', {}, ["q:1"], []),
    ('"就是人民江山"', {}, [], ["q:1"]),
    ('"不忘初心 牢记使命"', {}, ["q:3"], []),  # only punctuation between the two words
    ("“绿水青山就是金山银山”", {}, ["q:2"], []),
    # quotes are found by their 出处: source, speaker, date
    ("余村", {}, ["q:2"], []),
    ("尚书", {}, ["q:6"], []),
    ("习近平", {}, ["q:1", "q:5"], ["q:2"]),
    ("2020年12月", {}, ["q:3"], ["q:1"]),
    ("2021年7月", {}, ["q:1"], ["q:4"]),
    ("2021年", {}, ["q:1", "q:4", "q:8"], ["q:3"]),
    # passages are found by heading and document title
    ("数字乡村", {}, ["p:3"], []),
    ("干部培训讲义", {}, ["p:1"], []),
    ("山水肇庆", {}, ["p:6"], []),
    ("法治宣讲 宪法", {}, ["p:7"], []),
    # Q&A found by question and answer
    ("医保报销", {}, ["qa:1"], []),
    ("身份证", {}, ["qa:1"], []),
    # synonyms
    ("十九大", {}, ["q:3"], []),
    ("党的第十九次全国代表大会", {}, ["q:3"], []),
    ("二十大", {}, ["q:7"], []),
    ("20大", {}, ["q:7"], []),
    ("双碳", {}, ["q:4"], []),
    # filters
    ("就是", {"topic": "ecology"}, ["q:2"], ["q:1"]),
    ("就是", {"topic": "生态文明建设"}, ["q:2"], ["q:1"]),
    ("就是 topic:生态文明建设", {}, ["q:2"], ["q:1"]),
    ("国家", {"kind": "quote"}, ["q:5"], ["p:7"]),
    ("国家 kind:passage", {}, ["p:7"], ["q:5"]),
    ("国家 类型:金句", {}, ["q:5"], ["p:7"]),
    ("国防", {"kind": "qa"}, ["qa:2"], []),
    ("国家", {"audience": "school"}, ["q:5", "p:7"], []),
    ("国家 对象:进学校", {}, ["q:5", "p:7"], []),
    ("国家", {"year": "2019"}, ["q:5"], ["p:7"]),
    ("国家 year:2019-2022", {}, ["q:5", "p:7"], []),
    ("topic:new-zhaoqing", {}, ["p:6"], ["q:1"]),
    ("kind:qa", {}, ["qa:1", "qa:2"], ["q:1"]),
]


@pytest.mark.parametrize("q,kw,must,must_not", FOUND, ids=[c[0] + str(c[1]) for c in FOUND])
def test_found(ix, q, kw, must, must_not):
    got = all_ids(ix, q, **kw)
    for rid in must:
        assert rid in got, (q, got)
    for rid in must_not:
        assert rid not in got, (q, got)


# ranking where it matters
RANKING = [
    ("江山就是人民", "q:1"),  # the whole query inside a quote
    ("共同富裕", "q:8"),  # a quote holding the query beats a passage
    ("绿水青山", "q:2"),
    ("调查研究", "p:31"),  # a tie goes to the newer material
    ("宪法", "p:7"),
    ("新质生产力", "p:1"),
]


@pytest.mark.parametrize("q,top", RANKING)
def test_top_hit(ix, q, top):
    assert ids(ix.search(q))[0] == top


def test_sort_by_date_newest_first(ix):
    res = ix.search("国家", sort="date", limit=20)
    dates = [h["date"] or "" for h in res["hits"]]
    assert dates == sorted(dates, reverse=True)


def test_title_match_boosts_passage(ix):
    got = ids(ix.search("宪法"))
    assert got.index("p:7") == 0


# facets and totals
def test_facet_counts_match_hits(ix):
    res = ix.search("就是", limit=50)
    assert res["total"] == 2
    assert res["facets"]["topic"] == {"party-history": 1, "ecology": 1}
    assert res["facets"]["kind"] == {"quote": 2}
    assert res["facets"]["year"] == {"2005": 1, "2021": 1}


def test_facets_of_audience(ix):
    res = ix.search("国家", limit=50)
    assert res["facets"]["audience"]["school"] == 2


def test_facets_count_all_matches_not_just_page(ix):
    res = ix.search("奋斗", limit=5)
    assert res["facets"]["kind"]["quote"] == 23
    assert res["total"] == 23


def test_filter_narrows_facets(ix):
    res = ix.search("乡村", topic="rural-revitalization", limit=50)
    assert set(res["facets"]["topic"]) == {"rural-revitalization"}


def test_unknown_topic_is_a_usage_error(ix):
    with pytest.raises(UsageError) as e:
        ix.search("国家", topic="不存在的专题")
    assert "专题" in e.value.message


def test_bad_kind_is_a_usage_error(ix):
    with pytest.raises(UsageError):
        ix.search("国家 kind:视频")


# pagination
def test_pagination_covers_every_hit_once(ix):
    seen = []
    first = ix.search("奋斗", limit=10, page=1)
    assert first["pages"] == 3
    for p in (1, 2, 3):
        seen += ids(ix.search("奋斗", limit=10, page=p))
    assert len(seen) == 23 and len(set(seen)) == 23


def test_page_beyond_the_end_is_empty(ix):
    assert ix.search("奋斗", limit=10, page=9)["hits"] == []


# collapse
def test_passages_collapse_per_document(ix):
    res = ix.search("乡村振兴", limit=10)
    from_doc6 = [h for h in res["hits"] if h["document"]["id"] == 6]
    assert len(from_doc6) == 2
    assert from_doc6[0]["more_in_document"] == 3
    assert res["total"] >= 5


def test_quotes_are_not_collapsed(ix):
    res = ix.search("奋斗", limit=30)
    assert len(res["hits"]) == 23


# highlights
def test_highlight_marks_exact_span(ix):
    h = ix.search("山就")["hits"]
    hit = next(x for x in h if x["id"] == "q:2")
    assert hit["highlight"] == "绿水青<mark>山就</mark>是金山银山。"


def test_highlight_escapes_html(ix):
    hit = ix.search("网络诈骗")["hits"][0]
    assert "<script>" not in hit["highlight"]
    assert "&lt;script&gt;" in hit["highlight"]
    assert "&amp;" in hit["highlight"]
    assert "<mark>网络诈骗</mark>" in hit["highlight"]
    assert hit["text"] == BY_ID["p:4"]["text"]


def test_highlight_maps_full_width_back_to_display_text(ix):
    hit = ix.search("2024")["hits"][0]
    assert "<mark>２０２４</mark>" in hit["highlight"]


def test_highlight_maps_kangxi_back(ix):
    hit = ix.search("革命")["hits"][0]
    assert "<mark>⾰命</mark>" in hit["highlight"]


def test_highlight_every_occurrence(ix):
    hit = next(h for h in ix.search("江山")["hits"] if h["id"] == "q:1")
    assert hit["highlight"].count("<mark>江山</mark>") == 2


def test_highlight_synonym_form(ix):
    hit = ix.search("十九大")["hits"][0]
    assert "<mark>党的十九大</mark>" in hit["highlight"]


def test_long_passage_snippet_window(ix):
    hit = ix.search("长江经济带")["hits"][0]
    assert hit["highlight"].startswith("…") and hit["highlight"].endswith("…")
    assert "<mark>长江经济带</mark>" in hit["highlight"]
    assert len(hit["highlight"]) < len(LONG)
    assert hit["text"] == LONG


# the JSON contract
def test_hit_shape(ix):
    res = ix.search("宪法")
    assert set(res) >= {"query", "total", "hits", "facets"}
    hit = res["hits"][0]
    assert set(hit) >= {
        "kind",
        "id",
        "text",
        "highlight",
        "document",
        "page",
        "heading",
        "source",
        "date",
        "topics",
        "score",
    }
    assert hit["document"] == {
        "id": 4,
        "title": "法治宣讲讲义",
        "filename": "a.docx",
        "kind": "handout",
    }
    assert hit["page"] == 1 and hit["heading"] == "二、宪法宣传"
    assert set(res["facets"]) == {"topic", "kind", "doc_kind", "audience", "year", "speaker"}


def test_qa_hit_has_question(ix):
    hit = ix.search("医保")["hits"][0]
    assert hit["kind"] == "qa" and hit["question"] == "医保报销去哪里办？"


def test_quote_hit_has_source_and_date(ix):
    hit = ix.search("余村")["hits"][0]
    assert hit["source"] == "在浙江安吉余村考察时的讲话" and hit["date"] == "2005-08-15"


# zero results, explain, autocomplete, more like this
def test_zero_results_gives_suggestions(ix):
    res = ix.search("绿水青山 宪法总章程")
    assert res["total"] == 0 and res["hits"] == []
    assert any(s["kind"] == "query" and s["total"] > 0 for s in res["suggestions"])


def test_empty_query_returns_nothing(ix):
    assert ix.search("")["total"] == 0


def test_explain_shows_tokens_and_plan(ix):
    e = ix.explain("不忘初心 -美国 topic:生态文明建设")
    assert e["parsed"]["filters"] == {"topic": ["生态文明建设"]}
    assert "不忘初心" in e["tokens"]["words"]
    assert e["filters"] == {"topic": ["ecology"]}
    assert e["negated"] == ["美国"]
    assert e["compiled"]["candidates"][0][0]["grams"] == ["不忘", "忘初", "初心"]


def test_autocomplete_terms_and_titles(ix):
    got = ix.autocomplete("干部培训")
    assert {"text": "干部培训讲义", "kind": "title"} in got
    got = ix.autocomplete("新质")
    assert any(x["kind"] == "term" and x["text"] == "新质生产力" for x in got)


def test_autocomplete_quotes(ix):
    got = ix.autocomplete("绿水青山")
    assert {"text": "绿水青山就是金山银山。", "kind": "quote"} in got


def test_more_like_this(ix):
    got = [h["id"] for h in ix.more_like_this("p:11")]
    assert "p:11" not in got
    assert any(i.startswith("p:1") for i in got)


def test_more_like_this_unknown_id(ix):
    assert ix.more_like_this("p:999") == []


def test_exact_totals_are_not_marked_estimates(ix):
    res = ix.search("奋斗", limit=5)
    assert res["total_is_estimate"] is False and res["facets_are_estimate"] is False


def test_large_result_sets_report_estimates(ix, monkeypatch):
    searching = searching_module(ix)
    monkeypatch.setattr(searching, "MAX_CANDIDATES", 5)
    monkeypatch.setattr(searching, "FACET_SAMPLE", 10)
    res = ix.search("奋斗", limit=2)  # one bigram: the candidate count is exact
    assert len(res["hits"]) == 2
    assert res["total"] == 23 and res["total_is_estimate"] is False
    assert res["facets_are_estimate"] is True
    res = ix.search("青春最亮丽", limit=2)  # longer: verified on a sample, estimated
    assert len(res["hits"]) == 2
    assert res["total_is_estimate"] is True and 10 <= res["total"] <= 60
