"""Backup and restore of a library home.

A backup is one .zip holding a consistent snapshot of the store (SQLite's online backup API, so
it can be taken while the web app is serving and editors are writing), the original files that
snapshot references, and the home's settings files, with a manifest of SHA-256 checksums. The
search index is not included: it is derived, and ``restore`` rebuilds it.

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
from dataclasses import dataclass
from pathlib import Path

from .db import SCHEMA_VERSION
from .errors import StoreError, UsageError
from .home import Home
from .originals import sha256_file
from .pack import safe_member_name

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


def backup(home: Home, out: Path, *, no_secrets: bool = False) -> BackupReport:
    """Back ``home`` up into the .zip ``out`` (mode 0600). ``no_secrets``: leave out the secret
    key and the password hashes (accounts then need a new password after a restore)."""
    t0 = time.perf_counter()
    if not home.db_path.is_file():
        raise UsageError(f"{home.path} 中没有资料库，无法备份。", "请用 --home 指定资料库目录。")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    files: dict[str, str] = {}
    missing: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        snap = Path(tmp) / "library.sqlite3"
        _snapshot(home.db_path, snap)
        if no_secrets:
            _without_secrets(snap)
        con = sqlite3.connect(snap)
        shas = sorted(
            {
                r[0]
                for r in con.execute("SELECT sha256 FROM versions UNION SELECT sha256 FROM drafts")
            }
        )
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
                if p.is_file():
                    z.write(p, f"config/{name}")
                    files[f"config/{name}"] = sha256_file(p)
            for sha in shas:
                p = home.originals_path / sha[:2] / sha
                if not p.is_file():
                    missing.append(sha)
                    continue
                # originals are immutable and named by their hash: copying them after the
                # snapshot is consistent; they are mostly compressed already, so store them
                z.write(p, f"originals/{sha[:2]}/{sha}", compress_type=zipfile.ZIP_STORED)
                files[f"originals/{sha[:2]}/{sha}"] = sha
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "schema_version": schema,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "documents": documents,
                "originals": len(shas) - len(missing),
                "missing_originals": missing,
                "secrets": not no_secrets,
                "files": files,
            }
            z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    os.replace(part, out)
    return BackupReport(
        out,
        documents,
        len(shas) - len(missing),
        out.stat().st_size,
        time.perf_counter() - t0,
        missing,
        not no_secrets,
    )


def restore(archive: Path, home: Home) -> dict:
    """Restore a backup into an empty home. Verifies every checksum before writing anything
    final; the database and the secret key get mode 0600. Returns the manifest, with
    ``notes``: what the person restoring must know (Chinese sentences), e.g. that a new secret
    key was generated and which accounts need a new password (a backup made without
    secrets)."""
    archive = Path(archive)
    if home.db_path.exists():
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
        notes: list[str] = []
        key = home.path / "secret_key"
        if not key.exists() and not os.environ.get("LECTURELIB_SECRET_KEY"):
            with _private_file(key) as f:
                f.write((secrets.token_hex(32) + "\n").encode("ascii"))
            notes.append(
                "备份中不含密钥（secret_key），已生成新的密钥：备份前的登录会话全部失效，"
                "所有人需要重新登录。"
            )
        locked = _accounts_without_password(stage / "library.sqlite3")
        os.replace(stage / "library.sqlite3", home.db_path)
        os.chmod(home.db_path, PRIVATE)
    if locked:
        notes.append(
            f"备份中不含密码：以下 {len(locked)} 个账号需要设置新密码才能登录："
            + "、".join(locked)
            + "。请运行 lecturelib --home "
            + f"{home.path} user passwd 用户名（先为管理员设置，之后管理员也可以在"
            "网页“账号”页面为其他人重置密码）。"
        )
    manifest["notes"] = notes
    return manifest


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
