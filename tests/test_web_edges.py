"""Clean edges (issue 11, findings 8, 9 and the header half of 10): malformed ids and
parameters are 404/400, never 500; oversized uploads get the Chinese 413 (JSON for the upload
script) at any size, also from the real waitress server; every download's Content-Disposition
is safe whatever the stored file name holds."""

from __future__ import annotations

import http.client
import re
import threading
from urllib.parse import unquote

import pytest
from conftest import ADMIN, EDITOR, QUOTES, login, make_docx, text, with_csrf
from sqlalchemy import text as sql

BIG = "99999999999999999999"  # > 2**63: SQLite cannot bind it


@pytest.fixture
def app(make_app, tmp_path):
    app = make_app(files=[make_docx(tmp_path / "金句汇编.docx", QUOTES)])
    # a crash must show as a 500 here, not as an exception in the test
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


# -- finding 9: malformed ids and parameters ----------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"/documents/{BIG}",
        f"/documents/{BIG}/download",
        f"/api/documents/{BIG}",
        f"/quotes/{BIG}",
        f"/api/quotes/{BIG}",
        "/documents/9223372036854775808",
        "/documents/" + "9" * 5000,
        "/quotes/00000000000000000000000001",
    ],
)
def test_ids_too_large_for_the_store_are_404(app, url):
    r = app.test_client().get(url)
    assert r.status_code == 404, (url, r.status_code)
    if url.startswith("/api/"):
        assert r.get_json()["error"]["status"] == 404
    else:
        assert "页面不存在" in text(r) or "找不到" in text(r)


def test_the_largest_store_id_is_still_an_ordinary_404(app):
    r = app.test_client().get("/documents/9223372036854775807")
    assert r.status_code == 404 and "找不到编号为" in text(r)


def test_every_id_route_refuses_an_oversized_id_without_a_500(app):
    """Sweep the URL map, so that a new route with an id cannot bring the 500 back."""
    c = app.test_client()
    login(c, ("guanli", "admin-pass-1"))
    rules = [r for r in app.url_map.iter_rules() if "<int:" in r.rule]
    assert len(rules) >= 12
    for rule in rules:
        url = re.sub(r"<int:\w+>", BIG, rule.rule)
        for method in rule.methods & {"GET", "POST"}:
            tok = with_csrf(c)
            r = c.open(url, method=method, data={"csrf_token": tok})
            assert r.status_code in (302, 400, 404), (method, url, r.status_code)


@pytest.mark.parametrize(
    "nxt", ["/\r\nX-Injected: 1", "/%0D%0AX-Injected:%201", "/\x00", "/editor/\x1b[31m", "/\u2028x"]
)
def test_a_next_parameter_with_control_characters_is_ignored(app, nxt):
    c = app.test_client()
    tok = with_csrf(c)
    r = c.post(
        "/login",
        data={"name": EDITOR[0], "password": EDITOR[1], "csrf_token": tok, "next": unquote(nxt)},
    )
    assert r.status_code == 302 and r.headers["Location"] == "/editor/"
    assert "X-Injected" not in r.headers
    # already signed in: GET /login sends the visitor on, to the same safe place
    r = c.get("/login", query_string={"next": unquote(nxt)})
    assert r.status_code == 302 and r.headers["Location"] == "/editor/"


def test_the_login_page_keeps_a_plain_next(app):
    c = app.test_client()
    tok = with_csrf(c)
    r = c.post(
        "/login",
        data={
            "name": EDITOR[0],
            "password": EDITOR[1],
            "csrf_token": tok,
            "next": "/editor/upload?replace=1",
        },
    )
    assert r.headers["Location"] == "/editor/upload?replace=1"


# -- finding 10 (headers): Content-Disposition ---------------------------------------------------


def _rename(app, filename: str) -> int:
    store = app.extensions["lecturelib"].svc.store
    doc = store.list_documents()[0]
    with store.engine.begin() as conn:
        conn.execute(
            sql("UPDATE versions SET filename = :f WHERE document_id = :d"),
            {"f": filename, "d": doc["id"]},
        )
    return doc["id"]


def _disposition(r) -> tuple[str, str | None]:
    """(the plain filename, the decoded filename*) of a response's Content-Disposition."""
    cd = r.headers["Content-Disposition"]
    assert cd.startswith("attachment;"), cd
    assert not re.search(r"[\x00-\x1f\x7f]", cd), repr(cd)
    plain = re.search(r'filename="([^"]*)"', cd)
    star = re.search(r"filename\*=UTF-8''([^;\s]+)", cd)
    assert plain, cd
    return plain.group(1), (unquote(star.group(1)) if star else None)


@pytest.mark.parametrize(
    "stored, shown",
    [
        ("a\x00b\x1bc.docx", "abc.docx"),
        ("evil\r\nX-Injected: 1.docx", "evil X-Injected_ 1.docx"),
        ("tab\there\x7f\x85.docx", "tab here.docx"),
        ("\u202excod.exe", "xcod.exe.docx"),
        ('quo"te\\back;semi.docx', "back;semi.docx"),
        ('say "hi" | <b>?.docx', "say _hi_ _ _b__.docx"),
        ("../../etc/passwd", "passwd.docx"),
    ],
)
def test_control_characters_never_reach_the_download_header(app, stored, shown):
    doc_id = _rename(app, stored)
    r = app.test_client().get(f"/documents/{doc_id}/download")
    assert r.status_code == 200, text(r)[:300]
    assert "X-Injected" not in r.headers
    plain, star = _disposition(r)
    assert (star or plain) == shown


def test_non_ascii_names_use_rfc_6266_filename_star_with_an_ascii_fallback(app):
    doc_id = _rename(app, "生态文明金句汇编（2024版）.docx")
    r = app.test_client().get(f"/documents/{doc_id}/download")
    plain, star = _disposition(r)
    assert star == "生态文明金句汇编（2024版）.docx"
    assert plain.isascii() and plain.endswith(".docx") and len(plain) > len(".docx")


def test_a_long_name_keeps_its_extension(app):
    doc_id = _rename(app, "讲" * 300 + ".docx")
    plain, star = _disposition(app.test_client().get(f"/documents/{doc_id}/download"))
    assert star.endswith(".docx") and star.startswith("讲") and len(star) <= 150
    assert plain.endswith(".docx")


def test_a_name_that_lost_its_extension_gets_the_format_back(app):
    doc_id = _rename(app, "讲" * 200)  # what a 200-character cut leaves behind
    plain, star = _disposition(app.test_client().get(f"/documents/{doc_id}/download"))
    assert star.endswith(".docx") and plain.endswith(".docx")


def test_every_attachment_response_is_made_safe(app):
    """Downloads built elsewhere (basket, packs) go through the same header."""
    import io

    from flask import send_file

    @app.get("/_test_attachment")
    def _attachment():
        return send_file(
            io.BytesIO(b"x"),
            as_attachment=True,
            download_name="报告\x1b[31m.docx",
            mimetype="text/plain",
        )

    plain, star = _disposition(app.test_client().get("/_test_attachment"))
    assert star == "报告[31m.docx" and plain.endswith(".docx")


# -- finding 8: 413 at any size ------------------------------------------------------------------


def _serve(app):
    from waitress import create_server

    from web import install_waitress_errors

    server = create_server(
        app,
        host="127.0.0.1",
        port=0,
        threads=2,
        ident="lecturelib",
        max_request_body_size=app.config["MAX_CONTENT_LENGTH"] + 1024,
    )
    install_waitress_errors(server, app)
    threading.Thread(target=server.run, daemon=True).start()
    return server


def _raw_post(port: int, length: int, headers: dict, send: int = 0):
    """POST announcing ``length`` bytes, sending only ``send`` of them (as a browser that is
    still uploading when the answer comes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("POST", "/editor/upload")
    conn.putheader("Content-Type", "multipart/form-data; boundary=xyz")
    conn.putheader("Content-Length", str(length))
    for k, v in headers.items():
        conn.putheader(k, v)
    conn.endheaders()
    if send:
        conn.send(b"x" * send)
    r = conn.getresponse()
    body = r.read().decode("utf-8")
    conn.close()
    return r, body


@pytest.mark.parametrize("size", [3 * 1024 * 1024, 1024**3, 50 * 1024**3])
def test_the_real_server_answers_any_oversized_upload_in_chinese(make_app, size):
    app = make_app(settings={"max_file_mb": 1})
    server = _serve(app)
    try:
        r, body = _raw_post(server.effective_port, size, {"Accept": "text/html"}, send=4096)
        assert r.status == 413
        assert r.getheader("Content-Type").startswith("text/html")
        assert "超过了大小上限" in body and "1 MB" in body and "generated by" not in body
        r, body = _raw_post(
            server.effective_port, size, {"X-Requested-With": "fetch", "Accept": "application/json"}
        )
        assert r.status == 413 and r.getheader("Content-Type") == "application/json"
        assert "超过了大小上限" in body
    finally:
        server.close()


def test_a_browser_still_uploading_reads_the_413_instead_of_a_reset(make_app):
    """Closing at once with unread upload data resets the connection; the server stops
    sending and drains the upload first, so the client sending the whole body reads the
    answer."""
    app = make_app(settings={"max_file_mb": 1})
    server = _serve(app)
    try:
        for size in (3 * 1024 * 1024, 40 * 1024 * 1024):
            conn = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=30)
            conn.request(
                "POST",
                "/editor/upload",
                body=b"x" * size,
                headers={
                    "Content-Type": "multipart/form-data; boundary=xyz",
                    "X-Requested-With": "fetch",
                },
            )
            r = conn.getresponse()
            assert r.status == 413, size
            assert "超过了大小上限" in r.read().decode("utf-8")
            conn.close()
    finally:
        server.close()


def test_the_real_server_still_serves_ordinary_requests_and_other_errors(make_app):
    app = make_app(settings={"max_file_mb": 1})
    server = _serve(app)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=30)
        conn.request("GET", "/login")
        r = conn.getresponse()
        assert r.status == 200 and "登录" in r.read().decode("utf-8")
        conn.close()
        # a broken request is still waitress's own 400
        conn = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=30)
        conn.putrequest("POST", "/login")
        conn.putheader("Content-Length", "abc")
        conn.endheaders()
        assert conn.getresponse().status == 400
        conn.close()
    finally:
        server.close()


def test_the_413_flag_cannot_be_sent_by_a_client(app):
    c = app.test_client()
    tok = login(c)
    r = c.post(
        "/editor/upload",
        data={"csrf_token": tok},
        headers={"X-Lecturelib-Body-Too-Large": "1", "X-Requested-With": "fetch"},
    )
    assert r.status_code != 413


def test_flask_413_is_chinese_for_the_upload_script(make_app):
    app = make_app(settings={"max_file_mb": 0.01})
    c = app.test_client()
    tok = login(c)
    import io

    r = c.post(
        "/editor/upload",
        data={"csrf_token": tok, "files": (io.BytesIO(b"x" * 1_200_000), "a.txt")},
        content_type="multipart/form-data",
        headers={"X-Requested-With": "fetch", "Accept": "application/json"},
    )
    assert r.status_code == 413 and "超过了大小上限" in r.get_json()["error"]["message"]


# -- a speaker is not told to run server commands ---------------------------------------------


def test_a_missing_original_tells_a_speaker_to_ask_the_admin_and_the_admin_what_to_run(app):
    lib = app.extensions["lecturelib"]
    doc = lib.svc.store.list_documents()[0]
    version = lib.svc.store.get_document(doc["id"])["version"]
    lib.svc.original_path(version["sha256"]).unlink()
    url = f"/documents/{doc['id']}/download"
    speaker = app.test_client().get(url)
    assert speaker.status_code == 404
    page = text(speaker)
    assert "原始文件不在资料库中" in page and "请联系资料库管理员处理" in page
    assert "lecturelib" not in page
    admin = app.test_client()
    login(admin, ADMIN)
    assert "lecturelib check" in text(admin.get(url))
