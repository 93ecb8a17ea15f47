"""Browser journeys for trust (issue 9): a speaker pastes “雄鹰”企业 with its quotation marks
and sees the whole span marked; filters by a Chinese facet link and sees it once; types a
homophone slip and is told which results are shown; and an offline station opens the topic pack
from file:// and finds exactly the topic: the counts of the topic page, each saying once with
its speaker."""

from __future__ import annotations

import zipfile

import pytest
from browserkit import PHONE, browser, live_server, sync_api  # noqa: F401
from conftest import _build_app, make_docx

QUOTES = [
    ("h", "生态文明金句汇编"),
    ("h", "一、绿水青山"),
    ("p", "1. 绿水青山就是金山银山。"),
    ("p", "——习近平在浙江安吉余村考察时提出（2005年8月15日）"),
    ("h", "二、生态惠民"),
    ("p", "2. 良好生态环境是最普惠的民生福祉。"),
    ("p", "——习近平在海南考察时的讲话（2013年4月10日）"),
]
ECO = [
    ("t", "守护一江清水——生态文明讲义"),
    ("p", "一、河长制"),
    ("p", "培育一批“雄鹰”企业，推动绿色低碳转型，让河长制管好每一段河道，守护绿水青山。" * 2),
]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    files = [
        make_docx(src / "生态文明金句汇编.docx", QUOTES),
        make_docx(src / "生态讲义.docx", ECO),
    ]
    app = _build_app(
        tmp_path_factory.mktemp("live") / "home",
        files,
        settings={"public_export": True},
        PUBLIC_EXPORT=True,
    )
    lib = app.extensions["lecturelib"]
    for d in lib.svc.store.list_documents():
        lib.svc.update_document(
            d["id"], actor="test", topics=["生态文明建设"], audiences=["进农村"]
        )
    with live_server(app) as url:
        yield url
    lib.close()


def test_pasted_quotation_marks_mark_the_whole_span(live, browser):
    page = browser.new_page(locale="zh-CN")
    page.goto(live + "/")
    page.fill("#q", "“雄鹰”企业")
    page.click(".hero button[type=submit]")
    page.wait_for_url("**/search?q=*")
    sync_api.expect(page.locator(".hit mark").first).to_have_text("雄鹰”企业")
    page.goto(live + "/search?q=雄鹰企业")
    sync_api.expect(page.locator(".hit mark").first).to_have_text("雄鹰”企业")
    page.close()


def test_chinese_facet_link_is_one_selected_entry(live, browser):
    page = browser.new_page(viewport=PHONE, locale="zh-CN")
    page.goto(live + "/search?q=绿水青山&audience=进农村")
    page.click(".facets__box > summary")
    entries = page.locator(".facet__item", has_text="进农村")
    sync_api.expect(entries).to_have_count(1)
    sync_api.expect(entries).to_have_attribute("aria-current", "true")
    entries.click()  # toggles the filter off
    page.wait_for_load_state()
    assert "audience" not in page.url
    page.goto(live + "/search?q=绿水青山")
    page.click(".facets__box > summary")
    page.click("[data-facet='doc_kind:handout']")
    page.wait_for_url("**doc_kind=handout**")
    sync_api.expect(page.locator(".hit")).to_have_count(1)
    page.close()


def test_homophone_slip_shows_the_corrected_results(live, browser):
    page = browser.new_page(locale="zh-CN")
    page.goto(live + "/search?q=绿水清山")
    sync_api.expect(page.locator(".notice--corrected")).to_contain_text("已显示“绿水青山”的结果")
    sync_api.expect(page.locator(".hit").first).to_be_visible()
    page.click(".notice--corrected a")  # search for what was typed after all
    sync_api.expect(page.locator(".results")).to_contain_text("没有找到")
    page.close()


def test_offline_pack_holds_its_topic_with_the_topic_page_counts(live, browser, tmp_path):
    page = browser.new_page(locale="zh-CN")
    page.goto(live + "/topics/ecology")
    quotes_on_topic = page.locator("#tq-h").inner_text()  # 金句（2）
    with page.expect_download() as dl:
        page.click("form[action$='pack.zip'] button")
    pack = tmp_path / "pack.zip"
    dl.value.save_as(str(pack))
    with zipfile.ZipFile(pack) as z:
        z.extractall(tmp_path / "site")
    page.goto((tmp_path / "site" / "index.html").as_uri())
    status = page.locator("#content .status")
    sync_api.expect(status).to_contain_text("2 份材料、2 条金句")
    assert quotes_on_topic == "金句（2）"
    page.fill("#q", "雄鹰企业")
    page.click("#search button")
    sync_api.expect(page.locator(".card mark").first).to_have_text("雄鹰”企业")
    page.fill("#q", "绿水青山就是金山银山")
    page.click("#search button")
    quote = page.locator(".card.quote")
    sync_api.expect(quote).to_have_count(1)  # each saying once
    sync_api.expect(quote.locator(".cite")).to_have_text(
        "——习近平在浙江安吉余村考察时提出（2005年8月15日）"
    )
    page.close()
