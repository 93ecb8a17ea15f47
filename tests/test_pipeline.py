"""Ingest through the pipeline: statuses, duplicates, versions, forced kind/topic, and bad input
that is reported by name while the rest of the batch goes on and the library stays intact."""

from __future__ import annotations

import pytest
from builders import (
    HANDOUT_DOC,
    JPEG_BYTES,
    QUOTES_DOC,
    docx_bytes,
    make_docx,
    make_image_only_pdf,
    make_pdf,
    zip_bomb_docx,
)

from indexer.ingest.pipeline import Options, Pipeline, text_key
from library.home import Home
from library.store import Store
from library.taxonomy import Taxonomy


@pytest.fixture
def env(tmp_path):
    store = Store(Home.open(tmp_path / "home"))
    pipe = Pipeline(store, Taxonomy.default())
    yield pipe, store, tmp_path
    store.close()


def ingest(pipe, *paths, **opts):
    return pipe.ingest([str(p) for p in paths], Options(workers=1, **opts))


def test_quote_compilation_becomes_quotes_with_sources(env):
    pipe, store, tmp = env
    (r,) = ingest(pipe, make_docx(tmp / "生态金句.docx", QUOTES_DOC))
    assert r.status in ("ok", "warning"), r.message
    assert r.kind == "quotes" and r.quotes == 3
    doc = store.get_document(r.document_id)
    q = {x["text"]: x for x in doc["quotes"]}
    assert q["绿水青山就是金山银山。"]["date"] == "2005-08-15"
    assert "安吉余村" in q["绿水青山就是金山银山。"]["source"]


def test_handout_becomes_passages_with_heading_paths(env):
    pipe, store, tmp = env
    (r,) = ingest(pipe, make_docx(tmp / "讲义.docx", HANDOUT_DOC))
    assert r.kind == "handout" and r.passages >= 3
    doc = store.get_document(r.document_id)
    paths = [p["heading_path"] for p in doc["passages"]]
    assert ["一、为什么要推进乡村振兴", "（一）产业兴旺是重点"] in paths
    assert [t["topic"] for t in doc["topics"]][0] == "rural-revitalization"


def test_same_file_twice_is_a_duplicate_and_changes_nothing(env):
    pipe, store, tmp = env
    f = make_docx(tmp / "a.docx", HANDOUT_DOC)
    (first,) = ingest(pipe, f)
    before = store.counts()
    (again,) = ingest(pipe, f)
    assert again.status == "duplicate" and again.document_id == first.document_id
    assert "已有相同文件" in again.message
    assert store.counts() == before


def test_changed_file_same_title_is_a_new_version(env):
    pipe, store, tmp = env
    (a,) = ingest(pipe, make_docx(tmp / "v1.docx", HANDOUT_DOC))
    changed = HANDOUT_DOC + [("p", "新增的一段：村里新建了文化广场，村民有了活动的地方。" * 4)]
    (b,) = ingest(pipe, make_docx(tmp / "v2.docx", changed))
    assert b.document_id == a.document_id and b.version == 2
    assert "第 2 版" in b.message
    assert len(store.get_document(a.document_id)["versions"]) == 2


def test_forced_kind_and_topic(env):
    pipe, store, tmp = env
    (r,) = ingest(
        pipe, make_docx(tmp / "x.docx", HANDOUT_DOC), kind="case", topics=["national-defense"]
    )
    doc = store.get_document(r.document_id)
    assert doc["kind"] == "case"
    assert [(t["topic"], t["origin"]) for t in doc["topics"]] == [("national-defense", "manual")]


def test_bad_files_are_reported_by_name_and_the_batch_goes_on(env):
    pipe, store, tmp = env
    (first,) = ingest(pipe, make_docx(tmp / "已有.docx", HANDOUT_DOC))
    before = store.counts()
    bad = tmp / "坏 文件"
    bad.mkdir()
    (bad / "空文件.docx").write_bytes(b"")
    full = make_docx(tmp / "full.docx", QUOTES_DOC).read_bytes()
    (bad / "截断 文档.docx").write_bytes(full[: len(full) // 2])
    pdf = make_pdf(tmp / "p.pdf", [["第一页的文字内容"]] * 2).read_bytes()
    (bad / "截断.pdf").write_bytes(pdf[: len(pdf) // 2])
    make_pdf(bad / "加密.pdf", [["机密内容"]], encrypt="secret")
    (bad / "照片.pdf").write_bytes(JPEG_BYTES)
    (bad / "未知.docx").write_bytes(bytes(range(256)) * 40)
    zip_bomb_docx(bad / "炸弹.docx", member_mb=600)
    make_image_only_pdf(bad / "扫描件.pdf")
    good = make_docx(bad / "好的 讲义.docx", QUOTES_DOC)
    results = {r.path.split("/")[-1]: r for r in ingest(pipe, bad)}
    assert results["好的 讲义.docx"].status in ("ok", "warning")
    for name in (
        "空文件.docx",
        "截断 文档.docx",
        "截断.pdf",
        "加密.pdf",
        "照片.pdf",
        "未知.docx",
        "炸弹.docx",
    ):
        r = results[name]
        assert r.status == "error", (name, r)
        assert r.message and any("\u4e00" <= c <= "\u9fff" for c in r.message), name
    assert "空" in results["空文件.docx"].message
    assert "密码" in results["加密.pdf"].message or "加密" in results["加密.pdf"].message
    assert "图片" in results["照片.pdf"].message
    assert results["扫描件.pdf"].status == "needs_ocr", results["扫描件.pdf"].message
    assert "OCR" in results["扫描件.pdf"].message
    after = store.counts()
    assert after["documents"] == before["documents"] + 1  # only the good one was added
    assert store.get_document(first.document_id)["title"]  # what was there is intact
    assert good.exists()


def test_folder_ingest_names_the_files_it_skips_and_why(env):
    pipe, store, tmp = env
    folder = tmp / "材料"
    make_docx(folder / "a 讲义.docx", HANDOUT_DOC)
    (folder / "note.xyz").write_text("随手记的笔记")
    (folder / "子目录").mkdir()
    (folder / "子目录" / "README").write_text("no extension")
    (folder / ".DS_Store").write_bytes(b"\0\0")  # hidden: left out without a word
    make_docx(folder / "z 金句.docx", QUOTES_DOC)
    results = ingest(pipe, folder)
    names = [r.path.split("/")[-1] for r in results]
    assert names == ["a 讲义.docx", "note.xyz", "z 金句.docx", "README"]  # in folder order
    skipped = {r.path.split("/")[-1]: r for r in results if r.status == "skipped"}
    assert set(skipped) == {"note.xyz", "README"}
    assert "不支持的文件类型（.xyz）" in skipped["note.xyz"].message
    assert "另存为" in skipped["note.xyz"].message  # says what to do
    assert "没有扩展名" in skipped["README"].message
    assert not any(r.failed for r in results)  # skipping is not a failure
    assert store.counts()["documents"] == 2


def test_oversized_file_is_refused_with_the_limit(env):
    pipe, store, tmp = env
    f = make_docx(tmp / "大文件.docx", HANDOUT_DOC)
    (r,) = pipe.ingest([str(f)], Options(workers=1, max_bytes=1000))
    assert r.status == "error" and "过大" in r.message and "MB" in r.message


def test_windows_1252_and_gb18030_text_files(env):
    pipe, store, tmp = env
    (tmp / "western.txt").write_bytes("Café déjà vu — “naïve” façade €5\r\n".encode("cp1252") * 20)
    body = "一、学习党史\r\n党史是最生动、最有说服力的教科书。\r\n" * 10
    (tmp / "国标.txt").write_bytes(body.encode("gb18030"))
    res = {r.path.split("/")[-1]: r for r in ingest(pipe, tmp / "western.txt", tmp / "国标.txt")}
    assert res["国标.txt"].status in ("ok", "warning")
    doc = store.get_document(res["国标.txt"].document_id)
    assert "最有说服力的教科书" in "".join(p["text"] for p in doc["passages"])
    assert res["western.txt"].status != "error" or "1252" in res["western.txt"].message
    if res["western.txt"].document_id:
        text = "".join(
            p["text"] for p in store.get_document(res["western.txt"].document_id)["passages"]
        )
        assert "Café" in text and "€5" in text


def test_missing_path_is_an_error_result(env):
    pipe, store, tmp = env
    (r,) = pipe.ingest([str(tmp / "不存在.docx")], Options(workers=1))
    assert r.status == "error" and "不存在" in r.message


def test_bulk_ingest_in_worker_processes_gives_same_result(env):
    pipe, store, tmp = env
    files = [
        make_docx(
            tmp / f"bulk{i}.docx",
            HANDOUT_DOC + [("p", f"第{i}份材料的独有内容。" * 10)],
            title=f"批量材料{i}",
        )
        for i in range(4)
    ]
    results = pipe.ingest([str(f) for f in files], Options(workers=2))
    assert [r.status for r in results] == ["ok"] * 4 or all(
        r.status in ("ok", "warning") for r in results
    )
    assert [r.path for r in results] == [str(f) for f in files]  # input order kept
    assert store.counts()["documents"] == 4


def test_text_key_ignores_punctuation_width_and_spaces():
    assert text_key("不忘初心，牢记使命。") == text_key("不忘初心 牢记使命")
    assert text_key("２０２４年") == text_key("2024年")


def test_a_file_that_takes_too_long_is_skipped_with_a_message(env, monkeypatch):
    pipe, store, tmp = env
    import indexer.ingest.pipeline as pl

    slow = make_docx(tmp / "慢.docx", HANDOUT_DOC)
    fine = make_docx(tmp / "快.docx", QUOTES_DOC)
    real = pl._prepare_path

    def sometimes_hangs(path, opts, taxonomy):
        if path.endswith("慢.docx"):
            import time

            time.sleep(30)
        return real(path, opts, taxonomy)

    monkeypatch.setattr(pl, "_prepare_path", sometimes_hangs)
    res = {
        r.path.rsplit("/", 1)[-1]: r
        for r in pipe.ingest([str(slow), str(fine)], Options(workers=2, timeout_s=1))
    }
    assert res["慢.docx"].status == "error" and "超时" in res["慢.docx"].message
    assert res["快.docx"].status in ("ok", "warning")


def test_a_file_waiting_on_a_busy_machine_is_not_timed_out(env, monkeypatch):
    """The limit is the worker's CPU time: a worker at nice 10 on a loaded machine waited 30 s
    of wall time before its first OCR page and its scan was reported as a damaged file."""
    pipe, store, tmp = env
    import indexer.ingest.pipeline as pl

    waits = make_docx(tmp / "等待.docx", HANDOUT_DOC)
    real = pl._prepare_path

    def waits_for_the_cpu(path, opts, taxonomy):
        import time

        time.sleep(2.5)  # wall time passes, the file's own CPU time does not
        return real(path, opts, taxonomy)

    monkeypatch.setattr(pl, "_prepare_path", waits_for_the_cpu)
    (r,) = pipe.ingest([str(waits)], Options(workers=1, timeout_s=1))
    assert r.status in ("ok", "warning"), r.message


def test_a_timeout_inside_a_library_is_reported_as_a_timeout_not_as_damage(monkeypatch):
    """rapidocr wraps whatever is raised during inference (the time limit too) in its own
    error; the file must not be called damaged for that."""
    import indexer.ingest.extract.registry as reg
    from indexer.ingest.extract import Limits, extract
    from indexer.ingest.pipeline import _Timeout

    def wraps(data, limits):
        try:
            raise _Timeout()
        except _Timeout as e:
            raise RuntimeError("ONNXRuntimeError") from e

    monkeypatch.setattr(reg, "_extractor", lambda fmt: wraps)
    docx = docx_bytes(HANDOUT_DOC)
    with pytest.raises(_Timeout):
        extract(docx, "讲义.docx", Limits())


def test_a_worker_that_dies_loses_only_its_own_file(env, monkeypatch):
    pipe, store, tmp = env
    import os

    import indexer.ingest.pipeline as pl

    bad = make_docx(tmp / "崩溃.docx", HANDOUT_DOC)
    good = make_docx(tmp / "正常.docx", QUOTES_DOC)
    real = pl._prepare_path

    def crashes(path, opts, taxonomy):
        if path.endswith("崩溃.docx"):
            os._exit(1)  # like a segfault in a C library
        return real(path, opts, taxonomy)

    monkeypatch.setattr(pl, "_prepare_path", crashes)
    res = {r.path.rsplit("/", 1)[-1]: r for r in pipe.ingest([str(bad), str(good)], Options())}
    assert res["崩溃.docx"].status == "error" and "异常退出" in res["崩溃.docx"].message
    assert res["正常.docx"].status in ("ok", "warning")


def test_upload_preview_runs_bounded_outside_the_calling_process(env, monkeypatch):
    pipe, store, tmp = env
    from library.errors import InputError

    data = make_docx(tmp / "预览.docx", QUOTES_DOC).read_bytes()
    prepared = pipe.prepare_upload(data, "预览.docx", Options())
    assert prepared.structured.kind == "quotes" and len(prepared.structured.quotes) == 3
    assert store.counts()["documents"] == 0  # a preview stores nothing
    with pytest.raises(InputError) as e:
        pipe.prepare_upload(JPEG_BYTES, "照片.pdf", Options())
    assert "图片" in str(e.value)
