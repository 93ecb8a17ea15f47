"""A new user's first hour with the command line: no traceback for any action, Chinese help and
usage errors, citations in the house style, suggestions and corrections that read as sentences,
the kinds of material, output piped into `head`, Ctrl+C, and `make run` (port, second start)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import HANDOUT, QUOTES, make_docx

from cli.main import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]
ARGPARSE_ENGLISH = [
    "usage:",
    "error:",
    "the following arguments are required",
    "invalid choice",
    "show this help message and exit",
    "positional arguments",
    "options:",
    "invalid int value",
    "unrecognized arguments",
    "expected one argument",
]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in argv])
    assert e.value.code == 2
    out, err = capsys.readouterr()
    return out + err


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("firstrun")
    make_docx(tmp / "files" / "金句汇编.docx", QUOTES)
    make_docx(tmp / "files" / "乡村振兴讲义.docx", HANDOUT)
    assert main(["--home", str(tmp / "home"), "ingest", str(tmp / "files"), "-q", "--json"]) == 0
    return tmp / "home"


# -- search: dead ends, citations, corrections, kinds ------------------------------------------


def test_a_typo_gets_suggestions_not_a_traceback(home, capsys):
    code, out, err = run(capsys, "--home", home, "search", "依法治过")
    assert code == 0, err
    assert "Traceback" not in err and "TypeError" not in err
    # 依法治国 is not in this library: no suggestion that leads nowhere, but what to try
    assert "依法治国" not in out and "没有找到结果" in out and "换个说法" in out
    assert "{" not in out and "'kind'" not in out  # suggestions read as words, not dicts


def test_search_and_show_print_the_house_style_citation(home, capsys):
    cite = "——习近平在浙江安吉余村考察时的讲话（2005年8月15日）"
    code, out, _ = run(capsys, "--home", home, "search", "金山银山")
    assert code == 0
    lines = out.splitlines()
    i = next(n for n, line in enumerate(lines) if "绿水青山就是金山银山" in line)
    assert lines[i + 1].strip() == cite  # right under the quote
    code, out, _ = run(capsys, "--home", home, "search", "金山银山", "--json")
    assert json.loads(out)["hits"][0]["citation"] == cite.removeprefix("——")
    code, out, _ = run(capsys, "--home", home, "list", "--json")
    doc = next(d for d in json.loads(out)["documents"] if d["kind"] == "quotes")
    code, out, _ = run(capsys, "--home", home, "show", doc["id"])
    assert code == 0 and cite in out
    assert "2005-08-15" not in out


def _fake_search(monkeypatch, result: dict, seen: dict | None = None):
    from indexer.app.service import LibraryService

    def search(self, query, **kw):
        if seen is not None:
            seen.update(kw, query=query)
        return result

    monkeypatch.setattr(LibraryService, "search", search)


def test_a_corrected_query_says_what_it_shows_and_how_to_search_the_original(
    tmp_path, capsys, monkeypatch
):
    _fake_search(
        monkeypatch,
        {
            "query": "绿水清山",
            "total": 1,
            "page": 1,
            "pages": 1,
            "corrected": {"from": "绿水清山", "to": "绿水青山"},
            "hits": [
                {
                    "kind": "quote",
                    "id": 1,
                    "text": "绿水青山就是金山银山。",
                    "source": "在浙江安吉余村考察时的讲话",
                    "speaker": "习近平",
                    "date": "2005-08-15",
                    "citation": "习近平在浙江安吉余村考察时的讲话（2005年8月15日）",
                    "document": {"id": 1, "title": "金句汇编"},
                    "page": None,
                    "heading": "",
                }
            ],
        },
    )
    code, out, err = run(capsys, "--home", tmp_path / "h", "search", "绿水清山")
    assert code == 0, err
    first = out.splitlines()[0]
    assert first.startswith("已显示“绿水青山”的结果") and "绿水清山" in first and '"' in first
    assert "——习近平在浙江安吉余村考察时的讲话（2005年8月15日）" in out


def test_no_result_without_suggestions_still_says_what_to_do(tmp_path, capsys, monkeypatch):
    _fake_search(
        monkeypatch,
        {
            "query": "x",
            "total": 0,
            "page": 1,
            "pages": 1,
            "hits": [],
            "suggestions": [
                {"kind": "query", "query": "乡村振兴", "total": 7},
                {"kind": "term", "query": "乡村"},
            ],
        },
    )
    code, out, _ = run(capsys, "--home", tmp_path / "h", "search", "乡村振新")
    assert code == 0 and "没有找到结果。试试：乡村振兴（7 条）、乡村" in out


def test_a_page_past_the_end_says_so(home, capsys):
    code, out, _ = run(capsys, "--home", home, "search", "金山银山", "--page", 50)
    assert code == 0 and "第 50 页已超出结果范围" in out


@pytest.mark.parametrize(
    "kind",
    [
        "quotes",
        "金句汇编",
        "handout",
        "讲义",
        "script",
        "讲稿",
        "case",
        "案例",
        "热点问答",
        "quote",
        "passage",
        "qa",
    ],
)
def test_search_kind_accepts_material_kinds_and_record_kinds(tmp_path, capsys, monkeypatch, kind):
    seen: dict = {}
    _fake_search(
        monkeypatch, {"query": "乡村", "total": 0, "page": 1, "pages": 1, "hits": []}, seen
    )
    code, _, err = run(capsys, "--home", tmp_path / "h", "search", "乡村", "--kind", kind)
    assert code == 0, err
    assert seen["kind"] == kind  # passed through to the engine as typed


# -- help and usage errors in Chinese -------------------------------------------------------


def test_help_is_chinese_for_every_command(capsys):
    with pytest.raises(SystemExit) as e:
        main(["-h"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：lecturelib") and "显示本帮助并退出" in out and "命令" in out
    commands = build_parser()._subparsers._group_actions[0].choices
    for name in commands:
        with pytest.raises(SystemExit):
            main([name, "-h"])
        out = capsys.readouterr().out
        assert out.startswith(f"用法：lecturelib {name}"), out
        for english in ARGPARSE_ENGLISH:
            assert english not in out, (name, english)


@pytest.mark.parametrize(
    "argv, says",
    [
        ([], "请给出要执行的命令"),
        (["serach", "x"], "没有“serach”这个命令"),
        (["search"], "缺少必需的参数：QUERY"),
        (["ingest"], "缺少必需的参数：PATH"),
        (["list", "--kind", "书"], "无效的取值“书”"),
        (["show", "abc"], "“abc”不是整数"),
        (["search", "x", "--limit", "0"], "“0”超出范围"),
        (["search", "x", "--page", "-1"], "超出范围"),
        (["search", "x", "--bogus"], "无法识别的参数：--bogus"),
        (["export", "--topic"], "需要给出一个值"),
    ],
)
def test_usage_errors_are_chinese_and_exit_2(capsys, argv, says):
    text = usage_error(capsys, *argv)
    assert "用法：lecturelib" in text and "错误：" in text and says in text, text
    assert "-h 查看帮助" in text
    for english in ARGPARSE_ENGLISH:
        assert english not in text, english


def test_chinese_kind_names_work_where_kinds_are_fixed(home, capsys):
    code, out, _ = run(capsys, "--home", home, "list", "--kind", "讲义", "--json")
    assert code == 0
    assert [d["kind"] for d in json.loads(out)["documents"]] == ["handout"]


# -- no traceback: bad ids, unwritable outputs, internal errors, pipes, Ctrl+C -----------------


def test_bad_ids_and_unwritable_outputs_end_in_chinese_messages(home, tmp_path, capsys):
    code, _, err = run(capsys, "--home", home, "show", 424242)
    assert code == 1 and "找不到" in err
    text = usage_error(capsys, "--home", home, "show", 10**30)
    assert "超出范围" in text
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = run(capsys, "--home", home, "backup", "-o", blocker / "b.zip")
    assert code == 1 and f"无法写入 {blocker / 'b.zip'}" in err and "Traceback" not in err
    code, _, err = run(
        capsys, "--home", home, "export", "--topic", "乡村振兴", "-o", blocker / "p.zip"
    )
    assert code == 1 and "无法写入" in err


def test_dictionary_and_synonym_changes_say_what_really_changed(tmp_path, capsys):
    h = tmp_path / "h"
    code, out, _ = run(capsys, "--home", h, "dict", "remove", "没有这个词")
    assert code == 0 and "未改动" in out and "已删除" not in out
    code, out, _ = run(capsys, "--home", h, "dict", "add", "宣讲测试新词")
    assert code == 0 and "已添加 1 个词（宣讲测试新词）" in out
    code, out, _ = run(capsys, "--home", h, "dict", "add", "宣讲测试新词")
    assert "已在词典中" in out
    code, out, _ = run(capsys, "--home", h, "synonyms", "remove", "没有这个词")
    assert code == 0 and "不在任何同义词组中" in out


def test_an_internal_error_is_a_chinese_message_with_exit_1(tmp_path, capsys, monkeypatch):
    from indexer.app.service import LibraryService

    def broken(self, query, **kw):
        raise TypeError("sequence item 0: expected str instance, dict found")

    monkeypatch.setattr(LibraryService, "search", broken)
    code, _, err = run(capsys, "--home", tmp_path / "h", "search", "x")
    assert code == 1 and "内部错误" in err and "反馈" in err


def test_output_piped_into_head_ends_quietly(home):
    proc = subprocess.Popen(
        [*CLI, "--home", str(home), "search", "乡村振兴", "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # `| head -0`: the reader is gone before we write
    err = proc.stderr.read().decode("utf-8")
    code = proc.wait(timeout=120)
    assert (
        "Traceback" not in err and "BrokenPipeError" not in err and "Exception ignored" not in err
    )
    assert code == 141  # 128 + SIGPIPE, what a shell reports for `head`


SLOW_INGEST = """
import sys, time
import indexer.ingest.pipeline as pipeline
def slow(path, opts, taxonomy):
    time.sleep(120)
pipeline._prepare_path = slow
from cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _descendants(pid: int) -> set[int]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, todo = set(), [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("sig, exit_code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_during_ingest_stops_at_once_without_a_traceback(
    tmp_path, sig, exit_code
):
    for i in range(3):
        make_docx(tmp_path / "files" / f"讲义{i}.docx", HANDOUT + [("p", f"第{i}份。")])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SLOW_INGEST,
            "--home",
            str(tmp_path / "home"),
            "ingest",
            str(tmp_path / "files"),
            "-q",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(workers) < 2:
            workers |= _descendants(proc.pid)
            time.sleep(0.1)
        assert workers, "the ingest should have started worker processes"
        time.sleep(0.5)
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)  # what the terminal does on Ctrl+C
        else:
            proc.send_signal(sig)  # `kill PID`
        out, err = proc.communicate(timeout=30)  # at once, not after the files' 120 s
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        for p in workers:
            if _running(p):
                os.kill(p, signal.SIGKILL)
    assert proc.returncode == exit_code
    assert "已中断" in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    time.sleep(0.5)
    assert not [p for p in workers if _running(p)]


# -- make run: the port, and a second start without re-ingesting -------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make_run(home: Path, corpus: Path, port: int) -> tuple[str, bool]:
    """`make run` until the server answers; returns make's output so far and whether the
    server answered on the port asked for."""
    venv = Path(sys.prefix)
    proc = subprocess.Popen(
        [
            "make",
            "-C",
            str(ROOT),
            "-o",
            f"{venv}/.installed",
            f"VENV={venv}",
            f"HOME_DIR={home}",
            f"CORPUS={corpus}",
            f"PORT={port}",
            "run",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    answered = False
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "宣讲素材库已启动" in line:
                with socket.create_connection(("127.0.0.1", port), timeout=5):
                    answered = True
                break
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return "".join(lines), answered


@pytest.mark.skipif(
    not Path(sys.prefix, "bin", "lecturelib").exists(),
    reason="needs the lecturelib entry point in the virtualenv",
)
def test_make_run_chooses_the_port_and_starts_again_without_reingesting(tmp_path):
    corpus = tmp_path / "corpus"
    make_docx(corpus / "金句汇编.docx", QUOTES)
    (corpus / "说明.xyz").write_text("not a document")
    # a file that cannot be read is reported, and the rest of the library is served anyway
    (corpus / "损坏的讲义.docx").write_bytes(b"this is not a docx at all")
    home = tmp_path / "instance"
    port = _free_port()
    first, answered = _make_run(home, corpus, port)
    assert answered, first
    assert "ingest" in first and "成功" in first and f":{port}/" in first
    assert "损坏的讲义.docx" in first and "失败" in first
    port = _free_port()
    second, answered = _make_run(home, corpus, port)
    assert answered, second
    assert "ingest" not in second and "重复" not in second and f":{port}/" in second
