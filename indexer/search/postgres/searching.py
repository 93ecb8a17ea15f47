"""Running a plan on PostgreSQL: candidates from the GIN-indexed gram tsvector, BM25F over the
word tsvector for the newest candidates, verification on the stored text, collapse, totals and
facets — step for step what ``indexer/search/whoosh/searching.py`` does (its module text has
the rules), with SQL where the Whoosh backend reads posting lists.

* **Candidates.** A typed segment ``abcd`` is the tsquery phrase ``'ab' <-> 'bc' <-> 'cd'``
  over the gram column (a one-character segment the prefix ``'a':*``); a form is the AND of its
  segments, a clause the OR of its forms, the query the AND of its clauses and the filters
  (columns). A clause made of single characters is left to verification when a cheaper clause
  narrows the candidates (the Whoosh backend's ``PREFIX_TERMS`` rule: a common character's
  prefix reads most of the index). Records marked ``lossy`` match the bigrams' AND instead.
* **Ranking.** Whoosh's BM25F (B = 0.75, K1 = 1.2, idf = log(N / (df + 1)) + 1, field lengths
  through Whoosh's one-byte length table) over the query's words, for the newest
  ``DIRECT_SCORING`` candidates; older ones follow unscored, newest first.
* **Budget.** ``statement_timeout`` bounds each statement by what is left of the search's
  budget; a cancelled candidate query answers "too broad", a budget spent while verifying
  answers what was found, flagged ``partial``.
"""

from __future__ import annotations

import math
from collections import Counter

import psycopg

from indexer.search import plan as P
from indexer.search.postgres.schema import RECORDS, WORDS
from library.errors import UsageError

MAX_CANDIDATES = 4000  # candidates verified at most per search
DIRECT_SCORING = 1500  # candidates scored (the newest ones when there are more)
FACET_SAMPLE = 5000  # candidate doc numbers counted for facets at most
FETCH_BATCH = 200  # records read per round trip while verifying
BUDGET_CHECK_EVERY = 32
B, K1 = 0.75, 1.2

_TOO_BROAD = "这个查询太宽泛，未能在时限内完成。请输入更具体的词语，或减少单个字的检索词。"
_PARTIAL = "查询较宽泛，在时限内只检查了一部分内容：结果可能不完整。"

FACET_COLUMNS = {
    "topic": "topics",
    "kind": "kind",
    "doc_kind": "dkind",
    "audience": "audiences",
    "year": "year",
    "speaker": "speaker",
}
_ARRAYS = {"topics", "audiences"}


# ---------------------------------------------------------------------------------------------
# tsquery text


def _lex(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def run_query(run: str, joiner: str = " <-> ") -> str:
    if len(run) == 1:
        return _lex(run) + ":*"
    grams = [run[i : i + 2] for i in range(len(run) - 1)]
    if joiner != " <-> ":
        grams = list(dict.fromkeys(grams))
    body = joiner.join(_lex(g) for g in grams)
    return f"( {body} )" if len(grams) > 1 else body


def form_query(form: P.Form, joiner: str = " <-> ") -> str:
    return "( " + " & ".join(run_query(r, joiner) for r in form.runs) + " )"


def clause_query(clause: list[P.Form], joiner: str = " <-> ") -> str:
    return "( " + " | ".join(form_query(f, joiner) for f in clause) + " )"


def _costly(clause: list[P.Form]) -> bool:
    return any(len(r) == 1 for f in clause for r in f.runs)


def candidate_clauses(plan: P.Plan) -> list[list[P.Form]]:
    """The clauses the candidate query reads: all of them, except clauses with a one-character
    segment when another clause has none (those are verified on the text instead)."""
    cheap = [c for c in plan.clauses if not _costly(c)]
    return cheap if cheap else list(plan.clauses)


def where(plan: P.Plan) -> tuple[str, list] | None:
    """SQL condition and parameters of the candidate set; None when nothing narrows it."""
    conds, params = [], []
    clauses = candidate_clauses(plan)
    if clauses:
        exact = " & ".join(clause_query(c) for c in clauses)
        loose = " & ".join(clause_query(c, " & ") for c in clauses)
        conds.append("(grams @@ %s::tsquery OR (lossy AND grams @@ %s::tsquery))")
        params += [exact, loose]
    for name, vals in plan.filters.items():
        col = FACET_COLUMNS[name]
        if col in _ARRAYS:
            conds.append(f"{col} && %s::text[]")
        else:
            conds.append(f"{col} = ANY(%s::text[])")
        params.append(list(vals))
    if not conds:
        return ("true", []) if plan.negated else None
    return " AND ".join(conds), params


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


def _bigrams(run: str) -> list[str]:
    return list(dict.fromkeys(run[i : i + 2] for i in range(len(run) - 1)))


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
    from bisect import bisect_left

    if n <= 0:
        return 1  # Whoosh's default for a missing length
    if n >= _LENGTH_BYTES[-1]:
        return _LENGTH_BYTES[-1]
    return _LENGTH_BYTES[bisect_left(_LENGTH_BYTES, n)]


def bm25_scores(cur, words: list[str], docnums: list[int], stats: dict) -> dict[int, float]:
    if not words or not docnums:
        return {}
    cur.execute(f"SELECT word, df FROM {WORDS} WHERE word = ANY(%s)", (words,))
    dfs = dict(cur.fetchall())
    n_all = max(stats["doc_count"], 1)
    idf = {w: math.log(n_all / (dfs[w] + 1)) + 1 for w in words if dfs.get(w)}
    if not idf:
        return {}
    avgfl = (stats["word_total"] / max(stats["doc_count"], 1)) or 1
    cur.execute(
        f"SELECT r.docnum, r.wlen, u.lexeme, u.positions[1] FROM {RECORDS} r, unnest(r.words) u "
        "WHERE r.docnum = ANY(%s) AND u.lexeme = ANY(%s)",
        (docnums, list(idf)),
    )
    scores: dict[int, float] = {}
    # Whoosh sums the terms in query order: keep that order for identical floating point sums
    rows: dict[int, dict[str, tuple[int, int]]] = {}
    for dn, wlen, w, tf in cur.fetchall():
        rows.setdefault(dn, {})[w] = (tf, wlen)
    for dn, per in rows.items():
        s = 0.0
        for w in idf:
            if w in per:
                tf, wlen = per[w]
                fl = stored_length(wlen)
                s += idf[w] * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))
        scores[dn] = s
    return scores


# ---------------------------------------------------------------------------------------------
# running a search


def _set_timeout(cur, budget: P.Budget | None) -> None:
    if budget is None or budget.deadline == math.inf:
        ms = 0
    else:
        ms = max(1, int(budget.left() * 1000))
    cur.execute("SELECT set_config('statement_timeout', %s, true)", (str(ms),))


def candidates(cur, plan: P.Plan, budget: P.Budget | None) -> list[int] | None:
    """Candidate doc numbers, newest first (None: nothing to search for)."""
    cond = where(plan)
    if cond is None:
        return None
    if budget is not None:
        budget.check()
    _set_timeout(cur, budget)
    cur.execute(f"SELECT docnum FROM {RECORDS} WHERE {cond[0]} ORDER BY docnum DESC", cond[1])
    return [r[0] for r in cur.fetchall()]


def _ordered(cur, plan: P.Plan, cand: list[int], sort: str, stats: dict, budget):
    """(docnum, cheap score) best first: see the Whoosh backend's ``_ordered_docnums``."""
    if sort == "date":
        _set_timeout(cur, budget)
        cur.execute(
            f"SELECT docnum FROM {RECORDS} WHERE docnum = ANY(%s) ORDER BY datekey DESC, "
            "docnum DESC",
            (cand,),
        )
        return [(r[0], 0.0) for r in cur.fetchall()]
    window, rest = cand[:DIRECT_SCORING], cand[DIRECT_SCORING:]
    _set_timeout(cur, budget)
    scores = bm25_scores(cur, plan.words(), window, stats)
    ordered = sorted(window, key=lambda d: (scores.get(d, 0.0), d), reverse=True)
    return [(d, scores.get(d, 0.0)) for d in ordered] + [(d, 0.0) for d in rest]


def _records(cur, docnums: list[int]) -> dict[int, dict]:
    cur.execute(f"SELECT docnum, rec FROM {RECORDS} WHERE docnum = ANY(%s)", (docnums,))
    return dict(cur.fetchall())


def facet_counts(cur, docnums) -> dict[str, dict[str, int]]:
    docnums = list(docnums)
    out: dict[str, dict[str, int]] = {k: {} for k in FACET_COLUMNS}
    if not docnums:
        return out
    parts = []
    for name, col in FACET_COLUMNS.items():
        if col in _ARRAYS:
            parts.append(f"SELECT '{name}', v, count(*) FROM s, unnest(s.{col}) v GROUP BY v")
        else:
            parts.append(
                f"SELECT '{name}', {col}, count(*) FROM s WHERE {col} IS NOT NULL GROUP BY {col}"
            )
    cur.execute(
        f"WITH s AS (SELECT topics, kind, dkind, audiences, year, speaker FROM {RECORDS} "
        "WHERE docnum = ANY(%s)) " + " UNION ALL ".join(parts),
        (docnums,),
    )
    for name, v, n in cur.fetchall():
        out[name][v] = n
    return {k: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for k, c in out.items()}


def run_search(
    cur,
    plan: P.Plan,
    stats: dict,
    *,
    limit: int = 10,
    page: int = 1,
    sort: str = "relevance",
    budget: P.Budget | None = None,
) -> dict:
    if sort not in ("relevance", "date"):
        raise UsageError(f"不支持的排序方式“{sort}”。", "可用：relevance（相关度）、date（日期）")
    limit = max(1, min(int(limit), 100))
    page = max(1, int(page))
    try:
        cand = candidates(cur, plan, budget)
        if cand:
            order = _ordered(cur, plan, cand, sort, stats, budget)
    except (P.BudgetExceeded, psycopg.errors.QueryCanceled):
        out = P.empty_answer(plan)
        out.update(partial=True, notices=plan.notices + [_TOO_BROAD])
        return out
    if not cand:
        return P.empty_answer(plan)
    needed = page * limit
    k = min(max(needed * 4 + 20, 50), MAX_CANDIDATES)
    verified: list[tuple[float, P.Candidate]] = []
    checked = 0
    partial = False
    pos = 0
    batch = min(FETCH_BATCH, k)
    done = False
    while not done and pos < len(order):
        if budget is not None and budget.left() < 0:
            partial = True
            break
        chunk = order[pos : pos + batch]
        pos += len(chunk)
        try:
            _set_timeout(cur, budget)
            recs = _records(cur, [d for d, _ in chunk])
        except psycopg.errors.QueryCanceled:
            partial = True
            break
        for dn, score in chunk:
            if budget is not None and checked % BUDGET_CHECK_EVERY == 0 and budget.left() < 0:
                partial = True
                done = True
                break
            c = P.Candidate(dn, score, recs[dn])
            checked += 1
            if plan.exact or P.verify(plan, c.rec):
                verified.append((P.final_score(plan, c) if sort != "date" else 0.0, c))
                if len(verified) >= k:
                    done = True
                    break
            if checked >= MAX_CANDIDATES:
                done = True
                break
        batch = FETCH_BATCH
    collapsed = P.collapse(sorted(verified, key=P.order_key(sort), reverse=True))
    exhausted = checked >= len(cand) and not partial
    try:
        _set_timeout(cur, None)
        if exhausted:
            total, estimate, scale = len(verified), False, 1.0
            counts = facet_counts(cur, (c.docnum for _, c in verified))
        else:
            ratio = 1.0 if plan.exact else (len(verified) / checked if checked else 1.0)
            sample = cand if len(cand) <= FACET_SAMPLE else cand[:FACET_SAMPLE]
            scale = len(cand) / FACET_SAMPLE * ratio if len(cand) > FACET_SAMPLE else ratio
            total = int(round(len(cand) * ratio))
            estimate = not plan.exact
            counts = facet_counts(cur, sample)
    except psycopg.errors.QueryCanceled:
        counts, scale, partial = {k: {} for k in FACET_COLUMNS}, 1.0, True
        total, estimate = len(verified), True
    facets_estimate = estimate
    if scale != 1.0:
        counts = {
            n: {v: max(1, int(round(c * scale))) for v, c in vals.items()}
            for n, vals in counts.items()
        }
        facets_estimate = True
    start = (page - 1) * limit
    shown = collapsed[start : start + limit]
    hits = [P.format_hit(c, score, plan, more) for score, c, more in shown]
    pages = math.ceil(len(collapsed) / limit) if exhausted else max(1, math.ceil(total / limit))
    return {
        "query": plan.pq.raw,
        "total": total,
        "total_is_estimate": estimate,
        "facets_are_estimate": facets_estimate,
        "page": page,
        "pages": pages,
        "hits": hits,
        "facets": counts,
        "partial": partial,
        "notices": plan.notices + ([_PARTIAL] if partial else []),
    }


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
    "candidates",
    "where",
    "describe",
    "bm25_scores",
    "facet_counts",
    "top_words",
    "MAX_CANDIDATES",
    "FACET_SAMPLE",
    "DIRECT_SCORING",
]
