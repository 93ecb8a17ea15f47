"""Editors: upload with preview, publish, edit metadata, replace, trash/restore/purge, the
dictionary and synonyms (with a background rebuild), and job progress."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from library.content import AUDIENCES, KINDS
from library.errors import LecturelibError, UsageError

from .. import drafts
from ..errors import wants_json
from ..library import get_library
from ..security import actor, role_required

bp = Blueprint("editor", __name__, url_prefix="/editor")

STATUS_LABELS = {
    "ok": "成功",
    "duplicate": "重复",
    "warning": "有提示",
    "needs_ocr": "需OCR",
    "error": "失败",
    "cancelled": "已取消",
}


@bp.app_context_processor
def _labels():
    return {"STATUS_LABELS": STATUS_LABELS}


@bp.get("/")
@role_required()
def dashboard():
    svc = get_library().svc
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else None
    return render_template(
        "editor/dashboard.html",
        documents=svc.list_documents(kind=kind),
        trashed=svc.list_documents(status="trashed"),
        drafts=svc.drafts(),
        counts=svc.counts(),
        kind=kind,
    )


# -- upload, preview, publish ---------------------------------------------------------------


@bp.get("/upload")
@role_required()
def upload_form():
    replace = request.args.get("replace", type=int)
    target = get_library().svc.document_row(replace) if replace else None
    return render_template("editor/upload.html", target=target)


@bp.post("/upload")
@role_required()
def upload():
    svc = get_library().svc
    replace = request.form.get("replace", type=int)
    if replace:
        svc.document_row(replace)  # 404 before reading any file
    files = [f for f in request.files.getlist("files") if f and f.filename]
    if not files:
        if wants_json():
            return jsonify({"error": {"status": 400, "message": "请选择要上传的文件。"}}), 400
        flash("请选择要上传的文件。", "error")
        return redirect(url_for(".upload_form"))
    results = [svc.upload(f.read(), f.filename, actor=actor(), replace_of=replace) for f in files]
    if wants_json():
        return jsonify({"results": [_result_json(r) for r in results]})
    return render_template("editor/upload_results.html", results=results)


def _result_json(r: dict) -> dict:
    r["preview_url"] = url_for(".preview", draft_id=r["draft_id"]) if r.get("draft_id") else None
    r["document_url"] = (
        url_for("public.document", doc_id=r["document_id"]) if r.get("document_id") else None
    )
    r["status_label"] = STATUS_LABELS.get(r["status"], r["status"])
    return r


def _job_json(job: dict) -> dict:
    job["status_url"] = url_for(".upload_job", job_id=job["id"])
    job["cancel_url"] = url_for(".cancel_upload", job_id=job["id"])
    if job.get("result"):
        job["result"] = _result_json(job["result"])
    return job


# Uploads as background jobs (the upload page's script): POST a file, poll its progress
# (“正在识别第 2/3 页”), cancel it. Without JavaScript the form above waits for the result.


@bp.post("/uploads")
@role_required()
def start_upload():
    svc = get_library().svc
    replace = request.form.get("replace", type=int)
    if replace:
        svc.document_row(replace)  # 404 before reading any file
    files = [f for f in request.files.getlist("files") if f and f.filename]
    if not files:
        return jsonify({"error": {"status": 400, "message": "请选择要上传的文件。"}}), 400
    jobs = [
        svc.start_upload(f.read(), f.filename, actor=actor(), replace_of=replace) for f in files
    ]
    return jsonify({"jobs": [_job_json(j) for j in jobs]}), 202


@bp.get("/uploads/<job_id>")
@role_required()
def upload_job(job_id: str):
    job = get_library().svc.upload_job(job_id, actor=actor())
    if job is None:
        abort(404)
    return jsonify(_job_json(job))


@bp.post("/uploads/<job_id>/cancel")
@role_required()
def cancel_upload(job_id: str):
    job = get_library().svc.cancel_upload(job_id, actor=actor())
    if job is None:
        abort(404)
    if wants_json():
        return jsonify(_job_json(job))
    if job["state"] in ("running", "cancelled"):
        flash(f"已取消上传“{job['filename']}”，文件未保存。", "ok")
    else:
        flash(f"“{job['filename']}”已处理完毕，无法取消。", "warning")
    return redirect(url_for(".upload_form"))


@bp.get("/drafts/<int:draft_id>")
@role_required()
def preview(draft_id: int):
    return _render_preview(get_library().svc.draft(draft_id))


def _render_preview(draft, errors=(), form=None, status=200):
    p = draft.prepared
    return render_template(
        "editor/preview.html",
        draft=draft.row,
        p=p,
        s=p.structured,
        suggested=draft.prefill["topics"],
        errors=list(errors),
        form=form,
        target=draft.target,
        scores=dict(p.doc_topics),
        prefill=draft.prefill,
    ), status


@bp.get("/drafts/<int:draft_id>/pages/<int:page>.png")
@role_required()
def page_image(draft_id: int, page: int):
    """A page of the draft's original (scan or photo) as a PNG, beside its OCR'd text."""
    width = request.args.get("w", default=1000, type=int)
    png = get_library().svc.draft_page_image(draft_id, page, width)
    resp = Response(png, mimetype="image/png")
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


MAX_PASSAGE_CHARS = 20_000


def _passage_texts(form, prepared) -> tuple[dict[int, str], list[str]]:
    """Passages the editor corrected on the preview (OCR'd drafts: ``p<i>_text``)."""
    out, errors = {}, []
    for i, ps in enumerate(prepared.structured.passages):
        raw = form.get(f"p{i}_text")
        if raw is None:
            continue
        text = "\n".join(line.strip() for line in raw.replace("\r\n", "\n").split("\n")).strip()
        if len(text) > MAX_PASSAGE_CHARS:
            errors.append(f"第 {i + 1} 个段落太长（上限 {MAX_PASSAGE_CHARS} 字）。")
        elif text and text != ps.text:
            out[i] = text
    return out, errors


MAX_HEADING_CHARS = 200


def _heading_texts(form, prepared) -> tuple[dict[int, str], list[str]]:
    """Headings the editor corrected on the preview (OCR'd drafts: ``h<j>_text``)."""
    out, errors = {}, []
    for j, (_, old, _) in enumerate(prepared.structured.headings):
        raw = form.get(f"h{j}_text")
        if raw is None:
            continue
        text = " ".join(raw.split())
        if len(text) > MAX_HEADING_CHARS:
            errors.append(f"第 {j + 1} 个标题太长（上限 {MAX_HEADING_CHARS} 字）。")
        elif text and text != old:
            out[j] = text
    return out, errors


@bp.post("/drafts/<int:draft_id>/publish")
@role_required()
def publish(draft_id: int):
    lib = get_library()
    draft = lib.svc.draft(draft_id)
    corr, errors = drafts.read_corrections(request.form, draft.prepared, lib.svc.taxonomy)
    corr.passage_texts, more = _passage_texts(request.form, draft.prepared)
    corr.heading_texts, more_h = _heading_texts(request.form, draft.prepared)
    errors = list(errors) + more + more_h
    if errors:
        return _render_preview(draft, errors, request.form, 400)
    with lib.writing() as svc:
        result = svc.publish(draft_id, corr, actor=actor())
    if result.status == "error":
        return _render_preview(draft, [result.message], request.form, 400)
    if result.status == "duplicate":
        flash(result.message, "warning")
    else:
        msg = f"已发布《{result.title}》：{result.quotes} 条金句，{result.passages} 个段落。"
        if result.message:
            msg += " " + result.message
        flash(msg, "ok")
    return redirect(url_for("public.document", doc_id=result.document_id))


@bp.post("/drafts/<int:draft_id>/discard")
@role_required()
def discard(draft_id: int):
    draft = get_library().svc.discard_draft(draft_id, actor=actor())
    flash(f"已放弃上传的“{draft['filename']}”。", "ok")
    return redirect(url_for(".dashboard"))


# -- editing documents and quotes -------------------------------------------------------------


@bp.route("/documents/<int:doc_id>/edit", methods=["GET", "POST"])
@role_required()
def edit_document(doc_id: int):
    lib = get_library()
    doc = lib.svc.document(doc_id)
    if request.method == "GET":
        return render_template("editor/edit_document.html", doc=doc, errors=[], form=None)
    f = request.form
    errors = []
    title = (f.get("title") or "").strip()[:200]
    if not title:
        errors.append("标题不能为空。")
    kind = f.get("kind")
    if kind not in KINDS:
        errors.append("请选择材料类型。")
    try:
        date = drafts.parse_date(f.get("date", ""))
    except UsageError as e:
        errors.append(f"日期：{e}")
        date = None
    topics = [t for t in f.getlist("topics") if lib.svc.taxonomy.get(t)]
    audiences = [a for a in f.getlist("audiences") if a in AUDIENCES]
    if errors:
        return render_template("editor/edit_document.html", doc=doc, errors=errors, form=f), 400
    with lib.writing() as svc:
        svc.update_document(
            doc_id,
            actor=actor(),
            title=title,
            kind=kind,
            date=date or "",
            source=(f.get("source") or "").strip()[:300],
            topics=topics,
            audiences=audiences,
        )
    flash("已保存修改。", "ok")
    return redirect(url_for("public.document", doc_id=doc_id))


@bp.route("/quotes/<int:quote_id>/edit", methods=["GET", "POST"])
@role_required()
def edit_quote(quote_id: int):
    lib = get_library()
    q = lib.svc.quote(quote_id)
    if request.method == "GET":
        return render_template("editor/edit_quote.html", q=q, errors=[], form=None)
    f = request.form
    errors = []
    text = (f.get("text") or "").strip()
    if not text:
        errors.append("金句内容不能为空。")
    try:
        date = drafts.parse_date(f.get("date", ""))
    except UsageError as e:
        errors.append(f"日期：{e}")
        date = None
    if errors:
        return render_template("editor/edit_quote.html", q=q, errors=errors, form=f), 400
    topics = [t for t in f.getlist("topics") if lib.svc.taxonomy.get(t)]
    with lib.writing() as svc:
        svc.update_quote(
            quote_id,
            actor=actor(),
            text_=text,
            source=(f.get("source") or "").strip()[:300],
            date=date or "",
            speaker=(f.get("speaker") or "").strip()[:60],
            topics=topics,
        )
    flash("已保存金句。", "ok")
    return redirect(url_for("public.quote", quote_id=quote_id))


@bp.post("/documents/<int:doc_id>/trash")
@role_required()
def trash(doc_id: int):
    with get_library().writing() as svc:
        svc.trash(doc_id, actor=actor())
    flash("已移入回收站，可在“管理材料”页面恢复。", "ok")
    return redirect(url_for(".dashboard"))


@bp.post("/documents/<int:doc_id>/restore")
@role_required()
def restore(doc_id: int):
    with get_library().writing() as svc:
        svc.restore(doc_id, actor=actor())
    flash("已从回收站恢复。", "ok")
    return redirect(url_for("public.document", doc_id=doc_id))


@bp.post("/documents/<int:doc_id>/purge")
@role_required("admin")
def purge(doc_id: int):
    with get_library().writing() as svc:
        svc.purge(doc_id, actor=actor())
    flash("已彻底删除。", "ok")
    return redirect(url_for(".dashboard"))


# -- dictionary and synonyms ---------------------------------------------------------------


def _words(raw: str) -> list[str]:
    return [w for w in raw.replace("，", " ").replace(",", " ").replace("、", " ").split() if w]


@bp.route("/dictionary", methods=["GET", "POST"])
@role_required()
def dictionary():
    lib = get_library()
    error = None
    if request.method == "POST":
        action = request.form.get("action")
        try:
            with lib.writing() as svc:
                changed = svc.change_terms(
                    action, _words(request.form.get("words", "")), actor=actor()
                )
            if changed:
                job = lib.start_rebuild("按新词典重建索引", actor())
            verb = "添加" if action == "add" else "删除"
            if changed:
                flash(f"已{verb}：{'、'.join(changed)}。检索索引正在后台重建。", "ok")
                return redirect(url_for(".dictionary", job=job.id))
            flash(f"没有需要{verb}的词（已存在或不在词典中）。", "warning")
            return redirect(url_for(".dictionary"))
        except LecturelibError as e:
            error = str(e)
    q = (request.args.get("q") or "").strip()
    added, removed = lib.svc.dictionary_changes()
    terms = lib.svc.terms()
    matches = [t for t in terms if q and q in t][:200]
    return render_template(
        "editor/dictionary.html",
        added=added,
        removed=removed,
        q=q,
        matches=matches,
        total=len(terms),
        error=error,
        job=_job_arg(),
    ), (400 if error else 200)


@bp.route("/speakers", methods=["GET", "POST"])
@role_required()
def speakers():
    """The speaker alias table: packaged groups plus the library's own (speakers.txt)."""
    lib = get_library()
    error = None
    if request.method == "POST":
        try:
            with lib.writing() as svc:
                group = svc.edit_speakers(request.form.get("line", ""), actor=actor())
            flash("已保存：" + " = ".join(group) + "。此后导入的材料按新的说话人表识别。", "ok")
            return redirect(url_for(".speakers"))
        except LecturelibError as e:
            error = str(e)
    return render_template("editor/speakers.html", groups=lib.svc.speaker_groups(), error=error), (
        400 if error else 200
    )


@bp.route("/synonyms", methods=["GET", "POST"])
@role_required()
def synonyms():
    lib = get_library()
    error = None
    if request.method == "POST":
        action = request.form.get("action")
        try:
            with lib.writing() as svc:
                if action == "add":
                    forms = _words(
                        request.form.get("group", "").replace("=", " ").replace("＝", " ")
                    )
                    group = svc.add_synonyms(forms, actor=actor())
                    msg = "已保存同义词组：" + " = ".join(group) + "。"
                elif action == "remove":
                    word = (request.form.get("word") or "").strip()
                    group = svc.remove_synonym_group(word, actor=actor())
                    if not group:
                        raise UsageError(f"没有包含“{word}”的同义词组。")
                    msg = "已删除同义词组：" + " = ".join(group) + "。"
                else:
                    raise UsageError("未知的操作。")
            job = lib.start_rebuild("按新同义词重建索引", actor())
            flash(msg + "检索索引正在后台重建。", "ok")
            return redirect(url_for(".synonyms", job=job.id))
        except LecturelibError as e:
            error = str(e)
    q = (request.args.get("q") or "").strip()
    groups = lib.svc.synonym_groups()
    if q:
        groups = [g for g in groups if any(q in f for f in g)]
    return render_template(
        "editor/synonyms.html", groups=groups, q=q, error=error, job=_job_arg()
    ), (400 if error else 200)


def _job_arg():
    jid = request.args.get("job", type=int)
    job = get_library().svc.job(jid) if jid else None
    return job.to_json() if job else None


@bp.get("/jobs/<int:job_id>")
@role_required()
def job(job_id: int):
    j = get_library().svc.job(job_id)
    if j is None:
        abort(404)
    return jsonify(j.to_json())
