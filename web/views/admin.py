"""Admins: accounts (create editors, reset passwords, disable, change role) and the audit log."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from library.errors import LecturelibError, UsageError
from library.users import ROLES

from ..library import get_library
from ..security import actor, role_required, users

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _render_users(error=None, form=None, status=200):
    return render_template("admin/users.html", users=users().list(), roles=ROLES, error=error,
                           form=form), status


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
        elif action == "passwd":
            u.set_password(name, f.get("password") or "", actor=actor())
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


@bp.get("/audit")
@role_required("admin")
def audit():
    rows = get_library().svc.store.audit_log(limit=300)
    return render_template("admin/audit.html", rows=rows)
