"""Building the PostgreSQL index in bulk: rows made by worker processes (jieba words and
positional grams, the CPU-heavy part), streamed into new tables with ``COPY``, indexed (the two
GIN indexes built at the same time on two connections), and swapped in with the word
frequencies and statistics in one transaction.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import psycopg

from indexer.search import plan as P
from indexer.search.postgres.schema import (
    DOCNUM_SEQ,
    META,
    META_DDL,
    RECORDS,
    SCHEMA_VERSION,
    TEXTS,
    WORDS,
    copy_line,
    index_ddl,
    record_row,
    records_ddl,
    texts_ddl,
    words_ddl,
)
from indexer.search.records import IndexRecord

BATCH = 1000  # records per worker task
MAINTENANCE_MEM = "1GB"  # per index build: the gram index of 43 MB of text fits in memory


def update_stats(cur) -> None:
    """The collection statistics BM25 reads (documents, words), after a change."""
    cur.execute(f"SELECT count(*), coalesce(sum(wlen), 0) FROM {TEXTS}")
    n, total = cur.fetchone()
    _set_meta(cur, {"doc_count": str(n), "word_total": str(total)})


def _set_meta(cur, values: dict[str, str]) -> None:
    cur.execute(
        f"INSERT INTO {META} (key, value) SELECT * FROM unnest(%s::text[], %s::text[]) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        (list(values), list(values.values())),
    )


# ---------------------------------------------------------------------------------------------
# rows, possibly in worker processes

_VOCAB = None


def _init_worker(vocab) -> None:
    global _VOCAB
    _VOCAB = vocab


def _init_pool_worker(vocab) -> None:
    """A forked worker of the rebuild: the vocabulary, and the default signal handling back. A
    worker inherited the CLI's SIGTERM handler (which raises ``Terminated``): when the pool
    stopped its workers with SIGTERM, one could go on running the parent's code instead."""
    import signal

    _init_worker(vocab)
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    except (ValueError, OSError):
        pass


def _rows(task: tuple[int, list[IndexRecord]]) -> tuple[str, str, Counter, int]:
    """COPY text (records, texts) of a batch of records numbered from ``start``, their words'
    document frequencies, and how many records."""
    start, recs = task
    tok = P.tokenizer(_VOCAB)
    lines, texts = [], []
    dfs: Counter = Counter()
    for i, rec in enumerate(recs):
        row, text, counts = record_row(rec, start + i, tok)
        dfs.update(counts.keys())
        lines.append(copy_line(row))
        texts.append(copy_line(text))
    return "".join(lines), "".join(texts), dfs, len(recs)


def _batches(records: Iterable[IndexRecord]) -> Iterator[tuple[int, list[IndexRecord]]]:
    batch: list[IndexRecord] = []
    n = 1
    for r in records:
        batch.append(r)
        if len(batch) >= BATCH:
            yield n, batch
            n += len(batch)
            batch = []
    if batch:
        yield n, batch


def _produce(vocab, records, procs: int):
    tasks = _batches(records)
    if procs <= 1:
        _init_worker(vocab)
        yield from map(_rows, tasks)
        return
    ctx = mp.get_context("fork")
    with ctx.Pool(procs, initializer=_init_pool_worker, initargs=(vocab,)) as pool:
        yield from pool.imap(_rows, tasks, chunksize=1)


# ---------------------------------------------------------------------------------------------
# rebuild


def rebuild(
    dsn: str,
    vocab,
    records: Iterable[IndexRecord],
    *,
    progress: Callable[[int], None] | None = None,
    procs: int = 2,
    lock: int,
) -> None:
    suffix = "b" + uuid.uuid4().hex[:10]
    new_records, new_words = f"{RECORDS}_{suffix}", f"{WORDS}_{suffix}"
    new_texts = f"{TEXTS}_{suffix}"
    procs = max(1, min(int(procs or 1), os.cpu_count() or 1))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(META_DDL)
        try:
            done = 0
            dfs: Counter = Counter()
            # created and loaded in one transaction: COPY ... FREEZE writes the rows frozen and
            # the pages all-visible (no VACUUM pass, and counts over the GIN index skip the heap)
            # the texts stream through a second connection at the same time
            with (
                psycopg.connect(dsn, autocommit=True) as conn2,
                conn.transaction(),
                conn2.transaction(),
                conn.cursor() as cur,
                conn2.cursor() as cur2,
            ):
                cur.execute(records_ddl(new_records))
                cur.execute(words_ddl(new_words))
                cur2.execute(texts_ddl(new_texts))
                with (
                    cur.copy(f"COPY {new_records} FROM STDIN WITH (FREEZE)") as cp,
                    cur2.copy(f"COPY {new_texts} FROM STDIN WITH (FREEZE)") as cp2,
                ):
                    for text, texts, batch_dfs, n in _produce(vocab, records, procs):
                        cp.write(text)
                        cp2.write(texts)
                        dfs.update(batch_dfs)
                        done += n
                        if progress is not None:
                            progress(done)
                with cur.copy(f"COPY {new_words} FROM STDIN WITH (FREEZE)") as cp:
                    for w, n in dfs.items():
                        cp.write(copy_line((w, n)))
            _build_indexes(dsn, new_records, new_texts, suffix, procs)
            conn.execute(f"ANALYZE {new_records}")
            conn.execute(f"ANALYZE {new_texts}")
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
                cur.execute(f"DROP TABLE IF EXISTS {RECORDS}")
                cur.execute(f"DROP TABLE IF EXISTS {WORDS}")
                cur.execute(f"DROP TABLE IF EXISTS {TEXTS}")
                cur.execute(f"ALTER TABLE {new_records} RENAME TO {RECORDS}")
                cur.execute(f"ALTER TABLE {new_texts} RENAME TO {TEXTS}")
                cur.execute(f"ALTER TABLE {new_words} RENAME TO {WORDS}")
                cur.execute(f"CREATE SEQUENCE IF NOT EXISTS {DOCNUM_SEQ}")
                cur.execute("SELECT setval(%s, %s, true)", (DOCNUM_SEQ, max(done, 1)))
                update_stats(cur)
                _set_meta(cur, {"schema_version": str(SCHEMA_VERSION), "vocabulary": vocab.version})
        except BaseException:
            conn.execute(f"DROP TABLE IF EXISTS {new_records}")
            conn.execute(f"DROP TABLE IF EXISTS {new_words}")
            conn.execute(f"DROP TABLE IF EXISTS {new_texts}")
            raise


def _build_indexes(dsn: str, table: str, texts: str, suffix: str, procs: int) -> None:
    stmts = index_ddl(table, texts, suffix)
    errors: list[BaseException] = []

    def run(todo: list[str]) -> None:
        try:
            with psycopg.connect(dsn, autocommit=True) as c:
                c.execute(f"SET maintenance_work_mem = '{MAINTENANCE_MEM}'")
                for s in todo:
                    c.execute(s)
        except BaseException as e:  # reported by the caller
            errors.append(e)

    if procs <= 1:
        run(stmts)
    else:
        # the gram index (the largest) on one connection, the others on a second
        threads = [
            threading.Thread(target=run, args=(stmts[:1],)),
            threading.Thread(target=run, args=(stmts[1:],)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]


__all__ = ["rebuild", "update_stats", "copy_line"]
