"""Accounts and security: login, the rate limit, CSRF, cookies, the secret key, permissions."""

from __future__ import annotations

import os
import re
import stat
import time
from pathlib import Path

import pytest
from conftest import ADMIN, EDITOR, login, post, text, with_csrf


@pytest.fixture
def app(make_app):
    return make_app()


def test_login_and_logout(app):
    c = app.test_client()
    assert "登录" in text(c.get("/login"))
    tok = with_csrf(c)
    r = c.post(
        "/login",
        data={
            "name": EDITOR[0],
            "password": EDITOR[1],
            "csrf_token": tok,
            "next": "/editor/upload",
        },
    )
    assert r.status_code == 302 and r.headers["Location"] == "/editor/upload"
    assert "退出（bianji）" in text(c.get("/"))
    assert c.get("/login").status_code == 302  # already signed in
    r = post(c, "/logout")
    assert r.status_code == 302
    assert c.get("/editor/").status_code == 302


def test_login_errors(app):
    c = app.test_client()
    tok = with_csrf(c)
    r = c.post("/login", data={"name": "", "password": "", "csrf_token": tok})
    assert r.status_code == 401 and "请输入用户名和密码" in text(r)
    r = c.post("/login", data={"name": EDITOR[0], "password": "wrong-pass", "csrf_token": tok})
    assert r.status_code == 401 and "用户名或密码不正确" in text(r)
    r = c.post("/login", data={"name": "nobody", "password": "whatever1", "csrf_token": tok})
    assert r.status_code == 401


def test_login_rejects_missing_csrf_token(app):
    c = app.test_client()
    r = c.post("/login", data={"name": EDITOR[0], "password": EDITOR[1]})
    assert r.status_code == 400 and "安全校验未通过" in text(r)


def test_login_never_redirects_off_site(app):
    c = app.test_client()
    tok = with_csrf(c)
    for nxt in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        r = c.post(
            "/login",
            data={"name": EDITOR[0], "password": EDITOR[1], "csrf_token": tok, "next": nxt},
        )
        assert r.headers["Location"] == "/editor/", nxt
        post(c, "/logout")
        tok = with_csrf(c)


def _try(c, name, password, addr):
    """A login attempt from source address ``addr``."""
    tok = with_csrf(c)
    return c.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": tok},
        environ_base={"REMOTE_ADDR": addr},
    )


@pytest.fixture
def clock(monkeypatch):
    import web.security as security

    now = [time.time()]
    monkeypatch.setattr(security, "_now", lambda: now[0])
    return now


def test_failures_from_elsewhere_never_lock_the_owner_out(app):
    c = app.test_client()
    for _ in range(20):  # an attacker, as fast as it can
        assert _try(c, ADMIN[0], "bad-pass-x", "203.0.113.9").status_code in (401, 429)
    assert _try(c, ADMIN[0], ADMIN[1], "203.0.113.9").status_code == 429
    r = _try(app.test_client(), ADMIN[0], ADMIN[1], "198.51.100.7")  # the owner's own device
    assert r.status_code == 302 and r.headers["Location"] == "/editor/"


def test_an_address_that_keeps_failing_waits_longer_each_time(app, clock):
    c = app.test_client()
    addr = "203.0.113.9"
    for _ in range(5):
        assert _try(c, EDITOR[0], "bad-pass-x", addr).status_code == 401
    r = _try(c, EDITOR[0], EDITOR[1], addr)  # even the right password waits
    assert r.status_code == 429
    assert "登录失败次数过多" in text(r) and "秒后再试" in text(r)
    # the delay grows (here the name's: 30 s, doubling): wait it out, fail once more, wait again
    waits = []
    for _ in range(4):
        wait = int(text(_try(c, EDITOR[0], "bad-pass-x", addr)).split("请在 ")[1].split(" 秒")[0])
        waits.append(wait)
        clock[0] += wait + 1
        assert _try(c, EDITOR[0], "bad-pass-x", addr).status_code == 401
    assert waits == [30, 60, 120, 240], waits
    # after 9 failures a failing address waits 480 s for this name
    r = _try(c, EDITOR[0], EDITOR[1], addr)
    assert r.status_code == 429 and 400 < int(text(r).split("请在 ")[1].split(" 秒")[0]) <= 480
    # a right password after the wait signs in, and clears the name's count
    clock[0] += 481
    assert _try(c, EDITOR[0], EDITOR[1], addr).status_code == 302
    from library.users import Users

    assert Users(app.extensions["lecturelib"].svc.store).get(EDITOR[0])["failed_logins"] == 0


def test_the_throttle_counts_addresses_and_names_with_growing_delays():
    from web.security import LoginThrottle

    t = LoginThrottle()
    for i in range(5):  # one address, five different names
        assert t.wait("a", f"name{i}", 0) == 0
        t.failed("a", f"name{i}", 0)
    waits = []
    for i in range(12):  # a new name each time: the address's delay
        waits.append(t.wait("a", f"other{i}", 0))
        t.failed("a", f"other{i}", 0)
    assert waits[:5] == [2, 4, 8, 16, 32] and max(waits) == 900  # at most 15 minutes
    assert t.wait("b", "other", 0) == 0  # an address that never failed
    assert t.wait("a", "other", 3600 + 901) == 0  # forgotten an hour after the last
    for i in range(5):  # one name, five addresses
        t.failed(f"x{i}", "admin", 10_000)
    assert t.wait("x1", "admin", 10_000) == 30
    assert t.wait("fresh", "admin", 10_000) == 0
    t.succeeded("admin")
    assert t.wait("x1", "admin", 10_000) == 0


def test_a_guesser_with_many_addresses_gets_one_guess_per_address(app):
    c = app.test_client()
    for i in range(6):  # six addresses, one failure each
        assert _try(c, ADMIN[0], f"bad-pass-{i}", f"203.0.113.{i}").status_code == 401
    # the account is hot now: an address that failed waits, even with the right password
    assert _try(c, ADMIN[0], "bad-pass-9", "203.0.113.1").status_code == 429
    assert _try(c, ADMIN[0], ADMIN[1], "203.0.113.1").status_code == 429
    # an address that never failed is not refused
    assert _try(c, ADMIN[0], ADMIN[1], "198.51.100.7").status_code == 302


def test_the_throttle_holds_across_processes_serving_one_library(app):
    """Two server processes (or nodes) on one library count the same failures: before, each
    kept its own in memory, so ``serve --processes 4`` gave a guesser four allowances."""
    from conftest import _build_app

    other = _build_app(Path(app.config["LECTURELIB_HOME_OBJ"].path), users=False)
    try:
        a, b = app.test_client(), other.test_client()
        for i in range(6):  # failures spread over both processes
            c = a if i % 2 else b
            assert _try(c, ADMIN[0], f"bad-pass-{i}", f"203.0.113.{i}").status_code == 401
        # either process refuses an address that failed, even with the right password
        assert _try(a, ADMIN[0], ADMIN[1], "203.0.113.2").status_code == 429
        assert _try(b, ADMIN[0], ADMIN[1], "203.0.113.1").status_code == 429
        assert _try(b, ADMIN[0], ADMIN[1], "198.51.100.7").status_code == 302
    finally:
        other.extensions["lecturelib"].close()


def test_ipv6_addresses_are_throttled_by_their_64_network(app):
    c = app.test_client()
    for i in range(5):
        assert _try(c, EDITOR[0], "bad-pass-x", f"2001:db8:1:2::{i + 1}").status_code == 401
    assert _try(c, EDITOR[0], EDITOR[1], "2001:db8:1:2::99").status_code == 429
    assert _try(c, EDITOR[0], EDITOR[1], "2001:db8:1:3::1").status_code == 302


def _answers(app, name, addr, n=9):
    c = app.test_client()
    out = []
    for _ in range(n):
        r = _try(c, name, "bad-pass-x", addr)
        page = re.sub(r'name="csrf_token" value="[^"]+"', "CSRF", text(r))  # signed per request
        out.append((r.status_code, page.replace(name, "NAME")))
    return out


def test_unknown_names_and_wrong_passwords_get_the_same_answers(app):
    real = _answers(app, EDITOR[0], "203.0.113.1")
    unknown = _answers(app, "nobody", "203.0.113.2")
    assert [s for s, _ in real] == [401] * 5 + [429] * 4
    assert real == unknown  # statuses and pages, word for word


def test_unknown_names_and_wrong_passwords_cost_one_scrypt_each(app, monkeypatch):
    import library.users as users_mod

    calls = []
    real_scrypt = users_mod.hashlib.scrypt

    def counting(*a, **kw):
        calls.append(1)
        return real_scrypt(*a, **kw)

    monkeypatch.setattr(users_mod.hashlib, "scrypt", counting)
    c = app.test_client()
    for name, addr in ((EDITOR[0], "203.0.113.1"), ("nobody", "203.0.113.2")):
        calls.clear()
        assert _try(c, name, "bad-pass-x", addr).status_code == 401
        assert len(calls) == 1, name
    calls.clear()  # a refused attempt costs none
    for _ in range(6):
        _try(c, "nobody-else", "bad-pass-x", "203.0.113.3")
    assert len(calls) == 5


def test_failed_logins_and_refusals_are_in_the_audit_log(app):
    c = app.test_client()
    for _ in range(7):
        _try(c, "nobody", "bad-pass-x", "203.0.113.5")
    _try(c, EDITOR[0], "bad-pass-x", "203.0.113.6")
    log = app.extensions["lecturelib"].svc.store.audit_log(limit=50)
    failed = [r for r in log if r["action"] == "login_failed"]
    refused = [r for r in log if r["action"] == "login_throttled"]
    assert len(failed) == 6 and len(refused) == 1  # one refusal row per failure, not more
    assert {r["detail"]["来源地址"] for r in failed} == {"203.0.113.5", "203.0.113.6"}
    reasons = {r["detail"]["账号"]: r["detail"]["原因"] for r in failed}
    assert reasons == {"nobody": "账号不存在", EDITOR[0]: "密码错误"}
    a = app.test_client()
    login(a, ADMIN)
    page = text(a.get("/admin/audit"))
    assert (
        "未登录的访客执行了“登录失败”（账号：nobody；来源地址：203.0.113.5；原因：账号不存在）"
        in page
    )
    assert "登录受限（失败次数过多）" in page and "需等待" in page


def test_disabled_account_cannot_log_in_and_is_logged_out(app):
    from library.users import Users

    c = app.test_client()
    login(c)
    Users(app.extensions["lecturelib"].svc.store).set_active(EDITOR[0], False, actor="test")
    assert c.get("/editor/").status_code == 302  # session ended at once
    tok = with_csrf(c)
    r = c.post("/login", data={"name": EDITOR[0], "password": EDITOR[1], "csrf_token": tok})
    assert r.status_code == 401


def test_session_cookie_flags(make_app):
    app = make_app(SESSION_COOKIE_SECURE=True)
    c = app.test_client()
    tok = with_csrf(c)
    r = c.post("/login", data={"name": EDITOR[0], "password": EDITOR[1], "csrf_token": tok})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_secret_key_generated_once_with_private_mode(tmp_path, monkeypatch):
    from web import create_app

    monkeypatch.delenv("LECTURELIB_SECRET_KEY", raising=False)
    home = tmp_path / "h"
    a1 = create_app({"LECTURELIB_HOME": str(home)})
    key_file = home / "secret_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    a2 = create_app({"LECTURELIB_HOME": str(home)})
    assert a1.config["SECRET_KEY"] == a2.config["SECRET_KEY"] and len(a1.config["SECRET_KEY"]) >= 32
    for a in (a1, a2):
        a.extensions["lecturelib"].close()


def test_settings_and_environment_configure_the_app(tmp_path, monkeypatch):
    from web import create_app

    home = tmp_path / "h"
    home.mkdir()
    (home / "settings.json").write_text(
        '{"max_file_mb": 2, "library_name": "肇庆宣讲素材库"}', encoding="utf-8"
    )
    monkeypatch.setenv("LECTURELIB_HOME", str(home))
    monkeypatch.setenv("LECTURELIB_SECURE_COOKIES", "1")
    app = create_app()
    assert app.config["MAX_CONTENT_LENGTH"] == 3 * 1024 * 1024
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert "肇庆宣讲素材库" in app.test_client().get("/login").get_data(as_text=True)
    app.extensions["lecturelib"].close()


EDITOR_PAGES = ["/editor/", "/editor/upload", "/editor/dictionary", "/editor/synonyms"]
ADMIN_PAGES = ["/admin/users", "/admin/audit"]


def test_permissions_anonymous(app):
    c = app.test_client()
    for url in EDITOR_PAGES + ADMIN_PAGES:
        r = c.get(url)
        assert r.status_code == 302 and "/login?next=" in r.headers["Location"], url
    for url in ["/editor/documents/1/trash", "/editor/drafts/1/publish", "/admin/users"]:
        r = post(c, url)
        assert r.status_code == 302, url


def test_permissions_editor(app):
    c = app.test_client()
    login(c, EDITOR)
    for url in EDITOR_PAGES:
        assert c.get(url).status_code == 200, url
    for url in ADMIN_PAGES:
        r = c.get(url)
        assert r.status_code == 403 and "没有权限" in text(r), url
    assert post(c, "/admin/users", {"action": "add", "name": "x"}).status_code == 403
    assert post(c, "/editor/documents/1/purge").status_code == 403


def test_permissions_admin(app):
    c = app.test_client()
    login(c, ADMIN)
    for url in EDITOR_PAGES + ADMIN_PAGES:
        assert c.get(url).status_code == 200, url


def test_a_busy_store_never_turns_a_failed_login_into_a_server_error():
    """SQLite's write lock held by a long ingest: the shared table cannot take the failure;
    this process counts it itself, and the guesser is still slowed down."""
    import sqlite3

    from web.security import LoginThrottle

    class Locked:  # the shared table while another process holds the write lock
        def get(self, scope, key):
            return None

        def failed(self, *a):
            raise sqlite3.OperationalError("database is locked")

        mark_logged = forget = forget_before = failed

    t = LoginThrottle(failures=Locked())
    for i in range(6):
        t.failed("203.0.113.9", f"name{i}", 0)
    assert t.wait("203.0.113.9", "other", 0) > 0 and t.first_refusal("203.0.113.9") is True
    t.succeeded("name1")
