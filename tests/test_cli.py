"""The command line as a user drives it: exit codes, the JSON contract, list/show, check."""

from __future__ import annotations

import json
import shutil

import pytest
from builders import HANDOUT_DOC, QUOTES_DOC, make_docx

from cli.main import main


@pytest.fixture
def files(tmp_path):
    d = tmp_path / "材料 目录"
    make_docx(d / "生态 金句.docx", QUOTES_DOC)
    make_docx(d / "乡村 讲义.docx", HANDOUT_DOC)
    return d


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_json_contract_and_exit_codes(tmp_path, files, capsys):
    home = tmp_path / "home"
    code, out, _ = run(capsys, "--home", home, "ingest", files, "--json", "-q")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 2
    for r in rows:
        assert set(r) == {
            "path",
            "status",
            "document_id",
            "kind",
            "quotes",
            "passages",
            "pages",
            "message",
        }
        assert r["status"] == "ok" and isinstance(r["document_id"], int)
    (files / "坏.docx").write_bytes(b"PK\x03\x04 broken")
    code, out, _ = run(capsys, "--home", home, "ingest", files, "--json", "-q")
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(out)}
    assert code == 1
    assert rows["坏.docx"]["status"] == "error" and rows["坏.docx"]["message"]
    assert rows["生态 金句.docx"]["status"] == "duplicate"


def test_usage_errors_exit_2_with_a_chinese_message(tmp_path, files, capsys):
    code, _, err = run(capsys, "--home", tmp_path / "h", "ingest", files, "--topic", "不存在")
    assert code == 2 and "可用的专题" in err
    with pytest.raises(SystemExit) as e:
        main(["ingest"])
    assert e.value.code == 2


def test_summary_table_names_every_file(tmp_path, files, capsys):
    code, out, err = run(capsys, "--home", tmp_path / "h", "ingest", files)
    assert code == 0
    assert "生态 金句.docx" in out and "乡村 讲义.docx" in out
    assert "共 2 个文件：成功 2" in out
    assert "[2/2]" in err  # progress, one line per file when not on a terminal


def test_home_from_environment(tmp_path, files, capsys, monkeypatch):
    monkeypatch.setenv("LECTURELIB_HOME", str(tmp_path / "envhome"))
    assert run(capsys, "ingest", files, "-q")[0] == 0
    assert (tmp_path / "envhome" / "library.sqlite3").is_file()


def test_list_show_and_search(tmp_path, files, capsys):
    home = tmp_path / "home"
    run(capsys, "--home", home, "ingest", files, "-q", "--topic", "生态文明建设")
    code, out, _ = run(capsys, "--home", home, "list", "--json")
    listing = json.loads(out)
    assert listing["counts"]["documents"] == 2 and listing["counts"]["quotes"] == 3
    doc = next(d for d in listing["documents"] if d["kind"] == "quotes")
    assert doc["topics"] == ["ecology"]
    code, out, _ = run(capsys, "--home", home, "show", doc["id"])
    assert code == 0 and "绿水青山就是金山银山" in out
    assert "——在浙江安吉余村考察时的讲话（2005年8月15日）" in out  # the house-style 出处
    code, out, _ = run(capsys, "--home", home, "search", "金山银山", "--json")
    res = json.loads(out)
    assert res["total"] >= 1 and res["hits"][0]["kind"] == "quote"
    assert res["hits"][0]["date"] == "2005-08-15"
    code, out, err = run(capsys, "--home", home, "show", 999)
    assert code == 1 and "找不到" in err


def test_check_finds_and_repairs_disagreement(tmp_path, files, capsys):
    home = tmp_path / "home"
    run(capsys, "--home", home, "ingest", files, "-q")
    assert run(capsys, "--home", home, "check")[0] == 0
    shutil.rmtree(home / "index")
    code, out, _ = run(capsys, "--home", home, "check")
    assert code == 1 and "索引" in out
    code, out, _ = run(capsys, "--home", home, "check", "--repair")
    assert code == 0 and "已修复" in out
    assert run(capsys, "--home", home, "check")[0] == 0
    # an original file that disappeared is reported, not silently ignored
    victim = next((home / "originals").glob("??/*"))
    victim.unlink()
    code, out, _ = run(capsys, "--home", home, "check")
    assert code == 1 and "原始文件缺失" in out


def test_reindex_rebuilds_from_the_store(tmp_path, files, capsys):
    home = tmp_path / "home"
    run(capsys, "--home", home, "ingest", files, "-q")
    code, out, _ = run(capsys, "--home", home, "reindex")
    assert code == 0 and "索引已重建" in out
    code, out, _ = run(capsys, "--home", home, "search", "产业兴旺", "--json")
    assert json.loads(out)["total"] >= 1


def test_user_add_reads_password_from_environment(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LECTURELIB_PASSWORD", "a-good-password")
    code, out, _ = run(capsys, "--home", tmp_path / "h", "user", "add", "admin", "--admin")
    assert code == 0 and "管理员" in out
    code, out, _ = run(capsys, "--home", tmp_path / "h", "user", "list")
    assert "admin" in out and "管理员" in out
    code, _, err = run(capsys, "--home", tmp_path / "h", "user", "add", "admin")
    assert code == 2 and "已存在" in err


def test_folder_ingest_lists_skipped_files_without_failing(tmp_path, files, capsys):
    (files / "note.xyz").write_text("随手记")
    code, out, _ = run(capsys, "--home", tmp_path / "h", "ingest", files)
    assert code == 0
    row = next(line for line in out.splitlines() if "note.xyz" in line and "已跳过" in line)
    assert "不支持的文件类型" in row
    assert "共 3 个文件：成功 2，已跳过 1" in out
    code, out, _ = run(capsys, "--home", tmp_path / "h2", "ingest", files, "--json", "-q")
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(out)}
    assert code == 0
    assert rows["note.xyz"]["status"] == "skipped" and rows["note.xyz"]["document_id"] is None
    assert "不支持的文件类型（.xyz）" in rows["note.xyz"]["message"]
