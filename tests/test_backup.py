"""Backup while the library is in use, restore into an empty home, same search results."""

from __future__ import annotations

import json
import threading
import zipfile

import pytest
from builders import HANDOUT_DOC, QUOTES_DOC, make_docx

from cli.main import main
from indexer.app.service import LibraryService
from library.backup import backup, restore
from library.errors import StoreError, UsageError
from library.home import Home

QUERIES = ["金山银山", "产业兴旺", "乡村振兴", "奋斗目标", "村民"]


def results(svc):
    return {q: [(h["kind"], h["text"]) for h in svc.search(q, limit=20)["hits"]] for q in QUERIES}


@pytest.fixture
def library(tmp_path):
    make_docx(tmp_path / "in" / "q.docx", QUOTES_DOC)
    make_docx(tmp_path / "in" / "h.docx", HANDOUT_DOC)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "settings.json").write_text('{"library_name": "测试素材库"}', "utf-8")
    svc = LibraryService(tmp_path / "home")
    svc.ingest([tmp_path / "in"])
    yield svc, tmp_path
    svc.close()


def test_restore_into_empty_home_gives_same_search_results(library, capsys):
    svc, tmp = library
    want = results(svc)
    assert all(want.values())
    assert main(["--home", str(tmp / "home"), "backup", "-o", str(tmp / "b.zip")]) == 0
    assert main(["--home", str(tmp / "new"), "restore", str(tmp / "b.zip")]) == 0
    out = capsys.readouterr().out
    assert "已备份" in out and "已恢复备份" in out
    other = LibraryService(tmp / "new")
    try:
        assert results(other) == want
        assert other.home.settings["library_name"] == "测试素材库"
        assert other.check() == []
    finally:
        other.close()


def test_backup_is_consistent_while_editors_write(library):
    svc, tmp = library
    stop = threading.Event()
    errors = []

    def write():
        n = 0
        while not stop.is_set():
            try:
                svc.store.audit("editor", "ping", None, n=n)
                n += 1
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

    t = threading.Thread(target=write)
    t.start()
    try:
        rep = backup(svc.home, tmp / "live.zip")
    finally:
        stop.set()
        t.join()
    assert not errors and rep.documents == 2 and rep.originals == 2
    target = Home.open(tmp / "restored")
    restore(tmp / "live.zip", target)
    import sqlite3

    con = sqlite3.connect(target.db_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_restore_refuses_a_non_empty_home_and_a_damaged_backup(library):
    svc, tmp = library
    backup(svc.home, tmp / "b.zip")
    with pytest.raises(UsageError) as e:
        restore(tmp / "b.zip", svc.home)
    assert "已有资料库" in str(e.value)
    damaged = tmp / "damaged.zip"
    with zipfile.ZipFile(tmp / "b.zip") as z, zipfile.ZipFile(damaged, "w") as w:
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename.startswith("originals/"):
                data = data[:-1] + b"!"
            w.writestr(info.filename, data)
    target = Home.open(tmp / "t2")
    with pytest.raises(StoreError) as e:
        restore(damaged, target)
    assert "校验和不符" in str(e.value)
    assert not target.db_path.exists()
    m = json.loads(zipfile.ZipFile(tmp / "b.zip").read("manifest.json"))
    assert m["documents"] == 2 and "library.sqlite3" in m["files"]
    # a path with no file there is not called a damaged backup
    with pytest.raises(UsageError) as e:
        restore(tmp / "没有这个文件.zip", Home.open(tmp / "t3"))
    assert "找不到备份文件" in str(e.value) and "损坏" not in str(e.value)


# -- issue 15, part 3: secrets stay secret ---------------------------------------------------------


def mode(path) -> int:
    import os
    import stat

    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def with_secrets(library):
    """The library with a secret key (0600, as the web app writes it) and two accounts."""
    import os

    from library.users import Users

    svc, tmp = library
    key = svc.home.path / "secret_key"
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("a" * 64 + "\n")
    Users(svc.store).add("guanli", "admin-pass-1", role="admin", actor="test")
    Users(svc.store).add("bianji", "editor-pass-1", role="editor", actor="test")
    return svc, tmp


def test_backup_is_written_0600_and_restore_keeps_secrets_0600(with_secrets):
    import os

    svc, tmp = with_secrets
    old = os.umask(0o022)
    try:
        rep = backup(svc.home, tmp / "b.zip")
        assert mode(rep.path) == 0o600
        target = Home.open(tmp / "restored")
        restore(tmp / "b.zip", target)
    finally:
        os.umask(old)
    assert mode(target.path / "secret_key") == 0o600
    assert mode(target.db_path) == 0o600
    assert (target.path / "secret_key").read_text().strip() == "a" * 64


def test_backup_without_secrets_leaves_out_the_key_and_the_password_hashes(with_secrets):
    from library.users import Users

    svc, tmp = with_secrets
    rep = backup(svc.home, tmp / "open.zip", no_secrets=True)
    assert mode(rep.path) == 0o600
    with zipfile.ZipFile(rep.path) as z:
        names = z.namelist()
        manifest = json.loads(z.read("manifest.json"))
        db = z.read("library.sqlite3")
    assert "config/secret_key" not in names and "config/settings.json" in names
    assert manifest["secrets"] is False
    assert b"scrypt$" not in db  # not even in free pages
    target = Home.open(tmp / "restored")
    m = restore(rep.path, target)
    key = target.path / "secret_key"
    assert key.is_file() and mode(key) == 0o600 and len(key.read_text().strip()) == 64
    assert key.read_text().strip() != "a" * 64
    notes = "\n".join(m["notes"])
    assert "已生成新的密钥" in notes
    assert "guanli" in notes and "bianji" in notes and "user passwd" in notes
    from library.store import Store

    st = Store(target)
    try:
        u = Users(st)
        assert u.authenticate("guanli", "admin-pass-1") is None
        u.set_password("guanli", "new-admin-pass-1", actor="cli")
        assert u.authenticate("guanli", "new-admin-pass-1") is not None
    finally:
        st.close()


def test_a_full_backup_restores_without_notes(with_secrets):
    svc, tmp = with_secrets
    backup(svc.home, tmp / "b.zip")
    m = restore(tmp / "b.zip", Home.open(tmp / "restored"))
    assert m["notes"] == [] and m.get("secrets", True) is True


def _with_manifest(src, dest, **changes):
    """A copy of the backup ``src`` whose manifest has ``changes``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "manifest.json":
                manifest = json.loads(data)
                manifest.update(changes)
                data = json.dumps(manifest, ensure_ascii=False).encode("utf-8")
            zout.writestr(item, data)
    return dest


def test_a_backup_from_a_newer_schema_is_refused_and_nothing_is_restored(library):
    from library.db import SCHEMA_VERSION

    svc, tmp = library
    backup(svc.home, tmp / "b.zip")
    with zipfile.ZipFile(tmp / "b.zip") as z:
        assert json.loads(z.read("manifest.json"))["schema_version"] == SCHEMA_VERSION
    newer = _with_manifest(tmp / "b.zip", tmp / "newer.zip", schema_version=SCHEMA_VERSION + 1)
    target = Home.open(tmp / "target")
    with pytest.raises(StoreError) as e:
        restore(newer, target)
    assert "更新版本" in str(e.value) and f"第 {SCHEMA_VERSION + 1} 版" in str(e.value)
    assert "升级" in e.value.hint
    assert not target.db_path.exists() and not target.originals_path.exists()


def test_a_backup_of_a_library_from_before_alembic_restores_and_upgrades(tmp_path):
    """A home whose database was made by the hand-written migrations (schema 5), backed up
    without being opened by this version, restores and opens at the current revision."""
    import sqlite3
    from pathlib import Path

    from library.db import HEAD_REVISION, stored_revision
    from library.store import Store

    old = Home.open(tmp_path / "old")
    con = sqlite3.connect(old.db_path)
    con.executescript(
        (Path(__file__).parent / "data" / "legacy" / "library_schema5.sql").read_text(
            encoding="utf-8"
        )
    )
    con.close()
    report = backup(old, tmp_path / "old.zip")
    with zipfile.ZipFile(tmp_path / "old.zip") as z:
        assert json.loads(z.read("manifest.json"))["schema_version"] == 5
    assert report.documents == 1
    new = Home.open(tmp_path / "new")
    restore(tmp_path / "old.zip", new)
    store = Store(new)
    try:
        assert stored_revision(store.engine) == HEAD_REVISION
        assert [d["title"] for d in store.list_documents()] == ["乡村振兴讲义"]
    finally:
        store.close()
