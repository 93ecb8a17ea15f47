"""Display helpers shared by templates, the JSON API and the basket export: Chinese dates, the
house citation style, labels, and the one place highlight HTML is trusted."""

from __future__ import annotations

import re
import time
from datetime import date as _date

from markupsafe import Markup, escape

from library.content import AUDIENCES, HIT_KINDS, KINDS, citation_line, quote_with_citation
from library.users import ROLES

_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")
_MARK = re.compile(r"(</?mark>)")


ACTIONS = {
    "ingest": "导入材料", "new_version": "上传新版本", "edit_document": "编辑材料",
    "edit_quote": "编辑金句", "trash": "移入回收站", "restore": "从回收站恢复", "purge": "彻底删除",
    "user_add": "新建账号", "user_password": "重置密码", "user_enable": "启用账号",
    "user_disable": "停用账号", "user_role": "修改角色", "dict_add": "添加词条",
    "dict_remove": "删除词条", "synonyms_add": "添加同义词", "synonyms_remove": "删除同义词",
    "discard_upload": "放弃上传",
}


def date_cn(value: str | None) -> str:
    """"2022-10-16" → "2022年10月16日" ("2022-10" → "2022年10月"); other text unchanged."""
    if not value:
        return ""
    m = _ISO.match(str(value).strip())
    if not m:
        return str(value)
    y, mo, d = m.groups()
    out = f"{int(y)}年"
    if mo:
        out += f"{int(mo)}月"
        if d:
            out += f"{int(d)}日"
    return out


def citation(text: str, source: str | None = None, date: str | None = None,
             speaker: str | None = None) -> str:
    """What 复制 puts on the clipboard: “quote” ——speaker source（date）
    (``library.content.quote_with_citation``, the one house style)."""
    return quote_with_citation(text, source, date, speaker)


def mark_only(html: str | None) -> Markup:
    """Highlight HTML from the engine arrives escaped with only <mark> tags. Trust exactly that:
    anything between the tags that still looks like markup is escaped again."""
    parts = _MARK.split(html or "")
    out = []
    for p in parts:
        if p in ("<mark>", "</mark>"):
            out.append(p)
        elif "<" in p or ">" in p or '"' in p:
            out.append(str(escape(p)))
        else:
            out.append(p)
    opened = sum(p == "<mark>" for p in parts)
    closed = sum(p == "</mark>" for p in parts)
    if opened != closed:
        return Markup(escape(_MARK.sub("", html or "")))
    return Markup("".join(out))


def anchor(text: str | None) -> str:
    """An id for a heading: its text with white space joined (ids may hold any other
    character in HTML5)."""
    return "h-" + re.sub(r"\s+", "-", (text or "").strip())


def when(ts: float | None) -> str:
    if not ts:
        return ""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def filesize(n: int | None) -> str:
    if n is None:
        return ""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def today_index(n: int) -> int:
    """A stable pick for “quote of the day”."""
    return _date.today().toordinal() % n if n else 0


def init_app(app) -> None:
    from .library import get_library

    def topic_name(slug: str) -> str:
        return get_library().svc.taxonomy.name_of(slug)

    app.jinja_env.filters.update(date_cn=date_cn, anchor=anchor, mark_only=mark_only, when=when,
                                 filesize=filesize, topic_name=topic_name,
                                 kind_label=lambda k: KINDS.get(k, k or ""),
                                 hit_label=lambda k: HIT_KINDS.get(k, k or ""),
                                 audience_label=lambda a: AUDIENCES.get(a, a or ""),
                                 role_label=lambda r: ROLES.get(r, r or ""),
                                 action_label=lambda a: ACTIONS.get(a, a or ""))
    app.jinja_env.globals.update(citation=citation, citation_line=citation_line, KINDS=KINDS, HIT_KINDS=HIT_KINDS,
                                 AUDIENCES=AUDIENCES)

    @app.context_processor
    def _globals():
        return {"library_name": app.config["LIBRARY_NAME"],
                "taxonomy": get_library().svc.taxonomy}


__all__ = ["date_cn", "citation", "mark_only", "when", "filesize", "init_app"]
