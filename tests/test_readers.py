"""Issue 15, part 4: a reader role. 读者 accounts (one by one, or in bulk from a CSV for a
district's speakers) can search, read, use the basket and download topic packs when the
library requires a login, and nothing else; the login page speaks to everyone."""

from __future__ import annotations

import io
import json
import re

import pytest
from conftest import ADMIN, EDITOR, login, post, text, with_csrf

from library.errors import UsageError
from library.users import ROLES, Users

READER = ("duzhe", "reader-pass-1")

EDITOR_PAGES = [
    "/editor/",
    "/editor/upload",
    "/editor/dictionary",
    "/editor/synonyms",
    "/editor/import",
    "/editor/documents/1/edit",
    "/editor/quotes/1/edit",
]
ADMIN_PAGES = ["/admin/users", "/admin/audit"]


@pytest.fixture
def app(make_app, sample_dir):
    a = make_app(
        files=sorted(sample_dir.iterdir()), settings={"require_login": True, "public_export": True}
    )
    Users(a.extensions["lecturelib"].svc.store).add(*READER, role="reader", actor="test")
    return a


@pytest.fixture
def reader(app):
    c = app.test_client()
    login(c, READER)
    return c


def store(app):
    return app.extensions["lecturelib"].svc.store


def test_reader_is_a_role():
    assert ROLES["reader"] == "读者"
    assert list(ROLES) == ["reader", "editor", "admin"]


def test_with_require_login_a_visitor_is_sent_to_the_login_page(app):
    c = app.test_client()
    for url in ["/", "/search?q=绿水青山", "/basket", "/topics/ecology/pack.zip"]:
        r = c.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url
    assert c.get("/api/search?q=绿水青山").status_code == 401


def test_a_reader_lands_on_the_home_page_not_the_editors_dashboard(app):
    c = app.test_client()
    tok = with_csrf(c)
    r = c.post("/login", data={"name": READER[0], "password": READER[1], "csrf_token": tok})
    assert r.status_code == 302 and r.headers["Location"] == "/"
    page = text(c.get("/"))
    assert "退出（duzhe）" in page
    assert "管理材料" not in page and ">上传<" not in page and ">账号<" not in page


def test_a_reader_can_search_read_use_the_basket_and_download_packs(app, reader):
    assert "绿水青山" in text(reader.get("/search?q=绿水青山"))
    data = reader.get("/api/search?q=绿水青山").get_json()
    assert data["total"] >= 1
    hit = data["hits"][0]
    doc_id = hit["document"]["id"]
    page = text(reader.get(f"/documents/{doc_id}"))
    assert reader.get(f"/documents/{doc_id}").status_code == 200
    assert "编辑信息" not in page and "上传新版本" not in page and "移入回收站" not in page
    assert reader.get(f"/documents/{doc_id}/download").status_code == 200
    qpage = reader.get(f"/quotes/{hit['id'][2:]}")
    assert qpage.status_code == 200 and "/edit" not in text(qpage)
    assert reader.get("/basket").status_code == 200
    r = post(reader, "/basket/export", {"items": json.dumps([hit["id"]]), "title": "我的讲稿"})
    assert r.status_code == 200 and r.data[:2] == b"PK"
    r = reader.get("/topics/ecology/pack.zip")
    assert r.status_code == 200 and r.data[:2] == b"PK"


def test_a_reader_can_do_nothing_else(app, reader):
    for url in EDITOR_PAGES + ADMIN_PAGES:
        r = reader.get(url)
        assert r.status_code == 403 and "没有权限" in text(r), url
    doc = store(app).list_documents()[0]
    for url in [
        f"/editor/documents/{doc['id']}/trash",
        f"/editor/documents/{doc['id']}/purge",
        "/editor/upload",
        "/editor/dictionary",
        "/admin/users",
    ]:
        assert post(reader, url, {"action": "add", "words": "新词"}).status_code == 403, url
    assert store(app).get_document_row(doc["id"])["status"] == "active"
    # no old versions, no trash
    assert reader.get(f"/documents/{doc['id']}/download?version=1").status_code == 404
    editor = app.test_client()
    login(editor, EDITOR)
    post(editor, f"/editor/documents/{doc['id']}/trash")
    assert reader.get(f"/documents/{doc['id']}").status_code == 404


def test_the_login_page_speaks_to_everyone(make_app):
    app = make_app()
    page = text(app.test_client().get("/login"))
    h1 = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)
    assert "编辑" not in h1 and "登录" in h1
    assert "编辑登录" not in page
    assert "lecturelib" not in page and "user add" not in page
    assert "读者" in page or "宣讲员" in page
    # the link in the header says 登录 too
    home = text(app.test_client().get("/"))
    link = re.search(r'<a href="/login"[^>]*>(.*?)</a>', home).group(1)
    assert link == "登录"


def test_admins_create_readers_and_change_roles(app):
    a = app.test_client()
    login(a, ADMIN)
    page = text(a.get("/admin/users"))
    assert '<option value="reader"' in page and "读者" in page
    r = post(
        a,
        "/admin/users",
        {
            "action": "add",
            "name": "xuanjiang",
            "role": "reader",
            "password": "speaker-pass-1",
            "password2": "speaker-pass-1",
        },
    )
    assert r.status_code == 302
    assert Users(store(app)).get("xuanjiang")["role"] == "reader"
    post(a, "/admin/users", {"action": "role", "name": EDITOR[0], "role": "reader"})
    c = app.test_client()
    login(c, EDITOR)
    assert c.get("/editor/").status_code == 403


# -- bulk creation from a CSV ----------------------------------------------------------------------

CSV = "用户名,密码\n端州-张三\n端州-李四,lisi-pass-2025\n\n鼎湖-王五\n"


def test_import_csv_creates_readers_with_generated_passwords(app):
    u = Users(store(app))
    results = u.import_csv(CSV, actor="guanli")
    assert [(r["name"], r["status"]) for r in results] == [
        ("端州-张三", "created"),
        ("端州-李四", "created"),
        ("鼎湖-王五", "created"),
    ]
    gen = {r["name"]: r["password"] for r in results}
    assert gen["端州-李四"] is None  # given in the file: not shown again
    assert len(gen["端州-张三"]) >= 10 and gen["端州-张三"] != gen["鼎湖-王五"]
    assert u.authenticate("端州-张三", gen["端州-张三"])["role"] == "reader"
    assert u.authenticate("端州-李四", "lisi-pass-2025") is not None
    # the same file again changes nothing
    again = u.import_csv(CSV, actor="guanli")
    assert {r["status"] for r in again} == {"exists"}
    assert u.authenticate("端州-张三", gen["端州-张三"]) is not None
    log = [r for r in store(app).audit_log() if r["action"] == "user_add"]
    assert {r["target"] for r in log} >= {"user:端州-张三", "user:鼎湖-王五"}


@pytest.mark.parametrize(
    "data, message",
    [
        ("张 三\n李四", "第 1 行"),
        ("名字\n李四,short", "第 2 行"),
        ("李四\n王五\n李四", "与第 1 行重名"),
        ("\n\n", "没有账号"),
    ],
)
def test_import_csv_checks_every_line_before_creating_any(app, data, message):
    u = Users(store(app))
    before = len(u.list())
    with pytest.raises(UsageError) as e:
        u.import_csv(data)
    assert message in str(e.value)
    assert len(u.list()) == before


def test_the_admin_page_imports_a_csv_and_shows_the_passwords_once(app):
    a = app.test_client()
    login(a, ADMIN)
    data = CSV.encode("gb18030")  # as Excel saves it
    r = post(
        a,
        "/admin/users",
        {"action": "import", "role": "reader", "csv": (io.BytesIO(data), "speakers.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200
    page = text(r)
    assert "已创建 3 个账号" in page and "只在本页显示这一次" in page
    m = re.search(r"端州-张三,([A-Za-z0-9]{10})", page)
    assert m
    c = app.test_client()
    login(c, ("端州-张三", m.group(1)))
    assert c.get("/").status_code == 200 and c.get("/editor/").status_code == 403
    # pasted text works too, and a bad line names itself
    r = post(a, "/admin/users", {"action": "import", "role": "reader", "rows": "赵 六"})
    assert r.status_code == 400 and "第 1 行" in text(r)
    assert "赵 六" in text(r)  # the box keeps what was typed
