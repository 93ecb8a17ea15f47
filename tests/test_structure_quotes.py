"""Quote compilations (金句汇编) → Quote records: text, 出处, date, speaker, theme, note."""

from __future__ import annotations

import pytest

from indexer.ingest.extract.base import Block, Extracted
from indexer.ingest.structure import structure
from indexer.ingest.structure.dates import parse_date


def doc(*items, title="习近平总书记重要讲话金句摘编", page=None) -> Extracted:
    """Strings are paragraphs; (level, text) tuples are headings."""
    blocks = []
    for it in items:
        if isinstance(it, tuple):
            blocks.append(Block(it[1], "heading", it[0], page))
        else:
            blocks.append(Block(it, "para", 0, page))
    return Extracted("docx", blocks, title=title)


def quotes(*items, **kw):
    st = structure(doc(*items, **kw), kind="quotes")
    assert st.kind == "quotes"
    return st.quotes


# -- 1. dash source line ---------------------------------------------------------------------


@pytest.mark.parametrize("dash", ["——", "─", "—", "--", "――"])
def test_dash_source_on_next_block(dash):
    [q] = quotes(
        "人民对美好生活的向往，就是我们的奋斗目标。",
        f"{dash}2012年11月15日，在十八届中央政治局常委同中外记者见面时的讲话",
    )
    assert q.text == "人民对美好生活的向往，就是我们的奋斗目标。"
    assert q.source == "在十八届中央政治局常委同中外记者见面时的讲话"
    assert q.date == "2012-11-15"


def test_dash_source_at_end_of_same_block_with_speaker():
    [q] = quotes(
        "青年兴则国家兴，青年强则国家强。——习近平2019年3月18日在学校思政课教师座谈会上的讲话"
    )
    assert q.text == "青年兴则国家兴，青年强则国家强。"
    assert q.speaker == "习近平"
    assert q.date == "2019-03-18"
    assert q.source == "在学校思政课教师座谈会上的讲话"


def test_dash_source_on_next_line_of_same_block():
    [q] = quotes(
        "江山就是人民，人民就是江山。\n——习近平总书记在庆祝中国共产党成立100周年大会上的讲话"
        "（2021年7月1日）"
    )
    assert q.text == "江山就是人民，人民就是江山。"
    assert q.speaker == "习近平"
    assert q.source == "在庆祝中国共产党成立100周年大会上的讲话"
    assert q.date == "2021-07-01"


def test_dash_inside_a_quote_is_not_a_source():
    [q] = quotes(
        "1．幸福都是奋斗出来的——这是我们最深的体会。", "——2018年2月14日，在2018年春节团拜会上的讲话"
    )
    assert q.text == "幸福都是奋斗出来的——这是我们最深的体会。"
    assert q.date == "2018-02-14"


# -- 2. bracketed source ---------------------------------------------------------------------


@pytest.mark.parametrize("open_, close", [("（", "）"), ("(", ")")])
def test_bracket_source_same_line(open_, close):
    [q] = quotes(
        f"法律是治国之重器，良法是善治之前提。{open_}《在中央全面依法治国委员会第一次会议上的讲话》，"
        f"2018年8月24日{close}"
    )
    assert q.text == "法律是治国之重器，良法是善治之前提。"
    assert q.source == "《在中央全面依法治国委员会第一次会议上的讲话》"
    assert q.date == "2018-08-24"


def test_bracket_source_wrapped_onto_next_block():
    [q] = quotes(
        "法治是最好的营商环境。（《在中央全面依法治国委员会第二次会议上",
        "的讲话》，2019年2月25日）",
    )
    assert q.text == "法治是最好的营商环境。"
    assert q.source == "《在中央全面依法治国委员会第二次会议上的讲话》"
    assert q.date == "2019-02-25"


def test_bracket_source_on_its_own_line_after_the_quote():
    """“（2012年11月15日，习近平在……时的讲话）” in its own paragraph (a slide's second line,
    a compilation's layout) is the 出处 of the quote before it, not the start of the next
    quote: it was glued to the next quotation's text."""
    first, second = quotes(
        "“人民对美好生活的向往，就是我们的奋斗目标。”",
        "（2012年11月15日，习近平在十八届中央政治局常委同中外记者见面时的讲话）",
        "“江山就是人民，人民就是江山。”",
        "——2021年7月1日，习近平在庆祝中国共产党成立100周年大会上的讲话",
    )
    assert first.text == "人民对美好生活的向往，就是我们的奋斗目标。"
    assert first.date == "2012-11-15" and first.speaker == "习近平"
    assert first.source == "在十八届中央政治局常委同中外记者见面时的讲话"
    assert second.text == "江山就是人民，人民就是江山。" and second.date == "2021-07-01"


def test_a_work_plan_whose_sections_open_with_a_bracketed_period_is_not_a_compilation():
    from indexer.ingest.structure.quotes import bracket_source_line

    assert not bracket_source_line("（2024年3月至4月）")
    assert not bracket_source_line("（2025—2027年）")
    assert not bracket_source_line("（图为2023年村民在田间劳作）")
    assert bracket_source_line(
        "（2012年11月15日，习近平在十八届中央政治局常委同中外记者见面时的讲话）"
    )
    st = structure(
        doc(
            (1, "一、动员部署阶段"),
            "（2024年3月至4月）",
            "召开动员会，制定实施方案，明确责任分工。",
            (1, "二、组织实施阶段"),
            "（2024年5月至10月）",
            "各村按照方案组织宣讲，每月报送进度。",
            title="理论宣讲进村工作方案",
        )
    )
    assert st.kind != "quotes"


def test_a_bracketed_aside_on_its_own_line_is_not_a_source():
    q = quotes("“民生无小事，枝叶总关情。”", "（下同）", "“江山就是人民，人民就是江山。”")
    assert all("下同" not in x.source for x in q if x.source)


def test_bracket_source_with_date_outside_brackets():
    [q] = quotes("治国有常，而利民为本。（《习近平谈治国理政》第一卷）2014年")
    assert q.text == "治国有常，而利民为本。"
    assert q.source == "《习近平谈治国理政》第一卷"
    assert q.date == "2014"


def test_ordinary_parenthesis_stays_in_quote():
    [q] = quotes("1. 我们要坚持“两个毫不动摇”（即毫不动摇巩固和发展公有制经济）。")
    assert "（即毫不动摇巩固和发展公有制经济）" in q.text
    assert q.source is None


# -- 3. labelled records ---------------------------------------------------------------------


def test_labelled_records_in_brackets():
    qs = quotes(
        "【金句】绿水青山就是金山银山。",
        "【出处】2005年8月15日在浙江安吉余村考察时的讲话",
        "【释义】生态环境保护和经济发展是辩证统一、相辅相成的。",
        "【金句】良好生态环境是最普惠的民生福祉。",
        "【出处】《在海南考察工作结束时的讲话》（2013年4月10日）",
    )
    assert [q.text for q in qs] == ["绿水青山就是金山银山。", "良好生态环境是最普惠的民生福祉。"]
    assert qs[0].source == "在浙江安吉余村考察时的讲话"
    assert qs[0].date == "2005-08-15"
    assert qs[0].note == "生态环境保护和经济发展是辩证统一、相辅相成的。"
    assert qs[1].source == "《在海南考察工作结束时的讲话》"
    assert qs[1].date == "2013-04-10"
    assert qs[1].note is None


@pytest.mark.parametrize("colon", ["：", ":"])
def test_colon_labels_spread_over_blocks(colon):
    qs = quotes(
        f"原文{colon}民惟邦本，本固邦宁。",
        f"出处{colon}《尚书·五子之歌》",
        f"释义{colon}人民是国家的根本，",
        "根本牢固了，国家才能安宁。",
        f"原文{colon}",
        "政之所兴，在顺民心；政之所废，在逆民心。",
        f"出处{colon}《管子·牧民》",
    )
    assert len(qs) == 2
    assert qs[0].text == "民惟邦本，本固邦宁。"
    assert qs[0].source == "《尚书·五子之歌》"
    assert qs[0].note.replace("\n", "") == "人民是国家的根本，根本牢固了，国家才能安宁。"
    assert qs[1].text == "政之所兴，在顺民心；政之所废，在逆民心。"
    assert qs[1].source == "《管子·牧民》"


def test_note_after_dash_source():
    [q, q2] = quotes(
        "为政以德，譬如北辰，居其所而众星共之。",
        "——《论语·为政》",
        "释义：用道德来治理国家，就会得到百姓拥护。",
        "知之者不如好之者，好之者不如乐之者。",
        "——《论语·雍也》",
    )
    assert q.note == "用道德来治理国家，就会得到百姓拥护。"
    assert q2.source == "《论语·雍也》" and q2.note is None


# -- 4. classical sources --------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, source, speaker",
    [
        ("——《论语·为政》", "《论语·为政》", None),
        ("——《孟子·尽心上》", "《孟子·尽心上》", None),
        ("——[唐]杜甫《春望》", "《春望》", "唐·杜甫"),
        ("——(宋)苏轼", None, "宋·苏轼"),
        ("——（清）顾炎武《日知录》", "《日知录》", "清·顾炎武"),
    ],
)
def test_classical_sources(line, source, speaker):
    [q] = quotes("天下兴亡，匹夫有责。", line)
    assert q.source == source
    assert q.speaker == speaker
    assert q.date is None


# -- 5. numbering and bullets ----------------------------------------------------------------


@pytest.mark.parametrize(
    "mark", ["1．", "1.", "1、", "（1）", "(1)", "◆", "●", "■", "★", "▲", "·", "①"]
)
def test_numbering_and_bullets_are_removed(mark):
    [q] = quotes(f"{mark}空谈误国，实干兴邦。", "——2012年11月29日，在参观《复兴之路》展览时的讲话")
    assert q.text == "空谈误国，实干兴邦。"
    assert q.date == "2012-11-29"


def test_numbered_quotes_without_sources_are_quotes():
    qs = quotes((1, "一、坚持人民至上"), "1. 人民就是江山。", "2. 民心是最大的政治。")
    assert [q.text for q in qs] == ["人民就是江山。", "民心是最大的政治。"]
    assert all(q.source is None for q in qs)


def test_enclosing_quotation_marks_stripped_once():
    [q, q2] = quotes(
        "“打铁必须自身硬。”",
        "——2012年11月15日，在十八届中央政治局常委同中外记者见面时的讲话",
        "“不忘初心”和“牢记使命”是统一的。",
        "——《学习问答》",
    )
    assert q.text == "打铁必须自身硬。"
    assert q2.text == "“不忘初心”和“牢记使命”是统一的。"


# -- 6. dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, iso",
    [
        ("2020年12月28日", "2020-12-28"),
        ("2020 年 12 月 28 日", "2020-12-28"),
        ("２０２０年１２月２８日", "2020-12-28"),
        ("2019.3.18", "2019-03-18"),
        ("2019年3月", "2019-03"),
        ("2019年", "2019"),
        ("二〇一九年三月十八日", "2019-03-18"),
        ("二〇二一年七月一日", "2021-07-01"),
    ],
)
def test_date_forms(text, iso):
    assert parse_date(f"在某次会议上的讲话，{text}") == iso


def test_date_split_across_blocks():
    [q] = quotes(
        "中国式现代化是人口规模巨大的现代化。",
        "——习近平2022年10月",
        "16日在中国共产党第二十次全国代表大会上的报告",
    )
    assert q.date == "2022-10-16"
    assert q.speaker == "习近平"
    assert q.source == "在中国共产党第二十次全国代表大会上的报告"


def test_date_with_spaces_and_dotted_date_in_source():
    qs = quotes(
        "● 人民群众是真正的英雄。",
        "——2020 年 12 月 28 日 在中央农村工作会议上的讲话",
        "● 农业强国是社会主义现代化强国的根基。",
        "——2019.3.18 在某次座谈会上的讲话",
    )
    assert [q.date for q in qs] == ["2020-12-28", "2019-03-18"]
    assert qs[0].source == "在中央农村工作会议上的讲话"


# -- themes, intros, duplicates --------------------------------------------------------------


def test_theme_headings_and_intro_paragraph():
    st = structure(
        doc(
            "编者按：为帮助广大宣讲员准确理解、生动宣讲党的创新理论，我们从公开发表的重要讲话和文章中摘编了部分金句，"
            "按专题分类整理如下，供学习参考。引用时请以原始出处为准。",
            "一、坚持人民至上",
            "1．人民对美好生活的向往，就是我们的奋斗目标。",
            "——2012年11月15日，在十八届中央政治局常委同中外记者见面时的讲话",
            "（一）生态为民",
            "2．良好生态环境是最普惠的民生福祉。",
            "——2013年4月10日，在海南考察工作结束时的讲话",
            "## 传统文化",
            "为政以德，譬如北辰，居其所而众星共之。",
            "——《论语·为政》",
        ),
        kind="quotes",
    )
    assert [q.theme for q in st.quotes] == ["一、坚持人民至上", "（一）生态为民", "传统文化"]
    assert [q.seq for q in st.quotes] == [1, 2, 3]
    assert all("编者按" not in q.text for q in st.quotes)
    assert any("编者按" in p.text for p in st.passages)  # kept for search, as a passage
    assert "一、坚持人民至上" not in [q.text for q in st.quotes]
    assert [h[1] for h in st.headings] == ["一、坚持人民至上", "（一）生态为民", "传统文化"]
    assert [h[0] for h in st.headings][:2] == [1, 2]


def test_repeated_quote_is_kept_twice():
    qs = quotes(
        (1, "一、奋斗"),
        "◆ 幸福都是奋斗出来的。",
        "——2018年新年贺词",
        (1, "二、青年"),
        "◆ 幸福都是奋斗出来的。",
        "——2018年新年贺词",
    )
    assert [q.text for q in qs] == ["幸福都是奋斗出来的。"] * 2
    assert [q.theme for q in qs] == ["一、奋斗", "二、青年"]
    assert qs[0].date == "2018"


def test_page_of_quote():
    ex = Extracted(
        "pdf",
        [
            Block("人民就是江山。", "para", 0, 3),
            Block("——2021年7月1日，在庆祝中国共产党成立100周年大会上的讲话", "para", 0, 4),
        ],
        title="金句",
    )
    [q] = structure(ex, kind="quotes").quotes
    assert q.page == 3


def test_display_form_of_quote_text():
    # Kangxi radicals from a PDF producer become ordinary characters; wrapped lines are joined.
    [q] = quotes(
        "⼈民对美好⽣活的向往，\n就是我们的奋⽃⽬标。",
        "——2012年11月15日，在十八届中央政治局常委同中外记者见面时的讲话",
    )
    assert q.text == "人民对美好生活的向往，就是我们的奋斗目标。"


def test_no_quotes_found_warns():
    st = structure(doc("这是一段普通的说明文字，没有任何出处，也不是金句。"), kind="quotes")
    assert st.quotes == []
    assert st.warnings and "没有识别出金句" in st.warnings[0]


# -- source-first items (date → speaker → occasion → verb → quotation) ---------------------------

SOURCE_FIRST = [
    (1, "一、人民至上"),
    "2013年3月17日，习近平在第十二届全国人民代表大会第一次会议上强调：“实现中国梦必须走中国道路。”",
    "2013年12月，习近平在中央农村工作会议上指出，“中国人的饭碗任何时候都要牢牢端在自己手上”。",
    "2019年11月，习近平在上海考察时强调“人民城市人民建，人民城市为人民”。",
    "1．1992年，邓小平在南方谈话中指出：“发展才是硬道理。”",
    (1, "二、奋斗"),
    "2017年10月18日，习近平在党的十九大报告中强调：",
    "“中国共产党人的初心和使命，就是为中国人民谋幸福，为中华民族谋复兴。”",
    "2018年12月31日，习近平总书记在二〇一九年新年贺词中说：“我们都在努力奔跑，我们都是追梦人。”",
]


def test_source_first_items_are_quotes_with_speaker_date_and_occasion():
    qs = quotes(*SOURCE_FIRST, title="重要论述摘编")
    assert [q.text for q in qs] == [
        "实现中国梦必须走中国道路。",
        "中国人的饭碗任何时候都要牢牢端在自己手上",
        "人民城市人民建，人民城市为人民",
        "发展才是硬道理。",
        "中国共产党人的初心和使命，就是为中国人民谋幸福，为中华民族谋复兴。",
        "我们都在努力奔跑，我们都是追梦人。",
    ]
    assert [q.speaker for q in qs] == ["习近平", "习近平", "习近平", "邓小平", "习近平", "习近平"]
    assert [q.date for q in qs] == [
        "2013-03-17",
        "2013-12",
        "2019-11",
        "1992",
        "2017-10-18",
        "2018-12-31",
    ]
    assert qs[0].source == "在第十二届全国人民代表大会第一次会议上"
    assert qs[4].source == "在党的十九大报告"
    assert [q.theme for q in qs] == ["一、人民至上"] * 4 + ["二、奋斗"] * 2


def test_a_source_first_compilation_is_recognised_without_title_words():
    from indexer.ingest.structure import detect_kind

    blocks = [Block(t, "para") for t in SOURCE_FIRST if isinstance(t, str)]
    assert detect_kind(Extracted("docx", blocks, title="学习材料"), "材料.docx") == "quotes"
    st = structure(Extracted("docx", blocks, title="学习材料"))
    assert st.kind == "quotes" and len(st.quotes) == 6 and not st.warnings


def test_attributed_item_with_a_dash_source_line_drops_the_attribution_from_the_text():
    [q] = quotes(
        "习近平总书记指出：“人民就是江山。”",
        "——2021年7月1日，在庆祝中国共产党成立100周年大会上的讲话",
    )
    assert q.text == "人民就是江山。"
    assert q.speaker == "习近平" and q.date == "2021-07-01"
    assert q.source == "在庆祝中国共产党成立100周年大会上的讲话"


def test_speaker_aliases_in_compilations_become_the_canonical_speaker():
    [q] = quotes("全心全意为人民服务。", "——毛主席《为人民服务》")
    assert q.speaker in ("毛泽东", None)
