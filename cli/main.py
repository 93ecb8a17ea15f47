"""``lecturelib``: a thin command line over :class:`indexer.app.service.LibraryService`.

Exit codes: 0 success; 1 when some file or check failed (the good ones are still stored) or
something went wrong; 2 on a usage error; 130 when interrupted by Ctrl+C, 143 by SIGTERM (worker
processes stopped, finished files kept); 141 when the reader of the output went away
(``lecturelib list | head``). No user action ends in a traceback:
every failure is a Chinese message on stderr (set ``LECTURELIB_DEBUG=1`` to see the traceback of
an internal error).
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import signal
import sys
import threading
from pathlib import Path

from cli.textui import Progress, table
from library.content import AUDIENCES, HIT_KINDS, KINDS, citation, citation_line, clock
from library.errors import LecturelibError, UsageError

STATUS_LABELS = {
    "ok": "成功",
    "duplicate": "重复",
    "warning": "有提示",
    "needs_ocr": "需OCR",
    "needs_transcript": "待补文稿",
    "error": "失败",
    "skipped": "已跳过",
}


def _service(args):
    from indexer.app.service import LibraryService

    return LibraryService(args.home)


def _out(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


# -- ingest -------------------------------------------------------------------------------


def cmd_ingest(args) -> int:
    svc = _service(args)
    bar = None
    files_done = 0

    def progress(result, done, total):
        nonlocal bar, files_done
        if bar is None:
            bar = Progress(total, "导入", enabled=not args.quiet)
        files_done = done
        bar.update(
            done, f"{STATUS_LABELS.get(result.status, result.status)} {Path(result.path).name}"
        )

    def page_progress(path, stage, done, total):
        # OCR'd files: a step per page (the bar's note on a terminal, a line in a log)
        nonlocal bar
        if stage == "batch" and bar is None:
            bar = Progress(total, "导入", enabled=not args.quiet)
        elif stage == "ocr" and bar is not None and total:
            name = Path(path).name
            note = (
                f"文字识别 {name} 第 {done + 1}/{total} 页"
                if done < total
                else f"文字识别 {name} 完成（{total} 页）"
            )
            bar.update(files_done, note)

    try:
        results = svc.ingest(
            args.paths,
            kind=args.kind,
            topics=args.topic,
            audiences=args.audience,
            actor=args.actor,
            progress=progress,
            page_progress=page_progress,
            extract_quotes=not args.no_quotes,
        )
    finally:
        svc.close()
    if args.json:
        _out([r.to_json() for r in results])
    else:
        rows = [
            [
                STATUS_LABELS.get(r.status, r.status),
                Path(r.path).name,
                KINDS.get(r.kind or "", "") if r.kind else "",
                *(("", "") if r.status == "skipped" else (str(r.quotes), str(r.passages))),
                "" if r.pages is None else str(r.pages),
                r.message,
            ]
            for r in results
        ]
        print(
            table(
                ["状态", "文件", "类型", "金句", "段落", "页", "说明"],
                rows,
                max_widths={1: 36, 6: 40},
                right={3, 4, 5},
            )
        )
        notes = [r for r in results if r.message and r.status != "ok"]
        if notes:
            print("\n说明：")
            for r in notes:
                print(f"  {STATUS_LABELS.get(r.status, r.status)}  {r.path}\n        {r.message}")
                if r.status == "needs_transcript" and r.document_id:
                    print(f"        补文稿：lecturelib transcript {r.document_id} 字幕.srt")
        counts = {s: sum(r.status == s for r in results) for s in STATUS_LABELS}
        summary = "，".join(f"{STATUS_LABELS[s]} {n}" for s, n in counts.items() if n)
        print(f"\n共 {len(results)} 个文件：{summary or '无'}。")
    return 1 if any(r.failed for r in results) else 0


# -- list / show --------------------------------------------------------------------------


def cmd_list(args) -> int:
    svc = _service(args)
    try:
        topic = svc.taxonomy.resolve(args.topic).slug if args.topic else None
        docs = svc.list_documents(
            status="trashed" if args.trash else "active", kind=args.kind, topic=topic
        )
        counts = svc.counts()
    finally:
        svc.close()
    if args.json:
        _out(
            {
                "counts": counts,
                "documents": [
                    {
                        "id": d["id"],
                        "title": d["title"],
                        "kind": d["kind"],
                        "filename": d["filename"],
                        "format": d["format"],
                        "pages": d["pages"],
                        "version": d["version_number"],
                        "quotes": d["quotes"],
                        "passages": d["passages"],
                        "topics": d["topics"],
                        "date": d["date"],
                    }
                    for d in docs
                ],
            }
        )
        return 0
    names = svc.taxonomy.name_of
    rows = [
        [
            str(d["id"]),
            d["title"],
            KINDS.get(d["kind"], d["kind"]),
            d["format"] or "",
            str(d["quotes"]),
            str(d["passages"]),
            "、".join(names(t) for t in d["topics"]),
        ]
        for d in docs
    ]
    print(
        table(
            ["编号", "标题", "类型", "格式", "金句", "段落", "专题"],
            rows,
            max_widths={1: 40, 6: 40},
            right={0, 4, 5},
        )
    )
    print(
        f"\n资料库：{counts['documents']} 份材料，{counts['quotes']} 条金句，"
        f"{counts['passages']} 个段落"
        + (f"，回收站 {counts['trashed']} 份" if counts["trashed"] else "")
        + "。"
    )
    return 0


def cmd_show(args) -> int:
    svc = _service(args)
    try:
        doc = svc.document(args.doc)
    finally:
        svc.close()
    if args.json:
        _out(doc)
        return 0
    v = doc["version"] or {}
    names = svc.taxonomy.name_of
    print(
        f"《{doc['title']}》  编号 {doc['id']}  {KINDS.get(doc['kind'], doc['kind'])}"
        + ("  [回收站]" if doc["status"] == "trashed" else "")
    )
    media = v.get("media") or {}
    length = (
        f"时长 {clock(media['duration'])}"
        if media.get("duration")
        else f"{v.get('pages') or '-'} 页"
    )
    print(
        f"文件：{v.get('filename')}（{v.get('format')}，第 {v.get('number')} 版，{length}）"
        f"  日期：{doc['date'] or '-'}"
        + (f"  主讲人：{media['speaker']}" if media.get("speaker") else "")
        + (f"  {'出处/活动' if media else '来源'}：{doc['source']}" if doc.get("source") else "")
    )
    print(
        "专题："
        + (
            "、".join(
                f"{names(t['topic'])}（{t['score']:.2f}{'，人工' if t['origin'] == 'manual' else ''}）"
                for t in doc["topics"]
            )
            or "-"
        )
    )
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
            line = citation_line(q.get("source"), q.get("date"), q.get("speaker"))
            print(f"  [{q['id']}] {q['text']}" + (f"\n      {line}" if line else ""))
    if doc["passages"]:
        print(f"\n段落（{len(doc['passages'])}）：")
        for p in doc["passages"]:
            head = " › ".join(p["heading_path"])
            page = f" 第{p['page']}页" if p["page"] else ""
            if p.get("start_s") is not None:  # a transcript passage: when it is said
                page = f" ▶ {clock(p['start_s'])}"
            body = p["text"].replace("\n", " ")
            if p["kind"] == "qa":
                body = f"问：{p['question']} 答：{body}"
            label = f"  [{p['id']}]{page} {head}".rstrip()
            print(f"{label}\n      {body[:120]}{'…' if len(body) > 120 else ''}")
    return 0


# -- search ---------------------------------------------------------------------------------


def cmd_search(args) -> int:
    svc = _service(args)
    try:
        svc.ready_to_read()  # first use after an upgrade: build the index once
        res = svc.search(
            args.query,
            topic=args.topic,
            kind=args.kind,
            audience=args.audience,
            year=args.year,
            speaker=args.speaker,
            limit=args.limit,
            page=args.page,
            sort=args.sort,
        )
    finally:
        svc.close()
    if args.json:
        _out(res)
        return 0
    query = args.query.strip()
    corrected = res.get("corrected") if isinstance(res.get("corrected"), dict) else None
    if corrected and corrected.get("to"):
        src, dst = str(corrected.get("from") or query), str(corrected["to"])
        print(
            f"已显示“{dst}”的结果（仍要搜索“{src}”，请加英文引号：lecturelib search '\"{src}\"'）"
        )
        query = query.replace(src, dst) if src in query else dst
    total = res.get("total", 0)
    approx = "约" if res.get("total_is_estimate") else ""
    print(f"“{query}”：{approx}{total} 条结果")
    hits = res.get("hits") or []
    for i, h in enumerate(hits, 1 + (args.page - 1) * args.limit):
        label = HIT_KINDS.get(h.get("kind"), h.get("kind") or "")
        text = (h.get("text") or "").replace("\n", " ")
        if h.get("question"):
            text = f"问：{h['question']} 答：{text}"
        print(f"\n{i}. [{label}] {text[:160]}{'…' if len(text) > 160 else ''}")
        cite = h.get("citation") or citation(h.get("source"), h.get("date"), h.get("speaker"))
        if cite:
            print(f"   ——{cite}")
        doc = h.get("document") or {}
        where = f"   《{doc.get('title')}》" + (f" 第 {h['page']} 页" if h.get("page") else "")
        if h.get("start") is not None:  # a recording: where it is said
            where += f" ▶ {clock(h['start'])}"
        if h.get("heading"):
            where += f" · {h['heading']}"
        if h.get("more_in_document"):
            where += f"（本材料另有 {h['more_in_document']} 处）"
        print(where)
    if hits:
        pages = res.get("pages") or 1
        if args.page < pages:
            print(f"\n第 {args.page}/{pages} 页；下一页：--page {args.page + 1}")
        return 0
    if total:
        pages = res.get("pages") or 1
        which = "去掉 --page" if pages <= 1 else f"用 --page 1 到 --page {pages}"
        print(f"\n第 {args.page} 页已超出结果范围：共 {total} 条结果，{pages} 页。请{which}。")
        return 0
    tries = _suggestion_texts(res.get("suggestions"))
    if tries:
        print("\n没有找到结果。试试：" + "、".join(tries))
    else:
        print("\n没有找到结果。可以减少关键词、换个说法，或去掉 --topic/--kind 等筛选条件。")
    return 0


def _suggestion_texts(suggestions) -> list[str]:
    """The engine's suggestions ({"kind", "query", "total"?} dicts) as short Chinese labels."""
    out: list[str] = []
    seen: set[str] = set()
    for s in suggestions or []:
        if isinstance(s, str):
            q, n = s, None
        elif isinstance(s, dict) and s.get("query"):
            q, n = str(s["query"]), s.get("total")
        else:
            continue
        if q.strip() and q not in seen:
            seen.add(q)
            out.append(f"{q}（{n} 条）" if isinstance(n, int) and n > 0 else q)
    return out


def cmd_explain(args) -> int:
    svc = _service(args)
    try:
        svc.ready_to_read()
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
    print(
        "运行 lecturelib check --repair 可自动修复；缺失或损坏的文件须按上面的提示从备份恢复"
        "或重新导入。"
    )
    return 1


def cmd_dict(args) -> int:
    svc = _service(args)
    try:
        if args.action == "list":
            for t in svc.terms():
                print(t)
            return 0
        if not args.words:
            raise UsageError("请给出要添加或删除的词。", "例如：lecturelib dict add 百千万工程")
        changed = svc.change_terms(args.action, args.words, actor="cli")
        verb = "添加" if args.action == "add" else "删除"
        if not changed:
            why = "已在词典中" if args.action == "add" else "不在词典中"
            print(f"没有需要{verb}的词：“{'、'.join(args.words)}”{why}，词典未改动。")
            return 0
        svc.sync()  # the vocabulary hash changed: the index is rebuilt with the new words
        print(f"已{verb} {len(changed)} 个词（{'、'.join(changed)}），检索索引已按新词典更新。")
        return 0
    finally:
        svc.close()


def cmd_synonyms(args) -> int:
    svc = _service(args)
    try:
        if args.action == "list":
            for g in svc.synonym_groups():
                print(" = ".join(g))
            return 0
        if args.action == "add":
            if len(args.words) < 2:
                raise UsageError(
                    "同义词组至少需要两个词。", "例如：lecturelib synonyms add 二十大 党的二十大"
                )
            svc.add_synonyms(args.words, actor="cli")
        else:
            if not args.words:
                raise UsageError("请给出要删除的同义词组中的一个词。")
            removed = [w for w in args.words if svc.remove_synonym_group(w, actor="cli")]
            if not removed:
                print(
                    f"“{'、'.join(args.words)}”不在任何同义词组中，未改动。"
                    "用 lecturelib synonyms list 查看现有的同义词组。"
                )
                return 0
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
    from indexer.app.accounts import ROLES

    svc = _service(args)
    try:
        users = svc.accounts
        if args.action == "list":
            rows = [
                [u["name"], ROLES.get(u["role"], u["role"]), "启用" if u["active"] else "停用"]
                for u in users.list()
            ]
            print(table(["用户名", "角色", "状态"], rows))
            return 0
        if not args.name:
            raise UsageError("请给出用户名。", "例如：lecturelib user add 张编辑 --admin")
        role = "admin" if args.admin else args.role
        if args.action == "import":
            try:
                data = Path(args.name).read_bytes().decode("utf-8-sig")
            except OSError as e:
                raise UsageError(
                    f"无法读取文件“{args.name}”：{e.strerror or e}。",
                    "请检查路径；CSV 每行一个账号：用户名[,密码]，UTF-8 编码。",
                ) from e
            except UnicodeDecodeError:
                raise UsageError(
                    f"文件“{args.name}”不是 UTF-8 编码的文本。",
                    "请在表格软件中“另存为 CSV UTF-8”后再导入。",
                ) from None
            rows = users.import_csv(data, role or "reader", actor="cli")
            made = [r for r in rows if r.get("status") != "exists"]
            print(
                table(
                    ["行", "用户名", "初始密码", "结果"],
                    [
                        [
                            r["line"],
                            r["name"],
                            r.get("password") or "（文件中给出）"
                            if r.get("status") != "exists"
                            else "—",
                            "已存在，未改动" if r.get("status") == "exists" else "已创建",
                        ]
                        for r in rows
                    ],
                )
            )
            print(
                f"新建 {len(made)} 个{ROLES.get(role or 'reader', '')}账号。初始密码只显示这一次，"
                "请分发给本人并提醒修改。"
            )
            return 0
        if args.action == "add":
            role = role or "editor"
            users.add(args.name, _read_password(args), role)
            print(f"已创建{ROLES.get(role, role)}账号“{args.name}”。")
        elif args.action == "passwd":
            users.set_password(args.name, _read_password(args), actor="cli")
            print(f"已重置“{args.name}”的密码。")
        elif args.action in ("disable", "enable"):
            users.set_active(args.name, args.action == "enable", actor="cli")
            print(f"已{'启用' if args.action == 'enable' else '停用'}账号“{args.name}”。")
        return 0
    finally:
        svc.close()


def _media_limit(value: str) -> float:
    """--media-limit MB: a number ≥ 0 (the service checks it again)."""
    try:
        mb = float(value)
    except ValueError:
        mb = -1.0
    if not mb >= 0 or mb == float("inf"):
        raise argparse.ArgumentTypeError(
            f"“{value}”不是有效的大小：请填写不小于 0 的数（单位 MB；0 表示只带文稿）"
        )
    return mb


def cmd_export(args) -> int:
    svc = _service(args)
    try:
        svc.sync()
        try:
            rep = svc.export_topic(
                args.topic, Path(args.output), kinds=args.kind, media_limit_mb=args.media_limit
            )
        except OSError as e:
            raise _output_error(e, args.output) from e
    finally:
        svc.close()
    print(
        f"已导出专题“{rep.topic}”：{rep.documents} 份材料，{rep.quotes} 条金句，"
        f"{rep.passages} 个段落"
        + (f"（另附 {rep.sources} 份只作金句出处的其他专题材料）" if rep.sources else "")
        + f" → {rep.path}（{rep.bytes / 1024 / 1024:.1f} MB，用时 {rep.seconds:.1f} 秒）"
    )
    if rep.media_included or rep.media_left_out:
        print(_media_export_line(rep))
    return 0


def _media_export_line(rep) -> str:
    line = (
        f"视频/音频 {rep.media_included + rep.media_left_out} 段：{rep.media_included} 段随包附上"
        f"录音/录像文件"
    )
    if rep.media_left_out:
        line += (
            f"，{rep.media_left_out} 段只带文稿（录音/录像文件未随包，"
            f"上限 {rep.media_limit_mb:g} MB；可用 --media-limit 调整，0 表示只带文稿）"
        )
    return line + "。"


def cmd_import(args) -> int:
    svc = _service(args)
    try:
        rep = svc.import_pack(Path(args.file), actor=args.actor)
    finally:
        svc.close()
    print(
        f"已导入专题包“{rep.topic}”：新增 {len(rep.added)} 份材料、{rep.passages} 个段落、"
        f"{rep.quotes_added} 条新金句；{rep.quotes_merged} 处引用并入已有金句"
        "（同一句话在多份材料中出现只记一条）；"
        f"{len(rep.duplicates)} 份材料已存在，未改动（用时 {rep.seconds:.1f} 秒）。"
    )
    if rep.media_files or rep.media_missing:
        print(f"视频/音频：{rep.media_files} 段连同录音/录像文件导入。")
    if rep.media_missing:
        print(
            f"另有 {len(rep.media_missing)} 段（{'、'.join(rep.media_missing)}）的录音/录像文件"
            "未随专题包提供：已收录信息和文稿，可按文稿检索，但不能播放；"
            "导入带有这些文件的专题包即可补上。"
        )
    if rep.media_completed:
        print(
            f"已为 {len(rep.media_completed)} 段视频/音频（{'、'.join(rep.media_completed)}）"
            "补上录音/录像文件。"
        )
    return 0


def cmd_transcript(args) -> int:
    """Attach a transcript (subtitle .srt/.vtt/.lrc or a document) to a recording."""
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"无法读取文件“{path}”：{e.strerror or e}。", "请检查路径。") from e
    svc = _service(args)
    try:
        rep = svc.attach_transcript(args.doc_id, data, path.name, actor=args.actor)
    finally:
        svc.close()
    if args.json:
        _out(rep)
    else:
        print(
            f"已为材料 {args.doc_id} 补上文稿“{path.name}”：{rep['passages']} 个段落，"
            f"{rep['quotes']} 条金句，已可检索。"
        )
    return 0


def cmd_backup(args) -> int:
    from indexer.app.service import LibraryService

    try:
        rep = LibraryService.backup(
            args.home, Path(args.output), no_secrets=args.no_secrets, no_media=args.no_media
        )
    except OSError as e:
        raise _output_error(e, args.output) from e
    media = (
        f"、{rep.media} 段录像/录音（{rep.media_bytes / 1024 / 1024:.1f} MB）" if rep.media else ""
    )
    print(
        f"已备份：{rep.documents} 份材料、{rep.originals} 个原始文件{media} → {rep.path}"
        f"（{rep.bytes / 1024 / 1024:.1f} MB，用时 {rep.seconds:.1f} 秒）"
    )
    for sha in rep.missing:
        print(f"提示：原始文件 {sha[:12]}… 缺失，未能备份（运行 lecturelib check 查看）。")
    for title in rep.media_missing:
        print(f"提示：录像/录音《{title}》的文件缺失，未能备份（运行 lecturelib check 查看）。")
    for title in rep.media_damaged:
        print(f"提示：录像/录音《{title}》的文件已损坏，未能备份（运行 lecturelib check 查看）。")
    if rep.media_left_out:
        print(
            "此备份不含录像/录音文件（--no-media）："
            + "、".join(f"《{t}》" for t in rep.media_left_out)
            + f"（共 {len(rep.media_left_out)} 段）恢复后可以检索、可以看文稿，但无法播放；"
            "请另行保存这些原文件。"
        )
    if args.no_secrets:
        print(
            "此备份不含密钥和密码：恢复后会生成新密钥，各账号需用 lecturelib user passwd 设置新密码。"
        )
    return 0


def cmd_migrate(args) -> int:
    svc = _service(args)
    bars: dict[str, Progress] = {}
    labels = {
        "originals": "复制原始文件",
        "media": "复制录像/录音（MB）",
        "rows": "复制数据",
        "verify": "核对原始文件",
    }

    def progress(stage, done, total):
        if stage not in bars:
            bars[stage] = Progress(total, labels.get(stage, stage))
        bars[stage].update(done)

    try:
        rep = svc.migrate_to(args.to, progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
        svc.close()
    print(
        f"已迁移到 {rep.target}：{rep.documents} 份材料、共 {sum(rep.rows.values())} 行数据、"
        f"{rep.originals} 个原始文件"
        + (
            f"、{rep.media} 段录像/录音（{rep.media_bytes / 1024 / 1024:.1f} MB）"
            if rep.media
            else ""
        )
        + f"，行数与校验和核对一致（用时 {rep.seconds:.1f} 秒）。"
    )
    for sha in rep.missing:
        print(
            f"提示：原始文件 {sha[:12]}… 在原资料库中缺失，未能复制（运行 lecturelib check 查看）。"
        )
    for title in rep.media_missing:
        print(
            f"提示：录像/录音《{title}》的文件在原资料库中缺失，未能复制（运行 lecturelib check 查看）。"
        )
    if rep.home is not None:
        print(f"新资料库目录：{rep.home}（lecturelib --home {rep.home} serve）")
    else:
        print(
            "用这个数据库运行：lecturelib --database 数据库地址 serve，"
            "或在 settings.json 中设置 database_url；首次打开时会建立检索索引。"
        )
    return 0


def cmd_restore(args) -> int:
    from indexer.app.service import LibraryService

    m, n = LibraryService.restore_backup(Path(args.file), args.home)
    media = f"、{m['media_restored']} 段录像/录音" if m.get("media_restored") else ""
    print(
        f"已恢复备份（{m['created_at']}）：{m['documents']} 份材料、{m['originals']} 个原始文件"
        f"{media}，索引已重建（{n} 条可检索内容）。"
    )
    for note in m.get("notes") or []:
        print("注意：" + note)
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
    from web.serve import default_processes, serve

    processes = args.processes if args.processes is not None else default_processes()
    return serve(
        args.home, host=args.host, port=args.port, workers=args.workers, processes=processes
    )


# -- errors ---------------------------------------------------------------------------------

_ERRNO_ZH = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "操作不被允许",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "文件系统只读",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENOTDIR: "路径中的某一级不是文件夹",
    errno.EEXIST: "文件已存在",
    errno.ENAMETOOLONG: "文件名过长",
    errno.EMFILE: "打开的文件过多",
    errno.EIO: "读写出错（磁盘可能有问题）",
}
if hasattr(errno, "EDQUOT"):
    _ERRNO_ZH[errno.EDQUOT] = "磁盘配额已满"


def os_error_zh(e: OSError) -> str:
    """An OSError as a short Chinese phrase: "没有权限：/path"."""
    why = _ERRNO_ZH.get(e.errno) or e.strerror or type(e).__name__
    return f"{why}：{e.filename}" if e.filename else why


def _output_error(e: OSError, output) -> LecturelibError:
    why = _ERRNO_ZH.get(e.errno) or e.strerror or type(e).__name__
    return LecturelibError(
        f"无法写入 {output}：{why}。", "请检查目标文件夹是否存在、是否可写，以及磁盘空间是否足够。"
    )


# -- parser ---------------------------------------------------------------------------------
#
# argparse speaks English ("usage:", "error: the following arguments are required", "-h, --help
# show this help message and exit"). The parser and formatter below say it in Chinese: the help
# texts are ours, and argparse's error messages are translated by pattern (they are stable
# across Python versions; anything unknown is shown as is rather than dropped).


class ChineseHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)

    def format_help(self) -> str:
        # section headings ("选项:") with a full-width colon
        return re.sub(r"^(\S[^\n]*?):$", r"\1：", super().format_help(), flags=re.M)


def _choices_zh(text: str) -> str:
    items = [c.strip().strip("'\"") for c in text.split(",")]
    return "、".join(i for i in items if i)


_TYPE_ZH = {"int": "整数", "float": "数字"}

_ARGPARSE_ZH: list[tuple[re.Pattern, object]] = [
    (
        re.compile(r"the following arguments are required: (.+)", re.S),
        lambda m: f"缺少必需的参数：{m[1]}",
    ),
    (
        re.compile(r"one of the arguments (.+) is required", re.S),
        lambda m: f"必须给出以下参数之一：{m[1]}",
    ),
    (re.compile(r"unrecognized arguments: (.+)", re.S), lambda m: f"无法识别的参数：{m[1]}"),
    (
        re.compile(r"invalid choice: (['\"])(.*)\1 \(choose from (.+)\)", re.S),
        lambda m: f"无效的取值“{m[2]}”（可选：{_choices_zh(m[3])}）",
    ),
    (
        re.compile(r"invalid (\w+) value: (['\"])(.*)\2", re.S),
        lambda m: f"“{m[3]}”不是有效的{_TYPE_ZH.get(m[1], '值')}",
    ),
    (re.compile(r"expected one argument"), lambda m: "需要给出一个值"),
    (re.compile(r"expected at most one argument"), lambda m: "最多只能给出一个值"),
    (re.compile(r"expected at least one argument"), lambda m: "至少需要给出一个值"),
    (re.compile(r"expected (\d+) arguments?"), lambda m: f"需要给出 {m[1]} 个值"),
    (
        re.compile(r"ambiguous option: (\S+) could match (.+)", re.S),
        lambda m: f"选项 {m[1]} 有歧义，可能是：{m[2]}",
    ),
    (re.compile(r"not allowed with argument (.+)", re.S), lambda m: f"不能与参数 {m[1]} 同时使用"),
    (re.compile(r"ignored explicit argument (['\"])(.*)\1", re.S), lambda m: f"多余的值“{m[2]}”"),
]


def argparse_message_zh(message: str) -> str:
    """argparse's English error message in Chinese (unknown messages pass through)."""
    m = re.fullmatch(r"argument (\S+?): (.*)", message, re.S)
    if m:
        name, rest = m[1], m[2]
        inv = re.fullmatch(r"invalid choice: (['\"])(.*)\1 \(choose from (.+)\)", rest, re.S)
        if inv and name in ("COMMAND", "command"):
            return f"没有“{inv[2]}”这个命令（可用命令：{_choices_zh(inv[3])}）"
        return f"参数 {name}：{argparse_message_zh(rest)}"
    for pattern, render in _ARGPARSE_ZH:
        m = pattern.fullmatch(message.strip())
        if m:
            return render(m)
    return message


class ChineseArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose help, usage and errors are in Chinese."""

    def __init__(self, *args, add_help: bool = True, parents=(), **kwargs):
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        # Retitled before the parents' options are merged in, so theirs join the same groups.
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument(
                "-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出"
            )
        for parent in parents:
            self._add_container_actions(parent)
            self._defaults.update(parent._defaults)

    def error(self, message: str):
        self.print_usage(sys.stderr)
        if message.startswith("the following arguments are required: COMMAND"):
            text = "请给出要执行的命令，例如：lecturelib search 绿水青山"
        else:
            text = argparse_message_zh(message)
        self.exit(2, f"{self.prog}：错误：{text}。用 {self.prog} -h 查看帮助。\n")


def _int_arg(low: int, high: int, what: str):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"“{text}”不是整数，请给出{what}") from None
        if not low <= v <= high:
            raise argparse.ArgumentTypeError(f"“{text}”超出范围，请给出{what}")
        return v

    parse.__name__ = "int"
    return parse


_POSITIVE = _int_arg(1, 10_000, "每页 1 到 10000 条")
_PAGE = _int_arg(1, 1_000_000, "从 1 开始的页码")
_DOC_ID = _int_arg(1, 2**63 - 1, "材料编号（正整数，用 lecturelib list 查看）")
_PORT = _int_arg(0, 65535, "端口号 0–65535（0 表示自动选择空闲端口）")
_WORKERS = _int_arg(1, 256, "线程数 1–256")
_PROCESSES = _int_arg(1, 64, "进程数 1–64")


def _doc_kind(text: str) -> str:
    """A material kind by slug or Chinese name (讲义 → handout); argparse checks the choices."""
    by_label = {v: k for k, v in KINDS.items()}
    t = text.strip()
    return by_label.get(t, t.lower())


SEARCH_KINDS_HELP = (
    "只看某一类：记录类型 quote 金句、passage 段落、qa 问答，或材料类型 "
    + "、".join(f"{k} {v}" for k, v in KINDS.items())
    + "（英文标识或中文名均可）"
)


def build_parser() -> argparse.ArgumentParser:
    common = ChineseArgumentParser(add_help=False)
    common.add_argument(
        "--home",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="资料库目录（默认 $LECTURELIB_HOME，否则 ./instance）",
    )
    common.add_argument(
        "--database",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="资料库所在的数据库：postgresql://用户:密码@主机:端口/库名（多台服务器共用）；"
        "默认 $LECTURELIB_DATABASE_URL，否则资料库目录中的内置数据库",
    )
    p = ChineseArgumentParser(
        prog="lecturelib",
        parents=[common],
        description="宣讲素材库：导入、检索与管理宣讲材料。",
        epilog="用 lecturelib COMMAND -h 查看各命令的用法。",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True, title="命令")

    kinds = "、".join(f"{k}（{v}）" for k, v in KINDS.items())

    s = sub.add_parser(
        "ingest",
        parents=[common],
        help="导入文件或文件夹（递归）",
        description="导入文件或文件夹（递归）。文件夹中不支持的文件类型会跳过并在汇总中列出。",
    )
    s.add_argument("paths", nargs="+", metavar="PATH", help="文件或文件夹")
    s.add_argument("--kind", type=_doc_kind, choices=list(KINDS), help=f"强制指定材料类型：{kinds}")
    s.add_argument(
        "--topic", action="append", metavar="NAME", help="指定专题（中文名或英文标识，可重复）"
    )
    s.add_argument("--audience", action="append", metavar="NAME", help="指定宣讲对象（可重复）")
    s.add_argument(
        "--no-quotes",
        action="store_true",
        help="不从讲义、讲稿、案例、问答的正文中提取引用的金句（金句汇编照常拆分）",
    )
    s.add_argument("--json", action="store_true", help="以 JSON 输出每个文件的结果")
    s.add_argument("-q", "--quiet", action="store_true", help="不显示进度")
    s.add_argument("--actor", default="cli", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("list", parents=[common], help="列出资料库中的材料")
    s.add_argument(
        "--kind", type=_doc_kind, choices=list(KINDS), help=f"只列出一种材料类型：{kinds}"
    )
    s.add_argument("--topic", metavar="NAME", help="只列出一个专题（中文名或英文标识）")
    s.add_argument("--trash", action="store_true", help="列出回收站")
    s.add_argument("--json", action="store_true", help="以 JSON 输出")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("show", parents=[common], help="查看一份材料")
    s.add_argument("doc", type=_DOC_ID, metavar="DOC", help="材料编号（用 lecturelib list 查看）")
    s.add_argument("--json", action="store_true", help="以 JSON 输出")
    s.set_defaults(func=cmd_show)

    s = sub.add_parser("search", parents=[common], help="检索")
    s.add_argument("query", metavar="QUERY", help='检索词；英文引号 "…" 表示整句匹配')
    s.add_argument("--topic", metavar="T", help="只看一个专题（中文名或英文标识）")
    s.add_argument("--kind", metavar="KIND", help=SEARCH_KINDS_HELP)
    s.add_argument("--audience", metavar="A", help="宣讲对象，如 进农村 或 rural")
    s.add_argument("--year", metavar="YEAR", help="年份，如 2021 或 2019-2021")
    s.add_argument("--speaker", metavar="NAME", help="金句的讲话人，如 习近平")
    s.add_argument("--limit", type=_POSITIVE, default=10, metavar="N", help="每页条数（默认 10）")
    s.add_argument("--page", type=_PAGE, default=1, metavar="P", help="第几页（默认 1）")
    s.add_argument(
        "--sort",
        choices=["relevance", "date"],
        default="relevance",
        help="排序：relevance 相关度（默认）、date 日期",
    )
    s.add_argument("--json", action="store_true", help="以 JSON 输出（与 /api/search 相同）")
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("explain", parents=[common], help="显示查询如何被解析")
    s.add_argument("query", metavar="QUERY", help="检索词")
    s.set_defaults(func=cmd_explain)

    s = sub.add_parser("reindex", parents=[common], help="从数据库重建检索索引")
    s.set_defaults(func=cmd_reindex)

    s = sub.add_parser("check", parents=[common], help="检查数据库、原始文件与索引是否一致")
    s.add_argument("--repair", action="store_true", help="自动修复发现的问题")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("dict", parents=[common], help="管理词典（list/add/remove）")
    s.add_argument(
        "action",
        choices=["list", "add", "remove"],
        metavar="ACTION",
        help="list 列出、add 添加、remove 删除",
    )
    s.add_argument("words", nargs="*", metavar="WORD", help="词语")
    s.set_defaults(func=cmd_dict)

    s = sub.add_parser("synonyms", parents=[common], help="管理同义词（list/add/remove）")
    s.add_argument(
        "action",
        choices=["list", "add", "remove"],
        metavar="ACTION",
        help="list 列出、add 添加一组、remove 删除含该词的组",
    )
    s.add_argument("words", nargs="*", metavar="WORD", help="词语")
    s.set_defaults(func=cmd_synonyms)

    s = sub.add_parser("export", parents=[common], help="导出专题包（离线可用的 .zip）")
    s.add_argument("--topic", required=True, metavar="NAME", help="专题中文名或英文标识")
    s.add_argument(
        "--kind",
        action="append",
        type=_doc_kind,
        choices=list(KINDS),
        help=f"只导出这些类型（可重复）：{kinds}",
    )
    s.add_argument("-o", "--output", required=True, metavar="FILE.zip", help="输出文件")
    s.add_argument(
        "--media-limit",
        type=_media_limit,
        default=None,
        metavar="MB",
        help="随包附上的录音/录像文件合计上限（MB，默认 200；0 表示只带文稿）。"
        "超出的只带文稿，并在包内注明",
    )
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("import", parents=[common], help="导入专题包")
    s.add_argument("file", metavar="FILE.zip", help="专题包文件")
    s.add_argument("--actor", default="cli", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_import)

    s = sub.add_parser(
        "transcript",
        parents=[common],
        help="为视频/音频补上文稿（字幕 .srt/.vtt/.lrc 或 .docx/.txt）",
    )
    s.add_argument("doc_id", type=int, metavar="DOC_ID", help="视频/音频材料的编号")
    s.add_argument("file", metavar="FILE", help="字幕或文稿文件")
    s.add_argument("--json", action="store_true", help="以 JSON 输出")
    s.add_argument("--actor", default="cli", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_transcript)

    s = sub.add_parser("backup", parents=[common], help="备份资料库（可在服务运行时进行）")
    s.add_argument("-o", "--output", required=True, metavar="FILE.zip", help="备份文件")
    s.add_argument(
        "--no-secrets",
        action="store_true",
        help="不含密钥（secret_key）和密码：可交给他人保存；恢复后须重设密码",
    )
    s.add_argument(
        "--no-media",
        action="store_true",
        help="不含录像/录音文件（可能很大）：恢复后这些材料可检索、看文稿，但无法播放",
    )
    s.set_defaults(func=cmd_backup)

    s = sub.add_parser(
        "migrate",
        parents=[common],
        help="把资料库复制到另一种数据库（内置 SQLite ⇄ PostgreSQL），并核对",
    )
    s.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="目标：postgresql://用户:密码@主机:端口/库名（须为空库），"
        "或 sqlite:///路径/到/新资料库目录",
    )
    s.set_defaults(func=cmd_migrate)

    s = sub.add_parser("restore", parents=[common], help="把备份恢复到一个空的资料库目录")
    s.add_argument("file", metavar="FILE.zip", help="备份文件")
    s.set_defaults(func=cmd_restore)

    s = sub.add_parser(
        "user", parents=[common], help="管理账号（list/add/passwd/disable/enable/import）"
    )
    s.add_argument(
        "action",
        choices=["list", "add", "passwd", "disable", "enable", "import"],
        metavar="ACTION",
        help="list 列出、add 新建、passwd 重置密码、disable 停用、"
        "enable 启用、import 从 CSV 批量新建（NAME 为 CSV 文件）",
    )
    s.add_argument("name", nargs="?", metavar="NAME", help="用户名（import 时为 CSV 文件）")
    s.add_argument("--admin", action="store_true", help="创建管理员账号（同 --role admin）")
    s.add_argument(
        "--role",
        choices=["reader", "editor", "admin"],
        default=None,
        help="角色：reader 读者、editor 编辑（add 的默认）、admin 管理员；import 默认 reader",
    )
    s.set_defaults(func=cmd_user)

    s = sub.add_parser("serve", parents=[common], help="启动网页服务")
    s.add_argument(
        "--host",
        default="127.0.0.1",
        help="监听地址（默认 127.0.0.1 仅本机；0.0.0.0 允许局域网访问）",
    )
    s.add_argument("--port", type=_PORT, default=5000, metavar="P", help="端口（默认 5000）")
    s.add_argument(
        "--workers",
        type=_WORKERS,
        default=16,
        metavar="N",
        help="每个进程的服务线程数（默认 16；等待中的线程几乎不占资源）",
    )
    s.add_argument(
        "--processes",
        type=_PROCESSES,
        default=None,
        metavar="P",
        help="工作进程数（默认：每个处理器核心一个，最多 4 个；1 表示单进程）",
    )
    s.set_defaults(func=cmd_serve)
    return p


def _silence_stdout() -> None:
    """The reader of our output went away (``| head``): send whatever is still buffered
    nowhere, so that the interpreter's final flush does not complain either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


class Terminated(KeyboardInterrupt):
    """SIGTERM: stop like Ctrl+C (worker processes stopped, finished files kept)."""


def _on_sigterm(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    command = None
    previous = None
    saved_database: str | None | bool = False  # False: --database not given
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = args.command
        if not hasattr(args, "home"):
            args.home = None
        if getattr(args, "database", None):
            # the home's store lives there (read by the settings, inherited by serve's workers)
            saved_database = os.environ.get("LECTURELIB_DATABASE_URL")
            os.environ["LECTURELIB_DATABASE_URL"] = args.database
        code = args.func(args)
        sys.stdout.flush()
        return code
    except UsageError as e:
        print(f"lecturelib: {e}", file=sys.stderr)
        return 2
    except LecturelibError as e:
        print(f"lecturelib: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except KeyboardInterrupt as e:
        saved = "已完成的文件已保存。" if command == "ingest" else ""
        print(f"\n已中断。{saved}", file=sys.stderr)
        return 143 if isinstance(e, Terminated) else 130
    except MemoryError:
        print("lecturelib: 内存不足，操作未完成。请关闭其他程序后重试。", file=sys.stderr)
        return 1
    except OSError as e:
        if os.environ.get("LECTURELIB_DEBUG"):
            raise
        print(
            f"lecturelib: 读写文件时出错：{os_error_zh(e)}。请检查路径、权限和磁盘空间。",
            file=sys.stderr,
        )
        return 1
    except Exception as e:  # the boundary: no user action ends in a traceback
        if os.environ.get("LECTURELIB_DEBUG"):
            raise
        print(
            f"lecturelib: 发生内部错误（{type(e).__name__}: {str(e)[:300]}）。操作未完成；"
            "请把这条信息和所用的命令反馈给管理员（设置 LECTURELIB_DEBUG=1 可查看详细信息）。",
            file=sys.stderr,
        )
        return 1
    finally:
        if saved_database is not False:  # --database applies to this command only
            if saved_database is None:
                os.environ.pop("LECTURELIB_DATABASE_URL", None)
            else:
                os.environ["LECTURELIB_DATABASE_URL"] = saved_database
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
