"""Shared fixtures: libraries built in tmp_path from documents made in code, and Flask apps
and clients over them (real SQLite store, real Whoosh index on disk).

A module marked ``pytest.mark.both_databases`` runs each of its tests twice: embedded (SQLite
store + Whoosh index, as everywhere else) and on a shared database (a fresh database of the
throwaway PostgreSQL cluster: PostgreSQL store + PostgreSQL search backend, selected by
``database_url`` in the home's settings.json; that run is marked ``postgres``). The
``app_database`` fixture says which; ``make_app``, ``library_factory`` and ``sample_app`` follow
it, and a module's own fixtures get the settings from ``database_settings`` /
``module_database_settings``."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

# The word-frequency cache (indexer.search.jieba_words) goes to a temp dir, not ~/.cache.
os.environ.setdefault("LECTURELIB_CACHE", tempfile.mkdtemp(prefix="lecturelib-test-cache-"))

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `pytest` without `python -m` still finds the packages
    sys.path.insert(0, str(ROOT))

EDITOR = ("bianji", "editor-pass-1")
ADMIN = ("guanli", "admin-pass-1")
CSRF = "test-csrf-token"

from builders import make_docx  # noqa: E402,F401  (re-exported for the web tests)
from builders import make_pdf as _make_pdf  # noqa: E402

pytest_plugins = ["pgcluster"]  # pg_cluster / pg_url: a throwaway PostgreSQL server

APP_DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "both_databases: the module's apps and libraries run on SQLite + Whoosh and on "
        "PostgreSQL (store and search backend), each test once per database",
    )


def pytest_generate_tests(metafunc):
    if "app_database" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "both_databases"
    ):
        metafunc.parametrize("app_database", APP_DATABASES, indirect=True, scope="module")


@pytest.fixture(scope="module")
def app_database(request) -> str:
    """The database the module's apps and libraries live on: "sqlite" (the default) or, in a
    ``both_databases`` module, also "postgres"."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def database_settings(request, app_database) -> dict:
    """settings.json values putting a test's library on ``app_database`` (a fresh database)."""
    if app_database == "postgres":
        return {"database_url": request.getfixturevalue("pg_url")}
    return {}


@pytest.fixture(scope="module")
def module_database_settings(request, app_database) -> dict:
    """The same for a module-scoped library: one database shared by the module's tests."""
    if app_database == "postgres":
        return {"database_url": request.getfixturevalue("pg_module_url")}
    return {}


def _on_database(settings, database: dict):
    """``settings`` with the database's values added (a test's own values win)."""
    if not database:
        return settings
    return {**database, **(settings or {})}


QUOTES = [
    ("h", "生态文明与初心使命金句汇编"),
    ("h", "一、绿水青山就是金山银山"),
    ("p", "1. 绿水青山就是金山银山。"),
    ("p", "——习近平在浙江安吉余村考察时的讲话（2005年8月15日）"),
    ("p", "2. 人民对美好生活的向往，就是我们的奋斗目标。"),
    ("p", "——习近平在十八届中央政治局常委同中外记者见面时的讲话（2012年11月15日）"),
    ("h", "二、不忘初心"),
    ("p", "3. 不忘初心，牢记使命，永远奋斗。"),
    ("p", "——习近平在党的十九大报告中的论述（2017年10月18日）"),
]

HANDOUT = [
    ("t", "乡村振兴专题讲义"),
    ("p", "一、为什么要推进乡村振兴"),
    (
        "p",
        "乡村振兴是关系全面建设社会主义现代化国家的全局性、历史性任务，"
        "各地要把农业农村优先发展落到实处。" * 3,
    ),
    ("p", "（一）产业兴旺是重点"),
    (
        "p",
        "各地因地制宜发展特色种植和农产品加工，合作社带动村民增收致富，"
        "肇庆的砂糖橘和鼎湖山民宿就是例子。" * 3,
    ),
    ("p", "二、怎样把乡村振兴落到实处"),
    ("p", "要坚持农民主体地位，尊重村民意愿，办好一件件民生实事，让群众有更多获得感。" * 3),
]


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A plain text PDF: no running header, no page numbers."""
    return _make_pdf(path, pages, header=None, footer=False)


PDF_PAGES = [
    [
        "基层治理法治化宣讲提纲",
        "一、法治是最好的营商环境",
        "全面依法治国是国家治理的一场深刻革命，",
        "基层干部要带头尊法学法守法用法。",
    ],
    [
        "二、把矛盾纠纷化解在基层",
        "坚持和发展新时代枫桥经验，",
        "做到小事不出村、大事不出镇、矛盾不上交。",
    ],
]


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("samples")
    make_docx(d / "金句汇编.docx", QUOTES)
    make_docx(d / "乡村振兴讲义.docx", HANDOUT)
    make_pdf(d / "法治宣讲提纲.pdf", PDF_PAGES)
    return d


@pytest.fixture
def library_factory(tmp_path, database_settings):
    """library_factory(files=[...], settings={...}) → a LibraryService in tmp_path with the
    files ingested (closed at teardown), on ``app_database``."""
    from indexer.app.service import LibraryService

    made = []

    def make(files=(), settings=None, name="home"):
        settings = _on_database(settings, database_settings)
        home = tmp_path / name
        home.mkdir(parents=True, exist_ok=True)
        if settings:
            import json

            (home / "settings.json").write_text(
                json.dumps(settings, ensure_ascii=False), encoding="utf-8"
            )
        svc = LibraryService(home)
        made.append(svc)
        if files:
            results = svc.ingest(list(files), actor="test")
            bad = [r for r in results if r.failed]
            assert not bad, [r.to_json() for r in bad]
        return svc

    yield make
    for s in made:
        s.close()


def _build_app(home: Path, files=(), settings=None, users=True, **config):
    import json

    from library.users import Users
    from web import create_app

    home.mkdir(parents=True, exist_ok=True)
    if settings:
        (home / "settings.json").write_text(
            json.dumps(settings, ensure_ascii=False), encoding="utf-8"
        )
    app = create_app(
        {"LECTURELIB_HOME": str(home), "TESTING": True, "SECRET_KEY": "test-secret", **config}
    )
    lib = app.extensions["lecturelib"]
    if files:
        results = lib.svc.ingest(list(files), actor="test")
        assert not [r for r in results if r.failed], [r.to_json() for r in results]
    if users:
        u = Users(lib.svc.store)
        u.add(*EDITOR, role="editor", actor="test")
        u.add(*ADMIN, role="admin", actor="test")
    return app


@pytest.fixture
def make_app(tmp_path, database_settings):
    """make_app(files=..., settings=..., **config) → a fresh app with its own library, on
    ``app_database``."""
    apps = []

    def make(files=(), settings=None, users=True, **config):
        settings = _on_database(settings, database_settings)
        app = _build_app(tmp_path / f"home{len(apps)}", files, settings, users, **config)
        apps.append(app)
        return app

    yield make
    for a in apps:
        a.extensions["lecturelib"].close()


@pytest.fixture(scope="module")
def sample_app(tmp_path_factory, sample_dir, module_database_settings):
    """A shared app over the three sample documents (tests must not modify it), on
    ``app_database``."""
    app = _build_app(
        tmp_path_factory.mktemp("libhome"),
        sorted(sample_dir.iterdir()),
        module_database_settings or None,
    )
    yield app
    app.extensions["lecturelib"].close()


@pytest.fixture
def client(sample_app):
    return sample_app.test_client()


def text(response) -> str:
    """A response's body as text."""
    return response.get_data(as_text=True)


def _signed_csrf(app, raw: str) -> str:
    """The form/header value of the session token ``raw``, as the pages carry it."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    with app.test_request_context():
        session["csrf_token"] = raw
        return generate_csrf()


def with_csrf(client) -> str:
    """Put a known CSRF token in the client's session; the value a form sends for it."""
    with client.session_transaction() as s:
        s["csrf_token"] = CSRF
    return _signed_csrf(client.application, CSRF)


def login(client, who=EDITOR):
    tok = with_csrf(client)
    r = client.post("/login", data={"name": who[0], "password": who[1], "csrf_token": tok})
    assert r.status_code == 302, r.get_data(as_text=True)
    return with_csrf(client)


def post(client, url, data=None, **kw):
    """POST with the session's CSRF token added."""
    with client.session_transaction() as s:
        raw = s.setdefault("csrf_token", CSRF)
    data = dict(data or {})
    data.setdefault("csrf_token", _signed_csrf(client.application, raw))
    return client.post(url, data=data, **kw)
