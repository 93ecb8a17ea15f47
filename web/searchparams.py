"""The search page's URL parameters, and facet/pagination links built from them, so that every
results page is a link anyone can share: /search?q=…&topic=…&kind=…&audience=…&year=…&page=…"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

FACETS = ("topic", "doc_kind", "kind", "speaker", "audience", "year")
FACET_LABELS = {
    "topic": "专题",
    "doc_kind": "材料类型",
    "kind": "内容形式",
    "speaker": "讲话人",
    "audience": "宣讲对象",
    "year": "年份",
}
SORTS = {"relevance": "相关度", "date": "日期"}
MAX_QUERY = 200  # characters of a typed query that are searched


@dataclass
class SearchParams:
    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    page: int = 1
    sort: str = "relevance"
    cut: bool = False  # the typed query was longer than MAX_QUERY and was cut

    @classmethod
    def from_args(cls, args) -> SearchParams:
        filters = {}
        for name in FACETS:
            vals = [v.strip() for v in args.getlist(name) if v.strip()]
            if vals:
                filters[name] = list(dict.fromkeys(vals))
        try:
            page = max(1, min(int(args.get("page", 1)), 1000))
        except ValueError:
            page = 1
        sort = args.get("sort", "relevance")
        if sort not in SORTS:
            sort = "relevance"
        q = (args.get("q") or "").strip()
        out = cls(q=q[:MAX_QUERY], filters=filters, page=page, sort=sort)
        out.cut = len(q) > MAX_QUERY
        return out

    def normalize(self, svc) -> SearchParams:
        """Filter values as the engine's slugs, whatever the link said (进农村 → rural,
        生态文明建设 → ecology, kind=讲义 → doc_kind=handout), so that a Chinese value behaves
        exactly like its slug: one facet entry, selected, toggled off by the same link.
        Unknown values stay as typed; the engine answers them with a clear message."""
        out = svc.resolve_filters(self.filters)
        self.filters = {k: out[k] for k in FACETS if k in out}
        return self

    def search_kwargs(self) -> dict:
        return {name: vals for name, vals in self.filters.items()}

    def pairs(
        self,
        *,
        page: int | None = None,
        filters=None,
        sort: str | None = None,
        q: str | None = None,
    ) -> list:
        q = self.q if q is None else q
        out = [("q", q)] if q else []
        for name, vals in (filters if filters is not None else self.filters).items():
            out += [(name, v) for v in vals]
        s = sort or self.sort
        if s != "relevance":
            out.append(("sort", s))
        p = self.page if page is None else page
        if p > 1:
            out.append(("page", str(p)))
        return out

    def url(self, **kw) -> str:
        pairs = self.pairs(**kw)
        return "/search" + ("?" + urlencode(pairs) if pairs else "")

    def toggle_url(self, name: str, value: str) -> str:
        filters = {k: list(v) for k, v in self.filters.items()}
        vals = filters.setdefault(name, [])
        if value in vals:
            vals.remove(value)
        else:
            vals.append(value)
        filters = {k: v for k, v in filters.items() if v}
        return self.url(page=1, filters=filters)

    def selected(self, name: str, value: str) -> bool:
        return value in self.filters.get(name, [])

    @property
    def empty(self) -> bool:
        return not self.q and not self.filters


def facet_groups(params: SearchParams, facets: dict, labels: dict) -> list[dict]:
    """Facets as plain data: (name, label, values [{value, label, count, url, selected}])."""
    groups = []
    for name in FACETS:
        counts = dict(facets.get(name) or {})
        for v in params.filters.get(name, []):  # a selected value stays visible
            counts.setdefault(v, 0)
        values = [
            {
                "value": v,
                "label": labels[name](v),
                "count": n,
                "url": params.toggle_url(name, v),
                "selected": params.selected(name, v),
            }
            for v, n in counts.items()
        ]
        if name == "year":
            values.sort(key=lambda x: x["value"], reverse=True)
        if values:
            groups.append({"name": name, "label": FACET_LABELS[name], "options": values})
    return groups


def page_links(params: SearchParams, pages: int, estimate: bool = False) -> list[dict]:
    """Numbered links around the current page, with gaps as None. When the page count is an
    estimate (a broad query checked only part of its candidates) there is no link to a “last
    page” that may not exist."""
    if pages <= 1:
        return []
    cur = params.page
    keep = {1, cur - 1, cur, cur + 1, cur - 2, cur + 2} | (set() if estimate else {pages})
    out, last = [], 0
    for p in range(1, pages + 1):
        if p in keep:
            if p - last > 1:
                out.append(None)
            out.append({"n": p, "url": params.url(page=p), "current": p == cur})
            last = p
    return out
