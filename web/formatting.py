"""Display helpers shared by templates, the JSON API and the basket export: Chinese dates, the
house citation style, labels, and the one place highlight HTML is trusted."""

from __future__ import annotations

import re
import time
from datetime import date as _date

from markupsafe import Markup, escape

from indexer.app.accounts import ROLES
from library.content import (
    AUDIENCES,
    HIT_KINDS,
    KINDS,
    citation_line,
    clock,
    quote_with_citation,
)

_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")
_MARK = re.compile(r"(</?mark>)")


ACTIONS = {
    "ingest": "导入材料",
    "new_version": "上传新版本",
    "edit_document": "编辑材料",
    "edit_quote": "编辑金句",
    "trash": "移入回收站",
    "restore": "从回收站恢复",
    "purge": "彻底删除",
    "user_add": "新建账号",
    "user_password": "重置密码",
    "user_enable": "启用账号",
    "user_disable": "停用账号",
    "user_role": "修改角色",
    "dict_add": "添加词条",
    "dict_remove": "删除词条",
    "synonyms_add": "添加同义词",
    "synonyms_remove": "删除同义词",
    "speakers_add": "添加说话人",
    "speakers_remove": "删除说话人",
    "discard_upload": "放弃上传",
    "cancel_upload": "取消上传",
    "export": "导出专题包",
    "import": "导入专题包",
    "login_failed": "登录失败",
    "login_throttled": "登录受限（失败次数过多）",
}

# -- the audit log as sentences ----------------------------------------------------------------

# operators that are not accounts
_ACTORS = {"cli": "命令行用户", "web": "未登录的访客", "": "未知用户"}
_DOC_FIELDS = {
    "title": "标题",
    "kind": "类型",
    "date": "日期",
    "source": "来源",
    "topics": "专题",
    "audiences": "宣讲对象",
}
_QUOTE_FIELDS = {
    "text": "内容",
    "source": "出处",
    "date": "日期",
    "speaker": "讲话人",
    "theme": "主题",
    "topics": "专题",
}
_PACK_COUNTS = (("documents", "份材料"), ("quotes", "条金句"), ("passages", "个段落"))


def _short(text: str, n: int = 24) -> str:
    text = re.sub(r"\s+", " ", str(text or "")).strip()
    return text if len(text) <= n else text[:n] + "…"


def _listing(values, n: int = 8) -> str:
    values = [str(v) for v in values or [] if str(v)]
    shown = "、".join(values[:n])
    return shown + (f"等 {len(values)} 个" if len(values) > n else "")


def _plain(value) -> str:
    """Any detail value as words (a list joined with 、, a mapping as 键：值), never Python syntax."""
    if isinstance(value, dict):
        return "，".join(f"{k}：{_plain(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return _listing([_plain(v) for v in value])
    return "" if value is None else str(value)


def _changes(changes: dict, labels: dict, topic_name) -> str:
    parts = []
    for key, value in changes.items():
        label = labels.get(key, key)
        if key == "topics":
            shown = "、".join(topic_name(t) for t in value or [])
        elif key == "audiences":
            shown = "、".join(AUDIENCES.get(a, a) for a in value or [])
        elif key == "kind":
            shown = KINDS.get(value, value or "")
        elif key == "date":
            shown = date_cn(value)
        elif key == "text":
            shown = _short(value, 30)
        else:
            shown = _plain(value)
        parts.append(f"{label}改为“{shown}”" if shown else f"清空了{label}")
    return "；".join(parts)


def audit_actor(actor: str | None) -> str:
    """Who did it: the account name, or what stands for the command line / a visitor."""
    return _ACTORS.get(actor or "", actor or "未知用户")


def audit_sentence(row: dict, *, names: dict | None = None, topic_name=None) -> str:
    """One audit-log row as a Chinese sentence: who did what to what, and when.

    ``names``: display names of targets the detail does not name (``"document:3"`` → its
    title, ``"quote:7"`` → its text), looked up by the caller; ``topic_name``: slug → name."""
    names = names or {}
    topic_name = topic_name or (lambda slug: slug)
    action, target = row.get("action") or "", row.get("target") or ""
    d = row.get("detail") if isinstance(row.get("detail"), dict) else {}
    kind, _, ident = target.partition(":")
    who = audit_actor(row.get("actor"))
    if who[-1:].isascii():  # “guanli 新建了…”, not “guanli新建了…”
        who += " "
    at = ""
    if row.get("at"):
        t = time.localtime(row["at"])
        at = f"{t.tm_year}年{t.tm_mon}月{t.tm_mday}日 {t.tm_hour:02d}:{t.tm_min:02d}"
    # an edit's detail holds the *new* title; the store's (current) name comes first for it
    title = (
        (names.get(target) or d.get("title"))
        if action == "edit_document"
        else (d.get("title") or names.get(target))
    )
    doc = f"《{title}》" if title else (f"编号为 {ident} 的材料" if ident else "一份材料")
    file = f"（文件“{d['file']}”）" if d.get("file") else ""
    if action == "ingest":
        what = f"导入了材料{doc}{file}"
    elif action == "new_version":
        version = f"第 {d['version']} 版" if d.get("version") else "新版本"
        what = f"为{doc}上传了{version}{file}"
    elif action == "edit_document":
        changed = _changes(d, _DOC_FIELDS, topic_name)
        what = f"修改了材料{doc}：{changed}" if changed else f"保存了材料{doc}，没有改动"
    elif action == "edit_quote":
        quote = names.get(target)
        q = f"金句“{_short(quote)}”" if quote else f"编号为 {ident} 的金句"
        changed = _changes(d, _QUOTE_FIELDS, topic_name)
        what = f"修改了{q}：{changed}" if changed else f"保存了{q}，没有改动"
    elif action == "trash":
        what = f"把{doc}移入了回收站"
    elif action == "restore":
        what = f"从回收站恢复了{doc}"
    elif action == "purge":
        what = f"彻底删除了{doc}"
    elif action.startswith("user_"):
        account = f"账号“{ident or target}”"
        role = ROLES.get(d.get("role"), d.get("role") or "")
        what = {
            "user_add": f"新建了{account}" + (f"（{role}）" if role else ""),
            "user_password": f"重置了{account}的密码",
            "user_enable": f"启用了{account}",
            "user_disable": f"停用了{account}",
            "user_role": f"把{account}设为{role or '新角色'}",
        }.get(action, f"修改了{account}")
    elif action in ("dict_add", "dict_remove"):
        words = d.get("words") or []
        verb = "向词典添加了" if action == "dict_add" else "从词典删除了"
        what = f"{verb} {len(words)} 个词：{_listing(words)}"
    elif action in ("synonyms_add", "synonyms_remove", "speakers_add", "speakers_remove"):
        verb = "添加了" if action.endswith("_add") else "删除了"
        kind = "同义词组" if action.startswith("synonyms") else "说话人组"
        what = f"{verb}{kind}：{' = '.join(map(str, d.get('group') or []))}"
    elif action == "discard_upload":
        what = f"放弃了上传的文件“{d.get('file') or ident}”"
    elif action == "cancel_upload":
        what = f"取消了正在处理的上传文件“{d.get('file') or ident}”"
    elif action == "export":
        name = d.get("title") or topic_name(ident)
        c = d.get("counts") if isinstance(d.get("counts"), dict) else {}
        figures = "、".join(f"{c[k]} {unit}" for k, unit in _PACK_COUNTS if c.get(k) is not None)
        what = f"导出了专题包“{name}”" + (f"（{figures}）" if figures else "")
    elif action == "import":
        topic = d.get("topic")
        bits = [f"专题“{topic_name(topic)}”"] if topic else []
        if d.get("added") is not None:
            bits.append(f"新增 {d['added']} 份材料")
        if d.get("duplicates"):
            bits.append(f"{d['duplicates']} 份已存在")
        what = f"导入了专题包“{ident}”" + (f"（{'，'.join(bits)}）" if bits else "")
    else:
        label = ACTIONS.get(action, action or "操作")
        rest = "；".join(f"{k}：{_plain(v)}" for k, v in d.items() if _plain(v))
        what = (
            f"执行了“{label}”"
            + (f"，对象：{target}" if target else "")
            + (f"（{rest}）" if rest else "")
        )
    return (f"{at}，" if at else "") + f"{who}{what}。"


def date_cn(value: str | None) -> str:
    """ "2022-10-16" → "2022年10月16日" ("2022-10" → "2022年10月"); other text unchanged."""
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


def citation(
    text: str, source: str | None = None, date: str | None = None, speaker: str | None = None
) -> str:
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

    app.jinja_env.filters.update(
        date_cn=date_cn,
        anchor=anchor,
        mark_only=mark_only,
        when=when,
        filesize=filesize,
        clock=clock,
        topic_name=topic_name,
        kind_label=lambda k: KINDS.get(k, k or ""),
        hit_label=lambda k: HIT_KINDS.get(k, k or ""),
        audience_label=lambda a: AUDIENCES.get(a, a or ""),
        role_label=lambda r: ROLES.get(r, r or ""),
        action_label=lambda a: ACTIONS.get(a, a or ""),
    )
    app.jinja_env.globals.update(
        citation=citation,
        citation_line=citation_line,
        KINDS=KINDS,
        HIT_KINDS=HIT_KINDS,
        AUDIENCES=AUDIENCES,
    )

    @app.context_processor
    def _globals():
        return {"library_name": app.config["LIBRARY_NAME"], "taxonomy": get_library().svc.taxonomy}


__all__ = [
    "date_cn",
    "citation",
    "mark_only",
    "when",
    "filesize",
    "init_app",
    "ACTIONS",
    "audit_sentence",
    "audit_actor",
]
