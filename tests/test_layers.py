"""The layers hold: delivery (web/, cli/) goes through the application service's methods, never
around it, and the import contracts in pyproject.toml are kept.

Import-linter sees imports only; ``lib.svc.store.counts()`` imports nothing and still walks past
the door, so the delivery code is also read with ``ast`` for the service's internals."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DELIVERY = ("web", "cli")
# the service's internals: its store, search index and vocabulary
INTERNALS = {"store", "index", "vocab"}


def _names(node: ast.AST) -> str:
    """``lib.svc`` for ``lib.svc``, ``svc`` for ``svc``, "" for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def door_violations(source: str, filename: str = "<source>") -> list[str]:
    """Where ``source`` reaches past the service: ``.store``, ``.index`` or ``.vocab`` of
    anything (delivery code has no other object with such attributes), the same through
    ``getattr``, or a private attribute of the service (``svc._lock``)."""
    out = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Attribute):
            attr = node.attr
            if attr in INTERNALS or (
                attr.startswith("_") and not attr.startswith("__") and _names(node.value) == "svc"
            ):
                out.append((node.lineno, f"{filename}:{node.lineno}: .{attr}"))
        elif (
            isinstance(node, ast.Call)
            and _names(node.func) == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in INTERNALS
        ):
            out.append(
                (node.lineno, f"{filename}:{node.lineno}: getattr(…, {node.args[1].value!r})")
            )
    return [text for _, text in sorted(out)]


def test_the_checker_sees_the_ways_around_the_door():
    src = (
        "def view(lib, svc):\n"
        "    lib.svc.store.counts()\n"
        "    svc.index.search('x')\n"
        "    getattr(svc, 'vocab').terms\n"
        "    svc._write_lock.acquire()\n"
        "    return svc.counts(), [1].count(1), svc.__class__\n"
    )
    found = door_violations(src)
    assert [f.split(": ")[1] for f in found] == [
        ".store",
        ".index",
        "getattr(…, 'vocab')",
        "._write_lock",
    ]


def test_delivery_calls_the_service_only():
    found = []
    for package in DELIVERY:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            found += door_violations(path.read_text(encoding="utf-8"), rel)
    assert not found, (
        "web/ and cli/ reach past the application service (add a "
        "LibraryService method instead):\n" + "\n".join(found)
    )


def _lint_imports() -> str | None:
    exe = Path(sys.executable).with_name("lint-imports")
    return str(exe) if exe.exists() else shutil.which("lint-imports")


def test_import_contracts_are_kept():
    exe = _lint_imports()
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = [c["name"] for c in config["tool"]["importlinter"]["contracts"]]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
        COLUMNS="500",
    )
    run = subprocess.run(
        [exe, "--no-cache", "--no-logo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = " ".join(run.stdout.split())  # long names wrap over lines
    broken = []
    for name in contracts:
        m = re.search(re.escape(" ".join(name.split())) + r" (KEPT|BROKEN)", report)
        assert m, f"lint-imports did not report on “{name}”:\n{run.stdout}{run.stderr}"
        if m[1] == "BROKEN":
            broken.append(name)
    assert not broken, f"import contracts broken: {broken}\n{run.stdout}"
