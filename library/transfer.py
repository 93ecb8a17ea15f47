"""Copying a library's store between databases: the embedded SQLite one and PostgreSQL
(``lecturelib migrate --to …``, and backup/restore in PostgreSQL mode).

A logical copy: the store's tables in dependency order, row for row with their ids, then each
id counter set to where the source's was (ids are never given out again: a purged document's
id stays purged in the copy), and the originals. The recordings (视频/音频) are not rows:
:func:`copy_media` streams each between the two storages (the originals folder; PostgreSQL's
``media_chunks``), its hash checked. The target must be empty; its schema is made
by the same Alembic revisions as any new library. Rows are copied in one transaction of the
target (a copy interrupted half-way leaves the target empty), then counted again on both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import MetaData, Table, text
from sqlalchemy.engine import Connection, Engine

from .errors import NotFoundError, StoreError, UsageError
from .store import mediafiles

# the store's tables, parents before children (documents.current_version_id is a plain column)
TABLES = (
    "documents",
    "versions",
    "headings",
    "passages",
    "quotes",
    "occurrences",
    "document_topics",
    "quote_topics",
    "document_audiences",
    "audit_log",
    "settings",
    "index_queue",
    "users",
    "drafts",
    "tombstones",
)
# the id column of each table with a counter (SQLite AUTOINCREMENT or a PostgreSQL sequence)
COUNTERS = {
    "documents": "id",
    "versions": "id",
    "headings": "id",
    "passages": "id",
    "quotes": "id",
    "occurrences": "id",
    "audit_log": "id",
    "index_queue": "seq",
    "users": "id",
    "drafts": "id",
    "tombstones": "id",
}
BATCH = 1000

Progress = Callable[[int, int], None]


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    originals: int = 0
    missing: list[str] = field(default_factory=list)  # referenced, but not in the source

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def counts(conn: Connection) -> dict[str, int]:
    return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in TABLES}


def referenced(conn: Connection) -> list[str]:
    """Hashes of every ordinary original a version or a draft needs (a recording's poster
    frame and transcript file too; not the recordings themselves: :func:`referenced_media`)."""
    shas = {
        r[0]
        for r in conn.execute(text("SELECT sha256 FROM versions UNION SELECT sha256 FROM drafts"))
    }
    media, small = mediafiles.referenced(conn)
    return sorted((shas | small) - media.keys())


def referenced_media(conn: Connection) -> dict[str, str]:
    """The recordings (视频/音频) the versions need: sha256 → title."""
    return mediafiles.referenced(conn)[0]


def check_empty(engine: Engine, what: str) -> None:
    """Refuse a target that already holds a library (any row in any store table)."""
    with engine.connect() as conn:
        full = {t: n for t, n in counts(conn).items() if n}
    if full:
        raise UsageError(
            f"目标{what}不是空的（已有 {full.get('documents', 0)} 份材料、"
            f"共 {sum(full.values())} 行数据），为避免覆盖，迁移已取消。",
            "请指定一个新建的空数据库或空目录。",
        )


def counters(conn: Connection) -> dict[str, int]:
    """The last id each counter gave out (purged ids included)."""
    out: dict[str, int] = {}
    if conn.dialect.name == "sqlite":
        seq = dict(conn.execute(text("SELECT name, seq FROM sqlite_sequence")).all())
        for table, col in COUNTERS.items():
            top = conn.execute(text(f"SELECT COALESCE(MAX({col}), 0) FROM {table}")).scalar()
            out[table] = max(int(seq.get(table) or 0), int(top))
        return out
    for table, col in COUNTERS.items():
        name = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table, "c": col})
        name = name.scalar()
        top = conn.execute(text(f"SELECT COALESCE(MAX({col}), 0) FROM {table}")).scalar()
        last = 0
        if name:
            value, called = conn.execute(text(f"SELECT last_value, is_called FROM {name}")).one()
            last = value if called else value - 1
        out[table] = max(int(last), int(top))
    return out


def set_counters(conn: Connection, values: dict[str, int]) -> None:
    """Make each counter give out ids after ``values`` (never an id the source gave out)."""
    if conn.dialect.name == "sqlite":
        for table, last in values.items():
            conn.execute(text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table})
            conn.execute(
                text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :v)"),
                {"t": table, "v": last},
            )
        return
    for table, last in values.items():
        if last > 0:
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence(:t, :c), :v, true)"),
                {"t": table, "c": COUNTERS[table], "v": last},
            )


def copy_tables(src: Connection, dst: Connection, progress: Progress | None = None) -> dict:
    """Copy every store table from ``src`` into the empty tables of ``dst`` (inside the
    caller's transaction on ``dst``), with the id counters; returns rows per table."""
    want = counts(src)
    total = sum(want.values())
    meta = MetaData()
    done = 0
    for name in TABLES:
        table = Table(name, meta, autoload_with=dst)
        cols = [c.name for c in table.columns]
        have = {c for c in src.execute(text(f"SELECT * FROM {name} WHERE 1 = 0")).keys()}
        shared = [c for c in cols if c in have]
        key = COUNTERS.get(name) or shared[0]
        rows = src.execute(text(f"SELECT {', '.join(shared)} FROM {name} ORDER BY {key}"))
        while batch := rows.fetchmany(BATCH):
            dst.execute(table.insert(), [dict(zip(shared, r, strict=True)) for r in batch])
            done += len(batch)
            if progress:
                progress(done, total)
    set_counters(dst, counters(src))
    return want


def verify_rows(src: Connection, dst: Connection) -> dict[str, int]:
    """Row counts of both sides; raises StoreError naming the tables that differ."""
    a, b = counts(src), counts(dst)
    bad = [f"{t}（{a[t]} → {b[t]}）" for t in TABLES if a[t] != b[t]]
    if bad:
        raise StoreError("复制后行数不一致：" + "、".join(bad), "目标数据库中的内容不可用。")
    return a


def copy_originals(
    shas: Iterable[str],
    read: Callable[[str], bytes | None],
    put: Callable[[bytes, str], object],
    progress: Progress | None = None,
) -> tuple[int, list[str]]:
    """Copy originals one at a time (each may be large); returns (copied, missing)."""
    shas = list(shas)
    copied, missing = 0, []
    for n, sha in enumerate(shas, 1):
        data = read(sha)
        if data is None:
            missing.append(sha)
        else:
            put(data, sha)
            copied += 1
        if progress:
            progress(n, len(shas))
    return copied, missing


def copy_media(
    media: dict[str, str],
    read: Callable[[str], Iterable[bytes]],
    size: Callable[[str], int],
    target: mediafiles.MediaFiles,
    progress: Progress | None = None,
) -> tuple[int, int, list[str]]:
    """Copy the recordings ``media`` (sha256 → title) one at a time, block by block (``read``:
    a stream of blocks, NotFoundError when the source has none; ``size``: their lengths, for
    the progress), each hash checked as it is written. ``progress(MB done, MB in all)``, at
    most about a hundred times. Returns (copied, bytes, hashes missing in the source); raises
    UsageError naming a damaged one."""
    sizes = {sha: 0 for sha in media}
    copied, done_bytes, missing = 0, 0, []
    total_mb = max(1, sum(size(sha) for sha in media) >> 20) if progress else 1
    step = max(1, total_mb // 100)
    shown = -1

    def moved(n: int) -> None:
        nonlocal shown
        mb = (done_bytes + n) >> 20
        if progress and mb // step != shown:
            shown = mb // step
            progress(min(mb, total_mb), total_mb)

    for sha, title in sorted(media.items(), key=lambda kv: (kv[1], kv[0])):
        try:
            sizes[sha] = target.put_blocks(sha, read(sha), moved)
        except NotFoundError:
            missing.append(sha)
            continue
        except mediafiles.MediaDamaged as e:
            raise UsageError(
                f"录像/录音《{title}》的文件已损坏（校验和不符），迁移已取消。",
                "请先运行 lecturelib check 查看，从备份恢复该文件或彻底删除该材料后再迁移。",
            ) from e
        copied += 1
        done_bytes += sizes[sha]
    if progress:
        progress(total_mb, total_mb)
    return copied, done_bytes, missing


__all__ = [
    "TABLES",
    "COUNTERS",
    "CopyReport",
    "counts",
    "referenced",
    "check_empty",
    "counters",
    "set_counters",
    "copy_tables",
    "verify_rows",
    "copy_originals",
    "copy_media",
    "referenced_media",
]
