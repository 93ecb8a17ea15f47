"""What speakers see: home, search results, topic pages, documents, quotes, the basket."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from indexer.app.publish import missing_source_warnings
from library.content import AUDIENCES, HIT_KINDS, KINDS
from library.errors import NotFoundError, UsageError

from .. import basket
from ..errors import render_error
from ..formatting import today_index
from ..library import get_library
from ..searchparams import SORTS, SearchParams, facet_groups, page_links
from ..security import download_name, is_editor

bp = Blueprint("public", __name__)

PURGED = "该内容已被永久删除"

QUERY_HELP = (
    '多个词用空格分开表示同时包含；英文半角双引号 "…" 内为精确短语（可含空格），'
    "中文引号“”按普通文字处理；标点和空格不影响匹配；-词 表示排除；OR 表示任一；"
    "可加 topic:专题 kind:讲义 audience:进社区 year:2023 筛选。"
)


def _facet_labels():
    tax = get_library().svc.taxonomy
    return {
        "topic": tax.name_of,
        "kind": lambda k: HIT_KINDS.get(k, k),
        "doc_kind": lambda k: KINDS.get(k, k),
        "audience": lambda a: AUDIENCES.get(a, a),
        "year": lambda y: f"{y}年",
        "speaker": lambda s: s,
    }


def _topic_counts() -> dict[str, dict[str, int]]:
    """Per topic: its documents and its quotes (cached until the next write)."""
    lib = get_library()

    def compute():
        out = {}
        for t in lib.svc.taxonomy:
            docs = len(lib.svc.list_documents(topic=t.slug))
            quotes = lib.search("", topic=t.slug, kind="quote", limit=1)["total"]
            out[t.slug] = {"documents": docs, "quotes": quotes}
        return out

    return lib.cached("topic_counts", compute)


@bp.get("/")
def home():
    lib = get_library()
    counts = _topic_counts()
    latest = lib.svc.list_documents(limit=6)
    recent_quotes = lib.cached(
        "recent_quotes", lambda: lib.search("", kind="quote", limit=60)["hits"]
    )
    quote = recent_quotes[today_index(len(recent_quotes))] if recent_quotes else None
    return render_template(
        "home.html",
        counts=counts,
        latest=latest,
        quote=quote,
        totals=lib.svc.counts(),
        query_help=QUERY_HELP,
    )


@bp.get("/search")
def search():
    lib = get_library()
    params = SearchParams.from_args(request.args).normalize(lib.svc)
    size = 10
    result, error = None, None
    if not params.empty:
        try:
            result = lib.search(
                params.q, limit=size, page=params.page, sort=params.sort, **params.search_kwargs()
            )
        except UsageError as e:
            error = e
    facets = facet_groups(params, result["facets"], _facet_labels()) if result else []
    return render_template(
        "search.html",
        params=params,
        result=result,
        error=error,
        facets=facets,
        sorts=SORTS,
        query_help=QUERY_HELP,
        pages=page_links(params, result["pages"], bool(result.get("pages_are_estimate")))
        if result
        else [],
        page_size=size,
    )


@bp.get("/topics/<slug>")
def topic(slug: str):
    lib = get_library()
    t = lib.svc.taxonomy.get(slug)
    if t is None:
        abort(404)
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    quotes = lib.search("", topic=t.slug, kind="quote", sort="date", limit=20, page=page)
    docs = lib.svc.list_documents(topic=t.slug)
    by_kind = {k: [d for d in docs if d["kind"] == k] for k in KINDS}
    return render_template("topic.html", topic=t, quotes=quotes, by_kind=by_kind, page=page)


class Purged(Exception):
    """The record was purged: its link says so, never shows something else."""

    def __init__(self, what: str, grave: dict):
        super().__init__(what)
        self.what, self.grave = what, grave


@bp.app_errorhandler(Purged)
def _purged(e: Purged):
    title = (e.grave.get("title") or "").strip()
    if len(title) > 60:
        title = title[:60] + "…"
    named = (
        f"{e.what}“{title}”"
        if e.what == "金句" and title
        else (
            f"{e.what}《{title}》" if title else f"这{'条' if e.what == '金句' else '份'}{e.what}"
        )
    )
    # 404 like any id that is not there (clients and crawlers treat both alike), but the page
    # says what happened instead of “not found”
    return render_error(
        404,
        PURGED,
        f"{named}已被管理员彻底删除，{PURGED}。",
        "编号不会再给别的内容使用。请用检索查找相关内容。",
    )


def _not_purged(record: str, what: str) -> None:
    """Raise Purged when ``record`` (``"document:12"``, ``"quote:34"``) was purged."""
    grave = get_library().svc.tombstone(record)
    if grave is not None:
        raise Purged(what, grave)


def _visible_document(doc_id: int) -> dict:
    try:
        doc = get_library().svc.document(doc_id)
    except NotFoundError:
        _not_purged(f"document:{doc_id}", "材料")
        raise
    if doc["status"] != "active" and not is_editor():
        raise NotFoundError(f"找不到编号为 {doc_id} 的材料。")
    return doc


@bp.get("/documents/<int:doc_id>")
def document(doc_id: int):
    lib = get_library()
    doc = _visible_document(doc_id)
    if doc["kind"] == "media" and (doc.get("version") or {}).get("media"):
        return redirect(url_for("media.page", doc_id=doc_id))  # the player and its transcript
    if doc.get("version"):
        # warnings about the data are counted from what is stored now (they clear when fixed)
        doc["version"]["warnings"] = missing_source_warnings(
            doc["version"]["warnings"], doc["quotes"], kind=doc["kind"]
        )
    related = []
    seed = [f"p:{p['id']}" for p in doc["passages"][:1]] or [
        f"q:{q['id']}" for q in doc["quotes"][:1]
    ]
    if seed and doc["status"] == "active":
        related = [
            h
            for h in lib.more_like_this(seed[0], limit=8)
            if (h.get("document") or {}).get("id") != doc_id
        ][:5]
    return render_template("document.html", doc=doc, related=related)


@bp.get("/documents/<int:doc_id>/download")
def download(doc_id: int):
    """The original file of a document (a given version for editors): by id, never by path."""
    doc = _visible_document(doc_id)
    version = doc["version"]
    wanted = request.args.get("version", type=int)
    if wanted is not None:
        if not is_editor():
            abort(404)
        version = next((v for v in doc["versions"] if v["number"] == wanted), None)
    if version is None:
        abort(404)
    path = get_library().svc.original_path(version["sha256"])
    if not path.is_file():
        raise NotFoundError("原始文件不在资料库中。", "请联系管理员运行 lecturelib check。")
    return send_file(
        path,
        as_attachment=True,
        download_name=download_name(version["filename"], version["format"]),
        max_age=0,
        etag=version["sha256"],
    )


@bp.get("/quotes/<int:quote_id>")
def quote(quote_id: int):
    lib = get_library()
    try:
        q = lib.svc.quote(quote_id)
    except NotFoundError:
        _not_purged(f"quote:{quote_id}", "金句")
        raise
    if not q["occurrences"] and not is_editor():
        raise NotFoundError(f"找不到编号为 {quote_id} 的金句。")
    similar = lib.more_like_this(f"q:{quote_id}", limit=6) if q["occurrences"] else []
    return render_template("quote.html", q=q, similar=similar)


@bp.get("/basket")
def basket_page():
    return render_template("basket.html")


@bp.get("/basket/items")
def basket_items():
    """What the basket page shows, read from the store: each item's text, question and
    citation, and the ids that are no longer in the library (trashed, purged or replaced)."""
    ids = basket.ids_from_query(request.args.get("ids"))
    found = basket.resolve(get_library().svc, [basket.Entry(i) for i in ids])
    for it in found.items:
        if it["kind"] != "quote" and it["doc_kind"] == "media":  # the moment in the recording
            it["url"] = url_for(
                "media.page", doc_id=it["document_id"], t=round(it["start"] or 0, 3)
            ) + (f"#p{it['id'][2:]}")
        elif it["kind"] == "quote":
            it["url"] = url_for("public.quote", quote_id=it["id"][2:])
        else:
            it["url"] = url_for("public.document", doc_id=it["document_id"]) + f"#p{it['id'][2:]}"
    return jsonify(
        {
            "items": found.items,
            "missing": [e.id for e in found.missing],
            "purged": [e.id for e in found.missing if e.purged],
        }
    )


@bp.post("/basket/export")
def basket_export():
    entries = basket.parse_entries(request.form.get("items", ""))
    if not entries:
        raise UsageError("讲稿篮是空的。", "请先在检索结果或材料页面点“加入讲稿篮”。")
    title = (request.form.get("title") or "").strip()[:80] or "讲稿素材"
    found = basket.resolve(get_library().svc, entries)
    if not found.items:
        raise UsageError(
            "讲稿篮中的内容已不在资料库中。",
            f"{found.missing_note()}。请在讲稿篮中移除这些条目后重新添加。",
        )
    data, filename = basket.export_docx(
        found, title, library_name=current_app.config["LIBRARY_NAME"]
    )
    return send_file(
        data,
        as_attachment=True,
        download_name=filename,
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        max_age=0,
    )
