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
    referenced = store.referenced_originals()
    on_disk = store.originals.all()
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


__all__ = ["records", "drain", "rebuild", "ensure", "check"]
