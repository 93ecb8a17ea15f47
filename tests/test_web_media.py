"""Media on the web (issue 13, part 2): an editor uploads a recording with its subtitle (the file
streamed to disk); a search hit from the transcript shows the time and links to the media page
at that second; the file is served with Range (206, Content-Range) so that the player can
seek; a recording without transcript is 待补文稿 until an editor attaches one on its page."""

from __future__ import annotations

import io
import re

import pytest
from conftest import login, post, text
from mediakit import SRT, make_audio, make_video, needs_ffmpeg

pytestmark = needs_ffmpeg


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def editor(app):
    c = app.test_client()
    login(c)
    return c


def upload(c, path, subtitle: str | None = None, **meta):
    data = {"file": (io.BytesIO(path.read_bytes()), path.name), **meta}
    if subtitle is not None:
        data["transcript"] = (io.BytesIO(subtitle.encode("utf-8")), path.stem + ".srt")
    return post(c, "/editor/media/upload", data, content_type="multipart/form-data")


def test_upload_search_time_link_and_player_page(app, editor, tmp_path):
    video = make_video(tmp_path / "乡村振兴宣讲.mp4")
    r = upload(editor, video, SRT, speaker="王宣讲", source="县委宣讲团进村", date="2024-05-01")
    assert r.status_code == 302, text(r)
    doc_url = r.headers["Location"]
    doc_id = int(re.search(r"/media/(\d+)", doc_url).group(1))
    page = text(editor.get(doc_url))
    assert "王宣讲" in page and "县委宣讲团进村" in page and "<video" in page
    assert f'src="/media/{doc_id}/file"' in page and "media.js" in page
    assert page.count('class="cue"') >= 2 and 'data-seek="2.4"' in page
    # the public document URL leads to the player
    assert editor.get(f"/documents/{doc_id}").headers["Location"].endswith(f"/media/{doc_id}")

    # a hit from the transcript: JSON start/end, the card's time link
    anon = app.test_client()
    api = anon.get("/api/search?q=实在话").get_json()
    [hit] = [h for h in api["hits"] if h["kind"] == "passage"]
    assert hit["start"] == pytest.approx(2.4) and hit["end"] == pytest.approx(3.8)
    card = text(anon.get("/search?q=实在话"))
    # the link opens the passage itself (2.4 s), not the second before it (2 s lies in the
    # previous passage, which the player then highlighted)
    assert f'href="/media/{doc_id}?t=2.4"' in card and "▶ 0:02" in card
    at = text(anon.get(f"/media/{doc_id}?t=2.4"))
    assert 'data-start="2.4"' in at


def test_the_file_is_served_with_range_requests(app, editor, tmp_path):
    video = make_video(tmp_path / "讲座.mp4")
    r = upload(editor, video)
    doc_id = int(re.search(r"/media/(\d+)", r.headers["Location"]).group(1))
    c = app.test_client()
    whole = c.get(f"/media/{doc_id}/file")
    assert whole.status_code == 200 and whole.data == video.read_bytes()
    assert whole.headers["Content-Type"] == "video/mp4"
    assert whole.headers.get("Accept-Ranges") == "bytes"
    part = c.get(f"/media/{doc_id}/file", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{video.stat().st_size}"
    assert part.data == video.read_bytes()[100:200]
    poster = c.get(f"/media/{doc_id}/poster.jpg")
    assert poster.status_code == 200 and poster.data[:2] == b"\xff\xd8"


def test_needs_transcript_then_attach_on_the_media_page(app, editor, tmp_path):
    audio = make_audio(tmp_path / "党课录音.mp3")
    r = upload(editor, audio)
    doc_url = r.headers["Location"]
    page = text(editor.get(doc_url))
    assert "待补文稿" in page and "<audio" in page and "补上文稿" in page
    doc_id = int(re.search(r"/media/(\d+)", doc_url).group(1))
    r = post(
        editor,
        f"/editor/media/{doc_id}/transcript",
        {"transcript": (io.BytesIO(SRT.encode("utf-8")), "党课.srt")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    page = text(editor.get(doc_url))
    assert "已补上文稿" in page and "实在话" in page and "待补文稿" not in page
    # a bad one names the file and changes nothing
    r = post(
        editor,
        f"/editor/media/{doc_id}/transcript",
        {"transcript": (io.BytesIO(b"1\n00:00:01,000 --> 00:00:xx\n\xe5\x9d\x8f\n"), "坏.srt")},
        content_type="multipart/form-data",
    )
    page = text(editor.get(doc_url))
    assert "坏.srt" in page and "实在话" in page


def test_an_unreadable_upload_says_so_and_stores_nothing(app, editor):
    r = post(
        editor,
        "/editor/media/upload",
        {
            "file": (io.BytesIO(b"not a video" * 1000), "坏录像.mp4"),
            "title": "镇宣讲团七一党课录像",
            "speaker": "陈书记",
            "topics": "ecology",
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 400
    page = text(r)
    assert "无法读取媒体文件“坏录像.mp4”（数据无法识别，不是可播放的视频/音频）" in page
    # no server path, no ffprobe English; what the editor typed is still there
    assert "/run/media-uploads/" not in page and "Invalid data" not in page
    assert 'value="镇宣讲团七一党课录像"' in page and 'value="陈书记"' in page
    assert re.search(r'value="ecology"[^>]*checked', page)
    assert app.extensions["lecturelib"].svc.list_documents() == []


def test_the_upload_form_offers_the_topics(editor):
    page = text(editor.get("/editor/media/upload"))
    assert page.count('name="topics"') == 10


def test_a_recording_and_a_text_cannot_trade_kinds(app, editor, tmp_path):
    """A recording relabelled 讲义 lost its player and its ▶ links answered 404; a text
    relabelled 视频/音频 answered 404 on /media/<id>."""
    r = upload(editor, make_audio(tmp_path / "广播录音.mp3"), SRT)
    doc_id = int(r.headers["Location"].rsplit("/", 1)[-1])
    form = text(editor.get(f"/editor/documents/{doc_id}/edit"))
    assert re.findall(r'<option value="(\w+)"', form) == ["media"]
    r = post(editor, f"/editor/documents/{doc_id}/edit", {"title": "广播录音", "kind": "handout"})
    assert r.status_code == 400 and "录音/录像的类型不能改成文字材料" in text(r)
    assert app.extensions["lecturelib"].svc.media(doc_id)["kind"] == "media"


def test_the_media_upload_limit_is_its_own_setting(make_app, tmp_path):
    app = make_app(settings={"max_file_mb": 0.01, "max_media_mb": 50})
    c = app.test_client()
    login(c)
    video = make_video(tmp_path / "大于文档上限.mp4")
    assert video.stat().st_size > 0.01 * 1024 * 1024
    r = upload(c, video)
    assert r.status_code == 302 and "/media/" in r.headers["Location"]
    small = make_app(settings={"max_media_mb": 0.01})
    c = small.test_client()
    login(c)
    r = upload(c, video)
    assert r.status_code == 400 and "视频/音频上限 0 MB" in text(r)
    assert small.extensions["lecturelib"].svc.list_documents() == []
