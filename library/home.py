"""Where a library lives: its home folder and settings.

Resolution order for the home: an explicit path (``--home``), ``$LECTURELIB_HOME``, ``./instance``.
Layout of a home::

    library.sqlite3     the store (source of truth); in PostgreSQL mode (``database_url``)
                        the store and the originals live in that database instead
    originals/ab/…      original files, content-addressed by SHA-256
    index/              the Whoosh index (derived; can be deleted and rebuilt)
    settings.json       optional overrides (see library.settings.Settings)
    topics.json         optional edited copy of the topic taxonomy
    dictionary.txt      editor-added / removed dictionary terms
    synonyms.txt        editor-added synonym groups
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError
from .settings import Settings

# every setting's default, by name (documented on library.settings.Settings)
DEFAULTS = Settings.defaults()


def resolve_home(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get("LECTURELIB_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return (Path.cwd() / "instance").resolve()


@dataclass
class Home:
    """A library's folder. ``config`` is its typed settings (``library.settings.Settings``);
    ``settings`` the same as a plain dict, for callers that read ``settings.get(key,
    default)`` (and the web app's test overrides, which replace or change it: ``config``
    follows such changes)."""

    path: Path
    settings: dict = field(default_factory=dict)
    _config: Settings | None = field(default=None, repr=False, compare=False)
    _config_of: dict | None = field(default=None, repr=False, compare=False)

    @property
    def config(self) -> Settings:
        if self._config is None or self._config_of != self.settings:
            self._config = Settings.from_mapping(self.settings, where=f"{self.path} 的设置")
            self._config_of = dict(self.settings)
        return self._config

    @classmethod
    def open(cls, explicit: str | os.PathLike | None = None, *, create: bool = True) -> Home:
        path = resolve_home(explicit)
        if path.exists() and not path.is_dir():
            raise UsageError(f"资料库目录“{path}”不是文件夹。", "请用 --home 指定一个文件夹。")
        if create:
            path.mkdir(parents=True, exist_ok=True)
        config, settings = Settings.load(path / "settings.json")
        return cls(path=path, settings=settings, _config=config, _config_of=dict(settings))

    @property
    def db_path(self) -> Path:
        return self.path / "library.sqlite3"

    @property
    def database_url(self) -> str | None:
        """The PostgreSQL database holding the store (``library.settings``), or None: the
        embedded SQLite database at ``db_path``."""
        return self.config.database_url or None

    @property
    def originals_path(self) -> Path:
        return self.path / "originals"

    @property
    def index_path(self) -> Path:
        return self.path / "index"

    @property
    def max_file_bytes(self) -> int:
        return self.config.max_file_bytes


__all__ = ["Home", "resolve_home", "DEFAULTS"]
