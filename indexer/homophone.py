"""Homophone slips: the commonest typing error in Chinese is a character of the right sound
picked from the input method's list (绿水清山 for 绿水青山, 依法治过 for 依法治国).

:class:`Homophones` holds the library's own vocabulary (the words the index holds, plus the
dictionary and synonym forms) keyed by toneless pinyin, using ``pypinyin`` for the readings.
Polyphonic characters count with every reading (行 is xing and hang), so a word matches when
each of its characters shares a reading with the typed one. :meth:`Homophones.variants` offers,
for a typed text, the texts that differ from it in one stretch of two or more characters that
sounds the same and is a word of the library; the engine then runs them and keeps the one that
finds much more (``SearchIndex.search``).
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from typing import Iterable

_CJK = re.compile(r"[\u4e00-\u9fff]+")
MIN_WORD = 2              # a slip is corrected inside a word of at least two characters
MAX_WORD = 8
MAX_READINGS = 16         # combinations of readings kept per word (polyphonic characters)
MAX_VARIANTS = 12


@lru_cache(maxsize=20000)
def readings(ch: str) -> tuple[str, ...]:
    """Toneless pinyin readings of one character, most common first; () if it has none."""
    from pypinyin import Style, pinyin
    out = pinyin(ch, style=Style.NORMAL, heteronym=True, errors=lambda _: [""])[0]
    return tuple(r for r in dict.fromkeys(out) if r)


def keys(word: str) -> list[str]:
    """Every pinyin spelling of a word (one per combination of readings, capped)."""
    rs = [readings(c) for c in word]
    if not all(rs):
        return []
    return [" ".join(k) for k in itertools.islice(itertools.product(*rs), MAX_READINGS)]


class Homophones:
    """The library's words by pinyin; built once per index generation."""

    def __init__(self, words: Iterable[tuple[str, int]]):
        self.by_key: dict[str, dict[str, int]] = {}
        for w, freq in words:
            if not (MIN_WORD <= len(w) <= MAX_WORD) or not _CJK.fullmatch(w):
                continue
            for k in keys(w):
                bucket = self.by_key.setdefault(k, {})
                bucket[w] = max(bucket.get(w, 0), freq)

    def __len__(self) -> int:
        return len(self.by_key)

    def same_sound_freq(self, text: str) -> list[tuple[str, int]]:
        """(word, frequency) of library words that sound like ``text`` (other than itself),
        most frequent first."""
        found: dict[str, int] = {}
        for k in keys(text):
            for w, f in self.by_key.get(k, {}).items():
                if w != text:
                    found[w] = max(found.get(w, 0), f)
        return sorted(found.items(), key=lambda wf: (-wf[1], wf[0]))

    def same_sound(self, text: str) -> list[str]:
        """Library words that sound like ``text`` (other than itself), most frequent first."""
        return [w for w, _ in self.same_sound_freq(text)]

    def variants(self, text: str, limit: int = MAX_VARIANTS) -> list[str]:
        """Texts that differ from ``text`` in one stretch of CJK characters (two or more) that
        sounds the same and is a library word: 绿水清山 → 绿水青山 (清山 → 青山)."""
        out: dict[str, int] = {}
        for m in _CJK.finditer(text):
            run, base = m.group(), m.start()
            n = len(run)
            for size in range(min(n, MAX_WORD), MIN_WORD - 1, -1):
                for i in range(0, n - size + 1):
                    window = run[i:i + size]
                    for w, freq in self.same_sound_freq(window)[:4]:
                        v = text[:base + i] + w + text[base + i + size:]
                        if v != text:
                            # longer replaced stretches first, then commoner replacements
                            key = (-size, -freq)
                            if v not in out or key < out[v]:
                                out[v] = key
        return sorted(out, key=lambda v: out[v])[:limit]


__all__ = ["Homophones", "readings", "keys"]
