"""Backup while the library is in use, restore into an empty home, same search results."""

from __future__ import annotations

import json
import threading
import zipfile

import pytest

from indexer.cli import main
from indexer.service import LibraryService
from library.backup import backup, restore
from library.errors import StoreError, UsageError
from library.home import Home

from builders import HANDOUT_DOC, QUOTES_DOC, make_docx

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
            except Exception as e:   # pragma: no cover - reported below
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
