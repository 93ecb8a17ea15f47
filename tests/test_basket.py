"""The 讲稿篮 (basket): what a speaker finds in the exported .docx and what the basket page is told
about each item — each item once with its house-style citation, Q&A with its question,
references one per source document, A4 with the library's name in the document properties, and
items whose document went to the trash (or was purged) named instead of silently dropped."""

from __future__ import annotations

import io
import json

import docx
import pytest
from builders import QA_DOC as QA
from builders import TRAD_QUOTES_DOC as TRAD
from conftest import HANDOUT, QUOTES, _build_app, make_docx, post
from docx.shared import Mm

from library.content import citation_line, quote_with_citation

LIBRARY_NAME = "肇庆市宣讲素材库"


@pytest.fixture
def basket_app(tmp_path):
    src = tmp_path / "src"
    files = [
        make_docx(src / "生态文明金句汇编.docx", QUOTES),
        make_docx(src / "乡村振兴讲义.docx", HANDOUT),
        make_docx(src / "热点问答.docx", QA),
        make_docx(src / "传统文化金句.docx", TRAD),
    ]
    app = _build_app(tmp_path / "home", files, settings={"library_name": LIBRARY_NAME})
    yield app
    app.extensions["lecturelib"].close()


def lib(app):
    return app.extensions["lecturelib"]


def hit(app, query: str, kind: str) -> dict:
    hits = lib(app).search(query, kind=kind)["hits"]
    assert hits, (query, kind)
    return hits[0]


def export(app, items, title="宣讲稿素材"):
    r = post(
        app.test_client(),
        "/basket/export",
        {"items": json.dumps(items, ensure_ascii=False), "title": title},
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.mimetype.endswith("wordprocessingml.document")
    return docx.Document(io.BytesIO(r.data))


def paragraphs(d) -> list[str]:
    return [p.text for p in d.paragraphs]


def references(d) -> list[str]:
    paras = paragraphs(d)
    return [p for p in paras[paras.index("参考来源") + 1 :] if p.strip()]


def body_of(d) -> str:
    paras = paragraphs(d)
    return "\n".join(paras[: paras.index("参考来源")])


# -- the exported document --------------------------------------------------------------------


def test_export_shows_each_item_once_with_its_house_style_citation(basket_app):
    q = hit(basket_app, "绿水青山", "quote")
    p = hit(basket_app, "合作社", "passage")
    qa = hit(basket_app, "养老保险", "qa")
    d = export(basket_app, [q["id"], p["id"], qa["id"]])
    body = body_of(d)
    # the quote: once, in quotation marks, with the citation every other surface shows
    assert body.count("绿水青山就是金山银山") == 1
    assert quote_with_citation(q["text"]) in body
    assert citation_line(q["source"], q["date"], q["speaker"]) in body
    assert "——习近平在浙江安吉余村考察时的讲话（2005年8月15日）" in body
    assert "出处：" not in body
    # the passage: once, cited by its document
    assert body.count("合作社带动村民增收致富") == 3  # the sample text repeats it 3 times
    assert body.count(p["text"]) == 1
    assert citation_line("《乡村振兴专题讲义》", None) in body
    # the Q&A: question, then answer, each once
    assert body.count("问：灵活就业人员怎样参加养老保险？") == 1
    assert body.count("可以在户籍地或就业地以个人身份参保") == 1
    assert body.index("问：灵活就业人员") < body.index("答：可以在户籍地")
    # numbering: 1, 2, 3, each once and never doubled
    numbered = [t for t in paragraphs(d) if t[:2] in ("1.", "2.", "3.", "4.")]
    assert [t[:2] for t in numbered] == ["1.", "2.", "3."]
    assert not any(t.startswith(("1. 1.", "2. 2.", "3. 3.")) for t in numbered)
    assert "共 3 条" in body


def test_reference_list_has_one_entry_per_source_document(basket_app):
    q = hit(basket_app, "绿水青山", "quote")
    p1 = hit(basket_app, "合作社", "passage")
    p2 = hit(basket_app, "农民主体地位", "passage")
    q2 = hit(basket_app, "美好生活", "quote")
    assert p1["id"] != p2["id"] and q["id"] != q2["id"]
    d = export(basket_app, [p1["id"], q["id"], p2["id"], q2["id"]])
    refs = references(d)
    assert len(refs) == 2, refs
    assert refs[0].startswith("［1］《乡村振兴专题讲义》")
    assert refs[1].startswith("［2］《生态文明与初心使命金句汇编》")
    # every item points at its document's one reference
    body = body_of(d)
    assert body.count("［1］") == 2 and body.count("［2］") == 2


def test_export_is_a4_and_names_the_library_not_python_docx(basket_app):
    q = hit(basket_app, "绿水青山", "quote")
    d = export(basket_app, [q["id"]], title="生态文明宣讲素材")
    for s in d.sections:
        assert abs(s.page_width - Mm(210)) < Mm(1) and abs(s.page_height - Mm(297)) < Mm(1)
        for margin in (s.top_margin, s.bottom_margin, s.left_margin, s.right_margin):
            assert Mm(20) <= margin <= Mm(35)
    cp = d.core_properties
    assert cp.author == LIBRARY_NAME
    assert cp.title == "生态文明宣讲素材"
    assert cp.language == "zh-CN"
    for name in (
        "author",
        "category",
        "comments",
        "content_status",
        "identifier",
        "keywords",
        "last_modified_by",
        "subject",
        "title",
        "version",
    ):
        assert "python-docx" not in (getattr(cp, name) or ""), name
    assert cp.created.year >= 2024


def test_trashed_item_is_named_in_the_export_not_dropped(basket_app):
    q = hit(basket_app, "绿水青山", "quote")
    gone = hit(basket_app, "匹夫有责", "quote")
    lib(basket_app).svc.trash(gone["document"]["id"], actor="test")
    d = export(
        basket_app, [q["id"], {"id": gone["id"], "kind": "quote", "name": "天下兴亡，匹夫有责。"}]
    )
    body = body_of(d)
    assert "共 1 条" in body
    assert "1 条已被删除，未导出" in body
    assert "金句“天下兴亡，匹夫有责。”" in body
    assert "绿水青山就是金山银山" in body


def test_purged_item_is_named_too_and_ids_alone_still_name_something(basket_app):
    keep = hit(basket_app, "合作社", "passage")
    qa = hit(basket_app, "养老保险", "qa")
    q = hit(basket_app, "匹夫有责", "quote")
    svc = lib(basket_app).svc
    svc.trash(qa["document"]["id"], actor="test")
    svc.purge(qa["document"]["id"], actor="test")
    svc.trash(q["document"]["id"], actor="test")
    d = export(
        basket_app,
        [
            keep["id"],
            {"id": qa["id"], "kind": "qa", "name": "灵活就业人员怎样参加养老保险？"},
            q["id"],
        ],
    )
    body = body_of(d)
    assert "2 条已被删除，未导出" in body
    assert "问答“灵活就业人员怎样参加养老保险？”" in body
    assert f"编号 {q['id']}" in body  # an old basket that posted bare ids


def test_export_when_every_item_is_gone_says_which(basket_app):
    gone = hit(basket_app, "匹夫有责", "quote")
    lib(basket_app).svc.trash(gone["document"]["id"], actor="test")
    r = post(
        basket_app.test_client(),
        "/basket/export",
        {
            "items": json.dumps(
                [{"id": gone["id"], "kind": "quote", "name": "天下兴亡，匹夫有责。"}],
                ensure_ascii=False,
            )
        },
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "已不在资料库中" in page and "天下兴亡，匹夫有责。" in page


def test_export_survives_control_characters_in_title_and_names(basket_app):
    q = hit(basket_app, "绿水青山", "quote")
    d = export(
        basket_app, [q["id"], {"id": "q:999999", "name": "坏\x01名字\x0b"}], title="讲稿\x01素材"
    )
    assert paragraphs(d)[0] == "讲稿素材"
    assert "金句“坏名字”" in body_of(d)


# -- what the basket page is told -------------------------------------------------------------


def test_basket_items_give_citation_question_and_missing(basket_app):
    q = hit(basket_app, "绿水青山", "quote")
    qa = hit(basket_app, "养老保险", "qa")
    gone = hit(basket_app, "匹夫有责", "quote")
    lib(basket_app).svc.trash(gone["document"]["id"], actor="test")
    ids = [q["id"], qa["id"], gone["id"], "bogus"]
    r = basket_app.test_client().get("/basket/items", query_string={"ids": ",".join(ids)})
    assert r.status_code == 200
    data = r.get_json()
    items = {it["id"]: it for it in data["items"]}
    assert list(items) == [q["id"], qa["id"]]
    assert items[q["id"]]["citation"] == "——习近平在浙江安吉余村考察时的讲话（2005年8月15日）"
    assert items[q["id"]]["text"] == "“绿水青山就是金山银山。”"
    assert items[qa["id"]]["question"] == "灵活就业人员怎样参加养老保险？"
    assert "灵活就业人员" not in items[qa["id"]]["text"]
    assert items[qa["id"]]["citation"] == "——《群众关心的热点问答》"
    assert items[qa["id"]]["url"].endswith(f"#p{qa['id'][2:]}")
    assert data["missing"] == [gone["id"]]


def test_basket_page_has_a_place_for_the_deleted_note(basket_app):
    page = basket_app.test_client().get("/basket").get_data(as_text=True)
    assert "data-basket-missing" in page and 'data-basket-info="/basket/items"' in page


# -- a recording's transcript -------------------------------------------------------------------


def test_a_transcript_passage_and_a_spoken_quote_are_cited_with_their_time(tmp_path):
    """A speaker who quotes a recording can find the moment again: the basket, its .docx and
    the reference list give the time in the recording (“0:01—0:02”)."""
    from mediakit import SRT, make_video, needs_ffmpeg

    if needs_ffmpeg.args[0]:
        pytest.skip(needs_ffmpeg.kwargs["reason"])
    src = tmp_path / "src"
    make_video(src / "乡村振兴宣讲.mp4")
    (src / "乡村振兴宣讲.srt").write_text(SRT, encoding="utf-8")
    app = _build_app(tmp_path / "home")
    try:
        lib(app).svc.ingest([src])
        p = hit(app, "实在话", "passage")
        q = hit(app, "金山银山", "quote")
        # the quote: where the passage that says it starts
        assert (p["start"], q["start"]) == (2.4, 0.2)
        d = export(app, [p["id"], q["id"]])
        body = body_of(d)
        assert "0:02—0:03 处" in body and "《乡村振兴宣讲》0:00—0:02 处" in body
        [ref] = references(d)
        assert ref == "［1］《乡村振兴宣讲》（视频/音频），0:00—0:02、0:02—0:03 处"  # in time order
        r = app.test_client().get("/basket/items", query_string={"ids": p["id"]})
        [item] = r.get_json()["items"]
        assert item["where"] == "0:02—0:03 处"
        assert item["url"] == f"/media/{p['document']['id']}?t=2.4#p{p['id'][2:]}"
    finally:
        lib(app).close()
