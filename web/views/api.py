"""The JSON API (read-only, GET). ``/api/search`` returns exactly the dict of
``lecturelib search --json``; see docs/WEB.md."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from library.content import KINDS
from library.errors import NotFoundError, UsageError

from ..library import get_library
from ..searchparams import SearchParams

bp = Blueprint("api", __name__, url_prefix="/api")


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        raise UsageError(f"参数 {name} 必须是整数。") from None
    if not lo <= v <= hi:
        raise UsageError(f"参数 {name} 应在 {lo} 到 {hi} 之间。")
    return v


@bp.get("/search")
def search():
    params = SearchParams.from_args(request.args).normalize(get_library().svc)
    sort = request.args.get("sort", "relevance")
    if sort not in ("relevance", "date"):
        raise UsageError(f"不支持的排序方式“{sort}”。", "可用：relevance、date")
    limit = _int_arg("limit", 10, 1, 100)
    page = _int_arg("page", 1, 1, 10000)
    if params.empty:
        raise UsageError("请提供检索词 q 或筛选条件。", "例如 /api/search?q=绿水青山")
    res = get_library().search(
        params.q, limit=limit, page=page, sort=sort, **params.search_kwargs()
    )
    if params.cut:
        res = dict(
            res, notices=["检索词过长，只使用了前 200 个字。"] + list(res.get("notices") or [])
        )
    return jsonify(res)


@bp.get("/suggest")
def suggest():
    q = (request.args.get("q") or "").strip()[:50]
    limit = _int_arg("limit", 8, 1, 20)
    items = get_library().suggest(q, limit=limit) if q else []
    return jsonify({"query": q, "suggestions": items})


def _doc_summary(d: dict) -> dict:
    return {
        "id": d["id"],
        "title": d["title"],
        "kind": d["kind"],
        "kind_label": KINDS.get(d["kind"], d["kind"]),
        "date": d["date"],
        "filename": d["filename"],
        "format": d["format"],
        "pages": d["pages"],
        "version": d["version_number"],
        "quotes": d["quotes"],
        "passages": d["passages"],
        "topics": d["topics"],
        "url": f"/documents/{d['id']}",
    }


@bp.get("/index-status")
def index_status():
    """Whether a background rebuild is running, in the shape of a job (polled by pages)."""
    job = get_library().running_rebuild()
    if job is not None:
        out = job.to_json()
        out.pop("id", None)
        return jsonify(out)
    return jsonify(
        {
            "label": "检索索引",
            "state": "done",
            "done": 0,
            "total": 0,
            "percent": 100,
            "message": "检索索引已就绪。",
        }
    )


@bp.get("/documents")
def documents():
    svc = get_library().svc
    tax = svc.taxonomy
    kind = request.args.get("kind") or None
    if kind and kind not in KINDS:
        raise UsageError(f"未知的材料类型“{kind}”。", "可用：" + "、".join(KINDS))
    topic = request.args.get("topic") or None
    if topic:
        topic = tax.resolve(topic).slug
    limit = _int_arg("limit", 50, 1, 500)
    offset = _int_arg("offset", 0, 0, 10**9)
    docs = svc.list_documents(kind=kind, topic=topic, limit=limit, offset=offset)
    return jsonify(
        {
            "counts": svc.counts(),
            "limit": limit,
            "offset": offset,
            "documents": [_doc_summary(d) for d in docs],
        }
    )


@bp.get("/documents/<int:doc_id>")
def document(doc_id: int):
    doc = get_library().svc.document(doc_id)
    if doc["status"] != "active":
        raise NotFoundError(f"找不到编号为 {doc_id} 的材料。")
    v = doc["version"] or {}
    return jsonify(
        {
            "id": doc["id"],
            "title": doc["title"],
            "kind": doc["kind"],
            "date": doc["date"],
            "source": doc["source"],
            "topics": [t["topic"] for t in doc["topics"]],
            "audiences": doc["audiences"],
            "version": {
                "number": v.get("number"),
                "filename": v.get("filename"),
                "format": v.get("format"),
                "pages": v.get("pages"),
                "size": v.get("size"),
            },
            "download": f"/documents/{doc['id']}/download",
            "headings": doc["headings"],
            "passages": [
                {
                    "id": p["id"],
                    "kind": p["kind"],
                    "text": p["text"],
                    "question": p["question"],
                    "heading_path": p["heading_path"],
                    "page": p["page"],
                }
                for p in doc["passages"]
            ],
            "quotes": [
                {
                    "id": q["id"],
                    "text": q["text"],
                    "source": q["source"],
                    "date": q["date"],
                    "speaker": q["speaker"],
                    "page": q["page"],
                }
                for q in doc["quotes"]
            ],
        }
    )


@bp.get("/quotes/<int:quote_id>")
def quote(quote_id: int):
    q = get_library().svc.quote(quote_id)
    if not q["occurrences"]:
        raise NotFoundError(f"找不到编号为 {quote_id} 的金句。")
    from library.content import citation as house_citation

    from ..formatting import citation

    return jsonify(
        {
            "id": q["id"],
            "text": q["text"],
            "source": q["source"],
            "date": q["date"],
            "speaker": q["speaker"],
            "theme": q["theme"],
            "note": q["note"],
            "topics": [t["topic"] for t in q["topics"]],
            "citation": house_citation(q["source"], q["date"], q["speaker"]),
            "copy": citation(q["text"], q["source"], q["date"], q["speaker"]),
            "occurrences": [
                {
                    "document_id": o["document_id"],
                    "title": o["title"],
                    "kind": o["kind"],
                    "page": o["page"],
                    "context": o.get("context"),
                }
                for o in q["occurrences"]
            ],
        }
    )
