"""The search engine's interface: what the rest of lecturelib may ask of any backend.

Records go in as :class:`~indexer.search.records.IndexRecord` values, queries as the typed
:class:`SearchRequest` (the query language of :mod:`indexer.search.query`, filters, sort, paging,
time budget), answers come back as JSON-ready dicts described by the ``TypedDict``\\ s below (the
web templates and the API read them as they are). Nothing here knows how a backend stores its
index: no segments, document numbers, analyzers or searcher objects cross this line, and a
backend's own exceptions reach callers as :class:`library.errors.SearchIndexError` /
:class:`~library.errors.UsageError` with Chinese messages.

Contract of every backend:

* **Searches read.** ``search``, ``facets``, ``suggest``, ``autocomplete``, ``highlight``,
  ``more_like_this``, ``explain``, ``status`` and ``ids`` never write, never take the writer's
  lock and never rebuild; they answer from the newest committed state of the index.
* **Writers write.** ``rebuild``, ``apply`` and ``delete`` commit atomically: a reader sees all
  of a call or none of it, and sees it as soon as it returns (in any process).
* ``status()`` is ``"ok"`` | ``"missing"`` | ``"stale"`` (built with another schema or
  vocabulary: rebuild) | ``"corrupt"``; it never raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import (
    Literal,
    Protocol,
    TypedDict,
    runtime_checkable,
)

from indexer.search.query import ParsedQuery
from indexer.search.records import IndexRecord

IndexStatus = Literal["ok", "missing", "stale", "corrupt"]
Sort = Literal["relevance", "date"]
FILTER_NAMES = ("topic", "kind", "doc_kind", "audience", "year", "speaker")


# ---------------------------------------------------------------------------------------------
# requests


@dataclass(frozen=True)
class SearchFilters:
    """Filters given beside the query text (the query language has its own ``topic:`` …;
    both apply). Values as people type them (topic names or slugs, 金句 or quote, 2021 …);
    several values of one filter are alternatives."""

    topic: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    doc_kind: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    year: tuple[str, ...] = ()
    speaker: tuple[str, ...] = ()

    @classmethod
    def of(cls, **values) -> SearchFilters:
        """From keyword values that may each be None, one value or several."""
        unknown = set(values) - set(FILTER_NAMES)
        if unknown:
            raise TypeError(f"unknown search filters: {sorted(unknown)}")
        return cls(**{k: _values(v) for k, v in values.items()})

    def items(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(n, getattr(self, n)) for n in FILTER_NAMES if getattr(self, n)]

    def as_kwargs(self) -> dict[str, list[str] | None]:
        return {n: list(getattr(self, n)) or None for n in FILTER_NAMES}


def _values(v) -> tuple[str, ...]:
    if v is None or v == "":
        return ()
    if isinstance(v, (str, int)):
        return (str(v),)
    return tuple(str(x) for x in v if x not in (None, ""))


@dataclass(frozen=True)
class SearchRequest:
    """One search: the query (as typed, or already parsed), filters, order, page, budget."""

    query: str | ParsedQuery = ""
    filters: SearchFilters = field(default_factory=SearchFilters)
    limit: int = 10  # hits per page (1–100)
    page: int = 1
    sort: Sort = "relevance"  # or "date": newest first
    budget_s: float | None = None  # seconds this search may take; None: the engine's default

    @classmethod
    def of(
        cls,
        query: str | ParsedQuery | SearchRequest | None = "",
        *,
        limit: int = 10,
        page: int = 1,
        sort: str = "relevance",
        budget_s: float | None = None,
        **filters,
    ) -> SearchRequest:
        """The request for the keyword form ``engine.search("绿水青山", topic=…, limit=…)``."""
        if isinstance(query, SearchRequest):
            if filters or (limit, page, sort, budget_s) != (10, 1, "relevance", None):
                raise TypeError("pass either a SearchRequest or keyword options, not both")
            return query
        return cls(
            query="" if query is None else query,
            filters=SearchFilters.of(**filters),
            limit=limit,
            page=page,
            sort=sort,
            budget_s=budget_s,
        )

    @property
    def text(self) -> str:
        return self.query.raw if isinstance(self.query, ParsedQuery) else self.query


# ---------------------------------------------------------------------------------------------
# answers (JSON-ready dicts; these keys are read by the web templates and the API)


class DocumentRef(TypedDict):
    id: int | None
    title: str
    filename: str
    kind: str


class _HitBase(TypedDict):
    kind: str
    id: str
    text: str
    highlight: str  # HTML: the text escaped, matches in <mark>, a snippet if long
    document: DocumentRef
    page: int | None
    heading: str
    source: str
    speaker: str
    date: str | None
    topics: list[str]
    audiences: list[str]
    score: float
    more_in_document: int  # further matching hits of the same document (collapsed)


class Hit(_HitBase, total=False):
    citation: str  # quotes: 出处, date and speaker as one line
    question: str  # Q&A pairs
    question_highlight: str
    start: float  # transcript passages: seconds into the recording where it is spoken …
    end: float  # … and where it ends


class Suggestion(TypedDict):
    kind: Literal["query", "term", "homophone"]
    query: str  # a query to run instead
    total: int  # what it finds


# nothing was found for "from"; the results shown are those of "to"
Correction = TypedDict("Correction", {"from": str, "to": str, "original_total": int})


Facets = dict[str, dict[str, int]]  # filter name -> value -> count, largest first


class _ResultBase(TypedDict):
    query: str
    total: int
    total_is_estimate: bool
    facets_are_estimate: bool
    page: int
    pages: int  # pages of hits (collapsed: at most two passages of a document on the pages)
    pages_are_estimate: bool  # counted on a sample: the last pages may hold fewer hits
    hits: list[Hit]
    facets: Facets  # keys: FILTER_NAMES
    partial: bool  # the budget ran out: what was found by then
    notices: list[str]  # what the engine did to the query (Chinese)
    suggestions: list[Suggestion]


class SearchResult(_ResultBase, total=False):
    corrected: Correction


class Completion(TypedDict):
    text: str
    kind: Literal["term", "title", "quote"]


class Explanation(TypedDict, total=False):
    query: str
    normalized: str
    parsed: dict  # clauses (text, phrase, negated) and filters as parsed
    tokens: dict  # how the backend cuts the query
    clauses: list
    negated: list[str]
    filters: dict[str, list[str]]
    compiled: dict | None  # backend-specific: how the plan runs (None without an index)


Progress = Callable[[int], None]


# ---------------------------------------------------------------------------------------------
# the interface


@runtime_checkable
class SearchEngine(Protocol):
    """A search backend over one index. Open one with :func:`indexer.search.open_engine`."""

    budget_s: float  # default time budget of a search, in seconds

    # -- writing ---------------------------------------------------------------------------

    def rebuild(
        self,
        records: Iterable[IndexRecord],
        *,
        total: int | None = None,
        progress: Progress | None = None,
        procs: int = 2,
    ) -> None:
        """Build the whole index anew from ``records`` and swap it in at the end; searches
        keep answering from the old index meanwhile. ``progress(n)`` is called now and then
        with the number of records indexed; ``procs`` worker processes may be used."""

    def apply(self, upserts: Sequence[IndexRecord], deletes: Sequence[str]) -> None:
        """Add or replace ``upserts`` (by id) and remove ``deletes`` in one commit."""

    def delete(self, ids: Iterable[str]) -> None:
        """Remove records by id (unknown ids are ignored)."""

    # -- lifecycle -------------------------------------------------------------------------

    def status(self) -> IndexStatus: ...

    def ids(self) -> set[str]:
        """Every record id in the index."""

    def close(self) -> None: ...

    # -- reading ---------------------------------------------------------------------------

    def search(self, query: str | ParsedQuery | SearchRequest, /, **options) -> SearchResult:
        """Hits of one page, total, facets, notices; suggestions (and a homophone
        correction) when little is found. ``options``: the fields of :class:`SearchRequest`
        and the filters of :class:`SearchFilters` as keywords."""

    def facets(self, query: str | ParsedQuery | SearchRequest, /, **options) -> Facets:
        """Facet counts of everything ``query`` finds."""

    def suggest(self, query: str | ParsedQuery | SearchRequest, /, **options) -> list[Suggestion]:
        """Looser queries and close dictionary terms that do find something."""

    def autocomplete(self, prefix: str, limit: int = 10) -> list[Completion]:
        """Dictionary terms, document titles and quotes beginning with ``prefix``."""

    def highlight(self, text: str, query: str | ParsedQuery, *, snippet: bool = True) -> str:
        """``text`` as HTML with what ``query`` matches (synonyms included) in ``<mark>``."""

    def more_like_this(self, hit_id: str, limit: int = 10) -> list[Hit]:
        """Hits sharing the most distinctive words of ``hit_id``'s text (itself excluded)."""

    def explain(self, query: str) -> Explanation:
        """How the query is parsed, cut and run (for editors and bug reports)."""


def as_request(query, options: Mapping) -> SearchRequest:
    """The :class:`SearchRequest` for ``engine.search(query, **options)``."""
    return SearchRequest.of(query, **options)


__all__ = [
    "SearchEngine",
    "SearchRequest",
    "SearchFilters",
    "IndexRecord",
    "IndexStatus",
    "SearchResult",
    "Hit",
    "DocumentRef",
    "Suggestion",
    "Completion",
    "Explanation",
    "Facets",
    "Correction",
    "FILTER_NAMES",
    "as_request",
]
