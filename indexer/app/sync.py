"""Keep the derived search index in agreement with the store.

* :func:`drain` applies the store's outbox (ids changed by ingest or edits) to the index in one
  writer transaction. Called after every ingest and edit; harmless when there is nothing to do.
* :func:`rebuild` rebuilds the index from the store (``lecturelib reindex``).
* :func:`ensure` rebuilds when the index is missing, stale (schema or vocabulary changed) or
  corrupt, then drains.
* :func:`check` compares store, originals and index and says, in Chinese, what disagrees;
  ``repair=True`` makes them agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from indexer.search import IndexRecord, SearchEngine
from library.store import Store
from library.store.mediafiles import file_blocks


def records(store: Store, ids: Iterable[str] | None = None) -> Iterator[IndexRecord]:
    """The store's searchable units (all, or those of ``ids`` that still are searchable) as
    index records: the one place store rows become what the engine indexes."""
    for row in store.records(ids):
        yield IndexRecord.from_row(row)


def drain(store: Store, index: SearchEngine, *, batch: int = 5000) -> int:
    """Apply pending changes; returns how many record ids were applied."""
    applied = 0
    while True:
        upto, ids = store.pending_index(limit=batch)
        if not ids:
            return applied
        upserts = list(records(store, ids))
        present = {r.id for r in upserts}
        deletes = [i for i in ids if i not in present]
        index.apply(upserts, deletes)
        store.clear_pending(upto)
        applied += len(ids)


def rebuild(
    store: Store,
    index: SearchEngine,
    *,
    progress: Callable[[int, int], None] | None = None,
    procs: int = 2,
) -> int:
    """Rebuild the whole index from the store. Changes queued before the rebuild started are
    covered by it; later ones stay queued and are drained after."""
    head = store.queue_head()
    total = store.count_records()
    cb = (lambda n: progress(n, total)) if progress else None
    index.rebuild(records(store), total=total, progress=cb, procs=procs)
    store.clear_pending(head)
    drain(store, index)
    return total


def ensure(
    store: Store, index: SearchEngine, *, progress: Callable[[int, int], None] | None = None
) -> str:
    """Make the index usable; returns what was done: "ok", "drained" or the rebuild reason."""
    status = index.status()
    if status != "ok":
        rebuild(store, index, progress=progress)
        return status
    return "drained" if drain(store, index) else "ok"


def check(
    store: Store,
    index: SearchEngine,
    *,
    repair: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Problems found (Chinese, one per line); with ``repair`` they are fixed and the returned
    list says what was done. An empty list means store, originals and index agree."""
    problems: list[str] = list(store.integrity_problems())
    media = store.consistency.referenced_media()  # recordings: checked by check_media
    referenced = store.referenced_originals() - media.keys()
    on_disk = store.originals.all()
    if not store.db.postgres:
        on_disk -= media.keys()  # an embedded library keeps recordings among its originals
    missing = sorted(referenced - on_disk)
    for sha in missing:
        problems.append(
            f"原始文件缺失：{sha[:12]}…（该材料仍可检索，但无法下载原文件；"
            "请从备份恢复或重新导入该文件）"
        )
    for sha in sorted(referenced & on_disk):
        if not store.originals.verify(sha):
            problems.append(f"原始文件已损坏（校验和不符）：{sha[:12]}…（请从备份恢复或重新导入）")
    orphans = sorted(on_disk - referenced)
    if orphans:
        problems.append(f"有 {len(orphans)} 个原始文件不属于任何材料（可能是中断的导入留下的）。")
        if repair:
            for sha in orphans:
                store.originals.remove(sha)
    problems += check_media(store, media, repair=repair)
    status = index.status()
    if status != "ok":
        label = {
            "missing": "不存在",
            "stale": "已过期（结构或词典有变化）",
            "corrupt": "已损坏",
        }.get(status, status)
        problems.append(f"检索索引{label}，需要重建。")
        if repair:
            rebuild(store, index, progress=progress)
    else:
        _, pending = store.pending_index(limit=1)
        if pending:
            problems.append("有尚未写入索引的改动（上次导入或编辑可能被中断）。")
        want = store.record_ids()
        have = index.ids()
        lost = want - have
        extra = have - want
        if lost:
            problems.append(f"索引中缺少 {len(lost)} 条可检索内容。")
        if extra:
            problems.append(f"索引中有 {len(extra)} 条已不存在的内容。")
        if repair and (lost or extra or pending):
            drain(store, index)
            index.apply(list(records(store, sorted(lost))), sorted(extra))
    return problems


def check_media(store: Store, media: dict[str, str], *, repair: bool = False) -> list[str]:
    """Problems of the recordings (视频/音频) the versions refer to (``media``: sha256 →
    title): each one there and hashing right, read block by block (PostgreSQL: chunk by
    chunk), never whole. With ``repair``: chunks no version refers to are removed; on
    PostgreSQL, a damaged copy of this node is removed (it is made again from the chunks),
    and damaged or missing chunks are written again from this node's copy when that one is
    right."""
    files = store.media_files
    problems: list[str] = []
    for sha, title in sorted(media.items(), key=lambda kv: (kv[1], kv[0])):
        copy, copy_ok = files.node_copy(sha)
        if copy is not None and not copy_ok:
            problems.append(
                f"录像/录音《{title}》在本节点的缓存副本已损坏（{sha[:12]}…）"
                "：修复时删除，播放时会从数据库重新生成。"
            )
            if repair:
                copy.unlink(missing_ok=True)
        there = files.has(sha)
        if there and files.verify(sha):
            continue
        if not there:
            problems.append(
                f"录像/录音《{title}》的文件缺失（{sha[:12]}…）：该材料仍可检索、可看文稿，"
                "但无法播放。请重新导入原文件（同一份文件即可补回），或从含录像/录音文件的备份"
                "恢复、导入带有该文件的专题包。"
            )
        else:
            problems.append(
                f"录像/录音《{title}》的文件已损坏（校验和不符，{sha[:12]}…）：请从备份恢复，"
                "或把该材料彻底删除后重新导入原文件。"
            )
        if repair and copy_ok:  # this node still has it right: the database gets it back
            files.put_blocks(sha, file_blocks(copy))
    if store.db.postgres:
        orphans = sorted(files.all() - media.keys())
        if orphans:
            problems.append(
                f"数据库中有 {len(orphans)} 个录像/录音文件不属于任何材料"
                "（可能是中断的导入留下的）。"
            )
            if repair:
                for sha in orphans:
                    files.remove(sha)
    return problems


__all__ = ["records", "drain", "rebuild", "ensure", "check", "check_media"]
