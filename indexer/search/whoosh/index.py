"""The Whoosh backend of :class:`indexer.search.engine.SearchEngine`.

Whoosh stays behind this class (decision 2 of the architecture guide): callers hand it
:class:`~indexer.search.records.IndexRecord` values and
:class:`~indexer.search.engine.SearchRequest` queries and get plain dicts back. Errors reach callers as
:class:`library.errors.SearchIndexError` / :class:`UsageError` with Chinese messages, never as
Whoosh exceptions.

``writer`` chooses how segments are written: ``"bulk"`` (default; ``writer.BulkSegmentWriter``,
in-memory postings written a block at a time through Whoosh's private internals) or
``"public"`` (Whoosh's own ``IndexWriter`` API only: slower, the same schema and analyzers, the
same answers).
"""

from __future__ import annotations

import copy
import os
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from indexer.ingest.normalize import for_search
from indexer.search import plan as P
from indexer.search.engine import SearchRequest
from indexer.search.highlight import highlight as _highlight
from indexer.search.query import ParsedQuery, parse
from indexer.search.records import IndexRecord
from indexer.search.text import gram_terms
from indexer.search.whoosh import analysis, searching, writer
from library.errors import SearchIndexError
from library.taxonomy import Taxonomy

SEARCH_BUDGET_S = 1.5  # a search answers within this (settings: search_budget_ms)
RESERVE_S = 0.3  # suggestions and slip checks only run while this much budget is left
FEW_RESULTS = 2  # at most this many hits: look for a homophone slip
SLIP_FACTOR = 5  # ... and offer it when it finds at least this many times more
MAX_SLIP_TRIES = 12  # same-sounding variants run at most per search
WRITERS = ("bulk", "public")


class SearchIndex:
    def __init__(
        self, path: Path, vocab, taxonomy: Taxonomy | None = None, *, writer: str = "bulk"
    ):
        if writer not in WRITERS:
            raise ValueError(f"unknown search writer {writer!r}")
        self.path = Path(path)
        self.vocab = vocab
        self.writer = writer
        self.taxonomy = taxonomy or Taxonomy.load(self.path.parent)
        analysis.register_vocabulary(vocab)
        self._ix = None
        self._ix_lock = threading.Lock()
        self._local = threading.local()  # each thread reads its own snapshot
        self._snapshots: set[_Snapshot] = set()
        self._epoch = 0  # bumped when a rebuild swaps the index in
        self._results = _ResultCache()
        # facet bitmaps of the newest generation, built by the first thread that needs them and
        # shared by all (pure data; rebuilding them in each of 16 threads after every commit
        # cost 24 ms a thread and made searches wait while editors published)
        self._facets: tuple[tuple, searching.FacetCache] | None = None
        self._facets_lock = threading.Lock()
        self._sets: tuple[tuple, dict] | None = None
        self.budget_s = SEARCH_BUDGET_S

    # -- lifecycle -------------------------------------------------------------------------

    def status(self) -> str:
        """ "ok" | "missing" | "stale" | "corrupt"."""
        return writer.status(self.path, self.vocab)

    def rebuild(
        self,
        records: Iterable[IndexRecord | Mapping],
        *,
        total: int | None = None,
        progress: Callable[[int], None] | None = None,
        procs: int = 2,
    ) -> None:
        """Build a new index beside the live one and swap it in (``writer.rebuild``): searches
        keep answering from their snapshot of the old index meanwhile, and move to the new one
        on their next query."""
        writer.rebuild(
            self.path,
            self.vocab,
            (IndexRecord.coerce(r) for r in records),
            total=total,
            progress=progress,
            procs=procs,
            public=self._public,
        )
        with self._ix_lock:
            self._ix = None
            self._epoch += 1

    def apply(self, upserts: Sequence[IndexRecord | Mapping], deletes: Sequence[str]) -> None:
        ix = self._index(create=True)
        writer.apply(
            ix, [IndexRecord.coerce(r) for r in upserts], list(deletes), public=self._public
        )
        self._refresh()

    def delete(self, ids: Iterable[str]) -> None:
        self.apply([], list(ids))

    @property
    def _public(self) -> bool:
        return self.writer == "public"

    def ids(self) -> set[str]:
        s = self._search()
        r = s.reader()
        out = set()
        for tb in r.lexicon("id"):
            if r.postings("id", tb).is_active():
                out.add(tb.decode("utf-8"))
        return out

    def close(self) -> None:
        for snap in list(self._snapshots):
            snap.close()
        self._snapshots.clear()
        self._local = threading.local()
        if self._ix is not None:
            self._ix.close()
        self._ix = None

    # -- searching -------------------------------------------------------------------------

    def search(self, query: str | ParsedQuery | SearchRequest = "", /, **options) -> dict:
        req = SearchRequest.of(query, **options)
        snap = self._snap()
        gen = snap.generation
        if gen is None:  # an empty index: nothing worth keeping
            return self._search_uncached(req, snap)
        key = (gen, self._epoch, self.vocab.version, self.budget_s, repr(req))
        hit = self._results.get(key)
        if hit is not None:
            return copy.deepcopy(hit)
        try:
            out = self._search_uncached(req, snap)
        except (SearchIndexError, TypeError):
            # A writer in another process merged segments away between this thread's
            # snapshot and its reads (seen as a TypeError in stored fields under heavy writes):
            # read once more from a fresh snapshot. With no commit since, the error is real.
            if snap.up_to_date():
                raise
            self._drop_snapshot(snap)
            snap = self._snap()
            try:
                out = self._search_uncached(req, snap)
            except TypeError as e:
                raise _read_error() from e
            key = (snap.generation, self._epoch, self.vocab.version, self.budget_s, repr(req))
        if not out.get("partial") and snap.generation is not None:
            self._results.put(key, copy.deepcopy(out))
        return out

    def _drop_snapshot(self, snap) -> None:
        if getattr(self._local, "snap", None) is snap:
            self._local.snap = None
        snap.close()
        self._snapshots.discard(snap)

    def _search_uncached(self, req: SearchRequest, snap: _Snapshot) -> dict:
        filters = req.filters.as_kwargs()
        plan = searching.build_plan(req.query, self.vocab, self.taxonomy, **filters)
        limit, page, sort = req.limit, req.page, req.sort
        # the budget counts the search, not a cold process loading jieba or opening the index
        budget = searching.Budget(self.budget_s if req.budget_s is None else req.budget_s)
        try:
            out = searching.run_search(
                snap.searcher,
                snap.docsets,
                snap.facets,
                plan,
                limit=limit,
                page=page,
                sort=sort,
                budget=budget,
            )
            if out["total"] <= FEW_RESULTS and page == 1 and budget.left() > RESERVE_S:
                slip = self._homophone_slip(plan, out["total"], filters, budget)
                if slip is not None and out["total"] == 0:
                    # nothing found, a same-sounding query finds much: show its results
                    corrected = searching.run_search(
                        snap.searcher,
                        snap.docsets,
                        snap.facets,
                        slip["plan"],
                        limit=limit,
                        page=page,
                        sort=sort,
                        budget=budget,
                    )
                    corrected["query"] = out["query"]
                    corrected["corrected"] = {
                        "from": req.text,
                        "to": slip["query"],
                        "original_total": 0,
                    }
                    return _answer(corrected)
                if slip is not None:
                    out["suggestions"] = [
                        {"kind": "homophone", "query": slip["query"], "total": slip["total"]}
                    ]
            if out["total"] == 0 and budget.left() > RESERVE_S:
                out["suggestions"] = out.get("suggestions", []) + self._suggestions(plan, budget)
        except (OSError, ValueError, KeyError, EOFError) as e:
            raise _read_error() from e
        return _answer(out)

    def facets(self, query: str | ParsedQuery | SearchRequest = "", /, **options) -> dict:
        """Facet counts of everything the query finds (the ``facets`` of its answer)."""
        req = SearchRequest.of(query, **options)
        return self.search(
            SearchRequest(req.query, req.filters, limit=1, page=1, budget_s=req.budget_s)
        )["facets"]

    def suggest(self, query: str | ParsedQuery | SearchRequest = "", /, **options) -> list[dict]:
        """Looser queries and close dictionary terms that find something (what a search that
        finds nothing offers), within the search budget."""
        req = SearchRequest.of(query, **options)
        plan = searching.build_plan(req.query, self.vocab, self.taxonomy, **req.filters.as_kwargs())
        budget = searching.Budget(self.budget_s if req.budget_s is None else req.budget_s)
        try:
            return self._suggestions(plan, budget)
        except (OSError, ValueError, KeyError, EOFError) as e:
            raise _read_error() from e

    def highlight(self, text: str, query: str | ParsedQuery, *, snippet: bool = True) -> str:
        """``text`` as HTML with what ``query`` matches (its synonyms too) in ``<mark>``."""
        plan = searching.build_plan(query, self.vocab, self.taxonomy)
        return _highlight(text or "", plan.patterns, snippet=snippet)

    def _homophone_slip(
        self, plan, total: int, filters: dict, budget: searching.Budget
    ) -> dict | None:
        """The same-sounding query that finds much more than ``total`` (a typing slip such as
        绿水清山 for 绿水青山), or None. Phrases in ASCII quotes are taken as typed."""
        from indexer.search.query import ParsedQuery, Term, format_query

        pq = plan.pq
        tried = 0
        best = None
        try:
            from indexer.search.homophone import variants
        except ImportError:  # pypinyin missing: no correction
            return None
        snap = self._snap()
        reader = snap.searcher.reader()

        def doc_freq(bigram: str) -> int:
            return reader.doc_frequency("grams", bigram)

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
                    p2 = searching.build_plan(pq2, self.vocab, self.taxonomy, **filters)
                    res = searching.run_search(
                        snap.searcher, snap.docsets, snap.facets, p2, limit=1, budget=budget
                    )
                    n = res["total"]
                    if n >= max(1, SLIP_FACTOR * total) and (best is None or n > best["total"]):
                        best = {"query": pq2.raw, "total": n, "plan": p2}
        return best

    def explain(self, query: str) -> dict:
        plan = searching.build_plan(query, self.vocab, self.taxonomy)
        tok = analysis.jieba_for(self.vocab.version, tuple(self.vocab.terms))
        clauses = []
        for clause in plan.clauses:
            clauses.append(
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
            )
        compiled = None
        if self.status() == "ok":
            compiled = searching.describe(plan, self._search().reader())
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
                "words": [w for w, _, _ in analysis.word_tokens(norm, tok)],
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
        """Hits sharing the most distinctive words of ``hit_id``'s text (itself excluded)."""
        from whoosh import query as wq

        s = self._search()
        r = s.reader()
        dn = s.document_number(id=hit_id)
        if dn is None:
            return []
        rec = s.stored_fields(dn)["rec"]
        tok = analysis.jieba_for(self.vocab.version, tuple(self.vocab.terms))
        counts = Counter(analysis.words(rec.get("text") or "", tok))
        n = max(r.doc_count(), 1)
        import math

        def weight(w):
            df = r.doc_frequency("body", w)
            return counts[w] * math.log(1 + n / (1 + df)) if df else 0.0

        top = sorted(
            (w for w in counts if len(w) > 1 or not re.match(r"\W", w)), key=weight, reverse=True
        )[:12]
        if not top:
            return []
        q = wq.Or([wq.Term("body", w) for w in top])
        res = s.search(q, limit=limit * 3 + 1)
        plan = searching.build_plan("", self.vocab, self.taxonomy)
        cands = [
            (
                res.score(i),
                searching.Candidate(
                    res.docnum(i), res.score(i), s.stored_fields(res.docnum(i))["rec"]
                ),
            )
            for i in range(res.scored_length())
            if res.docnum(i) != dn
        ]
        hits = [
            searching.format_hit(c, score, plan, more)
            for score, c, more in searching.collapse(cands)[:limit]
        ]
        return hits

    # -- internals -------------------------------------------------------------------------

    def _index(self, create: bool = False):
        if self._ix is None:
            st = self.status()
            if st == "missing" and create:
                self._ix = writer.create_empty(self.path, self.vocab)
            elif st == "ok":
                self._ix = writer.open_index(self.path, self.vocab)
            elif st == "missing":
                raise SearchIndexError(
                    "搜索索引尚未建立。", "请先入库材料，或运行 lecturelib reindex。"
                )
            elif st == "stale":
                raise SearchIndexError(
                    "搜索索引已过期（词典、同义词或索引格式有变化）。",
                    "请运行 lecturelib reindex 重建索引。",
                )
            else:
                raise SearchIndexError("搜索索引已损坏。", "请运行 lecturelib reindex 重建索引。")
        return self._ix

    def _snap(self) -> _Snapshot:
        """This thread's view of the newest committed index: a searcher with its doc-number
        sets and facet bitmaps, reopened when a writer (in any process) has committed since.
        Searches never write, never wait for a lock, and never share a searcher across
        threads."""
        snap = getattr(self._local, "snap", None)
        if snap is not None and not snap.closed and snap.epoch == self._epoch and snap.up_to_date():
            return snap
        with self._ix_lock:
            ix = self._index()
            epoch = self._epoch
        fresh = _Snapshot(ix, epoch, self._shared_facets, self._shared_sets)
        self._snapshots.add(fresh)
        if snap is not None:
            snap.close()
            self._snapshots.discard(snap)
        self._local.snap = fresh
        return fresh

    def _shared_sets(self, snap: _Snapshot) -> dict | None:
        """The term-set cache shared by this process's snapshots of one index generation."""
        key = (snap.epoch, snap.generation)
        if key[1] is None:
            return None
        with self._facets_lock:
            if self._sets is None or self._sets[0] != key:
                self._sets = (key, {})
            return self._sets[1]

    def _shared_facets(self, snap: _Snapshot) -> searching.FacetCache:
        key = (snap.epoch, snap.generation)
        if key[1] is None:
            return searching.FacetCache(snap.docsets)
        with self._facets_lock:
            if self._facets is None or self._facets[0] != key:
                self._facets = (key, searching.FacetCache(snap.docsets))
            return self._facets[1]

    def _search(self):
        return self._snap().searcher

    def _refresh(self):
        # Not Searcher.refresh(): whoosh-reloaded 2.7.5 reuses the old segment readers by
        # segment identity, so a segment whose deletions changed keeps its stale reader (deleted
        # documents stay findable) and merged-away segments are added back. A fresh snapshot
        # after each commit costs a few milliseconds.
        snap = getattr(self._local, "snap", None)
        if snap is not None:
            snap.close()
            self._snapshots.discard(snap)
            self._local.snap = None

    def _suggestions(self, plan, budget: searching.Budget | None = None) -> list[dict]:
        """Relaxed queries that do find something, then dictionary terms close to the words."""
        out: list[dict] = []
        try:
            from indexer.search.suggest import close_terms, relaxations
        except ImportError:
            return out
        snap = self._snap()
        for q in relaxations(plan.pq)[:6]:
            if not q.strip():
                continue
            if budget is not None and budget.left() < RESERVE_S:
                break
            p2 = searching.build_plan(parse(q), self.vocab, self.taxonomy)
            res = searching.run_search(
                snap.searcher, snap.docsets, snap.facets, p2, limit=1, budget=budget
            )
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
                    # a suggestion must lead somewhere: only terms the library holds
                    p2 = searching.build_plan(w, self.vocab, self.taxonomy)
                    res = searching.run_search(
                        snap.searcher, snap.docsets, snap.facets, p2, limit=1, budget=budget
                    )
                    if res["total"]:
                        out.append({"kind": "term", "query": w, "total": res["total"]})
        return out


def _dir_id(ix):
    """The identity (device, inode) of the directory an index reads from, None if unknown."""
    try:
        st = os.stat(ix.storage.folder)
        return (st.st_dev, st.st_ino)
    except (AttributeError, OSError):
        return None


class _Snapshot:
    """One thread's searcher over one committed index generation, with the per-searcher caches
    (doc-number sets, facet bitmaps) built from it."""

    def __init__(self, ix, epoch: int = 0, shared_facets=None, shared_sets=None):
        self.epoch = epoch
        self._key = False  # computed on first use (see generation)
        self._dir = _dir_id(ix)  # a rebuild renames a new directory into place
        self.searcher = ix.searcher()
        self.docsets = searching.DocSets(self.searcher.reader())
        if shared_sets is not None:
            self.docsets._shared = shared_sets(self)
        self._facets = None
        self._shared_facets = shared_facets
        self.closed = False

    @property
    def facets(self) -> searching.FacetCache:
        if self._facets is None:
            self._facets = (
                self._shared_facets(self)
                if self._shared_facets is not None
                else searching.FacetCache(self.docsets)
            )
        return self._facets

    @property
    def generation(self):
        """What this snapshot reads, as a key of the caches shared by threads: the committed
        generation and the ids of its segments. The generation alone is not enough: a rebuild
        (by any process) swaps in a new index directory whose generations start again at 1,
        while segment ids are new random names. None for an index without segments."""
        if self._key is False:
            try:
                reader = self.searcher.reader()
                gen = reader.generation()
                segs = tuple(sorted(r.segment().segment_id() for r, _ in reader.leaf_readers()))
                self._key = (gen, segs) if isinstance(gen, int) and segs else None
            except (AttributeError, TypeError):
                self._key = None
        return self._key

    def up_to_date(self) -> bool:
        """No writer has committed since this snapshot was taken. (Whoosh's own check raises
        TypeError on an index without segments, a new empty library: taken as "reopen".)"""
        try:
            # Whoosh compares generation numbers only; a rebuild by another process swaps in a
            # directory whose generations start again, so the directory must be the same too
            return self.searcher.up_to_date() and _dir_id(self.searcher._ix) == self._dir
        except (TypeError, AttributeError):
            return False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.searcher.close()


class _ResultCache:
    """The answers of recent searches, keyed by the index generation they were computed on
    (a commit in any process makes a new generation, so nothing stale is ever served), the
    vocabulary version and the whole request. Speakers repeat the same popular queries (the
    topic tiles, 绿水青山, 乡村振兴); an answer costs 3–15 ms to compute and ~0.1 ms to copy.
    Answers cut short by the time budget are not kept."""

    def __init__(self, size: int = 512):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data.move_to_end(key)
            return hit

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


def _answer(out: dict) -> dict:
    out.setdefault("suggestions", [])
    return out


def _read_error() -> SearchIndexError:
    return SearchIndexError(
        "搜索索引读取失败，可能已损坏。", "请运行 lecturelib check --repair 或 lecturelib reindex。"
    )


__all__ = ["SearchIndex", "WRITERS"]
