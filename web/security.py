"""Sessions, CSRF tokens, roles, login throttling and response headers.

* Sessions: the signed session cookie holds the account id, the account's *session generation*
  (``users.session_gen``), the sign-in time and the time of last activity; never anything
  derived from the password. Every request re-reads the account: a disabled account, a
  generation that has moved on (logout, password change, disable), more than
  ``SESSION_IDLE_TIMEOUT`` seconds without a request or more than ``SESSION_MAX_AGE`` seconds
  since signing in end the session. The cookie's own expiry is the sign-in time plus
  ``SESSION_MAX_AGE`` and does not move with each request.
* CSRF: Flask-WTF's ``CSRFProtect`` (set up in :func:`web.create_app`). One random token per
  session (``session["csrf_token"]``), made afresh after sign-in and sign-out; pages carry it
  signed with the app's secret key (shared by every server process through the home), and
  every POST must echo it in the ``csrf_token`` form field or the ``X-CSRFToken`` /
  ``X-CSRF-Token`` header. It has no time limit of its own: it lasts as long as the session.
  The check runs in this module's ``before_request`` hook, after the account is loaded; a
  refusal is the Chinese "安全校验未通过" page (JSON for /api and fetch), see :mod:`web.errors`.
* Roles: anonymous visitors, ``reader`` (a speaker's account: what a visitor may do, also
  when ``require_login`` closes the library to visitors), ``editor`` and ``admin`` (an admin
  is also an editor, an editor also a reader). :func:`role_required` guards views: nobody
  signed in → the login page; too weak a role → 403.
* A session that ends on its own (password reset, account disabled, signed out elsewhere,
  idle, too old) says why on the next page (a flashed message; the login page shows it).
* Login throttling (:class:`LoginThrottle`): by source address and by account name, with
  growing delays, in memory. An address that has not failed is never refused; unknown names
  are throttled exactly like real ones.
* Headers: a strict Content-Security-Policy and friends on every response; every
  ``Content-Disposition`` is rebuilt from a cleaned file name (:func:`download_name`).
"""

from __future__ import annotations

import functools
import ipaddress
import math
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.exceptions import BadRequest
from werkzeug.http import parse_options_header

from indexer.app.accounts import Accounts, has_role
from library.content import name_chars

from .library import get_library

SESSION_KEYS = ("uid", "gen", "login_at", "seen_at")
SEEN_EVERY = 60  # seconds: how often the last-activity time in the cookie is renewed


def _now() -> float:
    """The clock of sessions and throttling (tests move it)."""
    return time.time()


def now() -> float:
    return _now()


# -- CSRF ---------------------------------------------------------------------------------------


def csrf_token() -> str:
    """The session's CSRF token, signed, as forms and ``fetch`` calls send it back."""
    return generate_csrf()


def _check_csrf() -> None:
    """Flask-WTF's check of POST/PUT/PATCH/DELETE (views marked ``csrf.exempt`` excepted);
    a refusal raises :class:`CSRFError`, answered by the handler in :func:`init_app`."""
    if current_app.config["WTF_CSRF_ENABLED"]:
        current_app.extensions["csrf"].protect(apply_exemptions=True)


# -- sessions -----------------------------------------------------------------------------------


def users() -> Accounts:
    return get_library().svc.accounts


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, whose expiry is fixed at sign-in (plus ``SESSION_MAX_AGE``)
    instead of moving forward with every request."""

    def get_expiration_time(self, app, session):
        login_at = session.get("login_at")
        if session.permanent and isinstance(login_at, (int, float)):
            return datetime.fromtimestamp(login_at + app.config["SESSION_MAX_AGE"], tz=UTC)
        return super().get_expiration_time(app, session)


def _end_session(reason: str | None = None) -> None:
    """Forget the account (the CSRF token stays, so an open form leads to the login page).
    ``reason`` (see :func:`end_message`) is told on the next page shown."""
    for key in SESSION_KEYS + ("pw",):
        session.pop(key, None)
    session.permanent = False
    message = end_message(reason)
    if message:
        flash(message, "warning")


def end_message(reason: str | None) -> str:
    """Why a session ended, in a sentence for the person whose session it was."""
    cfg = current_app.config
    idle = max(1, round(cfg["SESSION_IDLE_TIMEOUT"] / 60))
    hours = cfg["SESSION_MAX_AGE"] / 3600
    hours_text = f"{hours:.0f}" if hours >= 1 else f"{hours:.1f}"
    return {
        "password": "您的密码已被重置，原来的登录已失效。请用新密码重新登录；"
        "如果不是您本人操作，请联系管理员。",
        "disabled": "您的账号已被管理员停用，已退出登录。如有疑问，请联系管理员。",
        "logout": "您已在其他设备或浏览器窗口退出登录，请重新登录。",
        "idle": f"超过 {idle} 分钟没有操作，已自动退出登录，请重新登录。",
        "expired": f"登录已满 {hours_text} 小时，已自动退出，请重新登录。",
    }.get(reason or "", "")


def _load_user() -> None:
    g.user = None
    if "pw" in session:  # a cookie from before session generations
        _end_session()
    uid = session.get("uid")
    if uid is None:
        return
    cfg = current_app.config
    now = _now()
    login_at, seen_at = session.get("login_at"), session.get("seen_at")
    row = users().by_id(uid) if isinstance(uid, int) else None
    if (
        row is None
        or not isinstance(login_at, (int, float))
        or not isinstance(seen_at, (int, float))
    ):
        _end_session()
        return
    if not row["active"]:
        _end_session("disabled")
        return
    if session.get("gen") != row["session_gen"]:
        _end_session(row.get("session_end") or "logout")
        return
    if now - login_at > cfg["SESSION_MAX_AGE"]:
        _end_session("expired")
        return
    if now - seen_at > cfg["SESSION_IDLE_TIMEOUT"]:
        _end_session("idle")
        return
    if now - seen_at >= SEEN_EVERY:
        session["seen_at"] = int(now)
    g.user = {"id": row["id"], "name": row["name"], "role": row["role"]}


def signed_in() -> bool:
    """Anyone signed in: a reader, an editor or an admin."""
    return bool(g.get("user"))


def is_editor() -> bool:
    """May edit the library: an editor or an admin (not a reader)."""
    return bool(g.get("user")) and has_role(g.user["role"], "editor")


def is_admin() -> bool:
    return bool(g.get("user")) and g.user["role"] == "admin"


def actor() -> str:
    return g.user["name"] if g.get("user") else "web"


def role_required(role: str = "editor"):
    """Views for signed-in accounts of at least ``role``: ``"reader"`` (anyone signed in),
    ``"editor"`` (editors and admins, not readers) or ``"admin"``. Nobody signed in → the
    login page (and back here afterwards); a weaker role → 403."""
    if role not in ("reader", "editor", "admin"):
        raise ValueError(role)

    def deco(view):
        @functools.wraps(view)
        def wrapped(*a, **kw):
            if not g.get("user"):
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not has_role(g.user["role"], role):
                abort(403)
            return view(*a, **kw)

        return wrapped

    return deco


def login_user(row: dict) -> None:
    """A new session for ``row``: the account's current generation, no CSRF token (the next
    page makes a fresh one)."""
    session.clear()
    now = int(_now())
    session.update({"uid": row["id"], "gen": row["session_gen"], "login_at": now, "seen_at": now})
    session.permanent = True


def logout_user() -> None:
    """End this session and every copy of it: the account's generation moves on, so this
    signs the account out on every device."""
    if g.get("user"):
        users().end_sessions(g.user["id"])
    session.clear()


def keep_session_after_own_change() -> None:
    """After changing one's own password (which ends every session of the account), keep the
    session that made the change."""
    if g.get("user"):
        row = users().by_id(g.user["id"])
        if row is not None:
            session["gen"] = row["session_gen"]


# -- login throttling ---------------------------------------------------------------------------


@dataclass
class _Failures:
    count: int
    last: float
    logged: bool = False  # the refusal since the last failure is in the audit log


class MemoryFailures:
    """Failed logins in this process's memory (a LoginThrottle made without a store: unit
    tests); each scope keeps at most ``capacity`` records. The same methods as the store's
    shared table, ``library.store.throttle.LoginFailures``."""

    def __init__(self, capacity: int = 50_000):
        self.capacity = capacity
        self._lock = threading.Lock()
        self._tables: dict[str, OrderedDict[str, _Failures]] = {}

    def get(self, scope: str, key: str) -> tuple[int, float, bool] | None:
        with self._lock:
            rec = self._tables.get(scope, {}).get(key)
            return None if rec is None else (rec.count, rec.last, rec.logged)

    def failed(self, scope: str, key: str, now: float, stale_after: float) -> None:
        with self._lock:
            table = self._tables.setdefault(scope, OrderedDict())
            rec = table.get(key)
            if rec is None or now - rec.last > stale_after:
                table[key] = _Failures(1, now)
            else:
                rec.count, rec.last, rec.logged = rec.count + 1, now, False
            table.move_to_end(key)
            while len(table) > self.capacity:
                table.popitem(last=False)

    def mark_logged(self, scope: str, key: str) -> bool:
        with self._lock:
            rec = self._tables.get(scope, {}).get(key)
            if rec is None or rec.logged:
                return False
            rec.logged = True
            return True

    def forget(self, scope: str, key: str) -> None:
        with self._lock:
            self._tables.get(scope, {}).pop(key, None)

    def forget_before(self, when: float) -> None:
        with self._lock:
            for table in self._tables.values():
                for key in [k for k, r in table.items() if r.last < when]:
                    del table[key]


class LoginThrottle:
    """Failed logins counted by source address and by account name. The web app keeps them in
    the store (``failures``: the library's ``login_failures`` table), so that every server
    process and node counts the same failures; without a store, in this process's memory.

    * An address that has no failure on record is never refused: the owner of an account
      signs in from their own device whatever an attacker does elsewhere.
    * An address with failures waits ``address_base * 2**(n - address_free)`` seconds after
      its n-th failure (n ≥ ``address_free``), at most ``address_max``.
    * An account name with n ≥ ``account_free`` failures (from any addresses) makes every
      address *that has failed* wait ``account_base * 2**(n - account_free)`` seconds (at most
      ``account_max``): a guesser with many addresses gets one guess per address.
    * Names are counted whether or not the account exists, so a refusal says nothing about
      existence. A successful login clears the account's count, not the address's.
    * A record is forgotten ``forget`` seconds after its last failure (or when its delay is
      over, if that is later).
    """

    def __init__(
        self,
        *,
        account_free=5,
        account_base=30,
        account_max=3600,
        address_free=5,
        address_base=2,
        address_max=900,
        forget=3600,
        capacity=50_000,
        failures=None,
    ):
        self.account = (account_free, account_base, account_max)
        self.address = (address_free, address_base, address_max)
        self.forget = forget
        self.failures = failures if failures is not None else MemoryFailures(capacity)
        self._local: MemoryFailures | None = None  # failures the store could not take
        self._swept = 0.0

    @staticmethod
    def _delay(count: int, params: tuple) -> float:
        free, base, cap = params
        if count < free:
            return 0.0
        return float(min(base * 2 ** min(count - free, 40), cap))

    def _keep(self, params: tuple) -> float:
        """How long a record is remembered after its last failure."""
        return max(self.forget, params[2])

    def _get(self, scope: str, key: str, params: tuple, now: float) -> tuple | None:
        try:
            rec = self.failures.get(scope, key)
        except Exception:  # noqa: BLE001 - an unreadable store: this process's own table
            rec = None
        if self._local is not None:
            mine = self._local.get(scope, key)
            if mine is not None and (rec is None or mine[0] > rec[0]):
                rec = mine
        if rec is not None and now - rec[1] > max(self.forget, self._delay(rec[0], params)):
            return None
        return rec

    def _remaining(self, rec, params, now) -> float:
        return 0.0 if rec is None else self._delay(rec[0], params) - (now - rec[1])

    def wait(self, address: str, name: str, now: float) -> int:
        """Seconds before this address may try this name (0: go ahead)."""
        a = self._get("address", address, self.address, now)
        if a is None:
            return 0
        n = self._get("name", name, self.account, now)
        left = max(self._remaining(a, self.address, now), self._remaining(n, self.account, now))
        return max(0, math.ceil(left))

    def first_refusal(self, address: str) -> bool:
        """True once per failure of the address (in any process): whether to write the
        refusal to the log."""
        return self._write(lambda t: t.mark_logged("address", address), default=False)

    def failed(self, address: str, name: str, now: float) -> None:
        def record(t):
            t.failed("address", address, now, self._keep(self.address))
            t.failed("name", name, now, self._keep(self.account))

        self._write(record)
        if now - self._swept > 600:  # old records go, now and then
            self._swept = now
            keep = max(self._keep(self.address), self._keep(self.account))
            self._write(lambda t: t.forget_before(now - keep))

    def succeeded(self, name: str) -> None:
        self._write(lambda t: t.forget("name", name))
        if self._local is not None:
            self._local.forget("name", name)

    def _write(self, change, default=None):
        """A change to the shared table; when the store cannot take it at once (SQLite's write
        lock held by a long ingest), this process's own table takes it instead: a failed login
        is still a 401, never a server error."""
        try:
            return change(self.failures)
        except Exception:  # noqa: BLE001 - any database error: count here instead
            if self._local is None:
                self._local = MemoryFailures()
            try:
                return change(self._local)
            except Exception:  # noqa: BLE001
                return default


def throttle() -> LoginThrottle:
    return current_app.extensions["lecturelib_throttle"]


def client_address() -> str:
    """The throttling key of the client: its IPv4 address, or the /64 network of an IPv6
    address (one subscriber usually holds a whole /64)."""
    raw = (request.remote_addr or "").strip()
    try:
        ip = ipaddress.ip_address(raw.split("%")[0])
    except ValueError:
        return raw[:64] or "unknown"
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def throttle_key(name: str) -> str:
    return name[:128]


# -- file names in Content-Disposition ----------------------------------------------------------

# what a saved file may be called for each stored format; anything else gets the format's
# extension appended, so that the file opens with the right program
_EXTENSIONS = {
    "pdf": ("pdf",),
    "docx": ("docx", "docm", "dotx", "wps"),
    "doc": ("doc", "wps", "dot"),
    "pptx": ("pptx", "pptm", "dps"),
    "html": ("html", "htm", "xhtml"),
    "md": ("md", "markdown"),
    "txt": ("txt", "text"),
}
_EXT = re.compile(r"^(.*?)\.([A-Za-z0-9]{1,8})$")
_MAX_STEM = 120
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()\[\]+,=!#$&^{}~@'-]")


def download_name(name: str | None, fmt: str | None = None) -> str:
    """A file name that is safe in a header, a terminal and on any disk: no control or
    invisible formatting characters (tab and line breaks become spaces), no folder part, none
    of ``<>:"|?*``, no leading dots, at most 120 characters before the extension, and an
    extension that fits the stored format ``fmt`` (kept when the name is cut)."""
    text = name_chars(name).lstrip(".").strip()  # the one cleaning of names (library)
    m = _EXT.match(text)
    stem, ext = (m.group(1), m.group(2)) if m else (text, "")
    allowed = _EXTENSIONS.get(fmt or "")
    if allowed and ext.lower() not in allowed:
        stem, ext = text, allowed[0]
    stem = stem[:_MAX_STEM].rstrip(" .") or "下载文件"
    return f"{stem}.{ext}" if ext else stem


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''…`` (RFC 6266 / RFC 8187): an ASCII
    fallback for old clients, the real name percent-encoded for everyone else."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"_+", "_", _ASCII_UNSAFE.sub("_", ascii_name)).strip(" _")
    m = _EXT.match(ascii_name)
    if not ascii_name or ascii_name.startswith(".") or (m and not m.group(1).strip(" _.")):
        ext = _EXT.match(name)
        ascii_name = "download" + (f".{ext.group(2)}" if ext and ext.group(2).isascii() else "")
    value = f'{disposition}; filename="{ascii_name}"'
    if ascii_name != name:
        value += "; filename*=UTF-8''" + quote(name, safe="!#$&+-.^_`|~")
    return value


def _safe_content_disposition(resp) -> None:
    raw = resp.headers.get("Content-Disposition")
    if not raw:
        return
    kind, params = parse_options_header(raw)
    if "filename" not in params:
        return
    kind = kind.lower() if kind.lower() in ("attachment", "inline") else "attachment"
    resp.headers["Content-Disposition"] = content_disposition(
        download_name(params["filename"]), kind
    )


# -- wiring ---------------------------------------------------------------------------------------


def _require_login_for_public():
    """With ``require_login`` set, the public side is for signed-in accounts only."""
    if not current_app.config.get("REQUIRE_LOGIN") or g.get("user"):
        return None
    if request.endpoint in (None, "static", "favicon") or (request.endpoint or "").startswith(
        "auth."
    ):
        return None
    if request.blueprint == "api":
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def init_app(app) -> None:
    cfg = app.config
    app.session_interface = SessionInterface()
    app.extensions["lecturelib_throttle"] = LoginThrottle(
        account_free=cfg["LOGIN_MAX_FAILURES"],
        account_base=cfg["LOGIN_BASE_DELAY"],
        account_max=cfg["LOGIN_MAX_DELAY"],
        address_free=cfg["LOGIN_ADDRESS_MAX_FAILURES"],
        address_base=cfg["LOGIN_ADDRESS_BASE_DELAY"],
        address_max=cfg["LOGIN_ADDRESS_MAX_DELAY"],
        forget=cfg["LOGIN_FORGET_AFTER"],
        # shared by every process and node serving the library
        failures=(
            app.extensions["lecturelib"].svc.login_failures
            if "lecturelib" in app.extensions
            else None
        ),
    )

    @app.before_request
    def _before():
        _load_user()
        _check_csrf()
        return _require_login_for_public()

    @app.errorhandler(CSRFError)
    def _csrf_refused(e):
        # the one wording of a refused token lives in web.errors (400 with description "csrf")
        return app.handle_http_exception(BadRequest(description="csrf"))

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        if g.get("user"):
            resp.headers.setdefault("Cache-Control", "private, no-store")
        _safe_content_disposition(resp)
        return resp

    app.jinja_env.globals.update(
        csrf_token=csrf_token, is_editor=is_editor, is_admin=is_admin, signed_in=signed_in
    )


__all__ = [
    "csrf_token",
    "role_required",
    "login_user",
    "logout_user",
    "users",
    "is_editor",
    "is_admin",
    "signed_in",
    "end_message",
    "actor",
    "init_app",
    "LoginThrottle",
    "throttle",
    "client_address",
    "throttle_key",
    "keep_session_after_own_change",
    "now",
    "download_name",
    "content_disposition",
]
