"""What OCR did is kept in columns of its own (revision 0006): ``versions.ocr`` (engine, mean
and per-page confidence) and ``passages.ocr_confidence`` (the confidence of the page a passage
starts on), on SQLite and PostgreSQL; the ``ocr_engine`` setting is typed."""

from __future__ import annotations

import json

import pytest
from stores import any_home, database  # noqa: F401
from test_store import make_item

from library.errors import UsageError
from library.settings import Settings
from library.store import Store


@pytest.fixture
def store(any_home):
    st = Store(any_home)
    yield st
    st.close()


def test_an_ocrd_version_records_its_engine_and_confidence(store):
    item = make_item(b"scan-1", "扫描讲义", passages=["第一页的文字", "第二页的文字"])
    item.structured.passages[1].page = 2
    item.ocr = {
        "engine": "rapidocr",
        "pages": {"1": 0.97, "2": 0.62},
        "confidence": 0.795,
        "low_confidence_pages": [2],
    }
    doc_id = store.store_file(item).document_id
    doc = store.get_document(doc_id)
    assert doc["version"]["ocr"]["engine"] == "rapidocr"
    assert doc["version"]["ocr"]["confidence"] == pytest.approx(0.795)
    assert [p["ocr_confidence"] for p in doc["passages"]] == [
        pytest.approx(0.97),
        pytest.approx(0.62),
    ]
    raw = store.db.scalar("SELECT ocr FROM versions WHERE document_id = :d", d=doc_id)
    assert json.loads(raw)["low_confidence_pages"] == [2]


def test_a_typed_version_has_no_ocr_record(store):
    doc_id = store.store_file(make_item(b"typed", "打字讲义", passages=["文字"])).document_id
    doc = store.get_document(doc_id)
    assert doc["version"]["ocr"] is None
    assert doc["passages"][0]["ocr_confidence"] is None


def test_the_ocr_engine_setting_is_typed_and_checked():
    assert Settings().ocr_engine == "auto"
    assert Settings.from_mapping({"ocr_engine": "Tesseract"}).ocr_engine == "tesseract"
    with pytest.raises(UsageError) as e:
        Settings.from_mapping({"ocr_engine": "abbyy"}, where="设置文件 x")
    assert "ocr_engine" in str(e.value) and "rapidocr" in str(e.value)
