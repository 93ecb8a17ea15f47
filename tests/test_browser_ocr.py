"""Issue 13 (OCR) in a real browser: an editor uploads a scanned handout on the upload page
(the page follows the job to its end and links the preview), and the preview shows each page's
scan beside its text, the low-confidence page marked, the text editable before publishing."""

from __future__ import annotations

import pytest
import scans
import small_scans
from browserkit import browser, live_server, sync_api  # noqa: F401
from conftest import EDITOR, _build_app

from indexer.ingest.extract import ocr

pytestmark = pytest.mark.skipif(
    not ocr.available() or scans.font_path() is None,
    reason="no OCR engine or CJK font (make test installs both)",
)
expect = sync_api.expect


@pytest.fixture
def live(tmp_path):
    app = _build_app(tmp_path / "home")
    with live_server(app) as url:
        yield url, app
    app.extensions["lecturelib"].close()


def test_scan_upload_and_preview_page_images_beside_their_text(live, browser, tmp_path):
    url, _ = live
    scan = small_scans.pdf(
        tmp_path / "宣讲讲义扫描件.pdf",
        [
            small_scans.strip(small_scans.PAGES[0]),
            small_scans.bad(small_scans.strip(small_scans.PAGES[1])),
            small_scans.strip(small_scans.PAGES[2]),
        ],
    )
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(url + "/login")
    page.fill("#name", EDITOR[0])
    page.fill("#password", EDITOR[1])
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/editor/")

    page.goto(url + "/editor/upload")
    page.set_input_files("#files", str(scan))
    page.click("form[data-upload] button[type=submit]")
    row = page.locator("[data-upload-results] li").first
    expect(row.locator(".status-badge")).to_have_text("有提示", timeout=120_000)
    expect(row).to_contain_text("文字由 OCR 识别")
    row.locator("text=预览并发布").click()
    page.wait_for_url("**/editor/drafts/*")

    pages = page.locator("[data-ocr-page]")
    expect(pages).to_have_count(3)
    for k in range(3):
        img = pages.nth(k).locator("img")
        img.scroll_into_view_if_needed()
        page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img.element_handle())
    expect(pages.nth(1).locator(".ocr-low")).to_have_text("识别置信度低，请核对")
    expect(pages.nth(0).locator(".ocr-low")).to_have_count(0)
    # the scan beside its text: side by side on a wide screen, tops level
    last = pages.nth(2)
    img_box = last.locator("img").bounding_box()
    text_box = last.locator(".ocr-page__text").bounding_box()
    assert img_box["x"] + img_box["width"] <= text_box["x"]
    assert abs(img_box["y"] - text_box["y"]) < 10

    box = last.locator("textarea").first
    expect(box).to_have_value("让宣讲成为联系群众的桥梁和纽带。")
    box.fill("让宣讲成为联系群众的桥梁和纽带（已核对）。")
    page.click("button:has-text('发布')")
    page.wait_for_url("**/documents/*")
    expect(page.locator("body")).to_contain_text("桥梁和纽带（已核对）")
    ctx.close()
