"""Hostile topic packs (issue 11): an original whose bytes are not what the pack declares is
refused like ingest would refuse it, before anything is written."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from indexer.app.packimport import import_pack
from indexer.app.service import LibraryService
from library.errors import PackError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import fuzz  # noqa: E402


def _pack_with_original(tmp_path, data: bytes, fmt: str, name: str) -> Path:
    from library.pack import sha256

    docs, quotes, _ = fuzz.pack_rows()
    sha = sha256(data)
    docs[0]["version"].update(sha256=sha, format=fmt, filename=name)
    ext = {"pdf": "pdf", "txt": "txt", "html": "html", "docx": "docx"}[fmt]
    return fuzz.write_pack(tmp_path / "p.zip", docs, quotes, {f"originals/{sha}.{ext}": data})


def test_html_declared_as_pdf_is_refused(tmp_path):
    pack = _pack_with_original(
        tmp_path,
        b"<!doctype html><html><body><script>alert(1)</script>"
        b"<p>\xe7\xbb\xbf\xe6\xb0\xb4</p></body></html>",
        "pdf",
        "a.pdf",
    )
    svc = LibraryService(tmp_path / "home")
    try:
        with pytest.raises(PackError) as err:
            import_pack(svc, pack)
        assert "格式" in err.value.message and "内容不符" in err.value.message
        assert svc.store.counts()["documents"] == 0
    finally:
        svc.close()


def test_an_honest_original_is_imported(tmp_path):
    pack = _pack_with_original(
        tmp_path, "乡村振兴专题讲义\n绿水青山就是金山银山。\n".encode(), "txt", "a.txt"
    )
    svc = LibraryService(tmp_path / "home")
    try:
        assert len(import_pack(svc, pack).added) == 1
    finally:
        svc.close()


def test_control_characters_in_stored_text_do_not_break_the_pack(tmp_path):
    # a quote stored with \x01\x0b (before the store cleaned its input) made every export of its
    # topic a 500 (issue 11, finding 5)
    import zipfile

    import docx
    from builders import QUOTES_DOC, make_docx
    from sqlalchemy import text

    from indexer.app.export import export_topic

    src = make_docx(tmp_path / "q.docx", QUOTES_DOC)
    svc = LibraryService(tmp_path / "home")
    try:
        svc.ingest([src], actor="t")
        with svc.store.engine.begin() as c:
            c.execute(
                text("UPDATE quotes SET text = text || :x, source = :x"),
                {"x": "坏\x01字\x0b符\x1b"},
            )
        topic = svc.store.list_documents()[0]["topics"][0]
        out = tmp_path / "p.zip"
        export_topic(svc, topic, out)
        with zipfile.ZipFile(out) as z:
            (tmp_path / "c.docx").write_bytes(z.read("compilation.docx"))
        body = "\n".join(p.text for p in docx.Document(str(tmp_path / "c.docx")).paragraphs)
        assert "坏字符" in body and "\x01" not in body
    finally:
        svc.close()


def _write_raw_pack(path, members: dict[str, bytes], manifest_extra: bytes = b""):
    import json
    import zipfile

    from library.pack import FORMAT, FORMAT_VERSION, sha256

    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "files": {n: sha256(b) for n, b in members.items()},
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest).encode()[:-1] + manifest_extra + b"}")
        for n, b in members.items():
            z.writestr(n, b)
    return path


def test_many_one_mebibyte_members_are_a_bomb(tmp_path):
    # 2,000 members of exactly 1 MiB of zeros were exempt from the ratio check and took the
    # server from 233 MB to 2.26 GB (issue 11, finding 3); 300 of them show it
    from library.pack import read_pack

    zero = bytes(1 << 20)
    pack = _write_raw_pack(
        tmp_path / "bomb.zip", {f"originals/{i:04d}.txt": zero for i in range(300)}
    )
    assert pack.stat().st_size < 1_000_000
    with pytest.raises(PackError) as err:
        read_pack(pack)
    assert "压缩炸弹" in err.value.message


def test_a_huge_manifest_is_refused_before_it_is_parsed(tmp_path):
    from library.pack import read_pack

    filler = b', "x": [' + b"[]," * (3 << 20) + b"[]]"  # ~9 MB of [[],[],…]
    pack = _write_raw_pack(tmp_path / "m.zip", {"data/quotes.jsonl": b""}, filler)
    with pytest.raises(PackError) as err:
        read_pack(pack)
    assert "清单文件过大" in err.value.message or "压缩炸弹" in err.value.message


def test_an_incompressible_huge_manifest_is_refused_by_size(tmp_path):
    import json
    import random
    import zipfile

    from library.pack import read_pack

    rng = random.Random(1)
    junk = "".join(rng.choice("0123456789abcdef") for _ in range(6 << 20))
    with zipfile.ZipFile(tmp_path / "m.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps({"format": "lecturelib-topic-pack", "x": junk}))
    with pytest.raises(PackError) as err:
        read_pack(tmp_path / "m.zip")
    assert "清单文件过大" in err.value.message
