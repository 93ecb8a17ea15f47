"""Topic packs on the web: the export button on each topic page and the import page for
editors. The work is done by the application service, as for the CLI."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    render_template,
    request,
    send_file,
)

from library.errors import LecturelibError

from ..library import get_library
from ..security import actor, is_editor, role_required

bp = Blueprint("packs", __name__)


def can_export() -> bool:
    return is_editor() or bool(current_app.config.get("PUBLIC_EXPORT"))


@bp.app_context_processor
def _flags():
    return {"can_export": can_export}


@bp.get("/topics/<slug>/pack.zip")
def export(slug: str):
    """The pack as a download; ``?media_mb=`` the size limit for the recordings' files (MB in
    all, 0: transcripts only; default: the service's)."""
    if not can_export():
        abort(403)
    lib = get_library()
    t = lib.svc.taxonomy.get(slug)
    if t is None:
        abort(404)
    limit = request.args.get("media_mb", "").strip() or None
    tmp = tempfile.NamedTemporaryFile(prefix="pack-", suffix=".zip", delete=False)
    tmp.close()
    path = Path(tmp.name)
    try:
        # the signed-in user, or "web"
        lib.svc.export_topic(t.slug, path, media_limit_mb=limit, actor=actor())
        f = open(path, "rb")  # noqa: SIM115 (closed by the response)
    except LecturelibError as e:
        return render_template("error.html", code=400, title="无法导出专题包", message=str(e)), 400
    finally:
        path.unlink(missing_ok=True)  # an open file stays readable (recordings: no copy in memory)
    return send_file(
        f,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{t.name}专题包.zip",
    )


@bp.route("/editor/import", methods=["GET", "POST"])
@role_required()
def import_page():
    report = error = None
    if request.method == "POST":
        f = request.files.get("pack")
        if not f or not f.filename:
            error = "请选择要导入的专题包（.zip）文件。"
        else:
            lib = get_library()
            with tempfile.TemporaryDirectory() as tmp:
                # the pack's own name: a recording imported without its file names it
                base = Path(f.filename.replace("\\", "/")).name
                if base.startswith(".") or not base.isprintable() or len(base) > 60:
                    base = ""
                path = Path(tmp) / (base or "pack.zip")
                f.save(path)
                try:
                    with lib.writing() as svc:
                        report = svc.import_pack(path, actor=actor())
                    report.path = Path(f.filename)
                except LecturelibError as e:
                    error = f"{f.filename}：{e}"
        if error:
            flash(error, "error")
    return render_template("editor/import.html", report=report, error=error), (
        400 if error else 200
    )
