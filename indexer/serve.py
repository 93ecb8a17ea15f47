"""``lecturelib serve``: the web app under waitress, a production WSGI server.

One process, ``workers`` threads; the app holds one LibraryService and serializes index access
itself (see ``web.library``). The library home is the instance folder.
"""

from __future__ import annotations

import os
import sys


def serve(home=None, host: str = "127.0.0.1", port: int = 5000, workers: int = 4) -> int:
    from waitress import create_server

    from library.home import Home
    from web import create_app

    h = Home.open(home)
    app = create_app({"LECTURELIB_HOME": str(h.path)})
    lib = app.extensions["lecturelib"]
    try:
        with app.app_context():
            lib.svc.sync()          # build or repair the index before the first request
            lib.search("中国", limit=1)   # load the tokenizer now, not on a speaker's request
    except Exception as e:          # a broken index must not stop the server: pages say so
        print(f"lecturelib: 启动时检索索引同步失败：{e}", file=sys.stderr)
    server = create_server(app, host=host, port=port, threads=max(1, int(workers)),
                           ident="lecturelib", clear_untrusted_proxy_headers=True,
                           max_request_body_size=app.config["MAX_CONTENT_LENGTH"] + 1024)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    print(f"宣讲素材库已启动：http://{shown}:{port}/  （资料库：{h.path}，{workers} 个线程；"
          "按 Ctrl+C 停止）", flush=True)
    if os.environ.get("LECTURELIB_SERVE_DRY_RUN"):
        server.close()
        return 0
    try:
        server.run()
    except KeyboardInterrupt:
        print("\n已停止。", file=sys.stderr)
    finally:
        server.close()
        lib.close()
    return 0


__all__ = ["serve"]
