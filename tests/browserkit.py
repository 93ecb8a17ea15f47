"""What every real-browser test module shares: Debian's chromium driven by Playwright (the
module is skipped when either is missing), a live waitress server over an app, and the
``browser`` fixture. Import it first in a browser test module:

    from browserkit import ARGS, CHROMIUM, PHONE, browser, live_server, sync_api  # noqa: F401
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright 未安装，跳过浏览器测试")
if not CHROMIUM.exists():
    pytest.skip(
        "未找到 /usr/bin/chromium（运行 scripts/ensure-browser.sh 安装），跳过浏览器测试",
        allow_module_level=True,
    )


@contextmanager
def live_server(app, threads: int = 4):
    """Serve ``app`` with waitress on a free loopback port; yields the base URL."""
    from waitress import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


__all__ = ["ARGS", "CHROMIUM", "PHONE", "browser", "live_server", "sync_api"]
