"""Homophone slips: the commonest typing error in Chinese is a character of the right sound
picked from the input method's list (绿水清山 for 绿水青山, 依法治过 for 依法治国).

:func:`variants` offers, for a typed text, the texts that differ from it in one character that
sounds the same (toneless pinyin, from ``pypinyin``'s dictionary) and that make two-character
strings the library actually holds: 清 → 青 in 绿水清山 because the library has 水青 and 青山.
The engine passes ``doc_freq`` (how many records hold a bigram: one term lookup in its gram
field), runs the best variants and keeps the one that finds much more (``SearchIndex.search``).
Nothing is precomputed per library: a slip check costs a few hundred term lookups, and only
runs when a query finds (almost) nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

_CJK = re.compile(r"[\u4e00-\u9fff]")
MAX_VARIANTS = 12


def _toneless(reading: str) -> str:
    base = unicodedata.normalize("NFKD", reading)
    return "".join(c for c in base if not unicodedata.combining(c)).replace("u\u0308", "v")


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """(character -> toneless readings, reading -> the common characters read so). Common
    characters are those of GB2312 (6,763 hanzi): an input method offers these first."""
    from pypinyin.pinyin_dict import pinyin_dict

    readings: dict[str, tuple[str, ...]] = {}
    by_reading: dict[str, list[str]] = {}
    for code, value in pinyin_dict.items():
        ch = chr(code)
        if not _CJK.match(ch):
            continue
        rs = tuple(dict.fromkeys(_toneless(r) for r in value.split(",") if r))
        readings[ch] = rs
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            continue
        for r in rs:
            by_reading.setdefault(r, []).append(ch)
    return readings, {r: "".join(cs) for r, cs in by_reading.items()}


def readings(ch: str) -> tuple[str, ...]:
    """Toneless readings of a character, the commonest first; () if it has none."""
    return _tables()[0].get(ch, ())


def same_sound(ch: str) -> str:
    """Common characters that share the main reading of ``ch`` (``ch`` itself excluded)."""
    rs = readings(ch)
    if not rs:
        return ""
    return _tables()[1].get(rs[0], "").replace(ch, "")


def variants(text: str, doc_freq: Callable[[str], int], limit: int = MAX_VARIANTS) -> list[str]:
    """Texts that differ from ``text`` in one same-sounding character whose new two-character
    neighbourhoods all occur in the library, best supported first."""
    scored: dict[str, int] = {}
    for i, ch in enumerate(text):
        if not _CJK.match(ch):
            continue
        left = text[i - 1] if i > 0 and _CJK.match(text[i - 1]) else ""
        right = text[i + 1] if i + 1 < len(text) and _CJK.match(text[i + 1]) else ""
        if not left and not right:
            continue  # a lone character: nothing to tell a slip by
        for alt in same_sound(ch):
            freqs = [doc_freq(b) for b in (left and left + alt, right and alt + right) if b]
            support = min(freqs)
            if support > 0:
                v = text[:i] + alt + text[i + 1 :]
                scored[v] = max(scored.get(v, 0), support)
    return sorted(scored, key=lambda v: (-scored[v], v))[:limit]


__all__ = ["variants", "readings", "same_sound"]
