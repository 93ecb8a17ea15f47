"""Two normalizations for two purposes (decision 5 of the architecture guide).

* :func:`display` — what a speaker sees and copies: Kangxi radicals, CJK radicals that stand for
  whole characters, and compatibility ideographs become the unified ideographs; control and
  zero-width characters go; Chinese full-width punctuation stays as it is.
* :func:`for_search` — what the index and the query compare: NFKC + casefold, so that full-width
  digits and letters equal half-width ones and ⾰⽤⼤ equal 革用大.
  :func:`for_search_with_map` also returns, for every output character, the index of the input
  character it came from, so that highlights can be placed on the display text.
"""

from __future__ import annotations

import re
import unicodedata

# CJK Radicals Supplement characters that PDF producers emit instead of the simplified
# character. NFKC maps only U+2E9F and U+2EF3; the rest have no decomposition.
_RADICAL_SUPPLEMENT = {
    "\u2ec5": "见",
    "\u2ec6": "角",
    "\u2ec8": "讠",
    "\u2ec9": "贝",
    "\u2ecb": "车",
    "\u2ed0": "钅",
    "\u2ed3": "长",
    "\u2ed4": "门",
    "\u2ed9": "韦",
    "\u2eda": "页",
    "\u2edb": "风",
    "\u2edc": "飞",
    "\u2ee0": "饣",
    "\u2ee2": "马",
    "\u2ee5": "鱼",
    "\u2ee6": "鸟",
    "\u2ee7": "卤",
    "\u2ee8": "麦",
    "\u2ee9": "黄",
    "\u2eea": "黾",
    "\u2eec": "齐",
    "\u2eee": "齿",
    "\u2ef0": "龙",
    "\u2ef3": "龟",
    "\u2e9f": "母",
    "\u2ea0": "民",
    "\u2ed8": "青",
    "\u2ec4": "西",
    "\u2edd": "食",
    "\u2eb0": "纟",
}

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = {ord(c): " " for c in "\u00a0\u2002\u2003\u2009\u202f\u3000\t"}


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") and ch != "\n"


def _display_char(ch: str) -> str:
    cp = ord(ch)
    if 0x2F00 <= cp <= 0x2FD5 or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F:
        return unicodedata.normalize("NFKC", ch)
    if 0x2E80 <= cp <= 0x2EFF:
        return _RADICAL_SUPPLEMENT.get(ch, ch)
    return ch


def display(text: str, *, keep_spaces: bool = False) -> str:
    """Clean text for display and copying. Keeps line breaks and Chinese punctuation."""
    if not text:
        return ""
    text = text.translate(_ZERO_WIDTH)
    if not keep_spaces:
        text = text.translate(_SPACES)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for ch in text:
        if ch == "\n":
            out.append(ch)
        elif _is_control(ch):
            continue
        else:
            out.append(_display_char(ch))
    return "".join(out)


def display_line(text: str) -> str:
    """A one-line display form: :func:`display`, then runs of white space folded to one space,
    and spaces between two CJK characters dropped (they are layout, not content)."""
    t = re.sub(r"\s+", " ", display(text)).strip()
    return _CJK_GAP.sub("", t)


_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]"
_CJK_GAP = re.compile(rf"(?<={_CJK}) +(?={_CJK})")


def _search_char(ch: str) -> str:
    ch = _RADICAL_SUPPLEMENT.get(ch, ch)
    return unicodedata.normalize("NFKC", ch).casefold()


def for_search(text: str) -> str:
    """NFKC + casefold, applied identically to documents and queries."""
    if not text:
        return ""
    text = text.translate(_ZERO_WIDTH)
    for k, v in _RADICAL_SUPPLEMENT.items():
        if k in text:
            text = text.replace(k, v)
    return unicodedata.normalize("NFKC", text).casefold()


def for_search_with_map(text: str) -> tuple[str, list[int]]:
    """Like :func:`for_search`, character by character, with an offset map: ``offsets[i]`` is
    the index in ``text`` of the character that produced output character ``i``."""
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        if ch in "\u200b\u200c\u200d\u2060\ufeff\u00ad":
            continue
        n = _search_char(ch)
        out.append(n)
        offsets.extend([i] * len(n))
    return "".join(out), offsets


__all__ = ["display", "display_line", "for_search", "for_search_with_map"]
