"""Attributed quotations in running text become quote records (indexer.ingest.structure.attributed), with the
speaker resolved through the speaker table; the gold set meets the accuracy targets."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from indexer.ingest.extract.base import Block, Extracted
from indexer.ingest.structure import structure
from indexer.ingest.structure.attributed import find_quotes, source_first
from indexer.ingest.structure.sources import SpeakerTable

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "tests" / "data" / "quote_gold"


def handout(*paras, kind="handout", title="学习讲义", **kw):
    blocks = [
        Block(p[1], "heading", p[0]) if isinstance(p, tuple) else Block(p, "para") for p in paras
    ]
    return structure(Extracted("docx", blocks, title=title), kind=kind, **kw)


def one(text, **kw):
    found = find_quotes(text, **kw)
    assert len(found) == 1, found
    return found[0]


# -- patterns ----------------------------------------------------------------------------------


def test_colon_after_the_verb_with_date_and_occasion():
    f = one(
        "2013年3月17日，习近平在第十二届全国人民代表大会第一次会议上强调：“实现中国梦必须走中国道路。”"
    )
    assert (f.text, f.speaker, f.date) == ("实现中国梦必须走中国道路。", "习近平", "2013-03-17")
    assert f.source == "在第十二届全国人民代表大会第一次会议上"


def test_said_form_and_bare_title_resolved_by_the_document():
    f = one("正如总书记所说：“民生无小事，枝叶总关情。”", named={"习近平"})
    assert (f.text, f.speaker, f.pattern) == ("民生无小事，枝叶总关情。", "习近平", "said")
    # without the name anywhere in the document the title is kept as written, never guessed
    assert one("正如总书记所说：“民生无小事，枝叶总关情。”").speaker == "总书记"


def test_no_colon_and_comma_forms_keep_nested_quotation_marks():
    f = one("总书记强调“全党要牢固树立党章意识，自觉用党章规范自己的一言一行”。")
    assert f.text.startswith("全党要牢固树立党章意识") and f.pattern == "bare"
    f = one("习近平总书记在四川视察时指出，“要坚持‘川渝一盘棋’，唱好‘双城记’。”")
    assert f.text == "要坚持‘川渝一盘棋’，唱好‘双城记’。"
    assert (f.speaker, f.source, f.pattern) == ("习近平", "在四川视察时", "comma")


def test_quotation_before_its_attribution():
    f = one("“江山就是人民，人民就是江山。”习近平总书记这样说。")
    assert (f.speaker, f.pattern) == ("习近平", "after")
    f = one(
        "我想和大家分享一句话：“绿水青山就是金山银山。”这句话是习近平同志二〇〇五年八月十五日"
        "在浙江安吉余村考察时提出来的。"
    )
    assert (f.speaker, f.date, f.source) == ("习近平", "2005-08-15", "在浙江安吉余村考察时")


def test_works_and_bracketed_sources_give_the_source_but_no_speaker():
    f = one("《孟子·离娄上》中说：“徒善不足以为政，徒法不能以自行。”法律写得再好，也要靠人去守。")
    assert (f.speaker, f.source, f.pattern) == (None, "《孟子·离娄上》", "work")
    f = one("“民惟邦本，本固邦宁。”（《尚书·五子之歌》）")
    assert (f.speaker, f.source, f.pattern) == (None, "《尚书·五子之歌》", "bracket")
    f = one("党的二十大报告指出：“高质量发展是全面建设社会主义现代化国家的首要任务。”")
    assert (f.speaker, f.source) == (None, "党的二十大报告")


def test_a_programme_dated_in_brackets_is_not_a_quote():
    """A 2025 government work report: 第1个“三年行动”（2025—2027年）… became a quote “三年行动”
    dated 2027 with 出处 “2025—”."""
    text = (
        "城乡生活污水治理3个“三年行动”：第1个“三年行动”（2025—2027年），聚焦重点流域；"
        "第2个“三年行动”（2028—2030年），实现县城全覆盖。"
    )
    assert find_quotes(text) == []
    f = one("“不积跬步，无以至千里。”（《荀子·劝学》）")  # a work in the brackets still counts
    assert f.source == "《荀子·劝学》"


def test_praise_quoted_from_the_speaker_is_a_quote():
    """Work reports quote praise: 习近平总书记肯定“工作及时，积极有效”."""
    f = one("有力应对2008年以来最严重的冰冻灾害，习近平总书记肯定“工作及时，积极有效”。")
    assert (f.text, f.speaker) == ("工作及时，积极有效", "习近平")
    assert f.date is None  # “2008年以来” dates the snow, not the praise
    f = one("习近平总书记称赞：“这里的村民把垃圾分类做成了好习惯。”")
    assert f.speaker == "习近平"
    assert find_quotes("这个做法肯定“行得通”。") == []  # no speaker, a short term


def test_a_quotation_right_after_its_speaker_named_as_a_charge_is_a_quote():
    """牢记习近平总书记“奋勇争先、更加出彩”的殷殷嘱托 (a work report): the words are his."""
    f = one("我们牢记习近平总书记“奋勇争先、更加出彩”的殷殷嘱托，稳中求进。")
    assert (f.text, f.speaker) == ("奋勇争先、更加出彩", "习近平")
    # a term right after the name, or named as something else, is not
    assert find_quotes("深刻领悟习近平总书记“两个确立”的决定性意义。") == []
    assert find_quotes("认真学习习近平总书记“七一”重要讲话精神。") == []


@pytest.mark.parametrize(
    ("text", "date"),
    [
        (
            "2013年11月3日上午，习近平总书记在十八洞村考察时指出：“扶贫要实事求是，因地制宜。”",
            "2013-11-03",
        ),
        (
            "早在2005年8月15日，习近平同志在安吉余村考察时指出：“绿水青山就是金山银山。”",
            "2005-08-15",
        ),
        ("2019年春节前夕，习近平总书记看望慰问基层干部群众时强调：“幸福都是奋斗出来的。”", "2019"),
    ],
)
def test_a_date_with_words_around_it_before_the_speaker_still_dates_the_saying(text, date):
    assert one(text).date == date


def test_pronoun_and_series_inherit_the_attribution():
    found = find_quotes(
        "习近平总书记在北京大学师生座谈会上指出：“要勤学，下得苦功夫，求得真学问。”"
        "他接着说：“要修德，加强道德修养，注重道德实践。”"
    )
    assert [f.pattern for f in found] == ["colon", "pronoun"]
    assert {f.source for f in found} == {"在北京大学师生座谈会上"}
    found = find_quotes("习近平总书记指出：“江山就是人民。”“人民就是江山。”")
    assert [(f.pattern, f.speaker) for f in found] == [("colon", "习近平"), ("series", "习近平")]


def test_partial_dates_keep_their_precision():
    assert (
        one("2016年10月，习近平在纪念红军长征胜利80周年大会上的讲话中指出：“长征永远在路上。”").date
        == "2016-10"
    )
    assert one("1992年，邓小平在南方谈话中指出：“发展才是硬道理。”").date == "1992"
    assert one("习近平总书记在二〇一八年新年贺词中说：“幸福都是奋斗出来的。”").date == "2018"


# -- precision: what is not a quote -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "要加快推进“两重”建设，培育一批“雄鹰”企业。",
        "习近平总书记提出“两山”理念，我们要深刻领会。",
        "习近平总书记提出“两个确立”的重大意义。",
        "习近平总书记强调，要坚持“两个毫不动摇”。",
        "总书记多次提到“枫桥经验”。",
        "习近平总书记强调要增强“四个意识”、坚定“四个自信”。",
        "习近平总书记指出：“两个确立”是党在新时代取得的重大政治成果。",
        "村党支部书记老莫说：“光靠喊口号不行，得让大家看到实实在在的好处。”",
        "七十岁的张阿姨说：“一开始有人嫌麻烦，我就一户一户去讲。”",
        "俗话说：“远亲不如近邻。”",
        "古人云：“法者，天下之程式也，万事之仪表也。”",
        "有关负责人表示：“青年是理论学习的生力军。”",
        "习近平总书记的讲话让老支书很激动，他说：“我一定带头干。”",
        "我们学习了毛泽东同志的名篇《为人民服务》。",
        "宣传栏上写着“垃圾分一分，环境美十分”。",
    ],
)
def test_scare_quotes_terms_dialogue_and_reported_speech_are_not_quotes(text):
    assert find_quotes(text) == []


# -- structure(): records beside the passages ----------------------------------------------------


def test_handout_quotes_are_records_beside_unchanged_passages():
    paras = [
        (1, "一、坚持人民至上"),
        "习近平总书记指出：“人民对美好生活的向往，就是我们的奋斗目标。”我们要牢记在心。",
        "群众的“急难愁盼”就是我们工作的方向。",
    ]
    st = handout(*paras)
    off = handout(*paras, extract_quotes=False)
    assert [p.text for p in st.passages] == [p.text for p in off.passages]
    assert off.quotes == []
    [q] = st.quotes
    assert (q.text, q.speaker, q.theme, q.seq) == (
        "人民对美好生活的向往，就是我们的奋斗目标。",
        "习近平",
        "一、坚持人民至上",
        1,
    )
    assert not st.warnings


def test_qa_answers_give_quotes_themed_by_their_question():
    st = handout(
        "问：为什么要重视教育？",
        "答：习近平总书记指出：“教育是国之大计、党之大计。”",
        "问：怎样看就业？",
        "答：就业是最基本的民生。",
        kind="qa",
    )
    [q] = st.quotes
    assert q.theme == "为什么要重视教育？" and q.speaker == "习近平"


def test_the_speaker_table_can_be_extended_from_the_library_home(tmp_path):
    text = "王教授说：“读书是最好的修行。”"
    assert find_quotes(text) == []
    (tmp_path / "speakers.txt").write_text(
        "# 本馆补充\n王阳明 = 阳明先生\n-孔子\n+王教授\n", encoding="utf-8"
    )
    table = SpeakerTable.load(tmp_path)
    assert one(text, table=table).speaker == "王教授"
    assert one("阳明先生说：“知是行之始，行是知之成。”", table=table).speaker == "王阳明"
    assert find_quotes("孔子说：“学而不思则罔，思而不学则殆。”", table=table) == []
    st = handout("王教授说：“读书是最好的修行。”", speakers=table)
    assert [q.speaker for q in st.quotes] == ["王教授"]


def test_aliases_resolve_to_one_canonical_speaker():
    table = SpeakerTable.load()
    for alias in ("习近平", "习近平总书记", "习近平同志", "习主席"):
        assert table.resolve(alias) == "习近平"
    assert table.resolve("总书记") == "总书记"
    assert table.resolve("总书记", {"习近平"}) == "习近平"
    assert table.resolve("毛主席") == "毛泽东"
    assert table.resolve("张三同志") == "张三"  # unknown: as written, title dropped


def test_an_unknown_name_with_a_public_title_is_kept_as_written():
    f = one("李建国同志说：“群众的事再小也是大事。”")
    assert f.speaker == "李建国"


def test_source_first_needs_the_whole_item_to_be_attribution_and_quotation():
    assert source_first(
        "2013年3月17日，习近平在第十二届全国人民代表大会第一次会议上强调："
        "“实现中国梦必须走中国道路。”"
    )
    assert (
        source_first(
            "我们要记住：2013年3月17日，习近平强调：“实现中国梦必须走中国道路。”然后展开。"
        )
        is None
    )
    assert source_first("“实现中国梦必须走中国道路。”习近平这样说。") is None


# -- the gold set -------------------------------------------------------------------------------


def _bench():
    spec = importlib.util.spec_from_file_location(
        "quote_accuracy", ROOT / "bench" / "quote_accuracy.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["quote_accuracy"] = module
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module


def test_gold_set_is_big_enough_and_covers_every_kind_of_material():
    gold = json.loads((GOLD / "gold.json").read_text(encoding="utf-8"))
    docs = gold["documents"]
    assert len(docs) >= 15
    assert sum(len(d["quotes"]) for d in docs) >= 150
    assert sum(len(d["non_quotes"]) for d in docs) >= 150
    genres = {d["file"].split("-")[1] for d in docs}
    assert {"handout", "script", "case", "qa", "news", "transcript", "compilation"} <= genres
    for d in docs:
        assert (GOLD / d["file"]).is_file(), d["file"]
        for q in d["quotes"]:
            assert set(q) == {"text", "speaker", "date", "source", "pattern"}, q


def test_gold_set_meets_the_accuracy_targets():
    bench = _bench()
    rep = bench.evaluate(GOLD)
    assert rep.overall.precision >= bench.TARGET_PRECISION, rep.errors
    assert rep.overall.recall >= bench.TARGET_RECALL, rep.errors
    assert rep.non_quotes_taken <= 2


# -- one saying, many places (the store) ---------------------------------------------------------

SCRIPT = (
    "党课讲稿\n同志们：\n"
    "　　习近平总书记指出：“江山就是人民，人民就是江山”！我们要记在心里。\n"
    "　　正如总书记所说：“打江山、守江山……守的是人民的心。”\n"
    "　　毛泽东同志说过：“全心全意为人民服务。”\n"
)
COMPILATION = (
    "金句摘编\n"
    "2021年7月1日，习近平在庆祝中国共产党成立100周年大会上指出：“江山就是人民，人民就是江山，"
    "打江山、守江山，守的是人民的心。”\n"
    "2012年11月15日，习近平在十八届中央政治局常委同中外记者见面时指出：“人民对美好生活的向往，"
    "就是我们的奋斗目标。”\n"
    "2013年3月17日，习近平在第十二届全国人民代表大会第一次会议上强调：“实现中国梦必须走中国道路。”\n"
)


@pytest.fixture
def library(tmp_path):
    from indexer.ingest.pipeline import Options, Pipeline
    from library.home import Home
    from library.store import Store
    from library.taxonomy import Taxonomy

    store = Store(Home.open(tmp_path / "home"))
    pipe = Pipeline(store, Taxonomy.default())

    def ingest(name, text, kind):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        [r] = pipe.ingest([str(path)], Options(workers=1, kind=kind))
        assert r.status in ("ok", "warning"), r.message
        return r

    yield store, ingest
    store.close()


def _occurrences(store, text_part):
    rows = store._rows(
        "SELECT q.id, q.text, COUNT(o.id) AS n FROM quotes q JOIN occurrences o "
        "ON o.quote_id = q.id WHERE q.text LIKE :t GROUP BY q.id",
        t=f"%{text_part}%",
    )
    return rows


@pytest.mark.parametrize("order", ["script first", "compilation first"])
def test_a_cited_quotation_and_its_compiled_twin_are_one_quote(library, order):
    store, ingest = library
    docs = [("讲稿.txt", SCRIPT, "script"), ("摘编.txt", COMPILATION, "quotes")]
    if order == "compilation first":
        docs.reverse()
    for name, text, kind in docs:
        ingest(name, text, kind)
    rows = _occurrences(store, "人民就是江山")
    # “江山就是人民，人民就是江山”！ (punctuation differs) and “打江山、守江山……守的是人民的心”
    # (a sub-span with words left out) are two more occurrences of the compiled quote
    assert len(rows) == 1, rows
    assert rows[0]["n"] == 3
    q = store.get_quote(rows[0]["id"])
    assert q["text"].startswith("江山就是人民，人民就是江山，打江山")
    assert q["date"] == "2021-07-01" and q["speaker"] == "习近平"
    assert {o["kind"] for o in q["occurrences"]} == {"script", "quotes"}
    # a quotation no compilation holds stays a quote of its own
    assert len(_occurrences(store, "全心全意为人民服务")) == 1


def test_compiled_quotes_are_not_merged_with_each_other(library):
    store, ingest = library
    ingest(
        "摘编甲.txt",
        "摘编甲\n2021年7月1日，习近平在庆祝中国共产党成立100周年大会上指出："
        "“江山就是人民，人民就是江山。”\n",
        "quotes",
    )
    ingest("摘编乙.txt", COMPILATION, "quotes")
    assert len(_occurrences(store, "人民就是江山")) == 2
