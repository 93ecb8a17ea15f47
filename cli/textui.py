"""Terminal presentation for the CLI: a progress bar and tables that align Chinese text."""

from __future__ import annotations

import sys
import time
import unicodedata


def width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def clip(s: str, w: int) -> str:
    if width(s) <= w:
        return s
    out, used = [], 0
    for c in s:
        cw = 2 if unicodedata.east_asian_width(c) in "WF" else 1
        if used + cw > w - 1:
            break
        out.append(c)
        used += cw
    return "".join(out) + "…"


def pad(s: str, w: int, right: bool = False) -> str:
    s = clip(s, w)
    fill = " " * (w - width(s))
    return fill + s if right else s + fill


def table(headers: list[str], rows: list[list[str]], *, max_widths: dict[int, int] | None = None,
          right: set[int] = frozenset()) -> str:
    max_widths = max_widths or {}
    cols = len(headers)
    widths = [width(h) for h in headers]
    for r in rows:
        for i in range(cols):
            widths[i] = max(widths[i], width(str(r[i])))
    widths = [min(w, max_widths.get(i, w)) for i, w in enumerate(widths)]
    line = lambda cells: "  ".join(pad(str(c), widths[i], i in right)  # noqa: E731
                                   for i, c in enumerate(cells)).rstrip()
    out = [line(headers), "  ".join("─" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


class Progress:
    """A one-line bar on a terminal; one line per step when the output is a log file."""

    def __init__(self, total: int, label: str = "", stream=None, enabled: bool = True):
        self.total = max(total, 0)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self._last = 0.0

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        if self.tty:
            now = time.monotonic()
            if done < self.total and now - self._last < 0.05:
                return
            self._last = now
            frac = done / self.total if self.total else 1.0
            bar = "█" * int(frac * 24) + "░" * (24 - int(frac * 24))
            msg = f"\r{self.label} {bar} {done}/{self.total} {clip(note, 40)}"
            self.stream.write(msg + " " * max(0, 78 - width(msg)))
            if done >= self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"{self.label} [{done}/{self.total}] {note}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty and self.total == 0:
            self.stream.write("\n")
