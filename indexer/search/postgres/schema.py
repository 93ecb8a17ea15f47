"""The PostgreSQL backend's tables, and a record as a row of them.

One row per :class:`~indexer.search.records.IndexRecord` in ``search_records``:

* ``docnum`` — the order records were added in (a rebuild numbers them as given, every upsert
  takes the next number): "newest first" for the bounded ranking window and ties, as the Whoosh
  backend's document numbers;
* the facet columns ``kind``, ``dkind``, ``speaker`` (quotes only), ``year``, ``topics[]``,
  ``audiences[]``, the date sort key, and ``rec`` (jsonb): the display fields a hit shows;
* ``words`` — the body's jieba words (``indexer.search.jieba_words``, the Whoosh word field's
  segmentation and vocabulary) as a ``tsvector`` whose one position per word *is* its frequency
  in the record (BM25 needs the count, never the place), and ``wlen``, the number of words;
* ``grams`` — the character bigrams of the body and of the context (heading path + title, or
  出处) as the Whoosh gram field makes them (``indexer.search.text``: across punctuation, not
  between two Latin letters/digits, plus a segment's last character alone when no bigram starts
  with it), **with positions**: a segment's bigrams are consecutive, so a typed segment is the
  phrase ``'ab' <-> 'bc' <-> 'cd'``. PostgreSQL keeps at most 256 positions per lexeme and none
  above 16383; a record that would lose one is marked ``lossy`` and found by the bigrams' AND
  (a small partial GIN index) — verification on the text keeps the answer exact either way.

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
from indexer.search.text import segments

SCHEMA_VERSION = 1
MAX_POS = 16383  # PostgreSQL's largest tsvector position
MAX_POSITIONS = 256  # ... and most positions kept per lexeme
CONTEXT_GAP = 2  # positions left free between body and context (no phrase spans them)

RECORDS = "search_records"
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
    "rec",
    "wlen",
    "words",
    "grams",
    "lossy",
)


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
    rec jsonb NOT NULL,
    wlen integer NOT NULL,
    words tsvector NOT NULL,
    grams tsvector NOT NULL,
    lossy boolean NOT NULL DEFAULT false
)"""


def words_ddl(table: str) -> str:
    return f"CREATE TABLE {table} (word text PRIMARY KEY, df integer NOT NULL)"


def index_ddl(table: str, suffix: str) -> list[str]:
    """The indexes of a records table, as statements that may run in parallel."""
    return [
        f"CREATE UNIQUE INDEX {table}_id_{suffix} ON {table} (id)",
        f"CREATE INDEX {table}_grams_{suffix} ON {table} USING gin (grams) WITH (fastupdate = off)",
        f"CREATE INDEX {table}_lossy_{suffix} ON {table} USING gin (grams) "
        "WITH (fastupdate = off) WHERE lossy",
        f"CREATE INDEX {table}_words_{suffix} ON {table} USING gin (words) WITH (fastupdate = off)",
    ]


META_DDL = f"CREATE TABLE IF NOT EXISTS {META} (key text PRIMARY KEY, value text NOT NULL)"


# ---------------------------------------------------------------------------------------------
# tsvector text


def _lex(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def word_counts(body: str, tokenizer) -> Counter:
    """The body's word-field terms with their frequencies (the Whoosh word field's counts)."""
    return Counter(w for w, _, _ in word_tokens(for_search(body), tokenizer))


def words_vector(counts: Counter) -> str:
    """tsvector text of word counts: each word once, its frequency as its one position."""
    return " ".join(f"{_lex(w)}:{min(n, MAX_POS)}" for w, n in counts.items())


def gram_positions(parts: list[str]) -> tuple[dict[str, list[int]], bool]:
    """Gram → positions over the parts (body, then context), and whether PostgreSQL would lose
    a position (more than 256 for a gram, or one above 16383). Each part's terms are its
    ``text.gram_terms`` (bigrams of its segments; a segment's last character alone when no
    bigram of the part starts with it); segments and parts are kept apart by free positions."""
    pos: dict[str, list[int]] = {}
    p = 1
    for part in parts:
        if not part:
            continue
        lasts = []
        firsts = set()
        for s, _ in segments(for_search(part)):
            for i in range(len(s) - 1):
                g = s[i : i + 2]
                firsts.add(s[i])
                pos.setdefault(g, []).append(p)
                p += 1
            lasts.append((s[-1], p))
            p += 2  # no phrase runs across two segments
        for ch, at in lasts:
            if ch not in firsts:
                firsts.add(ch)
                pos.setdefault(ch, []).append(at)
        p += CONTEXT_GAP
    lossy = p > MAX_POS or any(len(v) > MAX_POSITIONS for v in pos.values())
    return pos, lossy


def grams_vector(pos: dict[str, list[int]]) -> str:
    return " ".join(
        f"{_lex(g)}:{','.join(str(min(x, MAX_POS)) for x in ps[:MAX_POSITIONS])}"
        for g, ps in pos.items()
    )


# ---------------------------------------------------------------------------------------------
# a record as a row


def record_row(rec: IndexRecord, docnum: int, tokenizer) -> tuple[tuple, Counter]:
    """(row values in ``COLUMNS`` order, word counts)."""
    stored = rec.display()
    body = body_text(stored)
    counts = word_counts(body, tokenizer)
    pos, lossy = gram_positions([body, meta_text(stored)])
    row = (
        docnum,
        rec.id,
        rec.kind or "passage",
        rec.doc_kind or None,
        rec.speaker if rec.kind == "quote" and rec.speaker else None,
        rec.year_text or None,
        list(rec.topics),
        list(rec.audiences),
        rec.date or "",
        json.dumps(stored, ensure_ascii=False),
        sum(counts.values()),
        words_vector(counts),
        grams_vector(pos),
        lossy,
    )
    return row, counts


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
    "words_ddl",
    "index_ddl",
    "record_row",
    "copy_line",
    "gram_positions",
    "words_vector",
    "grams_vector",
]
