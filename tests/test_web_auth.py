"""Accounts and security: login, the rate limit, CSRF, cookies, the secret key, permissions."""

from __future__ import annotations

import os
import stat
import time

import pytest

from conftest import ADMIN, EDITOR, login, post, with_csrf


def text(r):
    return r.get_data(as_text=True)


@pytest.fixture
def app(make_app):
    return make_app()


def test_login_and_logout(app):
    c = app.test_client()
    assert "编辑登录" in text(c.get("/login"))
    tok = with_csrf(c)
    r = c.post("/login", data={"name": EDITOR[0], "password": EDITOR[1], "csrf_token": tok,
                               "next": "/editor/upload"})
    assert r.status_code == 302 and r.headers["Location"] == "/editor/upload"
    assert "退出（bianji）" in text(c.get("/"))
    assert c.get("/login").status_code == 302           # already signed in
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
        r = c.post("/login", data={"name": EDITOR[0], "password": EDITOR[1],
                                   "csrf_token": tok, "next": nxt})
        assert r.headers["Location"] == "/editor/", nxt
        post(c, "/logout")
        tok = with_csrf(c)


def test_login_rate_limit_after_five_failures(app):
    c = app.test_client()
    tok = with_csrf(c)
    for _ in range(5):
        r = c.post("/login", data={"name": EDITOR[0], "password": "bad-pass-x", "csrf_token": tok})
        assert r.status_code == 401
    r = c.post("/login", data={"name": EDITOR[0], "password": EDITOR[1], "csrf_token": tok})
    assert r.status_code == 429
    assert "登录失败次数过多" in text(r) and "秒后再试" in text(r)
    # the delay grows: pretend the wait has passed, fail once more, and it doubles
    from library.users import Users
    from sqlalchemy import text as sql
    store = app.extensions["lecturelib"].svc.store
    with store.engine.begin() as conn:
        conn.execute(sql("UPDATE users SET last_failed_at = :t WHERE name = :n"),
                     {"t": time.time() - 31, "n": EDITOR[0]})
    r = c.post("/login", data={"name": EDITOR[0], "password": "bad-pass-x", "csrf_token": tok})
    assert r.status_code == 401
    r = c.post("/login", data={"name": EDITOR[0], "password": EDITOR[1], "csrf_token": tok})
    assert r.status_code == 429
    wait = int(text(r).split("请在 ")[1].split(" 秒")[0])
    assert 31 <= wait <= 60
    with store.engine.begin() as conn:
        conn.execute(sql("UPDATE users SET last_failed_at = :t WHERE name = :n"),
                     {"t": time.time() - 61, "n": EDITOR[0]})
    r = c.post("/login", data={"name": EDITOR[0], "password": EDITOR[1], "csrf_token": tok})
    assert r.status_code == 302
    assert Users(store).get(EDITOR[0])["failed_logins"] == 0


def test_disabled_account_cannot_log_in_and_is_logged_out(app):
    from library.users import Users
    c = app.test_client()
    login(c)
    Users(app.extensions["lecturelib"].svc.store).set_active(EDITOR[0], False, actor="test")
    assert c.get("/editor/").status_code == 302           # session ended at once
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
    (home / "settings.json").write_text('{"max_file_mb": 2, "library_name": "肇庆宣讲素材库"}',
                                        encoding="utf-8")
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
