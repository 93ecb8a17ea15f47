"""Media (视频/音频): the player page with its transcript, the file itself (HTTP Range, so that
the player can seek), the poster frame; editors upload a recording (streamed to a temporary
file, never read into memory) and attach a transcript to one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from library.content import safe_filename
from library.errors import LecturelibError, NotFoundError

from ..library import get_library
from ..security import actor, is_editor, role_required

bp = Blueprint("media", __name__)

MEDIA_ACCEPT = ".mp4,.webm,.mkv,.mp3,.m4a,.wav,.ogg"
TRANSCRIPT_ACCEPT = ".srt,.vtt,.lrc,.docx,.txt"
TRANSCRIPT_MAX = 20 * 1024 * 1024  # a subtitle or transcript document


def _media(doc_id: int) -> dict:
    svc = get_library().svc
    doc = svc.media(doc_id)
    if doc["status"] != "active" and not is_editor():
        raise NotFoundError(f"找不到编号为 {doc_id} 的材料。")
    return doc


@bp.get("/media/<int:doc_id>")
def page(doc_id: int):
    doc = _media(doc_id)
    t = request.args.get("t", type=float)
    duration = doc["media"].get("duration") or 0
    start = max(0.0, min(t, duration)) if t is not None else None
    return render_template("media.html", doc=doc, start=start)


@bp.get("/media/<int:doc_id>/file")
def file(doc_id: int):
    """The recording, with Range support (206 Partial Content) for seeking."""
    _media(doc_id)
    path, mime = get_library().svc.media_file(doc_id)
    return send_file(path, mimetype=mime, conditional=True, max_age=3600)


@bp.get("/media/<int:doc_id>/poster.jpg")
def poster(doc_id: int):
    _media(doc_id)
    path = get_library().svc.media_poster(doc_id)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/jpeg", conditional=True, max_age=86400)


# -- editors --------------------------------------------------------------------------------


@bp.get("/editor/media/upload")
@role_required()
def upload_form():
    return _form_page()


def _form_page(error: str | None = None, form=None, status: int = 200):
    """The upload form; after a refused file, with the message and what the editor typed."""
    return render_template(
        "editor/media_upload.html",
        accept=MEDIA_ACCEPT,
        transcript_accept=TRANSCRIPT_ACCEPT,
        limit_mb=int(get_library().svc.max_media_bytes / 1024 / 1024),
        error=error,
        form=form,
    ), status


def _transcript_upload(field: str = "transcript") -> tuple[bytes, str] | None:
    f = request.files.get(field)
    if not f or not f.filename:
        return None
    data = f.stream.read(TRANSCRIPT_MAX + 1)
    if len(data) > TRANSCRIPT_MAX:
        raise LecturelibError(
            f"文稿“{safe_filename(f.filename)}”过大（超过 20 MB）。", "请检查是否选错了文件。"
        )
    return data, safe_filename(f.filename)


@bp.post("/editor/media/upload")
@role_required()
def upload():
    svc = get_library().svc
    f = request.files.get("file")
    if not f or not f.filename:
        flash("请选择要上传的视频或音频文件。", "error")
        return redirect(url_for(".upload_form"))
    name = safe_filename(f.filename)
    folder = svc.media_upload_folder()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=Path(name).suffix.lower())
    try:
        with os.fdopen(fd, "wb") as out:
            while block := f.stream.read(1 << 20):  # 1 MB at a time, never the whole file
                out.write(block)
        form = request.form
        result = svc.upload_media(
            Path(tmp),
            name,
            actor=actor(),
            title=form.get("title", "").strip() or None,
            speaker=form.get("speaker", "").strip() or None,
            date=form.get("date", "").strip() or None,
            source=form.get("source", "").strip() or None,
            topics=form.getlist("topics") or None,
            audiences=form.getlist("audiences") or None,
            transcript=_transcript_upload(),
        )
    except LecturelibError as e:
        return _form_page(str(e), request.form, 400)
    finally:
        Path(tmp).unlink(missing_ok=True)
    if result.status == "error":  # the form again, as typed (the files must be chosen again)
        return _form_page(result.message, request.form, 400)
    if result.status == "duplicate":
        flash(result.message, "info")
    elif result.message:
        flash(result.message, "info")
    return redirect(url_for(".page", doc_id=result.document_id))


@bp.post("/editor/media/<int:doc_id>/transcript")
@role_required()
def transcript(doc_id: int):
    svc = get_library().svc
    svc.media(doc_id)  # 404 before reading any file
    try:
        got = _transcript_upload()
        if got is None:
            flash("请选择字幕或文稿文件。", "error")
        else:
            rep = svc.attach_transcript(doc_id, got[0], got[1], actor=actor())
            flash(
                f"已补上文稿“{got[1]}”：{rep['passages']} 个段落，{rep['quotes']} 条金句，已可检索。",
                "success",
            )
    except LecturelibError as e:
        flash(str(e), "error")
    return redirect(url_for(".page", doc_id=doc_id))
