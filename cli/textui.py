"""Terminal presentation for the CLI: aligned tables and a progress bar, drawn by rich.

Not on a terminal (a pipe, a log file, tests capturing the output) everything stays plain
text: no ANSI codes, a table is one line per row at its natural width (never squeezed to 80
columns), and progress is one ``label [done/total] note`` line per step.

rich is imported on first use: it costs about 40 ms (tables) to 90 ms (progress) of start-up,
which ``lecturelib --help`` and ``lecturelib search`` do not pay.
"""

from __future__ import annotations

import atexit
import io
import sys


def _console(file, terminal: bool, width: int | None = None):
    from rich.console import Console

    return Console(
        file=file,
        force_terminal=terminal,
        no_color=not terminal,
        color_system="auto" if terminal else None,
        width=width,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=False,
    )


def table(
    headers: list[str],
    rows: list[list[str]],
    *,
    max_widths: dict[int, int] | None = None,
    right: set[int] = frozenset(),
) -> str:
    """Columns two spaces apart under a ruled header line, CJK characters counted two cells
    wide; a cell wider than ``max_widths[column]`` ends in "…"; columns in ``right`` are
    aligned right. Bold header on a terminal, plain text otherwise."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    max_widths = max_widths or {}
    t = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        header_style="bold",
        collapse_padding=True,
    )
    for i, h in enumerate(headers):
        t.add_column(
            Text(h),
            justify="right" if i in right else "left",
            no_wrap=True,
            overflow="ellipsis",
            max_width=max_widths.get(i),
        )
    for r in rows:
        t.add_row(*(Text(str(c)) for c in r))
    terminal = sys.stdout.isatty()
    out = io.StringIO()
    # off a terminal: wide enough that no column is squeezed (the text goes to a file)
    _console(out, terminal, None if terminal else 100_000).print(t)
    return "\n".join(line.rstrip() for line in out.getvalue().rstrip("\n").split("\n"))


class Progress:
    """A live bar (rich) on a terminal; one line per step when the output is a log file."""

    def __init__(self, total: int, label: str = "", stream=None, enabled: bool = True):
        self.total = max(total, 0)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._bar = self._task = None

    def _start(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        self._bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}"),
            console=_console(self.stream, True),
            transient=False,
        )
        self._task = self._bar.add_task(self.label, total=self.total or None, note="")
        self._bar.start()
        atexit.register(self.close)  # an interrupted run gets its cursor back

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        if not self.tty:
            self.stream.write(f"{self.label} [{done}/{self.total}] {note}\n")
            self.stream.flush()
            return
        if self._bar is None:
            self._start()
        self._bar.update(self._task, completed=done, note=note)
        if done >= self.total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            atexit.unregister(self.close)
