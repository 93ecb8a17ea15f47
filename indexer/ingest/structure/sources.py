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

from indexer.ingest.structure.dates import find_date, find_dates
from indexer.ingest.structure.outline import DASH

# People often named as the speaker of a quote; other names are accepted by position.
KNOWN_SPEAKERS = (
    "习近平",
    "毛泽东",
    "邓小平",
    "江泽民",
    "胡锦涛",
    "周恩来",
    "刘少奇",
    "朱德",
    "陈云",
    "任弼时",
    "李大钊",
    "陈独秀",
    "孙中山",
    "鲁迅",
    "焦裕禄",
    "雷锋",
    "谷文昌",
    "杨善洲",
    "孔子",
    "孟子",
    "老子",
    "庄子",
    "荀子",
    "韩非子",
    "墨子",
)
_TITLES = "总书记|同志|主席|总理|委员长|先生"
_DYNASTIES = (
    "先秦|春秋|战国|西汉|东汉|汉|三国|魏|西晋|东晋|晋|南北朝|南朝|北朝|隋|唐|五代|北宋|南宋|宋|"
    "元|明|清|近代|现代|当代"
)
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
_DATE_TAIL = re.compile(
    r"^\s*(?:[—–\-－~～至到]\s*(?:\d{1,2}\s*月\s*)?\d{1,2}\s*日"
    r"|[春夏秋冬]季?|[初底末]|[上中下]旬)"
)


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
        rest = _trim(t[m.end() :])
        out.source = rest or None
        return out

    dates = find_dates(t)
    if dates:
        d = dates[0]
        out.date = d.iso
        before, after = t[: d.start], _DATE_TAIL.sub("", t[d.end :], count=1)
        before = re.sub(r"[于（(]\s*$", "", before)
        after = re.sub(r"^\s*[）)]", "", after)
        # keep the words on both sides; a comma between them only if both are present
        before, after = before.strip(_EDGE_PUNCT), after.strip(_EDGE_PUNCT)
        t = (
            before + after
            if (not before or not after or after[0] in "在于《〈")
            else f"{before}，{after}"
        )
        t = _unwrap(t)

    m = _NAME_BEFORE.match(t)
    if m and (m.group(1) or m.group(2)) not in _NOT_NAMES:
        out.speaker = m.group(1) or m.group(2)
        t = t[m.end() :]
    else:
        m = _KNOWN_NAME.match(t)
        if m:
            out.speaker = m.group(1)
            t = t[m.end() :]
    t = re.sub(r"^于\s*", "", t.strip(_EDGE_PUNCT))
    t = _trim(t)
    out.source = t or None
    return out


# “来源：浙江日报”, “来源 : 南方日报”, “（来源：新华社）”, “稿件来源：省政府办公厅”
_SOURCE_LINE = re.compile(
    r"^\s*[（(【\[]?\s*(?:稿件|信息|文章|新闻|资料|内容)?来\s*源\s*[：:]\s*"
    r"(?P<src>[^\n]{1,80}?)\s*[）)】\]]?[。.]?\s*$"
)
# what may follow the source on the same line and is not part of it
_SOURCE_TAIL = re.compile(
    r"\s{2,}|\s*[|｜]\s*|\s*(?:作者|编辑|责任编辑|责编|发布时间|发布日期|时间|日期)\s*[：:]"
    r"|\s+(?=\d{4}\s*[年./-]|[—－-]{2})"
)
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
    if cut:  # “人民网 2025年1月15日”, “西江乡村振兴网 发布时间：2025-01-10 …”
        tail = _DATE_LABEL.sub("", src[cut.start() :], count=1)
        dates = find_dates(tail)
        if dates and dates[0].start == 0:
            date = dates[0].iso
        src = src[: cut.start()]
    else:  # “人民网2025年1月15日”
        dates = find_dates(src)
        if dates and not src[dates[-1].end :].strip(" ，,。（）()"):
            date, src = dates[-1].iso, src[: dates[-1].start]
    src = src.strip(_EDGE_PUNCT + "（）()—-")
    return (src, date) if src and len(src) <= 60 else None


# -- speakers ----------------------------------------------------------------------------------

SPEAKERS_FILE = "speakers.txt"
# Titles that may follow a name; what is left is the name (“习近平总书记” → 习近平).
SPEAKER_TITLES = (
    "总书记",
    "副主席",
    "主席",
    "委员长",
    "总理",
    "总司令",
    "元帅",
    "将军",
    "同志",
    "先生",
    "院士",
)
# Titles that make an unknown two- or three-character name a public speaker (“张桂梅校长” is
# not enough: a 校长 in a story is a character, not a speaker).
_PUBLIC_TITLES = ("总书记", "主席", "总理", "委员长", "元帅", "将军", "同志", "先生", "院士")
# Common surnames: an unknown name must start with one.
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
    "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万"
    "钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝"
    "包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾"
    "尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬"
    "师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "令狐",
)
# Characters that, before a name, are far more often a preposition or verb than a surname.
_NOT_FIRST = set("向于和与同对给为把被让叫请在从自由跟比以将到经")


def _speaker_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def _split_forms(line: str) -> list[str]:
    return [f.strip() for f in re.split(r"\s*[=＝]\s*", line) if f.strip()]


class SpeakerTable:
    """Canonical speakers and their aliases: packaged data (``indexer/data/speakers.txt``) plus
    the library home's ``speakers.txt`` (same format; ``-甲`` removes the group holding 甲).

    A form in brackets (``[总书记]``) is a bare title: it stands for the group's speaker only in
    a document that names that speaker somewhere (see :meth:`named_in`); otherwise the mention
    is kept as written. Unknown names are never mapped to anybody."""

    def __init__(self, groups: list[list[str]]):
        self.groups: list[list[str]] = []
        for forms in groups:
            self._add(forms)

    def _add(self, forms: list[str]) -> None:
        forms = [f for f in forms if f.strip("[]")]
        if not forms:
            return
        names = {f.strip("[]") for f in forms}
        self.groups = [g for g in self.groups if not names & {f.strip("[]") for f in g}]
        self.groups.append(forms)
        self.__dict__.pop("_cache", None)

    def _remove(self, word: str) -> None:
        self.groups = [g for g in self.groups if word not in {f.strip("[]") for f in g}]
        self.__dict__.pop("_cache", None)

    @classmethod
    def parse(cls, text: str) -> SpeakerTable:
        return cls([_split_forms(ln) for ln in _speaker_lines(text)])

    @classmethod
    def load(cls, home=None) -> SpeakerTable:
        """The packaged table, with the edits of ``home/speakers.txt`` when ``home`` is given.
        A line that cannot be used is skipped: a bad editor file never stops an ingest."""
        from importlib import resources

        data = resources.files("indexer").joinpath("data").joinpath(SPEAKERS_FILE)
        table = cls.parse(data.read_text(encoding="utf-8"))
        if home is not None:
            from pathlib import Path

            path = Path(home) / SPEAKERS_FILE
            if path.is_file():
                table.apply(path.read_text(encoding="utf-8"))
        return table

    def apply(self, text: str) -> None:
        """Apply editor lines: ``甲 = 乙`` / ``+甲 = 乙`` add a group, ``-甲`` removes one."""
        for line in _speaker_lines(text):
            if line[0] in "-－":
                self._remove(line[1:].strip())
            else:
                self._add(_split_forms(line.lstrip("+＋")))

    # -- derived lookups (built once, not pickled) ----------------------------------------
    def __getstate__(self):
        return {"groups": self.groups}

    def __setstate__(self, state):
        self.groups = state["groups"]

    @property
    def _lookups(self) -> dict:
        cache = self.__dict__.get("_cache")
        if cache is None:
            alias, titles = {}, {}
            for forms in self.groups:
                canon = forms[0].strip("[]")
                for f in forms:
                    if f.startswith("[") and f.endswith("]"):
                        titles[f[1:-1]] = canon
                    else:
                        alias[f] = canon
            names = sorted(set(alias) | set(titles), key=len, reverse=True)
            titled = "|".join(SPEAKER_TITLES)
            pattern = re.compile(
                rf"(?:{'|'.join(map(re.escape, names))})(?:{titled})?" if names else r"(?!x)x"
            )
            generic = re.compile(rf"(?:{'|'.join(_PUBLIC_TITLES)})")
            cache = self.__dict__["_cache"] = {
                "alias": alias,
                "titles": titles,
                "pattern": pattern,
                "generic": generic,
            }
        return cache

    def canonical(self, name: str | None) -> str | None:
        """The canonical form of a name or alias (“习近平同志” → 习近平); other text unchanged."""
        if not name:
            return name
        alias = self._lookups["alias"]
        if name in alias:
            return alias[name]
        for t in SPEAKER_TITLES:
            if name.endswith(t) and name[: -len(t)] in alias:
                return alias[name[: -len(t)]]
        return name

    def is_known(self, name: str) -> bool:
        return self.canonical(name) in {g[0].strip("[]") for g in self.groups}

    def named_in(self, text: str) -> set[str]:
        """Canonical speakers a text names by their name or an unambiguous alias."""
        alias = self._lookups["alias"]
        out = set()
        for m in self._lookups["pattern"].finditer(text):
            word = m.group(0)
            c = self.canonical(word)
            if c in alias.values() and (
                word in alias
                or any(word.endswith(t) and word[: -len(t)] in alias for t in SPEAKER_TITLES)
            ):
                out.add(c)
        return out

    def resolve(self, mention: str, named: set[str] | frozenset = frozenset()) -> str:
        """The speaker a mention stands for: canonical when known; a bare title (总书记) when
        ``named`` (the document's :meth:`named_in`) holds its speaker; else as written without
        a trailing title (“张三同志” → 张三), or the bare title itself."""
        look = self._lookups
        if mention in look["alias"]:
            return look["alias"][mention]
        if mention in look["titles"]:
            canon = look["titles"][mention]
            return canon if canon in named else mention
        for t in SPEAKER_TITLES:
            if mention.endswith(t) and len(mention) > len(t):
                base = mention[: -len(t)]
                if base in look["alias"]:
                    return look["alias"][base]
                if base in look["titles"]:
                    canon = look["titles"][base]
                    return canon if canon in named else mention
                return base if len(base) >= 2 else mention
        return mention

    def mentions(self, text: str) -> list[tuple[int, int, str]]:
        """Speaker mentions in ``text`` as (start, end, mention): known names and aliases (with
        an optional title), bare titles of the table, and unknown two- or three-character names
        that start with a common surname and carry a public title (“张三同志”)."""
        look = self._lookups
        found = [(m.start(), m.end(), m.group(0)) for m in look["pattern"].finditer(text)]
        taken = [(s, e) for s, e, _ in found]
        for m in look["generic"].finditer(text):
            end = m.start()
            if any(s <= end - 1 < e or s < m.end() <= e for s, e in taken):
                continue
            name = _name_before(text, end)
            if name:
                found.append((end - len(name), m.end(), name + m.group(0)))
        return sorted(found)


def _name_before(text: str, end: int) -> str | None:
    """An unknown personal name that ends at ``end``: a compound surname plus one or two
    characters, or a common surname plus one or two characters."""
    for n in (3, 2):
        start = end - n
        if start < 0:
            continue
        name = text[start:end]
        if not re.fullmatch(r"[\u4e00-\u9fff]+", name):
            continue
        if name[:2] in _COMPOUND_SURNAMES and n == 3:
            return name
        if name[0] in _SURNAMES and not (n == 3 and name[0] in _NOT_FIRST):
            if n == 3 and name[1] in _NOT_FIRST | set("的了是在说"):
                continue
            if (
                n == 2
                and start > 0
                and text[start - 1] in _SURNAMES
                and text[start - 1] not in _NOT_FIRST
            ):
                continue  # a three-character name was refused above
            return name
    return None


_default_table: SpeakerTable | None = None


def default_speakers() -> SpeakerTable:
    """The packaged speaker table (read once per process)."""
    global _default_table
    if _default_table is None:
        _default_table = SpeakerTable.load()
    return _default_table


__all__ = [
    "Source",
    "looks_like_source",
    "parse_source",
    "strip_dash",
    "source_line",
    "KNOWN_SPEAKERS",
    "SpeakerTable",
    "default_speakers",
    "SPEAKERS_FILE",
    "SPEAKER_TITLES",
]
