"""Admins: accounts (create readers, editors and admins one by one or readers in bulk from a
CSV, reset passwords, disable, change role) and the audit log."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from indexer.app.accounts import ROLES
from library.errors import LecturelibError, UsageError

from ..formatting import audit_actor, audit_sentence
from ..library import get_library
from ..security import actor, keep_session_after_own_change, role_required, users

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _render_users(error=None, form=None, status=200, imported=None):
    return render_template(
        "admin/users.html",
        users=users().list(),
        roles=ROLES,
        error=error,
        form=form,
        imported=imported,
    ), status


def _csv_text(f) -> str:
    """The CSV an admin sent: an uploaded file (UTF-8, or GBK as Excel saves it in China) or
    the text pasted into the box."""
    upload = request.files.get("csv")
    if upload and upload.filename:
        raw = upload.read(2 * 1024 * 1024 + 1)
        if len(raw) > 2 * 1024 * 1024:
            raise UsageError("CSV 文件过大（最多 2 MB）。")
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
        raise UsageError("无法识别 CSV 文件的编码。", "请另存为 UTF-8 编码的 CSV 后再上传。")
    return f.get("rows") or ""


@bp.get("/users")
@role_required("admin")
def user_list():
    return _render_users()


@bp.post("/users")
@role_required("admin")
def user_action():
    f = request.form
    action = f.get("action")
    name = (f.get("name") or "").strip()
    u = users()
    try:
        if action == "add":
            if f.get("password") != f.get("password2"):
                raise UsageError("两次输入的密码不一致。")
            u.add(name, f.get("password") or "", f.get("role") or "editor", actor=actor())
            msg = f"已创建账号“{name}”。"
        elif action == "import":
            results = u.import_csv(_csv_text(f), f.get("role") or "reader", actor=actor())
            # generated passwords are shown on this page only: no redirect, nothing stored
            return _render_users(imported=results)
        elif action == "passwd":
            u.set_password(name, f.get("password") or "", actor=actor())
            if name == g.user["name"]:
                # a new password ends every session of the account, except this one
                keep_session_after_own_change()
            msg = f"已重置“{name}”的密码。"
        elif action in ("disable", "enable"):
            if name == g.user["name"] and action == "disable":
                raise UsageError("不能停用自己的账号。")
            u.set_active(name, action == "enable", actor=actor())
            msg = f"已{'启用' if action == 'enable' else '停用'}账号“{name}”。"
        elif action == "role":
            if name == g.user["name"]:
                raise UsageError("不能修改自己的角色。")
            u.set_role(name, f.get("role") or "", actor=actor())
            msg = f"已将“{name}”设为{ROLES.get(f.get('role'), '')}。"
        else:
            raise UsageError("未知的操作。")
    except LecturelibError as e:
        return _render_users(str(e), f, 400)
    flash(msg, "ok")
    return redirect(url_for(".user_list"))


PURGED = "该内容已被永久删除"


@bp.get("/audit")
@role_required("admin")
def audit():
    """The audit log as sentences; a row about something purged since says so and links
    nowhere (see ``indexer.app.auditlog``)."""
    svc = get_library().svc
    entries = []
    for e in svc.audit_entries(limit=300):
        r, target = e.row, e.row.get("target") or ""
        link = None
        if e.exists:
            link = (
                url_for("public.document", doc_id=int(e.ident))
                if e.kind == "document"
                else url_for("public.quote", quote_id=int(e.ident))
            )
        entries.append(
            {
                "at": r["at"],
                "actor": audit_actor(r.get("actor")),
                "link": link,
                "action": r.get("action"),
                "purged": e.purged,
                "sentence": audit_sentence(
                    r, names={target: e.name} if e.name else {}, topic_name=svc.taxonomy.name_of
                ),
            }
        )
    return render_template("admin/audit.html", entries=entries, purged_label=PURGED)
