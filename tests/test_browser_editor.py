"""Issue 15 in a real browser (Playwright driving Debian's chromium against a live waitress
server over a library built in tmp_path), where a person would see it:

1. a basket item whose quote was purged (and whose id the old code gave to the next document's
   quote) says “该内容已被永久删除” on the basket page and in the export, and never turns into
   another quote;
2. the replace preview (上传新版本) starts from the document's current metadata, shows what the
   new file suggests beside it, and publishing it unchanged keeps that metadata;
3. Esc in the search box closes the suggestions and keeps the query;
4. a skip link takes keyboard users past the filters to the first result.
"""

from __future__ import annotations

import pytest
from browserkit import browser, live_server, sync_api  # noqa: F401
from builders import TRAD_QUOTES_DOC as TRAD
from conftest import ADMIN, EDITOR, HANDOUT, QUOTES, _build_app, make_docx

expect = sync_api.expect
PURGED = "该内容已被永久删除"

OTHER = [
    ("h", "法治建设金句选编"),
    ("h", "一、法治"),
    ("p", "1. 法律是治国之重器，良法是善治之前提。"),
    ("p", "——在党的十八届四中全会第二次全体会议上的讲话（2014年10月23日）"),
    ("p", "2. 奉法者强则国强，奉法者弱则国弱。"),
    ("p", "——《韩非子·有度》"),
]


@pytest.fixture
def live(tmp_path):
    """A live server over its own library (the journeys change it); yields (url, app)."""
    src = tmp_path / "src"
    files = [
        make_docx(src / "生态文明金句汇编.docx", QUOTES),
        make_docx(src / "乡村振兴讲义.docx", HANDOUT),
        make_docx(src / "传统文化金句.docx", TRAD),
    ]
    app = _build_app(tmp_path / "home", files)
    with live_server(app) as url:
        yield url, app
    app.extensions["lecturelib"].close()


def sign_in(page, url, who):
    page.goto(url + "/login")
    page.fill("#name", who[0])
    page.fill("#password", who[1])
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/editor/")


def test_a_purged_basket_item_says_so_and_never_becomes_another_quote(live, browser, tmp_path):
    url, app = live
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    # a speaker keeps the newest quote (it has the highest id) in the basket
    page.goto(url + "/search?q=位卑未敢忘忧国")
    page.locator(".hit [data-basket-add]").first.click()
    expect(page.locator("[data-basket-count]")).to_have_text("1")

    # an admin trashes and purges its compilation in another window
    admin = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    ap = admin.new_page()
    sign_in(ap, url, ADMIN)
    store = app.extensions["lecturelib"].svc.store
    doc_id = next(d["id"] for d in store.list_documents() if "传统文化" in d["title"])
    ap.goto(f"{url}/documents/{doc_id}")
    ap.click("text=移入回收站")
    ap.wait_for_url("**/editor/")
    ap.once("dialog", lambda d: d.accept())
    ap.click("button:has-text('彻底删除')")
    expect(ap.locator(".flash")).to_contain_text("已彻底删除")
    admin.close()
    # and an editor publishes another compilation
    app.extensions["lecturelib"].svc.ingest(
        [make_docx(tmp_path / "法治金句.docx", OTHER)], actor="bianji"
    )

    page.goto(url + "/basket")
    item = page.locator("[data-basket-item]")
    expect(item).to_have_count(1)
    expect(item.first).to_contain_text(f"{PURGED}，不会导出")
    expect(item.first).to_contain_text("位卑未敢忘忧国")
    expect(item.first).not_to_contain_text("法律是治国之重器")
    expect(item.first).not_to_contain_text("奉法者强")
    expect(page.locator("[data-basket-missing]")).to_contain_text("1 条已被删除，未导出")
    # a shared link to the quote says so too
    qid = page.locator("[data-basket-item]").first.get_attribute("data-basket-item")[2:]
    page.goto(f"{url}/quotes/{qid}")
    expect(page.locator("h1")).to_contain_text(PURGED)
    ctx.close()


def test_the_replace_preview_starts_from_the_documents_metadata(live, browser, tmp_path):
    url, app = live
    store = app.extensions["lecturelib"].svc.store
    doc_id = next(d["id"] for d in store.list_documents() if d["kind"] == "handout")
    svc = app.extensions["lecturelib"].svc
    svc.update_document(
        doc_id,
        actor="bianji",
        title="乡村振兴专题讲义（全文）",
        source="市委宣传部",
        topics=["new-zhaoqing", "situation-policy"],
        audiences=["agency", "enterprise"],
    )
    revised = make_docx(
        tmp_path / "乡村振兴讲义（修订）.docx",
        HANDOUT
        + [
            ("p", "三、数字乡村"),
            ("p", "数字乡村建设让村民足不出户办成事，电商直播带火了土特产。" * 3),
        ],
    )
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    sign_in(page, url, EDITOR)
    page.goto(f"{url}/documents/{doc_id}")
    page.click("text=上传新版本")
    page.set_input_files("#files", str(revised))
    page.click("form[data-upload] button[type=submit]")
    preview = page.locator("[data-upload-results] a", has_text="预览并发布")
    expect(preview).to_have_count(1, timeout=60_000)
    preview.click()
    page.wait_for_url("**/editor/drafts/*")
    expect(page.locator("#title")).to_have_value("乡村振兴专题讲义（全文）")
    expect(page.locator("#source")).to_have_value("市委宣传部")
    for slug in ("new-zhaoqing", "situation-policy"):
        expect(page.locator(f"input[name=topics][value={slug}]")).to_be_checked()
    expect(page.locator("input[name=topics][value=rural-revitalization]")).not_to_be_checked()
    for a in ("agency", "enterprise"):
        expect(page.locator(f"input[name=audiences][value={a}]")).to_be_checked()
    expect(page.locator("#title-new")).to_have_text("新文件：乡村振兴专题讲义")
    expect(page.locator(".suggest-note").filter(has_text="新文件建议")).to_contain_text("乡村振兴")
    page.click("#publish-form button[type=submit]")
    page.wait_for_url(f"**/documents/{doc_id}")
    expect(page.locator("h1")).to_have_text("乡村振兴专题讲义（全文）")
    meta = page.locator("dl.meta")
    expect(meta).to_contain_text("市委宣传部")
    expect(meta).to_contain_text("新时代新肇庆")
    expect(meta).to_contain_text("进机关")
    expect(meta).to_contain_text("第 2 版")
    ctx.close()


def test_escape_closes_the_suggestions_and_keeps_the_query(live, browser):
    url, _ = live
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(url + "/")
    box = page.locator("#q")
    box.focus()
    page.keyboard.type("绿水")
    expect(page.locator("#q-suggest [role=option]").first).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#q-suggest")).to_be_hidden()
    expect(box).to_have_value("绿水")
    expect(box).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    expect(page.locator(".hit").first).to_contain_text("绿水")
    ctx.close()


def test_a_skip_link_reaches_the_first_result_in_a_few_tabs(live, browser):
    url, _ = live
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(url + "/search?q=乡村振兴 OR 绿水青山")
    expect(page.locator(".hit").first).to_be_visible()
    page.keyboard.press("Tab")  # 跳到正文
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "跳到检索结果"
    expect(page.locator("a.skip:focus")).to_be_visible()
    page.keyboard.press("Enter")
    presses = 0
    while presses < 12:
        page.keyboard.press("Tab")
        presses += 1
        if page.evaluate("document.activeElement.hasAttribute('data-basket-add')"):
            break
    label = page.evaluate("document.activeElement.textContent")
    assert label == "加入讲稿篮" and presses <= 8, (presses, label)
    # it is the first result's button
    assert page.evaluate(
        "document.activeElement.closest('.hit') === document.querySelector('.hit')"
    )
    ctx.close()
