"""`lecturelib serve` builds the app under waitress from the library home."""

from __future__ import annotations

import threading
import urllib.request

from conftest import QUOTES, make_docx


def test_serve_dry_run_returns_zero(tmp_path, monkeypatch, capsys):
    from indexer.serve import serve
    monkeypatch.setenv("LECTURELIB_SERVE_DRY_RUN", "1")
    assert serve(tmp_path / "home", host="127.0.0.1", port=0, workers=2) == 0
    assert "宣讲素材库已启动" in capsys.readouterr().out


def test_cli_serve_answers_http(tmp_path, library_factory):
    """The real server: a search over HTTP returns the quote."""
    from waitress import create_server

    from web import create_app
    svc = library_factory([make_docx(tmp_path / "q.docx", QUOTES)])
    home = svc.home.path
    svc.close()
    app = create_app({"LECTURELIB_HOME": str(home)})
    server = create_server(app, host="127.0.0.1", port=0, threads=2)
    port = server.effective_port
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{port}/api/search?q=%E7%BB%BF%E6%B0%B4"   # 绿水
        with urllib.request.urlopen(url, timeout=30) as r:
            body = r.read().decode("utf-8")
        assert "绿水青山就是金山银山" in body
    finally:
        server.close()
        app.extensions["lecturelib"].close()
