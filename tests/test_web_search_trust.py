"""What a speaker sees on the results page (issue 9, observations 4 and 5): one facet entry per
value whatever the link said, material kinds as facets and filters, a page past the end said
plainly, citations with the speaker on every card."""

from __future__ import annotations

import re

import pytest

# each test runs on SQLite + Whoosh and on PostgreSQL (store and search; tests/conftest.py)
pytestmark = pytest.mark.both_databases


def _facet_labels(page: str, group: str) -> list[str]:
    sec = page.split(f'<h2 class="facet__title">{group}</h2>', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<span class="facet__label">([^<]*)</span>', sec)


def test_chinese_facet_value_is_one_entry_and_selected(client):
    page = client.get("/search?q=乡村振兴&audience=进农村").get_data(as_text=True)
    labels = _facet_labels(page, "宣讲对象")
    assert labels.count("进农村") <= 1
    slug = client.get("/search?q=乡村振兴&audience=rural").get_data(as_text=True)
    # the Chinese link gives exactly the page of the slug
    assert _facet_labels(page, "宣讲对象") == _facet_labels(slug, "宣讲对象")


def test_topic_by_chinese_name_is_one_entry(client):
    page = client.get("/search?q=乡村振兴&topic=乡村振兴").get_data(as_text=True)
    assert _facet_labels(page, "专题").count("乡村振兴") == 1


def test_material_kinds_are_facets_and_filters(client):
    page = client.get("/search?q=乡村振兴").get_data(as_text=True)
    assert "材料类型" in page and "讲义" in _facet_labels(page, "材料类型")
    r = client.get("/search?q=乡村振兴&kind=讲义")
    assert r.status_code == 200 and "这种类型" not in r.get_data(as_text=True)
    r = client.get("/api/search?q=乡村振兴&kind=script")
    assert r.status_code == 200 and r.get_json()["total"] == 0  # no script in the sample
    r = client.get("/api/search?q=乡村振兴&kind=handout").get_json()
    assert r["total"] > 0 and all(h["document"]["kind"] == "handout" for h in r["hits"])
    r = client.get("/api/search?q=乡村振兴 kind:讲义").get_json()
    assert r["total"] > 0


def test_page_past_the_end_says_so(client):
    page = client.get("/search?q=乡村振兴&page=999").get_data(as_text=True)
    assert "没有找到" not in page
    assert "超出了结果范围" in page and "转到最后一页" in page


def test_result_card_citation_names_the_speaker(client):
    page = client.get("/search?q=绿水青山就是金山银山").get_data(as_text=True)
    assert "——习近平在浙江安吉余村考察时的讲话（2005年8月15日）" in page
