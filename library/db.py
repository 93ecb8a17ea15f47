"""The SQLite database behind the store, and its versioned schema migrations.

SQLAlchemy 2 gives us the engine, pooling and transactions, so the same code can run on
PostgreSQL later; the DDL below is written for SQLite (the embedded default). Each migration is
applied once, in order, inside a transaction, and recorded in ``schema_migrations``.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "initial schema", """
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
"""),
    (2, "index outbox", """
CREATE TABLE index_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL
);
"""),
    (3, "users and upload drafts", """
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
"""),
    # bumped on logout, password change and disable: every session cookie of the account that
    # carries an older generation is over (web.security)
    (4, "session generation", """
ALTER TABLE users ADD COLUMN session_gen INTEGER NOT NULL DEFAULT 0
"""),
]

SCHEMA_VERSION = MIGRATIONS[-1][0]


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def connect(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", future=True)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def current_version(engine: Engine) -> int:
    with engine.connect() as conn:
        has = conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
        )).first()
        if not has:
            return 0
        return conn.execute(text("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")).scalar()


def migrate(engine: Engine) -> list[int]:
    """Apply pending migrations; returns the versions applied."""
    applied: list[int] = []
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)")
    have = current_version(engine)
    for version, name, ddl in MIGRATIONS:
        if version <= have:
            continue
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            for stmt in [s.strip() for s in ddl.split(";") if s.strip()]:
                raw.execute(stmt)
            conn.execute(text("INSERT INTO schema_migrations (version, name, applied_at) "
                              "VALUES (:v, :n, :t)"), {"v": version, "n": name, "t": time.time()})
        applied.append(version)
    return applied


__all__ = ["connect", "migrate", "current_version", "SCHEMA_VERSION", "MIGRATIONS"]
