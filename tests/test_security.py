"""Security sweeps over the whole URL map: every editor and admin route is closed to anonymous
visitors (and admin routes to editors), every form refuses a missing CSRF token (and a token
from another session or another site; the token works across server processes), hostile text in
titles, quotes, file names and queries is rendered inert, downloads cannot leave the originals."""

from __future__ import annotations

import io
import re

import pytest
from conftest import ADMIN, EDITOR, login, make_docx, with_csrf


def _url(rule) -> str:
    return re.sub(r"<(?:int:)?(\w+)>", lambda m: "1" if "int:" in m.group(0) else "x", rule.rule)


def _rules(app, prefix_test):
    return [r for r in app.url_map.iter_rules() if prefix_test(r.rule) and r.endpoint != "static"]


PRIVATE = lambda rule: rule.startswith(("/editor", "/admin"))  # noqa: E731


def test_every_editor_and_admin_route_is_closed_to_anonymous_visitors(sample_app):
    c = sample_app.test_client()
    rules = _rules(sample_app, PRIVATE)
    assert len(rules) >= 15
    for rule in rules:
        for method in rule.methods & {"GET", "POST"}:
            tok = with_csrf(c)
            r = c.open(_url(rule), method=method, data={"csrf_token": tok})
            assert r.status_code in (302, 401), (method, rule.rule, r.status_code)
            assert "/login" in r.headers.get("Location", ""), rule.rule


def test_every_admin_route_is_refused_to_editors(sample_app):
    c = sample_app.test_client()
    login(c, EDITOR)
    admin_rules = _rules(sample_app, lambda r: r.startswith("/admin"))
    admin_rules += [r for r in sample_app.url_map.iter_rules() if r.endpoint == "editor.purge"]
    assert admin_rules
    for rule in admin_rules:
        for method in rule.methods & {"GET", "POST"}:
            tok = with_csrf(c)
            r = c.open(_url(rule), method=method, data={"csrf_token": tok})
            assert r.status_code == 403, (method, rule.rule, r.status_code)


def test_every_form_refuses_a_missing_csrf_token(sample_app):
    c = sample_app.test_client()
    login(c, ADMIN)
    posts = [r for r in sample_app.url_map.iter_rules() if "POST" in r.methods]
    assert len(posts) >= 10
    for rule in posts:
        r = c.post(_url(rule), data={"name": "x", "password": "y" * 10})
        assert r.status_code == 400, (rule.rule, r.status_code)


def _page_token(client, url="/login") -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_form_from_one_server_process_is_accepted_by_another(tmp_path, monkeypatch):
    """gunicorn's pre-forked workers: each builds its own app over the same home, and a form
    shown by one is posted to another (the signing key is the home's secret_key file)."""
    from library.users import Users
    from web import create_app

    monkeypatch.delenv("LECTURELIB_SECRET_KEY", raising=False)
    home = tmp_path / "home"
    first, second = (create_app({"LECTURELIB_HOME": str(home), "TESTING": True}) for _ in range(2))
    try:
        Users(first.extensions["lecturelib"].svc.store).add(*EDITOR, role="editor", actor="t")
        a, b = first.test_client(), second.test_client()
        tok = _page_token(a)
        name = first.config["SESSION_COOKIE_NAME"]
        b.set_cookie(name, a.get_cookie(name).value)
        r = b.post("/login", data={"name": EDITOR[0], "password": EDITOR[1], "csrf_token": tok})
        assert r.status_code == 302 and "/login" not in r.headers["Location"]
    finally:
        for app in (first, second):
            app.extensions["lecturelib"].close()


def test_a_token_from_another_session_is_refused_with_the_chinese_page(make_app):
    app = make_app()
    mine, theirs = app.test_client(), app.test_client()
    tok = _page_token(theirs)
    mine.get("/login")  # a session with its own token
    r = mine.post("/login", data={"name": EDITOR[0], "password": EDITOR[1], "csrf_token": tok})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "安全校验未通过" in page and "请刷新页面后重新提交" in page
    # a fetch call gets the same refusal as JSON
    r = mine.post(
        "/basket/export", data={"items": '["q:1"]'}, headers={"X-Requested-With": "fetch"}
    )
    assert r.status_code == 400
    assert "安全校验未通过" in r.get_json()["error"]["message"]


def test_the_token_may_come_in_a_header(make_app):
    app = make_app()
    for header in ("X-CSRFToken", "X-CSRF-Token"):
        c = app.test_client()
        tok = _page_token(c)
        r = c.post("/login", data={"name": EDITOR[0], "password": EDITOR[1]}, headers={header: tok})
        assert r.status_code == 302, header


def test_the_token_outlives_an_hour_while_the_session_lasts(make_app):
    """The token has no clock of its own: a form left open for hours still posts (the
    session's idle and absolute limits decide, see test_sessions)."""
    import time as _time

    app = make_app()
    c = app.test_client()
    tok = _page_token(c)
    real = _time.time
    try:
        _time.time = lambda: real() + 5 * 3600  # itsdangerous reads time.time
        r = c.post("/login", data={"name": EDITOR[0], "password": EDITOR[1], "csrf_token": tok})
    finally:
        _time.time = real
    assert r.status_code == 302


def test_over_https_a_post_from_another_site_is_refused(make_app):
    """Flask-WTF's strict referrer check over HTTPS: a valid token is not enough when the
    request comes from another site's page (our pages send a same-origin Referer)."""
    app = make_app()
    c = app.test_client()
    tok = _page_token(c, "https://localhost/login")
    form = {"name": EDITOR[0], "password": EDITOR[1], "csrf_token": tok}
    r = c.post(
        "https://localhost/login", data=form, headers={"Referer": "https://evil.example/login"}
    )
    assert r.status_code == 400 and "安全校验未通过" in r.get_data(as_text=True)
    r = c.post("https://localhost/login", data=form, headers={"Referer": "https://localhost/login"})
    assert r.status_code == 302


def test_hostile_text_in_titles_quotes_file_names_and_queries_is_inert(make_app, tmp_path):
    payload = "<script>alert(1)</script>"
    f = make_docx(
        tmp_path / '"><img src=x onerror=alert(2)>.docx',
        [
            ("t", f"金句汇编{payload}"),
            ("h", "一、<svg onload=alert(3)>"),
            ("p", f"“民惟邦本，本固邦宁。{payload}”"),
            ("p", "——《尚书·五子之歌》<iframe src=javascript:alert(4)>"),
        ],
    )
    app = make_app(files=[f])
    c = app.test_client()
    lib = app.extensions["lecturelib"]
    doc = lib.svc.store.list_documents()[0]
    quote_id = (
        lib.svc.store.get_document(doc["id"])["quotes"][0]["id"]
        if lib.svc.store.get_document(doc["id"])["quotes"]
        else None
    )
    login(c, EDITOR)
    pages = [
        "/",
        "/search?q=" + payload,
        "/search?q=民惟邦本",
        f"/documents/{doc['id']}",
        "/editor/",
        f"/editor/documents/{doc['id']}/edit",
        "/search?q=%22%3E%3Cimg+src%3Dx+onerror%3Dalert(5)%3E",
    ]
    if quote_id:
        pages.append(f"/quotes/{quote_id}")
    # the JSON API carries the text as data; only the highlight is HTML, and it is escaped
    r = c.get("/api/search?q=民惟邦本")
    assert r.mimetype == "application/json"
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    hit = r.get_json()["hits"][0]
    assert "<script>" not in hit["highlight"] and "&lt;script&gt;" in hit["highlight"]
    for url in pages:
        body = c.get(url).get_data(as_text=True)
        for bad in ("<script>alert", "<img src=x", "<svg onload", "<iframe src=javascript"):
            assert bad not in body, (url, bad)


@pytest.mark.parametrize(
    "url",
    [
        "/documents/1/download?version=../../etc/passwd",
        "/documents/..%2F..%2Fetc%2Fpasswd/download",
        "/documents/1/download/../../../../etc/passwd",
        "/static/../../library.sqlite3",
        "/static/%2e%2e/%2e%2e/library.sqlite3",
    ],
)
def test_downloads_cannot_leave_the_originals_folder(client, url):
    r = client.get(url)
    # a non-numeric version is ignored (the current original is served) or the URL is refused
    assert r.status_code in (200, 400, 404), (url, r.status_code)
    assert b"root:" not in r.data and b"SQLite format" not in r.data


def test_upload_file_name_cannot_choose_where_the_file_goes(make_app, tmp_path):
    app = make_app()
    c = app.test_client()
    tok = login(c, EDITOR)
    data = make_docx(
        tmp_path / "a.docx", [("p", "一篇正常的讲义，用来检查文件名。" * 5)]
    ).read_bytes()
    r = c.post(
        "/editor/upload",
        data={"csrf_token": tok, "files": (io.BytesIO(data), "../../../evil.docx")},
        content_type="multipart/form-data",
        headers={"X-Requested-With": "fetch"},
    )
    assert r.status_code == 200
    home = app.extensions["lecturelib"].svc.home.path
    assert not (home.parent / "evil.docx").exists()
    assert not any(p.name == "evil.docx" for p in home.parent.rglob("evil.docx"))
