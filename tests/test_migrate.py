"""Moving between modes (issue 12, point 4): ``lecturelib migrate --to postgresql://…`` copies
an embedded library into PostgreSQL and ``--to sqlite:///home`` back, with ids, id counters and
originals, checked; a non-empty target is refused; backup, restore and check work in
PostgreSQL mode, and a backup of one mode restores into the other."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import HANDOUT_DOC, QUOTES_DOC, TRAD_QUOTES_DOC, make_docx

from cli.main import main
from indexer.app.service import LibraryService

pytestmark = pytest.mark.postgres
QUERIES = ["金山银山", "产业兴旺", "乡村振兴", "奋斗目标", "匹夫有责"]


def answers(svc) -> dict:
    svc.ready()  # as serve and the CLI do: a moved library builds its index when first opened
    return {q: sorted(h["text"] for h in svc.search(q, limit=50)["hits"]) for q in QUERIES}


def pg_home(path: Path, url: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "settings.json").write_text(json.dumps({"database_url": url}), "utf-8")
    return path


@pytest.fixture
def embedded(tmp_path):
    """An embedded library: three documents, one of them purged, an editor account."""
    src = tmp_path / "in"
    files = [
        make_docx(src / "q.docx", QUOTES_DOC),
        make_docx(src / "h.docx", HANDOUT_DOC),
        make_docx(src / "t.docx", TRAD_QUOTES_DOC),
    ]
    home = tmp_path / "home"
    (home).mkdir()
    (home / "dictionary.txt").write_text("+产业兴旺\n", "utf-8")
    svc = LibraryService(home)
    svc.ingest(files, actor="test")
    trad = next(d for d in svc.list_documents() if "传统文化" in d["title"])
    svc.trash(trad["id"], actor="test")
    svc.purge(trad["id"], actor="test")
    svc.accounts.add("bianji", "editor-pass-1", actor="test")
    want = {
        "answers": answers(svc),
        "documents": {d["id"]: d["title"] for d in svc.list_documents()},
        "purged": trad["id"],
        "counts": svc.counts(),
    }
    svc.close()
    return home, want


def test_an_embedded_library_moves_to_postgresql_and_back(embedded, pg_url, tmp_path, capsys):
    home, want = embedded
    assert main(["--home", str(home), "migrate", "--to", pg_url]) == 0
    out = capsys.readouterr()
    assert "已迁移到" in out.out and "核对一致" in out.out
    assert "postgres@" in out.out  # the target, without a password

    node = LibraryService(pg_home(tmp_path / "node", pg_url))
    try:
        assert node.store.db.postgres
        # the editors' word lists moved too: a new node has them from the database
        assert (tmp_path / "node" / "dictionary.txt").read_text("utf-8") == "+产业兴旺\n"
        assert "产业兴旺" in node.terms()
        assert {d["id"]: d["title"] for d in node.list_documents()} == want["documents"]
        assert node.counts() == want["counts"]
        assert answers(node) == want["answers"]
        assert node.check() == []
        assert node.tombstone(f"document:{want['purged']}") is not None
        assert node.accounts.authenticate("bianji", "editor-pass-1") is not None
        doc = node.document(min(want["documents"]))
        assert node.original_path(doc["version"]["sha256"]).stat().st_size > 0
        # ids are forever across the move: the next document is not given the purged id
        new = node.ingest([make_docx(tmp_path / "new" / "n.docx", TRAD_QUOTES_DOC)])
        assert new[0].document_id > want["purged"]
    finally:
        node.close()

    back = tmp_path / "back"
    code = main(
        [
            "--database",
            pg_url,
            "--home",
            str(tmp_path / "node"),
            "migrate",
            "--to",
            f"sqlite:///{back}",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert (back / "library.sqlite3").is_file() and (back / "originals").is_dir()
    assert (back / "dictionary.txt").read_text("utf-8") == "+产业兴旺\n"  # the home's files
    assert "database_url" not in (back / "settings.json").read_text("utf-8")
    embedded_again = LibraryService(back)
    try:
        assert not embedded_again.store.db.postgres
        embedded_again.ready()
        assert len(embedded_again.list_documents()) == len(want["documents"]) + 1
        assert embedded_again.check() == []
        r = embedded_again.ingest(
            [make_docx(tmp_path / "new2" / "x.docx", [("h", "又一份讲义")] + HANDOUT_DOC[1:])]
        )
        assert r[0].document_id > new[0].document_id
    finally:
        embedded_again.close()
    import os

    assert "LECTURELIB_DATABASE_URL" not in os.environ  # --database was for that command only


def test_a_non_empty_target_is_refused(embedded, pg_url, capsys):
    home, _ = embedded
    assert main(["--home", str(home), "migrate", "--to", pg_url]) == 0
    capsys.readouterr()
    assert main(["--home", str(home), "migrate", "--to", pg_url]) == 2
    assert "不是空的" in capsys.readouterr().err
    assert main(["--home", str(home), "migrate", "--to", f"sqlite:///{home}"]) == 2
    assert "就是当前资料库" in capsys.readouterr().err


def test_backup_restore_and_check_in_postgresql_mode(
    embedded, pg_url, pg_cluster, tmp_path, capsys
):
    home, want = embedded
    assert main(["--home", str(home), "migrate", "--to", pg_url]) == 0
    node = pg_home(tmp_path / "node", pg_url)
    assert main(["--home", str(node), "reindex"]) == 0  # the moved library's first index
    assert main(["--home", str(node), "check"]) == 0
    assert "检查通过" in capsys.readouterr().out
    # a backup of the PostgreSQL store, in the usual format
    assert main(["--home", str(node), "backup", "-o", str(tmp_path / "pg.zip")]) == 0
    # … restores into an embedded library
    assert main(["--home", str(tmp_path / "embedded"), "restore", str(tmp_path / "pg.zip")]) == 0
    svc = LibraryService(tmp_path / "embedded")
    try:
        assert not svc.store.db.postgres
        assert answers(svc) == want["answers"] and svc.check() == []
    finally:
        svc.close()
    # … and into another (empty) PostgreSQL database
    other = pg_cluster.create_database()
    try:
        assert (
            main(
                [
                    "--database",
                    other,
                    "--home",
                    str(tmp_path / "n2"),
                    "restore",
                    str(tmp_path / "pg.zip"),
                ]
            )
            == 0
        )
        svc = LibraryService(pg_home(tmp_path / "n3", other))
        try:
            assert svc.store.db.postgres
            assert {d["id"]: d["title"] for d in svc.list_documents()} == want["documents"]
            assert answers(svc) == want["answers"] and svc.check() == []
            assert svc.tombstone(f"document:{want['purged']}") is not None
        finally:
            svc.close()
        # a non-empty database is not restored into
        assert (
            main(
                [
                    "--database",
                    other,
                    "--home",
                    str(tmp_path / "n4"),
                    "restore",
                    str(tmp_path / "pg.zip"),
                ]
            )
            == 2
        )
        assert "不是空的" in capsys.readouterr().err
    finally:
        pg_cluster.drop_database(other)
