"""What a speaker pastes and reads: the citation house style, Chinese dates, and that only
<mark> survives from highlight HTML."""

from __future__ import annotations

import pytest

from library.errors import UsageError
from web.drafts import parse_date
from web.formatting import citation, date_cn, mark_only


@pytest.mark.parametrize(
    "iso, shown",
    [
        ("2022-10-16", "2022年10月16日"),
        ("2022-10", "2022年10月"),
        ("2022", "2022年"),
        (None, ""),
        ("十月", "十月"),
    ],
)
def test_dates_in_chinese(iso, shown):
    assert date_cn(iso) == shown


def test_citation_house_style():
    assert (
        citation("绿水青山就是金山银山。", "在浙江安吉考察时的讲话", "2005-08-15", "习近平")
        == "“绿水青山就是金山银山。” ——习近平在浙江安吉考察时的讲话（2005年8月15日）"
    )
    assert citation("“已有引号”", "《讲话》") == "“已有引号” ——《讲话》"
    assert citation("天下兴亡，匹夫有责。") == "“天下兴亡，匹夫有责。”"
    assert citation("一句话", None, "2020-12") == "“一句话” ——2020年12月"
    # a source that already carries the date does not repeat it
    assert (
        citation("话", "2020年12月28日在会上的讲话", "2020-12-28")
        == "“话” ——2020年12月28日在会上的讲话"
    )


def test_mark_only_keeps_marks_and_escapes_anything_else():
    assert str(mark_only("<mark>初心</mark>使命 &amp; 担当")) == "<mark>初心</mark>使命 &amp; 担当"
    out = str(mark_only('<mark>x</mark><script>alert(1)</script><b onclick="y">z</b>'))
    assert "<script>" not in out and "<b" not in out and "&lt;script&gt;" in out
    assert "<mark>" not in str(mark_only("<mark>unbalanced"))


@pytest.mark.parametrize(
    "raw, iso",
    [
        ("2022-10-16", "2022-10-16"),
        ("2022年10月16日", "2022-10-16"),
        ("2022.3", "2022-03"),
        ("2022年", "2022"),
        ("", None),
        ("2022/3/8", "2022-03-08"),
    ],
)
def test_editor_dates_are_read_in_common_forms(raw, iso):
    assert parse_date(raw) == iso


@pytest.mark.parametrize("raw", ["去年", "2022-13-01", "2022-02-30", "22-1-1"])
def test_bad_editor_dates_are_refused_with_a_hint(raw):
    with pytest.raises(UsageError) as e:
        parse_date(raw)
    assert "无法识别" in e.value.message and "2022-10-16" in e.value.hint
