"""What the search engine indexes: one :class:`IndexRecord` per searchable unit (a quote, a
passage, a Q&A pair). The application builds them from store rows (``indexer.app.sync``);
every backend indexes and stores exactly these fields, nothing of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

# the fields a hit shows (and a backend stores for display), in this order
DISPLAY_FIELDS = (
    "id",
    "kind",
    "text",
    "question",
    "heading",
    "source",
    "speaker",
    "date",
    "topics",
    "audiences",
    "doc_kind",
    "document_id",
    "document_title",
    "filename",
    "page",
    "updated",
    "seq",
    "start",
    "end",
)


@dataclass(frozen=True)
class IndexRecord:
    """One searchable unit. ``id`` is ``q:<quote id>`` or ``p:<passage id>``."""

    id: str
    kind: str = "passage"  # "quote" | "passage" | "qa"
    text: str = ""
    question: str | None = None  # a Q&A pair's question
    heading: str = ""  # a passage's heading path (" › "), a quote's theme
    source: str = ""  # a quote's 出处
    speaker: str = ""  # a quote's speaker (canonical name)
    date: str | None = None  # ISO date, or a prefix of one (2021, 2021-07)
    year: int | str | None = None  # from the date when not given
    topics: tuple[str, ...] = ()  # topic slugs
    audiences: tuple[str, ...] = ()  # audience slugs
    doc_kind: str = ""  # the material kind of the record's document
    document_id: int | None = None
    document_title: str = ""
    filename: str = ""
    page: int | None = None
    updated: float = 0.0  # when the document last changed (newer ranks first on ties)
    seq: int = 0  # order inside the document
    start: float | None = None  # a transcript passage: where it is spoken (seconds) …
    end: float | None = None  # … and where it ends (None for everything else)

    def __post_init__(self):
        # lists from a store row become tuples: a record is a value
        for name in ("topics", "audiences"):
            v = getattr(self, name)
            if not isinstance(v, tuple):
                object.__setattr__(self, name, tuple(v or ()))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> IndexRecord:
        """A record from a mapping with these keys (a store row); None stands for the default.
        Unknown keys are an error: a misspelt field must not vanish silently."""
        unknown = set(row) - _NAMES
        if unknown:
            raise TypeError(f"unknown index record fields: {sorted(unknown)}")
        return cls(**{k: v for k, v in row.items() if v is not None or k in _NULLABLE})

    @classmethod
    def coerce(cls, rec: IndexRecord | Mapping[str, Any]) -> IndexRecord:
        return rec if isinstance(rec, IndexRecord) else cls.from_row(rec)

    @property
    def year_text(self) -> str:
        """The year as text (from the date when not given), "" when unknown."""
        if self.year not in (None, ""):
            return str(self.year)
        return str(self.date)[:4] if self.date else ""

    def display(self) -> dict:
        """The display fields with a value (empty ones left out), topics and audiences as
        lists: what a backend stores for a hit."""
        out = {}
        for k in DISPLAY_FIELDS:
            v = getattr(self, k)
            if v in (None, "", [], ()):
                continue
            out[k] = list(v) if isinstance(v, tuple) else v
        return out

    def to_dict(self) -> dict:
        d = asdict(self)
        d["topics"], d["audiences"] = list(self.topics), list(self.audiences)
        return d


_NAMES = {f.name for f in fields(IndexRecord)}
_NULLABLE = {"question", "date", "year", "document_id", "page", "start", "end"}

__all__ = ["IndexRecord", "DISPLAY_FIELDS"]
