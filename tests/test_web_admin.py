"""Admins: accounts and the audit log."""

from __future__ import annotations

import pytest

from conftest import ADMIN, EDITOR, login, post, with_csrf


def text(r):
    return r.get_data(as_text=True)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def admin(app):
    c = app.test_client()
    login(c, ADMIN)
    return c


def test_users_page_lists_accounts(admin):
    page = text(admin.get("/admin/users"))
    assert EDITOR[0] in page and ADMIN[0] in page and "管理员" in page and "新建账号" in page


def test_create_editor_who_can_then_log_in(admin, app):
    r = post(admin, "/admin/users", {"action": "add", "name": "xinbianji", "role": "editor",
                                     "password": "new-pass-123", "password2": "new-pass-123"})
    assert r.status_code == 302
    assert "已创建账号“xinbianji”" in text(admin.get("/admin/users"))
    c = app.test_client()
    login(c, ("xinbianji", "new-pass-123"))
    assert c.get("/editor/").status_code == 200
    assert c.get("/admin/users").status_code == 403


@pytest.mark.parametrize("form, message", [
    ({"name": "a b", "password": "long-enough", "password2": "long-enough"}, "不能含空格"),
    ({"name": "short", "password": "123", "password2": "123"}, "至少需要 8 个字符"),
    ({"name": "mismatch", "password": "long-enough", "password2": "other-pass"}, "两次输入的密码不一致"),
    ({"name": EDITOR[0], "password": "long-enough", "password2": "long-enough"}, "已存在"),
    ({"name": "badrole", "password": "long-enough", "password2": "long-enough",
      "role": "king"}, "未知的角色"),
])
def test_create_account_errors(admin, form, message):
    r = post(admin, "/admin/users", {"action": "add", "role": "editor", **form})
    assert r.status_code == 400 and message in text(r)


def test_reset_password_logs_out_old_sessions(admin, app):
    editor = app.test_client()
    login(editor, EDITOR)
    r = post(admin, "/admin/users", {"action": "passwd", "name": EDITOR[0], "password": "short"})
    assert r.status_code == 400 and "至少需要 8 个字符" in text(r)
    r = post(admin, "/admin/users", {"action": "passwd", "name": EDITOR[0],
                                     "password": "brand-new-pass"})
    assert r.status_code == 302
    assert editor.get("/editor/").status_code == 302          # old session is over
    login(editor, (EDITOR[0], "brand-new-pass"))


def test_disable_enable_and_role(admin, app):
    r = post(admin, "/admin/users", {"action": "disable", "name": EDITOR[0]})
    assert r.status_code == 302 and "已停用" in text(admin.get("/admin/users"))
    c = app.test_client()
    tok = with_csrf(c)
    assert c.post("/login", data={"name": EDITOR[0], "password": EDITOR[1],
                                  "csrf_token": tok}).status_code == 401
    post(admin, "/admin/users", {"action": "enable", "name": EDITOR[0]})
    post(admin, "/admin/users", {"action": "role", "name": EDITOR[0], "role": "admin"})
    login(c, EDITOR)
    assert c.get("/admin/users").status_code == 200


def test_admin_cannot_lock_themselves_out(admin):
    r = post(admin, "/admin/users", {"action": "disable", "name": ADMIN[0]})
    assert r.status_code == 400 and "不能停用自己的账号" in text(r)
    r = post(admin, "/admin/users", {"action": "role", "name": ADMIN[0], "role": "editor"})
    assert r.status_code == 400 and "不能修改自己的角色" in text(r)
    r = post(admin, "/admin/users", {"action": "passwd", "name": "ghost", "password": "long-enough"})
    assert r.status_code == 400 and "不存在" in text(r)
    r = post(admin, "/admin/users", {"action": "explode", "name": "x"})
    assert r.status_code == 400 and "未知的操作" in text(r)


def test_audit_log_shows_who_changed_what(admin):
    post(admin, "/admin/users", {"action": "add", "name": "laozhang", "role": "editor",
                                 "password": "new-pass-123", "password2": "new-pass-123"})
    post(admin, "/admin/users", {"action": "disable", "name": "laozhang"})
    page = text(admin.get("/admin/audit"))
    assert "操作记录" in page and "新建账号" in page and "停用账号" in page
    assert "user:laozhang" in page and ADMIN[0] in page
