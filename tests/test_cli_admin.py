"""CLI for admins: readers in bulk from a CSV, a backup without secrets, search by speaker."""

from __future__ import annotations

import zipfile

from cli import main as cli
from library.users import Users


def test_user_import_creates_readers_and_shows_passwords_once(library_factory, tmp_path, capsys):
    svc = library_factory()
    home = str(svc.home.path)
    csv = tmp_path / "宣讲员.csv"
    csv.write_text("用户名,密码\n张宣讲\n李宣讲,long-password-1\n", encoding="utf-8-sig")
    assert cli.main(["--home", home, "user", "import", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "张宣讲" in out and "新建 2 个读者账号" in out
    users = {u["name"]: u["role"] for u in Users(svc.store).list()}
    assert users == {"张宣讲": "reader", "李宣讲": "reader"}
    assert cli.main(["--home", home, "user", "import", str(csv)]) == 0  # twice: no change
    assert "已存在，未改动" in capsys.readouterr().out


def test_user_add_with_a_role(library_factory, monkeypatch, capsys):
    svc = library_factory()
    monkeypatch.setenv("LECTURELIB_PASSWORD", "reader-pass-1")
    assert (
        cli.main(["--home", str(svc.home.path), "user", "add", "王读者", "--role", "reader"]) == 0
    )
    assert "已创建读者账号" in capsys.readouterr().out


def test_backup_without_secrets(library_factory, tmp_path, monkeypatch, capsys):
    svc = library_factory()
    monkeypatch.setenv("LECTURELIB_PASSWORD", "editor-pass-1")
    cli.main(["--home", str(svc.home.path), "user", "add", "编辑甲"])
    out = tmp_path / "b.zip"
    assert cli.main(["--home", str(svc.home.path), "backup", "-o", str(out), "--no-secrets"]) == 0
    assert "不含密钥和密码" in capsys.readouterr().out
    with zipfile.ZipFile(out) as z:
        assert not any(n.endswith("secret_key") for n in z.namelist())
