"""The web front end: a Flask app factory over one :class:`indexer.app.service.LibraryService`.

``create_app(test_config=None)`` follows Flask's tutorial shape: configuration from the library
home (the instance folder) and the environment, resources attached in the factory (never at
import), blueprints registered here. Views stay thin; the work happens in ``library`` and
``indexer``.

Also here, because they concern every route: the ``int`` URL converter is bounded to the ids
the store can hold (a larger number is a 404, never an overflow in SQLite), and
:func:`install_waitress_errors` lets the app answer requests that waitress refuses as too
large, so that an oversized upload gets the Chinese 413 page (JSON for the upload script) at
any size.
"""

from __future__ import annotations

import io
import os
import socket
import time

from flask import Flask, abort, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter

from .config import load_config

# the largest rowid SQLite can hold
MAX_ID = 2**63 - 1
# WSGI environ key set by the waitress hook (a client cannot set it: headers become HTTP_*)
BODY_TOO_LARGE = "lecturelib.body_too_large"
# after answering a too-large upload, what is still read and thrown away before closing
LINGER_SECONDS = 30
LINGER_BYTES = 256 * 1024 * 1024

# (config key, settings.json key, default, to seconds)
_SESSION_SETTINGS = (
    ("SESSION_IDLE_TIMEOUT", "session_idle_minutes", 120, 60),
    ("SESSION_MAX_AGE", "session_max_hours", 12, 3600),
)
_LOGIN_DEFAULTS = {
    "LOGIN_ADDRESS_MAX_FAILURES": 5,  # failures from one address before it has to wait
    "LOGIN_ADDRESS_BASE_DELAY": 2,  # seconds after the 5th failure; doubles with each one
    "LOGIN_ADDRESS_MAX_DELAY": 900,
    "LOGIN_FORGET_AFTER": 3600,  # failures are forgotten an hour after the last one
}


class IdConverter(IntegerConverter):
    """``<int:…>``: 0 … 2**63-1, at most 19 digits; anything else does not match (404)."""

    regex = r"\d{1,19}"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _number(value, default: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def _security_config(app: Flask, test_config: dict | None) -> None:
    """Session lifetimes from settings.json (``session_idle_minutes``, ``session_max_hours``)
    and the login throttle's defaults; explicit ``test_config`` keys win."""
    explicit = set(test_config or {})
    settings = app.config["LECTURELIB_HOME_OBJ"].settings
    for key, setting, default, unit in _SESSION_SETTINGS:
        if key not in explicit:
            app.config[key] = int(_number(settings.get(setting), default) * unit)
    for key, value in _LOGIN_DEFAULTS.items():
        if key not in explicit:
            app.config[key] = value
    # the cookie is signed for the absolute lifetime and is not re-sent with every request
    # (its expiry is fixed at sign-in, see web.security.SessionInterface)
    if "PERMANENT_SESSION_LIFETIME" not in explicit:
        app.config["PERMANENT_SESSION_LIFETIME"] = app.config["SESSION_MAX_AGE"]
    if "SESSION_REFRESH_EACH_REQUEST" not in explicit:
        app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    # CSRF (Flask-WTF): a token lasts as long as its session (whose own limits end it), and
    # web.security checks it after loading the account instead of Flask-WTF's own hook
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)


def favicon_ico(size: int = 32) -> bytes:
    """The site icon, drawn in code: the brand mark (a rounded square in the accent colour)
    with three white lines like a page of text, as a PNG inside an .ico container."""
    import struct
    import zlib

    accent, white, clear = (0xB7, 0x1C, 0x1C, 255), (255, 255, 255, 255), (0, 0, 0, 0)
    radius, lines = (
        size // 6,
        [(size * 5 // 16, 0.72), (size * 15 // 32, 0.72), (size * 5 // 8, 0.5)],
    )
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            dx = max(radius - x, x - (size - 1 - radius), 0)
            dy = max(radius - y, y - (size - 1 - radius), 0)
            px = accent if dx * dx + dy * dy <= radius * radius else clear
            for top, share in lines:
                left = size // 4
                if (
                    px is accent
                    and top <= y < top + max(2, size // 16)
                    and left <= x < left + int((size - 2 * left) * share / 0.72)
                ):
                    px = white
            row += bytes(px)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )
    header = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), 6 + 16)
    return header + entry + png


def _favicon_route(app: Flask) -> None:
    """``/favicon.ico``: browsers ask for it on every site; answer with the brand mark
    instead of a 404 (public, cached for a day, also when the library requires a login)."""
    from flask import Response

    icon = favicon_ico()

    @app.get("/favicon.ico", endpoint="favicon")
    def favicon():
        return Response(
            icon,
            mimetype="image/vnd.microsoft.icon",
            headers={"Cache-Control": "public, max-age=86400"},
        )


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    load_config(app, test_config)
    _security_config(app, test_config)
    app.url_map.converters["int"] = IdConverter

    from . import errors, formatting, security
    from .library import WebLibrary

    @app.before_request
    def _too_large():
        # set by the waitress hook for a body waitress refused: answer with our 413
        if request.environ.get(BODY_TOO_LARGE):
            abort(413)
        # a recording's upload (web.views.media) may be as large as max_media_mb; it is
        # streamed to a temporary file, never held in memory
        if request.method == "POST" and request.path == "/editor/media/upload":
            request.max_content_length = app.config["MAX_MEDIA_CONTENT_LENGTH"]

    lib = WebLibrary.init_app(app)
    if not (os.environ.get("LECTURELIB_SECRET_KEY") or (test_config or {}).get("SECRET_KEY")):
        # several nodes on one database sign sessions alike (the key is kept in the database)
        app.config["SECRET_KEY"] = lib.svc.shared_secret_key() or app.config["SECRET_KEY"]
    CSRFProtect(app)  # checked in security's before_request (after the account)
    security.init_app(app)
    formatting.init_app(app)
    errors.init_app(app)

    from .views import admin, api, auth, editor, media, packs, public

    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(editor.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(packs.bp)
    app.register_blueprint(media.bp)
    _favicon_route(app)
    return app


def waitress_channel(app: Flask):
    """A waitress channel class whose "request body too large" answer comes from ``app``.

    Waitress refuses a body over its ``max_request_body_size`` as soon as it reads the
    ``Content-Length`` (or the chunked body passes the limit), without reading the body and
    without calling the app, with an English plain-text 413. With this channel it calls the
    app instead, with the request's method, path and headers, an empty body and
    ``environ["lecturelib.body_too_large"]``, so the page is the app's Chinese 413 (JSON for
    ``/api`` and the upload script).

    Then it closes the connection the way browsers can read: it stops sending (half-close)
    and reads and discards what the client is still uploading, for at most
    ``LINGER_SECONDS`` and ``LINGER_BYTES``, before closing. Closing at once with unread
    upload data makes the kernel reset the connection, and a browser still uploading then
    shows a network error instead of the answer."""
    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask, WSGITask
    from waitress.utilities import RequestEntityTooLarge

    class TooLargeTask(WSGITask):
        def get_environment(self):
            environ = super().get_environment()
            environ["CONTENT_LENGTH"] = "0"
            environ["wsgi.input"] = io.BytesIO(b"")
            environ[BODY_TOO_LARGE] = True
            return environ

        def execute(self):
            self.set_close_on_finish()
            self.channel.linger = True
            super().execute()

    def error_task(channel, req):
        if isinstance(req.error, RequestEntityTooLarge) and getattr(req, "command", None):
            return TooLargeTask(channel, req)
        return ErrorTask(channel, req)

    class Channel(HTTPChannel):
        error_task_class = staticmethod(error_task)
        linger = False  # set by TooLargeTask: drain the upload before closing
        draining = False
        drain_started = 0.0
        drained = 0

        def _close_now(self):
            self.draining = self.linger = False
            HTTPChannel.handle_close(self)

        def handle_close(self):
            if not self.linger or self.draining or not self.connected:
                return self._close_now()
            try:  # the answer is out: no more writing, keep reading
                self.socket.shutdown(socket.SHUT_WR)
            except OSError:
                return self._close_now()
            self.draining, self.will_close = True, False
            self.drain_started = self.last_activity = time.time()

        def readable(self):
            return True if self.draining else super().readable()

        def writable(self):
            # while draining, only the server's idle timeout (will_close) makes us write
            return self.will_close if self.draining else super().writable()

        def handle_write(self):
            if self.draining:
                return self._close_now()
            return super().handle_write()

        def handle_read(self):
            if not self.draining:
                return super().handle_read()
            try:
                data = self.socket.recv(self.adj.recv_bytes)
            except OSError:
                return self._close_now()
            self.drained += len(data)
            self.last_activity = time.time()
            if (
                not data
                or self.drained > LINGER_BYTES
                or self.last_activity - self.drain_started > LINGER_SECONDS
            ):
                self._close_now()

    return Channel


def install_waitress_errors(server, app: Flask) -> None:
    """Make ``server`` (from ``waitress.create_server``, one or several listening sockets)
    answer oversized requests through ``app`` (see :func:`waitress_channel`)."""
    channel = waitress_channel(app)
    servers = [server] + [
        s for s in getattr(server, "map", {}).values() if hasattr(s, "channel_class")
    ]
    for s in servers:
        if hasattr(s, "channel_class"):
            s.channel_class = channel


__all__ = ["create_app", "waitress_channel", "install_waitress_errors", "IdConverter", "MAX_ID"]
