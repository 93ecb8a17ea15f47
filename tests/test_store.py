"""The store is the source of truth: atomic writes, versions, quote de-duplication, trash,
migrations and the index outbox."""

from __future__ import annotations

import sqlite3

import pytest
from stores import any_home, database  # noqa: F401

from library.content import Passage, Quote, Structured
from library.db import SCHEMA_VERSION, connect, current_version, migrate
from library.errors import NotFoundError, UsageError
from library.home import Home
from library.originals import Originals, sha256_bytes
from library.store import IngestItem, Store
from library.users import Users


def make_item(data: bytes, title: str, quotes=(), passages=(), kind="handout", topics=()):
    s = Structured(
        kind=kind,
        title=title,
        quotes=[Quote(text=t, source=src, date=d, seq=i) for i, (t, src, d) in enumerate(quotes)],
        passages=[
            Passage(text=t, heading_path=["一、总论"], page=1, seq=i)
            for i, t in enumerate(passages)
        ],
        headings=[(1, "一、总论", 1)],
    )
    return IngestItem(
        data=data,
        sha256=sha256_bytes(data),
        filename=f"{title}.docx",
        format="docx",
        structured=s,
        title_key=title,
        quote_keys=[t for t, _, _ in quotes],
        doc_topics=[(t, 0.8) for t in topics],
        quote_topics=[[] for _ in quotes],
        audiences=["rural"],
    )


@pytest.fixture
def store(any_home):
    """A store on SQLite, and on PostgreSQL (``stores.any_home``)."""
    st = Store(any_home)
    yield st
    st.close()


def test_new_home_is_migrated_to_latest_schema(tmp_path):
    st = Store(Home.open(tmp_path / "h"))
    assert current_version(st.engine) == SCHEMA_VERSION
    st.close()
    # reopening applies nothing twice
    assert migrate(connect(tmp_path / "h" / "library.sqlite3")) == []


def test_old_schema_is_upgraded_in_place_keeping_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    engine = connect(path)
    from library import db

    saved = db.MIGRATIONS
    try:
        db.MIGRATIONS = saved[:1]
        migrate(engine)
    finally:
        db.MIGRATIONS = saved
    con = sqlite3.connect(path)
    con.execute(
        "INSERT INTO documents (title, title_key, kind, created_at, updated_at) "
        "VALUES ('旧材料', '旧材料', 'handout', 0, 0)"
    )
    con.commit()
    con.close()
    assert migrate(engine) == [v for v, _, _ in saved[1:]]
    con = sqlite3.connect(path)
    assert con.execute("SELECT title FROM documents").fetchone()[0] == "旧材料"
    assert con.execute("SELECT COUNT(*) FROM index_queue").fetchone()[0] == 0


def test_store_file_keeps_original_and_content(store):
    item = make_item(
        b"file-one",
        "乡村振兴讲义",
        passages=["第一段内容", "第二段内容"],
        quotes=[("绿水青山就是金山银山", "在浙江安吉余村考察时", "2005-08-15")],
        topics=["rural-revitalization"],
    )
    r = store.store_file(item)
    doc = store.get_document(r.document_id)
    assert doc["title"] == "乡村振兴讲义"
    assert [p["text"] for p in doc["passages"]] == ["第一段内容", "第二段内容"]
    assert doc["passages"][0]["heading_path"] == ["一、总论"]
    assert doc["quotes"][0]["date"] == "2005-08-15"
    assert [t["topic"] for t in doc["topics"]] == ["rural-revitalization"]
    assert doc["audiences"] == ["rural"]
    assert store.originals.read(item.sha256) == b"file-one"
    assert store.version_by_sha(item.sha256)["document_id"] == r.document_id


def test_same_quote_in_two_documents_is_one_quote_with_two_occurrences(store):
    q = ("民惟邦本，本固邦宁", "《尚书·五子之歌》", None)
    a = store.store_file(make_item(b"a", "甲汇编", quotes=[q], kind="quotes"))
    b = store.store_file(make_item(b"b", "乙汇编", quotes=[q], kind="quotes"))
    qa = store.get_document(a.document_id)["quotes"][0]["id"]
    qb = store.get_document(b.document_id)["quotes"][0]["id"]
    assert qa == qb
    occ = store.get_quote(qa)["occurrences"]
    assert {o["title"] for o in occ} == {"甲汇编", "乙汇编"}
    assert store.counts()["quotes"] == 1


def test_changed_file_with_same_title_becomes_new_version_old_kept(store):
    first = store.store_file(make_item(b"v1", "党课讲稿", passages=["旧的内容"]))
    second = store.store_file(make_item(b"v2", "党课讲稿", passages=["新的内容"]))
    assert second.document_id == first.document_id and second.version_number == 2
    doc = store.get_document(first.document_id)
    assert [v["number"] for v in doc["versions"]] == [1, 2]
    assert [p["text"] for p in doc["passages"]] == ["新的内容"]
    texts = [r["text"] for r in store.records()]
    assert "新的内容" in texts and "旧的内容" not in texts
    assert store.originals.has(sha256_bytes(b"v1"))  # the old file is kept


def test_records_follow_trash_and_restore(store):
    r = store.store_file(make_item(b"x", "案例", passages=["一个案例"]))
    assert any(rec["text"] == "一个案例" for rec in store.records())
    store.set_status(r.document_id, "trashed", actor="t")
    assert not any(rec["text"] == "一个案例" for rec in store.records())
    store.set_status(r.document_id, "active", actor="t")
    assert any(rec["text"] == "一个案例" for rec in store.records())


def test_purge_only_from_trash_and_removes_unshared_originals(store):
    r = store.store_file(make_item(b"gone", "待删", passages=["内容"]))
    with pytest.raises(UsageError):
        store.purge(r.document_id, actor="t")
    store.set_status(r.document_id, "trashed", actor="t")
    store.purge(r.document_id, actor="t")
    with pytest.raises(NotFoundError):
        store.get_document(r.document_id)
    assert not store.originals.has(sha256_bytes(b"gone"))


def test_every_change_is_queued_for_the_index_in_the_same_transaction(store):
    r = store.store_file(make_item(b"q", "问答", passages=["答案"]))
    upto, ids = store.pending_index()
    assert set(ids) == r.touched and upto > 0
    store.clear_pending(upto)
    assert store.pending_index() == (0, [])
    store.update_document(r.document_id, actor="editor", kind="case")
    assert set(store.pending_index()[1]) == r.touched


def test_failed_store_changes_nothing(store):
    before = store.counts()
    bad = make_item(b"bad", "坏材料", passages=["x"])
    bad.audiences = ["nowhere"]
    with pytest.raises(UsageError):
        store.store_file(bad)
    assert store.counts() == before


def test_edits_are_audited(store):
    r = store.store_file(make_item(b"e", "标题", passages=["正文"]))
    store.update_document(r.document_id, actor="王编辑", title="新标题", topics=["ecology"])
    log = store.audit_log()
    assert log[0]["actor"] == "王编辑" and log[0]["action"] == "edit_document"
    assert store.get_document(r.document_id)["topics"][0]["origin"] == "manual"


def test_originals_refuse_paths_outside_their_folder(tmp_path):
    o = Originals(tmp_path)
    for bad in ("../../etc/passwd", "ab/../../x", "", "A" * 64):
        with pytest.raises(NotFoundError):
            o.path_for(bad)


def test_users_hash_passwords_and_count_failures(store):
    users = Users(store)
    users.add("editor1", "secret-pass")
    row = users.get("editor1")
    assert "secret-pass" not in row["password_hash"]
    assert users.authenticate("editor1", "wrong-pass") is None
    assert users.get("editor1")["failed_logins"] == 1
    assert users.authenticate("editor1", "secret-pass")["name"] == "editor1"
    assert users.get("editor1")["failed_logins"] == 0
    users.set_active("editor1", False, actor="admin")
    assert users.authenticate("editor1", "secret-pass") is None
    with pytest.raises(UsageError):
        users.add("x y", "short")


def test_repositories_share_one_unit_of_work_that_rolls_back_as_one(store):
    r = store.store_file(
        make_item(b"uow", "单元讲义", passages=["第一段内容"], quotes=[("民生无小事", None, None)])
    )
    qid = store.get_document(r.document_id)["quotes"][0]["id"]
    head, audits = store.queue_head(), len(store.audit_log(1000))

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with store.db.transaction():
            store.update_document(r.document_id, actor="t", title="改过的标题")
            store.update_quote(qid, actor="t", source="某次讲话")
            store.audit_trail.write("t", "note", None, {"x": 1})
            # inside the unit of work every repository sees its own writes
            assert store.documents.row(r.document_id)["title"] == "改过的标题"
            raise Boom
    assert store.get_document(r.document_id)["title"] == "单元讲义"
    assert store.get_quote(qid)["source"] is None
    assert store.queue_head() == head and len(store.audit_log(1000)) == audits

    with store.db.transaction():
        store.update_document(r.document_id, actor="t", title="改过的标题")
        store.update_quote(qid, actor="t", source="某次讲话")
    assert store.get_document(r.document_id)["title"] == "改过的标题"
    assert store.get_quote(qid)["source"] == "某次讲话"
    assert store.queue_head() > head and len(store.audit_log(1000)) == audits + 2


def test_a_unit_of_work_belongs_to_its_thread(store):
    import threading

    r = store.store_file(make_item(b"thread", "线程讲义", passages=["一段"]))
    seen = []
    with store.db.transaction():
        store.update_document(r.document_id, actor="t", title="未提交的标题")
        t = threading.Thread(
            target=lambda: seen.append(store.documents.row(r.document_id)["title"])
        )
        t.start()
        t.join()
    assert seen == ["线程讲义"]  # another thread reads committed data only
    assert store.documents.row(r.document_id)["title"] == "未提交的标题"


def test_the_facade_exposes_one_repository_per_concern(store):
    from library.store.database import Database

    for name in (
        "documents",
        "quotes",
        "topics",
        "drafts",
        "trash",
        "audit_trail",
        "outbox",
        "index_records",
        "stored_values",
        "consistency",
        "users",
    ):
        assert getattr(store, name).db is store.db, name
    assert isinstance(store.db, Database)
