"""Sessions that end (issue 11, findings 6 and 12): logout, a password change and disabling an
account end every copy of the session; sessions expire when idle and after an absolute
lifetime; the cookie carries no password-hash material."""

from __future__ import annotations

import base64
import time
import zlib

import pytest
from conftest import ADMIN, EDITOR, login, post, with_csrf
from stores import database  # noqa: F401

COOKIE = "lecturelib_session"


@pytest.fixture
def app(request, make_app, database):
    """Accounts and sessions on SQLite, and on PostgreSQL (``stores.database``)."""
    if database == "postgres":
        return make_app(settings={"database_url": request.getfixturevalue("pg_url")})
    return make_app()


def _cookie(client) -> str:
    return client.get_cookie(COOKIE).value


def _copy(app, client):
    """A second client holding a copy of ``client``'s session cookie (a stolen cookie, or the
    same browser profile on another machine)."""
    other = app.test_client()
    other.set_cookie(COOKIE, _cookie(client))
    return other


def _signed_in(client) -> bool:
    r = client.get("/editor/")
    assert r.status_code in (200, 302), r.status_code
    return r.status_code == 200


def _store(app):
    return app.extensions["lecturelib"].svc.store


# -- finding 6: ending sessions -----------------------------------------------------------------


def test_a_cookie_copied_before_logout_no_longer_opens_the_editor(app):
    c = app.test_client()
    login(c)
    copy = _copy(app, c)
    assert _signed_in(copy)
    assert post(c, "/logout").status_code == 302
    assert not _signed_in(c)
    assert not _signed_in(copy)  # the copy is over too
    login(c)  # and signing in again works
    assert _signed_in(c) and not _signed_in(copy)


def test_a_password_reset_by_an_admin_ends_every_copy(app):
    c = app.test_client()
    login(c)
    copy = _copy(app, c)
    admin = app.test_client()
    login(admin, ADMIN)
    r = post(
        admin, "/admin/users", {"action": "passwd", "name": EDITOR[0], "password": "brand-new-pass"}
    )
    assert r.status_code == 302
    assert not _signed_in(c) and not _signed_in(copy)
    assert _signed_in(admin)  # other accounts are not touched


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(app):
    c = app.test_client()
    login(c, ADMIN)
    copy = _copy(app, c)
    r = post(
        c, "/admin/users", {"action": "passwd", "name": ADMIN[0], "password": "brand-new-pass"}
    )
    assert r.status_code == 302
    assert _signed_in(c)
    assert not _signed_in(copy)


def test_a_password_change_from_the_command_line_ends_every_session(app, monkeypatch):
    from cli.main import main

    c = app.test_client()
    login(c)
    copy = _copy(app, c)
    monkeypatch.setenv("LECTURELIB_PASSWORD", "cli-new-pass-1")
    home = app.config["LECTURELIB_HOME_OBJ"].path
    assert main(["--home", str(home), "user", "passwd", EDITOR[0]]) == 0
    assert not _signed_in(c) and not _signed_in(copy)
    login(c, (EDITOR[0], "cli-new-pass-1"))
    assert _signed_in(c)


def test_disabling_an_account_ends_every_copy_and_enabling_does_not_revive_them(app):
    from library.users import Users

    c = app.test_client()
    login(c)
    copy = _copy(app, c)
    users = Users(_store(app))
    users.set_active(EDITOR[0], False, actor="test")
    users.set_active(EDITOR[0], True, actor="test")
    assert not _signed_in(c) and not _signed_in(copy)


def test_a_role_change_does_not_end_the_session(app):
    from library.users import Users

    c = app.test_client()
    login(c)
    Users(_store(app)).set_role(EDITOR[0], "admin", actor="test")
    assert c.get("/admin/users").status_code == 200


# -- idle timeout and absolute lifetime --------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """The server's clock, moved by the test."""
    import web.security as security

    now = [time.time()]
    monkeypatch.setattr(security, "_now", lambda: now[0])
    return now


def test_an_idle_session_ends(make_app, clock):
    app = make_app(settings={"session_idle_minutes": 30})
    c = app.test_client()
    login(c)
    clock[0] += 29 * 60
    assert _signed_in(c)  # activity renews the idle timer
    clock[0] += 29 * 60
    assert _signed_in(c)
    clock[0] += 31 * 60
    assert not _signed_in(c)


def test_a_busy_session_still_ends_after_its_absolute_lifetime(make_app, clock):
    app = make_app(settings={"session_idle_minutes": 30, "session_max_hours": 2})
    c = app.test_client()
    login(c)
    for _ in range(6):  # active every 19 minutes for 1 h 54 min
        clock[0] += 19 * 60
        assert _signed_in(c)
    clock[0] += 19 * 60  # 2 h 13 min after signing in
    assert not _signed_in(c)


def test_the_defaults_are_two_idle_hours_and_twelve_hours_in_all(app):
    assert app.config["SESSION_IDLE_TIMEOUT"] == 2 * 3600
    assert app.config["SESSION_MAX_AGE"] == 12 * 3600


def test_the_cookie_expiry_does_not_renew_with_every_request(app):
    c = app.test_client()
    tok = with_csrf(c)
    r = c.post("/login", data={"name": EDITOR[0], "password": EDITOR[1], "csrf_token": tok})
    first = [h for h in r.headers.getlist("Set-Cookie") if h.startswith(COOKIE)][0]
    expires = first.split("Expires=")[1].split(";")[0]
    time.sleep(1.1)
    later = c.get("/editor/").headers.getlist("Set-Cookie")
    for h in later:
        if h.startswith(COOKIE):
            assert h.split("Expires=")[1].split(";")[0] == expires


# -- finding 12: what the cookie holds ----------------------------------------------------------


def _payload(app, cookie: str) -> tuple[dict, str]:
    """The session as the server reads it, and the cookie's readable payload text."""
    data = app.session_interface.get_signing_serializer(app).loads(cookie)
    raw = cookie.split(".")
    if cookie.startswith("."):  # itsdangerous: compressed payload
        blob = base64.urlsafe_b64decode(raw[1] + "=" * (-len(raw[1]) % 4))
        text = zlib.decompress(blob).decode()
    else:
        text = base64.urlsafe_b64decode(raw[0] + "=" * (-len(raw[0]) % 4)).decode()
    return data, text


def test_the_cookie_carries_no_password_hash_material(app):
    from library.users import Users

    c = app.test_client()
    login(c)
    data, readable = _payload(app, _cookie(c))
    pw_hash = Users(_store(app)).get(EDITOR[0])["password_hash"]
    pieces = {pw_hash[i : i + 8] for i in range(len(pw_hash) - 8)}
    assert not any(p in readable for p in pieces), data
    assert "pw" not in data
    # what it does hold: the account, its session generation, times and the CSRF token
    assert set(data) <= {
        "uid",
        "gen",
        "login_at",
        "seen_at",
        "csrf_token",
        "_flashes",
        "_permanent",
    }, data


def test_the_csrf_token_changes_at_login_and_logout(app):
    c = app.test_client()
    c.get("/login")
    before = _payload(app, _cookie(c))[0]["csrf_token"]
    login(c)
    with c.session_transaction() as s:
        s.pop("csrf_token")  # drop the test token: the server makes one
    c.get("/editor/")
    during = _payload(app, _cookie(c))[0]["csrf_token"]
    post(c, "/logout")  # with the server's token
    c.get("/login")
    after = _payload(app, _cookie(c))[0]["csrf_token"]
    assert len({before, during, after}) == 3


def test_an_old_style_cookie_with_a_hash_fragment_is_not_a_session(app):
    from library.users import Users

    row = Users(_store(app)).get(EDITOR[0])
    c = app.test_client()
    with c.session_transaction() as s:
        s["uid"] = row["id"]
        s["pw"] = row["password_hash"][-16:]
    assert not _signed_in(c)
