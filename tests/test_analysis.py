"""Our tokenizers: ordinal positions, real offsets, Latin and numbers, normalization."""

from __future__ import annotations

import pytest

from indexer.ingest.normalize import for_search
from indexer.search import jieba_words, text
from indexer.search.vocab import Vocabulary
from indexer.search.whoosh import analysis


@pytest.fixture(scope="module")
def vocab():
    v = Vocabulary.load(None)
    analysis.register_vocabulary(v)
    return v


@pytest.fixture(scope="module")
def word_an(vocab):
    return analysis.WordTokenizer(vocab.version, tuple(vocab.terms))


def test_positions_are_ordinal_and_offsets_real(word_an):
    text = "我们要不忘初心，牢记使命。"
    toks = [
        (t.text, t.pos, t.startchar, t.endchar) for t in word_an(text, positions=True, chars=True)
    ]
    assert [p for _, p, _, _ in toks] == list(range(len(toks)))
    for w, _, s, e in toks:
        assert text[s:e] == w
    assert "，" not in [w for w, *_ in toks]


def test_dictionary_terms_stay_whole(word_an):
    words = [t.text for t in word_an("大力发展新质生产力，推进中国式现代化")]
    assert "新质生产力" in words and "中国式现代化" in words


def test_full_width_digits_and_letters_are_tokens(word_an):
    words = [t.text for t in word_an("２０２４年第3次会议用ＡＩ")]
    assert "2024" in words and "3" in words and "ai" in words


def test_latin_is_casefolded_not_stemmed(word_an):
    words = [t.text for t in word_an("Running iPhones")]
    assert words == ["running", "iphones"]


def test_kangxi_radicals_become_unified(word_an):
    assert [t.text for t in word_an("⾰命")] == [t.text for t in word_an("革命")]


def test_gram_terms_cover_every_character():
    grams = analysis.gram_terms(for_search("中国梦，党"))
    assert grams == ["中国", "国梦", "梦党", "党"]
    assert {g[0] for g in grams} >= set("中国梦党")
    # a segment's last character gets no term of its own when a bigram already starts with it
    assert analysis.gram_terms("中国，国梦") == ["中国", "国国", "国梦", "梦"]


def test_grams_are_punctuation_blind_except_between_latin():
    # “雄鹰”企业 holds the bigram 鹰企: the query 雄鹰企业 finds it
    assert "鹰企" in analysis.gram_terms(for_search("“雄鹰”企业"))
    assert "7现" in analysis.gram_terms(for_search("“4567”现代化产业体系"))
    assert "面战" in analysis.gram_terms(for_search("“四个全面”\n战略布局"))
    # two Latin letters or digits across punctuation stay apart: covid-19 has no d1
    assert "d1" not in analysis.gram_terms("covid-19")
    assert analysis.segment_texts("open ai技术") == ["open", "ai技术"]


def test_gram_runs_include_digits_and_latin():
    assert analysis.gram_terms("第3次") == ["第3", "3次", "次"]
    assert analysis.gram_terms("5g") == ["5g", "g"]


def test_gram_tokenizer_offsets():
    an = analysis.GramTokenizer("v")
    text = "甲乙丙 ab"
    for t in an(text, chars=True, positions=True):
        span = for_search(text)[t.startchar : t.endchar]
        # a bigram across punctuation or space spans it: its first and last characters
        assert span[0] == t.text[0] and span[-1] == t.text[-1]
        assert "".join(c for c in span if c.isalnum()) == t.text


def test_counts_match_tokens(word_an):
    text = "人民就是江山，江山就是人民。"
    assert sum(word_an.counts(text).values()) == len(list(word_an(text)))
    an = analysis.GramTokenizer("v")
    assert sum(an.counts(text).values()) == len(list(an(text)))


def test_analyzer_pickles_without_tokenizer(word_an):
    import pickle

    data = pickle.dumps(word_an)
    assert len(data) < 200_000
    again = pickle.loads(data)
    assert [t.text for t in again("新质生产力")] == ["新质生产力"]


def test_cached_block_segmentation_equals_jieba(vocab):
    """word_tokens cuts jieba's blocks itself (cached, one pass): the tokens and offsets must
    be exactly jieba's tokenize(HMM=False), kept tokens only."""
    tok = analysis.jieba_for(vocab.version, tuple(vocab.terms))
    texts = [
        "我们要不忘初心，牢记使命。",
        "第3次会议 ２０２４年GDP增长5.2%，C++与C#。",
        "abc1x中国 a.b-c ok_go\r\n新质生产力の日本語 café",
        "十九大二十大_党的 3.14%",
        "",
        "  \t",
        "中\u3000国",
        "习近平新时代中国特色社会主义思想" * 3,
        "x",
        "-..+",
    ]
    for t in texts:
        norm = for_search(t)
        expected = [
            (w.strip(), s, e)
            for w, s, e in tok.tokenize(norm, HMM=False)
            if text._RUN.search(w) and w.strip()
        ]
        assert analysis.word_tokens(norm, tok) == expected
        assert analysis.word_tokens(norm, tok) == expected  # from the cache


def test_fast_cut_equals_jieba_cut(vocab):
    tok = analysis.jieba_for(vocab.version, tuple(vocab.terms))
    for block in [
        "新时代宣讲工作要贴近群众贴近生活",
        "abc1x中国",
        "a",
        "1",
        "C++程序",
        "AB",
        "两个确立四个意识",
        "研究生命起源",
        "结婚的和尚未结婚的",
        "2024年12月",
    ]:
        assert jieba_words._cut_no_hmm(block, tok) == list(tok.cut(block, HMM=False))


def test_gram_field_keeps_doc_numbers_only():
    from whoosh.formats import Existence

    from indexer.search.whoosh.schema import build_schema

    schema = build_schema("v", ())
    assert isinstance(schema["grams"].format, Existence)
    assert not schema["grams"].scorable and schema["body"].scorable
