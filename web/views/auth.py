"""Sign in and out (editors and admins)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from ..security import login_delay, login_user, logout_user, users

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target:
        return url_for("editor.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return url_for("editor.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if g.get("user"):
            return redirect(_safe_next(request.args.get("next")))
        return render_template("login.html", next=request.args.get("next", ""))
    name = (request.form.get("name") or "").strip()
    password = request.form.get("password") or ""
    nxt = request.form.get("next") or ""
    error = None
    if not name or not password:
        error = "请输入用户名和密码。"
    else:
        u = users()
        row = u.get(name, missing_ok=True)
        wait = login_delay(row)
        if wait:
            minutes = (wait + 59) // 60
            error = (f"登录失败次数过多，账号已暂时锁定。请在 {wait} 秒后再试"
                     + (f"（约 {minutes} 分钟）" if wait >= 120 else "") + "。")
            return render_template("login.html", error=error, name=name, next=nxt), 429
        row = u.authenticate(name, password)
        if row is None:
            error = "用户名或密码不正确，或账号已停用。"
    if error:
        return render_template("login.html", error=error, name=name, next=nxt), 401
    login_user(row)
    flash(f"欢迎，{row['name']}。", "ok")
    return redirect(_safe_next(nxt))


@bp.post("/logout")
def logout():
    logout_user()
    flash("已退出登录。", "ok")
    return redirect(url_for("public.home"))
