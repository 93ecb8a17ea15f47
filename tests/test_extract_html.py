"""A saved web article: main text without navigation, headings, charset."""

from __future__ import annotations

from indexer.ingest.extract import extract
from indexer.ingest.extract.base import HEADING, LIST_ITEM, PARA, TABLE_ROW

ARTICLE = """<!DOCTYPE html>
<html><head><meta charset="gb2312"><title>坚定文化自信 建设文化强国_新华网</title>
<style>p {{ color: red }}</style><script>var tracker = "首页";</script></head>
<body>
<div class="top-nav"><a href="/">首页</a> <a href="/politics">时政</a></div>
<header><div class="logo">新华网</div></header>
<div id="breadcrumb">首页 &gt; 理论</div>
<div class="wrap">
  <div class="side-bar"><p>热门推荐：乡村振兴的十个案例。</p></div>
  <div class="content">
    <h1>坚定文化自信，建设文化强国</h1>
    <p>文化是一个国家、一个民族的灵魂。文化兴国运兴，文化强民族强。{extra}</p>
    <p>没有高度的文化自信，就没有中华民族伟大复兴。<strong>要坚持</strong>守正创新。</p>
    <h2>一、守正创新</h2>
    <ul><li>传承中华优秀传统文化</li><li>发展社会主义先进文化</li></ul>
    <table><tr><th>年份</th><th>文化产业增加值</th></tr><tr><td>2024</td><td>5.9万亿元</td></tr></table>
  </div>
</div>
<div class="comment-list"><p>网友评论：讲得好！</p></div>
<div class="share-box">分享到微信</div>
<footer><p>版权所有 新华网</p></footer>
</body></html>"""


def test_main_article_text_without_navigation_comments_or_footer():
    html = ARTICLE.format(extra="")
    ex = extract(html.encode("gb18030"), "文章.html")
    assert ex.format == "html"
    assert ex.meta["encoding"] == "gb18030"  # gb2312 is read as its superset
    assert ex.title == "坚定文化自信 建设文化强国"
    assert [(b.kind, b.level, b.text) for b in ex.blocks] == [
        (HEADING, 1, "坚定文化自信，建设文化强国"),
        (PARA, 0, "文化是一个国家、一个民族的灵魂。文化兴国运兴，文化强民族强。"),
        (PARA, 0, "没有高度的文化自信，就没有中华民族伟大复兴。要坚持守正创新。"),
        (HEADING, 2, "一、守正创新"),
        (LIST_ITEM, 0, "传承中华优秀传统文化"),
        (LIST_ITEM, 0, "发展社会主义先进文化"),
        (TABLE_ROW, 0, "年份\t文化产业增加值"),
        (TABLE_ROW, 0, "2024\t5.9万亿元"),
    ]


def test_article_element_is_preferred_and_utf8_without_meta_is_detected():
    html = (
        "<html><body><div class='menu'>栏目一 栏目二</div><article><h1>宣讲稿</h1>"
        "<p>各位乡亲，今天我们来讲一讲乡村振兴。</p></article>"
        "<div><p>与本文无关的推广文字，很长很长的一段推广文字。</p></div></body></html>"
    )
    ex = extract(html.encode("utf-8"), "saved.htm")
    assert [b.text for b in ex.blocks] == ["宣讲稿", "各位乡亲，今天我们来讲一讲乡村振兴。"]
    assert ex.meta["encoding"] == "utf-8"


def test_html_sniffed_from_content_even_when_named_txt():
    html = "<!doctype html><html><body><p>正文内容。</p></body></html>"
    assert extract(html.encode("utf-8"), "页面.txt").format == "html"
