"""Ranking as a speaker notices it: the quote that holds the words typed comes first, whatever
jieba made of the quote (decision 3: context-dependent segmentation)."""

from __future__ import annotations

import json

import pytest
from builders import make_docx

from indexer.app.service import LibraryService
from indexer.search import WRITERS

QUOTES = [
    ("h", "生态文明金句"),
    ("p", "绿水青山就是金山银山。"),
    ("p", "——2005年8月15日，在浙江安吉余村考察时的讲话"),
    ("p", "江山就是人民，人民就是江山。"),
    ("p", "——2021年7月1日，在庆祝中国共产党成立100周年大会上的讲话"),
]
HANDOUT = [
    ("h", "生态优先讲义"),
    ("p", "一、守护绿水青山"),
    (
        "p",
        "我们村守护绿水青山，发展生态旅游，绿水 青山 绿水 青山成了村民挂在嘴边的话。"
        "保护生态环境就是保护生产力，金山 银山 要靠绿水 青山来换。" * 3,
    ),
    ("p", "二、江山与人民"),
    ("p", "人民群众是历史的创造者，江山 人民 的道理要讲给村民听。" * 4),
]


@pytest.fixture(scope="module", params=WRITERS)
def svc(tmp_path_factory, request):
    """A library whose home says which segment writer builds its index (search_writer)."""
    tmp = tmp_path_factory.mktemp("rank")
    make_docx(tmp / "in" / "金句.docx", QUOTES)
    make_docx(tmp / "in" / "讲义.docx", HANDOUT)
    (tmp / "home").mkdir()
    (tmp / "home" / "settings.json").write_text(
        json.dumps({"search_writer": request.param}), encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("LECTURELIB_SEARCH_WRITER", raising=False)  # the home decides here
        s = LibraryService(tmp / "home")
        assert s.index.writer == request.param
    s.ingest([tmp / "in"])
    yield s
    s.close()


@pytest.mark.parametrize(
    "query, quote",
    [
        ("绿水青山", "绿水青山就是金山银山。"),
        ("金山银山", "绿水青山就是金山银山。"),
        ("绿水", "绿水青山就是金山银山。"),
        ("江山就是人民", "江山就是人民，人民就是江山。"),
        ("人民就是江山", "江山就是人民，人民就是江山。"),
    ],
)
def test_the_quote_holding_the_words_typed_comes_first(svc, query, quote):
    hits = svc.search(query)["hits"]
    assert hits and hits[0]["kind"] == "quote" and hits[0]["text"] == quote, [
        (h["kind"], h["text"][:20], h["score"]) for h in hits
    ]


def test_passage_with_the_exact_phrase_beats_scattered_words(svc):
    hits = svc.search("守护绿水青山")["hits"]
    assert hits[0]["kind"] == "passage" and "守护绿水青山" in hits[0]["text"]
