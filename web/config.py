"""Configuration: the instance folder is the library home.

Order (later wins): defaults → ``<home>/settings.json`` (the home the service opens) →
environment variables → ``test_config``. ``SECRET_KEY`` comes from ``$LECTURELIB_SECRET_KEY``
or is generated once into ``<home>/secret_key`` (mode 0600).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from indexer.app.service import LibraryService

_TRUE = {"1", "true", "yes", "on"}


def _secret_key(home: Path) -> str:
    path = home / "secret_key"
    if path.is_file():
        key = path.read_text(encoding="ascii").strip()
        if key:
            return key
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    os.chmod(path, 0o600)
    return key


def load_config(app: Flask, test_config: dict | None = None) -> None:
    test_config = dict(test_config or {})
    home = LibraryService.open_home(
        test_config.pop("LECTURELIB_HOME", None) or os.environ.get("LECTURELIB_HOME")
    )
    settings = dict(home.settings)
    settings.update(test_config.pop("SETTINGS", {}))
    home.settings = settings
    app.instance_path = str(home.path)

    secure = bool(settings.get("secure_cookies", False))
    env_secure = os.environ.get("LECTURELIB_SECURE_COOKIES")
    if env_secure is not None:
        secure = env_secure.strip().lower() in _TRUE
    env_login = os.environ.get("LECTURELIB_REQUIRE_LOGIN")
    if env_login is not None:
        settings["require_login"] = env_login.strip().lower() in _TRUE

    app.config.update(
        LECTURELIB_HOME_OBJ=home,
        LIBRARY_NAME=settings.get("library_name", "宣讲素材库"),
        REQUIRE_LOGIN=bool(settings.get("require_login", False)),
        PUBLIC_EXPORT=bool(settings.get("public_export", False)),
        # one file per upload request (the page sends files one by one); a little room for
        # the multipart envelope
        MAX_CONTENT_LENGTH=home.max_file_bytes + 1024 * 1024,
        # a recording (视频/音频) with its subtitle file, streamed to disk (web.views.media)
        MAX_MEDIA_CONTENT_LENGTH=home.config.max_media_bytes + 16 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_NAME="lecturelib_session",
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        JSON_AS_ASCII=False,
        LOGIN_MAX_FAILURES=5,  # failures before the growing delay starts
        LOGIN_BASE_DELAY=30,  # seconds after the 5th failure; doubles with each one
        LOGIN_MAX_DELAY=3600,
        SEARCH_PAGE_SIZE=10,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False  # /api/search keeps the CLI's key order
    key = os.environ.get("LECTURELIB_SECRET_KEY") or test_config.get("SECRET_KEY")
    app.config["SECRET_KEY"] = key or _secret_key(home.path)
    app.config.update(test_config)
