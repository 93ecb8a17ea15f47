"""Issue 15, part 1: ids are forever. No id of a document, version, quote, passage, user or
draft is given out twice (AUTOINCREMENT, added by migration 5 with a table rebuild); a basket
item, a shared link or an audit row that points at something purged says so (“该内容已被永久删除”)
instead of showing something else; audit rows keep the title they had."""

from __future__ import annotations

import html
import io
import json
import re
import sqlite3

import docx
import pytest
from builders import TRAD_QUOTES_DOC as TRAD
from conftest import ADMIN, HANDOUT, QUOTES, _build_app, login, make_docx, post, text
from stores import any_home, database, home_on  # noqa: F401

from library import db
from library.db import connect, migrate
from library.store import Store

PURGED = "该内容已被永久删除"

OTHER = [
    ("h", "法治建设金句选编"),
    ("h", "一、法治"),
    ("p", "1. 法律是治国之重器，良法是善治之前提。"),
    ("p", "——习近平在党的十八届四中全会第二次全体会议上的讲话（2014年10月23日）"),
    ("p", "2. 奉法者强则国强，奉法者弱则国弱。"),
    ("p", "——《韩非子·有度》"),
]


@pytest.fixture
def app(request, tmp_path, database):
    """The web app over a library on SQLite, and on PostgreSQL (``stores.database``)."""
    src = tmp_path / "src"
    files = [
        make_docx(src / "生态文明金句汇编.docx", QUOTES),
        make_docx(src / "乡村振兴讲义.docx", HANDOUT),
        make_docx(src / "传统文化金句.docx", TRAD),
    ]
    a = _build_app(home_on(request, tmp_path / "home", database), files)
    yield a
    a.extensions["lecturelib"].close()


def lib(app):
    return app.extensions["lecturelib"]


def trad_doc(app) -> dict:
    return next(d for d in lib(app).svc.store.list_documents() if "传统文化" in d["title"])


def purge_trad_and_publish_other(app, tmp_path) -> tuple[dict, dict]:
    """Purge the newest document (it holds the highest ids), then store another one."""
    svc = lib(app).svc
    doc = svc.store.get_document(trad_doc(app)["id"])
    svc.trash(doc["id"], actor="test")
    svc.purge(doc["id"], actor="test")
    results = svc.ingest([make_docx(tmp_path / "new" / "法治金句.docx", OTHER)], actor="test")
    assert not [r for r in results if r.failed]
    return doc, svc.store.get_document(results[0].document_id)


def test_no_id_of_a_purged_document_comes_back(app, tmp_path):
    old, new = purge_trad_and_publish_other(app, tmp_path)
    assert new["id"] > old["id"]
    assert new["version"]["id"] > old["version"]["id"]
    assert min(q["id"] for q in new["quotes"]) > max(q["id"] for q in old["quotes"])
    store = lib(app).svc.store
    # passages: purge a handout with passages, store another
    hand = next(d for d in store.list_documents() if d["kind"] == "handout")
    hdoc = store.get_document(hand["id"])
    lib(app).svc.trash(hand["id"], actor="test")
    lib(app).svc.purge(hand["id"], actor="test")
    r = lib(app).svc.ingest(
        [make_docx(tmp_path / "new2" / "另一份讲义.docx", [("t", "另一份讲义")] + HANDOUT[1:])],
        actor="test",
    )
    again = store.get_document(r[0].document_id)
    assert min(p["id"] for p in again["passages"]) > max(p["id"] for p in hdoc["passages"])


def test_a_published_draft_id_is_never_a_new_draft(any_home):
    store = Store(any_home)
    try:
        first = store.save_draft("bianji", "a.txt", "a" * 64, b"a", {"prepared": {}})
        store.delete_draft(first)
        second = store.save_draft("bianji", "b.txt", "b" * 64, b"b", {"prepared": {}})
        assert second > first
    finally:
        store.close()


def test_a_shared_quote_link_to_a_purged_quote_says_so(app, tmp_path):
    old, new = purge_trad_and_publish_other(app, tmp_path)
    c = app.test_client()
    for q in old["quotes"]:
        r = c.get(f"/quotes/{q['id']}")
        page = text(r)
        assert r.status_code == 404, (q, page[:300])
        assert PURGED in page
        assert not any(n["text"] in page for n in new["quotes"])
    r = c.get(f"/documents/{old['id']}")
    assert r.status_code == 404 and PURGED in text(r) and "传统文化金句" in text(r)
    r = c.get(f"/documents/{old['id']}/download")
    assert r.status_code == 404 and PURGED in text(r)
    # an id that never existed is a plain “not found”
    r = c.get("/quotes/99999")
    assert r.status_code == 404 and PURGED not in text(r)


def test_a_basket_item_that_was_purged_is_named_not_replaced(app, tmp_path):
    store = lib(app).svc.store
    old_doc = store.get_document(trad_doc(app)["id"])
    gone = old_doc["quotes"][-1]
    keep = store.get_document(
        next(d["id"] for d in store.list_documents() if "生态" in d["title"])
    )["quotes"][0]
    purge_trad_and_publish_other(app, tmp_path)
    c = app.test_client()
    info = c.get(f"/basket/items?ids=q:{keep['id']},q:{gone['id']}").get_json()
    assert [i["id"] for i in info["items"]] == [f"q:{keep['id']}"]
    assert info["missing"] == [f"q:{gone['id']}"] and info["purged"] == [f"q:{gone['id']}"]
    items = [
        {"id": f"q:{keep['id']}", "kind": "quote", "name": keep["text"]},
        {"id": f"q:{gone['id']}", "kind": "quote", "name": gone["text"]},
    ]
    r = post(c, "/basket/export", {"items": json.dumps(items, ensure_ascii=False), "title": "测试"})
    assert r.status_code == 200
    body = "\n".join(p.text for p in docx.Document(io.BytesIO(r.data)).paragraphs)
    assert PURGED in body and gone["text"] in body
    assert "法律是治国之重器" not in body and "奉法者强" not in body


def sentences(page: str) -> list[tuple[str, str]]:
    items = re.findall(
        r'<li class="doc-row audit-log__item"[^>]*>\s*<span>(.*?)</span>(.*?)</li>', page, re.S
    )
    return [(html.unescape(s), rest) for s, rest in items]


def test_audit_rows_keep_their_title_and_say_when_it_was_purged(app, tmp_path):
    doc = trad_doc(app)
    svc = lib(app).svc
    svc.update_document(doc["id"], actor="test", title="传统文化金句（修订）")
    old, new = purge_trad_and_publish_other(app, tmp_path)
    a = app.test_client()
    login(a, ADMIN)
    rows = sentences(text(a.get("/admin/audit")))
    about_old = [(s, rest) for s, rest in rows if "传统文化金句" in s]
    # imported as 中华优秀传统文化金句, renamed, trashed, purged: four rows, none about the new one
    assert len(about_old) == 4, rows
    assert any(
        f"导入了材料《{old_title}》" in s
        for s, _ in about_old
        for old_title in ["中华优秀传统文化金句"]
    ), about_old
    assert all(PURGED in rest and 'href="/documents/' not in rest for _, rest in about_old)
    new_rows = [(s, rest) for s, rest in rows if new["title"] in s]
    assert new_rows and all(f'href="/documents/{new["id"]}"' in rest for _, rest in new_rows)


def test_upgrading_a_schema_4_database_keeps_data_and_stops_reuse(tmp_path):
    path = tmp_path / "old.sqlite3"
    engine = connect(path)
    saved = db.MIGRATIONS
    try:
        db.MIGRATIONS = [m for m in saved if m[0] <= 4]
        assert migrate(engine) == [1, 2, 3, 4]
    finally:
        db.MIGRATIONS = saved
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=ON")
    con.execute(
        "INSERT INTO documents (id, title, title_key, kind, created_at, updated_at) "
        "VALUES (3, '旧材料', '旧材料', 'handout', 0, 0)"
    )
    con.execute(
        "INSERT INTO versions (id, document_id, number, sha256, filename, format, size, "
        "status, created_at) VALUES (5, 3, 1, 'abc', 'a.docx', 'docx', 1, 'ok', 0)"
    )
    con.execute("UPDATE documents SET current_version_id = 5")
    con.execute("INSERT INTO passages (version_id, seq, text) VALUES (5, 0, '第一段')")
    con.execute(
        "INSERT INTO quotes (id, text, text_key, created_at, updated_at) "
        "VALUES (4, '金句', '金句', 0, 0)"
    )
    con.execute("INSERT INTO occurrences (quote_id, version_id, seq) VALUES (4, 5, 0)")
    con.execute(
        "INSERT INTO users (name, password_hash, role, created_at, session_gen) "
        "VALUES ('bianji', 'x', 'editor', 0, 3)"
    )
    # document 9 and quote 12 were purged before the upgrade: the audit log still names them
    con.execute(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES "
        "(1, 'cli', 'purge', 'document:9', '{\"title\": \"已删材料\"}')"
    )
    con.execute(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES "
        "(1, 'cli', 'edit_quote', 'quote:12', '{}')"
    )
    con.commit()
    con.close()

    assert migrate(engine) == [v for v, _, _ in saved if v > 4]
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=ON")
    for table in ("documents", "versions", "passages", "quotes", "users", "drafts"):
        sql = con.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        assert "AUTOINCREMENT" in sql, table
    assert con.execute("SELECT title, current_version_id FROM documents").fetchall() == [
        ("旧材料", 5)
    ]
    assert con.execute("SELECT session_gen FROM users").fetchone()[0] == 3
    assert con.execute("SELECT COUNT(*) FROM occurrences").fetchone()[0] == 1
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    # the next ids start above everything the audit log names
    cur = con.execute(
        "INSERT INTO documents (title, title_key, kind, created_at, updated_at) "
        "VALUES ('新材料', '新材料', 'handout', 0, 0)"
    )
    assert cur.lastrowid == 10
    cur = con.execute(
        "INSERT INTO quotes (text, text_key, created_at, updated_at) "
        "VALUES ('新金句', '新金句', 0, 0)"
    )
    assert cur.lastrowid == 13
    # foreign keys still cascade through the rebuilt tables
    con.execute("DELETE FROM documents WHERE id = 3")
    assert con.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 0
    assert con.execute("SELECT COUNT(*) FROM passages").fetchone()[0] == 0
    assert con.execute("SELECT COUNT(*) FROM occurrences").fetchone()[0] == 0
    # what was purged before the upgrade is remembered
    assert con.execute("SELECT record, title FROM tombstones").fetchall() == [
        ("document:9", "已删材料")
    ]
    con.close()
    assert migrate(engine) == []


def test_two_processes_opening_an_old_library_at_once_rebuild_it_once(tmp_path):
    """The rebuild checks, under the write lock, that nobody applied it meanwhile."""
    path = tmp_path / "old.sqlite3"
    saved = db.MIGRATIONS
    try:
        db.MIGRATIONS = [m for m in saved if m[0] <= 4]
        migrate(connect(path))
    finally:
        db.MIGRATIONS = saved
    first, second = connect(path), connect(path)
    from library.db import _rebuild

    version, name, ddl = next(m for m in saved if m[0] == 5)
    assert _rebuild(first, version, name, ddl) is True
    assert _rebuild(second, version, name, ddl) is False
    assert migrate(second) == [v for v, _, _ in saved if v > 5]
    con = sqlite3.connect(path)
    assert (
        con.execute("SELECT COUNT(*) FROM schema_migrations WHERE version = 5").fetchone()[0] == 1
    )
