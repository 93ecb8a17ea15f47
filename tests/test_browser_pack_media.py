"""Issue 13 (media) in a topic pack, in a real browser with no server: the pack is unzipped and
its index.html opened from file://. A search hit from a recording's transcript shows its time;
clicking it opens the player at that second with that line highlighted; clicking another line
seeks there. A pack exported with --media-limit 0 shows the transcript and says the recording
was not included, with its duration."""

from __future__ import annotations

import zipfile

import pytest
from browserkit import browser, sync_api  # noqa: F401
from mediakit import SRT, make_video, needs_ffmpeg

from indexer.app.service import LibraryService

pytestmark = needs_ffmpeg
expect = sync_api.expect


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The unzipped packs: with the recording, and transcripts only."""
    d = tmp_path_factory.mktemp("packsite")
    make_video(d / "in" / "乡村振兴宣讲.mp4")
    (d / "in" / "乡村振兴宣讲.srt").write_text(SRT, encoding="utf-8")
    svc = LibraryService(d / "home")
    try:
        [r] = svc.ingest([d / "in"], topics=["rural-revitalization"])
        assert r.status == "ok", r.message
        out = {}
        for name, limit in (("full", None), ("only", 0)):
            rep = svc.export_topic("rural-revitalization", d / f"{name}.zip", media_limit_mb=limit)
            with zipfile.ZipFile(rep.path) as z:
                z.extractall(d / name)
            out[name] = (d / name / "index.html").as_uri()
    finally:
        svc.close()
    return out


def _page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    return ctx, page, errors, requests


def test_a_hit_opens_the_player_at_its_second_and_lines_seek(sites, browser):
    ctx, page, errors, requests = _page(browser)
    page.goto(sites["full"])
    expect(page.locator("#content")).to_contain_text("视频/音频 1 段，都附有录音/录像")
    page.fill("#q", "实在话")
    page.press("#q", "Enter")
    hit = page.locator(".card", has_text="实在话")
    link = hit.locator("a.time")
    expect(link).to_have_text("▶ 0:02")
    link.click()
    page.wait_for_function(
        "() => { const p = document.getElementById('player');"
        " return p && p.readyState >= 1 && Math.abs(p.currentTime - 2.4) < 0.05; }"
    )
    assert page.locator("#player").evaluate("p => p.tagName") == "VIDEO"
    assert page.locator("#player").get_attribute("poster").startswith("originals/")
    first, cue = page.locator(".cue").first, page.locator(".cue", has_text="实在话")
    expect(cue).to_have_class("cue cue--current")
    expect(first).to_have_class("cue")
    first.click()  # the first line, spoken at 0.2 s: the player goes back there
    page.wait_for_function(
        "() => { const p = document.getElementById('player'); p.pause();"
        " return p.currentTime >= 0.19 && p.currentTime < 2.4; }"
    )
    expect(first).to_have_class("cue cue--current")
    expect(cue).to_have_class("cue")
    assert page.url.endswith("#doc=0&t=0.2")
    assert errors == []
    assert all(u.startswith("file://") for u in requests), requests  # nothing from a network
    ctx.close()


def test_without_the_recording_the_transcript_is_shown_with_a_note(sites, browser):
    ctx, page, errors, _ = _page(browser)
    page.goto(sites["only"])
    page.fill("#q", "实在话")
    page.press("#q", "Enter")
    page.locator(".card a.time").first.click()
    note = page.locator(".notice")
    expect(note).to_contain_text("本专题包没有附上这段录音/录像")
    expect(note).to_contain_text("只带文稿")
    expect(note).to_contain_text("时长 0:04")
    assert page.locator("#player").count() == 0
    expect(page.locator(".cue", has_text="实在话")).to_have_class("cue cue--current")
    assert page.locator(".poster").count() == 1
    assert errors == []
    ctx.close()
