"""Highlight HTML: the display text escaped, exactly the matched spans wrapped in ``<mark>``.

Matching runs on the search form of the text (NFKC + casefold); ``for_search_with_map`` maps
every matched search-form span back to the display characters it came from, so "２０２４" in
the text is marked when "2024" was typed, and "⾰命" when "革命" was. Long texts are cut to a
snippet window around the densest cluster of matches, with "…" where text was left out.
"""

from __future__ import annotations

import html
import re

from indexer.ingest.normalize import for_search_with_map

SNIPPET_CHARS = 160  # texts longer than this are shown as a window of this size


def match_spans(text: str, patterns: list[re.Pattern]) -> list[tuple[int, int]]:
    """Merged, sorted (start, end) spans of the display text matched by any pattern."""
    if not text or not patterns:
        return []
    norm, offsets = for_search_with_map(text)
    spans = []
    for pat in patterns:
        for m in pat.finditer(norm):
            if m.end() > m.start():
                spans.append((offsets[m.start()], offsets[m.end() - 1] + 1))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def _window(text: str, spans: list[tuple[int, int]], size: int) -> tuple[int, int]:
    if not spans:
        return 0, size
    best, best_n = spans[0][0], 0
    for i, (s, _) in enumerate(spans):  # the start covering the most spans
        n = sum(1 for s2, e2 in spans[i:] if e2 <= s + size)
        if n > best_n:
            best, best_n = s, n
    start = max(0, min(best - size // 4, len(text) - size))
    return start, start + size


def highlight(
    text: str, patterns: list[re.Pattern], *, snippet: bool = True, size: int = SNIPPET_CHARS
) -> str:
    """Escaped HTML of ``text`` with matches in ``<mark>``; a window if the text is long."""
    text = text or ""
    spans = match_spans(text, patterns)
    start, end = 0, len(text)
    if snippet and len(text) > size:
        start, end = _window(text, spans, size)
    out = ["…" if start > 0 else ""]
    pos = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(text[pos:s]))
        out.append("<mark>" + html.escape(text[s:e]) + "</mark>")
        pos = e
    out.append(html.escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return "".join(out)


__all__ = ["highlight", "match_spans", "SNIPPET_CHARS"]
