"""Sign in and out (readers, editors and admins: one login page for everyone).

A failed sign-in answers the same for an unknown name, a wrong password and a disabled account,
after the same work (see ``library.users.Users.authenticate``). Repeated failures are throttled
by source address and by name (``web.security.LoginThrottle``); an address that has not failed
is never refused. Failures and refusals are written to the audit log.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from indexer.app.accounts import has_role, login_detail

from ..library import get_library
from ..security import client_address, login_user, logout_user, now, throttle, throttle_key, users

bp = Blueprint("auth", __name__)

FAILED = "用户名或密码不正确，或账号已停用。"


def _clean_next(target: str | None) -> str:
    """``target`` when it is a same-site relative path without control characters, else ""
    (never an open redirect, never a header injection)."""
    if not target or len(target) > 2000:
        return ""
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in target):
        return ""
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return ""
    return target


def _safe_next(target: str | None, role: str | None = None) -> str:
    """Where to go after signing in: ``target`` when safe, else the editors' dashboard for an
    editor or admin and the home page for a reader."""
    if role is None and g.get("user"):
        role = g.user["role"]
    home = url_for("editor.dashboard") if has_role(role, "editor") else url_for("public.home")
    return _clean_next(target) or home


def _throttled(wait: int) -> str:
    minutes = (wait + 59) // 60
    return (
        f"登录失败次数过多，请在 {wait} 秒后再试"
        + (f"（约 {minutes} 分钟）" if wait >= 120 else "")
        + "。"
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if g.get("user"):
            return redirect(_safe_next(request.args.get("next")))
        return render_template("login.html", next=_clean_next(request.args.get("next")))
    name = (request.form.get("name") or "").strip()
    password = request.form.get("password") or ""
    nxt = _clean_next(request.form.get("next"))
    if not name or not password:
        return render_template("login.html", error="请输入用户名和密码。", name=name, next=nxt), 401
    address, key = client_address(), throttle_key(name)
    wait = throttle().wait(address, key, now())
    if wait:
        if throttle().first_refusal(address):
            detail = login_detail(name, address, {"需等待": f"{wait} 秒"})
            get_library().svc.audit("web", "login_throttled", None, **detail)
        return render_template("login.html", error=_throttled(wait), name=name, next=nxt), 429
    row = users().authenticate(name, password, address=address)
    if row is None:
        throttle().failed(address, key, now())
        return render_template("login.html", error=FAILED, name=name, next=nxt), 401
    throttle().succeeded(key)
    login_user(row)
    flash(f"欢迎，{row['name']}。", "ok")
    return redirect(_safe_next(nxt, row["role"]))


@bp.post("/logout")
def logout():
    logout_user()
    flash("已退出登录。", "ok")
    return redirect(url_for("public.home"))
