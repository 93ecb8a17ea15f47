"""Media files (视频/音频, up to gigabytes) kept content-addressed like every original, but
never read into memory whole.

* An SQLite library keeps them where its originals are (``originals/ab/abcdef…``): copied from
  the upload's temporary file in 1 MB chunks (temp file + rename), served from there.
* A PostgreSQL store keeps them in the database, table ``media_chunks`` (sha256, seq, data):
  4 MB a row, so that no single value is large and every node can serve every file. A node
  serves a file from its own copy (``cache/originals/ab/abcdef…``), assembled from the chunks
  on first use, one chunk at a time.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from ..originals import Originals, sha256_file
from .database import Database

COPY_CHUNK = 1 << 20
DB_CHUNK = 4 << 20


class MediaFiles:
    def __init__(self, db: Database, originals: Originals):
        self.db = db
        self.originals = originals  # its path_for(sha) is where a file (or its copy) lives

    def put_file(self, src: Path, sha: str | None = None) -> str:
        """Keep the file at ``src`` (hash computed in chunks when not given); idempotent."""
        sha = sha or sha256_file(src)
        dest = self.originals.path_for(sha)
        if self.db.postgres:
            if self.has(sha):
                return sha
            with self.db.transaction(), open(src, "rb") as f:
                seq = 0
                while block := f.read(DB_CHUNK):
                    self.db.execute(
                        "INSERT INTO media_chunks (sha256, seq, data) VALUES (:s, :n, :d) "
                        "ON CONFLICT (sha256, seq) DO NOTHING",
                        {"s": sha, "n": seq, "d": block},
                    )
                    seq += 1
            return sha
        if dest.is_file() and dest.stat().st_size == Path(src).stat().st_size:
            return sha
        self._copy(src, dest)
        return sha

    @staticmethod
    def _copy(src: Path, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as f:
                while block := f.read(COPY_CHUNK):
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def has(self, sha: str) -> bool:
        if self.db.postgres:
            return (
                self.db.one("SELECT 1 AS x FROM media_chunks WHERE sha256 = :s LIMIT 1", s=sha)
                is not None
            )
        return self.originals.has(sha)

    def path(self, sha: str) -> Path:
        """A file on this machine holding the media (missing when the library has none)."""
        dest = self.originals.path_for(sha)
        if not self.db.postgres or dest.is_file():
            return dest
        n = self.db.scalar("SELECT COUNT(*) FROM media_chunks WHERE sha256 = :s", s=sha)
        if not n:
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        h = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out:
                for seq in range(n):
                    block = bytes(
                        self.db.scalar(
                            "SELECT data FROM media_chunks WHERE sha256 = :s AND seq = :n",
                            s=sha,
                            n=seq,
                        )
                    )
                    h.update(block)
                    out.write(block)
            if h.hexdigest() != sha:
                raise OSError(f"media {sha[:12]}… in the database does not match its hash")
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return dest

    def remove(self, sha: str) -> None:
        if self.db.postgres:
            self.db.execute("DELETE FROM media_chunks WHERE sha256 = :s", {"s": sha})
        self.originals.path_for(sha).unlink(missing_ok=True)

    def all(self) -> set[str]:
        if self.db.postgres:
            return {r["sha256"] for r in self.db.rows("SELECT DISTINCT sha256 FROM media_chunks")}
        return set()  # on SQLite they are among the originals


__all__ = ["MediaFiles"]
