"""Real-browser journeys with Playwright driving Debian's chromium against a live waitress
server over a library built in tmp_path.

1. A speaker on a phone: search → toggle a facet → copy a citation → add to the basket →
   reorder → export the .docx, opened with python-docx.
2. An editor: log in → upload a .docx and a .pdf → correct the topic in the preview → publish →
   the new quote is found from the public search box.

Screenshots for the README go to docs/screenshots/ only when LECTURELIB_SCREENSHOTS=1.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from browserkit import PHONE, browser, live_server, sync_api  # noqa: F401  (fixture)
from conftest import EDITOR, HANDOUT, PDF_PAGES, QUOTES, _build_app, make_docx, make_pdf

SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def shot(page, name: str, full_page: bool = True) -> None:
    if os.environ.get("LECTURELIB_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=full_page)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A live server (waitress, 4 threads) over a small library; yields its base URL."""
    src = tmp_path_factory.mktemp("src")
    files = [
        make_docx(src / "生态文明金句汇编.docx", QUOTES),
        make_docx(src / "乡村振兴讲义.docx", HANDOUT),
        make_pdf(src / "法治宣讲提纲.pdf", PDF_PAGES),
    ]
    app = _build_app(tmp_path_factory.mktemp("live") / "home", files)
    with live_server(app) as url:
        yield url
    app.extensions["lecturelib"].close()


def test_home_page(live, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(live + "/")
    sync_api.expect(page.locator(".tile")).to_have_count(10)
    sync_api.expect(page.locator(".qotd")).to_contain_text("每日金句")
    # autocomplete from the search box, keyboard only
    page.locator("#q").focus()
    page.keyboard.type("绿水")
    sync_api.expect(page.locator("#q-suggest [role=option]").first).to_be_visible()
    page.keyboard.press("Escape")
    page.locator("#q").fill("")
    page.mouse.move(0, 0)
    shot(page, "home.png")
    ctx.close()


def test_speaker_journey_on_a_phone(live, browser, tmp_path):
    ctx = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2, locale="zh-CN"
    )
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=live)
    page = ctx.new_page()
    page.goto(live + "/")
    page.fill("#q", "绿水青山 OR 合作社")
    page.click(".hero button[type=submit]")
    page.wait_for_url("**/search?q=*")
    sync_api.expect(page.locator(".hit")).to_have_count(2)

    # toggle a facet: only quotes (on a phone the filters start folded)
    sync_api.expect(page.locator("[data-facet='kind:quote']")).to_be_hidden()
    page.click(".facets__box > summary")
    page.click("[data-facet='kind:quote']")
    page.wait_for_url("**kind=quote**")
    sync_api.expect(page.locator(".hit")).to_have_count(1)
    sync_api.expect(page.locator(".hit mark").first).to_have_text("绿水青山")
    shot(page, "results-phone.png")

    # copy the citation in house style
    page.click(".hit [data-copy]")
    sync_api.expect(page.locator("[data-toast]")).to_contain_text("已复制")
    want = "“绿水青山就是金山银山。” ——习近平在浙江安吉余村考察时的讲话（2005年8月15日）"
    assert page.evaluate("navigator.clipboard.readText()") == want

    # add the quote to the basket, then a passage from a document page
    page.click(".hit [data-basket-add]")
    sync_api.expect(page.locator("[data-basket-count]")).to_have_text("1")
    page.goto(live + "/search?q=合作社")
    page.click(".hit__where a")
    page.locator(".passage [data-basket-add]").nth(1).click()
    sync_api.expect(page.locator("[data-basket-count]")).to_have_text("2")

    # the basket: reorder (the passage first) and export
    page.goto(live + "/basket")
    items = page.locator("[data-basket-item]")
    sync_api.expect(items).to_have_count(2)
    items.nth(1).get_by_role("button", name="上移第 2 条").click()
    sync_api.expect(items.first).to_contain_text("合作社")
    page.fill("#basket-title", "乡村振兴宣讲稿素材")
    with page.expect_download() as dl:
        page.click("[data-basket-export]")
    path = tmp_path / "basket.docx"
    dl.value.save_as(str(path))
    import docx

    d = docx.Document(io.BytesIO(path.read_bytes()))
    body = "\n".join(p.text for p in d.paragraphs)
    assert d.paragraphs[0].text == "乡村振兴宣讲稿素材"
    assert body.index("合作社") < body.index("绿水青山就是金山银山")
    assert "——习近平在浙江安吉余村考察时的讲话（2005年8月15日）" in body
    assert "——《乡村振兴专题讲义》" in body
    assert "参考来源" in body
    ctx.close()


NEW_QUOTES = [
    ("h", "百千万工程宣讲金句"),
    ("h", "一、城乡区域协调发展"),
    ("p", "1. 让每一个镇村都成为高质量发展的主战场。"),
    ("p", "——在全市百县千镇万村高质量发展工程推进会上的讲话（2023年2月20日）"),
    ("p", "2. 乡村要留得住乡愁，也要留得住年轻人。"),
    ("p", "——在端州区调研时的讲话（2023年5月8日）"),
]

NEW_PDF = [
    [
        "端砚文化进校园宣讲提纲",
        "一、端砚是肇庆的城市名片",
        "一方端砚凝聚千年匠心，",
        "砚工师傅一刀一凿传承技艺。",
    ]
]


def test_editor_journey_upload_preview_publish(live, browser, tmp_path):
    docx_path = make_docx(tmp_path / "百千万工程金句.docx", NEW_QUOTES)
    pdf_path = make_pdf(tmp_path / "端砚宣讲提纲.pdf", NEW_PDF)
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(live + "/login")
    page.fill("#name", EDITOR[0])
    page.fill("#password", EDITOR[1])
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/editor/")
    page.goto(live + "/editor/upload")
    page.set_input_files("#files", [str(docx_path), str(pdf_path)])
    page.click("form[data-upload] button[type=submit]")
    previews = page.locator("[data-upload-results] a", has_text="预览并发布")
    sync_api.expect(previews).to_have_count(2, timeout=60_000)
    rows = page.locator("[data-upload-results] .upload-item")
    sync_api.expect(rows.first).to_contain_text("成功")
    pdf_preview = previews.nth(1).get_attribute("href")

    # preview of the .docx: correct the topic, check the parsed 出处, publish
    previews.first.click()
    page.wait_for_url("**/editor/drafts/*")
    sync_api.expect(page.locator("#q0_source")).to_have_value(
        "在全市百县千镇万村高质量发展工程推进会上的讲话"
    )
    sync_api.expect(page.locator("#q0_date")).to_have_value("2023-02-20")
    for box in page.locator("input[name=topics]:checked").all():
        box.uncheck()
    page.check("input[name=topics][value=new-zhaoqing]")
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": min(height, 2400)})
    shot(page, "editor-preview.png", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("#publish-form .sticky-actions button[type=submit]")
    page.wait_for_url("**/documents/*")
    sync_api.expect(page.locator(".flash")).to_contain_text("已发布")
    sync_api.expect(page.locator(".meta")).to_contain_text("新时代新肇庆")

    # the .pdf: publish as suggested
    page.goto(live + pdf_preview)
    page.click("#publish-form .sticky-actions button[type=submit]")
    page.wait_for_url("**/documents/*")
    sync_api.expect(page.locator(".passage").first).to_contain_text("端砚")

    # a speaker (no login) finds the new quote from the public search box
    anon = browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN")
    p2 = anon.new_page()
    p2.goto(live + "/")
    p2.fill("#q", "主战场")
    p2.keyboard.press("Enter")
    p2.wait_for_url("**/search?q=*")
    hit = p2.locator(".hit").first
    sync_api.expect(hit).to_contain_text("让每一个镇村都成为高质量发展的主战场")
    sync_api.expect(hit).to_contain_text("2023年2月20日")
    sync_api.expect(hit.locator(".tag")).to_contain_text(["新时代新肇庆"])
    p2.goto(live + "/search?q=一刀一凿")
    sync_api.expect(p2.locator(".hit").first).to_contain_text("砚工师傅")
    anon.close()
    ctx.close()
