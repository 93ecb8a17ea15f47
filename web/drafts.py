"""The upload preview form: dates as editors type them, and the form read into the
corrections the application service publishes with (``indexer.app.publish``)."""

from __future__ import annotations

import re
from datetime import date as _date

from indexer.app.publish import Corrections
from library.content import AUDIENCES, KINDS
from library.errors import UsageError

_DATE = re.compile(
    r"^\s*(\d{4})\s*(?:[-./年]\s*(\d{1,2})\s*(?:[-./月]\s*(\d{1,2})\s*[日号]?)?"
    r"\s*月?)?\s*年?\s*$"
)


def parse_date(raw: str) -> str | None:
    """ "2022-10-16", "2022年10月16日", "2022.10", "2022" → ISO; "" → None; else UsageError."""
    raw = (raw or "").strip()
    if not raw:
        return None
    m = _DATE.match(raw)
    if m:
        y, mo, d = (int(x) if x else None for x in m.groups())
        try:
            if d:
                return _date(y, mo, d).isoformat()
            if mo:
                if 1 <= mo <= 12:
                    return f"{y:04d}-{mo:02d}"
            else:
                return f"{y:04d}"
        except ValueError:
            pass
    raise UsageError(f"日期“{raw}”无法识别。", "请写成 2022-10-16、2022年10月 或 2022。")


def read_corrections(form, prepared, taxonomy) -> tuple[Corrections, list[str]]:
    """The preview form, validated. Returns the corrections and Chinese error messages."""
    errors: list[str] = []
    title = (form.get("title") or "").strip()[:200]
    if not title:
        errors.append("标题不能为空。")
    kind = form.get("kind") or prepared.structured.kind
    if kind not in KINDS:
        errors.append(f"未知的材料类型“{kind}”。")
        kind = prepared.structured.kind
    topics = [t for t in form.getlist("topics") if taxonomy.get(t)]
    topics = [taxonomy.get(t).slug for t in topics]
    audiences = [a for a in form.getlist("audiences") if a in AUDIENCES]
    try:
        doc_date = parse_date(form.get("date", ""))
    except UsageError as e:
        errors.append(f"材料日期：{e}")
        doc_date = prepared.structured.date
    c = Corrections(
        title=title or prepared.structured.title,
        kind=kind,
        date=doc_date,
        source=(form.get("source") or "").strip()[:300] or None,
        topics=list(dict.fromkeys(topics)),
        audiences=list(dict.fromkeys(audiences)),
    )
    listed = form.get("quotes_listed") == "1"  # the form showed keep boxes
    no_cited = form.get("no_cited_quotes") == "1"  # the document-level switch
    for i, _q in enumerate(prepared.structured.quotes):
        if (listed and not form.get(f"q{i}_keep")) or (
            no_cited and prepared.structured.kind != "quotes"
        ):
            c.rejected.add(i)
        if f"q{i}_speaker" in form:
            c.quote_speakers[i] = form.get(f"q{i}_speaker", "").strip()[:60] or None
        if f"q{i}_source" in form:
            c.quote_sources[i] = form.get(f"q{i}_source", "").strip()[:300] or None
        if f"q{i}_date" in form:
            try:
                c.quote_dates[i] = parse_date(form.get(f"q{i}_date", ""))
            except UsageError as e:
                errors.append(f"第 {i + 1} 条金句的日期：{e}")
    return c, errors
