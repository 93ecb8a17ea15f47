"""Query plans and the answer rules both search backends share.

What a record is found by (``meta_text``, ``body_text``), how a typed term becomes a form (its
punctuation-blind segments, its jieba words, its verifier), how filters resolve, the search's
time budget, how a verified candidate is scored, ordered, collapsed and shown: one definition,
imported by the Whoosh backend (``indexer/search/whoosh/searching.py``) and the PostgreSQL
backend (``indexer/search/postgres/``), so that both give the same answers. Nothing here reads
an index: each backend turns a :class:`Plan` into candidates its own way.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

from indexer.ingest.normalize import display, for_search
from indexer.search.highlight import highlight
from indexer.search.jieba_words import jieba_for, word_tokens
from indexer.search.query import (
    ParsedQuery,
    Term,
    parse,
    resolve_any_kind,
    resolve_audience,
    resolve_doc_kind,
    resolve_kind,
)
from indexer.search.text import SEP, is_latin, run_regex, runs, segment_texts
from library.content import citation, date_zh
from library.errors import UsageError

CONTEXT_BONUS = 1.0  # a term found in the heading path / title / 出处 doubles the score
CONTEXT_FLOOR = 1.0  # ... and gives a record matched by its context alone a score
ADJACENT_BONUS = 0.5
QUOTE_BONUS = 1.5  # a quote holding every term outranks a title/heading match
EXACT_BASE = 10.0  # every term found verbatim in the text: about a good BM25 word match
EXACT_COVERAGE = 3.0  # ... up to 4× when the match is the whole text
PER_DOCUMENT = 2
MAX_CLAUSES = 12  # positive terms used per query; further ones are dropped, said so
FACET_NAMES = ("topic", "kind", "doc_kind", "audience", "year", "speaker")


# ---------------------------------------------------------------------------------------------
# what a record is found by


def date_words(date: str | None) -> str:
    """Forms of a date that people type: 2020-12-05 → "2020-12-05 2020年12月5日"."""
    if not date:
        return ""
    zh = date_zh(date)
    return date if zh == date else f"{date} {zh}"


def meta_text(rec: dict) -> str:
    """What a hit is found by besides its text: a quote by its 出处 (source, speaker, date),
    a passage by its heading path and document title."""
    if rec.get("kind") == "quote":
        parts = [rec.get("source") or "", rec.get("speaker") or "", date_words(rec.get("date"))]
    else:
        parts = [rec.get("heading") or "", rec.get("document_title") or ""]
    return "\n".join(p for p in parts if p)


def body_text(rec: dict) -> str:
    q = rec.get("question")
    return f"{q}\n{rec.get('text') or ''}" if q else (rec.get("text") or "")


def searchable_text(rec: dict) -> str:
    """Everything a record is found by, one field per line (line breaks end gram runs)."""
    m = meta_text(rec)
    return f"{body_text(rec)}\n{m}" if m else body_text(rec)


# ---------------------------------------------------------------------------------------------
# plans


class BudgetExceeded(Exception):
    """A search ran out of its time budget."""


class Budget:
    """The time a search may take (architecture guide, decision 10): checked while candidates
    are read and verified; what is found by then is answered, flagged ``partial``."""

    def __init__(self, seconds: float | None = None):
        self.deadline = time.monotonic() + seconds if seconds else math.inf

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise BudgetExceeded


@dataclass
class Form:
    """One searchable form of a term: its segments, words and verifier."""

    text: str
    runs: list[str]
    words: list[str]
    pattern: re.Pattern
    exact: bool  # a single two-character CJK segment: its gram alone decides the match


@dataclass
class Candidate:
    """A record read for verification: its doc number (newest = highest), cheap score, display
    fields."""

    docnum: int
    score: float
    rec: dict


@dataclass
class Plan:
    pq: ParsedQuery
    clauses: list[list[Form]] = field(default_factory=list)  # positive: AND of OR
    negated: list[Form] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)  # facet -> index values
    adjacent: re.Pattern | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def patterns(self) -> list[re.Pattern]:
        return [f.pattern for c in self.clauses for f in c]

    @property
    def exact(self) -> bool:
        return not self.negated and all(f.exact for c in self.clauses for f in c)

    def words(self) -> list[str]:
        """The ranking words (BM25F over the body's word field), each once, in query order."""
        return list(dict.fromkeys(w for c in self.clauses for f in c for w in f.words))


def make_form(text: str, tokenizer) -> Form | None:
    """One searchable form of a typed term. Punctuation and quotation marks inside a term are
    text, not syntax: the term's segments (``text.segment_texts``) must occur in order with only
    punctuation or spaces between them, so “雄鹰”企业, 雄鹰企业 and 雄鹰，企业 all find the
    text “雄鹰”企业 and nothing looser."""
    norm = for_search(text)
    runs = segment_texts(norm)
    if not runs:
        return None
    pattern = re.compile(SEP.join(run_regex(r) for r in runs))
    words = [w for w, _, _ in word_tokens(norm, tokenizer)]
    exact = (
        len(runs) == 1
        and len(runs[0]) == 2
        and not is_latin(runs[0][0])
        and not is_latin(runs[0][1])
    )
    return Form(text, runs, words, pattern, exact)


_SPEAKERS = None


def _speakers():
    """The speaker alias table (packaged; a home's own additions apply at ingest, where
    speakers are stored under their canonical names)."""
    global _SPEAKERS
    if _SPEAKERS is None:
        from indexer.ingest.structure.sources import SpeakerTable

        _SPEAKERS = SpeakerTable.load()
    return _SPEAKERS


def tokenizer(vocab):
    return jieba_for(vocab.version, tuple(vocab.terms))


def build_plan(
    q: str | ParsedQuery,
    vocab,
    taxonomy,
    *,
    topic=None,
    kind=None,
    doc_kind=None,
    audience=None,
    year=None,
    speaker=None,
) -> Plan:
    pq = q if isinstance(q, ParsedQuery) else parse(q or "")
    tok = tokenizer(vocab)
    plan = Plan(pq)
    for clause in pq.clauses:
        if clause[0].negated:
            f = make_form(clause[0].text, tok)
            if f:
                plan.negated.append(f)
            continue
        forms: list[Form] = []
        seen = set()
        for term in clause:
            for text in _expansions(term, vocab):
                key = (for_search(text), term.phrase)
                if key in seen:
                    continue
                seen.add(key)
                f = make_form(text, tok)
                if f:
                    forms.append(f)
        if forms:
            plan.clauses.append(forms)
    if len(plan.clauses) > MAX_CLAUSES:
        dropped = plan.clauses[MAX_CLAUSES:]
        plan.clauses = plan.clauses[:MAX_CLAUSES]
        plan.notices.append(
            f"检索词过多，只使用了前 {MAX_CLAUSES} 个；未使用："
            + "、".join(c[0].text for c in dropped[:5])
            + ("等" if len(dropped) > 5 else "")
            + "。"
        )
    if len(plan.negated) > MAX_CLAUSES:
        plan.negated = plan.negated[:MAX_CLAUSES]
        plan.notices.append(f"排除词过多，只使用了前 {MAX_CLAUSES} 个。")
    raw = dict(pq.filters)
    for name, val in (
        ("topic", topic),
        ("kind", kind),
        ("doc_kind", doc_kind),
        ("audience", audience),
        ("year", year),
        ("speaker", speaker),
    ):
        if val:
            vals = [val] if isinstance(val, (str, int)) else list(val)
            raw.setdefault(name, []).extend(str(v) for v in vals)
    resolved: dict[str, set] = {}
    for name, vals in raw.items():
        for v in vals:
            field_name, value = resolve_filter(name, v, taxonomy)
            resolved.setdefault(field_name, set()).add(value)
    plan.filters = {k: sorted(v) for k, v in resolved.items() if v}
    if len(plan.clauses) > 1 and all(len(c) == 1 for c in plan.clauses):
        plan.adjacent = re.compile(
            SEP.join(SEP.join(run_regex(r) for r in c[0].runs) for c in plan.clauses)
        )
    return plan


def _expansions(term: Term, vocab) -> list[str]:
    try:
        forms = vocab.expand(term.text)
    except Exception:
        forms = [term.text]
    return forms or [term.text]


_KIND_HINT = (
    "记录：金句（quote）、段落（passage）、问答（qa）；材料：金句汇编（quotes）、讲义（handout）、"
    "讲稿（script）、案例（case）、热点问答"
)


def resolve_filter(name: str, value: str, taxonomy) -> tuple[str, str]:
    """(facet, stored value) for a typed filter value; a Chinese message if unknown."""
    if name == "topic":
        return "topic", taxonomy.resolve(value).slug
    if name == "kind":
        k = resolve_any_kind(value)
        if k is None:
            raise UsageError(f"没有“{value}”这种类型。", "可用的类型：" + _KIND_HINT)
        return k
    if name == "doc_kind":
        d = resolve_doc_kind(value) or (resolve_kind(value) == "quote" and "quotes") or None
        if d is None:
            raise UsageError(f"没有“{value}”这种材料类型。", "可用的类型：" + _KIND_HINT)
        return "doc_kind", d
    if name == "audience":
        a = resolve_audience(value)
        if a is None:
            raise UsageError(
                f"没有“{value}”这种宣讲对象。",
                "可用的对象：进农村、进社区、进企业、进机关、进学校、进网络",
            )
        return "audience", a
    if name == "speaker":
        name_ = display(str(value)).strip()
        if not name_:
            raise UsageError("讲话人不能为空。", "例如 speaker:习近平")
        return "speaker", _speakers().canonical(name_) or name_
    if name == "year":
        m = re.fullmatch(r"\s*(\d{4})\s*年?\s*", for_search(str(value)))
        if not m:
            raise UsageError(
                f"年份“{value}”无法识别。", "请写四位数字，如 year:2021 或 year:2019-2021"
            )
        return "year", m.group(1)
    raise UsageError(
        f"不支持的筛选条件“{name}”。", "可用的筛选：topic、kind、audience、year、speaker"
    )


# ---------------------------------------------------------------------------------------------
# verification, scoring, order, collapse, hits


def verify(plan: Plan, rec: dict) -> bool:
    norm = for_search(searchable_text(rec))
    for clause in plan.clauses:
        if not any(f.pattern.search(norm) for f in clause):
            return False
    return not any(f.pattern.search(norm) for f in plan.negated)


def final_score(plan: Plan, c: Candidate) -> float:
    s = c.score
    body = for_search(c.rec.get("text") or "")
    matched = [next((f for f in clause if f.pattern.search(body)), None) for clause in plan.clauses]
    in_body = bool(plan.clauses) and all(matched)
    if in_body:
        # Every term lies in the text itself, whatever jieba made of text and query (a query
        # 绿水青山 against a text segmented as 绿水青山就是金山银山 gets no word score): add a
        # base for the exact match, growing with the share of the text the match covers.
        covered = sum(len(f.text) for f in matched) / max(len(body), 1)
        s += EXACT_BASE * (1 + EXACT_COVERAGE * min(1.0, covered))
    if plan.clauses:
        meta = for_search(meta_text(c.rec))
        if meta and any(f.pattern.search(meta) for cl in plan.clauses for f in cl):
            s = (s or CONTEXT_FLOOR) * (1 + CONTEXT_BONUS)
    if plan.adjacent is not None and plan.adjacent.search(body):
        s *= 1 + ADJACENT_BONUS
    if in_body and c.rec.get("kind") == "quote":
        s *= 1 + QUOTE_BONUS
    return s


def order_key(sort: str):
    """Key over (score, candidate) pairs, best last (sorted with reverse=True)."""
    if sort == "date":
        return lambda t: (t[1].rec.get("date") or "", t[1].rec.get("updated") or 0.0)
    return lambda t: (
        round(t[0], 6),
        t[1].rec.get("updated") or 0.0,
        t[1].rec.get("date") or "",
        -(t[1].rec.get("seq") or 0),
    )


def group_of(rec: dict):
    """The document a record is collapsed with, None for a record shown on its own (a quote, or
    a record without a document)."""
    doc = rec.get("document_id")
    return None if rec.get("kind") == "quote" else doc


def shown_count(per_group) -> int:
    """How many hits the pages show for matches counted per group (``group → n``; the group
    None: records shown on their own, each a hit): every lone record, and at most
    ``PER_DOCUMENT`` of each document."""
    return sum(n if g is None else min(n, PER_DOCUMENT) for g, n in per_group.items())


SKIP_AFTER = 4 * PER_DOCUMENT  # an exact plan reads this many records of a document at most


class Shown:
    """Counts verified hits as ``collapse`` will show them: at most ``PER_DOCUMENT`` per
    document. A search verifies its ``k`` records (the page and a margin for re-ranking) and
    goes on until the page is full of *shown* hits: a document that says the query in 80
    passages fills no page."""

    def __init__(self):
        self.n = 0  # hits shown
        self.lone = 0  # ... of them records shown on their own
        self.per_doc: dict = {}  # document → its verified records

    def add(self, rec: dict) -> None:
        g = group_of(rec)
        if g is None:
            self.n += 1
            self.lone += 1
            return
        k = self.per_doc.get(g, 0)
        self.per_doc[g] = k + 1
        if k < PER_DOCUMENT:
            self.n += 1

    def enough(self, verified: int, k: int, page: int, limit: int) -> bool:
        """Verification may stop: ``k`` records verified and the asked page full."""
        return verified >= k and self.n >= page * limit

    def skip(self, group) -> bool:
        """An exact plan need not read a record of a document that has ``SKIP_AFTER`` read:
        it matches (its count comes from the candidates), it would not be shown, and the best
        of the document's first records are shown."""
        return group is not None and self.per_doc.get(group, 0) >= SKIP_AFTER

    def estimate(self, unchecked, ratio: float) -> int:
        """The hits the pages would show were the ``unchecked`` candidates (their groups, None
        for lone records) verified too, ``ratio`` of them matching: the verified ones counted,
        the rest scaled, each document capped at ``PER_DOCUMENT``."""
        rest: dict = {}
        for g in unchecked:
            rest[g] = rest.get(g, 0) + 1
        est = self.lone + rest.pop(None, 0) * ratio
        for g, k in self.per_doc.items():
            est += min(k + rest.pop(g, 0) * ratio, PER_DOCUMENT)
        est += sum(min(k * ratio, PER_DOCUMENT) for k in rest.values())
        return max(self.n, int(round(est)))


def collapse(ordered: list[tuple[float, Candidate]]) -> list[tuple[float, Candidate, list]]:
    """At most PER_DOCUMENT passage/Q&A hits per document; the rest counted on the first."""
    out = []
    per_doc: dict = {}
    for score, c in ordered:
        doc = group_of(c.rec)
        if doc is None:
            out.append((score, c, [0]))
            continue
        entry = per_doc.get(doc)
        if entry is None:
            entry = per_doc[doc] = {"n": 0, "more": [0]}
        if entry["n"] < PER_DOCUMENT:
            out.append((score, c, entry["more"] if entry["n"] == 0 else [0]))
            entry["n"] += 1
        else:
            entry["more"][0] += 1
    return out


def format_hit(c: Candidate, score: float, plan: Plan, more=None) -> dict:
    rec = c.rec
    pats = plan.patterns
    hit = {
        "kind": rec.get("kind"),
        "id": rec.get("id"),
        "text": rec.get("text") or "",
        "highlight": highlight(rec.get("text") or "", pats),
        "document": {
            "id": rec.get("document_id"),
            "title": rec.get("document_title") or "",
            "filename": rec.get("filename") or "",
            "kind": rec.get("doc_kind") or "",
        },
        "page": rec.get("page"),
        "heading": rec.get("heading") or "",
        "source": rec.get("source") or "",
        "speaker": rec.get("speaker") or "",
        "date": rec.get("date"),
        "topics": list(rec.get("topics") or []),
        "audiences": list(rec.get("audiences") or []),
        "score": round(float(score), 4),
        "more_in_document": more[0] if more else 0,
    }
    if hit["kind"] == "quote":
        hit["citation"] = citation(hit["source"], hit["date"], hit["speaker"])
    if rec.get("start") is not None:  # a transcript passage: the moment it is spoken
        hit["start"], hit["end"] = rec["start"], rec.get("end")
    if rec.get("question"):
        hit["question"] = rec["question"]
        hit["question_highlight"] = highlight(rec["question"], pats, snippet=False)
    return hit


# ---------------------------------------------------------------------------------------------
# the answer: the rules of run_search both backends follow

MAX_CANDIDATES = 4000  # candidates verified at most per search
DIRECT_SCORING = 1500  # candidates scored (the newest ones when there are more)
FACET_SAMPLE = 5000  # candidate doc numbers read for totals and facets at most
BUDGET_CHECK_EVERY = 32  # candidates verified between two looks at the clock

TOO_BROAD = "这个查询太宽泛，未能在时限内完成。请输入更具体的词语，或减少单个字的检索词。"
PARTIAL = "查询较宽泛，在时限内只检查了一部分内容：结果可能不完整。"


def paging(sort: str, limit: int, page: int, cap: int = MAX_CANDIDATES) -> tuple[int, int, int]:
    """(limit, page, k): the page asked for, bounded, and how many verified hits to collect
    before stopping (the page and a margin for re-ranking and collapse; at most ``cap``, the
    backend's MAX_CANDIDATES)."""
    if sort not in ("relevance", "date"):
        raise UsageError(f"不支持的排序方式“{sort}”。", "可用：relevance（相关度）、date（日期）")
    limit = max(1, min(int(limit), 100))
    page = max(1, int(page))
    return limit, page, min(max(page * limit * 4 + 20, 50), cap)


def sampled(plan: Plan, n: int, verified: int, checked: int, sample: int):
    """(total, total_is_estimate, facet scale) when not every one of ``n`` candidates was
    checked: the share of checked candidates that verified (1 for an exact plan) times ``n``;
    facets counted on the first ``sample`` candidates scale by n / sample too."""
    ratio = 1.0 if plan.exact else (verified / checked if checked else 1.0)
    scale = n / sample * ratio if n > sample else ratio
    return int(round(n * ratio)), not plan.exact, scale


def too_broad(plan: Plan) -> dict:
    out = empty_answer(plan)
    out.update(partial=True, notices=plan.notices + [TOO_BROAD])
    return out


def scaled(counts: dict[str, dict[str, int]], scale: float) -> dict[str, dict[str, int]]:
    """Facet counts of a sample scaled to the whole candidate set (at least 1 per value)."""
    return {
        n: {v: max(1, int(round(c * scale))) for v, c in vals.items()} for n, vals in counts.items()
    }


def answer(
    plan: Plan,
    collapsed: list,
    *,
    limit: int,
    page: int,
    total: int,
    estimate: bool,
    counts: dict,
    scale: float,
    partial: bool,
    exhausted: bool,
    shown: int | None = None,
    shown_is_estimate: bool = True,
    doc_matches=None,
) -> dict:
    """The search answer: the page of collapsed hits, total, pages, facets (scaled when
    counted on a sample), flags and notices.

    ``total`` counts matching records; the pages count the hits they show (``collapse``: at most
    ``PER_DOCUMENT`` of a document). When the search stopped before the end, ``shown`` is the
    backend's count of those hits (exact for an exact plan, else ``shown_is_estimate``), and
    ``doc_matches(documents)`` the number of matching records of each document whose first hit
    is on this page (an exact plan: its ``more_in_document`` is then every further match, the
    same on every page)."""
    facets_estimate = estimate
    if scale != 1.0:
        counts = scaled(counts, scale)
        facets_estimate = True
    start = (page - 1) * limit
    shown_hits = collapsed[start : start + limit]
    if doc_matches is not None and not exhausted and shown_hits:
        shown_hits = _with_document_matches(collapsed, start, shown_hits, doc_matches)
    hits = [format_hit(c, score, plan, more) for score, c, more in shown_hits]
    if exhausted:
        pages, pages_estimate = math.ceil(len(collapsed) / limit), False
    elif shown is not None:
        pages = max(1, math.ceil(max(shown, len(collapsed)) / limit))
        pages_estimate = shown_is_estimate
    else:
        pages, pages_estimate = max(1, math.ceil(total / limit)), True
    return {
        "query": plan.pq.raw,
        "total": total,
        "total_is_estimate": estimate,
        "facets_are_estimate": facets_estimate,
        "page": page,
        "pages": pages,
        "pages_are_estimate": pages_estimate,
        "hits": hits,
        "facets": counts,
        "partial": partial,
        "notices": plan.notices + ([PARTIAL] if partial else []),
    }


def _with_document_matches(collapsed: list, start: int, page: list, doc_matches) -> list:
    """The page with ``more_in_document`` of each document's first hit set from the document's
    matches: all of them but the ``PER_DOCUMENT`` the pages show."""
    seen = {group_of(c.rec) for _, c, _ in collapsed[:start]}
    firsts = []
    for _, c, _ in page:
        g = group_of(c.rec)
        if g is not None and g not in seen:
            seen.add(g)
            firsts.append(g)
    if not firsts:
        return page
    matches = doc_matches(firsts)
    out = []
    done = set()
    for score, c, more in page:
        g = group_of(c.rec)
        if g in matches and g not in done:
            done.add(g)
            more = [max(more[0], matches[g] - PER_DOCUMENT)]
        out.append((score, c, more))
    return out


def empty_answer(plan: Plan) -> dict:
    return {
        "query": plan.pq.raw,
        "total": 0,
        "total_is_estimate": False,
        "facets_are_estimate": False,
        "page": 1,
        "pages": 0,
        "pages_are_estimate": False,
        "hits": [],
        "facets": {k: {} for k in FACET_NAMES},
        "partial": False,
        "notices": list(plan.notices),
    }


__all__ = [
    "Plan",
    "Form",
    "Candidate",
    "FACET_NAMES",
    "MAX_CLAUSES",
    "PER_DOCUMENT",
    "CONTEXT_BONUS",
    "ADJACENT_BONUS",
    "QUOTE_BONUS",
    "date_words",
    "Budget",
    "BudgetExceeded",
    "build_plan",
    "make_form",
    "resolve_filter",
    "verify",
    "final_score",
    "order_key",
    "collapse",
    "group_of",
    "shown_count",
    "Shown",
    "format_hit",
    "empty_answer",
    "paging",
    "too_broad",
    "sampled",
    "answer",
    "MAX_CANDIDATES",
    "DIRECT_SCORING",
    "FACET_SAMPLE",
    "BUDGET_CHECK_EVERY",
    "meta_text",
    "body_text",
    "searchable_text",
    "tokenizer",
]


def autocomplete(engine, prefix: str, limit: int = 10) -> list[dict]:
    """Dictionary terms, document titles and quotes beginning with ``prefix``: the same for
    every backend (``engine`` gives ``vocab``, ``status()`` and ``search()``)."""
    p = for_search((prefix or "").strip())
    if not p:
        return []
    out: list[dict] = []
    seen = set()

    def add(text, kind):
        key = for_search(text)
        if key not in seen and len(out) < limit:
            seen.add(key)
            out.append({"text": text, "kind": kind})

    prefix_terms = getattr(engine.vocab, "prefix_terms", None)
    terms = (
        prefix_terms(prefix.strip(), limit)
        if prefix_terms
        else [t for t in engine.vocab.terms if for_search(t).startswith(p)][:limit]
    )
    for t in terms:
        add(t, "term")
    if engine.status() != "ok" or not runs(p):
        return out
    res = engine.search(prefix.strip().replace('"', ""), limit=50)
    for hit in res["hits"]:
        title = hit["document"]["title"]
        if title and for_search(title).startswith(p):
            add(title, "title")
    for hit in res["hits"]:
        if hit["kind"] == "quote" and for_search(hit["text"]).startswith(p):
            add(hit["text"], "quote")
    return out
