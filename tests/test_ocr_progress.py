"""OCR as a user of the command line sees it (issue 13, part 1): a step per OCR'd page while a
scan is read, the OCR engine chosen or switched off in settings (``ocr_engine``), and a scan
left as 需OCR only when OCR is off, saying how to switch it on."""

from __future__ import annotations

import json

import pytest
import scans
import small_scans

from cli.main import main
from indexer.ingest.extract import ocr

needs_engine = pytest.mark.skipif(
    not ocr.available() or scans.font_path() is None,
    reason="no OCR engine or CJK font (make test installs both)",
)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def scan(tmp_path):
    if scans.font_path() is None:
        pytest.skip("no CJK font to draw a page (make test installs one)")
    (tmp_path / "材料").mkdir()
    pages = [small_scans.strip(small_scans.PAGES[0]), small_scans.strip(small_scans.PAGES[2])]
    return small_scans.pdf(tmp_path / "材料" / "宣讲讲义扫描件.pdf", pages)


def _settings(home, **values):
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.json").write_text(json.dumps(values), encoding="utf-8")


@needs_engine
def test_ingest_shows_a_step_per_ocr_page_and_stores_the_scan(tmp_path, scan, capsys):
    home = tmp_path / "home"
    code, out, err = run(capsys, "--home", home, "ingest", scan.parent)
    assert code == 0
    lines = err.splitlines()
    # off a terminal: one plain line per page, before the file's own line
    pages = [ln for ln in lines if "文字识别 宣讲讲义扫描件.pdf" in ln]
    assert pages == [
        "导入 [0/1] 文字识别 宣讲讲义扫描件.pdf 第 1/2 页",
        "导入 [0/1] 文字识别 宣讲讲义扫描件.pdf 第 2/2 页",
        "导入 [0/1] 文字识别 宣讲讲义扫描件.pdf 完成（2 页）",
    ]
    assert lines.index(pages[-1]) < lines.index("导入 [1/1] 有提示 宣讲讲义扫描件.pdf")
    assert "文字由 OCR 识别" in out
    code, out, _ = run(capsys, "--home", home, "search", "桥梁和纽带", "--json")
    assert json.loads(out)["total"] == 1


@needs_engine
def test_quiet_ingest_prints_no_page_steps(tmp_path, scan, capsys):
    code, _, err = run(capsys, "--home", tmp_path / "home", "ingest", scan, "-q", "--json")
    assert code == 0 and "文字识别" not in err


def test_ocr_switched_off_in_settings_leaves_a_scan_needing_ocr_and_says_how(
    tmp_path, scan, capsys
):
    home = tmp_path / "home"
    _settings(home, ocr_engine="off")
    code, out, err = run(capsys, "--home", home, "ingest", scan, "--json")
    [r] = json.loads(out)
    assert code == 1 and r["status"] == "needs_ocr"
    assert "已在设置中关闭" in r["message"] and "ocr_engine" in r["message"]
    assert "文字识别 " not in err  # nothing was OCR'd
    code, out, _ = run(capsys, "--home", home, "list", "--json")
    assert json.loads(out)["documents"] == []


def test_a_page_photo_with_ocr_off_is_refused_naming_the_setting(tmp_path, scan, capsys):
    home = tmp_path / "home"
    _settings(home, ocr_engine="off")
    photo = tmp_path / "讲义.png"
    photo.write_bytes(small_scans.png(small_scans.strip(small_scans.PAGES[0])))
    code, out, _ = run(capsys, "--home", home, "ingest", photo, "--json")
    [r] = json.loads(out)
    assert code == 1 and r["status"] == "error"
    assert "这是一张图片（PNG）" in r["message"] and "ocr_engine" in r["message"]


def test_an_unknown_ocr_engine_setting_is_a_usage_error(tmp_path, scan, capsys):
    home = tmp_path / "home"
    _settings(home, ocr_engine="abbyy")
    code, _, err = run(capsys, "--home", home, "ingest", scan)
    assert code == 2 and "ocr_engine" in err and "rapidocr" in err


@pytest.mark.skipif(not ocr.available("tesseract"), reason="tesseract with chi_sim missing")
def test_the_engine_setting_chooses_tesseract(tmp_path, scan, capsys):
    home = tmp_path / "home"
    _settings(home, ocr_engine="tesseract")
    code, out, _ = run(capsys, "--home", home, "ingest", scan, "--json", "-q")
    assert code == 0
    assert "tesseract" in json.loads(out)[0]["message"]


@needs_engine
def test_an_upload_cut_short_by_the_server_stopping_does_not_blame_the_file(tmp_path, scan):
    """The server stops while a scan is being read: the editor is told the server stopped and
    to upload it again, not that the file may be damaged."""
    import threading
    import time

    from indexer.ingest import pipeline as pl
    from library.errors import InputError
    from library.store import Store
    from library.taxonomy import Taxonomy

    pages = [small_scans.strip(small_scans.PAGES[i % 3]) for i in range(20)]
    data = small_scans.pdf(tmp_path / "长扫描件.pdf", pages).read_bytes()
    from library.home import Home

    store = Store(Home.open(tmp_path / "home"))
    pipe = pl.Pipeline(store, Taxonomy.default())
    got = {}

    def upload():
        try:
            pipe.prepare_upload(data, "长扫描件.pdf", pl.Options())
            got["result"] = "prepared"
        except InputError as e:
            got["result"] = str(e)

    t = threading.Thread(target=upload)
    t.start()
    time.sleep(1.5)  # the worker is reading page 1
    pl.shutdown_workers()
    t.join(60)
    store.close()
    assert got["result"] == pl.SERVER_STOPPING, got
