"""Issue 13 (media) in a real browser: the player page of a recording with its transcript;
clicking a line of the transcript seeks the player there and highlights that line; ?t= starts
the player at that second (a search hit's time link)."""

from __future__ import annotations

import pytest
from browserkit import browser, live_server, sync_api  # noqa: F401
from conftest import _build_app
from mediakit import SRT, make_audio, needs_ffmpeg

pytestmark = needs_ffmpeg
expect = sync_api.expect


@pytest.fixture
def live(tmp_path):
    folder = tmp_path / "in"
    make_audio(folder / "宣讲录音.wav", seconds=6)
    (folder / "宣讲录音.srt").write_text(SRT, encoding="utf-8")
    app = _build_app(tmp_path / "home", [folder])
    with live_server(app) as url:
        yield url, app
    app.extensions["lecturelib"].close()


def test_clicking_a_cue_seeks_the_player_and_highlights_it(live, browser):
    url, app = live
    [doc] = app.extensions["lecturelib"].svc.list_documents()
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/search?q=实在话")
    link = page.locator("a.hit__time").first
    expect(link).to_have_text("▶ 0:02")
    link.click()
    page.wait_for_url(f"**/media/{doc['id']}?t=2.4")
    page.wait_for_function(
        "() => { const p = document.querySelector('[data-player]');"
        " return p.readyState >= 1 && Math.abs(p.currentTime - 2.4) < 0.2; }"
    )
    # the hit's own passage (2.4–3.8 s) is the one highlighted, not the one before it
    first, cue = page.locator(".cue").first, page.locator(".cue", has_text="实在话")
    expect(cue).to_have_class("cue cue--current")
    first.click()  # back to the first passage (0.2 s)
    page.wait_for_function(
        "() => { const p = document.querySelector('[data-player]'); p.pause();"
        " return p.currentTime >= 0.19 && p.currentTime < 2.4; }"
    )
    expect(first).to_have_class("cue cue--current")
    expect(cue).to_have_class("cue")
    assert errors == []
    ctx.close()
