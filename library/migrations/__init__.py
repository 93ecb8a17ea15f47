"""Schema migrations with Alembic: the revisions in ``versions/`` (shipped with the package),
run when a library is opened (``library.db.upgrade``, which loads this module only when the
database is not at ``library.db.HEAD_REVISION``).

* A new database gets every revision from the baseline (``0005``, the schema of migrations 1–5).
* A database made before Alembic (``schema_migrations``) is brought to schema 5 by the
  hand-written migrations of ``library.db``, then stamped with the baseline, then upgraded.
* Two processes opening a library at once migrate it once: everything runs in one transaction
  that takes SQLite's write lock first (``BEGIN IMMEDIATE``), or on PostgreSQL an advisory lock
  (``pg_advisory_xact_lock``: nodes starting at once), and reads the revision under it.
  On SQLite, foreign keys are off during the migration (a table rebuild must not cascade) and
  checked before the commit: a migration may not add a broken reference.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, pool
from sqlalchemy.engine import Connection, Engine

from .. import db
from ..errors import StoreError

HERE = Path(__file__).resolve().parent
BASELINE = "0005"
# the PostgreSQL advisory lock migrations run under (a constant: "lecturelib schema")
MIGRATION_LOCK = 0x1EC7_0125_0001


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head() -> str:
    return script().get_current_head()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=OFF")
    cur.close()


def _tables(conn: Connection) -> set[str]:
    from sqlalchemy import inspect

    return set(inspect(conn).get_table_names())


def _legacy_version(conn: Connection) -> int:
    return conn.exec_driver_sql("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").scalar()


def upgrade(engine: Engine) -> list[str]:
    """Bring the store's database to the newest revision; returns the revisions applied."""
    if db.stored_revision(engine) is None and db.legacy_version(engine) > 0:
        db.migrate(engine)  # a library from before Alembic: to schema 5
    sqlite = engine.dialect.name == "sqlite"
    mig = create_engine(engine.url, poolclass=pool.NullPool)
    if sqlite:
        event.listen(mig, "connect", _sqlite_pragmas)
    try:
        with mig.connect() as conn:
            if sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, held to the end
                broken = len(conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall())
            else:
                # PostgreSQL: nodes starting at once wait here, one after the other (the lock
                # ends with the transaction); the revision is read under it
                conn.begin()
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            try:
                before = _under_lock(conn)
                command.upgrade(config(conn), "head")
                if sqlite:
                    after = len(conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall())
                    if after > broken:
                        raise StoreError(
                            f"数据库结构升级会破坏 {after - broken} 处引用，已撤销。",
                            "请保留资料库原样并报告此问题。",
                        )
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
    finally:
        mig.dispose()
    applied = [s.revision for s in script().iterate_revisions("head", before)]
    return list(reversed(applied))


def _under_lock(conn: Connection) -> str | None:
    """The revision the database is at (read under the write lock), after stamping a library
    from before Alembic with the baseline."""
    tables = _tables(conn)
    if "alembic_version" in tables:
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    if "schema_migrations" in tables:
        have = _legacy_version(conn)
        if have != db.LEGACY_VERSION:
            raise StoreError(
                f"资料库的数据库结构（第 {have} 版）无法升级。",
                "请用创建它的 lecturelib 版本打开一次，或从备份恢复。",
            )
        command.stamp(config(conn), BASELINE)
        return BASELINE
    if tables - {"sqlite_sequence"}:
        raise StoreError(
            "该数据库文件不是 lecturelib 资料库（缺少版本记录）。", "请检查 --home 指定的目录。"
        )
    return None


__all__ = ["upgrade", "head", "script", "config", "BASELINE"]
