"""Handouts, scripts, cases → passages; hot Q&A → question/answer pairs.

Passage rules: paragraphs under the same heading path are merged until a passage reaches
``SOFT`` (400) characters, never beyond ``MAX`` (800); a paragraph longer than ``MAX`` is cut at
sentence ends (。！？), a sentence longer than ``MAX`` at ；，or, failing that, hard. A passage
never crosses a heading change. A short tail (< ``MIN``) is merged into the passage before it
when both share the heading path and the result stays within ``MAX``. A table (consecutive
rows) becomes passages of its own under its heading; footnotes are collected into passages
with heading path ["注释"] at the end.
"""

from __future__ import annotations

import re

from indexer.ingest.structure.outline import MARKER, HeadingStack, Line
from library.content import Passage

MIN, SOFT, MAX = 150, 400, 800
FOOTNOTES = "注释"

_SENTENCE = re.compile(r"[^。！？!?]*[。！？!?]+[”’」』）)]*|[^。！？!?]+$")
_CLAUSE = re.compile(r"[^；;，,]*[；;，,]+|[^；;，,]+$")

Segment = tuple[str, list[str], "int | None", str]  # (text, heading path, page, kind)


def _pieces(text: str, pattern: re.Pattern) -> list[str]:
    return [p for p in pattern.findall(text) if p]


def _greedy(units: list[str], limit: int, sep: str = "") -> list[str]:
    out: list[str] = []
    cur = ""
    for u in units:
        if cur and len(cur) + len(sep) + len(u) > limit:
            out.append(cur)
            cur = u
        else:
            cur = f"{cur}{sep}{u}" if cur else u
    if cur:
        out.append(cur)
    return out


def split_long(text: str, limit: int = MAX) -> list[str]:
    """Cut a paragraph longer than ``limit`` at sentence ends (then clauses, then hard)."""
    if len(text) <= limit:
        return [text]
    units: list[str] = []
    for sentence in _pieces(text, _SENTENCE):
        if len(sentence) <= limit:
            units.append(sentence)
            continue
        for clause in _pieces(sentence, _CLAUSE):
            units.extend(clause[i : i + limit] for i in range(0, len(clause), limit))
    return _greedy(units, limit)


def _pack_run(
    paras: list[tuple[str, int | None]], path: list[str], sep: str = "\n"
) -> list[Passage]:
    out: list[Passage] = []
    cur: list[str] = []
    cur_len = 0
    page: int | None = None

    def flush():
        nonlocal cur, cur_len
        if cur:
            out.append(Passage(text=sep.join(cur), heading_path=list(path), page=page))
        cur, cur_len = [], 0

    for text, pg in paras:
        for piece in split_long(text):
            if cur and (cur_len + len(sep) + len(piece) > MAX or cur_len >= SOFT):
                flush()
            if not cur:
                page = pg
            cur.append(piece)
            cur_len += len(piece) + (len(sep) if cur_len else 0)
    flush()
    if (
        len(out) >= 2
        and len(out[-1].text) < MIN
        and len(out[-2].text) + len(sep) + len(out[-1].text) <= MAX
    ):
        tail = out.pop()
        out[-1].text = f"{out[-1].text}{sep}{tail.text}"
    return out


def pack(segments: list[Segment]) -> list[Passage]:
    """Group consecutive segments with the same heading path and kind into passages."""
    body: list[Passage] = []
    notes: list[tuple[str, int | None]] = []
    run: list[tuple[str, int | None]] = []
    run_key: tuple | None = None

    def close():
        nonlocal run
        if run and run_key is not None:
            body.extend(_pack_run(run, list(run_key[0])))
        run = []

    for text, path, page, kind in segments:
        if not text:
            continue
        if kind == "footnote":
            notes.append((text, page))
            continue
        key = (tuple(path), kind == "table")
        if key != run_key:
            close()
            run_key = key
        run.append((text, page))
    close()
    if notes:
        body.extend(_pack_run(notes, [FOOTNOTES]))
    for i, p in enumerate(body, 1):
        p.seq = i
    return body


def passages_of(lines: list[Line]) -> list[Passage]:
    heads = HeadingStack()
    segments: list[Segment] = []
    for line in lines:
        if line.kind == "heading":
            heads.push(line.level, line.text)
            continue
        segments.append((line.text, heads.path, line.page, line.kind))
    return pack(segments)


# -- Q&A ----------------------------------------------------------------------------------------

_Q_LABEL = re.compile(
    r"^\s*(?:【\s*(?:问|问题|提问)\s*\d*\s*】\s*[：:]?|(?:问|问题|提问|Q|q)\s*\d*\s*[：:.．])\s*"
)
_A_LABEL = re.compile(
    r"^\s*(?:【\s*(?:答|回答|解答)\s*】\s*[：:]?|(?:答|回答|解答|A|a)\s*[：:.．])\s*"
)
_INLINE_A = re.compile(r"(?<=[？?])\s*(?:【\s*答\s*】\s*[：:]?|答\s*[：:])\s*")
_QMARK = re.compile(r"[？?][”’」』）)]?\s*$")


_CN_NUMBERING = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+\s*[、．.]|[（(][一二三四五六七八九十]+[）)])\s*"
)


def _strip_numbering(text: str) -> str:
    return _CN_NUMBERING.sub("", MARKER.sub("", text, count=1), count=1).strip()


def _is_numbered_question(text: str) -> bool:
    return (
        bool(MARKER.match(text) or _CN_NUMBERING.match(text))
        and bool(_QMARK.search(text))
        and len(text) <= 150
    )


def qa_mode(lines: list[Line]) -> str:
    """How questions are marked: "label" (问：/答：), "numbered" (1. …？) or "qmark" (…？)."""
    q = sum(1 for ln in lines if ln.kind == "para" and _Q_LABEL.match(ln.text))
    a = sum(
        1
        for ln in lines
        if ln.kind == "para" and (_A_LABEL.match(ln.text) or _INLINE_A.search(ln.text))
    )
    if q and a:
        return "label"
    if sum(1 for ln in lines if ln.kind == "para" and _is_numbered_question(ln.text)) >= 2:
        return "numbered"
    return "qmark"


def qa_signals(lines: list[Line]) -> tuple[int, int]:
    """(question-answer pairs by label or numbered question, text lines) for kind detection."""
    paras = [ln for ln in lines if ln.kind == "para"]
    q = sum(1 for ln in paras if _Q_LABEL.match(ln.text))
    a = sum(1 for ln in paras if _A_LABEL.match(ln.text) or _INLINE_A.search(ln.text))
    pairs = min(q, a)
    numbered = sum(
        1
        for ln in lines
        if _is_numbered_question(ln.text) or (ln.kind == "heading" and _QMARK.search(ln.text))
    )
    return max(pairs, numbered), len(paras)


def qa_pairs(lines: list[Line]) -> list[Passage]:
    mode = qa_mode(lines)
    heads = HeadingStack()
    out: list[Passage] = []
    leftover: list[Segment] = []
    notes: list[Segment] = []
    q: dict | None = None

    def flush_leftover():
        if leftover:
            out.extend(pack(leftover))
            leftover.clear()

    def flush():
        nonlocal q
        if q is not None:
            if q["answer"]:
                flush_leftover()
                out.append(
                    Passage(
                        text="\n".join(q["answer"]),
                        heading_path=q["path"],
                        page=q["page"],
                        kind="qa",
                        question=q["question"],
                    )
                )
            else:
                leftover.append((q["question"], q["path"], q["page"], "para"))
        q = None

    def start(question: str, line: Line, answer: str = ""):
        nonlocal q
        flush()
        q = {
            "question": question,
            "answer": [answer] if answer else [],
            "path": heads.path,
            "page": line.page,
            "answered": bool(answer),
        }

    for line in lines:
        text = line.text
        if line.kind == "heading":
            if mode != "label" and _QMARK.search(text):
                start(_strip_numbering(text), line)
            else:
                flush()
                heads.push(line.level, text)
            continue
        if line.kind == "footnote":
            notes.append((text, heads.path, line.page, "footnote"))
            continue
        m = _Q_LABEL.match(text) if mode == "label" else None
        if m:
            body = text[m.end() :]
            parts = _INLINE_A.split(body, maxsplit=1)
            start(parts[0].strip(), line, parts[1].strip() if len(parts) > 1 else "")
            continue
        m = _A_LABEL.match(text)
        if m and q is not None:
            q["answered"] = True
            if text[m.end() :].strip():
                q["answer"].append(text[m.end() :].strip())
            continue
        if (mode == "numbered" and _is_numbered_question(text)) or (
            mode == "qmark" and _QMARK.search(text) and len(text) <= 120
        ):
            start(_strip_numbering(text), line)
            continue
        if q is not None:
            if mode == "label" and not q["answered"]:
                q["question"] += text  # a question spread over two lines
            else:
                q["answer"].append(text)
            continue
        leftover.append((text, heads.path, line.page, line.kind))
    flush()
    flush_leftover()
    out.extend(pack(notes))
    for i, p in enumerate(out, 1):
        p.seq = i
    return out


__all__ = ["pack", "passages_of", "qa_pairs", "qa_signals", "split_long", "MIN", "SOFT", "MAX"]
