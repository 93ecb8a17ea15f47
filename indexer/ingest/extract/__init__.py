"""Text extraction: one module per format behind a registry chosen by *sniffed* content.

Public surface::

    sniff(data: bytes) -> str            # "docx" | "pdf" | "doc" | "pptx" | "txt" | "md" | "html"
    extract(data: bytes, filename: str = "", limits: Limits | None = None) -> Extracted

``extract`` raises a subclass of :class:`library.errors.InputError` with a Chinese message saying
what is wrong and what to do; it never raises anything else on bad input.
"""

from __future__ import annotations

from indexer.ingest.extract.base import Block, Extracted  # noqa: F401
from indexer.ingest.extract.registry import Limits, extract, sniff  # noqa: F401

__all__ = ["Block", "Extracted", "Limits", "extract", "sniff"]
