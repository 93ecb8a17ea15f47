"""A short, deterministic slice of bench/crash_kill.py: ingest and reindex killed with SIGKILL
at fixed moments leave a library that opens, holds no half-stored document, and agrees with its
index after `check --repair` (usually without it: the outbox catches up on next use)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from builders import HANDOUT_DOC, QUOTES_DOC, make_docx

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("crash_kill", ROOT / "bench" / "crash_kill.py")
crash = importlib.util.module_from_spec(spec)
spec.loader.exec_module(crash)

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")


@pytest.fixture
def batch(tmp_path):
    d = tmp_path / "in"
    for i in range(6):
        make_docx(
            d / f"讲义{i}.docx",
            HANDOUT_DOC + [("p", f"第{i}份材料独有的内容。" * 8)],
            title=f"讲义{i}",
        )
        make_docx(
            d / f"金句{i}.docx", QUOTES_DOC + [("p", f"编号{i}的补充说明。")], title=f"金句汇编{i}"
        )
    return d


@pytest.mark.parametrize("delay", [0.8, 1.6, 2.4, 3.5])
def test_killed_ingest_leaves_a_consistent_library(tmp_path, batch, delay):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    home = tmp_path / "home"
    crash.kill_after(home, ["ingest", str(batch)], delay, env)
    if (home / "library.sqlite3").exists():  # else: killed before anything was written
        clean, repaired, half = crash.verdict(home)
        assert half == []
        assert repaired
    # and the ingest can simply be run again to finish the batch
    crash.run_cli(home, ["ingest", str(batch)], env)
    from indexer.app.service import LibraryService

    svc = LibraryService(home)
    try:
        assert svc.store.counts()["documents"] == 12
        assert svc.check() == []
    finally:
        svc.close()


def test_killed_reindex_keeps_the_old_index_usable(tmp_path, batch):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    home = tmp_path / "home"
    crash.run_cli(home, ["ingest", str(batch)], env)
    crash.kill_after(home, ["reindex"], 1.5, env)
    clean, repaired, half = crash.verdict(home)
    assert clean and repaired and half == []
