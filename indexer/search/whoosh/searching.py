"""Query planning, ranking, verification, collapse, facets and pagination.

How a query runs (docs/PERFORMANCE.md has the measurements behind it):

1. **Plan.** Each typed term (and each synonym form from ``vocab.expand``) is normalized
   (NFKC + casefold) and cut into alphanumeric runs. A run of two characters is exactly one
   gram term; a longer run is the conjunction of its rarest bigrams (at most ``MAX_GRAMS``, chosen
   by document frequency); a single character is the prefix ``c`` of the gram field (which holds
   the body and the context: heading path + title, or 出处). The candidates are: AND over
   clauses, OR over a clause's forms, AND the filters.
2. **Rank candidates cheaply**: candidate sets are Python sets of doc numbers built from posting
   lists read a block at a time (cached per searcher), intersected at C speed. The newest
   ``DIRECT_SCORING`` candidates get BM25F scores over the body's word field by skipping each
   query word's postings straight to them; older candidates follow unscored, newest first.
3. **Verify** the candidates in rank order against the stored text (exact substring in the search
   form; a phrase's runs in order with only punctuation or spaces between; Latin words and
   numbers on word boundaries; negated terms must not occur) until the requested page is full;
   fetch more candidates only if needed.
4. **Re-rank the verified hits.** Ranking rules, in order of weight:
   * base = the candidate score above (BM25F on the body's words), plus ``EXACT_BASE`` when every
     term occurs verbatim in the text (growing with the share of the text it covers), so that
     segmentation cannot hide a text that holds the query;
   * ×(1 + ``CONTEXT_BONUS``) when a term matches the heading path or document title (passages)
     or the 出处 (quotes) — the title/heading boost;
   * ×(1 + ``ADJACENT_BONUS``) when all positive terms occur next to each other in the order typed
     (only punctuation or spaces between) — exact and adjacent matches first;
   * ×(1 + ``QUOTE_BONUS``) for a quote whose own text holds every positive term: a speaker who
     types words of a quote wants that quote at the top;
   * ties go to newer material (``updated``, then the record date), then to the earlier passage
     of a document (``seq``); ``sort="date"`` orders by the record date (newest first), ties by
     ``updated``.
5. **Collapse** passages and Q&A: at most ``PER_DOCUMENT`` hits of one document on a page; the
   shown hit carries ``more_in_document`` with the number of further verified hits.
6. **Total and facets** come from the candidate set (doc numbers only, no scoring) with bitmap
   intersections against per-value bitmaps cached per searcher. When every candidate was
   verified they are exact. Otherwise at most ``FACET_SAMPLE`` candidate numbers are read; the
   counts are scaled by the share of the doc-number space read and, unless the plan is exact (a
   single two-character CJK term per clause), by the share of checked candidates that verified;
   ``total_is_estimate`` and ``facets_are_estimate`` are then true.
"""

from __future__ import annotations

from array import array
from collections import Counter, OrderedDict
from itertools import islice

from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher

from indexer.search.plan import (  # noqa: F401  (re-exported: the backend's planning API)
    ADJACENT_BONUS,
    BUDGET_CHECK_EVERY,
    CONTEXT_BONUS,
    DIRECT_SCORING,
    FACET_SAMPLE,
    MAX_CANDIDATES,
    MAX_CLAUSES,
    PER_DOCUMENT,
    QUOTE_BONUS,
    Budget,
    BudgetExceeded,
    Candidate,
    Form,
    Plan,
    Shown,
    answer,
    build_plan,
    collapse,
    empty_answer,
    final_score,
    format_hit,
    make_form,
    order_key,
    paging,
    sampled,
    shown_count,
    too_broad,
    verify,
)
from indexer.search.query import is_expensive  # noqa: F401  (re-exported)

MAX_GRAMS = 3
PREFIX_TERMS = 400  # a one-character term expands to its bigrams: intersect it only
# when it has at most this many (else it is verified, not indexed)
FACET_FIELDS = {
    "topic": "topic",
    "kind": "kind",
    "doc_kind": "dkind",
    "audience": "audience",
    "year": "year",
    "speaker": "speaker",
}


# ---------------------------------------------------------------------------------------------
# compilation to Whoosh queries


def describe(plan: Plan, reader) -> dict:
    """How a plan runs: the gram terms intersected per form, the filters, the ranking query."""
    clauses = []
    for clause in plan.clauses:
        forms = []
        for f in clause:
            grams = []
            for run in f.runs:
                if len(run) == 1:
                    grams.append(run + "*")
                    continue
                gs = list(dict.fromkeys(run[i : i + 2] for i in range(len(run) - 1)))
                if len(gs) > MAX_GRAMS:
                    gs.sort(key=lambda g: reader.doc_frequency("grams", g))
                    gs = gs[:MAX_GRAMS]
                grams.extend(gs)
            forms.append({"form": f.text, "grams": grams, "exact": f.exact})
        clauses.append(forms)
    rq = ranking_query(plan)
    return {
        "candidates": clauses,
        "filters": plan.filters,
        "ranking": str(rq) if rq is not None else None,
    }


# ---------------------------------------------------------------------------------------------
# candidate sets: posting lists read in bulk into Python sets, combined at C speed


SHARED_SETS_MAX = 4096  # term sets shared by a process's threads (per index generation)


class DocSets:
    """Doc-number sets of index terms, read block by block (no per-posting matcher calls) and
    kept in a small LRU cache for the life of one searcher: the common bigrams that make
    queries slow are exactly the ones asked for again."""

    def __init__(self, reader, maxsize: int = 512, shared: dict | None = None):
        self.reader = reader
        self.leaves = list(reader.leaf_readers())
        self.size = reader.doc_count_all()
        self.maxsize = maxsize
        self._cache: OrderedDict = OrderedDict()
        # sets read by other threads' searchers of the same index generation (the same doc
        # numbers): a term's postings are read once per process and generation, not per thread
        self._shared = shared

    def term(self, fieldname: str, text: str) -> set:
        key = (fieldname, text)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        if self._shared is not None:
            hit = self._shared.get(key)
            if hit is not None:
                self._cache[key] = hit
                if len(self._cache) > self.maxsize:
                    self._cache.popitem(last=False)
                return hit
        out: set = set()
        for r, offset in self.leaves:
            if (fieldname, text) not in r:
                continue
            ids = _bulk_ids(r.postings(fieldname, text))
            if offset:
                out.update([i + offset for i in ids])
            else:
                out.update(ids)
        self._cache[key] = out
        if len(self._cache) > self.maxsize:
            self._cache.popitem(last=False)
        if self._shared is not None:
            if len(self._shared) > SHARED_SETS_MAX:
                self._shared.clear()
            self._shared[key] = out  # dict get/set are atomic: no lock needed
        return out

    def prefix(self, fieldname: str, prefix: str, budget: Budget | None = None) -> set:
        key = (fieldname, prefix + "*")
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        out: set = set()
        for i, t in enumerate(self.reader.expand_prefix(fieldname, prefix)):
            if budget is not None and i % 16 == 0:
                budget.check()
            t = t.decode("utf-8") if isinstance(t, bytes) else t
            out |= self.term(fieldname, t)
        self._cache[key] = out
        return out

    def prefix_size(self, fieldname: str, prefix: str) -> int:
        """How many terms a prefix expands to (the cost of reading its candidate set)."""
        key = ("#", fieldname, prefix)
        n = self._sizes.get(key) if hasattr(self, "_sizes") else None
        if n is None:
            if not hasattr(self, "_sizes"):
                self._sizes = {}
            if (fieldname, prefix + "*") in self._cache:
                n = 0
            else:
                n = sum(1 for _ in self.reader.expand_prefix(fieldname, prefix))
            self._sizes[key] = n
        return n

    def every(self) -> set:
        r = self.reader
        return {i for i in range(self.size) if not r.is_deleted(i)}


def _bulk_ids(m) -> list[int]:
    """All doc numbers of a posting matcher, a block at a time when it is Whoosh's W3 leaf
    matcher (optionally wrapped to exclude deleted documents)."""
    exclude = None
    if isinstance(m, FilterMatcher):
        exclude = m._ids if m._exclude else None
        if not m._exclude:
            return list(m.all_ids())
        m = m.child
    if not isinstance(m, W3LeafMatcher):
        return list(m.all_ids())
    out: list[int] = []
    while m.is_active():
        m._read_ids()
        out.extend(m._ids)
        m._next_block()
    if exclude:
        out = [i for i in out if i not in exclude]
    return out


class FacetCache:
    """Per-searcher bitmaps (Python ints) of the documents holding each facet value, and (built
    on first need) the document each record is collapsed with: shared by the threads reading
    one index generation."""

    def __init__(self, docsets: DocSets):
        self.size = docsets.size
        self._groups: array | None = None
        reader = docsets.reader
        self.maps: dict[str, dict[str, int]] = {}
        for name, fname in FACET_FIELDS.items():
            vals = {}
            for tb in reader.lexicon(fname):
                t = tb.decode("utf-8") if isinstance(tb, bytes) else tb
                vals[t] = to_bitmap(docsets.term(fname, t), self.size)
            self.maps[name] = vals

    def counts(self, bitmap: int) -> dict[str, dict[str, int]]:
        out = {}
        for name, vals in self.maps.items():
            c = {}
            for v, bm in vals.items():
                n = (bm & bitmap).bit_count()
                if n:
                    c[v] = n
            out[name] = dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
        return out

    def groups(self, docsets: DocSets) -> array:
        """doc number → the document its record is collapsed with (``plan.group_of``), ``LONE``
        for a record shown on its own. Read from the ``docid`` postings of ``docsets`` (a
        snapshot of this generation) the first time a search stops before its last candidate;
        threads building it at once build the same array."""
        g = self._groups
        if g is None:
            g = array("q", [LONE]) * self.size
            reader = docsets.reader
            for tb in reader.lexicon("docid"):
                doc = int(tb.decode("utf-8") if isinstance(tb, bytes) else tb)
                for r, offset in docsets.leaves:
                    if ("docid", tb) not in r:
                        continue
                    for i in _bulk_ids(r.postings("docid", tb)):
                        g[i + offset] = doc
            self._groups = g
        return g


LONE = -1  # FacetCache.groups: a record shown on its own (a quote, or without a document)


def to_bitmap(ids, size: int) -> int:
    ba = bytearray((size >> 3) + 1)
    for i in ids:
        ba[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(ba, "little")


def _form_cost(form: Form, ds: DocSets) -> int:
    """Posting lists a form's candidate set reads: its bigrams, or a one-character run's
    expansion (every bigram starting with it)."""
    cost = 0
    for run in form.runs:
        cost += ds.prefix_size("grams", run) if len(run) == 1 else min(len(run) - 1, MAX_GRAMS)
    return cost


def _form_set(form: Form, ds: DocSets, budget: Budget | None = None) -> set:
    sets = []
    for run in form.runs:
        if budget is not None:
            budget.check()
        if len(run) == 1:
            sets.append(ds.prefix("grams", run, budget))
            continue
        grams = list(dict.fromkeys(run[i : i + 2] for i in range(len(run) - 1)))
        if len(grams) > MAX_GRAMS:
            grams.sort(key=lambda g: ds.reader.doc_frequency("grams", g))
            grams = grams[:MAX_GRAMS]
        sets.extend(ds.term("grams", g) for g in grams)
    return _intersect(sets)


def _intersect(sets: list[set]) -> set:
    sets = sorted(sets, key=len)
    out = sets[0]
    for s in sets[1:]:
        if not out:
            break
        out = out & s
    return out if len(sets) > 1 else set(out)


def candidates(plan: Plan, ds: DocSets, budget: Budget | None = None) -> set | None:
    """Doc numbers that may match: for every clause, the gram AND of one of its forms; AND the
    filters. Clauses are read cheapest first; a clause whose candidate set would read more than
    ``PREFIX_TERMS`` posting lists (a common single character such as 的) is left to
    verification once a cheaper clause has narrowed the candidates."""
    parts = []
    costed = sorted(
        (
            (sum(_form_cost(f, ds) for f in clause), i, clause)
            for i, clause in enumerate(plan.clauses)
        ),
        key=lambda t: (t[0], t[1]),
    )
    for n, (cost, _, clause) in enumerate(costed):
        if n > 0 and cost > PREFIX_TERMS:
            break  # verified against the text instead (still exact)
        u: set = set()
        for f in clause:
            u |= _form_set(f, ds, budget)
        parts.append(u)
        if not u:
            return set()
    for name, vals in plan.filters.items():
        u = set()
        for v in vals:
            u |= ds.term(FACET_FIELDS[name], v)
        parts.append(u)
    if not parts:
        return ds.every() if plan.negated else None
    return _intersect(parts)


def ranking_query(plan: Plan) -> wq.Query | None:
    """BM25F over the body's word field (context matches are rewarded in final_score)."""
    terms = []
    for clause in plan.clauses:
        for f in clause:
            for w in dict.fromkeys(f.words):
                terms.append(wq.Term("body", w))
    terms = list({str(t): t for t in terms}.values())
    return wq.Or(terms) if terms else None


# ---------------------------------------------------------------------------------------------
# running a search


def _ordered_docnums(searcher, plan: Plan, cand: set, k: int, sort: str) -> list:
    """The first ``MAX_CANDIDATES`` candidate doc numbers, best first, with their cheap scores
    (no search verifies more).

    The newest ``DIRECT_SCORING`` candidates (highest doc numbers: the latest material added)
    are scored with BM25F and ordered by score; any older candidates follow, newest first,
    unscored. This bounds the work of a query matching tens of thousands of passages: Whoosh's
    block-max pruning cannot help when many candidates tie (boilerplate lines), and scoring
    costs ~15 µs per candidate and term in Python. For sort="date" the candidates are ordered
    by the date column."""
    cap = MAX_CANDIDATES
    if sort == "date":
        col = searcher.reader().column_reader("datekey")

        def datekey(d: int) -> str:
            try:
                return col[d] or ""
            except IndexError:
                # a segment whose last documents have no date (or none at all) has a column
                # shorter than its documents: Whoosh does not fill the tail with the default
                return ""

        ordered = sorted(cand, key=lambda d: (datekey(d), d), reverse=True)
        return [(dn, 0.0) for dn in ordered[:cap]]
    rq = ranking_query(plan)
    ordered = sorted(cand, reverse=True)  # newest first
    window, rest = ordered[:DIRECT_SCORING], ordered[DIRECT_SCORING:cap]
    scores = _direct_scores(searcher, rq, window[::-1]) if rq is not None else {}
    out = [
        (dn, scores.get(dn, 0.0))
        for dn in sorted(window, key=lambda d: (scores.get(d, 0.0), d), reverse=True)
    ]
    out += [(dn, 0.0) for dn in rest]
    return out


def _direct_scores(searcher, rq: wq.Query, docnums: list[int]) -> dict[int, float]:
    """BM25F scores of a few candidates: each ranking term's postings are skipped straight to
    the candidates (block skipping), instead of walking the union of common words."""
    scores: dict[int, float] = {}
    for sub in rq.subqueries:
        m = sub.matcher(searcher)
        for dn in docnums:
            if not m.is_active():
                break
            if m.id() < dn:
                m.skip_to(dn)
                if not m.is_active():
                    break
            if m.id() == dn:
                scores[dn] = scores.get(dn, 0.0) + m.score()
    return scores


def run_search(
    searcher,
    ds: DocSets,
    facets: FacetCache,
    plan: Plan,
    *,
    limit: int = 10,
    page: int = 1,
    sort: str = "relevance",
    budget: Budget | None = None,
) -> dict:
    limit, page, k = paging(sort, limit, page, MAX_CANDIDATES)
    try:
        cand = candidates(plan, ds, budget)
    except BudgetExceeded:
        return too_broad(plan)
    if not cand:
        return empty_answer(plan)
    verified: list[tuple[float, Candidate]] = []
    shown = Shown()
    checked = skipped = 0
    partial = False
    order = _ordered_docnums(searcher, plan, cand, k, sort)
    # an exact plan skips records of documents it has read enough of (their documents, from
    # the doc numbers: FacetCache.groups) once the records it verifies exceed the page's margin
    groups = facets.groups(ds) if plan.exact and len(cand) > k else None
    for dn, score in order:
        if budget is not None and checked % BUDGET_CHECK_EVERY == 0 and budget.left() < 0:
            partial = True
            break
        if groups is not None and shown.skip(groups[dn] if groups[dn] != LONE else None):
            skipped += 1
            continue
        rec = searcher.stored_fields(dn)["rec"]
        checked += 1
        c = Candidate(dn, score, rec)
        if plan.exact or verify(plan, rec):
            verified.append((final_score(plan, c) if sort != "date" else 0.0, c))
            shown.add(rec)
            # stop once the page is full and a margin for re-ranking and collapse is seen
            if shown.enough(len(verified), k, page, limit):
                break
        if checked >= MAX_CANDIDATES:
            break
    collapsed = collapse(sorted(verified, key=order_key(sort), reverse=True))
    exhausted = checked >= len(cand) and not partial
    pages: dict = {}
    if exhausted:
        total, estimate = len(verified), False
        bitmap = to_bitmap((c.docnum for _, c in verified), facets.size)
        scale = 1.0
    else:
        sample = cand if len(cand) <= FACET_SAMPLE else islice(cand, FACET_SAMPLE)
        total, estimate, scale = sampled(plan, len(cand), len(verified), checked, FACET_SAMPLE)
        bitmap = to_bitmap(sample, facets.size)
        pages = _pages(plan, ds, facets, cand, order, checked, shown, len(verified))
    return answer(
        plan,
        collapsed,
        limit=limit,
        page=page,
        total=total,
        estimate=estimate,
        counts=facets.counts(bitmap),
        scale=scale,
        partial=partial,
        exhausted=exhausted,
        **pages,
    )


def _pages(
    plan: Plan,
    ds: DocSets,
    facets: FacetCache,
    cand: set,
    order: list,
    checked: int,
    shown: Shown,
    verified: int,
) -> dict:
    """What the pages show when a search stopped before its last candidate: the hits the
    candidates a search can reach (``order``, the first ``MAX_CANDIDATES``) make, at most
    ``PER_DOCUMENT`` of a document, counted from the doc numbers (``FacetCache.groups``): exact
    for an exact plan (every candidate matches), else the verified ones counted and the
    unchecked rest scaled by the share that verified; and for an exact plan the matches of a
    document shown (its ``more_in_document``)."""
    groups = facets.groups(ds)
    if plan.exact:
        per = Counter([groups[dn] for dn, _ in order])
        lone = per.pop(LONE, 0)
        n = lone + shown_count(per)
        whole = len(order) >= len(cand)

        def doc_matches(docs: list) -> dict:
            if whole:
                return {d: per.get(d, 0) for d in docs}
            return {d: len(cand & ds.term("docid", str(d))) for d in docs}

        return {"shown": n, "shown_is_estimate": False, "doc_matches": doc_matches}
    ratio = verified / checked if checked else 1.0
    unchecked = (None if g == LONE else g for g in (groups[dn] for dn, _ in order[checked:]))
    return {"shown": shown.estimate(unchecked, ratio), "shown_is_estimate": True}


__all__ = [
    "build_plan",
    "describe",
    "candidates",
    "run_search",
    "DocSets",
    "FacetCache",
    "Budget",
    "BudgetExceeded",
    "MAX_CLAUSES",
    "is_expensive",
    "format_hit",
    "Plan",
    "Form",
    "verify",
    "collapse",
    "CONTEXT_BONUS",
    "ADJACENT_BONUS",
    "QUOTE_BONUS",
    "PER_DOCUMENT",
]
