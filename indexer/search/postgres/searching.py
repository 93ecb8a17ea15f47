"""Running a plan on PostgreSQL: candidates from the GIN-indexed gram tsvector, BM25F over the
word tsvector for the newest candidates, verification on the stored text, collapse, totals and
facets — the rules of ``indexer/search/plan.py`` and step for step what
``indexer/search/whoosh/searching.py`` does, with SQL where the Whoosh backend reads posting
lists.

* **Candidates.** A typed segment ``abcd`` is the AND of its bigrams ``'ab' & 'bc' & 'cd'``
  over the gram column (a one-character segment the prefix ``'a':*``); a form is the AND of its
  segments, a clause the OR of its forms, the query the AND of its clauses and the filters
  (facet lexemes of the same column, schema.py). The GIN index answers that alone: no row's
  gram column is read. A clause made of
  single characters is left to verification when a cheaper clause narrows the candidates (the
  Whoosh backend's ``PREFIX_TERMS`` rule: a common character's prefix reads most of the index).
* **One statement** per search answers the candidate count, the newest ``MAX_CANDIDATES``
  candidates (by date for ``sort="date"``), the facet counts of the newest ``FACET_SAMPLE``, the
  query words' frequencies in the newest ``DIRECT_SCORING`` and their document frequencies: the
  candidate set is read once, on the narrow heap (schema.py), never shipped whole to Python.
* **Ranking.** Whoosh's BM25F (B = 0.75, K1 = 1.2, idf = log(N / (df + 1)) + 1, field lengths
  through Whoosh's one-byte length table) over the query's words, for the newest
  ``DIRECT_SCORING`` candidates; older ones follow unscored, newest first.
* **Verification** reads the stored record (``rec``) of candidates in rank order, a batch at a
  time, until the page and its margin are found.
* **Budget.** ``statement_timeout`` bounds the statements by what is left of the search's
  budget; a cancelled candidate statement answers "too broad", a budget spent while verifying
  answers what was found, flagged ``partial``.
* **Session.** Each search's transaction sets ``jit = off`` (JIT compilation costs more than
  these short statements), no parallel workers, ``work_mem`` for the candidate set, and no
  sequential scans (the planner's estimate of a tsquery's rows is often far too low).
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections import Counter

import psycopg

from indexer.search import plan as P
from indexer.search.plan import (
    BUDGET_CHECK_EVERY,
    DIRECT_SCORING,
    FACET_SAMPLE,
    MAX_CANDIDATES,
)
from indexer.search.postgres.schema import META, RECORDS, TEXTS, WORDS, facet_term

FETCH_BATCH = 200  # records read per round trip while verifying
RESET_TIMEOUT_S = 0.05  # statement_timeout set again when this much of the budget has passed
B, K1 = 0.75, 1.2

FACET_COLUMNS = {
    "topic": "topics",
    "kind": "kind",
    "doc_kind": "dkind",
    "audience": "audiences",
    "year": "year",
    "speaker": "speaker",
}
_ARRAYS = {"topics", "audiences"}

SESSION = (
    "SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0; "
    "SET LOCAL enable_seqscan = off; SET LOCAL work_mem = '64MB'; "
)


# ---------------------------------------------------------------------------------------------
# tsquery text


def _lex(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def _bigrams(run: str) -> list[str]:
    return list(dict.fromkeys(run[i : i + 2] for i in range(len(run) - 1)))


def run_query(run: str) -> str:
    if len(run) == 1:
        return _lex(run) + ":*"
    return " & ".join(_lex(g) for g in _bigrams(run))


def form_query(form: P.Form) -> str:
    return "( " + " & ".join(run_query(r) for r in form.runs) + " )"


def clause_query(clause: list[P.Form]) -> str:
    return "( " + " | ".join(form_query(f) for f in clause) + " )"


def _costly(clause: list[P.Form]) -> bool:
    return any(len(r) == 1 for f in clause for r in f.runs)


def candidate_clauses(plan: P.Plan) -> list[list[P.Form]]:
    """The clauses the candidate query reads: all of them, except clauses with a one-character
    segment when another clause has none (those are verified on the text instead)."""
    cheap = [c for c in plan.clauses if not _costly(c)]
    return cheap if cheap else list(plan.clauses)


def where(plan: P.Plan) -> tuple[str, list] | None:
    """SQL condition and parameters of the candidate set; None when nothing narrows it."""
    terms = [clause_query(c) for c in candidate_clauses(plan)]
    for name, vals in plan.filters.items():
        terms.append("( " + " | ".join(_lex(facet_term(name, v)) for v in vals) + " )")
    if not terms:
        return ("true", []) if plan.negated else None
    return "grams @@ %s::tsquery", [" & ".join(terms)]


def describe(plan: P.Plan) -> dict:
    cond = where(plan)
    return {
        "candidates": [
            [
                {
                    "form": f.text,
                    "grams": [
                        g for r in f.runs for g in ([r + "*"] if len(r) == 1 else _bigrams(r))
                    ],
                    "exact": f.exact,
                }
                for f in c
            ]
            for c in plan.clauses
        ],
        "filters": plan.filters,
        "tsquery": cond[1][0] if cond and cond[1] and plan.clauses else None,
        "sql": cond[0] if cond else None,
        "ranking": plan.words(),
    }


# ---------------------------------------------------------------------------------------------
# BM25F as the Whoosh backend computes it

# Whoosh stores a field length in one byte (whoosh.util.numeric): the length it scores with is
# this table's entry at bisect_left(table, length).
_LENGTH_BYTES = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 16, 17, 18, 20, 21, 23, 25, 26, 28, 30, 32,
    34, 36, 38, 40, 42, 45, 47, 49, 52, 54, 57, 60, 63, 66, 69, 72, 75, 79, 82, 86, 89, 93, 97,
    101, 106, 110, 114, 119, 124, 129, 134, 139, 145, 150, 156, 162, 169, 175, 182, 189, 196,
    203, 211, 219, 227, 235, 244, 253, 262, 271, 281, 291, 302, 313, 324, 336, 348, 360, 373,
    386, 399, 414, 428, 443, 459, 475, 491, 508, 526, 544, 563, 583, 603, 623, 645, 667, 690,
    714, 738, 763, 789, 816, 844, 873, 903, 933, 965, 998, 1032, 1066, 1103, 1140, 1178, 1218,
    1259, 1302, 1345, 1391, 1438, 1486, 1536, 1587, 1641, 1696, 1753, 1811, 1872, 1935, 1999,
    2066, 2135, 2207, 2280, 2356, 2435, 2516, 2600, 2687, 2777, 2869, 2965, 3063, 3165, 3271,
    3380, 3492, 3608, 3728, 3852, 3980, 4112, 4249, 4390, 4536, 4686, 4842, 5002, 5168, 5340,
    5517, 5700, 5889, 6084, 6286, 6494, 6709, 6932, 7161, 7398, 7643, 7897, 8158, 8428, 8707,
    8995, 9293, 9601, 9918, 10247, 10586, 10936, 11298, 11671, 12057, 12456, 12868, 13294,
    13733, 14187, 14656, 15141, 15641, 16159, 16693, 17244, 17814, 18403, 19011, 19640, 20289,
    20959, 21652, 22367, 23106, 23869, 24658, 25472, 26314, 27183, 28081, 29009, 29967, 30957,
    31979, 33035, 34126, 35254, 36418, 37620, 38863, 40146, 41472, 42841, 44256, 45717, 47227,
    48786, 50397, 52061, 53780, 55556, 57390, 59285, 61242, 63264, 65352, 67510, 69739, 72041,
    74419, 76876, 79414, 82035, 84743, 87541, 90430, 93416, 96499, 99684, 102975, 106374,
)  # fmt: skip


def stored_length(n: int) -> int:
    if n <= 0:
        return 1  # Whoosh's default for a missing length
    if n >= _LENGTH_BYTES[-1]:
        return _LENGTH_BYTES[-1]
    return _LENGTH_BYTES[bisect_left(_LENGTH_BYTES, n)]


def bm25(
    words: list[str], dfs: dict[str, int], tfs: dict[int, dict[str, tuple[int, int]]], stats
) -> dict[int, float]:
    """Scores of the documents in ``tfs`` (docnum → word → (frequency, length)), summed in the
    query's word order as Whoosh sums them (identical floating point)."""
    n_all = max(stats["doc_count"], 1)
    idf = {w: math.log(n_all / (dfs[w] + 1)) + 1 for w in words if dfs.get(w)}
    if not idf:
        return {}
    avgfl = (stats["word_total"] / max(stats["doc_count"], 1)) or 1
    scores: dict[int, float] = {}
    for dn, per in tfs.items():
        s = 0.0
        for w in idf:
            if w in per:
                tf, wlen = per[w]
                fl = stored_length(wlen)
                s += idf[w] * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))
        scores[dn] = s
    return scores


def bm25_scores(cur, words: list[str], docnums: list[int], stats: dict) -> dict[int, float]:
    """BM25F of given documents over ``words`` (more-like-this)."""
    if not words or not docnums:
        return {}
    cur.execute(f"SELECT word, df FROM {WORDS} WHERE word = ANY(%s)", (words,))
    dfs = dict(cur.fetchall())
    cur.execute(
        f"SELECT r.docnum, r.wlen, u.lexeme, u.positions[1] FROM {TEXTS} r, unnest(r.words) u "
        "WHERE r.docnum = ANY(%s) AND u.lexeme = ANY(%s)",
        (docnums, [w for w in words if dfs.get(w)]),
    )
    tfs: dict[int, dict[str, tuple[int, int]]] = {}
    for dn, wlen, w, tf in cur.fetchall():
        tfs.setdefault(dn, {})[w] = (tf, wlen)
    return bm25(words, dfs, tfs, stats)


# ---------------------------------------------------------------------------------------------
# a search's transaction


class Timeout:
    """``statement_timeout`` kept within a search's budget: set with the session settings,
    set again before a statement when the budget has moved on since."""

    def __init__(self, budget: P.Budget | None):
        self.budget = budget
        self.at = time.monotonic()

    def ms(self) -> int:
        if self.budget is None or self.budget.deadline == math.inf:
            return 0
        return max(1, int(self.budget.left() * 1000))

    def refresh(self, cur) -> None:
        if self.budget is None or self.budget.deadline == math.inf:
            return
        if time.monotonic() - self.at > RESET_TIMEOUT_S:
            cur.execute("SELECT set_config('statement_timeout', %s, true)", (str(self.ms()),))
            self.at = time.monotonic()


def begin(cur, budget: P.Budget | None) -> tuple[dict[str, str], Timeout]:
    """Start a search's read: one REPEATABLE READ READ ONLY snapshot, the session settings,
    the timeout, and the index's meta values, in one round trip."""
    t = Timeout(budget)
    cur.execute(
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY; "
        + SESSION
        + f"SET LOCAL statement_timeout = {t.ms()}; "
        + f"SELECT key, value FROM {META}"
    )
    while cur.description is None and cur.nextset():
        pass  # the SETs' results, then the meta rows
    return dict(cur.fetchall()), t


def stats_of(meta: dict[str, str]) -> dict:
    return {
        "doc_count": int(meta.get("doc_count", 0)),
        "word_total": int(meta.get("word_total", 0)),
    }


# ---------------------------------------------------------------------------------------------
# the candidate statement


def _facet_selects(source: str) -> list[str]:
    parts = []
    for name, col in FACET_COLUMNS.items():
        if col in _ARRAYS:
            parts.append(
                f"SELECT 1, count(*), NULL, '{name}', v FROM {source}, unnest({source}.{col}) v "
                "GROUP BY v"
            )
        else:
            parts.append(
                f"SELECT 1, count(*), NULL, '{name}', {col} FROM {source} "
                f"WHERE {col} IS NOT NULL GROUP BY {col}"
            )
    return parts


class Candidates:
    """What the candidate statement answers."""

    def __init__(self):
        self.total = 0  # candidates in all
        self.docnums: list[int] = []  # the first max(MAX_CANDIDATES, FACET_SAMPLE), in order
        self.groups: dict[int, int | None] = {}  # their documents (plan.group_of)
        # an exact plan's documents with more than PER_DOCUMENT candidates, when there are more
        # candidates than docnums
        self.doc_counts: dict[int, int] = {}
        self.facets: dict[str, dict[str, int]] = {k: {} for k in FACET_COLUMNS}  # of a sample
        self.tfs: dict[int, dict[str, tuple[int, int]]] = {}  # of the scoring window
        self.dfs: dict[str, int] = {}


def read_candidates(cur, plan: P.Plan, sort: str, words: list[str]) -> Candidates | None:
    """Candidates, newest first (by date, newest first, for ``sort="date"``), with their count,
    the facet counts of the first ``FACET_SAMPLE`` and the ranking words' frequencies in the
    first ``DIRECT_SCORING``; None when nothing narrows the search."""
    cond = where(plan)
    if cond is None:
        return None
    order = "datekey DESC, docnum DESC" if sort == "date" else "docnum DESC"
    scoring = bool(words) and sort != "date"
    # the candidate set carries doc numbers (and dates) only; the facet columns are read for
    # the sample alone
    ctes = [
        f"a AS MATERIALIZED (SELECT docnum, docid{', datekey' if sort == 'date' else ''} "
        f"FROM {RECORDS} WHERE {cond[0]})",
        f"c AS MATERIALIZED (SELECT * FROM a ORDER BY {order} LIMIT %s)",
        "f AS MATERIALIZED (SELECT r.kind, r.dkind, r.speaker, r.year, r.topics, r.audiences "
        f"FROM (SELECT docnum FROM c ORDER BY {order} LIMIT %s) s JOIN {RECORDS} r "
        "ON r.docnum = s.docnum)",
    ]
    head = max(MAX_CANDIDATES, FACET_SAMPLE)
    parts = [
        "SELECT 0, docnum, docid, NULL::text, NULL::text FROM c",
        "SELECT 2, count(*), NULL, NULL, NULL FROM a",
        *_facet_selects("f"),
    ]
    params: list = [*cond[1], head, FACET_SAMPLE]
    if scoring:
        ctes.append("w AS (SELECT docnum FROM c ORDER BY docnum DESC LIMIT %s)")
        parts.append(
            f"SELECT 3, r.docnum, r.wlen, u.lexeme, u.positions[1]::text FROM w JOIN {TEXTS} r "
            "ON r.docnum = w.docnum, unnest(r.words) u WHERE u.lexeme = ANY(%s)"
        )
        parts.append(f"SELECT 4, df, NULL, word, NULL FROM {WORDS} WHERE word = ANY(%s)")
        params += [DIRECT_SCORING, words, words]
    if plan.exact:  # (after the scoring parts: the parameters follow the text's order)
        # every candidate matches: a document's matches beyond the docnums read (its
        # more_in_document), counted only when there are more candidates than that
        parts.append(
            "SELECT 5, docid, count(*), NULL, NULL FROM a WHERE docid IS NOT NULL "
            "AND (SELECT count(*) FROM a) > %s GROUP BY docid HAVING count(*) > %s"
        )
        params += [head, P.PER_DOCUMENT]
    sql = "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(parts)
    cur.execute(sql, params)
    out = Candidates()
    for part, n, m, key, val in cur.fetchall():
        if part == 0:
            out.docnums.append(n)
            out.groups[n] = m
        elif part == 1:
            out.facets[key][val] = n
        elif part == 2:
            out.total = n
        elif part == 3:
            out.tfs.setdefault(n, {})[key] = (int(val), m)
        elif part == 5:
            out.doc_counts[n] = m
        else:
            out.dfs[key] = n
    out.facets = _sorted_counts(out.facets)
    return out


def _sorted_counts(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {k: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for k, c in counts.items()}


def candidates(cur, plan: P.Plan) -> list[int] | None:
    """Every candidate doc number, newest first (None: nothing to search for)."""
    cond = where(plan)
    if cond is None:
        return None
    cur.execute(f"SELECT docnum FROM {RECORDS} WHERE {cond[0]} ORDER BY docnum DESC", cond[1])
    return [r[0] for r in cur.fetchall()]


def _records(cur, docnums: list[int]) -> dict[int, dict]:
    cur.execute(f"SELECT docnum, rec FROM {TEXTS} WHERE docnum = ANY(%s)", (docnums,))
    return dict(cur.fetchall())


def facet_counts(cur, docnums) -> dict[str, dict[str, int]]:
    docnums = list(docnums)
    out: dict[str, dict[str, int]] = {k: {} for k in FACET_COLUMNS}
    if not docnums:
        return out
    cur.execute(
        f"WITH s AS (SELECT topics, kind, dkind, audiences, year, speaker FROM {RECORDS} "
        "WHERE docnum = ANY(%s)) " + " UNION ALL ".join(_facet_selects("s")),
        (docnums,),
    )
    for _, n, _, name, v in cur.fetchall():
        out[name][v] = n
    return _sorted_counts(out)


# ---------------------------------------------------------------------------------------------
# running a search


def run_search(
    cur,
    plan: P.Plan,
    stats: dict,
    *,
    limit: int = 10,
    page: int = 1,
    sort: str = "relevance",
    budget: P.Budget | None = None,
    timeout: Timeout | None = None,
) -> dict:
    limit, page, k = P.paging(sort, limit, page, MAX_CANDIDATES)
    timeout = timeout or Timeout(None)
    words = plan.words()
    try:
        if budget is not None:
            budget.check()
        timeout.refresh(cur)
        got = read_candidates(cur, plan, sort, words)
    except (P.BudgetExceeded, psycopg.errors.QueryCanceled):
        return P.too_broad(plan)
    if got is None or not got.total:
        return P.empty_answer(plan)
    cand = got.docnums
    if sort == "date" or not words:
        order = [(d, 0.0) for d in cand]
    else:
        window, rest = cand[:DIRECT_SCORING], cand[DIRECT_SCORING:]
        scores = bm25(words, got.dfs, got.tfs, stats)
        ordered = sorted(window, key=lambda d: (scores.get(d, 0.0), d), reverse=True)
        order = [(d, scores.get(d, 0.0)) for d in ordered] + [(d, 0.0) for d in rest]
    verified: list[tuple[float, P.Candidate]] = []
    shown = P.Shown()
    checked = 0
    partial = False
    pos = 0
    batch = min(FETCH_BATCH, k)
    done = False
    while not done and pos < len(order) and checked < MAX_CANDIDATES:
        if budget is not None and budget.left() < 0:
            partial = True
            break
        chunk = order[pos : pos + batch]
        pos += len(chunk)
        # an exact plan skips records of documents it has read enough of (their documents
        # came with the candidates)
        wanted = [d for d, _ in chunk if not (plan.exact and shown.skip(got.groups[d]))]
        try:
            timeout.refresh(cur)
            recs = _records(cur, wanted)
        except psycopg.errors.QueryCanceled:
            partial = True
            break
        for dn, score in chunk:
            if budget is not None and checked % BUDGET_CHECK_EVERY == 0 and budget.left() < 0:
                partial = True
                done = True
                break
            if dn not in recs:  # skipped: an exact plan has read enough of its document
                continue
            c = P.Candidate(dn, score, recs[dn])
            checked += 1
            if plan.exact or P.verify(plan, c.rec):
                verified.append((P.final_score(plan, c) if sort != "date" else 0.0, c))
                shown.add(c.rec)
                # stop once the page is full and a margin for re-ranking and collapse is seen
                if shown.enough(len(verified), k, page, limit):
                    done = True
                    break
            if checked >= MAX_CANDIDATES:
                done = True
                break
        batch = FETCH_BATCH
    collapsed = P.collapse(sorted(verified, key=P.order_key(sort), reverse=True))
    n = got.total
    exhausted = checked >= n and not partial
    pages: dict = {}
    if exhausted:
        total, estimate, scale = len(verified), False, 1.0
        if len(verified) == n and n <= FACET_SAMPLE:
            counts = got.facets  # every candidate verified: the sample is all of them
        else:
            try:
                timeout.refresh(cur)
                counts = facet_counts(cur, (c.docnum for _, c in verified))
            except psycopg.errors.QueryCanceled:
                counts, partial = {k: {} for k in FACET_COLUMNS}, True
    else:
        total, estimate, scale = P.sampled(plan, n, len(verified), checked, FACET_SAMPLE)
        counts = got.facets
        pages = _pages(plan, got, order[:MAX_CANDIDATES], checked, shown, len(verified))
    return P.answer(
        plan,
        collapsed,
        limit=limit,
        page=page,
        total=total,
        estimate=estimate,
        counts=counts,
        scale=scale,
        partial=partial,
        exhausted=exhausted,
        **pages,
    )


def _pages(
    plan: P.Plan, got: Candidates, order: list, checked: int, shown: P.Shown, verified: int
) -> dict:
    """What the pages show when a search stopped before its last candidate (the Whoosh
    backend's ``_pages``): the hits the candidates a search can reach (``order``, the first
    ``MAX_CANDIDATES``) make, at most ``PER_DOCUMENT`` of a document, from the documents the
    candidate statement gave with their doc numbers; exact for an exact plan, with the matches
    of each document shown, else estimated."""
    groups = got.groups
    if plan.exact:
        per = Counter([groups[dn] for dn, _ in order])
        whole = len(got.docnums) >= got.total
        every = Counter(groups[dn] for dn in got.docnums) if whole else got.doc_counts

        def doc_matches(docs: list) -> dict:
            return {d: every.get(d, 0) for d in docs}

        return {"shown": P.shown_count(per), "shown_is_estimate": False, "doc_matches": doc_matches}
    ratio = verified / checked if checked else 1.0
    unchecked = (groups[dn] for dn, _ in order[checked:])
    return {"shown": shown.estimate(unchecked, ratio), "shown_is_estimate": True}


def top_words(counts: Counter, dfs: dict[str, int], n_all: int, limit: int = 12) -> list[str]:
    """The most distinctive words of a text (more-like-this): count × log(1 + N / (1 + df))."""
    import re

    def weight(w):
        df = dfs.get(w, 0)
        return counts[w] * math.log(1 + n_all / (1 + df)) if df else 0.0

    return sorted(
        (w for w in counts if len(w) > 1 or not re.match(r"\W", w)), key=weight, reverse=True
    )[:limit]


__all__ = [
    "run_search",
    "read_candidates",
    "candidates",
    "begin",
    "where",
    "describe",
    "bm25_scores",
    "facet_counts",
    "top_words",
    "MAX_CANDIDATES",
    "FACET_SAMPLE",
    "DIRECT_SCORING",
]
