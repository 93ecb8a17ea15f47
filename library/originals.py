"""Original files, kept content-addressed by SHA-256: under ``<home>/originals/ab/abcdef…``
(:class:`Originals`, the embedded library), or in the store's PostgreSQL database
(:class:`DatabaseOriginals`, table ``originals``), so that no node of a multi-node library
needs a shared disk. Both have the same interface.

Writes are atomic (temp file + rename; one INSERT) and idempotent; reads refuse anything that
is not a well-formed SHA-256, so a download can never leave the originals folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from .errors import NotFoundError

_SHA = re.compile(r"^[0-9a-f]{64}$")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


class Originals:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, sha: str) -> Path:
        if not isinstance(sha, str) or not _SHA.match(sha):
            raise NotFoundError("原始文件编号无效。")
        return self.root / sha[:2] / sha

    def put(self, data: bytes, sha: str | None = None) -> str:
        sha = sha or sha256_bytes(data)
        dest = self.path_for(sha)
        if dest.exists() and dest.stat().st_size == len(data):
            return sha
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def has(self, sha: str) -> bool:
        try:
            return self.path_for(sha).is_file()
        except NotFoundError:
            return False

    def read(self, sha: str) -> bytes:
        p = self.path_for(sha)
        if not p.is_file():
            raise NotFoundError("原始文件不在资料库中。", "请运行 lecturelib check 检查资料库。")
        return p.read_bytes()

    def verify(self, sha: str) -> bool:
        p = self.path_for(sha)
        return p.is_file() and sha256_file(p) == sha

    def all(self) -> set[str]:
        if not self.root.is_dir():
            return set()
        return {p.name for p in self.root.glob("??/*") if _SHA.match(p.name)}

    def remove(self, sha: str) -> None:
        self.path_for(sha).unlink(missing_ok=True)

    def local_path(self, sha: str) -> Path:
        """A file on this machine holding the original (for sending it); it does not exist
        when the original is missing."""
        return self.path_for(sha)


# The originals of a PostgreSQL store: one row per file. Not an Alembic revision: the table
# belongs to this storage backend (as the search index belongs to its engine), and the
# embedded library keeps its originals on disk; created under an advisory lock, so that
# nodes starting at once create it once.
ORIGINALS_DDL = (
    "CREATE TABLE IF NOT EXISTS originals ("
    "sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, data BYTEA NOT NULL, "
    "created_at DOUBLE PRECISION NOT NULL)"
)
ORIGINALS_LOCK = 0x1EC7_0125_0002


def ensure_table(conn) -> None:
    """Create the ``originals`` table on a PostgreSQL connection (inside its transaction)."""
    from sqlalchemy import text

    conn.execute(text(f"SELECT pg_advisory_xact_lock({ORIGINALS_LOCK})"))
    conn.execute(text(ORIGINALS_DDL))
    # the bytes are compressed already (PDF, DOCX …): do not try again
    conn.execute(text("ALTER TABLE originals ALTER COLUMN data SET STORAGE EXTERNAL"))


class DatabaseOriginals(Originals):
    """Originals in the store's PostgreSQL database (``db``: the store's
    ``library.store.database.Database``; a write joins the unit of work open on the thread).
    ``cache`` is a folder of this node where :meth:`local_path` puts a copy to send."""

    def __init__(self, db, cache: Path):
        super().__init__(cache)
        self.db = db
        with db.transaction() as conn:
            ensure_table(conn)

    def put(self, data: bytes, sha: str | None = None) -> str:
        import time

        sha = sha or sha256_bytes(data)
        self.path_for(sha)  # a well-formed hash, or NotFoundError
        self.db.execute(
            "INSERT INTO originals (sha256, size, data, created_at) VALUES (:s, :n, :d, :t) "
            "ON CONFLICT (sha256) DO NOTHING",
            {"s": sha, "n": len(data), "d": data, "t": time.time()},
        )
        return sha

    def has(self, sha: str) -> bool:
        if not isinstance(sha, str) or not _SHA.match(sha):
            return False
        return self.db.one("SELECT 1 AS x FROM originals WHERE sha256 = :s", s=sha) is not None

    def read(self, sha: str) -> bytes:
        self.path_for(sha)
        data = self.db.scalar("SELECT data FROM originals WHERE sha256 = :s", s=sha)
        if data is None:
            raise NotFoundError("原始文件不在资料库中。", "请运行 lecturelib check 检查资料库。")
        return bytes(data)

    def verify(self, sha: str) -> bool:
        """Whether the stored bytes still hash to ``sha`` (computed by the server)."""
        self.path_for(sha)
        return bool(
            self.db.scalar(
                "SELECT encode(sha256(data), 'hex') = sha256 FROM originals WHERE sha256 = :s",
                s=sha,
            )
        )

    def all(self) -> set[str]:
        return {r["sha256"] for r in self.db.rows("SELECT sha256 FROM originals")}

    def remove(self, sha: str) -> None:
        self.db.execute("DELETE FROM originals WHERE sha256 = :s", {"s": sha})
        super().remove(sha)  # and this node's copy

    def local_path(self, sha: str) -> Path:
        """This node's copy of the original (made from the database on first use; originals
        never change, so a copy stays right); missing when the database has none."""
        dest = self.path_for(sha)
        if dest.is_file():
            return dest
        try:
            data = self.read(sha)
        except NotFoundError:
            return dest
        Originals.put(self, data, sha)
        return dest


__all__ = ["Originals", "DatabaseOriginals", "ensure_table", "sha256_bytes", "sha256_file"]
