"""The query language a speaker types into the search box, parsed into plain data.

Syntax (every element also in its Chinese / full-width form):

* words separated by spaces (ASCII or 全角) must all match: ``生态 文明``;
* ``"…"`` (ASCII, or the full-width ``＂…＂``) is an exact phrase that may hold spaces; an
  unclosed quote runs to the end of the input; empty quotes are ignored. Chinese quotation
  marks (``“…”``, ``「…」``, ``『…』``) are text, not syntax: ``“雄鹰”企业`` pasted from a report
  is one term (matching ignores punctuation between its characters);
* ``-word`` / ``-"phrase"`` (also ``－`` and ``−``) excludes; a negated term alone is allowed
  and means "everything except" (the engine may require a positive term or a filter);
* ``OR`` (upper case only; lower-case ``or`` is a word), ``|``, ``｜`` or a standalone ``或``
  between two terms makes them alternatives; ``a|b`` written without spaces works too;
* filters ``topic:`` / ``专题:`` / ``主题:``, ``kind:`` / ``类型:``, ``audience:`` / ``对象:``,
  ``year:`` / ``年份:`` with ``:`` or ``：``; several values separated by ``,``, ``，`` or ``、``;
  a quoted value may hold spaces (``topic:"生态文明建设"``); ``year:2019-2021`` (also ``~``,
  ``至``, ``到``) expands to every year of the range; a year may be written ``２０２１`` or
  ``2021年``.

Decisions:

* An unknown filter name (``foo:bar``, ``http://…``, ``10:30``) is kept as a plain word, exactly
  as typed. A known filter name with nothing after the colon (``topic:``) is ignored.
* A negated term always stands in a clause of its own: ``a OR -b`` means ``a`` AND NOT ``b``.
  ``-topic:x`` is a negated plain word ``topic:x`` (filters cannot be negated).
* ``OR`` at the start or end, or doubled, is ignored. Filters between two alternatives do not
  break the ``OR``: ``a OR kind:quote b`` is ``(a OR b)`` with a kind filter.
* Terms keep their display form (:func:`indexer.ingest.normalize.display`): Kangxi radicals become the
  unified ideographs, zero-width characters go; case and full-width digits stay as typed, the
  engine normalizes for search. A term made of punctuation only is dropped.
* Identical clauses are kept once.

:func:`parse` never raises on user input. :func:`format_query` writes a :class:`ParsedQuery`
back as a query string that parses to the same clauses and filters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from indexer.ingest.normalize import display, for_search
from library.content import AUDIENCES, HIT_KINDS, KINDS

# Phrase syntax is the ASCII double quote (and its full-width twin ＂) only. Chinese quotation
# marks typed or pasted with the words (“雄鹰”企业, 「…」) are text: matching is
# punctuation-blind, so they neither hide nor change what is found.
_QUOTES = {'"': '"＂', "＂": '"＂'}
# A filter value may still be quoted the Chinese way: topic:“生态 文明”.
_DOUBLE = '"“”＂„‟'
_VALUE_QUOTES = {q: _DOUBLE for q in _DOUBLE}
_VALUE_QUOTES.update({"「": "」", "『": "』"})

_MINUS = "-－−"
_OR_WORDS = {"OR", "或"}
_OR_BARS = "|｜"
_COLONS = ":："
_VALUE_SEPARATORS = re.compile(r"[,，、]")
_RANGE = re.compile(r"^(\d{4})年?\s*(?:-|–|—|~|～|至|到)\s*(\d{4})年?$")
_YEAR = re.compile(r"^(\d{4})年?$")
_MAX_RANGE = 200

FILTER_KEYS = {
    "topic": "topic",
    "专题": "topic",
    "主题": "topic",
    "选题": "topic",
    "kind": "kind",
    "类型": "kind",
    "audience": "audience",
    "对象": "audience",
    "year": "year",
    "年份": "year",
    "speaker": "speaker",
    "讲话人": "speaker",
    "说话人": "speaker",
}

# kind: values a user may type -> hit kind slug (see library.content.HIT_KINDS).
_KIND_ALIASES = {
    "quote": "quote",
    "quotes": "quote",
    "金句": "quote",
    "passage": "passage",
    "passages": "passage",
    "段落": "passage",
    "qa": "qa",
    "q&a": "qa",
    "问答": "qa",
    "热点问答": "qa",
}


# material kinds people type besides the slugs and labels of library.content.KINDS
_DOC_KIND_ALIASES = {
    "汇编": "quotes",
    "金句摘编": "quotes",
    "compilation": "quotes",
    "讲稿/党课": "script",
    "党课": "script",
    "宣讲稿": "script",
    "讲话稿": "script",
    "讲义/课件": "handout",
    "课件": "handout",
    "教案": "handout",
    "案例集": "case",
}


@dataclass(frozen=True)
class Term:
    text: str  # as typed (display form), never empty
    phrase: bool = False  # typed inside "…" or “…”
    negated: bool = False  # -word / -"phrase"


@dataclass
class ParsedQuery:
    raw: str
    clauses: list[list[Term]] = field(default_factory=list)  # AND over clauses, OR inside
    filters: dict[str, list[str]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """No positive clause and no filter: nothing to search for."""
        return not self.positive_clauses() and not any(self.filters.values())

    def positive_clauses(self) -> list[list[Term]]:
        return [c for c in self.clauses if not c[0].negated]

    def negated_terms(self) -> list[Term]:
        return [c[0] for c in self.clauses if c[0].negated]

    def terms(self) -> list[Term]:
        """Every term, in order (positive and negated)."""
        return [t for c in self.clauses for t in c]

    def __str__(self) -> str:
        return format_query(self)


# --- tokenizing -------------------------------------------------------------------------


@dataclass
class _Token:
    text: str
    quoted: bool = False  # the whole token was a quoted phrase
    negated: bool = False
    key: str | None = None  # filter key as typed, when the token is key:value


def _read_quoted(s: str, i: int, quotes: dict = _QUOTES) -> tuple[str, int]:
    """s[i] is an opening quote; return the phrase text and the index after the closing quote
    (or the end of input when the quote is never closed)."""
    closers = quotes[s[i]]
    j = i + 1
    while j < len(s) and s[j] not in closers:
        j += 1
    return s[i + 1 : j], min(j + 1, len(s))


def _tokens(s: str) -> list[_Token | str]:
    """Split into tokens; OR operators come back as the string "OR"."""
    out: list[_Token | str] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch.isspace():
            i += 1
            continue
        if ch in _OR_BARS:
            out.append("OR")
            i += 1
            continue
        negated = False
        if ch in _MINUS:
            j = i
            while j < n and s[j] in _MINUS:
                j += 1
            if j >= n or s[j].isspace() or s[j] in _OR_BARS:
                i = j  # a lone minus: ignore it
                continue
            negated, i = True, j
            ch = s[i]
        if ch in _QUOTES:
            text, i = _read_quoted(s, i)
            out.append(_Token(text, quoted=True, negated=negated))
            continue
        # a bare word, up to white space, a quote or a bar
        j = i
        while j < n and not s[j].isspace() and s[j] not in _QUOTES and s[j] not in _OR_BARS:
            j += 1
        word = s[i:j]
        i = j
        key = _filter_key(word)
        if key is not None and not negated:
            name, value = key
            if not value and i < n and s[i] in _VALUE_QUOTES:  # topic:"生态 文明"
                value, i = _read_quoted(s, i, _VALUE_QUOTES)
            out.append(_Token(value, key=name))
            continue
        if word in _OR_WORDS and not negated:
            out.append("OR")
            continue
        out.append(_Token(word, negated=negated))
    return out


def _filter_key(word: str) -> tuple[str, str] | None:
    """('topic', value) when word is a known filter key followed by a colon."""
    for k, c in enumerate(word):
        if c in _COLONS:
            name = FILTER_KEYS.get(word[:k].casefold())
            return (name, word[k + 1 :]) if name else None
    return None


def _has_content(text: str) -> bool:
    return any(unicodedata.category(c)[0] in "LNS" for c in for_search(text))


# --- filters ---------------------------------------------------------------------------


def _year_values(value: str) -> list[str]:
    v = unicodedata.normalize("NFKC", value).strip()
    m = _RANGE.match(v)
    if m:
        a, b = sorted((int(m.group(1)), int(m.group(2))))
        if b - a <= _MAX_RANGE:
            return [str(y) for y in range(a, b + 1)]
        return [v]
    m = _YEAR.match(v)
    return [m.group(1)] if m else [v]


def _add_filter(filters: dict[str, list[str]], key: str, value: str) -> None:
    parts = [p.strip() for p in _VALUE_SEPARATORS.split(value)]
    for p in parts:
        if not p:
            continue
        values = _year_values(p) if key == "year" else [p]
        bucket = filters.setdefault(key, [])
        for v in values:
            if v not in bucket:
                bucket.append(v)


# --- parse ------------------------------------------------------------------------------


def parse(q: str) -> ParsedQuery:
    """Parse what a user typed. Never raises on user input."""
    raw = q if isinstance(q, str) else ("" if q is None else str(q))
    text = display(raw)
    clauses: list[list[Term]] = []
    filters: dict[str, list[str]] = {}
    pending_or = False
    last_positive: list[Term] | None = None  # the clause an OR would extend

    for tok in _tokens(text):
        if tok == "OR":
            pending_or = last_positive is not None
            continue
        assert isinstance(tok, _Token)
        if tok.key is not None:
            _add_filter(filters, tok.key, tok.text)
            continue
        body = tok.text.strip() if tok.quoted else tok.text
        if tok.quoted:
            body = re.sub(r"\s+", " ", body)
        if not body or not _has_content(body):
            continue
        term = Term(body, phrase=tok.quoted, negated=tok.negated)
        if term.negated:
            clauses.append([term])
            pending_or = False
            continue
        if pending_or and last_positive is not None:
            if term not in last_positive:
                last_positive.append(term)
        else:
            last_positive = [term]
            clauses.append(last_positive)
        pending_or = False

    unique: list[list[Term]] = []
    for c in clauses:
        if c not in unique:
            unique.append(c)
    return ParsedQuery(raw=raw, clauses=unique, filters=filters)


# --- writing a query back ---------------------------------------------------------------


def _quote(text: str) -> str:
    """Wrap text in ASCII quotes (the only phrase syntax); quotes inside it cannot be kept."""
    return '"' + "".join(c for c in text if c not in _QUOTES) + '"'


def _format_term(t: Term) -> str:
    body = _quote(t.text) if t.phrase else t.text
    return ("-" if t.negated else "") + body


def _format_value(v: str) -> str:
    if any(c.isspace() or c in _QUOTES or c in _OR_BARS for c in v) or _VALUE_SEPARATORS.search(v):
        return _quote(v)
    return v


def format_query(pq: ParsedQuery) -> str:
    """A query string that parses back to the same clauses and filters."""
    parts = [" OR ".join(_format_term(t) for t in c) for c in pq.clauses]
    for key, values in pq.filters.items():
        if key == "year" and len(values) > 2 and all(v.isdigit() for v in values):
            ys = sorted(int(v) for v in values)
            if ys == list(range(ys[0], ys[-1] + 1)):
                parts.append(f"year:{ys[0]}-{ys[-1]}")
                continue
        for v in values:
            parts.append(f"{key}:{_format_value(v)}")
    return " ".join(parts)


# --- filter values ----------------------------------------------------------------------


def resolve_kind(value: str) -> str | None:
    """A hit kind slug ("quote" | "passage" | "qa") for a typed kind value, or None."""
    v = for_search(value).strip()
    if v in HIT_KINDS:
        return v
    return _KIND_ALIASES.get(v)


def resolve_doc_kind(value: str) -> str | None:
    """A material (document) kind slug of ``library.content.KINDS`` for a typed value: the slug
    or the Chinese label (讲义, 讲稿, 案例, 金句汇编, 热点问答) and a few common names; None
    when unknown."""
    v = for_search(value).strip()
    if v in KINDS:
        return v
    for slug, label in KINDS.items():
        if v == label:
            return slug
    return _DOC_KIND_ALIASES.get(v)


def resolve_any_kind(value: str) -> tuple[str, str] | None:
    """``kind:`` holds record kinds and material kinds: ("kind", hit kind) when the value names
    a record kind (金句, 段落, 问答 …), else ("doc_kind", material kind) (讲义, 讲稿, 案例 …)."""
    k = resolve_kind(value)
    if k is not None:
        return ("kind", k)
    d = resolve_doc_kind(value)
    return ("doc_kind", d) if d is not None else None


def resolve_audience(value: str) -> str | None:
    """An audience slug for "rural", "进农村" or "农村"; None when unknown."""
    v = for_search(value).strip()
    if v in AUDIENCES:
        return v
    for slug, label in AUDIENCES.items():
        if v in (label, label.removeprefix("进")):
            return slug
    return None


# --- cost ---------------------------------------------------------------------------------


def is_expensive(query: str | ParsedQuery) -> bool:
    """A query that may need its whole time budget, whatever the engine: many terms, several
    single characters (each stands for every text holding that character), or very long terms.
    The web serves such queries one at a time per process, so that they cannot take every
    request thread."""
    pq = query if isinstance(query, ParsedQuery) else parse(query or "")
    terms = [t for c in pq.clauses for t in c]
    singles = sum(1 for t in terms if len(for_search(t.text).strip()) == 1)
    return (
        len(terms) > 6 or singles >= 3 or len(pq.raw) > 80 or any(len(t.text) > 40 for t in terms)
    )


__all__ = [
    "Term",
    "ParsedQuery",
    "parse",
    "format_query",
    "resolve_kind",
    "resolve_doc_kind",
    "resolve_any_kind",
    "resolve_audience",
    "is_expensive",
    "FILTER_KEYS",
]
