"""Attributed quotations in running text (handouts, scripts, cases, Q&A answers, articles,
transcripts) → quote records; and the source-first items of official compilations.

A quotation is a quote record only when the text says who said it (or which work it comes
from) right where it quotes it. Recognised patterns (the name in brackets is the ``pattern``
a finding reports, used by ``bench/quote_accuracy.py``):

* ``colon``: speaker … verb + colon — ``习近平总书记指出：“基础不牢，地动山摇。”``; also a noun
  after the verb or after 的 before the colon (``概括了伟大建党精神：“…”``, ``的嘱托：“…”``);
* ``comma`` / ``bare``: speaker … verb + comma or nothing — ``总书记强调“全党要……”``;
* ``said``: 所说/所指出的(那样) — ``正如总书记所说：“民生无小事，枝叶总关情。”``;
* ``after``: the quotation before its attribution — ``“……”，习近平总书记这样说``,
  ``“……”这句话是习近平同志……提出的``;
* ``bracket``: a bracketed 出处 right after the quotation — ``“……”（《论语·为政》）``;
* ``work``: a named work introduces it — ``《孟子·离娄上》中说：“……”``, ``党的二十大报告指出：“……”``
  (no speaker: a document is not a person);
* ``pronoun``: 他/她 opening the sentence right after an attributed quotation — ``他还强调：“……”``;
* ``series``: a quotation that follows an attributed one with only punctuation between.

Who may be a speaker: a name or alias of the speaker table (``indexer/data/speakers.txt`` plus
the library home's ``speakers.txt``; see :class:`indexer.ingest.structure.sources.SpeakerTable`), a bare title
such as 总书记 (resolved when the document names its speaker, else kept as written), or an
unknown two- or three-character name with a public title (张三同志). Ordinary people in a story
(老莫说、一位老党员说、村民们说), proverbs (俗话说、古人云) and unnamed sources are not quote
records. The date and the occasion (出处) are taken from the attribution's own sentence only.

What is *not* a quote, whatever precedes it: a quotation followed by more words of the same
clause (“两重”建设、“雄鹰”企业、提出“两山”理念), a term after a verb without a colon (提出
“四个全面”), anything shorter than four characters, a quotation embedded in reported speech
(总书记强调，要坚持“两个毫不动摇”), and titles in 《》 (never quotation marks).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field

from indexer.ingest.structure.dates import find_dates
from indexer.ingest.structure.sources import (
    SpeakerTable,
    default_speakers,
    looks_like_source,
    parse_source,
)
from library.content import Passage, Quote

_OPENERS = {"“": "”", "「": "」"}
_CLOSERS = {"”": "“", "」": "「"}

# Speech verbs, longest first so that 指出 wins over 指.
_SAY_WORDS = sorted(
    set(
        "指出 强调 说 说过 说道 讲 讲过 讲道 讲到 谈到 谈及 提到 表示 要求 寄语 提出 指示 批示 写道 写到 "
        "告诫 勉励 嘱托 叮嘱 嘱咐 号召 提醒 宣布 宣告 坦言 感慨 回答 问道 阐述 阐明 概括 总结 重申 鼓励 "
        "期望 希望 深刻指出 明确指出 明确提出 鲜明提出 郑重宣告 庄严宣告 形象地说 曾说 曾经说 也说 "
        "肯定 充分肯定 称赞 赞扬 盛赞 夸赞 "
        "有言 有云 云 曰 记载 写 题词 题写".split()
    ),
    key=len,
    reverse=True,
)
_SAY = "|".join(_SAY_WORDS)
# Verbs that open a *term* as easily as a saying (提出“两山”理念): they need a colon or a long,
# sentence-like quotation.
_TERM_VERBS = {"提出", "明确提出", "鲜明提出", "概括", "总结", "阐述", "阐明", "写", "希望", "期望"}
_ADV_WORDS = sorted(
    set(
        "还 也 又 曾 曾经 多次 反复 再次 一再 首次 进一步 深刻 明确 郑重 特别 专门 亲切 殷切 深情 动情 "
        "语重心长 意味深长 形象 生动 风趣 坚定 鲜明 庄严 严肃 谆谆 都 就此 对此 同时 随后 接着 当时 "
        "曾在 这样 如此 经常 常 总是 始终 一直 早就 早在 更 则 便 就 高度 充分 深入 系统 集中 着重 "
        "满怀深情 饱含深情 充满感情 感慨 幽默 诙谐 一针见血 开宗明义 掷地有声 斩钉截铁 言简意赅 "
        "强调 指出".split()
    ),
    key=len,
    reverse=True,
)
_ADV = rf"(?:(?:{'|'.join(_ADV_WORDS)})地?)"
_NOUNS = (
    "重要论述|重要讲话|重要指示|殷殷嘱托|殷切嘱托|谆谆教诲|话语|嘱托|叮嘱|教导|教诲|告诫|要求|论述|"
    "论断|寄语|讲话|话"
)

_SENT_END = "。！？!?；;\n"
_VERB_END = re.compile(
    rf"(?:(?P<said>所(?:{_SAY})(?:的)?(?:那样|一样)?)"
    rf"|(?P<verb>{_SAY})(?:道|过|了|到)?)$"
)
_PRONOUN = re.compile(
    rf"^(?:(?:同时|随后|接着|此外|最后|讲话中|会上|在讲话中|在会上|他还|她还)[，,]?)?"
    rf"(?:他|她)(?:{_ADV})*(?:在[^，,。“”]{{1,20}}?(?:中|上|时))?(?:{_ADV})*$"
)
# What may stand between a speaker (and the occasion) and the quotation:
_TAIL_VERB = re.compile(
    rf"^(?:{_ADV})*(?P<said>所)?(?P<verb>{_SAY})(?:道|过|了|到)?(?:的)?"
    rf"(?:那样|一样)?$"
)  # 指出 / 所说的那样
_TAIL_VERB_OBJ = re.compile(
    rf"^(?:{_ADV})*(?P<verb>{_SAY})(?:道|过|了|到|出|下了|下)?"
    rf"[^，,。！？；：:“”\s]{{1,16}}$"
)  # 告诫全党 (colon only)
_TAIL_NOUN = re.compile(
    rf"^(?:(?:{_ADV})*(?P<verb>{_SAY})(?:过|了)?)?的(?:[\u4e00-\u9fff]{{0,4}}?)"
    rf"(?:{_NOUNS})(?:[^，,。！？；：:“”\s]{{0,8}})$"
)  # 的嘱托 / 讲的一句话
_TAIL_HAS = re.compile(r"^有(?:[一两几]句)?(?:诗|话|名言|诗句|名句)$")  # 陆游有两句诗
_TAIL_POSS = re.compile(r"^的$")  # 总书记的“……”
_TAIL_BARE_NOUN = re.compile(r"^的(?:名句|名言|诗句|话)$")  # 《元日》中的名句“……”
# A name right after a preposition is not the speaker (毛泽东同志为雷锋题词).
_OBJECT_BEFORE = set("为给向对同与和跟把被让请替")
_NOT_IN_LAST = re.compile(r"[的让使令被把给跟和与对]")
# A work that introduces a quotation: a title in 《》 or a named party document.
_CN_NUM = "[一二三四五六七八九十]"
_WORK = re.compile(
    rf"(?:《[^《》“”]{{1,40}}》|(?:党的)?{_CN_NUM}{{1,3}}大报告|党的{_CN_NUM}{{1,3}}届{_CN_NUM}中全会"
    rf"(?:公报|决定)?|历史决议|政府工作报告)(?:[一二三四五六七八九十第条章节篇卷]{{0,6}})?"
)
# Pieces of the attribution between the speaker and the verb.
_OCCASION_START = re.compile(
    r"^(?:在|于|从|同|与|对|向|给|致|就|为|出席|参加|主持|视察|考察|调研|看望|会见|接见|来到|走进|参观|"
    r"回信|致信|听取|接受|会见|面对|谈及|谈起|谈到|结合|针对|围绕|通过|借|以)"
)
_OCCASION_END = re.compile(r"(?:时|上|中|期间|之际|之时|以后|之后|后|前|里|时候)$")
_WRITING_END = re.compile(r"(讲话|报告|贺信|回信|贺词|致辞|批示|指示|序言|演讲|谈话|文章)$")
_WRITING = re.compile(
    r"(讲话|报告|贺信|回信|信|文章|贺词|致辞|批示|指示|序言|演讲|署名文章|主旨演讲|谈话)中$"
)
# What may follow a quotation that is the whole of what was said.
_FOLLOW_OK = re.compile(r"^(?:$|[\s。，,；;！!？?、…—）)】：:」』’]|这句|这段|这番|这些话|这一)")
# The attribution after a quotation: “……”，习近平总书记这样说 / “……”这句话是……提出的 /
# “……”2012年11月29日，……时说了这句话 / “……”林则徐的这两句诗 / “……”这句话出自《……》
_AFTER_LEAD = re.compile(
    r"^\s*[，,。]?\s*(?:(?:这句话|这段话|这番话|这些话|这句|这)(?:是|出自|来自)?)?\s*"
    r"(?:(?:[秦汉晋隋唐宋元明清]|东汉|西汉|东晋|西晋|北宋|南宋|三国)(?:代|朝)?(?:时期)?)?"
)
_AFTER_TAIL = re.compile(
    rf"^(?P<mid>[^。！？；“”\n]{{0,80}}?)(?P<adv>{_ADV}*)(?P<verb>{_SAY})(?:出来|来|过|了|道)?的?"
    rf"(?:这句话|这番话|这段话|这些话|话)?(?=[。，,！!？?；;]|$)"
)
_AFTER_SO = re.compile(  # ……这样寄语青年。
    rf"^(?P<mid>[^。！？；“”\n]{{0,80}}?)(?:这样|如此)(?P<verb>{_SAY})[^，,。！？；“”\n]{{0,6}}"
    rf"(?=[。，,！!？?；;]|$)"
)
_AFTER_NOUN = re.compile(
    r"^(?P<mid>[^。！？；“”\n]{0,60}?)(?:的)?(?:这|那)(?:一|两|几)?(?:句|番|段|些|首)?"
    r"(?:话|诗|诗句|名言|名句|论述|论断|重要论述|重要论断)"
)
_AFTER_WORK = re.compile(
    r"^\s*[，,。]?\s*(?:(?:这句话|这段话|这两句|这句|这)?(?:出自|语出|见于|引自)\s*"
    r"(?P<a>《[^《》]{1,40}》)|(?P<b>《[^《》]{1,40}》)(?:中|里|上)?的?(?:这|那)(?:一|两)?"
    r"(?:句|段|番)?(?:话|名言|论述|诗句|诗))"
)
_BRACKET_AFTER = re.compile(r"^\s*[（(]([^（）()]{2,80})[）)]")


MAX_LEAD = 160  # characters of attribution looked at before a quotation


@dataclass
class Finding:
    text: str  # the words quoted, without the outer quotation marks
    speaker: str | None = None
    date: str | None = None
    source: str | None = None
    pattern: str = ""
    start: int = 0  # span of the quotation, marks included
    end: int = 0
    lead_start: int = 0  # where the attribution begins (≤ start for a lead)
    extra: dict = field(default_factory=dict)


def quotation_spans(text: str) -> list[tuple[int, int]]:
    """Top-level “…” (and 「…」) spans, marks included. Nested or wrongly nested inner marks
    stay inside; a quotation left open at a line break is dropped."""
    spans: list[tuple[int, int]] = []
    depth, start = 0, -1
    for i, ch in enumerate(text):
        if ch in _OPENERS:
            if depth == 0:
                start = i
            depth += 1
        elif ch in _CLOSERS and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, i + 1))
        elif ch == "\n" and depth:
            depth = 0
    return spans


def _content_len(text: str) -> int:
    return len(re.sub(r"[\W_]", "", text))


def _strip_dates(piece: str) -> tuple[str, list[str]]:
    """A piece with the dates at its very start removed, and every date in it (ISO): “2013年3月17日
    在……上” → “在……上”; a date inside an occasion stays there (“在2018年春节团拜会上”)."""
    isos = [d.iso for d in find_dates(piece)]
    while True:
        ds = find_dates(piece)
        if not ds or ds[0].start > 0:
            return piece, isos
        piece = piece[ds[0].end :].lstrip("，, ")


def _pieces(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[，,]", text) if p.strip()]


def _adverbs_only(piece: str) -> bool:
    return bool(re.fullmatch(rf"(?:{_ADV})+(?:(?:{_SAY})(?:并|和|、|又))?", piece))


def _classify_mid(mid: str) -> tuple[bool, list[str], list[str]]:
    """(clean, dates, occasions) for the words between a speaker and the verb."""
    dates: list[str] = []
    occasions: list[str] = []
    for piece in _pieces(mid):
        piece, ds = _strip_dates(piece)
        dates += ds
        if not piece:
            continue
        adv = re.match(rf"^(?:{_ADV})+", piece)
        core = piece
        if adv and not _OCCASION_START.match(piece):
            core = piece[adv.end() :]
        if not core:
            continue
        if _adverbs_only(core):
            continue
        tail_adv = re.search(rf"(?:{_ADV})+$", core)
        body = core[: tail_adv.start()] if tail_adv and tail_adv.start() > 0 else core
        if len(body) > 60:
            return False, [], []
        if (
            _OCCASION_START.match(body)
            or _OCCASION_END.search(body)
            or "《" in body
            or _WRITING_END.search(body)
        ):
            occasions.append(body)
            continue
        return False, [], []
    return True, dates, occasions


def _occasion_text(occasions: list[str]) -> str | None:
    # “为雷锋”“对广大青年” say to whom, not where: not an occasion
    occasions = [
        o
        for o in occasions
        if _OCCASION_END.search(o)
        or "《" in o
        or re.search(r"(讲话|报告|贺信|回信|信|文章|贺词|致辞|批示|指示|演讲|谈话)$", o)
    ]
    if not occasions:
        return None
    occ = "，".join(occasions)
    occ = _WRITING.sub(r"\1", occ)
    m = re.fullmatch(r"(?:在|从|于)?\s*(《[^《》]+》)\s*(?:中|里|上|一书中|一文中)?", occ)
    if m:
        return m.group(1)
    return occ.strip("，, ") or None


def _best_date(isos: list[str]) -> str | None:
    return max(isos, key=len) if isos else None


@dataclass
class _Context:
    table: SpeakerTable
    named: set[str]
    mentions: list[tuple[int, int, str]]
    starts: list[int] = field(default_factory=list)

    def between(self, lo: int, hi: int) -> list[tuple[int, int, str]]:
        """Mentions that start in [lo, hi)."""
        return self.mentions[bisect_left(self.starts, lo) : bisect_left(self.starts, hi)]


def _split_tail(rest: str, punct: str) -> tuple[str, dict] | None:
    """Split what stands between a speaker (or a work) and the quotation into the occasion part
    and the verb part: (mid, info) or None. ``info``: the verb, whether it is a 所-form, and
    whether it is a noun (的嘱托, 讲的一句话) or a free phrase (立下志向)."""
    for v in range(len(rest), -1, -1):  # the verb nearest the quotation first
        tail = rest[v:]
        m = _TAIL_VERB.match(tail)
        info = None
        if m:
            info = {"verb": m.group("verb"), "said": bool(m.group("said"))}
        elif punct == "colon" and (m := _TAIL_VERB_OBJ.match(tail)):
            info = {"verb": m.group("verb"), "said": False}
        elif punct in ("colon", "comma") and (
            (m := _TAIL_NOUN.match(tail)) or _TAIL_HAS.match(tail)
        ):
            info = {"verb": "", "said": False, "noun": True}
        elif punct == "bare" and (_TAIL_POSS.match(tail) or _TAIL_BARE_NOUN.match(tail)):
            info = {"verb": "", "said": False, "noun": True}
        elif punct == "bare" and not rest:
            # 总书记“奋勇争先、更加出彩”的殷殷嘱托: accepted by _quote_ok only when what follows
            # names it as something said (_FOLLOW_SAID)
            info = {"verb": "", "said": False, "noun": True, "needs_follow": True}
        if info is None:
            continue
        ok, _, _ = _classify_mid(rest[:v])
        if ok:
            return rest[:v], info
    if punct == "colon":
        pieces = re.split(r"[，,]", rest)
        last = pieces[-1].strip()
        mid = rest[: len(rest) - len(pieces[-1])]
        if last and len(last) <= 10 and not _NOT_IN_LAST.search(last) and _classify_mid(mid)[0]:
            return mid, {"verb": "", "said": False, "free": True}
    return None


def _lead(text: str, qs: int, clause_start: int, ctx: _Context) -> Finding | None:
    """The attribution before the quotation at ``qs`` (its clause begins at ``clause_start``)."""
    raw = text[clause_start:qs]
    s = raw.rstrip()
    punct = "bare"
    if s.endswith(("：", ":")):
        punct, s = "colon", s[:-1].rstrip()
    elif s.endswith(("，", ",")):
        punct, s = "comma", s[:-1].rstrip()
    if not s:
        return None
    base, end = clause_start, clause_start + len(s)
    inside = [
        m
        for m in ctx.between(base, end)
        if m[1] <= end and not (m[0] > 0 and text[m[0] - 1] in _OBJECT_BEFORE)
    ]
    # a pronoun opening the sentence: inherits from the attributed quotation just before it
    m = _VERB_END.search(s)
    if m and not inside and _PRONOUN.search(s[: m.start()].strip()):
        return Finding(
            "",
            pattern="pronoun",
            lead_start=clause_start,
            extra={"verb": m.group("said") or m.group("verb"), "punct": punct},
        )
    if inside:
        ms, me, mention = inside[-1]
        split = _split_tail(text[me:end], punct)
        if split is None:
            return None
        mid, info = split
        _, dates, occasions = _classify_mid(mid)
        _, pre_dates, pre_occ = _classify_pre(text[clause_start:ms])
        return Finding(
            "",
            speaker=ctx.table.resolve(mention, ctx.named),
            date=_best_date(dates + pre_dates),
            source=_occasion_text(occasions or pre_occ),
            pattern="said" if info["said"] else punct,
            lead_start=ms if not pre_dates and not pre_occ else clause_start,
            extra=dict(info, punct=punct),
        )
    # a work: 《孟子·离娄上》中说, 党的二十大报告指出
    works = list(_WORK.finditer(s))
    if works:
        w = works[-1]
        rest = re.sub(r"^(?:中|里|上|一书中|一文中)", "", s[w.end() :])
        split = _split_tail(rest, punct)
        if split is not None and not split[1].get("free"):
            mid, info = split
            ok, dates, occasions = _classify_mid(mid)
            if ok and not occasions:
                _, pre_dates, _ = _classify_pre(s[: w.start()])
                return Finding(
                    "",
                    speaker=None,
                    date=_best_date(dates + pre_dates),
                    source=w.group(0),
                    pattern="work",
                    lead_start=base + w.start(),
                    extra=dict(info, punct=punct),
                )
    return None


# words around a date that still make it the date of the saying (早在2005年8月15日, 2013年11月3日上午)
_DATE_LEAD = re.compile(r"^(?:早在|早于|还在|就在|正是在|是在)")
_DATE_FILLER = re.compile(r"(?:上午|下午|晚上|晚间|当天|当晚|前夕|期间|同年|初|底|末|春节前夕)*")


def _classify_pre(pre: str) -> tuple[bool, list[str], list[str]]:
    """Dates and occasions in the words before the speaker (“2013年3月17日，” “在……上，”)."""
    dates, occasions = [], []
    for piece in _pieces(pre):
        lead = _DATE_LEAD.sub("", piece)
        piece, ds = _strip_dates(lead)
        opens_with_date = bool(ds) and piece != lead
        occasion = (
            piece
            and (_OCCASION_START.match(piece) and _OCCASION_END.search(piece))
            and len(piece) <= 60
            and not re.match(r"^(?:正如|就像|正像|诚如|如)", piece)
        )
        # a date alone (“2013年3月17日，”) or in the occasion dates the saying; one inside other
        # words of the sentence does not (“有力应对2008年以来最严重的冰冻灾害，总书记肯定……”)
        if not piece or occasion or opens_with_date or _DATE_FILLER.fullmatch(piece):
            dates += ds
        if occasion:
            occasions.append(piece)
    return True, dates, occasions


def _after(text: str, qe: int, ctx: _Context) -> Finding | None:
    """An attribution right after the quotation (see ``_AFTER_*``)."""
    window = text[qe : qe + 160]
    w = _AFTER_WORK.match(window)
    if w:
        return Finding(
            "",
            speaker=None,
            source=w.group("a") or w.group("b"),
            pattern="after",
            extra={"attr_end": qe + w.end()},
        )
    m = _AFTER_LEAD.match(window)
    pos = m.end() if m else 0
    date = None
    d = find_dates(window[pos : pos + 24])
    if d and d[0].start == 0:
        date = d[0].iso
        pos += d[0].end
        pos += len(window[pos:]) - len(window[pos:].lstrip("，, "))
    pos += qe
    for _ms, me, mention in ctx.between(pos, pos + 1):
        rest = text[me : me + 120]
        t = _AFTER_TAIL.match(rest) or _AFTER_SO.match(rest)
        if t:
            ok, dates, occasions = _classify_mid(t.group("mid"))
            if ok:
                return Finding(
                    "",
                    speaker=ctx.table.resolve(mention, ctx.named),
                    date=_best_date(dates + ([date] if date else [])),
                    source=_occasion_text(occasions),
                    pattern="after",
                    extra={"attr_end": me + t.end()},
                )
        t = _AFTER_NOUN.match(rest)
        if t and not date:
            ok, dates, occasions = _classify_mid(t.group("mid"))
            if ok:
                return Finding(
                    "",
                    speaker=ctx.table.resolve(mention, ctx.named),
                    date=_best_date(dates),
                    source=_occasion_text(occasions),
                    pattern="after",
                    extra={"attr_end": me + t.end()},
                )
        return None
    b = _BRACKET_AFTER.match(window)
    if (
        b
        and looks_like_source(b.group(1))
        and ("《" in b.group(1) or find_dates(b.group(1)))
        and _more_than_dates(b.group(1))
    ):
        src = parse_source(b.group(1))
        speaker = ctx.table.resolve(src.speaker, ctx.named) if src.speaker else None
        return Finding(
            "",
            speaker=speaker,
            date=src.date,
            source=src.source,
            pattern="bracket",
            extra={"attr_end": qe + b.end()},
        )
    return None


def _more_than_dates(text: str) -> bool:
    """A bracket after a quotation that holds only a date or a period (“三年行动”（2025—2027年）)
    dates a programme; it does not say who said what."""
    rest = re.sub(r"[\s0-9０-９年月日号—–\-－~～至到、，,.．/]", "", _strip_dates_all(text))
    return bool(rest)


# what names a quotation standing right after its speaker as something said
_FOLLOW_SAID = re.compile(
    r"^的(?:殷殷|殷切|谆谆|重要|重大)?(?:嘱托|要求|指示|教诲|期望|期许|寄语|勉励|号召|叮嘱|嘱咐)"
)


def _quote_ok(inner: str, found: Finding, follow: str) -> bool:
    """Whether the quoted words are a saying rather than a term, a title or a fragment."""
    n = _content_len(inner)
    if n < 4 or re.fullmatch(r"\s*《[^》]*》\s*", inner):
        return False
    if found.extra.get("needs_follow"):
        return bool(_FOLLOW_SAID.match(follow)) and n >= 6
    if found.pattern in ("after", "bracket"):
        return n >= 4
    if not _FOLLOW_OK.match(follow) and not re.search(r"[。！？!?…]$", inner):
        return False
    verb = found.extra.get("verb", "")
    punct = found.extra.get("punct", "colon")
    if punct != "colon":
        if n < 6:
            return False
        if verb in _TERM_VERBS and (n < 8 or not re.search(r"[，,。；;！!？?]", inner)):
            return False
    return True


def find_quotes(
    text: str, *, table: SpeakerTable | None = None, named: set[str] | None = None
) -> list[Finding]:
    """Every attributed quotation in ``text`` (one passage or paragraph), in order."""
    table = table or default_speakers()
    named = named if named is not None else table.named_in(text)
    titles = [(m.start(), m.end()) for m in re.finditer(r"《[^《》]*》", text)]
    mentions = [m for m in table.mentions(text) if not any(s <= m[0] < e for s, e in titles)]
    ctx = _Context(table, named, mentions, [m[0] for m in mentions])
    out: list[Finding] = []
    prev_end = 0
    prev: Finding | None = None
    for qs, qe in quotation_spans(text):
        inner = text[qs + 1 : qe - 1].strip()
        between = text[prev_end:qs]
        cut = max((between.rfind(c) for c in _SENT_END), default=-1)
        clause_start = prev_end + cut + 1 if cut >= 0 else prev_end
        clause_start = max(clause_start, qs - MAX_LEAD)  # bounded work on run-on text
        follow = text[qe : qe + 8]
        anchor = max(prev_end, prev.extra.get("attr_end", 0)) if prev is not None else prev_end
        found = _lead(text, qs, clause_start, ctx)
        if found is not None and found.pattern == "pronoun":
            # only right after an attributed quotation, with no one else named since
            if (
                prev is None
                or clause_start - anchor > 4
                or any(True for _ in ctx.between(anchor, qs))
            ):
                found = None
            else:
                found.speaker, found.date, found.source = prev.speaker, prev.date, prev.source
        if found is None:
            found = _after(text, qe, ctx)
        if (
            found is None
            and prev is not None
            and prev_end > 0
            and re.fullmatch(r"[ \u3000，,、；;和及以与]*", between)
        ):
            found = Finding(
                "",
                prev.speaker,
                prev.date,
                prev.source,
                "series",
                extra={"punct": "colon", "verb": ""},
            )
        if found is not None and _quote_ok(inner, found, follow):
            found.text = inner
            found.start, found.end = qs, qe
            if found.pattern in ("after", "bracket"):
                found.lead_start = qs
            out.append(found)
            prev = found
        else:
            prev = None
        prev_end = qe
    return out


def source_first(
    text: str, *, table: SpeakerTable | None = None, named: set[str] | None = None
) -> list[Finding] | None:
    """A compilation item in the source-first style (“2013年3月17日，习近平在……上强调：“……””):
    the findings when the item is an attribution followed by its quotation(s) and nothing else
    but punctuation, else None."""
    found = find_quotes(text, table=table, named=named)
    if not found or found[0].pattern in ("after", "bracket", "series", "pronoun"):
        return None
    if text[: found[0].lead_start].strip(" \u3000，,。") and found[0].pattern != "work":
        head = text[: found[0].lead_start]
        ok, _, _ = _classify_pre(head)
        if not ok or re.search(r"[\u4e00-\u9fff]", _strip_dates_all(head)):
            return None
    pos = found[0].end
    for f in found[1:]:
        if f.pattern != "series" and text[pos : f.start].strip(" \u3000，,。；;\n"):
            return None
        pos = f.end
    if _content_len(text[pos:]) > 0:
        return None
    for f in found:
        f.extra["layout"] = f.pattern
        f.pattern = "source-first"
    return found


def _strip_dates_all(text: str) -> str:
    for d in reversed(find_dates(text)):
        text = text[: d.start] + text[d.end :]
    return text


def quotes_in_passages(
    passages: list[Passage], table: SpeakerTable | None = None, named: set[str] | None = None
) -> list[tuple[Quote, Finding]]:
    """Quote records (with the finding behind each) for the attributed quotations of
    ``passages``: theme = the Q&A question or the passage's innermost heading, page = the
    passage's page; the passage itself is the quotation's context."""
    table = table or default_speakers()
    if named is None:
        named = table.named_in("\n".join(p.text for p in passages))
    out: list[tuple[Quote, Finding]] = []
    for p in passages:
        if "“" not in p.text and "「" not in p.text:
            continue
        for f in find_quotes(p.text, table=table, named=named):
            theme = (
                p.question
                if p.kind == "qa" and p.question
                else (p.heading_path[-1] if p.heading_path else None)
            )
            out.append(
                (
                    Quote(
                        text=f.text,
                        source=f.source,
                        date=f.date,
                        speaker=f.speaker,
                        theme=theme,
                        page=p.page,
                        seq=len(out) + 1,
                    ),
                    f,
                )
            )
    return out


__all__ = ["Finding", "find_quotes", "source_first", "quotation_spans", "quotes_in_passages"]
