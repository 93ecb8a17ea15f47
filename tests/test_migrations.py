"""Schema migrations with Alembic: a new library gets the baseline, a library made before
Alembic upgrades in place keeping its data, a newer one is refused, and opening an up-to-date
library does not load Alembic at all."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from library import db
from library.errors import StoreError
from library.home import Home
from library.store import Store
from library.users import Users

ROOT = Path(__file__).resolve().parents[1]
LEGACY_DUMP = Path(__file__).parent / "data" / "legacy" / "library_schema5.sql"


def legacy_home(tmp_path) -> Home:
    """A home whose database was made by lecturelib before Alembic (schema 5: a document with
    a quote, a purged document, a draft, an editor, a stored value; see the dump)."""
    home = Home.open(tmp_path / "home")
    con = sqlite3.connect(home.db_path)
    con.executescript(LEGACY_DUMP.read_text(encoding="utf-8"))
    con.close()
    return home


def shape(path: Path) -> dict:
    """What SQLite knows about each table: columns, keys, references, indexes, AUTOINCREMENT.
    (A primary key column's NOT NULL is left out: SQLite gives an INTEGER PRIMARY KEY no null
    either way.)"""
    con = sqlite3.connect(path)
    out = {}
    for name, sql in con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
        "AND name NOT IN ('sqlite_sequence', 'alembic_version', "
        "'schema_migrations')"
    ):
        cols = [
            (c[1], c[2], bool(c[3]) and not c[5], c[4], c[5])
            for c in con.execute(f"PRAGMA table_info({name})")
        ]
        refs = sorted(
            (r[2], r[3], r[4], r[6]) for r in con.execute(f"PRAGMA foreign_key_list({name})")
        )
        indexes = sorted(
            (
                ix[1] if not ix[1].startswith("sqlite_autoindex") else "auto",
                ix[2],
                tuple(c[2] for c in con.execute(f"PRAGMA index_info('{ix[1]}')")),
            )
            for ix in con.execute(f"PRAGMA index_list({name})")
        )
        out[name] = {
            "columns": cols,
            "references": refs,
            "indexes": indexes,
            "autoincrement": "AUTOINCREMENT" in sql.upper(),
        }
    con.close()
    return out


def test_head_revision_is_the_newest_revision_and_ids_count_up():
    from library import migrations

    script = migrations.script()
    assert migrations.head() == db.HEAD_REVISION
    for rev in script.walk_revisions():
        assert len(rev.revision) == 4 and rev.revision.isdigit(), rev.revision
        if rev.down_revision is None:
            assert rev.revision == migrations.BASELINE == f"{db.LEGACY_VERSION:04d}"
        else:
            assert int(rev.revision) == int(rev.down_revision) + 1


def revisions() -> list[str]:
    """Every revision id, oldest first (what a new database gets)."""
    from library import migrations

    return [r.revision for r in reversed(list(migrations.script().walk_revisions()))]


def test_the_baseline_is_the_schema_of_the_hand_written_migrations(tmp_path):
    from alembic import command

    from library import migrations

    legacy = tmp_path / "legacy.sqlite3"
    assert db.migrate(db.connect(legacy)) == [1, 2, 3, 4, 5]
    baseline = db.connect(tmp_path / "baseline.sqlite3")
    with baseline.begin() as conn:
        command.upgrade(migrations.config(conn), migrations.BASELINE)
    baseline.dispose()
    want, got = shape(legacy), shape(tmp_path / "baseline.sqlite3")
    assert sorted(got) == sorted(want)
    for table in want:
        assert got[table] == want[table], table
    # and a new library is the legacy schema brought to the newest revision
    store = Store(Home.open(tmp_path / "new"))
    store.close()
    assert revisions()[0] == migrations.BASELINE and revisions()[-1] == db.HEAD_REVISION
    assert db.upgrade(db.connect(legacy)) == revisions()[1:]
    want, got = shape(legacy), shape(tmp_path / "new" / "library.sqlite3")
    assert sorted(got) == sorted(want)
    for table in want:
        assert got[table] == want[table], table


def test_a_library_from_before_alembic_is_upgraded_in_place_keeping_its_data(tmp_path):
    home = legacy_home(tmp_path)
    store = Store(home)
    try:
        assert db.stored_revision(store.engine) == db.HEAD_REVISION
        assert db.current_version(store.engine) == db.SCHEMA_VERSION
        doc = store.get_document(1)
        assert doc["title"] == "乡村振兴讲义" and len(doc["passages"]) == 2
        assert doc["quotes"][0]["text"] == "绿水青山就是金山银山"
        assert doc["audiences"] == ["rural"]
        assert store.tombstone("document:2")["title"] == "待删除的材料"
        assert [d["filename"] for d in store.list_drafts()] == ["草稿.docx"]
        assert Users(store).authenticate("bianji", "secret-123") is not None
        assert store.get_setting("topic_model") == "{}"
        assert {r["action"] for r in store.audit_log()} >= {"ingest", "purge", "user_add"}
        # ids stay never reused across the upgrade: the purged document 2 is not given again
        con = sqlite3.connect(home.db_path)
        cur = con.execute(
            "INSERT INTO documents (title, title_key, kind, created_at, "
            "updated_at) VALUES ('新材料', '新材料', 'handout', 0, 0)"
        )
        assert cur.lastrowid == 3
        con.rollback()
        con.close()
    finally:
        store.close()
    # opening it again changes nothing
    assert db.upgrade(db.connect(home.db_path)) == []


def test_a_library_from_an_older_hand_written_schema_goes_all_the_way(tmp_path, monkeypatch):
    home = Home.open(tmp_path / "home")
    monkeypatch.setattr(db, "MIGRATIONS", [m for m in db.MIGRATIONS if m[0] <= 3])
    db.migrate(db.connect(home.db_path))
    monkeypatch.undo()
    con = sqlite3.connect(home.db_path)
    con.execute(
        "INSERT INTO users (name, password_hash, role, created_at) "
        "VALUES ('bianji', 'x', 'editor', 0)"
    )
    con.commit()
    con.close()
    store = Store(home)
    try:
        assert db.legacy_version(store.engine) == 5
        assert db.stored_revision(store.engine) == db.HEAD_REVISION
        assert Users(store).get("bianji")["session_gen"] == 0
    finally:
        store.close()


def test_a_library_from_a_newer_lecturelib_is_refused(tmp_path):
    home = Home.open(tmp_path / "home")
    Store(home).close()
    con = sqlite3.connect(home.db_path)
    con.execute("UPDATE alembic_version SET version_num = '0099'")
    con.commit()
    con.close()
    with pytest.raises(StoreError) as e:
        Store(home)
    assert "更新版本" in str(e.value) and "第 99 版" in str(e.value)


def test_a_database_that_is_not_a_library_is_refused(tmp_path):
    home = Home.open(tmp_path / "home")
    con = sqlite3.connect(home.db_path)
    con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="不是 lecturelib 资料库"):
        Store(home)


def _run(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


OPEN = """
import sys
from library.home import Home
from library.store import Store
Store(Home.open(sys.argv[1])).close()
print("alembic" in sys.modules)
"""


def test_two_processes_creating_a_library_at_once_migrate_it_once(tmp_path):
    procs = [_run(OPEN, str(tmp_path / "home")) for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    con = sqlite3.connect(tmp_path / "home" / "library.sqlite3")
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [
        (db.HEAD_REVISION,)
    ]


def test_opening_an_up_to_date_library_does_not_load_alembic(tmp_path):
    legacy_home(tmp_path)
    first = _run(OPEN, str(tmp_path / "home"))
    assert first.communicate(timeout=120)[0].strip() == "True"  # it migrated
    again = _run(OPEN, str(tmp_path / "home"))
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert out.strip() == "False"


def test_the_migrations_ship_with_the_package():
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["library"]
    migrations = ROOT / "library" / "migrations"
    shipped = {p for pat in patterns for p in (ROOT / "library").glob(pat)}
    for path in [
        *migrations.glob("versions/*.py"),
        migrations / "script.py.mako",
        migrations / "alembic.ini",
    ]:
        assert path in shipped, path


@pytest.mark.postgres
def test_the_revisions_run_on_postgresql(pg_url, tmp_path):
    """The next issue's PostgreSQL store runs the same revisions: the baseline creates the
    tables a new SQLite library has, times as double precision, and a second run applies
    nothing."""
    from sqlalchemy import create_engine, inspect, text

    Store(Home.open(tmp_path / "home")).close()
    con = sqlite3.connect(tmp_path / "home" / "library.sqlite3")
    want = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    con.close()
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        assert db.upgrade(engine) == revisions()
        assert db.stored_revision(engine) == db.HEAD_REVISION
        assert db.upgrade(engine) == []
        assert set(inspect(engine).get_table_names()) == want - {"sqlite_sequence"}
        with engine.begin() as conn:
            kinds = dict(
                conn.execute(
                    text(
                        "SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_name = 'documents'"
                    )
                ).all()
            )
            assert kinds["created_at"] == "double precision"
            conn.execute(
                text(
                    "INSERT INTO documents (title, title_key, kind, created_at, "
                    "updated_at) VALUES ('甲', '甲', 'handout', 1.7e9, 1.7e9)"
                )
            )
            assert conn.execute(text("SELECT status, created_at FROM documents")).one() == (
                "active",
                1.7e9,
            )
    finally:
        engine.dispose()
