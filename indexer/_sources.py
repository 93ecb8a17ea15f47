"""出处 lines: recognising them and splitting them into source, date and speaker; and the line
near the top of an article that names where it was published (“来源：浙江日报”).

    ——习近平2019年3月18日在学校思政课教师座谈会上的讲话
        → speaker 习近平, date 2019-03-18, source 在学校思政课教师座谈会上的讲话
    （《在中央全面依法治国委员会第一次会议上的讲话》，2018年8月24日）
        → source 《在中央全面依法治国委员会第一次会议上的讲话》, date 2018-08-24
    ——[唐]杜甫《春望》 → speaker 唐·杜甫, source 《春望》
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer._dates import find_date, find_dates
from indexer._outline import DASH

# People often named as the speaker of a quote; other names are accepted by position.
KNOWN_SPEAKERS = ("习近平", "毛泽东", "邓小平", "江泽民", "胡锦涛", "周恩来", "刘少奇", "朱德",
                  "陈云", "任弼时", "李大钊", "陈独秀", "孙中山", "鲁迅", "焦裕禄", "雷锋",
                  "谷文昌", "杨善洲", "孔子", "孟子", "老子", "庄子", "荀子", "韩非子", "墨子")
_TITLES = "总书记|同志|主席|总理|委员长|先生"
_DYNASTIES = ("先秦|春秋|战国|西汉|东汉|汉|三国|魏|西晋|东晋|晋|南北朝|南朝|北朝|隋|唐|五代|北宋|南宋|宋|"
              "元|明|清|近代|现代|当代")
_DYNASTY = re.compile(
    rf"^(?:[\[［（(〔【]\s*((?:{_DYNASTIES})[\u4e00-\u9fff]{{0,2}}?)\s*(?:代|朝)?\s*[\]］）)〕】]"
    rf"|({_DYNASTIES})(?:代|朝)?\s*[·•・]"
    rf"|({_DYNASTIES})代)\s*([^《〈\s，,、：:（(]{{1,8}}?)\s*(?=《|〈|[，,：:]|$)"
)
_SOURCE_WORDS = re.compile(
    r"讲话|会议|会上|大会|时的|时强调|时指出|致辞|贺信|贺电|回信|指示|批示|考察|调研|座谈|文章|报告|"
    r"演讲|发表|谈话|信中|访问|答记者|署名|论述|摘编|出自|摘自|选自|引自|节选|序言|题词|讲稿|"
    r"意见|决定|决议|纲要|公报|"
    r"《|〈"
)
_PREFIX = re.compile(r"^(?:摘自|选自|引自|出自|见于|见|来源[：:]|出处[：:])\s*")
_EDGE_PUNCT = "，,、；;：:。.．\u3000 "
_NAME_BEFORE = re.compile(
    rf"^(?:({'|'.join(KNOWN_SPEAKERS)})(?:{_TITLES})?\s*(?=在|于|《|〈)"
    rf"|([\u4e00-\u9fff]{{2,4}}?)(?:{_TITLES})?\s*(?=在|《|〈))"
)
_KNOWN_NAME = re.compile(rf"^({'|'.join(KNOWN_SPEAKERS)})(?:{_TITLES})?\s*(?:[：:，,的]\s*)?")
_NOT_NAMES = {"摘自", "选自", "引自", "出自", "来源", "出处", "见于", "会上", "大会", "会议"}


# What may follow a date and belongs to it: a range end (“—2月21日”), a season, a part of month.
_DATE_TAIL = re.compile(r"^\s*(?:[—–\-－~～至到]\s*(?:\d{1,2}\s*月\s*)?\d{1,2}\s*日"
                        r"|[春夏秋冬]季?|[初底末]|[上中下]旬)")


@dataclass
class Source:
    source: str | None = None
    date: str | None = None
    speaker: str | None = None


def looks_like_source(text: str) -> bool:
    """Whether a short text after a dash or in trailing brackets reads as a 出处."""
    t = strip_dash(text).strip()
    if not t or len(t) > 160:
        return False
    if find_date(t) or _SOURCE_WORDS.search(t) or _DYNASTY.match(t):
        return True
    return bool(_KNOWN_NAME.match(t))


def strip_dash(text: str) -> str:
    return re.sub(rf"^\s*{DASH}\s*", "", text)


def _trim(text: str) -> str:
    text = re.sub(r"[（(]\s*[）)]", "", text)
    text = re.sub(r"[，,]\s*[，,]", "，", text)
    return text.strip(_EDGE_PUNCT)


def _unwrap(text: str) -> str:
    t = text.strip()
    pairs = {"（": "）", "(": ")", "〔": "〕", "【": "】", "[": "]"}
    if len(t) >= 2 and t[0] in pairs and t[-1] == pairs[t[0]]:
        inner = t[1:-1]
        if pairs[t[0]] not in inner and t[0] not in inner:
            return inner.strip()
    return t


def parse_source(text: str) -> Source:
    """Split a 出处 line (dash or brackets already allowed) into its parts."""
    t = _unwrap(strip_dash(text).strip().rstrip("。．."))
    t = _PREFIX.sub("", t)
    out = Source()

    m = _DYNASTY.match(t)
    if m:
        dynasty = m.group(1) or m.group(2) or m.group(3)
        out.speaker = f"{dynasty}·{m.group(4)}"
        rest = _trim(t[m.end():])
        out.source = rest or None
        return out

    dates = find_dates(t)
    if dates:
        d = dates[0]
        out.date = d.iso
        before, after = t[:d.start], _DATE_TAIL.sub("", t[d.end:], count=1)
        before = re.sub(r"[于（(]\s*$", "", before)
        after = re.sub(r"^\s*[）)]", "", after)
        # keep the words on both sides; a comma between them only if both are present
        before, after = before.strip(_EDGE_PUNCT), after.strip(_EDGE_PUNCT)
        t = before + after if (not before or not after or after[0] in "在于《〈")\
            else f"{before}，{after}"
        t = _unwrap(t)

    m = _NAME_BEFORE.match(t)
    if m and (m.group(1) or m.group(2)) not in _NOT_NAMES:
        out.speaker = m.group(1) or m.group(2)
        t = t[m.end():]
    else:
        m = _KNOWN_NAME.match(t)
        if m:
            out.speaker = m.group(1)
            t = t[m.end():]
    t = re.sub(r"^于\s*", "", t.strip(_EDGE_PUNCT))
    t = _trim(t)
    out.source = t or None
    return out


# “来源：浙江日报”, “来源 : 南方日报”, “（来源：新华社）”, “稿件来源：省政府办公厅”
_SOURCE_LINE = re.compile(r"^\s*[（(【\[]?\s*(?:稿件|信息|文章|新闻|资料|内容)?来\s*源\s*[：:]\s*"
                          r"(?P<src>[^\n]{1,80}?)\s*[）)】\]]?[。.]?\s*$")
# what may follow the source on the same line and is not part of it
_SOURCE_TAIL = re.compile(r"\s{2,}|\s*[|｜]\s*|\s*(?:作者|编辑|责任编辑|责编|发布时间|发布日期|时间|日期)\s*[：:]"
                          r"|\s+(?=\d{4}\s*[年./-]|[—－-]{2})")
_DATE_LABEL = re.compile(r"^\s*[|｜]?\s*(?:发布时间|发布日期|时间|日期)?\s*[：:]?\s*")


def source_line(text: str) -> tuple[str, str | None] | None:
    """(source, ISO date or None) of a line that names where the text was published
    (“来源：浙江日报” → (“浙江日报”, None); “来源：人民网 2025年1月15日” → (“人民网”, “2025-01-15”));
    None for any other line. What follows the name on the same line (an author, a date, the
    subtitle when two lines were run together) is not part of it."""
    m = _SOURCE_LINE.match(text or "")
    if not m:
        return None
    src, date = m.group("src"), None
    cut = _SOURCE_TAIL.search(src)
    if cut:                     # “人民网 2025年1月15日”, “西江乡村振兴网 发布时间：2025-01-10 …”
        tail = _DATE_LABEL.sub("", src[cut.start():], count=1)
        dates = find_dates(tail)
        if dates and dates[0].start == 0:
            date = dates[0].iso
        src = src[:cut.start()]
    else:                       # “人民网2025年1月15日”
        dates = find_dates(src)
        if dates and not src[dates[-1].end:].strip(" ，,。（）()"):
            date, src = dates[-1].iso, src[:dates[-1].start]
    src = src.strip(_EDGE_PUNCT + "（）()—-")
    return (src, date) if src and len(src) <= 60 else None


__all__ = ["Source", "looks_like_source", "parse_source", "strip_dash", "source_line",
           "KNOWN_SPEAKERS"]
