"""Admins: accounts and the audit log."""

from __future__ import annotations

import html
import re

import pytest
from conftest import ADMIN, EDITOR, login, post, text, with_csrf

from library.users import Users


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
    r = post(
        admin,
        "/admin/users",
        {
            "action": "add",
            "name": "xinbianji",
            "role": "editor",
            "password": "new-pass-123",
            "password2": "new-pass-123",
        },
    )
    assert r.status_code == 302
    assert "已创建账号“xinbianji”" in text(admin.get("/admin/users"))
    c = app.test_client()
    login(c, ("xinbianji", "new-pass-123"))
    assert c.get("/editor/").status_code == 200
    assert c.get("/admin/users").status_code == 403


@pytest.mark.parametrize(
    "form, message",
    [
        ({"name": "a b", "password": "long-enough", "password2": "long-enough"}, "不能含空格"),
        ({"name": "short", "password": "123", "password2": "123"}, "至少需要 8 个字符"),
        (
            {"name": "mismatch", "password": "long-enough", "password2": "other-pass"},
            "两次输入的密码不一致",
        ),
        ({"name": EDITOR[0], "password": "long-enough", "password2": "long-enough"}, "已存在"),
        (
            {
                "name": "badrole",
                "password": "long-enough",
                "password2": "long-enough",
                "role": "king",
            },
            "未知的角色",
        ),
    ],
)
def test_create_account_errors(admin, form, message):
    r = post(admin, "/admin/users", {"action": "add", "role": "editor", **form})
    assert r.status_code == 400 and message in text(r)


def test_reset_password_logs_out_old_sessions(admin, app):
    editor = app.test_client()
    login(editor, EDITOR)
    r = post(admin, "/admin/users", {"action": "passwd", "name": EDITOR[0], "password": "short"})
    assert r.status_code == 400 and "至少需要 8 个字符" in text(r)
    r = post(
        admin, "/admin/users", {"action": "passwd", "name": EDITOR[0], "password": "brand-new-pass"}
    )
    assert r.status_code == 302
    assert editor.get("/editor/").status_code == 302  # old session is over
    login(editor, (EDITOR[0], "brand-new-pass"))


def test_disable_enable_and_role(admin, app):
    r = post(admin, "/admin/users", {"action": "disable", "name": EDITOR[0]})
    assert r.status_code == 302 and "已停用" in text(admin.get("/admin/users"))
    c = app.test_client()
    tok = with_csrf(c)
    assert (
        c.post(
            "/login", data={"name": EDITOR[0], "password": EDITOR[1], "csrf_token": tok}
        ).status_code
        == 401
    )
    post(admin, "/admin/users", {"action": "enable", "name": EDITOR[0]})
    post(admin, "/admin/users", {"action": "role", "name": EDITOR[0], "role": "admin"})
    login(c, EDITOR)
    assert c.get("/admin/users").status_code == 200


def test_admin_cannot_lock_themselves_out(admin):
    r = post(admin, "/admin/users", {"action": "disable", "name": ADMIN[0]})
    assert r.status_code == 400 and "不能停用自己的账号" in text(r)
    r = post(admin, "/admin/users", {"action": "role", "name": ADMIN[0], "role": "editor"})
    assert r.status_code == 400 and "不能修改自己的角色" in text(r)
    r = post(
        admin, "/admin/users", {"action": "passwd", "name": "ghost", "password": "long-enough"}
    )
    assert r.status_code == 400 and "不存在" in text(r)
    r = post(admin, "/admin/users", {"action": "explode", "name": "x"})
    assert r.status_code == 400 and "未知的操作" in text(r)


def test_audit_log_shows_who_changed_what(admin):
    post(
        admin,
        "/admin/users",
        {
            "action": "add",
            "name": "laozhang",
            "role": "editor",
            "password": "new-pass-123",
            "password2": "new-pass-123",
        },
    )
    post(admin, "/admin/users", {"action": "disable", "name": "laozhang"})
    page = text(admin.get("/admin/audit"))
    assert "操作记录" in page
    assert f"{ADMIN[0]} 新建了账号“laozhang”（编辑）。" in page
    assert f"{ADMIN[0]} 停用了账号“laozhang”。" in page
    assert "user:laozhang" not in page


# -- issue 9: the audit log reads as sentences and names the signed-in user ----------------------

RAW = re.compile(r"\{'|': |\[\]|\{\}|/tmp/|\\\\|document:\d|quote:\d|topic:|sha256")


def sentences(page: str) -> list[str]:
    items = re.findall(
        r'<li class="doc-row audit-log__item"[^>]*>\s*<span>(.*?)</span>', page, re.S
    )
    return [html.unescape(x) for x in items]


def test_web_export_by_an_editor_is_logged_under_their_name(make_app, sample_dir):
    app = make_app(files=sorted(sample_dir.iterdir()))
    Users(app.extensions["lecturelib"].svc.store).add(
        "编辑甲", "jia-pass-123", role="editor", actor="test"
    )
    c = app.test_client()
    login(c, ("编辑甲", "jia-pass-123"))
    assert c.get("/topics/ecology/pack.zip").status_code == 200
    a = app.test_client()
    login(a, ADMIN)
    rows = sentences(text(a.get("/admin/audit")))
    export = [s for s in rows if "导出了专题包" in s]
    assert len(export) == 1
    assert re.fullmatch(
        r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d，编辑甲导出了专题包“生态文明建设”"
        r"（\d+ 份材料、\d+ 条金句、\d+ 个段落）。",
        export[0],
    ), export[0]
    assert "cli" not in export[0] and "pack-" not in export[0] and ".zip" not in export[0]


def test_every_row_is_a_sentence_never_a_raw_dict(make_app, sample_dir):
    app = make_app(files=sorted(sample_dir.iterdir()))
    store = app.extensions["lecturelib"].svc.store
    doc = next(d for d in store.list_documents() if d["kind"] == "handout")
    c = app.test_client()
    login(c)  # the editor
    post(
        c,
        f"/editor/documents/{doc['id']}/edit",
        {
            "title": "乡村振兴专题讲义（修订）",
            "kind": "handout",
            "date": "2024-03-18",
            "source": "市委宣传部",
            "topics": ["rural-revitalization"],
            "audiences": ["rural"],
        },
    )
    post(c, f"/editor/documents/{doc['id']}/trash")
    post(c, f"/editor/documents/{doc['id']}/restore")
    post(c, "/editor/dictionary", {"action": "add", "words": "雄鹰企业 两重建设"})
    a = app.test_client()
    login(a, ADMIN)
    page = text(a.get("/admin/audit"))
    rows = sentences(page)
    assert rows and all(s.endswith("。") for s in rows)
    assert not [s for s in rows if RAW.search(s)], rows
    edit = next(s for s in rows if "修改了材料" in s)
    assert "bianji 修改了材料《乡村振兴专题讲义（修订）》" in edit
    assert "标题改为“乡村振兴专题讲义（修订）”" in edit and "来源改为“市委宣传部”" in edit
    assert "日期改为“2024年3月18日”" in edit and "专题改为“乡村振兴”" in edit
    assert "宣讲对象改为“进农村”" in edit
    assert any("bianji 把《乡村振兴专题讲义（修订）》移入了回收站。" in s for s in rows)
    assert any("bianji 从回收站恢复了《乡村振兴专题讲义（修订）》。" in s for s in rows)
    assert any("bianji 向词典添加了 2 个词：雄鹰企业、两重建设。" in s for s in rows)
    # documents ingested by the test set-up, from the command line's side
    assert any(re.search(r"test 导入了材料《[^》]+》（文件“[^”]+”）。", s) for s in rows)
    assert f'href="/documents/{doc["id"]}"' in page


def test_cli_actions_name_the_command_line():
    from web.formatting import audit_sentence

    row = {
        "at": 1736900000,
        "actor": "cli",
        "action": "export",
        "target": "topic:ecology",
        "detail": {
            "title": "生态文明建设",
            "file": "/tmp/pack-abc.zip",
            "counts": {"documents": 7, "quotes": 53, "passages": 12, "sources": 0},
        },
    }
    s = audit_sentence(row)
    assert s.endswith("命令行用户导出了专题包“生态文明建设”（7 份材料、53 条金句、12 个段落）。")
    assert "/tmp" not in s
    odd = {
        "at": 1736900000,
        "actor": "guanli",
        "action": "rebuild",
        "target": "index",
        "detail": {"reason": {"words": ["甲", "乙"]}},
    }
    assert not RAW.search(audit_sentence(odd)) and "{" not in audit_sentence(odd)


def test_a_cancelled_upload_reads_as_a_sentence():
    from web.formatting import ACTIONS, audit_sentence

    row = {
        "at": 1736900000,
        "actor": "bianji",
        "action": "cancel_upload",
        "target": "upload:abc123",
        "detail": {"file": "扫描讲义.pdf"},
    }
    assert ACTIONS["cancel_upload"] == "取消上传"
    assert audit_sentence(row).endswith("bianji 取消了正在处理的上传文件“扫描讲义.pdf”。")
