"""Plain-text matching units shared by every backend (no engine inside).

Every text is matched in its *search* form (``normalize.for_search``: NFKC + casefold). A text is
cut into *runs* of alphanumeric characters (CJK, Latin letters, digits), and the runs are joined
into *segments* across the punctuation, spaces and line breaks between them, except between two
Latin letters/digits: matching is punctuation-blind, so “雄鹰”企业 holds 鹰企 and the query
雄鹰企业 finds it. :func:`gram_terms` are the character bigrams an engine indexes for recall,
:func:`term_pattern` the regular expression a hit is verified and highlighted with.
"""

from __future__ import annotations

import re

from indexer.ingest.normalize import for_search

# A run of alphanumeric characters (\w minus the underscore), in the search form.
_RUN = re.compile(r"[^\W_]+")
# Latin letters and digits (after NFKC + casefold).
_LATIN = re.compile(r"[a-z0-9]")
# What may stand between the characters of a segment in a text: punctuation, spaces, breaks.
SEP = r"[\W_]*"


def is_latin(ch: str) -> bool:
    return bool(_LATIN.match(ch))


def runs(norm: str) -> list[tuple[str, int]]:
    """Alphanumeric runs of a search-form text with their start offsets."""
    return [(m.group(), m.start()) for m in _RUN.finditer(norm)]


def segments(norm: str) -> list[tuple[str, list[int]]]:
    """Punctuation-blind segments of a search-form text: its alphanumeric runs joined across
    the punctuation, spaces and line breaks between them (“雄鹰”企业 → 雄鹰企业), except where
    both neighbours are Latin letters or digits (``covid-19``, ``open ai`` stay apart). Each
    segment comes with the offset in ``norm`` of each of its characters."""
    out: list[tuple[str, list[int]]] = []
    chars: list[str] = []
    offs: list[int] = []
    for m in _RUN.finditer(norm):
        s, base = m.group(), m.start()
        if chars and _LATIN.match(chars[-1][-1]) and _LATIN.match(s[0]):
            out.append(("".join(chars), offs))
            chars, offs = [], []
        chars.append(s)
        offs.extend(range(base, base + len(s)))
    if chars:
        out.append(("".join(chars), offs))
    return out


def segment_texts(norm: str) -> list[str]:
    """The strings of :func:`segments` (no offsets): the gram field's units."""
    out: list[str] = []
    cur = ""
    for s in _RUN.findall(norm):
        if cur and _LATIN.match(cur[-1]) and _LATIN.match(s[0]):
            out.append(cur)
            cur = s
        else:
            cur += s
    if cur:
        out.append(cur)
    return out


def gram_terms(norm: str) -> list[str]:
    """The gram terms of a search-form text: bigrams of each punctuation-blind segment
    (:func:`segments`), plus the last character of a segment alone when no bigram of the text
    starts with it (so that every character of the text begins some term, which is all a
    one-character prefix query needs)."""
    out: list[str] = []
    lasts = []
    for s in segment_texts(norm):
        out.extend([s[i : i + 2] for i in range(len(s) - 1)])
        lasts.append(s[-1])
    firsts = {g[0] for g in out}
    out.extend(c for c in dict.fromkeys(lasts) if c not in firsts)
    return out


def run_regex(run: str) -> str:
    """A segment's verifier: its characters in order with only punctuation, spaces or line
    breaks between them (none between two Latin letters or digits, which the segment kept
    adjacent); Latin letters and digits at its ends on word boundaries."""
    parts = [re.escape(run[0])]
    for a, b in zip(run, run[1:]):
        parts.append(re.escape(b) if is_latin(a) and is_latin(b) else SEP + re.escape(b))
    r = "".join(parts)
    if is_latin(run[0]):
        r = r"(?<![a-z0-9])" + r
    if is_latin(run[-1]):
        r = r + r"(?![a-z0-9])"
    return r


def segments_regex(segs: list[str]) -> str:
    """Segments in order with only punctuation or spaces between them."""
    return SEP.join(run_regex(r) for r in segs)


def term_pattern(text: str) -> re.Pattern | None:
    """The pattern a typed term matches in a search-form text (None when it has no letters or
    digits): punctuation and quotation marks inside a term are text, not syntax, so “雄鹰”企业,
    雄鹰企业 and 雄鹰，企业 all find the text “雄鹰”企业 and nothing looser."""
    segs = segment_texts(for_search(text))
    return re.compile(segments_regex(segs)) if segs else None


__all__ = [
    "SEP",
    "is_latin",
    "runs",
    "segments",
    "segment_texts",
    "gram_terms",
    "run_regex",
    "segments_regex",
    "term_pattern",
]
