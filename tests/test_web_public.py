"""What a speaker sees: home, search with facets and pagination, topic, document, quote pages,
downloads, the basket export — over a real library built in tmp_path."""

from __future__ import annotations

import io
import re

import docx
import pytest
from conftest import post, text, with_csrf

# each test runs on SQLite + Whoosh and on PostgreSQL (store and search; tests/conftest.py)
pytestmark = pytest.mark.both_databases


def doc_id(app, title_part: str) -> int:
    docs = app.extensions["lecturelib"].svc.store.list_documents()
    return next(d["id"] for d in docs if title_part in d["title"])


def quote_id(app, text_part: str) -> int:
    res = app.extensions["lecturelib"].search(text_part, kind="quote")
    return int(res["hits"][0]["id"][2:])


def test_home_shows_search_box_topic_tiles_latest_and_quote_of_the_day(client, sample_app):
    r = client.get("/")
    assert r.status_code == 200
    page = text(r)
    assert 'role="combobox"' in page and 'data-suggest-url="/api/suggest"' in page
    for name in ("形势政策教育", "新时代新肇庆", "干部素质能力提升", "全面依法治国", "乡村振兴"):
        assert name in page
    assert len(re.findall(r'class="tile"', page)) == 10
    assert "1 份材料" in page  # 乡村振兴 tile counts its handout
    assert "每日金句" in page
    assert "乡村振兴专题讲义" in page  # latest material
    assert "3 份材料 · 3 条金句" in page


def test_search_shows_highlighted_quote_with_source_and_copy_citation(client):
    r = client.get("/search?q=绿水青山")
    page = text(r)
    assert r.status_code == 200
    assert "<mark>绿水青山</mark>就是金山银山" in page
    assert "——习近平在浙江安吉余村考察时的讲话（2005年8月15日）" in page
    assert (
        'data-copy="“绿水青山就是金山银山。” ——习近平在浙江安吉余村考察时的讲话（2005年8月15日）"'
    ) in page
    assert "1 条结果" in page
    assert "引号" in page  # the query syntax in one line


def test_search_facets_have_counts_and_toggle_links(client):
    page = text(client.get("/search?q=乡村振兴 OR 初心"))
    assert 'data-facet="kind:quote"' in page and 'data-facet="kind:passage"' in page
    m = re.search(r'href="([^"]+)"\s+data-facet="kind:quote"', page)
    assert m
    url = m.group(1).replace("&amp;", "&")
    assert "kind=quote" in url
    narrowed = text(client.get(url))
    assert 'aria-current="true" data-facet="kind:quote"' in narrowed
    assert "不忘初心" in narrowed and "合作社" not in narrowed
    # toggling the selected value again removes the filter
    m2 = re.search(r'href="([^"]+)"\s+aria-current="true" data-facet="kind:quote"', narrowed)
    assert "kind=" not in m2.group(1)


def test_search_by_topic_name_and_year_filters(client):
    page = text(client.get("/search?q=&topic=生态文明建设"))
    assert "绿水青山" in page
    page = text(client.get("/search?q=习近平&year=2012"))
    assert "美好生活" in page and "绿水青山" not in page


def test_search_pagination_and_sort_links(client):
    page = text(client.get("/search?q=的&sort=date"))
    assert 'aria-current="true">按日期' in page
    assert "按相关度" in page
    r = client.get("/search?q=的&page=999")
    assert r.status_code == 200


def test_search_with_no_result_offers_advice(client):
    page = text(client.get("/search?q=量子计算机芯片"))
    assert "没有找到" in page and "换一种说法" in page


def test_search_query_error_is_shown_in_chinese(client):
    r = client.get("/search?q=topic:不存在的专题 绿水")
    assert r.status_code == 200
    assert "没有名为“不存在的专题”的专题" in text(r)


def test_search_empty_query_asks_for_words(client):
    assert "请输入要查找的字词" in text(client.get("/search"))


def test_search_escapes_the_query_everywhere(client):
    page = text(client.get("/search?q=<script>alert(1)</script>"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_topic_page_lists_quotes_and_materials_by_kind(client):
    page = text(client.get("/topics/ecology"))
    assert "生态文明建设" in page and "绿水青山就是金山银山" in page
    assert "金句汇编（1）" in page and "讲义（0）" in page
    page = text(client.get("/topics/乡村振兴"))
    assert "乡村振兴专题讲义" in page
    assert client.get("/topics/nope").status_code == 404


def test_document_page_shows_outline_passages_pages_and_download(client, sample_app):
    d = doc_id(sample_app, "乡村振兴")
    page = text(client.get(f"/documents/{d}"))
    assert "目录" in page and "（一）产业兴旺是重点" in page
    assert 'href="#h-（一）产业兴旺是重点"' in page and 'id="h-（一）产业兴旺是重点"' in page
    assert "合作社带动村民增收致富" in page
    assert f"/documents/{d}/download" in page
    pdf = doc_id(sample_app, "法治")
    page = text(client.get(f"/documents/{pdf}"))
    assert "第 2 页" in page and "枫桥经验" in page
    assert client.get("/documents/999999").status_code == 404


def test_download_returns_the_original_by_id(client, sample_app, sample_dir):
    d = doc_id(sample_app, "乡村振兴")
    r = client.get(f"/documents/{d}/download")
    assert r.status_code == 200
    assert r.data == (sample_dir / "乡村振兴讲义.docx").read_bytes()
    assert "attachment" in r.headers["Content-Disposition"]
    # no way to name a path: ids only, and version numbers are for editors
    assert client.get("/documents/..%2F..%2Fetc%2Fpasswd/download").status_code == 404
    assert client.get(f"/documents/{d}/download?version=1").status_code == 404


def test_quote_page_lists_documents_citing_it_and_similar(client, sample_app):
    q = quote_id(sample_app, "绿水青山")
    page = text(client.get(f"/quotes/{q}"))
    assert "被 1 份材料引用" in page
    assert "生态文明与初心使命金句汇编" in page
    assert "复制（含出处）" in page
    assert client.get("/quotes/999999").status_code == 404


def test_basket_page_renders_for_script(client):
    page = text(client.get("/basket"))
    assert "data-basket-list" in page and "导出 Word" in page


def test_basket_export_writes_docx_with_sources(client, sample_app):
    q = quote_id(sample_app, "绿水青山")
    pid = app_passage_id(sample_app, "枫桥")
    r = post(
        client,
        "/basket/export",
        {"items": f'["p:{pid}", "q:{q}", "q:{q}", "bogus"]', "title": "我的讲稿"},
    )
    assert r.status_code == 200
    assert r.mimetype.endswith("wordprocessingml.document")
    d = docx.Document(io.BytesIO(r.data))
    paras = [p.text for p in d.paragraphs]
    body = "\n".join(paras)
    assert paras[0] == "我的讲稿"
    assert body.index("枫桥经验") < body.index("绿水青山就是金山银山")  # basket order kept
    assert "——习近平在浙江安吉余村考察时的讲话（2005年8月15日）" in body
    assert "第 2 页" in body
    tail = body[body.index("参考来源") :]
    assert "《生态文明与初心使命金句汇编》" in tail
    assert body.count("绿水青山就是金山银山") == 1  # de-duplicated


def app_passage_id(app, text_part: str) -> int:
    res = app.extensions["lecturelib"].search(text_part, kind="passage")
    return int(res["hits"][0]["id"][2:])


def test_basket_export_errors(client):
    r = post(client, "/basket/export", {"items": "[]"})
    assert r.status_code == 400 and "讲稿篮是空的" in text(r)
    r = post(client, "/basket/export", {"items": '["q:999999"]'})
    assert r.status_code == 400 and "已不在资料库中" in text(r)
    with_csrf(client)
    r = client.post("/basket/export", data={"items": '["q:1"]', "csrf_token": "wrong"})
    assert r.status_code == 400 and "安全校验未通过" in text(r)


def test_pages_set_security_headers(client):
    r = client.get("/")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]


def test_unknown_page_is_a_chinese_404(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "页面不存在" in text(r)


def test_user_text_is_escaped_on_every_page(make_app, tmp_path):
    from conftest import make_docx

    f = make_docx(
        tmp_path / "x.docx",
        [
            ("t", "<b>标题</b>测试材料"),
            ("p", "一、<script>alert('x')</script>危险的段落"),
            (
                "p",
                "这是一段包含<img src=x onerror=alert(1)>标记与枫桥经验的正文内容，用来检查转义。"
                * 2,
            ),
        ],
    )
    app = make_app(files=[f])
    c = app.test_client()
    for url in ("/search?q=枫桥经验", "/", f"/documents/{doc_id(app, '测试材料')}"):
        page = text(c.get(url))
        assert "<img src=x" not in page and "<script>alert" not in page, url
        assert "&lt;img src=x" in page or "&lt;b&gt;" in page, url


def test_require_login_setting_closes_the_public_side(make_app, sample_dir):
    app = make_app(files=[sample_dir / "金句汇编.docx"], settings={"require_login": True})
    c = app.test_client()
    r = c.get("/search?q=绿水")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert c.get("/api/search?q=绿水").status_code == 401
    assert c.get("/login").status_code == 200
    from conftest import login

    login(c)
    assert "绿水青山" in text(c.get("/search?q=绿水"))


def test_static_assets_are_served(client):
    css = client.get("/static/style.css")
    js = client.get("/static/app.js")
    assert css.status_code == 200 and "#b71c1c" in css.get_data(as_text=True)
    assert js.status_code == 200 and "lecturelib.basket" in js.get_data(as_text=True)
