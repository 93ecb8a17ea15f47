"""Media (issue 13, part 2): recordings with time-coded transcripts. A sidecar subtitle (.srt,
.vtt, .lrc, also in GBK), a subtitle stream in the container or a transcript given later makes
a recording searchable; a hit carries start/end; bad input is refused naming the file and
stores nothing."""

from __future__ import annotations

import json

import pytest
from mediakit import LRC, SRT, VTT, make_audio, make_video, needs_ffmpeg
from stores import any_home, database  # noqa: F401

from indexer.app.service import LibraryService

pytestmark = needs_ffmpeg


@pytest.fixture
def svc(tmp_path):
    s = LibraryService(tmp_path / "home")
    yield s
    s.close()


def hits(svc, q):
    return svc.search(q)["hits"]


def test_a_video_with_a_sidecar_srt_is_searchable_at_the_moment_spoken(svc, tmp_path):
    folder = tmp_path / "in"
    make_video(folder / "乡村振兴宣讲.mp4")
    (folder / "乡村振兴宣讲.srt").write_text(SRT, encoding="utf-8")
    [r] = svc.ingest([folder])  # the .srt is the video's transcript, not a file of its own
    assert r.status == "ok" and r.kind == "media" and r.passages >= 2
    doc = svc.media(r.document_id)
    assert doc["media"]["video"] and doc["media"]["duration"] == pytest.approx(4, abs=0.2)
    assert doc["media"]["poster"] and doc["media"]["transcript"]["filename"] == "乡村振兴宣讲.srt"
    assert all(c["start"] is not None and c["end"] >= c["start"] for c in doc["cues"])
    [hit] = [h for h in hits(svc, "实在话") if h["kind"] == "passage"]
    assert hit["document"]["kind"] == "media"
    assert hit["start"] == pytest.approx(2.4) and hit["end"] == pytest.approx(3.8)
    # the quote spoken in the recording is recognised like a quote in a script, and its hit
    # opens the recording where the passage saying it starts
    [quote] = [h for h in hits(svc, "金山银山") if h["kind"] == "quote"]
    assert "金山银山" in quote["text"] and quote["start"] == pytest.approx(0.2)


def test_the_recordings_own_tags_give_title_speaker_date_and_occasion(svc, tmp_path):
    """A camera or an editing tool writes title, artist, date and comment into the file; a
    folder ingest has no form, so they are what the library knows of the recording."""
    tags = {
        "title": "绿水青山就是金山银山——村口微宣讲",
        "artist": "李晓梅",
        "date": "2025-06-05",
        "comment": "鼎湖区“村口微宣讲”活动",
    }
    [r] = svc.ingest([make_video(tmp_path / "VID_0001.mp4", tags=tags)])
    assert r.status == "needs_transcript", r.message
    doc = svc.media(r.document_id)
    assert doc["title"] == "绿水青山就是金山银山——村口微宣讲"
    assert doc["media"]["speaker"] == "李晓梅"
    assert doc["date"] == "2025-06-05" and doc["source"] == "鼎湖区“村口微宣讲”活动"
    # without tags the file name is the title, as before
    [plain] = svc.ingest([make_video(tmp_path / "社区宣讲录像.mp4", seconds=3)])
    assert svc.media(plain.document_id)["title"] == "社区宣讲录像"


def test_vtt_lrc_and_a_gbk_subtitle(svc, tmp_path):
    folder = tmp_path / "in"
    make_audio(folder / "垃圾分类.mp3")
    (folder / "垃圾分类.vtt").write_text(VTT, encoding="utf-8")
    make_audio(folder / "邻里互助.ogg")
    (folder / "邻里互助.lrc").write_text(LRC, encoding="gbk")
    results = {r.title: r for r in svc.ingest([folder])}
    assert {r.status for r in results.values()} == {"ok"}, [r.message for r in results.values()]
    [vtt] = [h for h in hits(svc, "垃圾分类的新办法") if h["kind"] == "passage"]
    assert vtt["start"] == pytest.approx(0.2)
    [lrc] = [h for h in hits(svc, "邻里互助的好做法") if h["kind"] == "passage"]
    assert lrc["start"] == pytest.approx(0.2) and "邻里互助" in lrc["text"]


def test_a_subtitle_stream_inside_the_container_is_read(svc, tmp_path):
    video = make_video(tmp_path / "in" / "内嵌字幕.mp4", subtitles=SRT)
    [r] = svc.ingest([video])
    assert r.status == "ok", r.message
    assert svc.media(r.document_id)["media"]["transcript"]["source"] == "stream"
    assert any(h["kind"] == "passage" for h in hits(svc, "实在话"))


def test_broken_timestamps_name_the_file_and_store_nothing(svc, tmp_path):
    folder = tmp_path / "in"
    make_video(folder / "坏字幕.mp4")
    (folder / "坏字幕.srt").write_text(
        "1\n00:00:01,000 --> 00:00:xx,000\n一句话\n", encoding="utf-8"
    )
    [r] = svc.ingest([folder])
    assert r.status == "error" and "坏字幕.srt" in r.message and "时间码" in r.message
    assert svc.list_documents() == []
    # a bad stamp after a good cue is named by its line, not as a cue ending before it starts
    (folder / "坏字幕.srt").write_text(
        "1\n00:00:00,500 --> 00:00:01,000\n时间码坏了。\n\n2\nabc --> def\n第二句\n",
        encoding="utf-8",
    )
    [r] = svc.ingest([folder])
    assert "第 6 行：“abc --> def”不是有效的时间码" in r.message, r.message
    assert "早于开始时间" not in r.message and "其余文件不受影响" not in r.message


def test_times_past_the_media_end_are_refused_naming_the_file(svc, tmp_path):
    folder = tmp_path / "in"
    make_video(folder / "错配.mp4", seconds=2)
    (folder / "错配.srt").write_text(
        "1\n00:00:00,500 --> 00:00:01,500\n开头\n\n2\n00:05:00,000 --> 00:05:02,000\n结尾\n",
        encoding="utf-8",
    )
    [r] = svc.ingest([folder])
    assert r.status == "error" and "错配.srt" in r.message and "超出了媒体的时长" in r.message
    assert svc.list_documents() == []


def test_an_unreadable_media_file_is_refused_in_chinese_and_the_batch_goes_on(svc, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "损坏.mp4").write_bytes(b"\x00\x01not a video at all" * 100)
    make_audio(folder / "好的录音.wav")
    results = {r.path.rsplit("/", 1)[-1]: r for r in svc.ingest([folder])}
    bad = results["损坏.mp4"]
    assert bad.status == "error" and "无法读取媒体文件“损坏.mp4”" in bad.message
    assert results["好的录音.wav"].status == "needs_transcript"
    assert [d["title"] for d in svc.list_documents()] == ["好的录音"]


def test_needs_transcript_then_attach_makes_it_searchable(svc, tmp_path):
    [r] = svc.ingest([make_video(tmp_path / "in" / "报告会.mp4")])
    assert r.status == "needs_transcript" and "待补文稿" in r.message
    doc = svc.media(r.document_id)
    assert doc["needs_transcript"] and doc["cues"] == []
    assert hits(svc, "实在话") == []
    srt = tmp_path / "报告会字幕.srt"
    srt.write_text(SRT, encoding="utf-8")
    rep = svc.attach_transcript(r.document_id, srt.read_bytes(), srt.name, actor="cli")
    assert rep["passages"] >= 2
    doc = svc.media(r.document_id)
    assert not doc["needs_transcript"] and doc["cues"][0]["clock"] == "0:00"
    [hit] = [h for h in hits(svc, "实在话") if h["kind"] == "passage"]
    assert hit["start"] == pytest.approx(2.4)
    # a broken transcript later changes nothing
    with pytest.raises(Exception) as e:
        svc.attach_transcript(r.document_id, b"1\nxx --> yy\n", "坏.srt", actor="cli")
    assert "坏.srt" in str(e.value)
    assert len(svc.media(r.document_id)["cues"]) == len(doc["cues"])
    # replacing the transcript leaves no file behind for `check` to call a leftover
    vtt = tmp_path / "新版字幕.vtt"
    vtt.write_text(VTT, encoding="utf-8")
    svc.attach_transcript(r.document_id, vtt.read_bytes(), vtt.name, actor="cli")
    assert any("垃圾分类" in h["text"] for h in hits(svc, "垃圾分类"))
    assert svc.check() == []


def test_the_cli_attaches_a_transcript(tmp_path, capsys):
    from cli.main import main

    home = tmp_path / "home"
    make_audio(tmp_path / "in" / "党课录音.m4a")
    assert main(["--home", str(home), "ingest", str(tmp_path / "in"), "--json", "-q"]) == 0
    [r] = json.loads(capsys.readouterr().out)
    assert r["status"] == "needs_transcript"
    assert "lecturelib" not in r["message"]  # the same message reaches editors on the web
    # the CLI's own summary says how to add it there, with the recording's number
    make_audio(tmp_path / "in2" / "座谈录音.m4a", seconds=3)
    assert main(["--home", str(home), "ingest", str(tmp_path / "in2")]) == 0
    out = capsys.readouterr().out
    assert "补文稿：lecturelib transcript 2 字幕.srt" in out
    srt = tmp_path / "党课.srt"
    srt.write_text(SRT, encoding="utf-8")
    assert main(["--home", str(home), "transcript", str(r["document_id"]), str(srt)]) == 0
    assert "已可检索" in capsys.readouterr().out
    assert main(["--home", str(home), "search", "实在话", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert any(h.get("start") == pytest.approx(2.4) for h in out["hits"])
    # the text output tells the time too, and `show` the length and each passage's time
    assert main(["--home", str(home), "search", "实在话"]) == 0
    assert "《党课录音》 ▶ 0:02" in capsys.readouterr().out
    assert main(["--home", str(home), "show", str(r["document_id"])]) == 0
    shown = capsys.readouterr().out
    assert "时长 0:04" in shown and "▶ 0:02" in shown and "- 页" not in shown


def test_both_databases_keep_the_recording_and_serve_it_from_a_file(any_home, tmp_path):
    """SQLite: the recording among the originals; PostgreSQL: in media_chunks, 4 MB a row,
    and each node serves it from its own copy made from the chunks."""
    from library.store import mediafiles

    folder = tmp_path / "in"
    video = make_video(folder / "两种模式.mp4")
    (folder / "两种模式.srt").write_text(SRT, encoding="utf-8")
    svc = LibraryService(any_home)
    try:
        old = mediafiles.DB_CHUNK
        mediafiles.DB_CHUNK = 16 * 1024  # several chunks for a small test file
        try:
            [r] = svc.ingest([folder])
        finally:
            mediafiles.DB_CHUNK = old
        assert r.status == "ok", r.message
        path, mime = svc.media_file(r.document_id)
        if svc.store.db.postgres:
            chunks = svc.store.db.scalar("SELECT COUNT(*) FROM media_chunks")
            assert chunks == -(-video.stat().st_size // (16 * 1024)) > 1
            path.unlink()  # another node: no copy yet
            path, _ = svc.media_file(r.document_id)
        assert mime == "video/mp4" and path.read_bytes() == video.read_bytes()
        assert svc.original_path(svc.media(r.document_id)["version"]["sha256"]) == path
        assert any(h["kind"] == "passage" for h in svc.search("实在话")["hits"])
    finally:
        svc.close()


def test_a_quote_hit_shows_the_heading_of_the_document_it_links_to(svc, tmp_path):
    """A quote said in a recording and later printed in a compilation under a heading: its hit
    links to the recording and showed the compilation's heading beside it."""
    from builders import make_docx

    folder = tmp_path / "in"
    make_video(folder / "乡村振兴宣讲.mp4")
    (folder / "乡村振兴宣讲.srt").write_text(SRT, encoding="utf-8")
    svc.ingest([folder])
    book = [
        ("t", "生态文明金句汇编"),
        ("h", "一、两山理念"),
        ("p", "1. 绿水青山就是金山银山。"),
        ("p", "——习近平在浙江安吉余村考察时的讲话（2005年8月15日）"),
    ]
    svc.ingest([make_docx(tmp_path / "汇编.docx", book)])
    [quote] = [h for h in hits(svc, "绿水青山就是金山银山") if h["kind"] == "quote"]
    assert quote["document"]["kind"] == "media" and quote["start"] is not None
    assert "两山理念" not in (quote.get("heading") or "")
