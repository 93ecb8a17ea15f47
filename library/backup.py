"""Backup and restore of a library home.

A backup is one .zip holding a consistent snapshot of the store (SQLite's online backup API, so
it can be taken while the web app is serving and editors are writing), the original files that
snapshot references, and the home's settings files, with a manifest of SHA-256 checksums. The
search index is not included: it is derived, and ``restore`` rebuilds it.

In PostgreSQL mode the format is the same: the store is copied logically (one repeatable-read
transaction, ``library.transfer``) into the backup's SQLite file, originals come from the
database; ``restore`` into a home whose ``database_url`` names an empty PostgreSQL database
copies the backup into it. A backup of either mode restores into either mode.

Recordings (视频/音频, up to gigabytes) are in the backup like every original
(``originals/ab/abcdef…``, stored uncompressed), streamed into the .zip block by block from the
originals folder or from ``media_chunks`` (PostgreSQL), their hash checked on the way; a
restore puts them where the target mode keeps them (the originals folder, or ``media_chunks``
in 4 MB rows), streamed too. ``backup(..., no_media=True)`` leaves them out (their posters and
transcripts stay in): the report and a restore name the recordings that cannot be played, and
``check`` lists them.

Secrets stay secret: the .zip is written with mode 0600 (it holds the secret key that signs
session cookies and the accounts' password hashes), and ``restore`` writes the database and
``secret_key`` with mode 0600 whatever the umask. ``backup(..., no_secrets=True)`` leaves out the
secret key and blanks every password hash (with SQLite's secure_delete and a VACUUM, so no old
hash survives in a free page); ``restore`` of such a backup generates a new key and says so, and
names the accounts that must be given a new password (``lecturelib user passwd NAME``).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

from .db import SCHEMA_VERSION, connect, connect_url, safe_url, upgrade
from .errors import StoreError, UsageError
from .home import Home
from .originals import sha256_file
from .pack import safe_member_name
from .store import mediafiles

FORMAT = "lecturelib-backup"
FORMAT_VERSION = 1
CONFIG_FILES = ("settings.json", "topics.json", "dictionary.txt", "synonyms.txt", "secret_key")
SECRET_FILES = ("secret_key",)
PRIVATE = 0o600  # backups, the restored database and the secret key


@dataclass
class BackupReport:
    path: Path
    documents: int
    originals: int
    bytes: int
    seconds: float
    missing: list[str]
    secrets: bool = True  # False: made with no_secrets (no key, no password hashes)
    media: int = 0  # recordings (视频/音频) in the backup
    media_bytes: int = 0
    media_left_out: list[str] = field(default_factory=list)  # titles (no_media)
    media_missing: list[str] = field(default_factory=list)  # titles: not in the library
    media_damaged: list[str] = field(default_factory=list)  # titles: hash wrong, left out


def _snapshot(db_path: Path, dest: Path) -> None:
    src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(dest)
        with dst:
            src.backup(dst)
        dst.close()
    finally:
        src.close()


def _without_secrets(db: Path) -> None:
    """Blank every password hash in a snapshot, leaving no trace of them in the file."""
    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA secure_delete=ON")
        with con:
            has_users = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'"
            ).fetchone()
            if has_users:
                con.execute("UPDATE users SET password_hash = ''")
        con.execute("VACUUM")
    finally:
        con.close()


def _private_file(path: Path):
    """A new file that only its owner can read (0600 whatever the umask), open for writing."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    os.fchmod(fd, PRIVATE)
    return os.fdopen(fd, "wb")


def _postgres_snapshot(src: Connection, dest: Path) -> None:
    """A logical copy of a PostgreSQL store into a new SQLite file (the backup's format),
    read from ``src`` (a connection in one repeatable-read transaction: one moment)."""
    from .transfer import copy_tables

    engine = connect(dest)
    try:
        upgrade(engine)
        with engine.begin() as dst:
            copy_tables(src, dst)
    finally:
        engine.dispose()
    con = sqlite3.connect(dest)
    con.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    con.close()


@contextmanager
def _postgres_reading(url: str) -> Iterator[Connection]:
    """A connection to the PostgreSQL store in one repeatable-read, read-only transaction:
    everything read through it is one consistent moment, while nodes keep writing."""
    engine = connect_url(url)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                conn.execute(text("SET TRANSACTION READ ONLY"))
                yield conn
    finally:
        engine.dispose()


def backup(
    home: Home, out: Path, *, no_secrets: bool = False, no_media: bool = False
) -> BackupReport:
    """Back ``home`` up into the .zip ``out`` (mode 0600). ``no_secrets``: leave out the secret
    key and the password hashes (accounts then need a new password after a restore).
    ``no_media``: leave out the recordings' files (视频/音频; the report names them).

    In PostgreSQL mode (``home.database_url``) the backup has the same format: the store is
    copied (a logical copy, one repeatable-read transaction) into the SQLite file of the
    backup, and the originals are read from the database in that same transaction."""
    with ExitStack() as stack:
        if home.database_url:
            pg = stack.enter_context(_postgres_reading(home.database_url))
            return _backup(home, out, no_secrets, pg, no_media)
        if not home.db_path.is_file():
            raise UsageError(
                f"{home.path} 中没有资料库，无法备份。", "请用 --home 指定资料库目录。"
            )
        return _backup(home, out, no_secrets, None, no_media)


def _snapshot_files(snap: Path) -> tuple[list[str], dict[str, str]]:
    """(the ordinary originals the snapshot refers to: versions, drafts, the posters and
    transcript files of recordings; the recordings: sha256 → title)."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{snap}")
    try:
        with engine.connect() as conn:
            shas = {
                r[0]
                for r in conn.execute(
                    text("SELECT sha256 FROM versions UNION SELECT sha256 FROM drafts")
                )
            }
            media, small = mediafiles.referenced(conn)
    finally:
        engine.dispose()
    return sorted((shas | small) - media.keys()), media


def _zip_stream(z: zipfile.ZipFile, member: str, blocks) -> tuple[str, int]:
    """Write ``blocks`` as the stored (uncompressed) member ``member``; (sha256, size)."""
    info = zipfile.ZipInfo(member, time.localtime()[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = PRIVATE << 16
    h = hashlib.sha256()
    size = 0
    with z.open(info, "w", force_zip64=True) as dst:
        for block in blocks:
            h.update(block)
            size += len(block)
            dst.write(block)
    return h.hexdigest(), size


def _backup(
    home: Home, out: Path, no_secrets: bool, pg: Connection | None, no_media: bool = False
) -> BackupReport:
    t0 = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    files: dict[str, str] = {}
    missing: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        snap = Path(tmp) / "library.sqlite3"
        if pg is None:
            _snapshot(home.db_path, snap)
        else:
            _postgres_snapshot(pg, snap)
        if no_secrets:
            _without_secrets(snap)
        shas, media = _snapshot_files(snap)
        report = BackupReport(out, 0, 0, 0, 0.0, missing, not no_secrets)
        con = sqlite3.connect(snap)
        documents = con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        schema = _schema_of(con)
        con.close()
        with (
            _private_file(part) as raw,
            zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as z,
        ):
            z.write(snap, "library.sqlite3")
            files["library.sqlite3"] = sha256_file(snap)
            for name in CONFIG_FILES:
                p = home.path / name
                if no_secrets and name in SECRET_FILES:
                    continue
                if p.is_file() and name == "settings.json":
                    # where the store lives is not the library's: a backup restores anywhere
                    # (and a database URL may hold a password)
                    data = _without_database_url(p.read_bytes())
                    z.writestr(f"config/{name}", data)
                    files[f"config/{name}"] = hashlib.sha256(data).hexdigest()
                elif p.is_file():
                    z.write(p, f"config/{name}")
                    files[f"config/{name}"] = sha256_file(p)
            for sha in shas:
                member = f"originals/{sha[:2]}/{sha}"
                if pg is not None:  # in the snapshot's transaction
                    data = pg.execute(
                        text("SELECT data FROM originals WHERE sha256 = :s"), {"s": sha}
                    ).scalar()
                    if data is None:
                        missing.append(sha)
                        continue
                    z.writestr(member, bytes(data), compress_type=zipfile.ZIP_STORED)
                    files[member] = sha
                    continue
                p = home.originals_path / sha[:2] / sha
                if not p.is_file():
                    missing.append(sha)
                    continue
                # originals are immutable and named by their hash: copying them after the
                # snapshot is consistent; they are mostly compressed already, so store them
                z.write(p, member, compress_type=zipfile.ZIP_STORED)
                files[member] = sha
            _backup_media(home, z, pg, media, no_media, files, report)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "schema_version": schema,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "documents": documents,
                "originals": len(shas) - len(missing),
                "missing_originals": missing,
                "media": report.media,
                "media_bytes": report.media_bytes,
                "media_left_out": [
                    {"sha256": sha, "title": title}
                    for sha, title in sorted(media.items(), key=lambda kv: kv[1])
                    if no_media
                ],
                "missing_media": report.media_missing + report.media_damaged,
                "secrets": not no_secrets,
                "files": files,
            }
            z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    os.replace(part, out)
    report.documents = documents
    report.originals = len(shas) - len(missing)
    report.bytes = out.stat().st_size
    report.seconds = time.perf_counter() - t0
    return report


def _backup_media(
    home: Home,
    z: zipfile.ZipFile,
    pg: Connection | None,
    media: dict[str, str],
    no_media: bool,
    files: dict[str, str],
    report: BackupReport,
) -> None:
    """The recordings into the .zip, streamed block by block (PostgreSQL: chunk by chunk, in
    the snapshot's transaction), each hash checked on the way: a damaged one is left out
    (its member is not in the manifest, so a restore ignores it) and named in the report."""
    for sha, title in sorted(media.items(), key=lambda kv: (kv[1], kv[0])):
        if no_media:
            report.media_left_out.append(title)
            continue
        member = f"originals/{sha[:2]}/{sha}"
        if pg is not None:
            there = mediafiles.chunk_count(pg, sha) > 0
            blocks = mediafiles.read_chunks(pg, sha) if there else None
        else:
            p = home.originals_path / sha[:2] / sha
            there = p.is_file()
            blocks = mediafiles.file_blocks(p, mediafiles.COPY_CHUNK) if there else None
        if blocks is None:
            report.media_missing.append(title)
            continue
        try:
            got, size = _zip_stream(z, member, blocks)
        except mediafiles.MediaDamaged:
            got, size = "", 0
        if got != sha:
            report.media_damaged.append(title)
            continue
        files[member] = sha
        report.media += 1
        report.media_bytes += size


def restore(archive: Path, home: Home) -> dict:
    """Restore a backup into an empty home. Verifies every checksum before writing anything
    final; the database and the secret key get mode 0600. Returns the manifest, with
    ``notes``: what the person restoring must know (Chinese sentences), e.g. that a new secret
    key was generated and which accounts need a new password (a backup made without
    secrets)."""
    archive = Path(archive)
    if not archive.is_file():  # not “damaged”: there is no such file
        raise UsageError(f"找不到备份文件 {archive}。", "请检查路径和文件名后重试。")
    if home.database_url:
        _check_empty_postgres(home.database_url)
    elif home.db_path.exists():
        raise UsageError(
            f"目标目录 {home.path} 中已有资料库，为避免覆盖，恢复已取消。",
            "请指定一个空目录（--home），或先移走现有资料库。",
        )
    try:
        zf = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as e:
        raise StoreError(
            f"备份文件 {archive.name} 无法打开或已损坏。", "请确认备份文件完整。"
        ) from e
    with zf, tempfile.TemporaryDirectory(dir=home.path) as tmp:
        try:
            manifest = json.loads(zf.read("manifest.json"))
        except (KeyError, ValueError, zipfile.BadZipFile, OSError) as e:
            raise StoreError(
                f"{archive.name} 不是 lecturelib 备份文件（缺少或损坏的清单）。"
            ) from e
        if manifest.get("format") != FORMAT or manifest.get("format_version", 99) > FORMAT_VERSION:
            raise StoreError(f"{archive.name} 的备份格式不受支持。", "请升级 lecturelib 后再恢复。")
        schema = manifest.get("schema_version", 0)
        if not isinstance(schema, int) or schema > SCHEMA_VERSION:
            raise StoreError(
                f"该备份来自更新版本的 lecturelib（数据库结构第 {schema} 版，"
                f"本程序支持到第 {SCHEMA_VERSION} 版），恢复已取消。",
                "请升级 lecturelib 后再恢复。",
            )
        stage = Path(tmp)
        for name, want in manifest["files"].items():
            if not safe_member_name(name):
                raise StoreError(f"备份中含有不安全的路径“{name}”，已拒绝恢复。")
            dest = stage / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            h = hashlib.sha256()
            try:
                with zf.open(name) as src, _private_file(dest) as f:
                    while chunk := src.read(1 << 20):
                        h.update(chunk)
                        f.write(chunk)
            except (KeyError, zipfile.BadZipFile, OSError, EOFError) as e:
                raise StoreError(f"备份文件中的“{name}”无法读取（备份可能不完整）。") from e
            if h.hexdigest() != want:
                raise StoreError(f"备份文件中的“{name}”校验和不符，备份已损坏，恢复已取消。")
        # everything verified: move into place (originals first, the database last)
        kept = _settings_with_database(home)
        media = _staged_media(stage / "library.sqlite3")
        present = {sha for sha in media if (stage / "originals" / sha[:2] / sha).is_file()}
        manifest["media_restored"] = len(present)
        absent = sorted(
            (title for sha, title in media.items() if sha not in present), key=str.casefold
        )
        if home.database_url:
            _restore_into_postgres(stage, home.database_url, set(media))
            for name in CONFIG_FILES:
                p = stage / "config" / name
                if p.is_file():
                    if name not in SECRET_FILES:
                        os.chmod(p, 0o644)
                    os.replace(p, home.path / name)
            _keep_database_url(home, kept)
            manifest["notes"] = _restore_notes(home, stage / "library.sqlite3", absent)
            return manifest
        for p in sorted((stage / "originals").glob("??/*")):
            target = home.originals_path / p.parent.name / p.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(p, target)
        for name in CONFIG_FILES:
            p = stage / "config" / name
            if p.is_file():
                if name not in SECRET_FILES:
                    os.chmod(p, 0o644)
                os.replace(p, home.path / name)
        _keep_database_url(home, kept)
        notes = _restore_notes(home, stage / "library.sqlite3", absent)
        os.replace(stage / "library.sqlite3", home.db_path)
        os.chmod(home.db_path, PRIVATE)
    manifest["notes"] = notes
    return manifest


def _staged_media(db: Path) -> dict[str, str]:
    """The recordings a restored database refers to: sha256 → title (none in a backup from
    before recordings existed)."""
    con = sqlite3.connect(db)
    try:
        columns = {r[1] for r in con.execute("PRAGMA table_info(versions)")}
        if "media" not in columns:
            return {}
        rows = con.execute(
            "SELECT v.sha256, COALESCE(d.title, '') FROM versions v "
            "LEFT JOIN documents d ON d.id = v.document_id "
            "WHERE v.media IS NOT NULL ORDER BY v.id"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, str] = {}
    for sha, title in rows:
        out.setdefault(sha, title)
    return out


def _restore_notes(home: Home, db: Path, media_absent: Sequence[str] = ()) -> list[str]:
    """What the person restoring must know; makes a new secret key when the backup had none;
    names the recordings whose files were not in the backup."""
    notes: list[str] = []
    if media_absent:
        notes.append(
            f"备份中没有以下 {len(media_absent)} 段录像/录音的文件（备份时用了 --no-media，"
            "或文件当时已缺失）：恢复后它们可以检索、可以看文稿，但无法播放："
            + "、".join(f"《{t}》" for t in media_absent)
            + "。请从含录像/录音文件的备份恢复，或把这些材料彻底删除后重新导入原文件；"
            "lecturelib check 会列出它们。"
        )
    key = home.path / "secret_key"
    if not key.exists() and not os.environ.get("LECTURELIB_SECRET_KEY"):
        with _private_file(key) as f:
            f.write((secrets.token_hex(32) + "\n").encode("ascii"))
        notes.append(
            "备份中不含密钥（secret_key），已生成新的密钥：备份前的登录会话全部失效，"
            "所有人需要重新登录。"
        )
    locked = _accounts_without_password(db)
    if locked:
        notes.append(
            f"备份中不含密码：以下 {len(locked)} 个账号需要设置新密码才能登录："
            + "、".join(locked)
            + "。请运行 lecturelib --home "
            + f"{home.path} user passwd 用户名（先为管理员设置，之后管理员也可以在"
            "网页“账号”页面为其他人重置密码）。"
        )
    return notes


def _check_empty_postgres(url: str) -> None:
    from .transfer import check_empty

    engine = connect_url(url)
    try:
        upgrade(engine)
        check_empty(engine, f"数据库 {safe_url(url)}")
    finally:
        engine.dispose()


def _restore_into_postgres(stage: Path, url: str, media: Collection[str] = ()) -> None:
    """The verified backup in ``stage`` into the (empty) PostgreSQL store at ``url``: its
    database brought to this schema first, then rows and originals in one transaction; the
    recordings (``media``: their hashes) into ``media_chunks``, 4 MB a row, streamed from the
    staged file."""
    from .originals import ensure_table
    from .transfer import copy_tables, verify_rows

    staged = connect(stage / "library.sqlite3")
    target = connect_url(url)
    try:
        upgrade(staged)  # a backup from an older schema
        with staged.connect() as src, target.begin() as dst:
            copy_tables(src, dst)
            ensure_table(dst)
            for p in sorted((stage / "originals").glob("??/*")):
                if p.name in media:
                    mediafiles.write_chunks(dst, p.name, mediafiles.file_blocks(p))
                    continue
                dst.execute(
                    text(
                        "INSERT INTO originals (sha256, size, data, created_at) "
                        "VALUES (:s, :n, :d, :t) ON CONFLICT (sha256) DO NOTHING"
                    ),
                    {"s": p.name, "n": p.stat().st_size, "d": p.read_bytes(), "t": time.time()},
                )
            verify_rows(src, dst)
    finally:
        staged.dispose()
        target.dispose()


def _settings_with_database(home: Home) -> str | None:
    """The database_url the home's own settings.json names (kept across a restore)."""
    path = home.path / "settings.json"
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("database_url")
    except (OSError, ValueError, AttributeError):
        return None
    return value or None


def _keep_database_url(home: Home, url: str | None) -> None:
    """The restored settings.json names the database the home named before the restore (or
    none), whatever the backed-up one said: a restore never points a home at another
    library's database."""
    path = home.path / "settings.json"
    if not path.is_file():
        if url:
            path.write_text(json.dumps({"database_url": url}, indent=2), encoding="utf-8")
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # the home reports a broken file when it is opened
    if not isinstance(data, dict) or data.get("database_url") == url:
        return
    if url:
        data["database_url"] = url
    else:
        data.pop("database_url", None)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def _without_database_url(raw: bytes) -> bytes:
    """settings.json without its database_url (unchanged when it has none or is not JSON)."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return raw
    if not isinstance(data, dict) or "database_url" not in data:
        return raw
    data.pop("database_url")
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def _schema_of(con: sqlite3.Connection) -> int:
    """The schema number of a snapshot (its Alembic revision, else its last hand-written
    migration: a library not opened since before Alembic); see library.db."""
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "alembic_version" in tables:
        return int(con.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    if "schema_migrations" in tables:
        return con.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]
    return 0


def _accounts_without_password(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    try:
        has_users = con.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'"
        ).fetchone()
        if not has_users:
            return []
        # admins first: one of them has to be given a password on the command line
        return [
            r[0]
            for r in con.execute(
                "SELECT name FROM users WHERE password_hash = '' AND active = 1 "
                "ORDER BY role = 'admin' DESC, name"
            )
        ]
    finally:
        con.close()


__all__ = ["backup", "restore", "BackupReport"]
