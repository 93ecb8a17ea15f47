"""A cold search does not load jieba's whole dictionary: the frequency table written by the
first full tokenizer of a vocabulary version is read on demand, and cuts text exactly as the
full tokenizer does."""

from __future__ import annotations

import subprocess
import sys

import pytest

from indexer.search import jieba_words
from indexer.search.vocab import Vocabulary

TEXTS = [
    "习近平新时代中国特色社会主义思想是当代中国马克思主义、二十一世纪马克思主义。",
    "绿水青山就是金山银山，2025年GDP增长5.0%左右，R&D投入强度2.68％。",
    "推进乡村全面振兴\r\n  把宣讲办到群众心坎上 ——  全过程人民民主",
    "二十届三中全会 中国式现代化 新质生产力 民生 的 一 是",
]


@pytest.fixture
def vocab(tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURELIB_CACHE", str(tmp_path / "cache"))
    home = tmp_path / "home"
    home.mkdir()
    (home / "dictionary.txt").write_text("宣讲心坎\n新质生产力\n", encoding="utf-8")
    v = Vocabulary.load(home)
    jieba_words._BUILT.pop(v.version, None)
    yield v
    jieba_words._BUILT.pop(v.version, None)


def test_lazy_tokenizer_cuts_exactly_like_the_full_one(vocab):
    full = jieba_words.tokenizer_for(vocab, bulk=True)  # builds and writes the table
    assert not isinstance(full, jieba_words.LazyTokenizer)
    lazy = jieba_words.LazyTokenizer.open(vocab.version)
    assert lazy is not None
    for text in TEXTS:
        assert list(lazy.cut(text, HMM=False)) == list(full.cut(text, HMM=False))
        assert jieba_words.word_tokens(text, lazy) == jieba_words.word_tokens(text, full)
    # the editor's dictionary terms are in the table too
    assert "新质生产力" in lazy.FREQ and "宣讲心坎" in lazy.FREQ


def test_a_second_process_uses_the_table_and_does_not_import_jieba(vocab, tmp_path):
    jieba_words.tokenizer_for(vocab, bulk=True)
    code = (
        "import sys, pathlib\n"
        "from indexer.search.vocab import Vocabulary\n"
        "from indexer.search import jieba_words\n"
        f"v = Vocabulary.load(pathlib.Path({str(tmp_path / 'home')!r}))\n"
        "tok = jieba_words.tokenizer_for(v)\n"
        "print(type(tok).__name__, 'jieba' in sys.modules,\n"
        "      [w for w, _, _ in jieba_words.word_tokens('把宣讲心坎上的新质生产力', tok)])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split(" ", 2)
    assert out[0] == "LazyTokenizer"
    assert out[1] == "False"
    assert "新质生产力" in out[2]


def test_bulk_work_gets_the_full_tokenizer_even_after_a_lazy_one(vocab):
    jieba_words.tokenizer_for(vocab, bulk=True)
    jieba_words._BUILT.pop(vocab.version, None)
    assert isinstance(jieba_words.tokenizer_for(vocab), jieba_words.LazyTokenizer)
    assert not isinstance(jieba_words.tokenizer_for(vocab, bulk=True), jieba_words.LazyTokenizer)
