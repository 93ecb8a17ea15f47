"""A library's settings: typed, documented, checked once when the home is opened.

They come from the home's ``settings.json`` (every key optional; what is not there takes the
default below) and a few environment variables that override it. A value of the wrong kind
stops the program with a Chinese message naming the key and the file; a key that no setting
has is reported (``Settings.unknown``, and a warning naming the file, with the nearest known
key when it looks like a typo) but does not stop anything, so that a newer settings.json still
opens with an older lecturelib.

Code reads ``home.config.<name>``. ``home.settings`` stays the merged plain dict (defaults,
file, environment) for callers that still use ``home.settings.get(key, default)``.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import UsageError

log = logging.getLogger("lecturelib.settings")

# what database_url may start with: PostgreSQL through psycopg 3
DATABASE_SCHEMES = ("postgresql://", "postgresql+psycopg://", "postgres://")

# the values of ocr_engine (docs/OCR.md)
OCR_ENGINES = ("auto", "rapidocr", "tesseract", "off")

_TRUE = ("1", "true", "yes", "on", "是")
_FALSE = ("0", "false", "no", "off", "否", "")


def _doc(text: str) -> dict:
    return {"doc": text}


@dataclass(frozen=True)
class Settings:
    """Every setting of a library, with its default. The field's ``doc`` says what it does."""

    library_name: str = field(default="宣讲素材库", metadata=_doc("the site and export name"))
    max_file_mb: float = field(
        default=100,
        metadata=_doc(
            "files above this are refused with a clear message ($LECTURELIB_MAX_FILE_MB)"
        ),
    )
    max_media_mb: float = field(
        default=2048,
        metadata=_doc(
            "a video or audio file (视频/音频) above this is refused; media are streamed to disk, "
            "never held in memory (docs/MEDIA.md)"
        ),
    )
    ingest_workers: int = field(
        default=2, metadata=_doc("processes for extraction during bulk ingest")
    )
    file_timeout_s: int = field(
        default=600,
        metadata=_doc(
            "the most one file's extraction and structuring may take; below that, 30 s plus "
            "file_seconds_per_mb per MB"
        ),
    )
    file_seconds_per_mb: float = field(
        default=20, metadata=_doc("extraction time allowed per MB of a file (see file_timeout_s)")
    )
    worker_memory_mb: int = field(
        default=3072, metadata=_doc("address-space cap of an extraction worker")
    )
    public_export: bool = field(
        default=False, metadata=_doc("speakers (not only editors) may download topic packs")
    )
    require_login: bool = field(
        default=False, metadata=_doc("the public side requires a login ($LECTURELIB_REQUIRE_LOGIN)")
    )
    secure_cookies: bool = field(
        default=False,
        metadata=_doc("mark the session cookie Secure, behind HTTPS ($LECTURELIB_SECURE_COOKIES)"),
    )
    session_idle_minutes: float = field(
        default=120, metadata=_doc("a session with no request for this long is over")
    )
    session_max_hours: float = field(
        default=12, metadata=_doc("a session is over this long after signing in, however busy")
    )
    search_writer: str = field(
        default="bulk",
        metadata=_doc(
            "how the Whoosh backend writes segments: bulk (fast) or public (Whoosh's public "
            "writer) ($LECTURELIB_SEARCH_WRITER)"
        ),
    )
    database_url: str = field(
        default="",
        metadata=_doc(
            "where the store lives: empty for the embedded SQLite database in the home, or "
            "postgresql://user:password@host:port/dbname for one PostgreSQL database shared by "
            "several nodes ($LECTURELIB_DATABASE_URL, lecturelib --database URL)"
        ),
    )
    ocr_engine: str = field(
        default="auto",
        metadata=_doc(
            "OCR engine for scans and page photos: auto (rapidocr, else tesseract), rapidocr, "
            "tesseract, or off (docs/OCR.md)"
        ),
    )
    # keys found in the file that no setting has (reported, not used)
    unknown: tuple[str, ...] = field(
        default=(), compare=False, metadata=_doc("keys of settings.json that no setting has")
    )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name != "unknown")

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every setting's default, by name (what ``home.settings`` starts from)."""
        base = cls()
        return {n: getattr(base, n) for n in cls.names()}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, where: str = "设置") -> Settings:
        """Typed settings from plain values (``where`` names their origin in messages: a file,
        an environment variable). Missing keys take their defaults."""
        known = {f.name: f for f in fields(cls) if f.name != "unknown"}
        typed: dict[str, Any] = {}
        for key, value in values.items():
            f = known.get(key)
            if f is not None:
                typed[key] = _convert(key, value, f.type, where)
        if "search_writer" in typed:
            typed["search_writer"] = typed["search_writer"].lower()
        if "ocr_engine" in typed:
            typed["ocr_engine"] = (typed["ocr_engine"] or "auto").lower()
        unknown = tuple(sorted(k for k in values if k not in known))
        settings = cls(**typed, unknown=unknown)
        settings._check(where)
        return settings

    @classmethod
    def load(cls, path: Path, env: Mapping[str, str] | None = None) -> tuple[Settings, dict]:
        """The settings of ``path`` (a home's settings.json; missing: all defaults) with the
        environment's overrides, and the same as a merged plain dict. Raises UsageError naming
        the file and the key when a value is wrong."""
        env = os.environ if env is None else env
        raw: dict[str, Any] = {}
        if path.is_file():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, OSError) as e:
                raise UsageError(f"设置文件 {path} 无法读取：{e}", "请修正或删除该文件。") from e
            if not isinstance(raw, dict):
                raise UsageError(
                    f'设置文件 {path} 的内容应是一个 JSON 对象（{{"键": 值}}）。',
                    "请修正或删除该文件。",
                )
        settings = cls.from_mapping(raw, where=f"设置文件 {path}")
        merged = {**cls.defaults(), **raw}
        env_mb = env.get("LECTURELIB_MAX_FILE_MB")
        if env_mb:
            mb = _convert("max_file_mb", env_mb, "float", "环境变量 LECTURELIB_MAX_FILE_MB")
            settings = dataclasses.replace(settings, max_file_mb=mb)
            settings._check("环境变量 LECTURELIB_MAX_FILE_MB")
            merged["max_file_mb"] = mb
        env_db = env.get("LECTURELIB_DATABASE_URL")
        if env_db is not None and env_db.strip():
            settings = dataclasses.replace(settings, database_url=env_db.strip())
            settings._check("环境变量 LECTURELIB_DATABASE_URL")
            merged["database_url"] = env_db.strip()
        if settings.unknown:
            log.warning("%s", unknown_message(path, settings.unknown))
        return settings, merged

    def _check(self, where: str) -> None:
        for name in (
            "max_file_mb",
            "max_media_mb",
            "ingest_workers",
            "file_timeout_s",
            "worker_memory_mb",
            "session_idle_minutes",
            "session_max_hours",
        ):
            if getattr(self, name) <= 0:
                raise UsageError(
                    f"{where} 中 {name} 的值应大于 0（现为 {getattr(self, name)}）。",
                    "请修正该项，或删除它以使用默认值。",
                )
        if self.file_seconds_per_mb < 0:
            raise UsageError(
                f"{where} 中 file_seconds_per_mb 的值不能为负数。",
                "请修正该项，或删除它以使用默认值。",
            )
        if self.database_url and not self.database_url.startswith(DATABASE_SCHEMES):
            raise UsageError(
                f"{where} 中 database_url 的值无效：应以 postgresql:// 开头，或留空。",
                "例如：postgresql://lecturelib:密码@数据库主机:5432/lecturelib；"
                "留空则使用资料库目录中的内置数据库（SQLite）。",
            )
        if self.search_writer not in ("bulk", "public"):
            raise UsageError(
                f"{where} 中 search_writer 的值“{self.search_writer}”无效。",
                "可用：bulk（默认，批量写入，较快）、public（Whoosh 公开的写入接口）",
            )
        if self.ocr_engine not in OCR_ENGINES:
            raise UsageError(
                f"{where} 中 ocr_engine 的值“{self.ocr_engine}”无效。",
                "可用：auto（自动选择）、rapidocr、tesseract、off（关闭文字识别）。",
            )

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def max_media_bytes(self) -> int:
        return int(self.max_media_mb * 1024 * 1024)


def unknown_message(path: Path | str, unknown: tuple[str, ...]) -> str:
    """A Chinese sentence naming keys of ``path`` no setting has (with the nearest known key
    when one looks like a typo)."""
    parts = []
    for key in unknown:
        near = difflib.get_close_matches(key, Settings.names(), n=1)
        parts.append(f"“{key}”" + (f"（是否想写“{near[0]}”？）" if near else ""))
    return f"设置文件 {path} 中有未知的设置项：{'、'.join(parts)}，已忽略。"


_KINDS = {"str": "文字", "int": "整数", "float": "数字", "bool": "布尔值（true 或 false）"}


def _convert(key: str, value: Any, kind: str, where: str) -> Any:
    """``value`` as the setting's type (``kind``: the annotation's name); numbers may be given
    as numeric strings, booleans as true/false (or 1/0)."""

    def bad() -> UsageError:
        return UsageError(
            f"{where} 中 {key} 的值 {json.dumps(value, ensure_ascii=False)} "
            f"无效：应为{_KINDS[kind]}。",
            "请修正该项，或删除它以使用默认值。",
        )

    if kind == "str":
        if not isinstance(value, str):
            raise bad()
        return value.strip()
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise bad()
    if isinstance(value, bool):
        raise bad()
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise bad() from None
    if number != number or number in (float("inf"), float("-inf")):
        raise bad()
    if kind == "int":
        if number != int(number):
            raise bad()
        return int(number)
    return number


__all__ = ["Settings", "unknown_message", "OCR_ENGINES"]
