"""A library's settings: typed, with defaults, checked when the home opens (Chinese messages
naming the key and the file), unknown keys reported, environment overrides."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest

from library.errors import UsageError
from library.home import Home
from library.settings import Settings


def home_with(tmp_path, content) -> Home:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    (home / "settings.json").write_text(text, encoding="utf-8")
    return Home.open(home)


def test_a_home_without_settings_has_every_default(tmp_path, monkeypatch):
    monkeypatch.delenv("LECTURELIB_MAX_FILE_MB", raising=False)
    home = Home.open(tmp_path / "home")
    assert home.config == Settings()
    assert home.config.library_name == "宣讲素材库"
    assert home.config.max_file_mb == 100 and home.max_file_bytes == 100 * 1024 * 1024
    assert home.config.require_login is False and home.config.search_writer == "bulk"
    # callers that read the plain dict see the same defaults
    assert home.settings.get("ingest_workers") == 2
    assert home.settings.get("session_idle_minutes", 0) == 120


def test_values_are_typed_from_the_file(tmp_path, monkeypatch):
    monkeypatch.delenv("LECTURELIB_MAX_FILE_MB", raising=False)
    home = home_with(
        tmp_path,
        {
            "library_name": " 肇庆宣讲素材库 ",
            "max_file_mb": "2.5",
            "ingest_workers": 3,
            "require_login": True,
            "public_export": "false",
            "search_writer": "Public",
        },
    )
    c = home.config
    assert c.library_name == "肇庆宣讲素材库"
    assert c.max_file_mb == 2.5 and home.max_file_bytes == int(2.5 * 1024 * 1024)
    assert c.ingest_workers == 3 and isinstance(c.ingest_workers, int)
    assert c.require_login is True and c.public_export is False
    assert c.search_writer == "public"
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.require_login = False


@pytest.mark.parametrize(
    "key, value, says",
    [
        ("max_file_mb", "很大", "应为数字"),
        ("max_file_mb", 0, "应大于 0"),
        ("ingest_workers", 1.5, "应为整数"),
        ("require_login", "也许", "应为布尔值（true 或 false）"),
        ("library_name", 12, "应为文字"),
        ("search_writer", "quick", "无效"),
    ],
)
def test_a_wrong_value_names_the_key_and_the_file(tmp_path, key, value, says):
    with pytest.raises(UsageError) as e:
        home_with(tmp_path, {key: value})
    message = str(e.value)
    assert key in message and str(tmp_path / "home" / "settings.json") in message
    assert says in message


def test_a_settings_file_that_is_not_an_object_is_refused(tmp_path):
    with pytest.raises(UsageError, match="JSON 对象"):
        home_with(tmp_path, "[1, 2]")
    with pytest.raises(UsageError, match="无法读取"):
        home_with(tmp_path, "{not json")


def test_unknown_keys_are_reported_with_the_nearest_setting(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="lecturelib.settings"):
        home = home_with(tmp_path, {"max_file_mbs": 5, "colour": "red", "library_name": "甲"})
    assert home.config.unknown == ("colour", "max_file_mbs")
    assert home.config.max_file_mb == 100 and home.config.library_name == "甲"
    warning = caplog.text
    assert "settings.json" in warning and "“max_file_mbs”（是否想写“max_file_mb”？）" in warning
    assert "“colour”" in warning


def test_the_environment_overrides_the_upload_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURELIB_MAX_FILE_MB", "3")
    home = home_with(tmp_path, {"max_file_mb": 50})
    assert home.config.max_file_mb == 3 and home.settings["max_file_mb"] == 3
    monkeypatch.setenv("LECTURELIB_MAX_FILE_MB", "三")
    with pytest.raises(UsageError, match="LECTURELIB_MAX_FILE_MB"):
        Home.open(tmp_path / "home")


def test_config_follows_a_changed_settings_dict(tmp_path, monkeypatch):
    """The web app's test overrides replace ``home.settings``; ``home.config`` follows."""
    monkeypatch.delenv("LECTURELIB_MAX_FILE_MB", raising=False)
    home = Home.open(tmp_path / "home")
    home.settings = {**home.settings, "require_login": True, "max_file_mb": 1}
    assert home.config.require_login is True and home.max_file_bytes == 1024 * 1024
    home.settings["ingest_workers"] = 4
    assert home.config.ingest_workers == 4


def test_every_setting_is_documented():
    for f in dataclasses.fields(Settings):
        assert f.metadata.get("doc"), f.name
