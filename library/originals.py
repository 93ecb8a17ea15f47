"""Original files, kept content-addressed by SHA-256 under ``<home>/originals/ab/abcdef…``.

Writes are atomic (temp file + rename) and idempotent; reads refuse anything that is not a
well-formed SHA-256, so a download can never leave the originals folder.
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


__all__ = ["Originals", "sha256_bytes", "sha256_file"]
