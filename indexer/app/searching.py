"""Searching as delivery sees it: read only (the newest committed index snapshot, never the
outbox, never a write lock), filter values resolved to the engine's slugs, and an empty
library answered with "nothing found"."""

from __future__ import annotations

from indexer.ingest.normalize import for_search
from indexer.search import is_expensive
from indexer.search.query import resolve_any_kind, resolve_audience, resolve_doc_kind
from library.taxonomy import Taxonomy

FACET_NAMES = ("topic", "kind", "doc_kind", "audience", "year", "speaker")


def empty_result(query: str) -> dict:
    """What a search of an empty library answers."""
    return {
        "query": query,
        "total": 0,
        "total_is_estimate": False,
        "page": 1,
        "pages": 0,
        "hits": [],
        "facets": {k: {} for k in FACET_NAMES},
        "suggestions": [],
    }


def read(svc, fn, empty):
    """``fn()``, and ``empty`` when the library has nothing to search yet (Whoosh raised
    TypeError on an index without segments); anything else is a real error."""
    try:
        return fn()
    except TypeError:
        if svc.store.count_records() == 0:
            return empty
        raise


def resolve_filters(taxonomy: Taxonomy, filters: dict[str, list[str]]) -> dict[str, list[str]]:
    """Filter values as the engine's slugs, whatever a link or a command said (进农村 → rural,
    生态文明建设 → ecology, kind=讲义 → doc_kind=handout), each value once. Unknown values stay
    as typed; the engine answers them with a clear message."""
    out: dict[str, list[str]] = {}
    for name, vals in filters.items():
        for v in vals:
            key, value = name, v
            if name == "topic":
                t = taxonomy.get(v)
                value = t.slug if t else v
            elif name == "kind":
                k = resolve_any_kind(v)
                if k:
                    key, value = k
            elif name == "doc_kind":
                value = resolve_doc_kind(v) or v
            elif name == "audience":
                value = resolve_audience(v) or v
            elif name == "year":
                value = "".join(c for c in for_search(v) if c.isdigit()) or v
            lst = out.setdefault(key, [])
            if value not in lst:
                lst.append(value)
    return out


__all__ = ["resolve_filters", "read", "empty_result", "is_expensive"]
