"""The query language: what a speaker types and what the engine is asked for."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.search.query import (
    ParsedQuery,
    Term,
    format_query,
    parse,
    resolve_audience,
    resolve_kind,
)


def W(text, negated=False):
    return Term(text, phrase=False, negated=negated)


def P(text, negated=False):
    return Term(text, phrase=True, negated=negated)


# --- words --------------------------------------------------------------------------------


def test_words_separated_by_spaces_must_all_match():
    pq = parse("生态 文明 建设")
    assert pq.clauses == [[W("生态")], [W("文明")], [W("建设")]]
    assert pq.filters == {}
    assert not pq.is_empty()


def test_fullwidth_space_separates_words():
    assert parse("乡村振兴\u3000百千万工程").clauses == [[W("乡村振兴")], [W("百千万工程")]]


def test_tabs_newlines_and_repeated_spaces_separate_words():
    assert parse("  不忘初心 \t\n 牢记使命  ").clauses == [[W("不忘初心")], [W("牢记使命")]]


@pytest.mark.parametrize("text", ["5G基站", "第3次", "COVID-19", "AI赋能", "２０２４年", "C++"])
def test_mixed_latin_digits_and_chinese_stay_one_term_as_typed(text):
    assert parse(text).clauses == [[W(text)]]


def test_case_is_kept_as_typed():
    assert parse("GDP增速").clauses == [[W("GDP增速")]]


def test_kangxi_radicals_become_unified_ideographs_in_terms():
    # ⾰⽤ are Kangxi radicals (U+2FB0, U+2F64) that Chromium-made PDFs emit.
    assert parse("改⾰").clauses == [[W("改革")]]


def test_identical_terms_are_kept_once():
    assert parse("党史 党史").clauses == [[W("党史")]]


def test_punctuation_only_terms_are_dropped():
    assert parse("生态 ， 。 文明").clauses == [[W("生态")], [W("文明")]]


# --- phrases -------------------------------------------------------------------------------


def test_ascii_quotes_make_a_phrase():
    assert parse('"绿水青山就是金山银山"').clauses == [[P("绿水青山就是金山银山")]]


def test_chinese_quotes_are_text_not_syntax():
    # pasted from a report: “雄鹰”企业 is one term, its quotation marks part of the text
    assert parse("“雄鹰”企业").clauses == [[W("“雄鹰”企业")]]
    assert parse("“不忘初心” 牢记使命").clauses == [[W("“不忘初心”")], [W("牢记使命")]]


@pytest.mark.parametrize("q", ["”不忘初心”", "“不忘初心“", "「不忘初心」", "『不忘初心』"])
def test_other_chinese_quote_styles_are_text(q):
    assert parse(q).clauses == [[W(q)]]


def test_full_width_ascii_quote_makes_a_phrase():
    assert parse("＂不忘初心＂").clauses == [[P("不忘初心")]]


# --- negation --------------------------------------------------------------------------------


def test_minus_excludes_a_word():
    assert parse("廉政 -形式主义").clauses == [[W("廉政")], [W("形式主义", negated=True)]]


@pytest.mark.parametrize("minus", ["－", "−", "--"])
def test_fullwidth_and_other_minus_signs_exclude(minus):
    assert parse(f"廉政 {minus}形式主义").clauses == [[W("廉政")], [W("形式主义", True)]]


def test_minus_excludes_a_phrase():
    assert parse('党建 -"形式 主义"').clauses == [[W("党建")], [P("形式 主义", negated=True)]]
    assert parse("党建 -“形式主义”").clauses == [[W("党建")], [W("“形式主义”", negated=True)]]


def test_negated_term_alone_is_allowed_but_empty():
    pq = parse("-形式主义")
    assert pq.clauses == [[W("形式主义", True)]]
    assert pq.is_empty()
    assert pq.negated_terms() == [W("形式主义", True)]
    assert pq.positive_clauses() == []


def test_lone_minus_is_ignored_and_inner_hyphen_is_part_of_word():
    assert parse("生态 - 文明").clauses == [[W("生态")], [W("文明")]]
    assert parse("2019-2021年").clauses == [[W("2019-2021年")]]


# --- OR ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["OR", "|", "｜", "或"])
def test_or_operators_join_alternatives(op):
    pq = parse(f"生态 {op} 环保 建设")
    assert pq.clauses == [[W("生态"), W("环保")], [W("建设")]]


def test_bar_without_spaces_and_chains():
    assert parse("生态|环保|绿色").clauses == [[W("生态"), W("环保"), W("绿色")]]


def test_lowercase_or_is_a_word():
    assert parse("this or that").clauses == [[W("this")], [W("or")], [W("that")]]


def test_or_is_a_word_only_when_standalone():
    assert parse("或者").clauses == [[W("或者")]]


def test_dangling_or_doubled_or_are_ignored():
    assert parse("OR 生态").clauses == [[W("生态")]]
    assert parse("生态 OR").clauses == [[W("生态")]]
    assert parse("生态 OR OR 环保").clauses == [[W("生态"), W("环保")]]


def test_or_with_phrases():
    assert parse('"美丽中国" OR 生态文明').clauses == [[P("美丽中国"), W("生态文明")]]


def test_negated_term_stands_alone_even_after_or():
    pq = parse("生态 OR -污染")
    assert pq.clauses == [[W("生态")], [W("污染", True)]]


def test_or_reaches_over_a_filter():
    pq = parse("生态 OR kind:quote 环保")
    assert pq.clauses == [[W("生态"), W("环保")]]
    assert pq.filters == {"kind": ["quote"]}


# --- filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q,key,value",
    [
        ("topic:生态文明建设", "topic", "生态文明建设"),
        ("topic:ecology", "topic", "ecology"),
        ("专题:乡村振兴", "topic", "乡村振兴"),
        ("专题：乡村振兴", "topic", "乡村振兴"),
        ("主题:国防教育", "topic", "国防教育"),
        ("kind:quote", "kind", "quote"),
        ("类型:金句", "kind", "金句"),
        ("类型：问答", "kind", "问答"),
        ("audience:rural", "audience", "rural"),
        ("对象:进社区", "audience", "进社区"),
        ("year:2021", "year", "2021"),
        ("年份：2021", "year", "2021"),
        ("TOPIC:ecology", "topic", "ecology"),
    ],
)
def test_filters_in_english_and_chinese(q, key, value):
    pq = parse(q)
    assert pq.filters == {key: [value]}
    assert pq.clauses == []
    assert not pq.is_empty()


def test_filters_combine_with_words():
    pq = parse("金句 topic:ecology 绿水青山 kind:quote")
    assert pq.clauses == [[W("金句")], [W("绿水青山")]]
    assert pq.filters == {"topic": ["ecology"], "kind": ["quote"]}


def test_year_range_expands_to_years():
    assert parse("year:2019-2021").filters == {"year": ["2019", "2020", "2021"]}
    assert parse("年份:2021~2019").filters == {"year": ["2019", "2020", "2021"]}
    assert parse("year:2019至2020").filters == {"year": ["2019", "2020"]}


def test_fullwidth_year_and_year_suffix():
    assert parse("年份：２０２１年").filters == {"year": ["2021"]}


def test_bad_year_kept_as_typed_for_the_engine_to_reject():
    assert parse("year:去年").filters == {"year": ["去年"]}


def test_several_values_and_repeated_filters_accumulate():
    assert parse("kind:quote,qa").filters == {"kind": ["quote", "qa"]}
    assert parse("topic:ecology 专题:乡村振兴 topic:ecology").filters == {
        "topic": ["ecology", "乡村振兴"]
    }


def test_quoted_filter_value_may_hold_spaces():
    pq = parse('topic:"生态 文明" 建设')
    assert pq.filters == {"topic": ["生态 文明"]}
    assert pq.clauses == [[W("建设")]]


def test_unknown_filter_names_are_plain_words():
    pq = parse("foo:bar http://www.gov.cn 10:30")
    assert pq.clauses == [[W("foo:bar")], [W("http://www.gov.cn")], [W("10:30")]]
    assert pq.filters == {}


def test_known_filter_without_value_is_ignored():
    pq = parse("topic: 生态")
    assert pq.filters == {}
    assert pq.clauses == [[W("生态")]]


def test_negated_filter_is_a_negated_plain_word():
    pq = parse("-kind:quote 生态")
    assert pq.filters == {}
    assert pq.clauses == [[W("kind:quote", True)], [W("生态")]]


# --- empty input -------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["", "   ", "\u3000", "OR", "-", "|", '""', "topic:", "，。"])
def test_empty_queries(q):
    pq = parse(q)
    assert pq.clauses == []
    assert pq.filters == {}
    assert pq.is_empty()
    assert pq.raw == q


def test_none_is_an_empty_query():
    assert parse(None).is_empty()


def test_filter_only_query_is_not_empty():
    assert not parse("topic:ecology").is_empty()


# --- writing back, filter values ---------------------------------------------------------------


def test_format_query_writes_every_element():
    pq = parse('"不忘初心" 生态 | 环保 -污染 -"形式 主义" 专题:ecology 年份:2019-2021 kind:金句')
    assert format_query(pq) == (
        '"不忘初心" 生态 OR 环保 -污染 -"形式 主义" topic:ecology year:2019-2021 kind:金句'
    )
    assert str(pq) == format_query(pq)


def test_format_query_round_trips_chinese_quotes_as_text():
    pq = parse('“他说”好 "生态 文明"')
    assert parse(format_query(pq)).clauses == pq.clauses


@pytest.mark.parametrize(
    "value,slug",
    [
        ("quote", "quote"),
        ("金句", "quote"),
        ("QUOTE", "quote"),
        ("段落", "passage"),
        ("问答", "qa"),
        ("热点问答", "qa"),
        ("讲义", None),
    ],
)
def test_resolve_kind(value, slug):
    assert resolve_kind(value) == slug


@pytest.mark.parametrize(
    "value,slug",
    [
        ("rural", "rural"),
        ("进农村", "rural"),
        ("农村", "rural"),
        ("进网络", "online"),
        ("火星", None),
    ],
)
def test_resolve_audience(value, slug):
    assert resolve_audience(value) == slug


# --- properties ----------------------------------------------------------------------------------

_alphabet = st.sampled_from(
    list('生态文明建设党史ab12 　"“”「」-－|｜:：ORor或topickindyear年份专题,，')
)
_queries = st.one_of(st.text(), st.lists(_alphabet, max_size=40).map("".join))


@settings(max_examples=400, deadline=None)
@given(_queries)
def test_parse_never_raises_and_terms_are_never_empty(q):
    pq = parse(q)
    assert isinstance(pq, ParsedQuery)
    for clause in pq.clauses:
        assert clause
        assert all(t.text and t.text == t.text.strip() for t in clause)
        if len(clause) > 1:
            assert not any(t.negated for t in clause)


@settings(max_examples=400, deadline=None)
@given(_queries)
def test_format_query_round_trips(q):
    pq = parse(q)
    again = parse(format_query(pq))
    assert again.clauses == pq.clauses
    assert again.filters == pq.filters
