"""The PostgreSQL backend of :class:`indexer.search.engine.SearchEngine` (psycopg 3).

Every node of a deployment opens one of these on the same database and sees the same index:
a writer's commit is visible to the next search of any process. Writers serialize on an
advisory lock; searches read one REPEATABLE READ snapshot each (one connection per thread),
never lock and never write. Errors reach callers as :class:`library.errors.SearchIndexError` /
:class:`UsageError` with Chinese messages, never as psycopg exceptions.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

import psycopg

from indexer.ingest.normalize import for_search
from indexer.search import plan as P
from indexer.search.engine import SearchRequest
from indexer.search.highlight import highlight as _highlight
from indexer.search.jieba_words import register_vocabulary, word_tokens
from indexer.search.postgres import build, searching
from indexer.search.postgres.schema import (
    DOCNUM_SEQ,
    META,
    RECORDS,
    SCHEMA_VERSION,
    TEXTS,
    WORDS,
    record_row,
)
from indexer.search.query import ParsedQuery, Term, format_query, parse
from indexer.search.records import IndexRecord
from indexer.search.text import gram_terms
from library.errors import SearchIndexError
from library.taxonomy import Taxonomy

SEARCH_BUDGET_S = 1.5
RESERVE_S = 0.3
FEW_RESULTS = 2
SLIP_FACTOR = 5
MAX_SLIP_TRIES = 12
WRITE_LOCK = 0x1EC7_0512  # advisory lock key of the index writers


class PgSearchEngine:
    def __init__(self, dsn: str, vocab, taxonomy: Taxonomy | None = None, *, home=None):
        self.dsn = dsn
        self.vocab = vocab
        self.taxonomy = taxonomy or Taxonomy.load(home)
        register_vocabulary(vocab)
        self._local = threading.local()
        self._conns: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self.budget_s = SEARCH_BUDGET_S

    # -- connections -----------------------------------------------------------------------

    def _conn(self) -> psycopg.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            try:
                conn = psycopg.connect(self.dsn, autocommit=True)
            except psycopg.Error as e:
                raise SearchIndexError(
                    "无法连接搜索数据库。", "请检查数据库地址（database_url）与数据库服务。"
                ) from e
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def _read(self):
        """A read-only REPEATABLE READ transaction: one snapshot for the whole search."""
        conn = self._conn()
        return conn.transaction(), conn

    def close(self) -> None:
        with self._lock:
            for c in self._conns:
                try:
                    c.close()
                except psycopg.Error:
                    pass
            self._conns.clear()
        self._local = threading.local()

    # -- lifecycle -------------------------------------------------------------------------

    def status(self) -> str:
        try:
            conn = self._conn()
            with conn.cursor() as cur:
                cur.execute("SELECT to_regclass(%s), to_regclass(%s)", (META, RECORDS))
                meta, recs = cur.fetchone()
                if meta is None:
                    return "missing"
                cur.execute(f"SELECT key, value FROM {META}")
                m = dict(cur.fetchall())
        except SearchIndexError:
            return "corrupt"
        except psycopg.Error:
            return "corrupt"
        if "schema_version" not in m:
            return "missing"
        if recs is None:
            return "corrupt"
        if m["schema_version"] != str(SCHEMA_VERSION) or m.get("vocabulary") != self.vocab.version:
            return "stale"
        return "ok"

    def _require(self) -> None:
        st = self.status()
        if st == "ok":
            return
        if st == "missing":
            raise SearchIndexError(
                "搜索索引尚未建立。", "请先入库材料，或运行 lecturelib reindex。"
            )
        if st == "stale":
            raise SearchIndexError(
                "搜索索引已过期（词典、同义词或索引格式有变化）。",
                "请运行 lecturelib reindex 重建索引。",
            )
        raise SearchIndexError("搜索索引已损坏。", "请运行 lecturelib reindex 重建索引。")

    def rebuild(
        self,
        records: Iterable[IndexRecord | Mapping],
        *,
        total: int | None = None,
        progress: Callable[[int], None] | None = None,
        procs: int = 2,
    ) -> None:
        """Load the records into new tables (``COPY``, rows made by ``procs`` worker processes),
        index them, and swap them in in one transaction: searches keep answering from the old
        tables meanwhile."""
        try:
            build.rebuild(
                self.dsn,
                self.vocab,
                (IndexRecord.coerce(r) for r in records),
                progress=progress,
                procs=procs,
                lock=WRITE_LOCK,
            )
        except psycopg.Error as e:
            raise SearchIndexError("重建搜索索引失败。", f"数据库错误：{e}") from e

    def apply(self, upserts: Sequence[IndexRecord | Mapping], deletes: Sequence[str]) -> None:
        ups = [IndexRecord.coerce(r) for r in upserts]
        st = self.status()
        if st == "missing":
            self.rebuild([], procs=1)
        else:
            self._require()
        tok = P.tokenizer(self.vocab)
        conn = self._conn()
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                gone = list(dict.fromkeys([*deletes, *(r.id for r in ups)]))
                self._remove(cur, gone)
                if ups:
                    cur.execute(
                        f"SELECT nextval('{DOCNUM_SEQ}') FROM generate_series(1, %s)", (len(ups),)
                    )
                    nums = [r[0] for r in cur.fetchall()]
                    new_words: Counter = Counter()
                    rows = [record_row(rec, dn, tok) for rec, dn in zip(ups, nums)]
                    with cur.copy(f"COPY {RECORDS} FROM STDIN") as cp:
                        for row, _, counts in rows:
                            new_words.update(counts.keys())
                            cp.write(build.copy_line(row))
                    with cur.copy(f"COPY {TEXTS} FROM STDIN") as cp:
                        for _, text, _ in rows:
                            cp.write(build.copy_line(text))
                    if new_words:
                        cur.execute(
                            f"INSERT INTO {WORDS} (word, df) SELECT * FROM unnest(%s::text[], "
                            "%s::int[]) ON CONFLICT (word) DO UPDATE SET df = "
                            f"{WORDS}.df + EXCLUDED.df",
                            (list(new_words), list(new_words.values())),
                        )
                build.update_stats(cur)
        except psycopg.Error as e:
            raise SearchIndexError("更新搜索索引失败。", f"数据库错误：{e}") from e

    def _remove(self, cur, ids: list[str]) -> None:
        if not ids:
            return
        cur.execute(
            f"WITH old AS (SELECT u.lexeme AS w, count(*) AS n FROM {RECORDS} r JOIN {TEXTS} t "
            "ON t.docnum = r.docnum, unnest(t.words) u WHERE r.id = ANY(%s) GROUP BY 1) "
            f"UPDATE {WORDS} s SET df = s.df - old.n FROM old WHERE s.word = old.w",
            (ids,),
        )
        cur.execute(
            f"DELETE FROM {TEXTS} t USING {RECORDS} r WHERE t.docnum = r.docnum AND r.id = ANY(%s)",
            (ids,),
        )
        cur.execute(f"DELETE FROM {RECORDS} WHERE id = ANY(%s)", (ids,))
        cur.execute(f"DELETE FROM {WORDS} WHERE df <= 0")

    def delete(self, ids: Iterable[str]) -> None:
        self.apply([], list(ids))

    def ids(self) -> set[str]:
        self._require()
        with self._conn().cursor() as cur:
            cur.execute(f"SELECT id FROM {RECORDS}")
            return {r[0] for r in cur.fetchall()}

    # -- searching -------------------------------------------------------------------------

    def _stats(self, cur) -> dict:
        cur.execute(f"SELECT key, value FROM {META} WHERE key IN ('doc_count', 'word_total')")
        return searching.stats_of(dict(cur.fetchall()))

    def _begin(self, cur, budget) -> tuple[dict, searching.Timeout]:
        """Open a search's snapshot (searching.begin) and check the index is current."""
        meta, timeout = searching.begin(cur, budget)
        if (
            meta.get("schema_version") != str(SCHEMA_VERSION)
            or meta.get("vocabulary") != self.vocab.version
        ):
            raise _NotReady
        return searching.stats_of(meta), timeout

    def _run(self, cur, plan, stats, budget, timeout=None, **kw) -> dict:
        return searching.run_search(cur, plan, stats, budget=budget, timeout=timeout, **kw)

    def search(self, query: str | ParsedQuery | SearchRequest = "", /, **options) -> dict:
        req = SearchRequest.of(query, **options)
        filters = req.filters.as_kwargs()
        plan = P.build_plan(req.query, self.vocab, self.taxonomy, **filters)
        limit, page, sort = req.limit, req.page, req.sort
        budget = P.Budget(self.budget_s if req.budget_s is None else req.budget_s)
        conn = self._conn()
        out = None
        try:
            with conn.transaction(), conn.cursor() as cur:
                stats, timeout = self._begin(cur, budget)
                out = self._run(
                    cur, plan, stats, budget, timeout, limit=limit, page=page, sort=sort
                )
                if out["total"] <= FEW_RESULTS and page == 1 and budget.left() > RESERVE_S:
                    slip = self._homophone_slip(
                        cur, stats, plan, out["total"], filters, budget, timeout
                    )
                    if slip is not None and out["total"] == 0:
                        corrected = self._run(
                            cur,
                            slip["plan"],
                            stats,
                            budget,
                            timeout,
                            limit=limit,
                            page=page,
                            sort=sort,
                        )
                        corrected["query"] = out["query"]
                        corrected["corrected"] = {
                            "from": req.text,
                            "to": slip["query"],
                            "original_total": 0,
                        }
                        corrected.setdefault("suggestions", [])
                        return corrected
                    if slip is not None:
                        out["suggestions"] = [
                            {"kind": "homophone", "query": slip["query"], "total": slip["total"]}
                        ]
                if out["total"] == 0 and budget.left() > RESERVE_S:
                    out["suggestions"] = out.get("suggestions", []) + self._suggestions(
                        cur, stats, plan, budget, timeout
                    )
        except (_NotReady, psycopg.errors.UndefinedTable):
            self._require()
            raise _read_error() from None
        except (psycopg.errors.QueryCanceled, psycopg.errors.InFailedSqlTransaction) as e:
            # the budget ran out looking for a better query (a busy server, a slow homophone
            # count): answer what was found, as the Whoosh backend does
            if out is None:
                if isinstance(e, psycopg.errors.QueryCanceled):
                    raise SearchIndexError("搜索超时。", "请输入更具体的词语。") from None
                raise _read_error() from e
        except psycopg.Error as e:
            raise _read_error() from e
        out.setdefault("suggestions", [])
        return out

    def facets(self, query: str | ParsedQuery | SearchRequest = "", /, **options) -> dict:
        req = SearchRequest.of(query, **options)
        return self.search(
            SearchRequest(req.query, req.filters, limit=1, page=1, budget_s=req.budget_s)
        )["facets"]

    def suggest(self, query: str | ParsedQuery | SearchRequest = "", /, **options) -> list[dict]:
        req = SearchRequest.of(query, **options)
        plan = P.build_plan(req.query, self.vocab, self.taxonomy, **req.filters.as_kwargs())
        budget = P.Budget(self.budget_s if req.budget_s is None else req.budget_s)
        conn = self._conn()
        try:
            with conn.transaction(), conn.cursor() as cur:
                stats, timeout = self._begin(cur, budget)
                return self._suggestions(cur, stats, plan, budget, timeout)
        except (_NotReady, psycopg.errors.UndefinedTable):
            self._require()
            raise _read_error() from None
        except psycopg.Error as e:
            raise _read_error() from e

    def highlight(self, text: str, query: str | ParsedQuery, *, snippet: bool = True) -> str:
        plan = P.build_plan(query, self.vocab, self.taxonomy)
        return _highlight(text or "", plan.patterns, snippet=snippet)

    def _gram_freqs(self, cur, grams: Iterable[str]) -> dict[str, int]:
        grams = list(dict.fromkeys(grams))
        if not grams:
            return {}
        cur.execute(
            f"SELECT g, (SELECT count(*) FROM {RECORDS} WHERE grams @@ "
            "(quote_literal(g))::tsquery) FROM unnest(%s::text[]) g",
            (grams,),
        )
        return dict(cur.fetchall())

    def _homophone_slip(self, cur, stats, plan, total, filters, budget, timeout) -> dict | None:
        try:
            from indexer.search.homophone import same_sound, variants
        except ImportError:
            return None
        pq = plan.pq
        # every bigram variants() may ask about, counted in one statement
        wanted = set()
        for clause in pq.clauses:
            for term in clause:
                if term.negated or term.phrase:
                    continue
                t = for_search(term.text)
                for i, ch in enumerate(t):
                    for alt in same_sound(ch):
                        if i > 0:
                            wanted.add(t[i - 1] + alt)
                        if i + 1 < len(t):
                            wanted.add(alt + t[i + 1])
        timeout.refresh(cur)
        freqs = self._gram_freqs(cur, wanted)

        def doc_freq(bigram: str) -> int:
            if bigram not in freqs:
                freqs.update(self._gram_freqs(cur, [bigram]))
            return freqs.get(bigram, 0)

        tried = 0
        best = None
        for ci, clause in enumerate(pq.clauses):
            for ti, term in enumerate(clause):
                if term.negated or term.phrase:
                    continue
                for v in variants(for_search(term.text), doc_freq):
                    if tried >= MAX_SLIP_TRIES or budget.left() < RESERVE_S:
                        break
                    tried += 1
                    clauses = [list(c) for c in pq.clauses]
                    clauses[ci][ti] = Term(v)
                    pq2 = ParsedQuery(
                        raw="", clauses=clauses, filters={k: list(x) for k, x in pq.filters.items()}
                    )
                    pq2.raw = format_query(pq2)
                    p2 = P.build_plan(pq2, self.vocab, self.taxonomy, **filters)
                    res = self._run(cur, p2, stats, budget, timeout, limit=1)
                    n = res["total"]
                    if n >= max(1, SLIP_FACTOR * total) and (best is None or n > best["total"]):
                        best = {"query": pq2.raw, "total": n, "plan": p2}
        return best

    def _suggestions(self, cur, stats, plan, budget=None, timeout=None) -> list[dict]:
        out: list[dict] = []
        try:
            from indexer.search.suggest import close_terms, relaxations
        except ImportError:
            return out
        for q in relaxations(plan.pq)[:6]:
            if not q.strip():
                continue
            if budget is not None and budget.left() < RESERVE_S:
                break
            p2 = P.build_plan(parse(q), self.vocab, self.taxonomy)
            res = self._run(cur, p2, stats, budget, timeout, limit=1)
            if res.get("partial"):
                continue
            if res["total"]:
                out.append({"kind": "query", "query": q, "total": res["total"]})
            if len(out) >= 3:
                break
        for clause in plan.pq.positive_clauses():
            for t in clause:
                for w in close_terms(t.text, self.vocab, limit=3):
                    if for_search(w) == for_search(t.text):
                        continue
                    if budget is not None and budget.left() < RESERVE_S:
                        return out
                    p2 = P.build_plan(w, self.vocab, self.taxonomy)
                    res = self._run(cur, p2, stats, budget, timeout, limit=1)
                    if res["total"]:
                        out.append({"kind": "term", "query": w, "total": res["total"]})
        return out

    def explain(self, query: str) -> dict:
        plan = P.build_plan(query, self.vocab, self.taxonomy)
        tok = P.tokenizer(self.vocab)
        clauses = [
            [
                {
                    "text": f.text,
                    "normalized": for_search(f.text),
                    "runs": f.runs,
                    "words": f.words,
                    "grams": gram_terms(for_search(f.text)),
                }
                for f in clause
            ]
            for clause in plan.clauses
        ]
        compiled = searching.describe(plan) if self.status() == "ok" else None
        norm = for_search(query or "")
        return {
            "query": query,
            "normalized": norm,
            "parsed": {
                "clauses": [
                    [{"text": t.text, "phrase": t.phrase, "negated": t.negated} for t in c]
                    for c in plan.pq.clauses
                ],
                "filters": plan.pq.filters,
            },
            "tokens": {
                "words": [w for w, _, _ in word_tokens(norm, tok)],
                "grams": gram_terms(norm),
            },
            "clauses": clauses,
            "negated": [f.text for f in plan.negated],
            "filters": plan.filters,
            "compiled": compiled,
        }

    def autocomplete(self, prefix: str, limit: int = 10) -> list[dict]:
        """Dictionary terms, document titles and quotes beginning with ``prefix``."""
        return P.autocomplete(self, prefix, limit)

    def more_like_this(self, hit_id: str, limit: int = 10) -> list[dict]:
        """Hits sharing the most distinctive words of ``hit_id``'s text (itself excluded),
        ranked by BM25F over those words, collapsed per document."""
        self._require()
        conn = self._conn()
        try:
            with conn.transaction(), conn.cursor() as cur:
                stats, _ = self._begin(cur, None)
                cur.execute(
                    f"SELECT r.docnum, t.rec FROM {RECORDS} r JOIN {TEXTS} t ON t.docnum = r.docnum "
                    "WHERE r.id = %s",
                    (hit_id,),
                )
                row = cur.fetchone()
                if row is None:
                    return []
                dn, rec = row
                tok = P.tokenizer(self.vocab)
                counts = Counter(
                    w for w, _, _ in word_tokens(for_search(rec.get("text") or ""), tok)
                )
                cur.execute(f"SELECT word, df FROM {WORDS} WHERE word = ANY(%s)", (list(counts),))
                dfs = dict(cur.fetchall())
                top = searching.top_words(counts, dfs, max(stats["doc_count"], 1))
                if not top:
                    return []
                q = " | ".join(searching._lex(w) for w in top)
                cur.execute(f"SELECT docnum FROM {TEXTS} WHERE words @@ %s::tsquery", (q,))
                cand = [r[0] for r in cur.fetchall()]
                scores = searching.bm25_scores(cur, top, cand, stats)
                best = sorted(cand, key=lambda d: (-scores.get(d, 0.0), d))[: limit * 3 + 1]
                best = [d for d in best if d != dn]
                recs = searching._records(cur, best)
        except (_NotReady, psycopg.errors.UndefinedTable):
            self._require()
            raise _read_error() from None
        except psycopg.Error as e:
            raise _read_error() from e
        plan = P.build_plan("", self.vocab, self.taxonomy)
        collapsed = P.collapse(
            [(scores.get(d, 0.0), P.Candidate(d, scores.get(d, 0.0), recs[d])) for d in best]
        )
        return [P.format_hit(r, s, plan, more) for s, r, more in collapsed[:limit]]


class _NotReady(Exception):
    """The index is missing, stale or damaged: ``_require`` says which."""


def _read_error() -> SearchIndexError:
    return SearchIndexError(
        "搜索索引读取失败，可能已损坏。", "请运行 lecturelib check --repair 或 lecturelib reindex。"
    )


__all__ = ["PgSearchEngine"]
