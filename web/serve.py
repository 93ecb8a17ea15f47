"""``lecturelib serve``: the web app under waitress, a production WSGI server.

One process, ``workers`` threads; the app holds one LibraryService, which serializes writes
itself; searches read without waiting (see ``web.library``). The library home is the instance
folder.

The port is bound first, so that a port already in use is reported at once, in Chinese, before
the index is brought up to date. Ctrl+C, SIGTERM and SIGHUP stop the server the same way: the
listening socket and the request threads are closed, then the upload worker processes
(``LibraryService.stop_workers``) are stopped, so nothing the server started outlives it.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
import threading

from library.errors import LecturelibError

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class ServeError(LecturelibError):
    """The server cannot start (port in use, address not on this machine, no permission)."""

    code = "serve"


def bind_error(e: OSError, host: str, port: int) -> ServeError:
    """Why the server could not listen on host:port, in Chinese, with what to do."""
    nxt = port + 1 if 0 < port < 65535 else 5001
    if isinstance(e, socket.gaierror):
        return ServeError(
            f"无法识别监听地址“{host}”。",
            "请用 --host 127.0.0.1（仅本机访问）或 --host 0.0.0.0（允许局域网访问）。",
        )
    if e.errno == errno.EADDRINUSE:
        return ServeError(
            f"端口 {port} 已被占用（可能已有一个宣讲素材库或其他程序在使用它）。",
            f"请用 --port 换一个端口，例如：lecturelib serve --port {nxt}；"
            "或先停止占用该端口的程序。",
        )
    if e.errno in (errno.EACCES, errno.EPERM):
        return ServeError(
            f"没有权限使用端口 {port}（1024 以下的端口通常需要管理员权限）。",
            "请用 --port 换一个 1024 以上的端口，例如：lecturelib serve --port 5000。",
        )
    if e.errno == errno.EADDRNOTAVAIL:
        return ServeError(
            f"地址 {host} 不属于本机，无法在其上启动服务。",
            "请用 --host 127.0.0.1（仅本机访问）或 --host 0.0.0.0（允许局域网访问）。",
        )
    return ServeError(
        f"无法在 {host}:{port} 上启动服务：{e.strerror or e}。",
        "请检查 --host 和 --port，或用 --port 换一个端口。",
    )


def _stop(signum, frame):
    raise KeyboardInterrupt


def default_processes() -> int:
    """Worker processes when not told: one per core (at most 4) where gunicorn runs (Linux,
    macOS); 1 elsewhere (waitress, threads only)."""
    if os.name != "posix":
        return 1
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def _check_bind(host: str, port: int) -> None:
    """Bind and release host:port, so that a port in use is a Chinese message before any
    process is started."""
    try:
        infos = socket.getaddrinfo(host or "0.0.0.0", port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise bind_error(e, host, port) from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
    except OSError as e:
        raise bind_error(e, host, port) from None
    finally:
        sock.close()


def serve(
    home=None, host: str = "127.0.0.1", port: int = 5000, workers: int = 4, processes: int = 1
) -> int:
    """Serve the web app. ``processes`` > 1: that many pre-forked worker processes (gunicorn,
    each with ``workers`` threads) share the port and the on-disk index, so that searches use
    every core; writes stay one at a time (the store's transactions and the index's writer
    lock). ``processes`` = 1: one waitress process with ``workers`` threads."""
    if processes > 1 and default_processes() > 1:
        return _serve_gunicorn(home, host, port, threads=workers, processes=processes)
    from waitress import create_server

    from indexer.app.service import LibraryService
    from web import create_app

    h = LibraryService.open_home(home)
    app = create_app({"LECTURELIB_HOME": str(h.path)})
    lib = app.extensions["lecturelib"]
    try:
        server = create_server(
            app,
            host=host,
            port=port,
            threads=max(1, int(workers)),
            ident="lecturelib",
            clear_untrusted_proxy_headers=True,
            # the larger of the two limits: the app checks each route's own (media: per request)
            max_request_body_size=max(
                app.config["MAX_CONTENT_LENGTH"], app.config.get("MAX_MEDIA_CONTENT_LENGTH", 0)
            )
            + 1024,
        )
    except OSError as e:
        lib.close()
        raise bind_error(e, host, port) from None
    except ValueError:  # waitress: a host name that does not resolve
        lib.close()
        raise bind_error(socket.gaierror(), host, port) from None
    from web import install_waitress_errors

    install_waitress_errors(server, app)  # oversized uploads: the Chinese 413 at any size

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            previous[sig] = signal.signal(sig, _stop)
    try:
        try:
            with app.app_context():
                lib.svc.ready()  # build or repair the index before the first request
                lib.search("中国", limit=1)  # load the tokenizer now, not on a speaker's request
        except Exception as e:  # a broken index must not stop the server: pages say so
            print(f"lecturelib: 启动时检索索引同步失败：{e}", file=sys.stderr)
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        bound = getattr(server, "effective_port", port)
        print(
            f"宣讲素材库已启动：http://{shown}:{bound}/  （资料库：{h.path}，{workers} 个线程；"
            "按 Ctrl+C 停止）",
            flush=True,
        )
        if os.environ.get("LECTURELIB_SERVE_DRY_RUN"):
            return 0
        server.run()  # waitress returns from here on Ctrl+C / _stop
        print("\n已停止。", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("\n已停止。", file=sys.stderr, flush=True)
    finally:
        for sig in STOP_SIGNALS:  # a second signal while stopping changes nothing
            if sig in previous:
                signal.signal(sig, signal.SIG_IGN)
        try:
            server.close()
        finally:
            LibraryService.stop_workers()
            lib.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    return 0


def _serve_gunicorn(home, host: str, port: int, *, threads: int, processes: int) -> int:
    from gunicorn.app.base import BaseApplication

    from indexer.app.service import LibraryService

    h = LibraryService.open_home(home)
    _check_bind(host, port)
    svc = LibraryService(h)
    try:
        svc.ready()  # once, here: the workers only read and write
    except Exception as e:  # a broken index must not stop the server: pages say so
        print(f"lecturelib: 启动时检索索引同步失败：{e}", file=sys.stderr)
    finally:
        svc.close()

    def worker_exit(server, worker):  # each worker stops its upload processes
        LibraryService.stop_workers()

    def post_worker_init(worker):  # load jieba now, not on a speaker's first request
        try:
            lib = worker.app.callable.extensions["lecturelib"]
            lib.search("中国", limit=1)
        except Exception:
            pass

    def when_ready(server):  # the port is listening: now say so
        print(banner, flush=True)

    class _App(BaseApplication):
        def load_config(self):
            cfg = {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": processes,
                "worker_class": "gthread",
                "threads": threads,
                "timeout": 0,
                "graceful_timeout": 3,
                "keepalive": 5,
                "proc_name": "lecturelib",
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "worker_exit": worker_exit,
                "post_worker_init": post_worker_init,
                "when_ready": when_ready,
                # a request line or header this large is not a speaker's
                "limit_request_line": 8190,
            }
            for k, v in cfg.items():
                self.cfg.set(k, v)

        def load(self):
            from web import create_app

            return create_app({"LECTURELIB_HOME": str(h.path)})

    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    banner = (
        f"宣讲素材库已启动：http://{shown}:{port}/  （资料库：{h.path}，{processes} 个进程 × "
        f"{threads} 个线程；按 Ctrl+C 停止）"
    )
    if os.environ.get("LECTURELIB_SERVE_DRY_RUN"):
        print(banner, flush=True)
        return 0
    master = os.getpid()
    try:
        _App().run()  # gunicorn's arbiter: SIGTERM/SIGINT stop every worker
    except SystemExit as e:
        if os.getpid() != master:  # a worker leaving: not the server's exit
            raise
        if e.code not in (0, None):
            raise ServeError(
                "网页服务异常退出。", "请查看上面的错误信息；可用 --processes 1 改用单进程。"
            ) from None
    print("\n已停止。", file=sys.stderr, flush=True)
    return 0


__all__ = ["serve", "bind_error", "ServeError", "default_processes"]
