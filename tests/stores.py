"""Homes on either database: the embedded SQLite store (a tmp dir) or a fresh PostgreSQL
database of the throwaway cluster (``pg_url``, marked ``postgres``). Test modules import the
fixtures they use (``from stores import any_home  # noqa: F401``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from library.home import Home

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def home_on(request, path: Path, database: str, settings: dict | None = None) -> Path:
    """A home folder at ``path`` whose store lives on ``database`` ("sqlite" or "postgres":
    a fresh database of the throwaway cluster)."""
    path.mkdir(parents=True, exist_ok=True)
    values = dict(settings or {})
    if database == "postgres":
        values["database_url"] = request.getfixturevalue("pg_url")
    if values:
        (path / "settings.json").write_text(json.dumps(values, ensure_ascii=False), "utf-8")
    return path


@pytest.fixture(params=DATABASES)
def database(request) -> str:
    """The database a test runs on: "sqlite" or "postgres"."""
    return request.param


@pytest.fixture
def any_home(request, tmp_path, database) -> Home:
    """A new library home on SQLite or on PostgreSQL (parametrized)."""
    return Home.open(home_on(request, tmp_path / "home", database))


def settings_for(request, database: str) -> dict:
    """The settings.json values of a home on ``database`` (``library_factory(settings=…)``)."""
    if database == "postgres":
        return {"database_url": request.getfixturevalue("pg_url")}
    return {}
