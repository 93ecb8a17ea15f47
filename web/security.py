"""Sessions, CSRF tokens, roles and the login rate limit.

* CSRF: one random token per session; every POST must echo it in the ``csrf_token`` form field
  or the ``X-CSRF-Token`` header, compared in constant time.
* Roles: anonymous speakers, ``editor`` and ``admin`` (an admin is also an editor). The current
  account is re-read on every request, so disabling an account ends its sessions at once.
* Login rate limit: after ``LOGIN_MAX_FAILURES`` failures an account is refused for
  ``LOGIN_BASE_DELAY`` seconds, doubling with each further failure (at most
  ``LOGIN_MAX_DELAY``), counted in the store (``failed_logins`` / ``last_failed_at``).
"""

from __future__ import annotations

import functools
import hmac
import secrets
import time

from flask import abort, current_app, g, redirect, request, session, url_for

from library.users import Users

from .library import get_library

CSRF_KEY = "_csrf"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def csrf_token() -> str:
    tok = session.get(CSRF_KEY)
    if not tok:
        tok = session[CSRF_KEY] = secrets.token_urlsafe(32)
    return tok


def _check_csrf() -> None:
    if request.method in SAFE_METHODS or current_app.config.get("CSRF_DISABLED"):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    want = session.get(CSRF_KEY) or ""
    if not want or not hmac.compare_digest(sent.encode(), want.encode()):
        abort(400, description="csrf")


def users() -> Users:
    return Users(get_library().svc.store)


def _load_user() -> None:
    g.user = None
    uid = session.get("uid")
    if uid is None:
        return
    row = users().by_id(uid)
    if row is None or not row["active"] or session.get("pw") != row["password_hash"][-16:]:
        session.pop("uid", None)
        return
    g.user = {"id": row["id"], "name": row["name"], "role": row["role"]}


def is_editor() -> bool:
    return bool(g.get("user"))


def is_admin() -> bool:
    return bool(g.get("user")) and g.user["role"] == "admin"


def actor() -> str:
    return g.user["name"] if g.get("user") else "web"


def role_required(role: str = "editor"):
    """Views for editors (``"editor"``) or admins only (``"admin"``)."""

    def deco(view):
        @functools.wraps(view)
        def wrapped(*a, **kw):
            if not g.get("user"):
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if role == "admin" and g.user["role"] != "admin":
                abort(403)
            return view(*a, **kw)
        return wrapped
    return deco


def login_user(row: dict) -> None:
    session.clear()
    session["uid"] = row["id"]
    # a fragment of the hash: a password reset logs the account out everywhere
    session["pw"] = row["password_hash"][-16:]
    session.permanent = True
    csrf_token()


def logout_user() -> None:
    session.clear()


def login_delay(row: dict | None) -> int:
    """Seconds this account must still wait before another attempt (0 = may try now)."""
    if not row:
        return 0
    cfg = current_app.config
    failures = int(row.get("failed_logins") or 0)
    if failures < cfg["LOGIN_MAX_FAILURES"]:
        return 0
    delay = min(cfg["LOGIN_BASE_DELAY"] * 2 ** (failures - cfg["LOGIN_MAX_FAILURES"]),
                cfg["LOGIN_MAX_DELAY"])
    waited = time.time() - float(row.get("last_failed_at") or 0)
    return max(0, int(delay - waited + 0.999))


def _require_login_for_public():
    """With ``require_login`` set, the public side is for signed-in accounts only."""
    if not current_app.config.get("REQUIRE_LOGIN") or g.get("user"):
        return None
    if request.endpoint in (None, "static") or (request.endpoint or "").startswith("auth."):
        return None
    if request.blueprint == "api":
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def init_app(app) -> None:
    @app.before_request
    def _before():
        _load_user()
        _check_csrf()
        return _require_login_for_public()

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
        if g.get("user"):
            resp.headers.setdefault("Cache-Control", "private, no-store")
        return resp

    app.jinja_env.globals.update(csrf_token=csrf_token, is_editor=is_editor, is_admin=is_admin)


__all__ = ["csrf_token", "role_required", "login_user", "logout_user", "login_delay", "users",
           "is_editor", "is_admin", "actor", "init_app"]
