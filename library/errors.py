"""One exception tree for the whole project, rooted in :class:`LecturelibError`.

Every error carries a user-facing message in Chinese (``message``) and, where it helps, a hint
saying what to do (``hint``). ``str(err)`` gives both, so a CLI or a web page can show it as is.
"""

from __future__ import annotations


class LecturelibError(Exception):
    """Base of every error lecturelib raises on purpose."""

    code = "error"

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}（{self.hint}）" if self.hint else self.message


class UsageError(LecturelibError):
    """The caller asked for something malformed (bad option, unknown topic, …)."""

    code = "usage"


class InputError(LecturelibError):
    """A file cannot be ingested. Raised by extractors and the pipeline; names no path itself,
    the pipeline adds the file name when it reports."""

    code = "input"


class EmptyFileError(InputError):
    code = "empty"


class FileTooLargeError(InputError):
    code = "too_large"


class UnsupportedFormatError(InputError):
    code = "unsupported"


class CorruptFileError(InputError):
    code = "corrupt"


class EncryptedFileError(InputError):
    code = "encrypted"


class NotFoundError(LecturelibError):
    code = "not_found"


class StoreError(LecturelibError):
    code = "store"


class DuplicateFileError(StoreError):
    """The very same file was stored a moment ago (another node or process got there first):
    nothing new is stored. ``existing``: that version (document_id, kind, title)."""

    code = "duplicate"

    def __init__(self, existing: dict):
        super().__init__(f"资料库中已有相同文件：《{existing['title']}》，未做改动。")
        self.existing = existing


class SearchIndexError(LecturelibError):
    """The search index is missing, stale, locked for too long or corrupt."""

    code = "index"


class QueryError(LecturelibError):
    code = "query"


class PackError(LecturelibError):
    """A topic pack cannot be exported or imported (tampered, truncated, wrong version…)."""

    code = "pack"


__all__ = [
    "LecturelibError",
    "UsageError",
    "InputError",
    "EmptyFileError",
    "FileTooLargeError",
    "UnsupportedFormatError",
    "CorruptFileError",
    "EncryptedFileError",
    "NotFoundError",
    "StoreError",
    "SearchIndexError",
    "QueryError",
    "PackError",
]
