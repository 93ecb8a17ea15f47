"""A recording's transcript as passages: subtitle cues (a few words each) merged into passages
of sentence length that keep where they are spoken (``Passage.start``/``end``, seconds).

A passage ends at the end of a sentence (。！？!?…) once it has ``MIN_CHARS``, at a pause of
``PAUSE_S`` between two cues, or when it would grow past ``MAX_CHARS`` or ``MAX_SPAN_S`` (many
Chinese subtitles have no punctuation at all). Two cues are joined with a space (a pause in
speech, which subtitles rarely punctuate) unless the first ends with punctuation.
"""

from __future__ import annotations

import re

from library.content import Passage

MIN_CHARS = 20
MAX_CHARS = 120
MAX_SPAN_S = 40.0
PAUSE_S = 3.0
_SENTENCE_END = re.compile(r"[。！？!?…]+[”’」』)）]*$")


def _join(left: str, right: str) -> str:
    if not left:
        return right
    if _SENTENCE_END.search(left) or left[-1] in "，、；：,;:":
        return left + right
    return f"{left} {right}"  # two cues: a pause in speech (subtitles rarely punctuate it)


def passages_from_cues(cues) -> list[Passage]:
    """Passages (seq from 0) of ``cues`` (objects with start, end, text, in time order)."""
    out: list[Passage] = []
    text, start, end = "", None, None

    def flush() -> None:
        nonlocal text, start, end
        if text.strip():
            out.append(
                Passage(
                    text=text.strip(),
                    seq=len(out),
                    start=round(start or 0.0, 3),
                    end=round(end if end is not None else start or 0.0, 3),
                )
            )
        text, start, end = "", None, None

    for cue in cues:
        words = cue.text.strip()
        if not words:
            continue
        if text and (
            cue.start - (end or cue.start) >= PAUSE_S
            or len(text) + len(words) > MAX_CHARS
            or cue.end - (start or cue.start) > MAX_SPAN_S
        ):
            flush()
        if start is None:
            start = cue.start
        text = _join(text, words)
        end = max(end or cue.end, cue.end)
        if len(text) >= MIN_CHARS and _SENTENCE_END.search(text):
            flush()
    flush()
    return out


__all__ = ["passages_from_cues", "MIN_CHARS", "MAX_CHARS"]
