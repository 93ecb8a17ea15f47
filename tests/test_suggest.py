"""Suggestions on zero results: relaxed queries and close dictionary terms."""

import pytest

from indexer.search.jieba_words import dictionary_words
from indexer.search.query import parse
from indexer.search.suggest import close_terms, relaxations
from indexer.search.vocab import Vocabulary


@pytest.fixture(scope="module")
def vocab():
    return Vocabulary.load()


# --- relaxations ---------------------------------------------------------------------------


def test_nothing_to_relax_in_a_single_word():
    assert relaxations(parse("生态")) == []
    assert relaxations(parse("")) == []


def test_filters_are_dropped_one_at_a_time_then_all():
    out = relaxations(parse("绿水青山 topic:ecology kind:quote"))
    assert out[:3] == ["绿水青山 kind:quote", "绿水青山 topic:ecology", "绿水青山"]


def test_a_filter_alone_is_never_relaxed_into_an_empty_query():
    assert relaxations(parse("topic:ecology")) == []
    assert relaxations(parse("-污染")) == []


def test_phrase_becomes_words_first():
    out = relaxations(parse('"绿水青山 金山银山"'))
    assert out[0] == "绿水青山 金山银山"
    assert relaxations(parse('"两个确立" 意义'))[0] == "两个确立 意义"


def test_the_rarest_clause_is_dropped_first_using_document_counts():
    counts = {"党史": 120, "遵义会议": 0, "精神": 800}
    out = relaxations(parse("党史 遵义会议 精神"), doc_freq=counts.get)
    assert out[:3] == ["党史 精神", "遵义会议 精神", "党史 遵义会议"]


def test_without_counts_the_longest_clause_counts_as_rarest():
    out = relaxations(parse("党史 遵义会议"))
    assert out[0] == "党史"


def test_negated_terms_are_dropped():
    out = relaxations(parse("党建 -形式主义"))
    assert out == ["党建"]


def test_long_words_are_split_into_dictionary_words(vocab):
    out = relaxations(
        parse("新质生产力发展报告"), split_words=lambda word: dictionary_words(word, vocab)
    )
    assert "新质生产力 发展 报告" in out


def test_everything_relaxed_at_once_comes_last():
    out = relaxations(parse('"不忘初心" 牢记使命 -形式主义 kind:quote'), limit=0)
    assert out[-2:] == ["不忘初心 牢记使命", "牢记使命"]
    assert "不忘初心 牢记使命" in out and len(out) == len(set(out))


def test_relaxations_are_parseable_and_differ_from_the_query():
    q = "“不忘初心” 生态 OR 环保 -污染 专题:生态文明建设 year:2019-2021"
    original = parse(q)
    out = relaxations(original)
    assert out
    for text in out:
        pq = parse(text)
        assert not pq.is_empty()
        assert (pq.clauses, pq.filters) != (original.clauses, original.filters)


def test_limit():
    q = '"甲 乙" 丙 丁 -戊 topic:a kind:quote'
    assert len(relaxations(parse(q), limit=2)) == 2
    assert len(relaxations(parse(q), limit=0)) > 2


# --- close terms -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed,expected",
    [
        ("新智生产力", "新质生产力"),  # one character typed wrong (homophone)
        ("乡村振新", "乡村振兴"),
        ("依法治过", "依法治国"),
        ("两个确力", "两个确立"),
        ("绿水青山", "绿水青山就是金山银山"),  # a term containing the word
        ("百千万", "百千万工程"),
    ],
)
def test_close_terms_finds_the_intended_term_first(vocab, typed, expected):
    assert close_terms(typed, vocab)[0] == expected


def test_close_terms_never_returns_the_word_itself(vocab):
    assert "十九大" not in close_terms("十九大", vocab)
    assert "党的十九大" in close_terms("十九大", vocab)


def test_close_terms_includes_editor_terms(tmp_path):
    v = Vocabulary.load(tmp_path)
    v.add_terms(["星湖绿道"])
    assert close_terms("星湖绿到", v)[0] == "星湖绿道"


def test_close_terms_limit_and_nothing_close(vocab):
    assert len(close_terms("党", vocab, limit=3)) == 3
    assert close_terms("xyz", vocab) == []
    assert close_terms("", vocab) == []
    assert close_terms("生态", vocab, limit=0) == []


def test_close_terms_for_a_pasted_sentence_finds_terms_inside_it(vocab):
    sentence = "我们要深入学习贯彻党的二十大精神，推动高质量发展取得新成效"
    found = close_terms(sentence, vocab)
    assert "党的二十大精神" in found or "高质量发展" in found
