"""Issue 9, editors: the upload preview pre-fills 来源 and the document date from what the text
states (“来源：浙江日报”, “——2025年1月14日在……会议上”, “（2025年1月15日……）”, a year in the
title); both stay editable. Documents built in code, and the real 2025 government reports when
../shared/data/gov-reports-2025 is there."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from conftest import login, make_docx, post

from indexer.ingest.extract.base import Block, Extracted
from indexer.ingest.structure import document_source, structure

GOV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gov-reports-2025"

BODY = (
    "现在，我代表县人民政府向大会报告工作，请予审议，并请县政协委员和其他列席人员提出意见。"
    "过去一年，全县上下坚持稳中求进工作总基调，经济社会发展取得新成效。"
) * 2


def report(*lines: str, title: str = "2025年端州区政府工作报告") -> list[tuple[str, str]]:
    return [("t", title), *(("p", ln) for ln in lines), ("p", "一、2024年工作回顾"), ("p", BODY)]


def ex(*items, title=None) -> Extracted:
    return Extracted(
        "docx",
        [Block(t, "title") if i == 0 and title is None else Block(t) for i, t in enumerate(items)],
        title=title,
    )


# -- structuring: what the text states ------------------------------------------------------


@pytest.mark.parametrize(
    "line, source",
    [
        ("来源：浙江日报", "浙江日报"),
        ("来源 : 南方日报", "南方日报"),
        ("来源：天津人大—天津日报", "天津人大—天津日报"),
        ("（来源：新华社）", "新华社"),
        ("来源：西江乡村振兴网 发布时间：2025-01-10 字号：大 中 小", "西江乡村振兴网"),
    ],
)
def test_source_line_under_the_title(line, source):
    st = structure(ex("2025年端州区政府工作报告", line, "各位代表：", BODY), kind="handout")
    assert document_source(st) == source


def test_no_source_when_the_text_names_none():
    st = structure(
        ex("乡村振兴讲义", "数据来源：市统计局", "资金来源于村集体和农户自筹。", BODY),
        kind="handout",
    )
    assert document_source(st) is None


@pytest.mark.parametrize(
    "lines, iso",
    [
        # source and subtitle in one block (Jiangxi's report): the date was missed
        (
            [
                "来源：江西省人民政府\n2025年1月17日在江西省第十四届人民代表大会第三次会议上省长叶建春作政府工作报告。"
            ],
            "2025-01-17",
        ),
        # a subtitle in brackets that opens with a date
        (["（2025年1月15日在端州区城东街道新时代文明实践站）"], "2025-01-15"),
        # only the title has a year
        (["来源：浙江日报", "各位代表："], "2025"),
        # the publication date on the 来源 line
        (["来源：西江乡村振兴网 发布时间：2025-01-10"], "2025-01-10"),
        # a dash subtitle beats the year of the title
        (["——2025年1月19日在端州区第十六届人民代表大会第四次会议上"], "2025-01-19"),
    ],
)
def test_document_date_from_first_lines_or_title(lines, iso):
    st = structure(ex("2025年端州区政府工作报告", *lines, BODY), kind="handout")
    assert st.date == iso


def test_a_year_in_a_heading_is_still_not_the_date():
    st = structure(ex("乡村振兴讲义", "一、2024年工作回顾", BODY), kind="handout")
    assert st.date is None


# -- the web preview -----------------------------------------------------------------------


@pytest.fixture
def editor(make_app):
    c = make_app().test_client()
    login(c)
    return c


def upload(c, name: str, data: bytes) -> dict:
    r = post(
        c,
        "/editor/upload",
        {"files": [(io.BytesIO(data), name)]},
        headers={"X-Requested-With": "fetch"},
        content_type="multipart/form-data",
    )
    return r.get_json()["results"][0]


def field(page: str, name: str) -> str:
    m = re.search(rf'<input id="{name}" name="{name}"[^>]*value="([^"]*)"', page)
    assert m, name
    return m.group(1)


def test_preview_prefills_source_and_date_and_both_stay_editable(editor, tmp_path):
    f = make_docx(
        tmp_path / "r.docx",
        report("来源：浙江日报", "——2025年1月14日在端州区第十六届人民代表大会第四次会议上"),
    )
    res = upload(editor, "2025年端州区政府工作报告.docx", f.read_bytes())
    page = editor.get(res["preview_url"]).get_data(as_text=True)
    assert field(page, "source") == "浙江日报"
    assert field(page, "date") == "2025-01-14"
    assert "已从正文“来源：”一行识别，可修改" in page
    # the editor corrects both; what they typed is what the document gets
    form = {
        "title": "2025年端州区政府工作报告",
        "kind": "handout",
        "date": "2025-01-15",
        "source": "端州区人民政府办公室",
    }
    r = post(editor, f"/editor/drafts/{res['draft_id']}/publish", form)
    assert r.status_code == 302
    doc = editor.get(r.headers["Location"]).get_data(as_text=True)
    assert "端州区人民政府办公室" in doc and "浙江日报</dd>" not in doc
    assert "2025年1月15日" in doc or "2025-01-15" in doc


def test_preview_source_left_as_found_is_published(editor, tmp_path):
    f = make_docx(tmp_path / "r.docx", report("来源：浙江日报"))
    res = upload(editor, "r.docx", f.read_bytes())
    page = editor.get(res["preview_url"]).get_data(as_text=True)
    assert field(page, "date") == "2025"  # the year in the title
    r = post(
        editor,
        f"/editor/drafts/{res['draft_id']}/publish",
        {
            "title": "2025年端州区政府工作报告",
            "kind": "handout",
            "date": field(page, "date"),
            "source": field(page, "source"),
        },
    )
    doc = editor.get(r.headers["Location"]).get_data(as_text=True)
    assert re.search(r"<dt>来源</dt><dd>浙江日报</dd>", doc)


def test_preview_without_source_or_date_leaves_the_fields_empty(editor, tmp_path):
    f = make_docx(
        tmp_path / "h.docx",
        [("t", "乡村振兴专题讲义"), ("p", "一、为什么要推进乡村振兴"), ("p", BODY)],
    )
    res = upload(editor, "h.docx", f.read_bytes())
    page = editor.get(res["preview_url"]).get_data(as_text=True)
    assert field(page, "source") == "" and field(page, "date") == ""
    assert "已从正文" not in page


@pytest.mark.parametrize(
    "name, source, date",
    [
        ("2025年浙江省政府工作报告.docx", "浙江日报", "2025-01-14"),
        ("2025年江西省政府工作报告.docx", "江西省人民政府", "2025-01-17"),
        ("2025年广东省政府工作报告.docx", "南方日报", "2025-01-15"),
    ],
)
def test_real_government_reports_prefill(editor, name, source, date):
    path = GOV / name
    if not path.is_file():
        pytest.skip("gov-reports-2025 not available")
    res = upload(editor, name, path.read_bytes())
    page = editor.get(res["preview_url"]).get_data(as_text=True)
    assert field(page, "source") == source
    assert field(page, "date") == date


def test_every_real_report_states_source_or_date():
    files = sorted(GOV.glob("*.docx")) if GOV.is_dir() else []
    if not files:
        pytest.skip("gov-reports-2025 not available")
    from indexer.ingest.extract import extract

    dated = sourced = 0
    for f in files:
        st = structure(extract(f.read_bytes(), f.name), filename=f.name)
        dated += bool(st.date and st.date.startswith("2025-01"))
        sourced += bool(document_source(st))
    assert dated == len(files)
    assert sourced >= len(files) - 2  # Inner Mongolia and Henan name no 来源


def test_cli_ingest_stores_the_stated_source_and_date(library_factory, tmp_path):
    path = make_docx(
        tmp_path / "报告.docx",
        [
            ("t", "2025年某市政府工作报告"),
            ("p", "来源：浙江日报"),
            ("p", "一、过去一年的工作"),
            ("p", "全市经济运行稳中有进，民生福祉持续增进。" * 5),
        ],
    )
    svc = library_factory([path])
    doc = svc.store.list_documents()[0]
    assert doc["source"] == "浙江日报" and doc["date"] == "2025"
