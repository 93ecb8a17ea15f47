"""One citation, rendered one way (issue 9, observation 2): the same quote through every
surface — result card, quote page, 复制, basket .docx, pack site, pack compilation, CLI text,
CLI JSON and the JSON API — carries the same house-style citation, speaker first."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile

import docx
import pytest
from conftest import _build_app, make_docx, post

from cli import main as cli
from indexer.app.export import export_topic

# each test runs on SQLite + Whoosh and on PostgreSQL (store and search; tests/conftest.py)
pytestmark = pytest.mark.both_databases

QUOTES = [
    ("h", "生态文明金句汇编"),
    ("h", "一、绿水青山"),
    ("p", "1. 绿水青山就是金山银山。"),
    ("p", "——习近平在浙江安吉余村考察时提出（2005年8月15日）"),
]
WANT = "习近平在浙江安吉余村考察时提出（2005年8月15日）"
LINE = "——" + WANT


@pytest.fixture(scope="module")
def app(tmp_path_factory, module_database_settings):
    src = tmp_path_factory.mktemp("src")
    app = _build_app(
        tmp_path_factory.mktemp("home") / "home",
        [make_docx(src / "生态文明金句汇编.docx", QUOTES)],
        module_database_settings or None,
    )
    yield app
    app.extensions["lecturelib"].close()


@pytest.fixture(scope="module")
def quote(app):
    q = app.extensions["lecturelib"].search("绿水青山就是金山银山", kind="quote")["hits"][0]
    assert q["speaker"] == "习近平" and "习近平" not in q["source"]  # the hard case
    return q


def test_store_keeps_speaker_apart_from_the_occasion(quote):
    assert quote["citation"] == WANT


def test_web_card_quote_page_and_copy(app, quote):
    c = app.test_client()
    card = html.unescape(c.get("/search?q=绿水青山就是金山银山").get_data(as_text=True))
    assert LINE in card
    assert f"“绿水青山就是金山银山。” {LINE}" in card  # data-copy
    page = html.unescape(c.get(f"/quotes/{quote['id'][2:]}").get_data(as_text=True))
    assert LINE in page and f"“绿水青山就是金山银山。” {LINE}" in page


def test_json_api(app):
    res = app.test_client().get("/api/search?q=绿水青山就是金山银山&kind=quote").get_json()
    assert res["hits"][0]["citation"] == WANT


def test_basket_docx(app, quote):
    items = [{"id": quote["id"], "kind": "quote", "name": quote["text"]}]
    r = post(
        app.test_client(),
        "/basket/export",
        {"items": json.dumps(items, ensure_ascii=False), "title": "稿"},
    )
    assert r.status_code == 200
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(r.data)).paragraphs)
    assert WANT in text


def test_pack_site_and_compilation(app, tmp_path):
    svc = app.extensions["lecturelib"].svc
    topic = svc.store.list_documents()[0]["topics"][0]
    out = tmp_path / "p.zip"
    export_topic(svc, topic, out)
    with zipfile.ZipFile(out) as z:
        data = z.read("assets/data.js").decode("utf-8")
        (tmp_path / "c.docx").write_bytes(z.read("compilation.docx"))
        quotes = [json.loads(x) for x in z.read("data/quotes.jsonl").decode().splitlines()]
    site = json.loads(data[len("window.PACK = ") :].rstrip().rstrip(";"))
    assert [r["s"] for r in site["records"] if r["k"] == "quote"] == [WANT]
    assert quotes[0]["citation"] == WANT
    texts = [p.text for p in docx.Document(str(tmp_path / "c.docx")).paragraphs]
    assert LINE in texts


def test_cli_text_and_json(app, capsys):
    home = str(app.extensions["lecturelib"].svc.home.path)
    cli.main(["--home", home, "search", "绿水青山就是金山银山", "--kind", "quote"])
    out = capsys.readouterr().out
    assert LINE in out
    cli.main(["--home", home, "search", "绿水青山就是金山银山", "--kind", "quote", "--json"])
    res = json.loads(capsys.readouterr().out)
    assert res["hits"][0]["citation"] == WANT
    doc_id = app.extensions["lecturelib"].svc.store.list_documents()[0]["id"]
    cli.main(["--home", home, "show", str(doc_id)])
    assert WANT in re.sub(r"\s+", "", capsys.readouterr().out)
