"""Moving a library between the embedded SQLite store and PostgreSQL (``lecturelib migrate
--to URL``): the store's rows with their ids and id counters, and the originals, copied into an
empty target (``library.transfer``), then checked: row counts on both sides, every original's
checksum on the target. Recordings (视频/音频) go from one storage to the other (the originals
folder ⇄ PostgreSQL's ``media_chunks``, 4 MB a row), streamed block by block with their hash
checked while written, and checked again, read back from the target.

* ``--to postgresql://user:pw@host/db``: the target is an empty PostgreSQL database; the
  library then runs there with ``database_url`` (settings.json, ``$LECTURELIB_DATABASE_URL``
  or ``lecturelib --database URL``) on any number of nodes.
* ``--to sqlite:///path/to/home``: the target is a new home folder (or its
  ``library.sqlite3``): the embedded library, originals under ``originals/``; the home's
  dictionary, synonyms, topics and key files go with it.

The source is read at one moment while it keeps serving: SQLite through its online backup
API, PostgreSQL in one repeatable-read transaction. The search index is not copied: the target
builds its own the first time it is opened (``lecturelib reindex`` does it at once).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.engine import Connection, Engine

from library import transfer
from library.backup import CONFIG_FILES, _postgres_reading, _snapshot
from library.db import connect, connect_url, postgres_url, safe_url, upgrade
from library.errors import NotFoundError, UsageError
from library.originals import DatabaseOriginals, Originals
from library.settings import DATABASE_SCHEMES
from library.store import Store
from library.store.database import Database
from library.store.mediafiles import MediaFiles, read_chunks

# (stage, done, total): stage is "originals", "media" (in MB), "rows" or "verify"
Progress = Callable[[str, int, int], None]


@dataclass
class MigrateReport:
    target: str  # printable: no password
    rows: dict[str, int] = field(default_factory=dict)
    originals: int = 0
    missing: list[str] = field(default_factory=list)
    media: int = 0  # recordings copied
    media_bytes: int = 0
    media_missing: list[str] = field(default_factory=list)  # titles: not in the source
    seconds: float = 0.0
    home: Path | None = None  # the new home (to SQLite)

    @property
    def documents(self) -> int:
        return self.rows.get("documents", 0)


@dataclass
class _Target:
    engine: Engine
    originals: Originals
    label: str
    home: Path | None = None

    @property
    def media(self) -> MediaFiles:
        return MediaFiles(Database(self.engine), self.originals)


def _sqlite_home(url: str) -> Path:
    raw = url[len("sqlite:///") :]
    if not raw:
        raise UsageError("请给出目标资料库目录：sqlite:///路径/到/资料库目录")
    path = Path(raw).expanduser()
    if path.name == "library.sqlite3":
        path = path.parent
    elif path.suffix in (".sqlite3", ".sqlite", ".db"):
        raise UsageError(
            f"内置数据库的文件名必须是 library.sqlite3（现为 {path.name}）。",
            "请给出目标资料库目录：sqlite:///路径/到/资料库目录",
        )
    return path.resolve()


def _open_target(url: str, source: Store) -> _Target:
    if url.startswith(DATABASE_SCHEMES):
        same = make_url(postgres_url(url)).render_as_string(hide_password=False)
        if source.db.postgres and source.engine.url.render_as_string(hide_password=False) == same:
            raise UsageError("目标数据库就是当前资料库所在的数据库。", "请指定另一个空数据库。")
        engine = connect_url(url)
        upgrade(engine)
        transfer.check_empty(engine, f"数据库 {safe_url(url)}")
        db = Database(engine)
        cache = source.home.path / "cache" / "originals"
        return _Target(engine, DatabaseOriginals(db, cache), safe_url(url))
    if url.startswith("sqlite:///"):
        home = _sqlite_home(url)
        if not source.db.postgres and home == source.home.path.resolve():
            raise UsageError("目标目录就是当前资料库。", "请指定另一个空目录。")
        engine = connect(home / "library.sqlite3")
        upgrade(engine)
        transfer.check_empty(engine, f"目录 {home}")
        return _Target(engine, Originals(home / "originals"), str(home), home)
    raise UsageError(
        f"不支持的迁移目标：{safe_url(url)}",
        "请使用 postgresql://用户:密码@主机:端口/数据库 或 sqlite:///路径/到/资料库目录",
    )


@contextmanager
def _source_reading(source: Store) -> Iterator[Connection]:
    """The source store at one moment, while it keeps serving."""
    if source.db.postgres:
        with _postgres_reading(source.home.database_url) as conn:
            yield conn
        return
    with tempfile.TemporaryDirectory() as tmp:
        snap = Path(tmp) / "library.sqlite3"
        _snapshot(source.home.db_path, snap)
        engine = connect(snap)
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            engine.dispose()


def _read(source: Store) -> Callable[[str], bytes | None]:
    def read(sha: str) -> bytes | None:
        try:
            return source.originals.read(sha)
        except NotFoundError:
            return None

    return read


def _copy_config(source: Store, home: Path) -> None:
    """The home's own files go with an embedded target; settings without database_url."""
    for name in CONFIG_FILES + ("speakers.txt",):
        src = source.home.path / name
        if name == "settings.json" or not src.is_file() or (home / name).exists():
            continue
        shutil.copy2(src, home / name)
    settings = source.home.path / "settings.json"
    if settings.is_file() and not (home / "settings.json").exists():
        try:
            data = json.loads(settings.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if isinstance(data, dict):
            data.pop("database_url", None)
            (home / "settings.json").write_text(
                json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8"
            )


def _share_word_lists(source: Store, engine: Engine) -> None:
    """A database target keeps the editors' word lists for every node (``shared_files``):
    without them a moved library lost its own dictionary words and synonym groups."""
    from sqlalchemy import text

    from indexer.app import shared_files

    rows = []
    for name in shared_files.FILES:
        src = source.home.path / name
        if src.is_file():
            rows.append({"k": "file:" + name, "v": src.read_text(encoding="utf-8")})
    if not rows:
        return
    rows.append({"k": shared_files.STAMP, "v": "migrated"})
    with engine.begin() as dst:
        for row in rows:
            dst.execute(
                text(
                    "INSERT INTO settings (key, value) VALUES (:k, :v) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
                ),
                row,
            )


def migrate(source: Store, url: str, progress: Progress | None = None) -> MigrateReport:
    """Copy the library of ``source`` into the empty store at ``url`` and check the copy."""
    t0 = time.perf_counter()
    target = _open_target(url, source)
    report = MigrateReport(target.label, home=target.home)
    target_media = target.media

    def step(stage: str) -> Callable[[int, int], None] | None:
        return (lambda done, total: progress(stage, done, total)) if progress else None

    try:
        with _source_reading(source) as src:
            shas = transfer.referenced(src)
            # originals first (each its own write; an interrupted copy leaves only unreferenced
            # originals, which `check --repair` removes), then every row in one transaction
            report.originals, report.missing = transfer.copy_originals(
                shas, _read(source), target.originals.put, step("originals")
            )
            media = transfer.referenced_media(src)
            report.media, report.media_bytes, absent = transfer.copy_media(
                media,
                # a PostgreSQL source: the chunks as of the moment read
                (lambda sha: read_chunks(src, sha))
                if source.db.postgres
                else source.media_files.blocks,
                source.media_files.size,
                target_media,
                step("media"),
            )
            report.media_missing = [media[sha] for sha in absent]
            with target.engine.begin() as dst:
                transfer.copy_tables(src, dst, step("rows"))
            with target.engine.connect() as dst:
                report.rows = transfer.verify_rows(src, dst)
        verify = step("verify")
        present = [s for s in shas if s not in report.missing]
        for n, sha in enumerate(present, 1):
            if not target.originals.verify(sha):
                raise UsageError(
                    f"原始文件 {sha[:12]}… 复制后校验和不符，迁移的结果不可用。",
                    "请检查目标数据库或磁盘后重新迁移到一个新的空目标。",
                )
            if verify:
                verify(n, len(present))
        copied = {sha: t for sha, t in media.items() if sha not in absent}
        for sha, title in copied.items():  # read back from the target, block by block
            if not target_media.verify(sha):
                raise UsageError(
                    f"录像/录音《{title}》复制后校验和不符，迁移的结果不可用。",
                    "请检查目标数据库或磁盘后重新迁移到一个新的空目标。",
                )
        there = sum(target_media.has(sha) for sha in media)
        if there != report.media:
            raise UsageError(
                f"复制后录像/录音的数目不一致（{report.media} → {there}），迁移的结果不可用。",
                "请检查目标数据库或磁盘后重新迁移到一个新的空目标。",
            )
        if target.home is not None:
            _copy_config(source, target.home)
        else:
            _share_word_lists(source, target.engine)
    finally:
        target.engine.dispose()
    report.seconds = time.perf_counter() - t0
    return report


__all__ = ["migrate", "MigrateReport"]
