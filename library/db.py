"""The SQLite database behind the store, and how its schema is brought up to date.

SQLAlchemy 2 gives us the engine, pooling and transactions, so the same code can run on
PostgreSQL later. Schema changes are Alembic revisions (``library/migrations``), applied by
:func:`upgrade` when a library is opened. Their ids are the schema's number (``0005``,
``0006`` …), so that opening an up-to-date library compares one stored string with
``HEAD_REVISION`` and never loads Alembic.

Before Alembic, the schema was migrated by hand: ``MIGRATIONS`` below (1–5, SQLite DDL, recorded
in ``schema_migrations``). They stay, frozen, for libraries made by older versions: such a
library is brought to schema 5 by :func:`migrate`, then stamped with Alembic's baseline, which
is schema 5. Never add to them: write an Alembic revision.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from .errors import StoreError

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "initial schema",
        """
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    title_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    date TEXT,
    source TEXT,
    current_version_id INTEGER,
    topics_manual INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX ix_documents_title_key ON documents(title_key);
CREATE INDEX ix_documents_status ON documents(status);
CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    filename TEXT NOT NULL,
    format TEXT NOT NULL,
    size INTEGER NOT NULL,
    pages INTEGER,
    chars INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    warnings TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL,
    UNIQUE (document_id, number)
);
CREATE UNIQUE INDEX ux_versions_sha256 ON versions(sha256);
CREATE TABLE headings (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    level INTEGER NOT NULL,
    text TEXT NOT NULL,
    page INTEGER
);
CREATE INDEX ix_headings_version ON headings(version_id, seq);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL DEFAULT 'passage',
    text TEXT NOT NULL,
    question TEXT,
    heading_path TEXT NOT NULL DEFAULT '[]',
    page INTEGER
);
CREATE INDEX ix_passages_version ON passages(version_id, seq);
CREATE TABLE quotes (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    text_key TEXT NOT NULL,
    source TEXT,
    date TEXT,
    speaker TEXT,
    theme TEXT,
    note TEXT,
    topics_manual INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE UNIQUE INDEX ux_quotes_text_key ON quotes(text_key);
CREATE TABLE occurrences (
    id INTEGER PRIMARY KEY,
    quote_id INTEGER NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    page INTEGER,
    theme TEXT,
    source TEXT,
    date TEXT
);
CREATE INDEX ix_occurrences_quote ON occurrences(quote_id);
CREATE INDEX ix_occurrences_version ON occurrences(version_id);
CREATE TABLE document_topics (
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    score REAL NOT NULL,
    origin TEXT NOT NULL,
    PRIMARY KEY (document_id, topic)
);
CREATE TABLE quote_topics (
    quote_id INTEGER NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    score REAL NOT NULL,
    origin TEXT NOT NULL,
    PRIMARY KEY (quote_id, topic)
);
CREATE TABLE document_audiences (
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    audience TEXT NOT NULL,
    PRIMARY KEY (document_id, audience)
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
""",
    ),
    (
        2,
        "index outbox",
        """
CREATE TABLE index_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL
);
""",
    ),
    (
        3,
        "users and upload drafts",
        """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'editor',
    active INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    last_failed_at REAL
);
CREATE TABLE drafts (
    id INTEGER PRIMARY KEY,
    actor TEXT NOT NULL,
    created_at REAL NOT NULL,
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    payload TEXT NOT NULL
);
""",
    ),
    # bumped on logout, password change and disable: every session cookie of the account that
    # carries an older generation is over (web.security)
    (
        4,
        "session generation",
        """
ALTER TABLE users ADD COLUMN session_gen INTEGER NOT NULL DEFAULT 0
""",
    ),
    # Ids are forever: a purged document's id, its versions', passages' and quotes' ids, and
    # the ids of published or discarded drafts are never given out again (a shared link, a
    # basket item or an audit row would otherwise show something else). SQLite needs
    # AUTOINCREMENT for that, which only a table rebuild can add (REBUILDS: run with foreign
    # keys off, checked afterwards). The counters start above every id the audit log names,
    # so ids purged before this migration are not reused either. ``tombstones`` remembers what
    # was purged (and what it was called), so a link to it can say so.
    (
        5,
        "ids are never reused",
        """
CREATE TABLE documents_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    title_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    date TEXT,
    source TEXT,
    current_version_id INTEGER,
    topics_manual INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
INSERT INTO documents_new (id, title, title_key, kind, status, date, source, current_version_id,
    topics_manual, created_at, updated_at)
    SELECT id, title, title_key, kind, status, date, source, current_version_id, topics_manual,
    created_at, updated_at FROM documents;
DROP TABLE documents;
ALTER TABLE documents_new RENAME TO documents;
CREATE INDEX ix_documents_title_key ON documents(title_key);
CREATE INDEX ix_documents_status ON documents(status);
CREATE TABLE versions_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    filename TEXT NOT NULL,
    format TEXT NOT NULL,
    size INTEGER NOT NULL,
    pages INTEGER,
    chars INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    warnings TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL,
    UNIQUE (document_id, number)
);
INSERT INTO versions_new (id, document_id, number, sha256, filename, format, size, pages, chars,
    status, warnings, created_at)
    SELECT id, document_id, number, sha256, filename, format, size, pages, chars, status,
    warnings, created_at FROM versions;
DROP TABLE versions;
ALTER TABLE versions_new RENAME TO versions;
CREATE UNIQUE INDEX ux_versions_sha256 ON versions(sha256);
CREATE TABLE passages_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL DEFAULT 'passage',
    text TEXT NOT NULL,
    question TEXT,
    heading_path TEXT NOT NULL DEFAULT '[]',
    page INTEGER
);
INSERT INTO passages_new (id, version_id, seq, kind, text, question, heading_path, page)
    SELECT id, version_id, seq, kind, text, question, heading_path, page FROM passages;
DROP TABLE passages;
ALTER TABLE passages_new RENAME TO passages;
CREATE INDEX ix_passages_version ON passages(version_id, seq);
CREATE TABLE quotes_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    text_key TEXT NOT NULL,
    source TEXT,
    date TEXT,
    speaker TEXT,
    theme TEXT,
    note TEXT,
    topics_manual INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
INSERT INTO quotes_new (id, text, text_key, source, date, speaker, theme, note, topics_manual,
    created_at, updated_at)
    SELECT id, text, text_key, source, date, speaker, theme, note, topics_manual, created_at,
    updated_at FROM quotes;
DROP TABLE quotes;
ALTER TABLE quotes_new RENAME TO quotes;
CREATE UNIQUE INDEX ux_quotes_text_key ON quotes(text_key);
CREATE TABLE users_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'editor',
    active INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    last_failed_at REAL,
    session_gen INTEGER NOT NULL DEFAULT 0,
    session_end TEXT
);
INSERT INTO users_new (id, name, password_hash, role, active, created_at, failed_logins,
    last_failed_at, session_gen)
    SELECT id, name, password_hash, role, active, created_at, failed_logins, last_failed_at,
    session_gen FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE TABLE drafts_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor TEXT NOT NULL,
    created_at REAL NOT NULL,
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    payload TEXT NOT NULL
);
INSERT INTO drafts_new (id, actor, created_at, filename, sha256, payload)
    SELECT id, actor, created_at, filename, sha256, payload FROM drafts;
DROP TABLE drafts;
ALTER TABLE drafts_new RENAME TO drafts;
CREATE TABLE tombstones (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record TEXT NOT NULL,
    title TEXT,
    at REAL NOT NULL,
    actor TEXT
);
CREATE INDEX ix_tombstones_record ON tombstones(record, at);
INSERT INTO tombstones (record, title, at, actor)
    SELECT target, json_extract(detail, '$.title'), at, actor FROM audit_log
    WHERE action = 'purge' AND target LIKE 'document:%' AND json_valid(detail);
INSERT INTO sqlite_sequence (name, seq)
    SELECT t.name, 0 FROM (SELECT 'documents' AS name UNION ALL SELECT 'versions'
    UNION ALL SELECT 'passages' UNION ALL SELECT 'quotes' UNION ALL SELECT 'users'
    UNION ALL SELECT 'drafts' UNION ALL SELECT 'tombstones') t
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence s WHERE s.name = t.name);
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(CAST(substr(target, 10) AS INTEGER))
    FROM audit_log WHERE target GLOB 'document:[0-9]*'), 0)) WHERE name = 'documents';
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(CAST(substr(target, 7) AS INTEGER))
    FROM audit_log WHERE target GLOB 'quote:[0-9]*'), 0)) WHERE name = 'quotes';
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(CAST(substr(target, 7) AS INTEGER))
    FROM audit_log WHERE target GLOB 'draft:[0-9]*'), 0)) WHERE name = 'drafts'
""",
    ),
]

# migrations that rebuild tables: run with foreign keys off (dropping a parent table would
# otherwise cascade into its children), then checked with PRAGMA foreign_key_check
REBUILDS = {5}

# the last hand-written migration; Alembic's baseline revision is this schema
LEGACY_VERSION = 5
# the newest revision in library/migrations/versions (tests/test_migrations.py checks it):
# bump it with every new revision
HEAD_REVISION = "0008"
# the schema's number: what a backup records, and what a newer backup is refused by
SCHEMA_VERSION = int(HEAD_REVISION)


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def connect(path: Path) -> Engine:
    """The store's engine. The database holds password hashes: it is created 0600 (SQLite gives
    its -wal and -shm files the database file's mode)."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    try:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass
    engine = create_engine(f"sqlite:///{path}", future=True)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def postgres_url(url: str) -> str:
    """``url`` for SQLAlchemy with psycopg 3 (``postgresql://`` and ``postgres://`` name it)."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise StoreError(f"不支持的数据库地址：{safe_url(url)}", "请使用 postgresql://… 形式的地址。")


def safe_url(url: str) -> str:
    """A database URL fit to print: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: say nothing of it
        return "（无法识别的地址）"


def connect_url(url: str) -> Engine:
    """An engine on the PostgreSQL database at ``url`` (psycopg 3). Connections are checked
    before use (a node outlives a database restart) and recycled after an hour."""
    try:
        import psycopg  # noqa: F401
    except ImportError as e:
        raise StoreError(
            "使用 PostgreSQL 需要 psycopg 3。", "请安装：pip install 'lecturelib[postgres]'"
        ) from e
    return create_engine(
        postgres_url(url),
        pool_pre_ping=True,
        pool_recycle=3600,
        pool_size=5,
        max_overflow=20,
        connect_args={"connect_timeout": 10, "application_name": "lecturelib"},
    )


def open_engine(database_url: str | None, path: Path) -> Engine:
    """The store's engine: PostgreSQL at ``database_url``, else SQLite at ``path``. The
    PostgreSQL server must be reachable (a clear message when it is not)."""
    if not database_url:
        return connect(path)
    engine = connect_url(database_url)
    try:
        with engine.connect():
            pass
    except DBAPIError as e:
        engine.dispose()
        raise StoreError(
            f"无法连接数据库 {safe_url(database_url)}：{str(e.orig).strip()[:200]}",
            "请检查数据库地址（--database 或 LECTURELIB_DATABASE_URL）、网络和账号密码。",
        ) from e
    return engine


def stored_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at; None before Alembic (or for a new file)."""
    with engine.connect() as conn:
        try:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except DBAPIError:
            return None


def legacy_version(engine: Engine) -> int:
    """The last hand-written migration applied (0: none, or the library is under Alembic;
    always 0 off SQLite, where lecturelib never ran them)."""
    if engine.dialect.name != "sqlite":
        return 0
    with engine.connect() as conn:
        has = conn.execute(
            text("SELECT name FROM sqlite_master WHERE type='table' AND name='schema_migrations'")
        ).first()
        if not has:
            return 0
        return conn.execute(
            text("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        ).scalar()


def current_version(engine: Engine) -> int:
    """The schema's number: its Alembic revision's, else the last hand-written migration's."""
    rev = stored_revision(engine)
    if rev is not None:
        return int(rev)
    return legacy_version(engine)


def upgrade(engine: Engine) -> list[str]:
    """Bring the database to ``HEAD_REVISION`` (Alembic, see ``library.migrations``); returns
    the revisions applied. An up-to-date database costs one query: Alembic is loaded only when
    there is something to do. A database from a newer lecturelib is refused."""
    rev = stored_revision(engine)
    if rev == HEAD_REVISION:
        return []
    if rev is not None and rev.isdigit() and int(rev) > SCHEMA_VERSION:
        raise StoreError(
            f"资料库来自更新版本的 lecturelib（数据库结构第 {int(rev)} 版，"
            f"本程序支持到第 {SCHEMA_VERSION} 版）。",
            "请升级 lecturelib 后再打开。",
        )
    from .migrations import upgrade as run_migrations

    return run_migrations(engine)


def _statements(ddl: str) -> list[str]:
    return [s.strip() for s in ddl.split(";") if s.strip()]


def _rebuild(engine: Engine, version: int, name: str, ddl: str) -> bool:
    """Apply a table-rebuilding migration in one transaction with foreign keys off (SQLite's
    documented procedure for schema changes ALTER TABLE cannot make). Foreign keys are checked
    before the commit: the rebuild copies rows verbatim, so it may not add a violation.
    Returns False when another process applied it first (checked under the write lock)."""
    pooled = engine.raw_connection()
    try:
        raw = pooled.driver_connection
        if raw.in_transaction:
            raw.rollback()
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            before = len(raw.execute("PRAGMA foreign_key_check").fetchall())
            raw.execute("BEGIN IMMEDIATE")
            try:
                if raw.execute(
                    "SELECT 1 FROM schema_migrations WHERE version = ?", (version,)
                ).fetchone():
                    raw.execute("ROLLBACK")
                    return False
                for stmt in _statements(ddl):
                    raw.execute(stmt)
                after = len(raw.execute("PRAGMA foreign_key_check").fetchall())
                if after > before:
                    raise RuntimeError(
                        f"migration {version} would break {after - before} foreign key references"
                    )
                raw.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, time.time()),
                )
                raw.execute("COMMIT")
                return True
            except BaseException:
                if raw.in_transaction:
                    raw.execute("ROLLBACK")
                raise
        finally:
            raw.execute("PRAGMA foreign_keys=ON")
    finally:
        pooled.close()


def migrate(engine: Engine) -> list[int]:
    """Apply pending hand-written migrations (a library from before Alembic); returns the
    versions applied. A library under Alembic has none (see :func:`upgrade`)."""
    applied: list[int] = []
    if stored_revision(engine) is not None:
        return applied
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
    have = legacy_version(engine)
    for version, name, ddl in MIGRATIONS:
        if version <= have:
            continue
        if version in REBUILDS:
            if _rebuild(engine, version, name, ddl):
                applied.append(version)
            continue
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            for stmt in _statements(ddl):
                raw.execute(stmt)
            conn.execute(
                text(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)"
                ),
                {"v": version, "n": name, "t": time.time()},
            )
        applied.append(version)
    return applied


__all__ = [
    "connect",
    "connect_url",
    "open_engine",
    "postgres_url",
    "safe_url",
    "upgrade",
    "migrate",
    "current_version",
    "stored_revision",
    "legacy_version",
    "SCHEMA_VERSION",
    "HEAD_REVISION",
    "LEGACY_VERSION",
    "MIGRATIONS",
    "REBUILDS",
]
