"""Where a library lives: its home folder and settings.

Resolution order for the home: an explicit path (``--home``), ``$LECTURELIB_HOME``, ``./instance``.
Layout of a home::

    library.sqlite3     the store (source of truth)
    originals/ab/…      original files, content-addressed by SHA-256
    index/              the Whoosh index (derived; can be deleted and rebuilt)
    settings.json       optional overrides (see DEFAULTS)
    topics.json         optional edited copy of the topic taxonomy
    dictionary.txt      editor-added / removed dictionary terms
    synonyms.txt        editor-added synonym groups
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError

DEFAULTS = {
    "library_name": "宣讲素材库",
    "max_file_mb": 100,          # files above this are refused with a clear message
    "ingest_workers": 2,         # processes for extraction during bulk ingest
    "file_timeout_s": 600,       # one file's extraction + structuring, then it is skipped
    "worker_memory_mb": 3072,    # address-space cap of an extraction worker
    "public_export": False,      # speakers (not only editors) may download topic packs
    "require_login": False,      # the public side requires a login
}


def resolve_home(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get("LECTURELIB_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return (Path.cwd() / "instance").resolve()


@dataclass
class Home:
    path: Path
    settings: dict = field(default_factory=dict)

    @classmethod
    def open(cls, explicit: str | os.PathLike | None = None, *, create: bool = True) -> "Home":
        path = resolve_home(explicit)
        if path.exists() and not path.is_dir():
            raise UsageError(f"资料库目录“{path}”不是文件夹。", "请用 --home 指定一个文件夹。")
        if create:
            path.mkdir(parents=True, exist_ok=True)
        settings = dict(DEFAULTS)
        sfile = path / "settings.json"
        if sfile.is_file():
            try:
                settings.update(json.loads(sfile.read_text(encoding="utf-8")))
            except (ValueError, OSError) as e:
                raise UsageError(f"设置文件 {sfile} 无法读取：{e}", "请修正或删除该文件。") from e
        env_mb = os.environ.get("LECTURELIB_MAX_FILE_MB")
        if env_mb:
            settings["max_file_mb"] = float(env_mb)
        return cls(path=path, settings=settings)

    @property
    def db_path(self) -> Path:
        return self.path / "library.sqlite3"

    @property
    def originals_path(self) -> Path:
        return self.path / "originals"

    @property
    def index_path(self) -> Path:
        return self.path / "index"

    @property
    def max_file_bytes(self) -> int:
        return int(float(self.settings["max_file_mb"]) * 1024 * 1024)


__all__ = ["Home", "resolve_home", "DEFAULTS"]
