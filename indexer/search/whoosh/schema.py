"""The index schema, declared in one place, and the record → index-document mapping.

Lean on purpose (docs/PERFORMANCE.md): the display fields of a record are stored once, in one
pickled ``rec`` value; the text fields are indexed, never stored a second time; the context
(heading path and title, or 出处) is analysed once per distinct value and has no word
postings. The word field keeps frequencies only, the gram field doc numbers only: exact phrases
and substrings are verified on the stored text at query time instead of through Whoosh position
lists (which Whoosh checks in Python).

Bump ``SCHEMA_VERSION`` whenever the schema, the analyzers or the record mapping change: an
index built with another version reports itself "stale" and is rebuilt.
"""

from __future__ import annotations

from collections.abc import Mapping

from whoosh import fields

from indexer.search.plan import (  # noqa: F401  (re-exported)
    body_text,
    date_words,
    meta_text,
    searchable_text,
)
from indexer.search.records import DISPLAY_FIELDS, IndexRecord
from indexer.search.whoosh.analysis import (
    CountedExistence,
    CountedFrequency,
    GramTokenizer,
    WordTokenizer,
)

SCHEMA_VERSION = 12

# Context (heading path + document title of a passage, 出处 of a quote) is the same text on many
# records: it goes into the gram field of each record (so that every record is found by it) but
# is analysed once per distinct value (analysis._Counting); it gets no word-field postings, the
# ranking rewards a context match instead (searching.final_score).


class CountedText(fields.TEXT):
    """A TEXT field whose terms come from the analyzer's ``counts()`` as one list (no Token
    objects, no generator per posting): see ``analysis.CountedFrequency.index_items``."""

    def index(self, value, **kwargs):
        if (
            isinstance(value, (str, tuple, list))
            and hasattr(self.analyzer, "counts")
            and hasattr(self.format, "index_items")
        ):
            return self.format.index_items(value, self.analyzer)
        return super().index(value, **kwargs)


def build_schema(vocab_version: str, terms: tuple[str, ...]) -> fields.Schema:
    word_an = WordTokenizer(vocab_version, terms)
    gram_an = GramTokenizer(vocab_version)

    def text_field(analyzer, scorable=True):
        f = CountedText(analyzer=analyzer, phrase=False)
        # The word field keeps frequencies (BM25F); the gram field only doc numbers: it is
        # intersected, never scored (searching.DocSets reads ids only).
        f.format = CountedFrequency() if scorable else CountedExistence()
        f.scorable = scorable  # unscorable: no per-document lengths to store and look up
        return f

    return fields.Schema(
        id=fields.ID(unique=True),
        kind=fields.ID,
        dkind=fields.ID,  # the material kind of the record's document
        speaker=fields.ID,  # a quote's speaker (canonical name)
        year=fields.ID,
        topic=fields.KEYWORD(scorable=False),
        audience=fields.KEYWORD(scorable=False),
        datekey=fields.ID(sortable=True),
        # the document a passage or Q&A pair is collapsed with (plan.group_of; none for a quote):
        # how many hits the pages show is counted on the candidates, without reading records
        docid=fields.ID,
        body=text_field(word_an),  # quote / passage / answer text, question
        grams=text_field(gram_an, False),  # recall field over body and context
        rec=fields.STORED,
    )


STORED_KEYS = DISPLAY_FIELDS


def to_document(rec: IndexRecord | Mapping) -> dict:
    """An index record as Whoosh field values."""
    r = IndexRecord.coerce(rec)
    stored = r.display()
    body = body_text(stored)
    meta = meta_text(stored)
    doc = {
        "id": r.id,
        "kind": r.kind or "passage",
        "datekey": r.date or "",
        "body": body,
        "grams": (body, meta),
        # stored once; empty values left out (readers use .get with a default)
        "rec": stored,
    }
    if r.year_text:
        doc["year"] = r.year_text
    if r.doc_kind:
        doc["dkind"] = r.doc_kind
    if r.kind == "quote" and r.speaker:
        doc["speaker"] = r.speaker
    if r.kind != "quote" and r.document_id is not None:
        doc["docid"] = str(r.document_id)
    if r.topics:
        doc["topic"] = " ".join(r.topics)
    if r.audiences:
        doc["audience"] = " ".join(r.audiences)
    return {k: v for k, v in doc.items() if v != ""}


__all__ = [
    "SCHEMA_VERSION",
    "build_schema",
    "to_document",
    "searchable_text",
    "body_text",
    "meta_text",
    "date_words",
    "STORED_KEYS",
]
