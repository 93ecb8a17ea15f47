"""A real-browser journey through the 讲稿篮 (basket), Playwright driving Debian's chromium
against a live waitress server over a library built in tmp_path.

A speaker adds a quote, a passage, a Q&A and a second quote from search results; the basket page
shows each once with its citation and the Q&A's question. An editor then moves the second
quote's compilation to the trash. The speaker's basket names the deleted item, and the exported
.docx (opened with python-docx) is A4, names the library, holds each remaining item once with its
citation, lists each source document once, and says which item was deleted and not exported.
"""

from __future__ import annotations

import io

import pytest
from browserkit import browser, live_server, sync_api  # noqa: F401
from builders import QA_DOC as QA
from builders import TRAD_QUOTES_DOC as TRAD
from conftest import EDITOR, HANDOUT, QUOTES, _build_app, make_docx

LIBRARY_NAME = "肇庆市宣讲素材库"

expect = sync_api.expect

QUOTE_CITE = "——习近平在浙江安吉余村考察时的讲话（2005年8月15日）"
PASSAGE = HANDOUT[4][1]  # the 合作社 paragraph of the handout


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    src = tmp_path_factory.mktemp("basket-src")
    files = [
        make_docx(src / "生态文明金句汇编.docx", QUOTES),
        make_docx(src / "乡村振兴讲义.docx", HANDOUT),
        make_docx(src / "热点问答.docx", QA),
        make_docx(src / "传统文化金句.docx", TRAD),
    ]
    app = _build_app(
        tmp_path_factory.mktemp("basket-live") / "home",
        files,
        settings={"library_name": LIBRARY_NAME},
    )
    with live_server(app) as url:
        yield url
    app.extensions["lecturelib"].close()


def add_from_search(page, live: str, query: str, contains: str, count: int) -> None:
    page.goto(f"{live}/search?q={query}")
    card = page.locator(".hit", has_text=contains).first
    card.locator("[data-basket-add]").click()
    expect(card.locator("[data-basket-add]")).to_have_text("已在讲稿篮")
    expect(page.locator("[data-basket-count]").first).to_have_text(str(count))


def test_basket_journey_citations_qa_trash_and_export(live, browser, tmp_path):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    add_from_search(page, live, "绿水青山", "绿水青山就是金山银山", 1)
    add_from_search(page, live, "合作社", "合作社带动村民增收致富", 2)
    add_from_search(page, live, "养老保险", "可以在户籍地或就业地以个人身份参保", 3)
    add_from_search(page, live, "匹夫有责", "天下兴亡，匹夫有责", 4)

    # the basket page: each item once, numbered once, with its citation; the Q&A's question
    page.goto(live + "/basket")
    items = page.locator("[data-basket-item]")
    expect(items).to_have_count(4)
    qa = items.nth(2)
    expect(qa.locator(".basket__question")).to_have_text("问：灵活就业人员怎样参加养老保险？")
    expect(items.first.locator(".basket__cite")).to_contain_text(QUOTE_CITE)
    texts = [items.nth(i).inner_text() for i in range(4)]
    assert texts[0].count("绿水青山就是金山银山") == 1, texts[0]
    assert texts[1].count(PASSAGE) == 1, texts[1]
    assert "——《乡村振兴专题讲义》" in texts[1]
    assert texts[2].count("可以在户籍地或就业地以个人身份参保") == 1
    assert "——《群众关心的热点问答》" in texts[2]
    assert texts[3].count("天下兴亡，匹夫有责") == 1 and "——顾炎武《日知录》" in texts[3]
    for n, t in enumerate(texts, 1):
        assert t.lstrip().startswith(f"{n}."), t
        assert f"{n}. {n}." not in t and f"{n}.\n{n}." not in t, t
    expect(page.locator("[data-basket-missing]")).to_be_hidden()

    # an editor moves the 传统文化 compilation to the trash
    ed = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    ep = ed.new_page()
    ep.goto(live + "/login")
    ep.fill("#name", EDITOR[0])
    ep.fill("#password", EDITOR[1])
    ep.click("form.form button[type=submit]")
    ep.wait_for_url("**/editor/")
    ep.goto(live + "/search?q=匹夫有责")
    ep.locator(".hit", has_text="天下兴亡").locator(".hit__where a").first.click()
    ep.wait_for_url("**/documents/*")
    ep.get_by_role("button", name="移入回收站").click()
    expect(ep.locator(".flash")).to_contain_text("已移入回收站")
    ed.close()

    # the speaker's basket names the deleted item instead of losing it
    page.reload()
    note = page.locator("[data-basket-missing]")
    expect(note).to_be_visible()
    expect(note).to_contain_text("1 条已被删除，未导出")
    expect(note).to_contain_text("第 4 条 金句“天下兴亡，匹夫有责。”")
    expect(items).to_have_count(4)
    expect(items.nth(3)).to_contain_text("已被删除，不会导出")
    expect(page.locator("[data-basket-count]").first).to_have_text("4")

    # export and open the .docx
    page.fill("#basket-title", "宣讲稿素材")
    with page.expect_download() as dl:
        page.click("[data-basket-export]")
    path = tmp_path / "basket.docx"
    dl.value.save_as(str(path))
    import docx
    from docx.shared import Mm

    d = docx.Document(io.BytesIO(path.read_bytes()))
    sec = d.sections[0]
    assert abs(sec.page_width - Mm(210)) < Mm(1) and abs(sec.page_height - Mm(297)) < Mm(1)
    assert d.core_properties.author == LIBRARY_NAME
    assert d.core_properties.title == "宣讲稿素材"
    paras = [p.text for p in d.paragraphs]
    assert paras[0] == "宣讲稿素材"
    end = paras.index("参考来源")
    body = "\n".join(paras[:end])
    refs = [p for p in paras[end + 1 :] if p.strip()]

    assert "共 3 条" in body
    assert "1 条已被删除，未导出：金句“天下兴亡，匹夫有责。”" in body
    assert "顾炎武" not in body  # not exported
    # each item once, with its citation; the Q&A with its question
    assert body.count("绿水青山就是金山银山") == 1
    assert "“绿水青山就是金山银山。”" in body and QUOTE_CITE in body
    assert body.count(PASSAGE) == 1 and "——《乡村振兴专题讲义》" in body
    assert body.count("问：灵活就业人员怎样参加养老保险？") == 1
    assert body.count("可以在户籍地或就业地以个人身份参保") == 1
    assert "——《群众关心的热点问答》" in body
    numbered = [p for p in paras if p[:2] in ("1.", "2.", "3.", "4.")]
    assert [p[:2] for p in numbered] == ["1.", "2.", "3."]
    # one reference per source document, none repeated
    assert len(refs) == 3, refs
    titles = [r.split("》")[0] + "》" for r in refs]
    assert titles == [
        "［1］《生态文明与初心使命金句汇编》",
        "［2］《乡村振兴专题讲义》",
        "［3］《群众关心的热点问答》",
    ]
    ctx.close()
