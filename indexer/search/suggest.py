"""What to offer when a search finds nothing: relaxed queries and close dictionary terms.

:func:`relaxations` rewrites a parsed query into looser ones, as query strings the engine can run
(or show as links) in the order given, most faithful first:

1. phrases become plain words (a phrase with spaces becomes its words);
2. filters are dropped, one key at a time when there are several, then all of them;
3. one positive clause is dropped, the rarest first (by ``doc_freq`` when the engine passes it,
   otherwise the longest text is taken as the rarest); only while another positive clause stays;
4. negated terms are dropped;
5. long words are split into their dictionary words (when the engine passes ``split_words``,
   its word segmentation);
6. everything above at once (and that minus its rarest clause).

A relaxation equal to the query itself, empty, or already listed is left out.

:func:`close_terms` finds dictionary terms and synonym forms near a word: one or two characters
typed wrong (新智生产力 → 新质生产力), a term containing the word or contained in it, or many
shared characters.
"""

from __future__ import annotations

from collections.abc import Callable

from indexer.search.query import ParsedQuery, Term, format_query
from indexer.search.vocab import Vocabulary
from indexer.search.vocab import search_key as _key

_SPLIT_MIN = 4  # words shorter than this are not split into dictionary words
_MAX_EDIT_LEN = 20  # longer words are compared by containment only


def _copy(pq: ParsedQuery, clauses=None, filters=None) -> ParsedQuery:
    return ParsedQuery(
        raw=pq.raw,
        clauses=[list(c) for c in (pq.clauses if clauses is None else clauses)],
        filters={k: list(v) for k, v in (pq.filters if filters is None else filters).items()},
    )


def _unphrase(clauses: list[list[Term]]) -> list[list[Term]]:
    out: list[list[Term]] = []
    for c in clauses:
        if len(c) == 1 and c[0].phrase and " " in c[0].text:
            out += [[Term(w, negated=c[0].negated)] for w in c[0].text.split()]
        else:
            out.append([Term(t.text, negated=t.negated) for t in c])
    return out


def _split_words(
    clauses: list[list[Term]], split_words: Callable[[str], list[str]]
) -> list[list[Term]]:
    out: list[list[Term]] = []
    for c in clauses:
        t = c[0]
        if len(c) == 1 and not t.negated and not t.phrase and len(t.text) >= _SPLIT_MIN:
            parts = [p for p in split_words(t.text) if _key(p)]
            if len(parts) > 1:
                out += [[Term(p)] for p in parts]
                continue
        out.append(c)
    return out


def _rarity_order(clauses: list[list[Term]], doc_freq: Callable[[str], int] | None) -> list[int]:
    """Indexes of positive clauses, rarest first."""
    positive = [i for i, c in enumerate(clauses) if not c[0].negated]

    def rarity(i: int):
        c = clauses[i]
        if doc_freq is not None:
            return (sum(max(0, int(doc_freq(t.text))) for t in c), i)
        return (-max(len(t.text) for t in c), i)

    return sorted(positive, key=rarity)


def _without_rarest(clauses, doc_freq) -> list[list[list[Term]]]:
    order = _rarity_order(clauses, doc_freq)
    if len(order) < 2:
        return []
    return [[c for j, c in enumerate(clauses) if j != i] for i in order]


def relaxations(
    pq: ParsedQuery,
    *,
    doc_freq: Callable[[str], int] | None = None,
    split_words: Callable[[str], list[str]] | None = None,
    limit: int = 8,
) -> list[str]:
    """Looser forms of ``pq`` as query strings, most faithful first (see the module text).

    ``doc_freq(term_text)`` (optional) gives how many records contain a term, so that the
    rarest clause is dropped first; ``split_words(word)`` (optional: the engine's segmentation
    with the vocabulary) lets long words be split into dictionary words."""
    candidates: list[ParsedQuery] = []
    unphrased = _unphrase(pq.clauses)
    candidates.append(_copy(pq, clauses=unphrased))

    keys = [k for k, v in pq.filters.items() if v]
    if len(keys) > 1:
        for k in keys:
            candidates.append(_copy(pq, filters={x: v for x, v in pq.filters.items() if x != k}))
    if keys:
        candidates.append(_copy(pq, filters={}))

    for clauses in _without_rarest(pq.clauses, doc_freq):
        candidates.append(_copy(pq, clauses=clauses))

    positive_only = [c for c in pq.clauses if not c[0].negated]
    candidates.append(_copy(pq, clauses=positive_only))

    relaxed = [c for c in unphrased if not c[0].negated]
    if split_words is not None:
        split = _split_words(pq.clauses, split_words)
        candidates.append(_copy(pq, clauses=split))
        relaxed = _split_words(relaxed, split_words)
    candidates.append(_copy(pq, clauses=relaxed, filters={}))
    for clauses in _without_rarest(relaxed, doc_freq)[:1]:
        candidates.append(_copy(pq, clauses=clauses, filters={}))

    original = format_query(pq)
    out: list[str] = []
    for cand in candidates:
        if cand.is_empty():
            continue
        text = format_query(cand)
        if text and text != original and text not in out:
            out.append(text)
    return out[:limit] if limit > 0 else out


def _edit_distance(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _closeness(w: str, k: str) -> float:
    """0..1, how close dictionary key k is to the typed key w."""
    short, long_ = sorted((len(w), len(k)))
    score = 0.0
    if w in k or k in w:
        if short >= 2 or k.startswith(w):
            score = 0.5 + 0.4 * short / long_
    if len(w) <= _MAX_EDIT_LEN and long_ - short <= max(1, long_ // 2):
        score = max(score, 1 - _edit_distance(w, k) / long_)
    if len(w) >= 2:
        a, b = set(w), set(k)
        score = max(score, 0.9 * 2 * len(a & b) / (len(a) + len(b)))
    return score


def close_terms(word: str, vocab: Vocabulary, limit: int = 5) -> list[str]:
    """Dictionary terms and synonym forms close to ``word`` (closest first), not the word
    itself."""
    w = _key(word)
    if not w or limit <= 0:
        return []
    seen: set[str] = set()
    scored = []
    rank = 0
    for cand in [*vocab.terms, *(f for g in vocab.synonym_groups for f in g)]:
        k = _key(cand)
        if k == w or k in seen:
            continue
        seen.add(k)
        rank += 1
        s = _closeness(w, k)
        if s >= 0.5:
            scored.append((-s, abs(len(k) - len(w)), rank, cand))
    scored.sort()
    return [c for *_, c in scored[:limit]]


__all__ = ["relaxations", "close_terms"]
