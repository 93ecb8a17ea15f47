"""The PostgreSQL backend's tables, and a record as a row of them.

One row per :class:`~indexer.search.records.IndexRecord` in ``search_records`` (what finds it)
and one in ``search_texts`` (what ranks and shows it), both keyed by ``docnum``:

* ``docnum`` — the order records were added in (a rebuild numbers them as given, every upsert
  takes the next number): "newest first" for the bounded ranking window and ties, as the Whoosh
  backend's document numbers;
* ``search_records``: ``id``, the facet columns ``kind``, ``dkind``, ``speaker`` (quotes only),
  ``year``, ``topics[]``, ``audiences[]``, the date sort key, ``docid`` (the document a passage
  or Q&A pair is collapsed with, ``plan.group_of``: null for a quote), and ``grams`` (below);
* ``search_texts``: ``rec`` (json: stored and returned as text, never queried in SQL), the display
  fields a hit shows, ``words`` and ``wlen``.
  Kept apart so that the rows a candidate scan visits are narrower (the records heap is a
  fifth smaller than with everything in one row);
* ``words`` — the body's jieba words (``indexer.search.jieba_words``, the Whoosh word field's
  segmentation and vocabulary) as a ``tsvector`` whose one position per word *is* its frequency
  in the record (BM25 needs the count, never the place), and ``wlen``, the number of words;
* ``grams`` — the character bigrams of the body and of the context (heading path + title, or
  出处), the Whoosh gram field's terms (``indexer.search.text.gram_terms``: across punctuation,
  not between two Latin letters/digits, plus a segment's last character alone when no bigram
  starts with it), **without positions**: a typed segment ``abcd`` finds its candidates by the
  AND ``'ab' & 'bc' & 'cd'``, which the GIN index answers alone (no recheck reading the
  column), and the candidates are verified on the stored text, as in the Whoosh backend.
  Positions would make ``<->`` phrases possible, but a phrase must be rechecked on every
  row the index proposes (the column read and decompressed: 250 ms for a common phrase on
  the 43 MB benchmark corpus, docs/PERFORMANCE.md), and they cost build time and space.
  The facet values are lexemes of the column too (``topic:ecology``, ``year:2021``): a filter
  is one more term of the same tsquery, intersected inside the index.

Both tsvectors are built here in Python (``simple`` would not segment Chinese) and loaded as
tsvector text. ``search_words`` holds each word's document frequency and ``search_meta`` the
schema version, the vocabulary version and the collection statistics BM25 reads.

Bump ``SCHEMA_VERSION`` whenever the tables or the record mapping change: the index then
reports itself "stale" and is rebuilt.
"""

from __future__ import annotations

import json
from collections import Counter

from indexer.ingest.normalize import for_search
from indexer.search.jieba_words import word_tokens
from indexer.search.plan import body_text, meta_text
from indexer.search.records import IndexRecord
from indexer.search.text import gram_terms

SCHEMA_VERSION = 5
MAX_POS = 16383  # PostgreSQL's largest tsvector position

RECORDS = "search_records"
TEXTS = "search_texts"
WORDS = "search_words"
META = "search_meta"
DOCNUM_SEQ = "search_docnum"

COLUMNS = (
    "docnum",
    "id",
    "kind",
    "dkind",
    "speaker",
    "year",
    "topics",
    "audiences",
    "datekey",
    "docid",
    "grams",
)
TEXT_COLUMNS = ("docnum", "wlen", "words", "rec")


def records_ddl(table: str) -> str:
    return f"""
CREATE TABLE {table} (
    docnum bigint PRIMARY KEY,
    id text NOT NULL,
    kind text NOT NULL,
    dkind text,
    speaker text,
    year text,
    topics text[] NOT NULL DEFAULT '{{}}',
    audiences text[] NOT NULL DEFAULT '{{}}',
    datekey text NOT NULL DEFAULT '',
    docid bigint,
    grams tsvector NOT NULL
)"""


def texts_ddl(table: str) -> str:
    return f"""
CREATE TABLE {table} (
    docnum bigint PRIMARY KEY,
    wlen integer NOT NULL,
    words tsvector NOT NULL,
    rec json NOT NULL
)"""


def words_ddl(table: str) -> str:
    return f"CREATE TABLE {table} (word text PRIMARY KEY, df integer NOT NULL)"


def index_ddl(table: str, texts: str, suffix: str) -> list[str]:
    """The indexes of new records and texts tables: the gram index first (the largest build),
    then the others (which a second connection builds meanwhile)."""
    return [
        f"CREATE INDEX {table}_grams_{suffix} ON {table} USING gin (grams) WITH (fastupdate = off)",
        f"CREATE UNIQUE INDEX {table}_id_{suffix} ON {table} (id)",
        f"CREATE INDEX {texts}_words_{suffix} ON {texts} USING gin (words) WITH (fastupdate = off)",
    ]


META_DDL = f"CREATE TABLE IF NOT EXISTS {META} (key text PRIMARY KEY, value text NOT NULL)"


# ---------------------------------------------------------------------------------------------
# tsvector text


def _lex(term: str) -> str:
    if "'" in term or "\\" in term:
        term = term.replace("\\", "\\\\").replace("'", "''")
    return "'" + term + "'"


def word_counts(body: str, tokenizer) -> Counter:
    """The body's word-field terms with their frequencies (the Whoosh word field's counts)."""
    return Counter(w for w, _, _ in word_tokens(for_search(body), tokenizer))


def words_vector(counts: Counter) -> str:
    """tsvector text of word counts: each word once, its frequency as its one position."""
    return " ".join(f"{_lex(w)}:{min(n, MAX_POS)}" for w, n in counts.items())


def gram_set(parts: list[str]) -> set[str]:
    """The gram terms of the parts (body, then context), each part's ``text.gram_terms``."""
    out: set[str] = set()
    for part in parts:
        if part:
            out.update(gram_terms(for_search(part)))
    return out


def facet_term(name: str, value: str) -> str:
    """The gram-column lexeme of a facet value (``topic:ecology``): filters are intersected with
    the text's grams inside the one GIN index. Gram terms are one or two characters long, so
    these never meet one."""
    return f"{name}:{value}"


def grams_vector(grams: set[str]) -> str:
    return " ".join(_lex(g) for g in grams)


# ---------------------------------------------------------------------------------------------
# a record as a row


def record_row(rec: IndexRecord, docnum: int, tokenizer) -> tuple[tuple, tuple, Counter]:
    """(records row in ``COLUMNS`` order, texts row in ``TEXT_COLUMNS`` order, word counts)."""
    stored = rec.display()
    body = body_text(stored)
    counts = word_counts(body, tokenizer)
    grams = gram_set([body, meta_text(stored)])
    facets = {
        "kind": [rec.kind or "passage"],
        "doc_kind": [rec.doc_kind] if rec.doc_kind else [],
        "speaker": [rec.speaker] if rec.kind == "quote" and rec.speaker else [],
        "year": [rec.year_text] if rec.year_text else [],
        "topic": list(rec.topics),
        "audience": list(rec.audiences),
    }
    grams.update(facet_term(name, v) for name, vals in facets.items() for v in vals)
    row = (
        docnum,
        rec.id,
        facets["kind"][0],
        rec.doc_kind or None,
        facets["speaker"][0] if facets["speaker"] else None,
        rec.year_text or None,
        facets["topic"],
        facets["audience"],
        rec.date or "",
        rec.document_id if rec.kind != "quote" else None,
        grams_vector(grams),
    )
    text = (
        docnum,
        sum(counts.values()),
        words_vector(counts),
        json.dumps(stored, ensure_ascii=False),
    )
    return row, text, counts


_ESC = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(v) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, list):
        return ("{" + ",".join(_array_item(x) for x in v) + "}").translate(_ESC)
    return str(v).translate(_ESC)


def _array_item(x: str) -> str:
    return '"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"'


def copy_line(row: tuple) -> str:
    """One line of COPY ... FROM STDIN (text format) for a row."""
    return "\t".join(_copy_value(v) for v in row) + "\n"


__all__ = [
    "SCHEMA_VERSION",
    "RECORDS",
    "WORDS",
    "META",
    "DOCNUM_SEQ",
    "COLUMNS",
    "records_ddl",
    "texts_ddl",
    "TEXTS",
    "TEXT_COLUMNS",
    "words_ddl",
    "index_ddl",
    "record_row",
    "copy_line",
    "gram_set",
    "facet_term",
    "words_vector",
    "grams_vector",
]
