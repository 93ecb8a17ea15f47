"""Finding dates in Chinese text and turning them into ISO strings.

Recognised forms (full-width digits are read as digits):

* ``2020年12月28日``, ``2020 年 12 月 28 日`` → ``2020-12-28``
* ``2019.3.18``, ``2019-3-18``, ``2019/3/18`` → ``2019-03-18``
* ``2019年3月``, ``2019.3`` → ``2019-03``; ``2019年`` → ``2019``
* ``二〇一九年三月十八日`` (Chinese numerals) → ``2019-03-18``; ``二〇一八年`` → ``2018``

:func:`find_date` returns the first (most precise at that place) date with its span, so that a
caller can cut the date out of a 出处 line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FULLWIDTH_DIGITS = {ord("０") + i: ord("0") + i for i in range(10)}
_FULLWIDTH_DIGITS.update({ord("．"): ord("."), ord("／"): ord("/"), ord("－"): ord("-")})

_CN_DIGIT = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "Ｏ": 0,
    "O": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_YEAR = "[〇○零Ｏ一二三四五六七八九]"
_CN_SMALL = "[一二三四五六七八九十]{1,3}"

# Order matters: at the same start position the longest (most precise) form wins.
_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]"), "ymd"),
    (re.compile(r"(?<![\d.])(\d{4})\s*([./-])\s*(\d{1,2})\s*\2\s*(\d{1,2})(?![\d.])"), "ymd_sep"),
    (re.compile(rf"({_CN_YEAR}{{4}})年({_CN_SMALL})月(?:({_CN_SMALL})[日号])?"), "cn"),
    (re.compile(r"(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月"), "ym"),
    (re.compile(r"(?<![\d.])(\d{4})\s*[./]\s*(\d{1,2})(?![\d.])"), "ym_sep"),
    (re.compile(r"(?<!\d)(\d{4})\s*年(?!\s*\d{1,2}\s*[月日])"), "y"),
    (re.compile(rf"({_CN_YEAR}{{4}})年(?!{_CN_SMALL}月)"), "cn_y"),
]


@dataclass(frozen=True)
class FoundDate:
    iso: str
    start: int
    end: int


def _cn_number(s: str) -> int:
    """一..九, 十, 十一, 二十, 二十八, 三十一."""
    if "十" not in s:
        return _CN_DIGIT.get(s, 0) if len(s) == 1 else 0
    head, _, tail = s.partition("十")
    tens = _CN_DIGIT.get(head, 0) if head else 1
    ones = _CN_DIGIT.get(tail, 0) if tail else 0
    return tens * 10 + ones


def _iso(y: int, m: int | None = None, d: int | None = None) -> str | None:
    if not 1900 <= y <= 2100:
        return None
    if m is None:
        return f"{y:04d}"
    if not 1 <= m <= 12:
        return None
    if d is None:
        return f"{y:04d}-{m:02d}"
    if not 1 <= d <= 31:
        return None
    return f"{y:04d}-{m:02d}-{d:02d}"


def _convert(kind: str, m: re.Match) -> str | None:
    g = m.groups()
    if kind == "ymd":
        return _iso(int(g[0]), int(g[1]), int(g[2]))
    if kind == "ymd_sep":
        return _iso(int(g[0]), int(g[2]), int(g[3]))
    if kind == "cn":
        year = int("".join(str(_CN_DIGIT[c]) for c in g[0]))
        return _iso(year, _cn_number(g[1]), _cn_number(g[2]) if g[2] else None)
    if kind in ("ym", "ym_sep"):
        return _iso(int(g[0]), int(g[1]))
    if kind == "cn_y":
        return _iso(int("".join(str(_CN_DIGIT[c]) for c in g[0])))
    return _iso(int(g[0]))


def find_dates(text: str) -> list[FoundDate]:
    """Every date in ``text``, left to right, without overlaps."""
    t = text.translate(_FULLWIDTH_DIGITS)  # same length: spans stay valid for ``text``
    found: list[FoundDate] = []
    for pattern, kind in _PATTERNS:
        for m in pattern.finditer(t):
            if any(f.start < m.end() and m.start() < f.end for f in found):
                continue
            iso = _convert(kind, m)
            if iso:
                found.append(FoundDate(iso, m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


def find_date(text: str) -> FoundDate | None:
    """The first date in ``text`` (by position), or None."""
    dates = find_dates(text)
    return dates[0] if dates else None


def parse_date(text: str) -> str | None:
    """The ISO form of the first date in ``text``, or None."""
    f = find_date(text)
    return f.iso if f else None


# A line that ends in the middle of a date ("2019年3月" | "2019年" | "2019.") whose next line
# carries the rest ("18日…").
_DATE_HEAD_END = re.compile(
    r"(?:\d{4}\s*年\s*(?:\d{1,2}\s*月?)?|\d{4}\s*[./]\s*(?:\d{1,2}\s*[./]?)?"
    r"|\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2})\s*$"
)
_DATE_TAIL_START = re.compile(r"^\s*(?:\d{1,2}\s*[月日号.]|\d{1,2}(?!\d)|[月日号])")


def splits_date(first: str, second: str) -> bool:
    """True when a date starts at the end of ``first`` and continues at the start of ``second``."""
    a = first.translate(_FULLWIDTH_DIGITS)
    b = second.translate(_FULLWIDTH_DIGITS)
    if not _DATE_HEAD_END.search(a) or not _DATE_TAIL_START.match(b):
        return False
    joined = a + b
    cut = len(a)
    return any(f.start < cut < f.end for f in find_dates(joined))


__all__ = ["FoundDate", "find_date", "find_dates", "parse_date", "splits_date"]
