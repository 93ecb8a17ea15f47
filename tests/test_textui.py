"""The CLI's tables and progress bar (cli.textui, drawn by rich): Chinese columns line up,
long cells end in "…", nothing but plain lines off a terminal, a live bar on one."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

from cli.textui import Progress, table

ROOT = Path(__file__).resolve().parents[1]


def cells(s: str) -> int:
    """Terminal columns of ``s``: CJK (wide and fullwidth) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def column_starts(line: str, texts: list[str]) -> list[int]:
    return [cells(line[: line.index(t)]) for t in texts]


def test_chinese_and_latin_columns_line_up():
    rows = [
        ["成功", "生态 金句.docx", "3"],
        ["已跳过", "note.xyz", "12"],
        ["有提示", "乡村振兴专题讲义（第二版）.pdf", "145"],
    ]
    out = table(["状态", "文件", "金句"], rows, right={2})
    lines = out.splitlines()
    assert len(lines) == 2 + len(rows)  # header, rule, one line per row
    assert set(lines[1].strip()) == {"─"}
    starts = {tuple(column_starts(line, [r[1]])) for line, r in zip(lines[2:], rows)}
    assert starts == {tuple(column_starts(lines[0], ["文件"]))}
    # the right-aligned column ends at the same place on every line
    assert len({cells(line) for line in [lines[0], *lines[2:]]}) == 1


def test_long_cells_are_cut_with_an_ellipsis_at_their_column_width():
    name = "一个非常非常长的文件名用来测试截断效果的情况.docx"
    out = table(["文件", "说明"], [[name, "完"]], max_widths={0: 20})
    row = out.splitlines()[2]
    assert name not in out and "…" in row and row.startswith("一个非常")
    assert cells(row[: row.index("完")]) <= 20 + 2


def test_text_is_printed_as_it_is_never_as_markup_or_escapes():
    out = table(["文件"], [["[bold]报告[/bold].docx"], ["C:\\材料\\[草稿].doc"]])
    assert "[bold]报告[/bold].docx" in out and "C:\\材料\\[草稿].doc" in out
    assert "\x1b" not in out  # stdout is not a terminal here


def test_a_wide_table_is_not_squeezed_into_80_columns_off_a_terminal():
    rows = [["文件" * 30, "说明" * 30]]
    out = table(["文件", "说明"], rows)
    assert "文件" * 30 in out and "说明" * 30 in out and "…" not in out


def test_progress_off_a_terminal_is_one_plain_line_per_step(tmp_path):
    with open(tmp_path / "log.txt", "w", encoding="utf-8") as log:
        bar = Progress(2, "导入", stream=log)
        bar.update(1, "成功 a.docx")
        bar.update(2, "成功 b.docx")
        bar.close()
    assert (tmp_path / "log.txt").read_text(encoding="utf-8").splitlines() == [
        "导入 [1/2] 成功 a.docx",
        "导入 [2/2] 成功 b.docx",
    ]


def test_quiet_progress_writes_nothing(tmp_path):
    with open(tmp_path / "log.txt", "w", encoding="utf-8") as log:
        bar = Progress(2, "导入", stream=log, enabled=False)
        bar.update(1, "成功 a.docx")
        bar.update(2)
    assert (tmp_path / "log.txt").read_text(encoding="utf-8") == ""


def _read_all(fd: int) -> bytes:
    """Everything written to a pty so far (one read may return only the first chunk)."""
    import select

    out = b""
    while select.select([fd], [], [], 0.5)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        out += chunk
    return out


def test_progress_on_a_terminal_is_a_live_bar_that_ends_on_its_own_line():
    master, slave = os.openpty()
    try:
        with open(slave, "w", encoding="utf-8", closefd=True) as tty:
            bar = Progress(3, "重建索引", stream=tty)
            for done in (1, 2, 3):
                bar.update(done, f"第{done}份")
            tty.flush()
            shown = _read_all(master).decode("utf-8", "replace")
    finally:
        os.close(master)
    assert "重建索引" in shown and "3/3" in shown and "第3份" in shown
    assert "[1/3]" not in shown  # not the log-file lines
    assert "\n" in shown and "\x1b[?25h" in shown  # own line, the cursor shown again


def test_the_cli_starts_without_loading_rich():
    """rich is imported when a table or bar is drawn, not by ``lecturelib --help``/search."""
    code = "import sys, cli.main; print('rich' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
