"""Topic packs with recordings (issue 13): a recording goes into the pack with its transcript
passages and their times, its poster frame and transcript file, and — within the size limit set
at export — the file itself; one left out is listed with its duration and why. Importing brings
a playable, searchable recording (SQLite and PostgreSQL), or, without its file, a catalogued
recording whose file is missing until a pack with the file fills it in. Hostile packs: a
recording member must be stored as is, within its bound, and really be a recording."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from conftest import _build_app, login, post
from mediakit import SRT, make_audio, make_video, needs_ffmpeg
from stores import any_home, database  # noqa: F401

from indexer.app.service import LibraryService
from library.errors import NotFoundError, PackError
from library.pack import is_media_member, read_pack, sha256

pytestmark = needs_ffmpeg
TOPIC = "rural-revitalization"
VIDEO, AUDIO = "乡村振兴宣讲", "党课录音"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A library with a 4 s video and its subtitle, and a 4 s recording without transcript,
    both in the topic; the pack with everything and the transcripts-only pack."""
    d = tmp_path_factory.mktemp("packmedia")
    folder = d / "in"
    video = make_video(folder / f"{VIDEO}.mp4")
    (folder / f"{VIDEO}.srt").write_text(SRT, encoding="utf-8")
    audio = make_audio(folder / f"{AUDIO}.wav")
    svc = LibraryService(d / "source")
    try:
        results = svc.ingest([folder], topics=[TOPIC])
        assert {r.status for r in results} == {"ok", "needs_transcript"}, results
        full = svc.export_topic(TOPIC, d / "full.zip")
        only = svc.export_topic(TOPIC, d / "transcripts.zip", media_limit_mb=0)
    finally:
        svc.close()
    return {
        "dir": d,
        "home": d / "source",
        "video": video,
        "audio": audio,
        "full": full,
        "only": only,
    }


def _docs(contents) -> dict[str, dict]:
    return {d["title"]: d for d in contents.jsonl("data/documents.jsonl")}


def test_the_pack_has_the_transcript_with_times_and_the_recording(source):
    rep = source["full"]
    assert (rep.media_included, rep.media_left_out) == (2, 0)
    with read_pack(rep.path) as pack:
        m = pack.manifest
        assert m["format_version"] == 2  # a version-1 reader asks to upgrade
        assert m["media"]["included"] == 2 and m["media"]["left_out"] == []
        doc = _docs(pack)[VIDEO]
        assert doc["kind"] == "media" and doc["version"]["media"]["duration"] == pytest.approx(4)
        times = [(p["start"], p["end"]) for p in doc["passages"]]
        assert times == [(pytest.approx(0.2), pytest.approx(2.4)), (2.4, 3.8)]
        assert "实在话" in doc["passages"][1]["text"]
        rec = doc["recording"]
        assert pack.files[rec["file"]].read_bytes() == source["video"].read_bytes()
        assert pack.members[rec["poster"]][:2] == b"\xff\xd8"  # the poster frame, a JPEG
        assert pack.members[rec["transcript"]].decode("utf-8") == SRT
        wav = _docs(pack)[AUDIO]["recording"]["file"]
        assert pack.files[wav].read_bytes() == source["audio"].read_bytes()
        site = pack.members["assets/data.js"].decode("utf-8")
        assert '"ts":2.4' in site and rec["file"] in site
        import docx  # the Word compilation prints the transcript with its times

        words = docx.Document(io.BytesIO(pack.members["compilation.docx"]))
        assert any(p.text.startswith("〔0:02〕宣讲员") for p in words.paragraphs)
    with zipfile.ZipFile(rep.path) as z:  # recordings stored as they are, not deflated
        media = [i for i in z.infolist() if is_media_member(i.filename)]
        assert len(media) == 2 and {i.compress_type for i in media} == {zipfile.ZIP_STORED}


def test_media_limit_0_keeps_the_transcripts_and_lists_what_was_left_out(source):
    rep = source["only"]
    assert (rep.media_included, rep.media_left_out) == (0, 2)
    with read_pack(rep.path) as pack:
        assert pack.files == {} and not any(is_media_member(n) for n in pack.manifest["files"])
        left = {x["title"]: x for x in pack.manifest["media"]["left_out"]}
        assert set(left) == {VIDEO, AUDIO}
        assert left[VIDEO]["clock"] == "0:04" and "只带文稿" in left[VIDEO]["reason"]
        assert left[VIDEO]["size"] == source["video"].stat().st_size
        doc = _docs(pack)[VIDEO]
        assert doc["recording"]["file"] is None and "只带文稿" in doc["recording"]["reason"]
        assert [p["start"] for p in doc["passages"]] == [pytest.approx(0.2), 2.4]
        assert pack.members[doc["recording"]["poster"]][:2] == b"\xff\xd8"
    assert rep.bytes < source["full"].bytes - source["audio"].stat().st_size


def test_the_cli_limit_takes_what_fits_and_says_what_was_left_out(source, tmp_path, capsys):
    from cli.main import main

    out = tmp_path / "part.zip"
    # 0.1 MB: the 4 s video (~50 KB) fits, the WAV (~350 KB) does not
    assert source["video"].stat().st_size < 0.1 * 1024 * 1024 < source["audio"].stat().st_size
    args = ["--home", str(source["home"]), "export", "--topic", "乡村振兴", "-o", str(out)]
    assert main([*args, "--media-limit", "0.1"]) == 0
    said = capsys.readouterr().out
    assert "视频/音频 2 段：1 段随包附上录音/录像文件，1 段只带文稿" in said
    with read_pack(out) as pack:
        [left] = pack.manifest["media"]["left_out"]
        assert left["title"] == AUDIO and "超出导出时设定的大小上限" in left["reason"]
        assert "0.1 MB" in left["reason"]
    assert main(["--home", str(tmp_path / "new"), "import", str(out)]) == 0
    said = capsys.readouterr().out
    assert "视频/音频：1 段连同录音/录像文件导入" in said
    # an empty library has nothing to merge with: no “与已有的合并” for quotes of this pack
    assert "与已有的合并" not in said and "处引用并入已有金句" in said
    assert f"另有 1 段（{AUDIO}）的录音/录像文件未随专题包提供" in said
    with pytest.raises(SystemExit) as e:
        main([*args, "--media-limit", "-5"])
    assert e.value.code == 2 and "不小于 0" in capsys.readouterr().err


def test_imported_recording_is_searchable_at_its_time_and_plays_with_range(
    source, any_home, tmp_path
):
    svc = LibraryService(any_home)
    try:
        rep = svc.import_pack(source["full"].path)
        assert sorted(rep.added) == sorted([VIDEO, AUDIO]) and rep.media_files == 2
        [hit] = [h for h in svc.search("实在话")["hits"] if h["kind"] == "passage"]
        assert hit["document"]["kind"] == "media"
        assert hit["start"] == pytest.approx(2.4) and hit["end"] == pytest.approx(3.8)
        doc = svc.media(hit["document"]["id"])
        assert doc["media"]["poster"] and doc["media"]["transcript"]["filename"] == f"{VIDEO}.srt"
        assert doc["version"]["status"] == "ok" and "file_missing" not in doc["media"]
        if svc.store.db.postgres:  # kept in the database: every node can serve it
            assert svc.store.db.scalar("SELECT COUNT(*) FROM media_chunks") >= 2
        assert svc.check() == []
        assert svc.import_pack(source["full"].path).duplicates  # twice: nothing changes
        again = svc.export_topic(TOPIC, tmp_path / "again.zip")  # from this store, too
        assert (again.media_included, again.media_left_out) == (2, 0)
        with read_pack(again.path) as pack:
            rec = _docs(pack)[VIDEO]["recording"]
            assert pack.files[rec["file"]].read_bytes() == source["video"].read_bytes()
        doc_id = doc["id"]
    finally:
        svc.close()
    assert list((any_home.path / "run" / "pack-import").iterdir()) == []  # copies removed
    app = _build_app(any_home.path, users=False)
    try:
        c = app.test_client()
        data = source["video"].read_bytes()
        whole = c.get(f"/media/{doc_id}/file")
        assert whole.status_code == 200 and whole.data == data
        assert whole.headers["Content-Type"] == "video/mp4"
        part = c.get(f"/media/{doc_id}/file", headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.data == data[100:200]
        assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
        assert c.get(f"/media/{doc_id}/poster.jpg").data[:2] == b"\xff\xd8"
    finally:
        app.extensions["lecturelib"].close()


def test_without_its_file_a_recording_is_catalogued_then_a_full_pack_fills_it_in(source, tmp_path):
    svc = LibraryService(tmp_path / "home")
    try:
        rep = svc.import_pack(source["only"].path)
        assert sorted(rep.media_missing) == sorted([VIDEO, AUDIO]) and rep.media_files == 0
        [hit] = [h for h in svc.search("实在话")["hits"] if h["kind"] == "passage"]
        assert hit["start"] == pytest.approx(2.4)  # the transcript is searchable
        doc = svc.media(hit["document"]["id"])
        sha = doc["version"]["sha256"]
        assert doc["version"]["status"] == "warning"
        [warning] = doc["version"]["warnings"]
        assert "录音/录像文件未随专题包“transcripts.zip”提供" in warning
        assert "只带文稿" in warning and "导入带有该文件的专题包即可补上" in warning
        assert "只带文稿" in doc["media"]["file_missing"]["reason"]
        assert doc["version"]["size"] == source["video"].stat().st_size
        assert doc["duration_clock"] == "0:04" and doc["media"]["poster"]
        with pytest.raises(NotFoundError):
            svc.media_file(doc["id"])
        assert not svc.store.originals.has(sha)  # no empty stand-in for the recording
        audio = svc.media(next(d["id"] for d in svc.list_documents() if d["title"] == AUDIO))
        assert audio["version"]["status"] == "needs_transcript"  # still 待补文稿, file noted
        # the full pack brings the files: nothing else changes
        rep = svc.import_pack(source["full"].path)
        assert sorted(rep.media_completed) == sorted([VIDEO, AUDIO]) and rep.added == []
        doc = svc.media(doc["id"])
        assert doc["version"]["status"] == "ok" and doc["version"]["warnings"] == []
        assert "file_missing" not in doc["media"]
        path, mime = svc.media_file(doc["id"])
        assert path.read_bytes() == source["video"].read_bytes() and mime == "video/mp4"
        assert svc.check() == []
    finally:
        svc.close()


# -- hostile packs ---------------------------------------------------------------------------


def _rewrite(pack: Path, out: Path, change, *, deflate_media: bool = False) -> Path:
    """A copy of ``pack`` whose members ``change(members)`` edits (a dict name → bytes), with a
    fresh manifest of their checksums: a pack made by someone else's tool."""
    with zipfile.ZipFile(pack) as z:
        members = {n: z.read(n) for n in z.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    change(members)
    manifest["files"] = {n: sha256(b) for n, b in members.items()}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False))
        for n, b in members.items():
            stored = is_media_member(n) and not deflate_media
            z.writestr(n, b, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    return out


def _swap_recording(members: dict, title: str, data: bytes) -> None:
    """Replace a recording's bytes, consistently everywhere its hash is named."""
    rows = [json.loads(x) for x in members["data/documents.jsonl"].decode().splitlines()]
    row = next(r for r in rows if r["title"] == title)
    old = row["recording"]["file"]
    new = f"originals/{sha256(data)}.{row['version']['format']}"
    del members[old]
    members[new] = data
    row["version"]["sha256"] = sha256(data)
    row["recording"]["file"] = new
    members["data/documents.jsonl"] = "".join(
        json.dumps(r, ensure_ascii=False) + "\n" for r in rows
    ).encode()


def test_bytes_that_are_not_a_recording_are_refused_and_nothing_is_stored(source, tmp_path):
    bad = _rewrite(
        source["full"].path,
        tmp_path / "假视频.zip",
        lambda m: _swap_recording(m, VIDEO, b"<html><script>alert(1)</script></html>" * 50),
    )
    svc = LibraryService(tmp_path / "home")
    try:
        with pytest.raises(PackError) as e:
            svc.import_pack(bad)
        assert f"《{VIDEO}》的录音/录像文件无法读取" in e.value.message
        assert svc.store.counts()["documents"] == 0
        assert list((tmp_path / "home" / "run" / "pack-import").iterdir()) == []
    finally:
        svc.close()


def test_a_deflated_recording_member_is_refused(source, tmp_path):
    bad = _rewrite(source["full"].path, tmp_path / "压缩.zip", lambda m: None, deflate_media=True)
    with pytest.raises(PackError) as e:
        read_pack(bad)
    assert "不是按原样存放" in e.value.message


def test_recordings_have_their_own_size_bound(source, tmp_path, monkeypatch):
    """A recording may be larger than any other member (read to disk, not memory), but not
    larger than MAX_MEDIA_MEMBER_BYTES."""
    import library.pack as pack_module

    path = source["full"].path
    with zipfile.ZipFile(path) as z:
        others = max(i.file_size for i in z.infolist() if not is_media_member(i.filename))
    assert source["audio"].stat().st_size > others
    monkeypatch.setattr(pack_module, "MAX_MEMBER_BYTES", others)
    with read_pack(path) as pack:
        assert len(pack.files) == 2
    monkeypatch.setattr(pack_module, "MAX_MEDIA_MEMBER_BYTES", source["audio"].stat().st_size - 1)
    with pytest.raises(PackError) as e:
        read_pack(path)
    assert "过大" in e.value.message


def test_a_pack_claiming_more_recording_than_it_holds_is_a_bomb(source, tmp_path):
    """Stored recording members that add up to more than the pack file itself can only be
    entries overlapping in the file: refused before anything is read."""
    path = source["full"].path
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        [info] = [i for i in z.infolist() if i.filename.endswith(".wav")]
    # its central directory entry (name at +46) now claims 40× its size, stored as it is
    name = info.filename.encode()
    cd = next(
        at
        for at in range(len(data) - 46)
        if data[at : at + 4] == b"PK\x01\x02" and data[at + 46 : at + 46 + len(name)] == name
    )
    big = (info.file_size * 40).to_bytes(4, "little")
    data[cd + 20 : cd + 24] = big  # compressed size
    data[cd + 24 : cd + 28] = big  # uncompressed size
    forged = tmp_path / "bomb.zip"
    forged.write_bytes(bytes(data))
    with pytest.raises(PackError) as e:
        read_pack(forged)
    assert "录音/录像合计大于专题包文件本身" in e.value.message


# -- on the web ------------------------------------------------------------------------------


def test_web_export_takes_the_limit_and_the_import_page_reports_recordings(source, make_app):
    app = make_app()
    lib = app.extensions["lecturelib"]
    folder = source["video"].parent
    lib.svc.ingest([folder], topics=[TOPIC])
    c = app.test_client()
    login(c)
    page = c.get(f"/topics/{TOPIC}").get_data(as_text=True)
    assert 'name="media_mb"' in page and "只带文稿，不附录音/录像" in page
    full = c.get(f"/topics/{TOPIC}/pack.zip")
    assert full.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(full.data)).namelist()
    assert sum(is_media_member(n) for n in names) == 2
    only = c.get(f"/topics/{TOPIC}/pack.zip?media_mb=0")
    assert not any(is_media_member(n) for n in zipfile.ZipFile(io.BytesIO(only.data)).namelist())
    bad = c.get(f"/topics/{TOPIC}/pack.zip?media_mb=abc")
    assert bad.status_code == 400 and "大小上限" in bad.get_data(as_text=True)

    target = make_app()
    t = target.test_client()
    login(t)
    r = post(
        t,
        "/editor/import",
        {"pack": (io.BytesIO(only.data), "文稿包.zip")},
        content_type="multipart/form-data",
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "录音/录像文件未随专题包提供" in body
    docs = target.extensions["lecturelib"].svc.list_documents()
    video_id = next(d["id"] for d in docs if d["title"] == VIDEO)
    page = t.get(f"/media/{video_id}").get_data(as_text=True)  # no player that cannot play
    assert "录音/录像文件未随专题包“文稿包.zip”提供" in page and "data-player" not in page
    assert "实在话" in page and t.get(f"/media/{video_id}/file").status_code == 404
    r = post(
        t,
        "/editor/import",
        {"pack": (io.BytesIO(full.data), "完整包.zip")},
        content_type="multipart/form-data",
    )
    assert "补上录音/录像文件：2 段" in r.get_data(as_text=True)
    page = t.get(f"/media/{video_id}").get_data(as_text=True)
    assert "data-player" in page and "未随专题包" not in page
    assert t.get(f"/media/{video_id}/file").data == source["video"].read_bytes()
