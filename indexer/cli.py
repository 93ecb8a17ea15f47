"""``lecturelib``: a thin command line over :class:`indexer.service.LibraryService`.

Exit codes: 0 success; 1 when some file or check failed (the good ones are still stored);
2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from library.content import AUDIENCES, HIT_KINDS, KINDS
from library.errors import LecturelibError, UsageError

from .textui import Progress, table

STATUS_LABELS = {"ok": "成功", "duplicate": "重复", "warning": "有提示", "needs_ocr": "需OCR",
                 "error": "失败"}


def _service(args):
    from .service import LibraryService
    return LibraryService(args.home)


def _out(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


# -- ingest -------------------------------------------------------------------------------

def cmd_ingest(args) -> int:
    svc = _service(args)
    bar = None

    def progress(result, done, total):
        nonlocal bar
        if bar is None:
            bar = Progress(total, "导入", enabled=not args.quiet)
        bar.update(done, f"{STATUS_LABELS.get(result.status, result.status)} {Path(result.path).name}")

    try:
        results = svc.ingest(args.paths, kind=args.kind, topics=args.topic,
                             audiences=args.audience, actor=args.actor, progress=progress)
    finally:
        svc.close()
    if args.json:
        _out([r.to_json() for r in results])
    else:
        rows = [[STATUS_LABELS.get(r.status, r.status), Path(r.path).name,
                 KINDS.get(r.kind or "", "") if r.kind else "", str(r.quotes), str(r.passages),
                 "" if r.pages is None else str(r.pages), r.message] for r in results]
        print(table(["状态", "文件", "类型", "金句", "段落", "页", "说明"], rows,
                    max_widths={1: 36, 6: 40}, right={3, 4, 5}))
        notes = [r for r in results if r.message and r.status != "ok"]
        if notes:
            print("\n说明：")
            for r in notes:
                print(f"  {STATUS_LABELS.get(r.status, r.status)}  {r.path}\n        {r.message}")
        counts = {s: sum(r.status == s for r in results) for s in STATUS_LABELS}
        summary = "，".join(f"{STATUS_LABELS[s]} {n}" for s, n in counts.items() if n)
        print(f"\n共 {len(results)} 个文件：{summary or '无'}。")
    return 1 if any(r.failed for r in results) else 0


# -- list / show --------------------------------------------------------------------------

def cmd_list(args) -> int:
    svc = _service(args)
    try:
        topic = svc.taxonomy.resolve(args.topic).slug if args.topic else None
        docs = svc.store.list_documents(status="trashed" if args.trash else "active",
                                        kind=args.kind, topic=topic)
        counts = svc.store.counts()
    finally:
        svc.close()
    if args.json:
        _out({"counts": counts, "documents": [
            {"id": d["id"], "title": d["title"], "kind": d["kind"], "filename": d["filename"],
             "format": d["format"], "pages": d["pages"], "version": d["version_number"],
             "quotes": d["quotes"], "passages": d["passages"], "topics": d["topics"],
             "date": d["date"]} for d in docs]})
        return 0
    names = svc.taxonomy.name_of
    rows = [[str(d["id"]), d["title"], KINDS.get(d["kind"], d["kind"]), d["format"] or "",
             str(d["quotes"]), str(d["passages"]), "、".join(names(t) for t in d["topics"])]
            for d in docs]
    print(table(["编号", "标题", "类型", "格式", "金句", "段落", "专题"], rows,
                max_widths={1: 40, 6: 40}, right={0, 4, 5}))
    print(f"\n资料库：{counts['documents']} 份材料，{counts['quotes']} 条金句，"
          f"{counts['passages']} 个段落" + (f"，回收站 {counts['trashed']} 份" if counts["trashed"] else "")
          + "。")
    return 0


def cmd_show(args) -> int:
    svc = _service(args)
    try:
        doc = svc.store.get_document(args.doc)
    finally:
        svc.close()
    if args.json:
        _out(doc)
        return 0
    v = doc["version"] or {}
    names = svc.taxonomy.name_of
    print(f"《{doc['title']}》  编号 {doc['id']}  {KINDS.get(doc['kind'], doc['kind'])}"
          + ("  [回收站]" if doc["status"] == "trashed" else ""))
    print(f"文件：{v.get('filename')}（{v.get('format')}，第 {v.get('number')} 版，"
          f"{v.get('pages') or '-'} 页）  日期：{doc['date'] or '-'}")
    print("专题：" + ("、".join(f"{names(t['topic'])}（{t['score']:.2f}{'，人工' if t['origin'] == 'manual' else ''}）"
                          for t in doc["topics"]) or "-"))
    print("对象：" + ("、".join(AUDIENCES.get(a, a) for a in doc["audiences"]) or "-"))
    for w in v.get("warnings") or []:
        print(f"提示：{w}")
    if doc["headings"]:
        print("\n目录：")
        for h in doc["headings"]:
            page = f"  …第 {h['page']} 页" if h["page"] else ""
            print("  " * (h["level"] - 1) + f"  {h['text']}{page}")
    if doc["quotes"]:
        print(f"\n金句（{len(doc['quotes'])}）：")
        for q in doc["quotes"]:
            src = "，".join(x for x in (q["source"], q["date"]) if x)
            print(f"  [{q['id']}] {q['text']}" + (f" ——{src}" if src else ""))
    if doc["passages"]:
        print(f"\n段落（{len(doc['passages'])}）：")
        for p in doc["passages"]:
            head = " › ".join(p["heading_path"])
            page = f" 第{p['page']}页" if p["page"] else ""
            body = p["text"].replace("\n", " ")
            if p["kind"] == "qa":
                body = f"问：{p['question']} 答：{body}"
            print(f"  [{p['id']}]{page} {head}\n      {body[:120]}{'…' if len(body) > 120 else ''}")
    return 0


# -- search ---------------------------------------------------------------------------------

def cmd_search(args) -> int:
    svc = _service(args)
    try:
        res = svc.search(args.query, topic=args.topic, kind=args.kind, audience=args.audience,
                         year=args.year, limit=args.limit, page=args.page, sort=args.sort)
    finally:
        svc.close()
    if args.json:
        _out(res)
        return 0
    total = res.get("total", 0)
    approx = "约" if res.get("total_is_estimate") else ""
    print(f"“{args.query}”：{approx}{total} 条结果")
    for i, h in enumerate(res["hits"], 1 + (args.page - 1) * args.limit):
        label = HIT_KINDS.get(h["kind"], h["kind"])
        text = h["text"].replace("\n", " ")
        print(f"\n{i}. [{label}] {text[:160]}{'…' if len(text) > 160 else ''}")
        cite = "，".join(x for x in (h.get("source"), h.get("date")) if x)
        if cite:
            print(f"   ——{cite}")
        doc = h.get("document") or {}
        where = f"   《{doc.get('title')}》" + (f" 第 {h['page']} 页" if h.get("page") else "")
        if h.get("heading"):
            where += f" · {h['heading']}"
        print(where)
    if not res["hits"] and res.get("suggestions"):
        print("\n没有找到结果。试试：" + "、".join(res["suggestions"]))
    return 0


def cmd_explain(args) -> int:
    svc = _service(args)
    try:
        _out(svc.explain(args.query))
    finally:
        svc.close()
    return 0


# -- upkeep ---------------------------------------------------------------------------------

def cmd_reindex(args) -> int:
    svc = _service(args)
    bar = None

    def progress(done, total):
        nonlocal bar
        if bar is None:
            bar = Progress(total, "重建索引")
        bar.update(done)

    try:
        n = svc.reindex(progress=progress)
    finally:
        svc.close()
    print(f"索引已重建：{n} 条可检索内容。")
    return 0


def cmd_check(args) -> int:
    svc = _service(args)
    try:
        problems = svc.check(repair=args.repair)
        after = svc.check() if args.repair and problems else []
    finally:
        svc.close()
    if not problems:
        print("检查通过：数据库、原始文件与检索索引一致。")
        return 0
    print("发现以下问题：")
    for p in problems:
        print(f"  - {p}")
    if args.repair:
        if after:
            print("修复后仍有问题：")
            for p in after:
                print(f"  - {p}")
            return 1
        print("已修复，数据库、原始文件与检索索引现已一致。")
        return 0
    print("运行 lecturelib check --repair 可自动修复。")
    return 1


def cmd_dict(args) -> int:
    svc = _service(args)
    try:
        vocab = svc.vocab
        if args.action == "list":
            for t in vocab.terms:
                print(t)
            return 0
        if not args.words:
            raise UsageError("请给出要添加或删除的词。", "例如：lecturelib dict add 百千万工程")
        (vocab.add_terms if args.action == "add" else vocab.remove_terms)(args.words)
        svc.sync()    # the vocabulary hash changed: the index is rebuilt with the new words
        verb = "添加" if args.action == "add" else "删除"
        print(f"已{verb} {len(args.words)} 个词，检索索引已按新词典更新。")
        return 0
    finally:
        svc.close()


def cmd_synonyms(args) -> int:
    svc = _service(args)
    try:
        vocab = svc.vocab
        if args.action == "list":
            for g in vocab.synonym_groups:
                print(" = ".join(g))
            return 0
        if args.action == "add":
            if len(args.words) < 2:
                raise UsageError("同义词组至少需要两个词。", "例如：lecturelib synonyms add 二十大 党的二十大")
            vocab.add_synonyms(args.words)
        else:
            if not args.words:
                raise UsageError("请给出要删除的同义词组中的一个词。")
            for w in args.words:
                vocab.remove_synonym_group(w)
        svc.sync()
        print("同义词已更新，检索索引已同步。")
        return 0
    finally:
        svc.close()


def _read_password(args) -> str:
    import getpass
    import os
    if os.environ.get("LECTURELIB_PASSWORD"):
        return os.environ["LECTURELIB_PASSWORD"]
    if sys.stdin.isatty():
        pw = getpass.getpass("密码（至少 8 位）：")
        if getpass.getpass("再输入一次：") != pw:
            raise UsageError("两次输入的密码不一致。")
        return pw
    return sys.stdin.readline().rstrip("\n")


def cmd_user(args) -> int:
    from library.users import ROLES, Users
    svc = _service(args)
    try:
        users = Users(svc.store)
        if args.action == "list":
            rows = [[u["name"], ROLES.get(u["role"], u["role"]), "启用" if u["active"] else "停用"]
                    for u in users.list()]
            print(table(["用户名", "角色", "状态"], rows))
            return 0
        if not args.name:
            raise UsageError("请给出用户名。", "例如：lecturelib user add 张编辑 --admin")
        if args.action == "add":
            users.add(args.name, _read_password(args), "admin" if args.admin else "editor")
            print(f"已创建{'管理员' if args.admin else '编辑'}账号“{args.name}”。")
        elif args.action == "passwd":
            users.set_password(args.name, _read_password(args), actor="cli")
            print(f"已重置“{args.name}”的密码。")
        elif args.action in ("disable", "enable"):
            users.set_active(args.name, args.action == "enable", actor="cli")
            print(f"已{'启用' if args.action == 'enable' else '停用'}账号“{args.name}”。")
        return 0
    finally:
        svc.close()


def cmd_export(args) -> int:
    from .export import export_topic
    svc = _service(args)
    try:
        svc.sync()
        rep = export_topic(svc, args.topic, Path(args.output), kinds=args.kind)
    finally:
        svc.close()
    print(f"已导出专题“{rep.topic}”：{rep.documents} 份材料，{rep.quotes} 条金句，"
          f"{rep.passages} 个段落 → {rep.path}（{rep.bytes / 1024 / 1024:.1f} MB，"
          f"用时 {rep.seconds:.1f} 秒）")
    return 0


def cmd_import(args) -> int:
    from .packimport import import_pack
    svc = _service(args)
    try:
        rep = import_pack(svc, Path(args.file), actor=args.actor)
    finally:
        svc.close()
    print(f"已导入专题包“{rep.topic}”：新增 {len(rep.added)} 份材料、{rep.passages} 个段落、"
          f"{rep.quotes_added} 条新金句；{rep.quotes_merged} 条金句与已有的合并；"
          f"{len(rep.duplicates)} 份材料已存在，未改动（用时 {rep.seconds:.1f} 秒）。")
    return 0


def cmd_backup(args) -> int:
    from library.backup import backup
    from library.home import Home
    rep = backup(Home.open(args.home, create=False), Path(args.output))
    print(f"已备份：{rep.documents} 份材料、{rep.originals} 个原始文件 → {rep.path}"
          f"（{rep.bytes / 1024 / 1024:.1f} MB，用时 {rep.seconds:.1f} 秒）")
    for sha in rep.missing:
        print(f"提示：原始文件 {sha[:12]}… 缺失，未能备份（运行 lecturelib check 查看）。")
    return 0


def cmd_restore(args) -> int:
    from library.backup import restore
    from library.home import Home
    home = Home.open(args.home)
    m = restore(Path(args.file), home)
    svc = _service(args)
    try:
        n = svc.reindex()
    finally:
        svc.close()
    print(f"已恢复备份（{m['created_at']}）：{m['documents']} 份材料、{m['originals']} 个原始文件，"
          f"索引已重建（{n} 条可检索内容）。")
    return 0


def cmd_serve(args) -> int:
    try:
        from web import create_app  # noqa: F401
    except ImportError:
        # The web front end is not built yet: show what the library holds instead.
        print("网页端尚未提供，以下是资料库内容：\n")
        args.kind = args.topic = None
        args.trash = args.json = False
        return cmd_list(args)
    from .serve import serve
    return serve(args.home, host=args.host, port=args.port, workers=args.workers)


# -- parser ---------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", default=argparse.SUPPRESS, metavar="DIR",
                        help="资料库目录（默认 $LECTURELIB_HOME，否则 ./instance）")
    p = argparse.ArgumentParser(prog="lecturelib", parents=[common],
                                description="宣讲素材库：导入、检索与管理宣讲材料。")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("ingest", parents=[common], help="导入文件或文件夹（递归）")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--kind", choices=list(KINDS), help="强制指定材料类型")
    s.add_argument("--topic", action="append", metavar="NAME", help="指定专题（中文名或英文标识，可重复）")
    s.add_argument("--audience", action="append", metavar="NAME", help="指定宣讲对象（可重复）")
    s.add_argument("--json", action="store_true", help="以 JSON 输出每个文件的结果")
    s.add_argument("-q", "--quiet", action="store_true", help="不显示进度")
    s.add_argument("--actor", default="cli", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("list", parents=[common], help="列出资料库中的材料")
    s.add_argument("--kind", choices=list(KINDS))
    s.add_argument("--topic", metavar="NAME")
    s.add_argument("--trash", action="store_true", help="列出回收站")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("show", parents=[common], help="查看一份材料")
    s.add_argument("doc", type=int, metavar="DOC")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show)

    s = sub.add_parser("search", parents=[common], help="检索")
    s.add_argument("query")
    s.add_argument("--topic", metavar="T")
    s.add_argument("--kind", choices=list(HIT_KINDS))
    s.add_argument("--audience", metavar="A")
    s.add_argument("--year", metavar="YEAR")
    s.add_argument("--limit", type=int, default=10)
    s.add_argument("--page", type=int, default=1)
    s.add_argument("--sort", choices=["relevance", "date"], default="relevance")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("explain", parents=[common], help="显示查询如何被解析")
    s.add_argument("query")
    s.set_defaults(func=cmd_explain)

    s = sub.add_parser("reindex", parents=[common], help="从数据库重建检索索引")
    s.set_defaults(func=cmd_reindex)

    s = sub.add_parser("check", parents=[common], help="检查数据库、原始文件与索引是否一致")
    s.add_argument("--repair", action="store_true", help="自动修复发现的问题")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("dict", parents=[common], help="管理词典（list/add/remove）")
    s.add_argument("action", choices=["list", "add", "remove"])
    s.add_argument("words", nargs="*")
    s.set_defaults(func=cmd_dict)

    s = sub.add_parser("synonyms", parents=[common], help="管理同义词（list/add/remove）")
    s.add_argument("action", choices=["list", "add", "remove"])
    s.add_argument("words", nargs="*")
    s.set_defaults(func=cmd_synonyms)

    s = sub.add_parser("export", parents=[common], help="导出专题包（离线可用的 .zip）")
    s.add_argument("--topic", required=True, metavar="NAME", help="专题中文名或英文标识")
    s.add_argument("--kind", action="append", choices=list(KINDS), help="只导出这些类型（可重复）")
    s.add_argument("-o", "--output", required=True, metavar="FILE.zip")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("import", parents=[common], help="导入专题包")
    s.add_argument("file", metavar="FILE.zip")
    s.add_argument("--actor", default="cli", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("backup", parents=[common], help="备份资料库（可在服务运行时进行）")
    s.add_argument("-o", "--output", required=True, metavar="FILE.zip")
    s.set_defaults(func=cmd_backup)

    s = sub.add_parser("restore", parents=[common], help="把备份恢复到一个空的资料库目录")
    s.add_argument("file", metavar="FILE.zip")
    s.set_defaults(func=cmd_restore)

    s = sub.add_parser("user", parents=[common], help="管理编辑账号（list/add/passwd/disable/enable）")
    s.add_argument("action", choices=["list", "add", "passwd", "disable", "enable"])
    s.add_argument("name", nargs="?")
    s.add_argument("--admin", action="store_true", help="创建管理员账号")
    s.set_defaults(func=cmd_user)

    s = sub.add_parser("serve", parents=[common], help="启动网页服务")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=5000)
    s.add_argument("--workers", type=int, default=4, help="服务线程数")
    s.set_defaults(func=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "home"):
        args.home = None
    try:
        return args.func(args)
    except UsageError as e:
        print(f"lecturelib: {e}", file=sys.stderr)
        return 2
    except LecturelibError as e:
        print(f"lecturelib: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\n已中断。已完成的文件已保存。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
