"""Issue 15, part 5: the small things. A session that ended says why on the login page; the
exported basket is named from the typed title and its title paragraph uses Word's Title style;
a skip link to the results; the quote page has an <h1>; /favicon.ico answers; docs/WEB.md
describes roles and rebuilds. (Esc in the search box: tests/test_browser_editor.py.)"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from urllib.parse import unquote

import docx
import pytest
from conftest import ADMIN, EDITOR, login, post, text

DOCS = Path(__file__).resolve().parents[1] / "docs" / "WEB.md"


@pytest.fixture
def app(make_app, sample_dir):
    return make_app(files=sorted(sample_dir.iterdir()))


def follow_to_login(c, url="/editor/") -> str:
    r = c.get(url)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login"), r.status_code
    return text(c.get(r.headers["Location"]))


def test_an_editor_whose_password_was_reset_is_told_why(app):
    editor = app.test_client()
    login(editor, EDITOR)
    admin = app.test_client()
    login(admin, ADMIN)
    post(
        admin, "/admin/users", {"action": "passwd", "name": EDITOR[0], "password": "brand-new-pass"}
    )
    page = follow_to_login(editor)
    assert "您的密码已被重置" in page and "请用新密码重新登录" in page
    # told once
    assert "您的密码已被重置" not in text(editor.get("/login"))


def test_an_editor_whose_account_was_disabled_is_told_why(app):
    editor = app.test_client()
    login(editor, EDITOR)
    admin = app.test_client()
    login(admin, ADMIN)
    post(admin, "/admin/users", {"action": "disable", "name": EDITOR[0]})
    assert "您的账号已被管理员停用" in follow_to_login(editor)


def test_signing_out_elsewhere_and_idling_say_so_too(app):
    from web import security

    laptop, phone = app.test_client(), app.test_client()
    login(laptop, EDITOR)
    login(phone, EDITOR)
    post(phone, "/logout")
    assert "您已在其他设备或浏览器窗口退出登录" in follow_to_login(laptop)
    login(laptop, EDITOR)
    real = security._now
    try:
        security._now = lambda: real() + app.config["SESSION_IDLE_TIMEOUT"] + 5
        assert "没有操作，已自动退出登录" in follow_to_login(laptop)
    finally:
        security._now = real


def export(app, title: str):
    c = app.test_client()
    hit = app.extensions["lecturelib"].search("绿水青山", kind="quote")["hits"][0]
    return post(c, "/basket/export", {"items": json.dumps([hit["id"]]), "title": title})


def filename(r) -> str:
    cd = r.headers["Content-Disposition"]
    m = re.search(r"filename\*=UTF-8''([^;]+)", cd)
    return unquote(m.group(1)) if m else re.search(r'filename="([^"]+)"', cd).group(1)


def test_the_exported_basket_is_named_from_its_title_in_the_title_style(app):
    r = export(app, "乡村振兴宣讲稿（端州区）")
    assert r.status_code == 200
    assert filename(r) == "乡村振兴宣讲稿（端州区）.docx"
    d = docx.Document(io.BytesIO(r.data))
    first = d.paragraphs[0]
    assert first.text == "乡村振兴宣讲稿（端州区）" and first.style.name == "Title"
    assert d.core_properties.title == "乡村振兴宣讲稿（端州区）"
    # no title typed: the default title names the file
    assert filename(export(app, "")) == "讲稿素材.docx"
    # a title that is no file name is cleaned, not refused
    assert filename(export(app, "a/b:c?")) == "b_c_.docx"


def test_a_skip_link_leads_past_the_filters_to_the_results(app):
    page = text(app.test_client().get("/search?q=乡村振兴"))
    m = re.search(r'<a class="skip" href="#([\w-]+)"[^>]*>跳到检索结果</a>', page)
    assert m and f'id="{m.group(1)}"' in page
    # it comes before the facet links and the results in the page
    assert page.index("跳到检索结果") < page.index('class="facets"') < page.index("data-hit=")
    none = text(app.test_client().get("/search?q=没有这样的内容啊啊"))
    assert "跳到检索结果" not in none
    assert "跳到检索结果" not in text(app.test_client().get("/"))


def test_the_quote_page_has_a_heading(app):
    hit = app.extensions["lecturelib"].search("绿水青山", kind="quote")["hits"][0]
    page = text(app.test_client().get(f"/quotes/{hit['id'][2:]}"))
    h1 = re.findall(r"<h1\b[^>]*>(.*?)</h1>", page, re.S)
    assert len(h1) == 1 and "绿水青山" in h1[0]


@pytest.mark.parametrize("settings", [None, {"require_login": True}])
def test_favicon_does_not_404(make_app, settings):
    app = make_app(settings=settings)
    c = app.test_client()
    r = c.get("/favicon.ico")
    assert r.status_code == 200
    assert r.mimetype in ("image/vnd.microsoft.icon", "image/x-icon", "image/svg+xml")
    assert r.data[:4] == b"\x00\x00\x01\x00" and b"PNG" in r.data[:40]
    from PIL import Image

    assert Image.open(io.BytesIO(r.data)).size == (32, 32)
    assert 'rel="icon"' in text(c.get("/login"))


def test_docs_describe_roles_and_rebuilds():
    doc = DOCS.read_text(encoding="utf-8")
    assert "读者" in doc and "reader" in doc
    roles = doc[doc.index("## Roles") :]
    for role in ("reader", "editor", "admin"):
        assert role in roles
    assert "searches answer 503" not in doc
    assert "old index" in doc and "swap" in doc
    assert "/admin/users" in doc and "CSV" in doc
    assert "该内容已被永久删除" in doc


def test_an_estimated_page_count_offers_no_jump_to_a_last_page_that_may_not_exist():
    from web.searchparams import SearchParams, page_links

    params = SearchParams(q="中国", page=3)
    params.url = lambda **kw: f"?page={kw['page']}"  # no request needed
    exact = [p["n"] for p in page_links(params, 40) if p]
    rough = [p["n"] for p in page_links(params, 40, estimate=True) if p]
    assert exact[-1] == 40 and 40 not in rough and rough == [1, 2, 3, 4, 5]
