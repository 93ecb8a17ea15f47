"""Media files (视频/音频, up to gigabytes) kept content-addressed like every original, but
never read into memory whole.

* An SQLite library keeps them where its originals are (``originals/ab/abcdef…``): copied from
  the upload's temporary file in 1 MB chunks (temp file + rename), served from there.
* A PostgreSQL store keeps them in the database, table ``media_chunks`` (sha256, seq, data):
  4 MB a row, so that no single value is large and every node can serve every file. A node
  serves a file from its own copy (``cache/originals/ab/abcdef…``), assembled from the chunks
  on first use, one chunk at a time.

Backup, restore, ``check`` and ``migrate`` go through the same few functions: a file is read as
a stream of blocks (:meth:`MediaFiles.blocks`, :func:`read_chunks` on a connection) and written
from one (:meth:`MediaFiles.put_blocks`, :func:`write_chunks`), its hash checked on the way.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from ..errors import NotFoundError, StoreError
from ..originals import Originals, sha256_file
from .database import Database

COPY_CHUNK = 1 << 20
DB_CHUNK = 4 << 20


class MediaDamaged(StoreError):
    """A media file's bytes do not hash to its name."""


# -- what the store's rows say ------------------------------------------------------------------


def media_versions(conn: Connection) -> list[dict]:
    """Every media version: ``sha256`` (the recording), ``title`` (its document's),
    ``document_id`` and ``media`` (the parsed JSON: poster, transcript_sha256 …). None in
    a database from before recordings (a backup of an old library)."""
    if "media" not in {c["name"] for c in inspect(conn).get_columns("versions")}:
        return []
    rows = conn.execute(
        text(
            "SELECT v.sha256, v.document_id, COALESCE(d.title, '') AS title, v.media "
            "FROM versions v LEFT JOIN documents d ON d.id = v.document_id "
            "WHERE v.media IS NOT NULL ORDER BY v.id"
        )
    )
    out = []
    for r in rows:
        try:
            media = json.loads(r.media) or {}
        except (TypeError, ValueError):
            media = {}
        out.append(
            {"sha256": r.sha256, "document_id": r.document_id, "title": r.title, "media": media}
        )
    return out


def referenced(conn: Connection) -> tuple[dict[str, str], set[str]]:
    """(the recordings: sha256 → title of their document, the small files media versions need
    besides: poster frames and transcript files, kept as ordinary originals)."""
    files: dict[str, str] = {}
    small: set[str] = set()
    for v in media_versions(conn):
        files.setdefault(v["sha256"], v["title"])
        small |= {v["media"][k] for k in ("poster", "transcript_sha256") if v["media"].get(k)}
    return files, small - set(files)


# -- chunks in PostgreSQL, on a connection ------------------------------------------------------


def chunk_count(conn: Connection, sha: str) -> int:
    return int(
        conn.execute(
            text("SELECT COUNT(*) FROM media_chunks WHERE sha256 = :s"), {"s": sha}
        ).scalar()
        or 0
    )


def read_chunks(conn: Connection, sha: str) -> Iterator[bytes]:
    """The chunks of ``sha`` in order, one row (≤ 4 MB) in memory at a time. Raises
    NotFoundError when there are none, MediaDamaged when one in the middle is missing."""
    n = chunk_count(conn, sha)
    if not n:
        raise NotFoundError("录像/录音文件不在资料库中。", "请运行 lecturelib check 检查资料库。")
    for seq in range(n):
        data = conn.execute(
            text("SELECT data FROM media_chunks WHERE sha256 = :s AND seq = :n"),
            {"s": sha, "n": seq},
        ).scalar()
        if data is None:
            raise MediaDamaged(f"录像/录音文件 {sha[:12]}… 缺少第 {seq + 1} 段数据。")
        yield bytes(data)


def rechunk(blocks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """``blocks`` of any size as blocks of ``size`` bytes (the last one shorter)."""
    buf = bytearray()
    for block in blocks:
        if not buf and len(block) == size:  # already the right size: no copy
            yield block
            continue
        buf += block
        while len(buf) >= size:
            with memoryview(buf) as view:
                out = bytes(view[:size])
            del buf[:size]
            yield out
    if buf:
        yield bytes(buf)


def write_chunks(
    conn: Connection,
    sha: str,
    blocks: Iterable[bytes],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the file given as ``blocks`` into ``media_chunks`` as ``sha`` (inside the caller's
    transaction: it rolls back if anything fails), DB_CHUNK bytes a row, checking the hash.
    Returns its size; ``progress(bytes_done)`` after each row. Raises MediaDamaged (the
    transaction must then be rolled back) when the bytes do not hash to ``sha``."""
    h = hashlib.sha256()
    size = 0
    for seq, block in enumerate(rechunk(blocks, DB_CHUNK)):
        h.update(block)
        size += len(block)
        conn.execute(
            text(
                "INSERT INTO media_chunks (sha256, seq, data) VALUES (:s, :n, :d) "
                "ON CONFLICT (sha256, seq) DO NOTHING"
            ),
            {"s": sha, "n": seq, "d": block},
        )
        if progress:
            progress(size)
    if h.hexdigest() != sha:
        raise MediaDamaged(f"录像/录音文件 {sha[:12]}… 的内容与其校验和不符。")
    return size


def file_blocks(path: Path, size: int | None = None) -> Iterator[bytes]:
    """The file at ``path`` in blocks of ``size`` bytes (default: DB_CHUNK, so that writing
    them into ``media_chunks`` copies nothing more)."""
    size = size or DB_CHUNK
    with open(path, "rb") as f:
        while block := f.read(size):
            yield block


def write_file(dest: Path, sha: str, blocks: Iterable[bytes]) -> int:
    """Write ``blocks`` to ``dest`` (temp file + rename), checking the hash; returns the size.
    Raises MediaDamaged (and leaves nothing) when the bytes do not hash to ``sha``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
    h = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for block in blocks:
                h.update(block)
                size += len(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != sha:
            raise MediaDamaged(f"录像/录音文件 {sha[:12]}… 的内容与其校验和不符。")
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return size


# -- the store's media files ------------------------------------------------------------------


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
            with self.db.transaction() as conn:
                write_chunks(conn, sha, file_blocks(src))
            return sha
        if dest.is_file() and dest.stat().st_size == Path(src).stat().st_size:
            return sha
        write_file(dest, sha, file_blocks(src, COPY_CHUNK))
        return sha

    def put_blocks(
        self, sha: str, blocks: Iterable[bytes], progress: Callable[[int], None] | None = None
    ) -> int:
        """Keep the file given as a stream of ``blocks`` (a copy from another store, a
        backup); its hash is checked (MediaDamaged, and nothing kept, when it is wrong).
        Returns its size."""
        dest = self.originals.path_for(sha)
        if self.db.postgres:
            with self.db.transaction() as conn:
                conn.execute(text("DELETE FROM media_chunks WHERE sha256 = :s"), {"s": sha})
                return write_chunks(conn, sha, blocks, progress)

        def counted() -> Iterator[bytes]:
            done = 0
            for block in blocks:
                done += len(block)
                yield block
                if progress:
                    progress(done)

        return write_file(dest, sha, counted())

    def has(self, sha: str) -> bool:
        if self.db.postgres:
            return (
                self.db.one("SELECT 1 AS x FROM media_chunks WHERE sha256 = :s LIMIT 1", s=sha)
                is not None
            )
        return self.originals.has(sha)

    def size(self, sha: str) -> int:
        """The file's length in bytes (0 when the library has none)."""
        if self.db.postgres:
            return int(
                self.db.scalar(
                    "SELECT COALESCE(SUM(length(data)), 0) FROM media_chunks WHERE sha256 = :s",
                    s=sha,
                )
            )
        path = self.originals.path_for(sha)
        return path.stat().st_size if path.is_file() else 0

    def blocks(self, sha: str) -> Iterator[bytes]:
        """The file as a stream of blocks (≤ 4 MB each; nothing more in memory). Raises
        NotFoundError when the library does not have it."""
        if self.db.postgres:
            with self.db.reading() as conn:
                yield from read_chunks(conn, sha)
            return
        path = self.originals.path_for(sha)
        if not path.is_file():
            raise NotFoundError(
                "录像/录音文件不在资料库中。", "请运行 lecturelib check 检查资料库。"
            )
        yield from file_blocks(path)

    def verify(self, sha: str) -> bool:
        """Whether the stored file is all there and hashes to ``sha``, read block by block."""
        h = hashlib.sha256()
        try:
            for block in self.blocks(sha):
                h.update(block)
        except (NotFoundError, MediaDamaged, OSError):
            return False
        return h.hexdigest() == sha

    def node_copy(self, sha: str) -> tuple[Path | None, bool]:
        """PostgreSQL: (this node's copy of the file, whether it hashes right), read from disk
        block by block; (None, False) when there is no copy (and always on SQLite, where the
        file itself is on disk)."""
        if not self.db.postgres:
            return None, False
        copy = self.originals.path_for(sha)
        if not copy.is_file():
            return None, False
        return copy, sha256_file(copy) == sha

    def path(self, sha: str) -> Path:
        """A file on this machine holding the media (missing when the library has none)."""
        dest = self.originals.path_for(sha)
        if not self.db.postgres or dest.is_file():
            return dest
        if not self.has(sha):
            return dest
        try:
            write_file(dest, sha, self.blocks(sha))
        except MediaDamaged as e:
            raise OSError(f"media {sha[:12]}… in the database does not match its hash") from e
        return dest

    def remove(self, sha: str) -> None:
        if self.db.postgres:
            self.db.execute("DELETE FROM media_chunks WHERE sha256 = :s", {"s": sha})
        self.originals.path_for(sha).unlink(missing_ok=True)

    def all(self) -> set[str]:
        """The media files in ``media_chunks`` (PostgreSQL); on SQLite they are among the
        originals, and this is empty."""
        if self.db.postgres:
            return {r["sha256"] for r in self.db.rows("SELECT DISTINCT sha256 FROM media_chunks")}
        return set()


__all__ = [
    "MediaFiles",
    "MediaDamaged",
    "media_versions",
    "referenced",
    "read_chunks",
    "write_chunks",
    "write_file",
    "file_blocks",
    "rechunk",
    "chunk_count",
]
