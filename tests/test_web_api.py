"""The JSON API: /api/search is the CLI's `search --json` contract; suggest, documents, quotes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# each test runs on SQLite + Whoosh and on PostgreSQL (store and search; tests/conftest.py)
pytestmark = pytest.mark.both_databases


def test_api_search_returns_exactly_the_service_dict(client, sample_app):
    r = client.get("/api/search?q=绿水青山")
    assert r.status_code == 200 and r.mimetype == "application/json"
    want = sample_app.extensions["lecturelib"].svc.search("绿水青山")
    assert r.get_json() == want
    assert list(r.get_json()) == list(want)  # same key order as the CLI
    hit = r.get_json()["hits"][0]
    for key in (
        "kind",
        "id",
        "text",
        "highlight",
        "document",
        "page",
        "heading",
        "source",
        "date",
        "topics",
        "score",
    ):
        assert key in hit
    assert hit["highlight"] == "<mark>绿水青山</mark>就是金山银山。"


def test_api_search_matches_cli_json(sample_app):
    home = sample_app.config["LECTURELIB_HOME_OBJ"].path
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "--home", str(home), "search", "枫桥", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    c = sample_app.test_client()
    assert c.get("/api/search?q=枫桥").get_json() == json.loads(out.stdout)


def test_api_search_filters_page_and_sort(client):
    data = client.get("/api/search?q=习近平&kind=quote&limit=1&page=2&sort=date").get_json()
    assert data["page"] == 2 and len(data["hits"]) == 1
    assert set(data["facets"]["kind"]) == {"quote"}
    data = client.get("/api/search?q=&topic=乡村振兴").get_json()
    assert data["total"] >= 1


def test_api_search_errors_are_json_in_chinese(client):
    r = client.get("/api/search")
    assert r.status_code == 400 and "请提供检索词" in r.get_json()["error"]["message"]
    r = client.get("/api/search?q=x&limit=abc")
    assert r.status_code == 400 and "整数" in r.get_json()["error"]["message"]
    r = client.get("/api/search?q=x&limit=1000")
    assert r.status_code == 400
    r = client.get("/api/search?q=x&sort=random")
    assert r.status_code == 400 and "排序" in r.get_json()["error"]["message"]
    r = client.get("/api/search?q=绿水&topic=火星")
    assert r.status_code == 400 and "没有名为“火星”的专题" in r.get_json()["error"]["message"]


def test_api_suggest_prefixes(client):
    data = client.get("/api/suggest?q=绿水").get_json()
    texts = [s["text"] for s in data["suggestions"]]
    assert any(t.startswith("绿水") for t in texts)
    assert all(set(s) >= {"text", "kind"} for s in data["suggestions"])
    assert client.get("/api/suggest?q=").get_json()["suggestions"] == []


def test_api_documents_list_and_detail(client):
    data = client.get("/api/documents").get_json()
    assert data["counts"]["documents"] == 3
    titles = {d["title"]: d for d in data["documents"]}
    handout = titles["乡村振兴专题讲义"]
    assert handout["kind"] == "handout" and handout["url"] == f"/documents/{handout['id']}"
    only = client.get("/api/documents?kind=quotes").get_json()["documents"]
    assert [d["kind"] for d in only] == ["quotes"]
    assert client.get("/api/documents?kind=bad").status_code == 400
    assert (
        client.get("/api/documents?topic=乡村振兴").get_json()["documents"][0]["title"]
        == "乡村振兴专题讲义"
    )
    detail = client.get(f"/api/documents/{handout['id']}").get_json()
    assert detail["download"] == f"/documents/{handout['id']}/download"
    assert detail["headings"][1]["text"] == "（一）产业兴旺是重点"
    assert detail["passages"][1]["heading_path"] == [
        "一、为什么要推进乡村振兴",
        "（一）产业兴旺是重点",
    ]
    r = client.get("/api/documents/99999")
    assert r.status_code == 404 and r.get_json()["error"]["message"].startswith("找不到")


def test_api_quote_with_citation_and_occurrences(client):
    qid = client.get("/api/search?q=绿水青山").get_json()["hits"][0]["id"][2:]
    data = client.get(f"/api/quotes/{qid}").get_json()
    # one meaning for "citation" in every JSON: the 出处 in house style; "copy" is what 复制 gives
    assert data["citation"] == "习近平在浙江安吉余村考察时的讲话（2005年8月15日）"
    assert (
        data["copy"]
        == "“绿水青山就是金山银山。” ——习近平在浙江安吉余村考察时的讲话（2005年8月15日）"
    )
    assert data["occurrences"][0]["title"] == "生态文明与初心使命金句汇编"
    assert client.get("/api/quotes/99999").status_code == 404


def test_api_index_status_when_idle(client):
    assert client.get("/api/index-status").get_json()["state"] == "done"
