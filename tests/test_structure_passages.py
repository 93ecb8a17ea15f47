"""Handouts, scripts and cases → passages; hot Q&A → pairs; kind detection, title, date."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.ingest.extract.base import Block, Extracted
from indexer.ingest.structure import detect_kind, structure

GOV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gov-reports-2025"

# A realistic handout paragraph (about 120 characters).
PARA = (
    "党的二十届三中全会对进一步全面深化改革作出系统部署，强调要坚持以人民为中心，"
    "尊重人民主体地位和首创精神，做到改革为了人民、改革依靠人民、改革成果由人民共享。"
    "基层宣讲要把这些道理讲清楚、讲透彻，让群众听得懂、记得住、用得上。"
)


def doc(*items, title=None, fmt="docx") -> Extracted:
    """Strings are paragraphs; (level, text) tuples are headings; (kind, text, page) blocks."""
    blocks = []
    for it in items:
        if isinstance(it, Block):
            blocks.append(it)
        elif isinstance(it, tuple):
            blocks.append(Block(it[1], "heading", it[0]))
        else:
            blocks.append(Block(it, "para"))
    return Extracted(fmt, blocks, title=title)


# -- passages --------------------------------------------------------------------------------


def test_short_paragraphs_merge_under_one_heading_but_not_across_headings():
    st = structure(
        doc(
            (1, "一、深刻把握改革的人民立场"),
            "改革为了人民。",
            "改革依靠人民。",
            (1, "二、扎实推进基层治理"),
            "治理重心下移。",
            title="宣讲讲义",
        ),
        kind="handout",
    )
    assert [p.text for p in st.passages] == ["改革为了人民。\n改革依靠人民。", "治理重心下移。"]
    assert [p.heading_path for p in st.passages] == [
        ["一、深刻把握改革的人民立场"],
        ["二、扎实推进基层治理"],
    ]
    assert [p.seq for p in st.passages] == [1, 2]


def test_passage_sizes_stay_within_bounds():
    st = structure(doc((1, "一、改革"), *[PARA] * 12, title="讲义"), kind="handout")
    sizes = [len(p.text) for p in st.passages]
    assert len(st.passages) > 1
    assert all(150 <= n <= 800 for n in sizes), sizes
    # nothing lost, nothing duplicated
    assert sum(p.text.count("基层宣讲") for p in st.passages) == 12


def test_over_long_paragraph_is_split_at_sentence_ends():
    long = PARA * 9  # about 1,100 characters, one paragraph
    st = structure(doc((1, "一、改革"), long, title="讲义"), kind="handout")
    assert len(st.passages) >= 2
    assert all(len(p.text) <= 800 for p in st.passages)
    assert all(p.text.endswith("。") for p in st.passages)
    assert "".join(p.text for p in st.passages) == long


def test_heading_path_nests_levels():
    st = structure(
        doc(
            (1, "一、总体要求"),
            (2, "（一）指导思想"),
            PARA,
            (2, "（二）基本原则"),
            PARA,
            (1, "二、重点任务"),
            PARA,
            title="辅导讲义",
        ),
        kind="handout",
    )
    assert [p.heading_path for p in st.passages] == [
        ["一、总体要求", "（一）指导思想"],
        ["一、总体要求", "（二）基本原则"],
        ["二、重点任务"],
    ]
    assert [(lvl, text) for lvl, text, _ in st.headings] == [
        (1, "一、总体要求"),
        (2, "（一）指导思想"),
        (2, "（二）基本原则"),
        (1, "二、重点任务"),
    ]


def test_numbering_patterns_in_plain_paragraphs_become_headings():
    st = structure(
        doc(
            "一、为什么要学",
            "（一）理论意义",
            PARA,
            "1. 从历史看",
            PARA,
            "二、怎么学",
            PARA,
            title="学习讲义",
            fmt="txt",
        ),
        kind="handout",
    )
    assert [p.heading_path for p in st.passages] == [
        ["一、为什么要学", "（一）理论意义"],
        ["一、为什么要学", "（一）理论意义", "1. 从历史看"],
        ["二、怎么学"],
    ]


def test_markdown_headings():
    st = structure(doc("# 生态文明", "## 绿水青山", PARA, title="讲义", fmt="md"), kind="handout")
    assert st.passages[0].heading_path == ["生态文明", "绿水青山"]


def test_page_is_page_of_first_block():
    st = structure(
        doc(
            Block("一、改革", "heading", 1, 2),
            Block("改革为了人民。", "para", 0, 2),
            Block("改革依靠人民。", "para", 0, 3),
            title="讲义",
            fmt="pdf",
        ),
        kind="handout",
    )
    assert st.passages[0].page == 2
    assert st.headings == [(1, "一、改革", 2)]


def test_tables_and_footnotes():
    st = structure(
        doc(
            (1, "一、主要指标"),
            PARA,
            Block("指标\t2023年\t2024年", "table"),
            Block("地区生产总值\t2.8万亿\t3.0万亿", "table"),
            (1, "二、工作安排"),
            "按季度推进。",
            Block("① 数据来源：市统计局。", "footnote"),
            Block("② 按可比价格计算。", "footnote"),
            title="讲义",
        ),
        kind="handout",
    )
    table = [p for p in st.passages if "地区生产总值" in p.text]
    assert len(table) == 1 and "指标" in table[0].text and PARA not in table[0].text
    assert table[0].heading_path == ["一、主要指标"]
    assert st.passages[-1].heading_path == ["注释"]
    assert "市统计局" in st.passages[-1].text and "可比价格" in st.passages[-1].text


def test_script_and_case_are_passages_too():
    for kind in ("script", "case"):
        st = structure(doc("同志们：", PARA, title="党课讲稿"), kind=kind)
        assert st.kind == kind and st.quotes == []
        assert all(p.kind == "passage" for p in st.passages)


# -- Q&A -------------------------------------------------------------------------------------


def _qa(st):
    return [(p.question, p.text) for p in st.passages if p.kind == "qa"]


def test_qa_labels():
    st = structure(
        doc(
            (1, "一、就业社保"),
            "问：灵活就业人员怎样参加养老保险？",
            "答：可以在户籍地或就业地以个人身份参保。",
            "缴费基数可在规定范围内自主选择。",
            "问：医保可以跨省直接结算吗？",
            "答：可以，备案后即可直接结算。",
            title="热点问答",
        ),
        kind="qa",
    )
    assert _qa(st) == [
        (
            "灵活就业人员怎样参加养老保险？",
            "可以在户籍地或就业地以个人身份参保。\n缴费基数可在规定范围内自主选择。",
        ),
        ("医保可以跨省直接结算吗？", "可以，备案后即可直接结算。"),
    ]
    assert all(p.heading_path == ["一、就业社保"] for p in st.passages)


def test_qa_q_a_letters_and_inline_answer():
    st = structure(
        doc(
            "Q：什么是新质生产力？",
            "A：由技术革命性突破催生的先进生产力。",
            "问：什么是百千万工程？答：广东推进县镇村高质量发展的工程。",
            title="问答",
        ),
        kind="qa",
    )
    assert _qa(st) == [
        ("什么是新质生产力？", "由技术革命性突破催生的先进生产力。"),
        ("什么是百千万工程？", "广东推进县镇村高质量发展的工程。"),
    ]


def test_qa_numbered_questions():
    st = structure(
        doc(
            "1. 为什么要推进乡村振兴？",
            "乡村振兴是实现共同富裕的必然要求。",
            "农业农村现代化是关键。",
            "2. 乡村振兴要振兴什么？",
            "产业、人才、文化、生态、组织五个方面。",
            title="乡村振兴百问",
        ),
        kind="qa",
    )
    assert _qa(st) == [
        ("为什么要推进乡村振兴？", "乡村振兴是实现共同富裕的必然要求。\n农业农村现代化是关键。"),
        ("乡村振兴要振兴什么？", "产业、人才、文化、生态、组织五个方面。"),
    ]


def test_qa_question_headings():
    st = structure(
        doc(
            (1, "法治篇"),
            (2, "遇到电信诈骗怎么办？"),
            "立即拨打110报警，保存好转账记录。",
            (2, "签劳动合同要注意什么？"),
            "看清工作内容、工资标准和社保缴纳。",
            title="群众关心的法律问题",
        ),
        kind="qa",
    )
    assert _qa(st) == [
        ("遇到电信诈骗怎么办？", "立即拨打110报警，保存好转账记录。"),
        ("签劳动合同要注意什么？", "看清工作内容、工资标准和社保缴纳。"),
    ]
    assert all(p.heading_path == ["法治篇"] for p in st.passages if p.kind == "qa")


# -- kind detection ---------------------------------------------------------------------------

QUOTE_LINES = [
    "人民就是江山。",
    "——2021年7月1日，在庆祝中国共产党成立100周年大会上的讲话",
    "幸福都是奋斗出来的。",
    "——2018年2月14日，在2018年春节团拜会上的讲话",
    "绿水青山就是金山银山。",
    "——2005年8月15日，在浙江安吉余村考察时的讲话",
]
QA_LINES = [
    "问：什么是新质生产力？",
    "答：由技术革命性突破催生的先进生产力。",
    "问：什么是百千万工程？",
    "答：广东推进县镇村高质量发展的工程。",
    "问：医保能跨省结算吗？",
    "答：备案后可以。",
]


@pytest.mark.parametrize(
    "title, kind",
    [
        ("新时代金句摘编", "quotes"),
        ("习近平总书记语录", "quotes"),
        ("群众关心的热点问答", "qa"),
        ("乡村振兴百问", "qa"),
        ("基层治理典型案例", "case"),
        ("身边的好人故事", "case"),
        ("七一党课讲稿", "script"),
        ("在全市宣讲大会上的发言", "script"),
        ("生态文明建设辅导讲义", "handout"),
        ("形势与政策课件", "handout"),
        ("二〇二四年工作要点", "handout"),
    ],
)
def test_detect_kind_from_title(title, kind):
    assert detect_kind(doc(PARA, PARA, title=title)) == kind


def test_detect_kind_content_wins_over_title():
    assert detect_kind(doc(*QUOTE_LINES, title="学习讲义")) == "quotes"
    assert detect_kind(doc(*QA_LINES, title="学习讲义")) == "qa"
    labelled = [
        "【金句】民惟邦本，本固邦宁。",
        "【出处】《尚书·五子之歌》",
        "【金句】为政以德。",
        "【出处】《论语·为政》",
    ]
    assert detect_kind(doc(PARA, *labelled, title="辅导材料")) == "quotes"


def test_detect_kind_from_file_name_and_opening():
    assert detect_kind(doc(PARA), filename="2024年党课讲稿.docx") == "script"
    assert detect_kind(doc("同志们：", PARA, PARA)) == "script"
    assert detect_kind(doc(PARA, PARA)) == "handout"


def test_structure_detects_when_kind_not_given():
    st = structure(doc(*QA_LINES, title="材料"))
    assert st.kind == "qa" and len(_qa(st)) == 3


def test_unknown_kind_is_a_usage_error():
    from library.errors import UsageError

    with pytest.raises(UsageError) as err:
        structure(doc(PARA), kind="poem")
    assert "讲义" in str(err.value)


# -- title and date ---------------------------------------------------------------------------


def test_title_sources():
    assert structure(doc(PARA, title="元数据标题")).title == "元数据标题"
    assert structure(doc(Block("文内标题", "title"), PARA)).title == "文内标题"
    assert structure(doc((1, "第一个标题"), PARA)).title == "第一个标题"
    assert structure(doc(PARA), filename="材料/生态讲义.docx").title == "生态讲义"


def test_title_block_is_not_in_the_outline_or_passages():
    st = structure(doc(Block("乡村振兴专题讲义", "title"), (1, "一、产业振兴"), PARA))
    assert st.headings[0][1] == "一、产业振兴"
    assert st.passages[0].heading_path == ["一、产业振兴"]


@pytest.mark.parametrize(
    "line, iso",
    [
        ("2024年3月18日", "2024-03-18"),
        ("（2024年3月）", "2024-03"),
        ("中共肇庆市委宣传部 2024年3月", "2024-03"),
        ("二〇二四年三月十八日", "2024-03-18"),
        ("——2025年1月14日在北京市第十六届人民代表大会第三次会议上", "2025-01-14"),
    ],
)
def test_document_date_under_title(line, iso):
    st = structure(doc(Block("宣讲提纲", "title"), line, (1, "一、2023年工作回顾"), PARA))
    assert st.date == iso


def test_heading_with_a_year_is_not_the_document_date():
    st = structure(doc(Block("宣讲提纲", "title"), (1, "一、2024年工作回顾"), PARA))
    assert st.date is None


def test_government_report_is_a_handout_with_outline():
    files = sorted(GOV.glob("*.docx")) if GOV.is_dir() else []
    if not files:
        pytest.skip("gov-reports-2025 not available")
    from indexer.ingest.extract import extract

    f = files[0]
    st = structure(extract(f.read_bytes(), f.name), filename=f.name)
    assert st.kind == "handout"
    assert st.title.startswith("2025年")
    assert st.date and st.date.startswith("2025-01")
    assert len(st.headings) >= 5
    assert all(len(p.text) <= 800 for p in st.passages)
    assert st.passages and all(p.heading_path for p in st.passages[5:])


def test_detect_case_from_its_closing_section():
    assert (
        detect_kind(
            doc((2, "空房子里的难题"), PARA, (2, "案例启示"), PARA, title="鼎湖山下的民宿合伙人")
        )
        == "case"
    )
    assert detect_kind(doc(PARA, title="端砚里的匠心——讲给社区居民的肇庆故事")) == "script"


def test_title_repeats_dropped_only_as_pdf_running_headers():
    line = "党史是最生动、最有说服力的教科书。"
    st = structure(doc(line, line, title=line, fmt="txt"), kind="handout")
    assert st.passages and line in st.passages[0].text
    pdf = Extracted(
        "pdf",
        [
            Block("金句选编", "para", 0, 1),
            Block("人民就是江山。", "para", 0, 1),
            Block("——2021年7月1日，在庆祝中国共产党成立100周年大会上的讲话", "para", 0, 1),
            Block("金句选编", "para", 0, 2),
            Block("幸福都是奋斗出来的。", "para", 0, 2),
            Block("——2018年2月14日，在2018年春节团拜会上的讲话", "para", 0, 2),
        ],
        title="金句选编",
    )
    st = structure(pdf)
    assert st.kind == "quotes" and len(st.quotes) == 2 and st.passages == []


def test_a_numbered_first_heading_is_a_section_not_the_title():
    from indexer.ingest.extract.base import Block, Extracted
    from indexer.ingest.structure import structure

    ex = Extracted(
        "pdf",
        [
            Block("一、法治是最好的营商环境", "heading", 1),
            Block("依法办事，公平公正，营商环境才能越来越好。" * 10),
        ],
    )
    s = structure(ex, filename="法治宣讲提纲.pdf")
    assert s.title == "法治宣讲提纲"
    assert s.passages[0].heading_path == ["一、法治是最好的营商环境"]


def test_table_passage_keeps_cells_apart_one_row_a_line():
    """Issue 9: a table's cells came out run together (“厨余垃圾正确分类每次2分不得混有…”)."""
    st = structure(
        doc(
            (1, "一、积分规则"),
            Block("投放内容\t积分标准\t说明", "table"),
            Block("厨余垃圾正确分类\t每次2分\t不得混有塑料袋等杂物", "table"),
            Block("废纸、纸箱\t每公斤3分\t需压平捆扎", "table"),
            title="积分超市",
        ),
        kind="case",
    )
    assert st.passages[0].text.splitlines() == [
        "投放内容 | 积分标准 | 说明",
        "厨余垃圾正确分类 | 每次2分 | 不得混有塑料袋等杂物",
        "废纸、纸箱 | 每公斤3分 | 需压平捆扎",
    ]


# -- Markdown syntax and saved articles ----------------------------------------------------------

MARKDOWN = """\ufeff---
title: 前言
date: 2024-03-01
来源: 西江宣讲网
---
<!-- 编辑备注：此处不显示 -->
乡村振兴宣讲提纲
================

![封面](images/cover.png)
[![徽标](logo.png)](https://example.org)

[TOC]

第一部分的小标题
可以写成两行
----------------

这是第一段，讲[乡村振兴](https://example.org/rural "链接")的新变化[^1]。

* * *

===

> 引用里的一段话。
>
> > 嵌套引用的一段话。

## 二、产业兴旺 {#industry}

产业兴旺是重点。
---

[1]: https://example.org/ref
[^1]: 数据以当地公布为准。
"""


def test_markdown_syntax_never_shows_up_as_passage_text():
    from indexer.ingest.extract import extract

    ex = extract(MARKDOWN.encode("utf-8"), "提纲.md")
    st = structure(ex, kind="handout")
    text = "\n".join([st.title] + [h for _, h, _ in st.headings] + [p.text for p in st.passages])
    for syntax in (
        "===",
        "---",
        "* * *",
        "![",
        "](",
        "[^1]",
        "[1]:",
        "[TOC]",
        "{#",
        "<!--",
        "cover.png",
        "封面",
        "徽标",
        "title:",
        "编辑备注",
        ">",
    ):
        assert syntax not in text, syntax
    assert st.title == "乡村振兴宣讲提纲"
    assert [h for _, h, _ in st.headings] == ["第一部分的小标题可以写成两行", "二、产业兴旺"]
    assert any("讲乡村振兴的新变化。" in p.text for p in st.passages)
    assert any("嵌套引用的一段话。" in p.text for p in st.passages)
    assert any(p.heading_path == ["注释"] and "数据以当地公布为准" in p.text for p in st.passages)
    # “产业兴旺是重点。” above “---” is a sentence followed by a rule, not a heading
    assert any("产业兴旺是重点。" in p.text for p in st.passages)
    assert (st.date, st.source) == ("2024-03-01", "西江宣讲网")


NEWS = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>百姓宣讲团走进田间地头 - 肇庆新闻网</title>{meta}</head><body>
<div class="nav">首页 要闻</div>
<div class="main"><h1>百姓宣讲团走进田间地头</h1>{info}
<div class="content">
<p>本网讯 4月11日，一支由老党员和返乡青年组成的宣讲团来到鼎湖区的一个果园，把党的创新理论讲到了果农身边。</p>
<p>宣讲员先讲了一个故事，果农们听得津津有味。宣讲团今年已开展微宣讲八十多场，受到群众欢迎。</p>
</div></div><div class="footer">版权所有</div></body></html>"""


@pytest.mark.parametrize(
    "meta, info, source, date",
    [
        (
            "",
            '<div class="info">来源：肇庆新闻网　作者：本网记者　发布时间：2024-04-12 09:30</div>',
            "肇庆新闻网",
            "2024-04-12",
        ),
        ("", '<p class="source">西江日报 2024年5月4日</p>', "西江日报", "2024-05-04"),
        (
            '<meta name="source" content="端州发布"><meta property="article:published_time" '
            'content="2024-07-02T18:20:00+08:00">',
            "",
            "端州发布",
            "2024-07-02",
        ),
    ],
)
def test_a_saved_news_article_keeps_title_source_and_date(meta, info, source, date):
    from indexer.ingest.extract import extract

    ex = extract(NEWS.format(meta=meta, info=info).encode("utf-8"), "新闻.html")
    st = structure(ex, kind="case")
    assert st.title == "百姓宣讲团走进田间地头"
    assert (st.source, st.date) == (source, date)
    assert all("首页" not in p.text and "版权所有" not in p.text for p in st.passages)


def test_a_web_pages_info_bar_gives_source_and_date_and_is_not_a_passage():
    """“来源：理论学习在线 发布时间：2025-06-20 字号：大 中 小” was searchable text: a search for
    字号 found the page's furniture."""
    s = structure(
        doc(
            "来源：理论学习在线 发布时间：2025-06-20 字号：大 中 小",
            (1, "导言"),
            "伟大建党精神是中国共产党的精神之源，这份讲义结合党史故事逐一讲解。",
            title="伟大建党精神学习讲义",
            fmt="html",
        ),
        kind="handout",
    )
    assert (s.date, s.source) == ("2025-06-20", "理论学习在线")
    assert not any("字号" in p.text for p in s.passages)
    # a 来源 line that is not an info bar stays in the text, as before
    s = structure(
        doc("来源：新华社", "正文第一段写的是宣讲的内容。", title="一篇报道"), kind="case"
    )
    assert s.source == "新华社" and any("来源：新华社" in p.text for p in s.passages)
