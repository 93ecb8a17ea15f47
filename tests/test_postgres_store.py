"""Several nodes, one PostgreSQL database (issue 12, the store's half of point 3): two stores
on two connections publish at the same moment and both succeed; a node killed with SIGKILL in
the middle of a write leaves nothing half-stored; nodes starting at once migrate the schema
once; an original stored by one node is read by another with no shared disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from test_store import make_item

from library import db
from library.home import Home
from library.originals import sha256_bytes
from library.store import Store

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[1]


def node(tmp_path: Path, name: str, url: str) -> Store:
    """A store of one node: its own home folder, the shared database."""
    home = tmp_path / name
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.json").write_text(json.dumps({"database_url": url}), "utf-8")
    return Store(Home.open(home))


def at_once(*works):
    """Run the callables in threads released at the same moment; their results (or raise)."""
    gate = threading.Barrier(len(works))
    out: list = [None] * len(works)
    errors: list = []

    def run(i, work):
        try:
            gate.wait()
            out[i] = work()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(works)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return out


def test_two_nodes_publishing_at_the_same_moment_both_succeed(pg_url, tmp_path):
    a, b = node(tmp_path, "a", pg_url), node(tmp_path, "b", pg_url)
    try:
        shared = ("绿水青山就是金山银山", "在浙江安吉余村考察时", "2005-08-15")
        for n in range(6):
            # different documents citing the same new quote: one quote, two occurrences
            ra, rb = at_once(
                lambda n=n: a.store_file(
                    make_item(f"a{n}".encode(), f"甲讲义{n}", passages=["甲"], quotes=[shared])
                ),
                lambda n=n: b.store_file(
                    make_item(f"b{n}".encode(), f"乙讲义{n}", passages=["乙"], quotes=[shared])
                ),
            )
            assert ra.document_id != rb.document_id
        # one title published on two nodes at once: one document, versions 1 and 2
        ra, rb = at_once(
            lambda: a.store_file(make_item(b"t1", "同名讲义", passages=["第一稿"])),
            lambda: b.store_file(make_item(b"t2", "同名讲义", passages=["第二稿"])),
        )
        assert ra.document_id == rb.document_id
        assert sorted([ra.version_number, rb.version_number]) == [1, 2]
        # both nodes see everything, at once
        for st in (a, b):
            assert st.counts()["documents"] == 13 and st.counts()["quotes"] == 1
            assert st.integrity_problems() == []
        qid = a.quotes_by_keys([shared[0]])[shared[0]]["id"]
        assert len(b.get_quote(qid)["occurrences"]) == 12
        # accounts made on two nodes at once
        at_once(
            lambda: a.users.add("bianji-a", "password-a", actor="t"),
            lambda: b.users.add("bianji-b", "password-b", actor="t"),
        )
        assert [u["name"] for u in a.users.list()] == ["bianji-a", "bianji-b"]
    finally:
        a.close()
        b.close()


def test_the_same_file_on_two_nodes_at_the_same_moment_is_stored_once(pg_url, tmp_path):
    """Two editors upload one file on two nodes at once: one stores it, the other is told it
    is already there (before: a database error from the unique index on the file's hash),
    under the same title and under two different titles (two file names)."""
    from library.errors import DuplicateFileError

    a, b = node(tmp_path, "a", pg_url), node(tmp_path, "b", pg_url)
    try:
        for n, titles in enumerate((("同一讲义", "同一讲义"), ("讲义甲", "讲义乙"))):
            data = f"the same bytes {n}".encode()

            def store(st, title, data=data):
                try:
                    return st.store_file(make_item(data, title, passages=["同一份文件"]))
                except DuplicateFileError as e:
                    return e

            ta, tb = titles
            ra, rb = at_once(lambda ta=ta: store(a, ta), lambda tb=tb: store(b, tb))
            stored = [r for r in (ra, rb) if not isinstance(r, DuplicateFileError)]
            dups = [r for r in (ra, rb) if isinstance(r, DuplicateFileError)]
            assert len(stored) == 1 and len(dups) == 1, (ra, rb)
            assert dups[0].existing["document_id"] == stored[0].document_id
            assert "已有相同文件" in str(dups[0])
        assert a.counts()["documents"] == 2 and a.integrity_problems() == []
    finally:
        a.close()
        b.close()


def test_an_original_stored_on_one_node_is_read_on_another(pg_url, tmp_path):
    a, b = node(tmp_path, "a", pg_url), node(tmp_path, "b", pg_url)
    try:
        r = a.store_file(make_item(b"%PDF- the original", "原件讲义", passages=["一段"]))
        sha = sha256_bytes(b"%PDF- the original")
        assert not (tmp_path / "a" / "originals").exists()  # no files: the database has it
        assert b.originals.read(sha) == b"%PDF- the original"
        assert b.originals.verify(sha) and b.referenced_originals() == b.originals.all()
        path = b.originals.local_path(sha)  # what a download sends
        assert path.read_bytes() == b"%PDF- the original"
        b.set_status(r.document_id, "trashed", actor="t")
        b.purge(r.document_id, actor="t")
        assert not a.originals.has(sha) and a.originals.all() == set()
        assert a.tombstone(f"document:{r.document_id}")["title"] == "原件讲义"
    finally:
        a.close()
        b.close()


OPEN = """
import json, sys
from pathlib import Path
from library.home import Home
from library.store import Store
home = Path(sys.argv[1]); home.mkdir(parents=True, exist_ok=True)
(home / "settings.json").write_text(json.dumps({"database_url": sys.argv[2]}))
Store(Home.open(home)).close()
"""


def test_nodes_starting_at_once_migrate_the_database_once(pg_url, tmp_path):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN, str(tmp_path / f"n{i}"), pg_url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    engine = db.connect_url(pg_url)
    try:
        assert db.stored_revision(engine) == db.HEAD_REVISION
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()


WRITER = """
import json, sys
sys.path.insert(0, "tests")
from pathlib import Path
from library.home import Home
from library.store import Store
from test_store import make_item
home = Path(sys.argv[1]); home.mkdir(parents=True, exist_ok=True)
(home / "settings.json").write_text(json.dumps({"database_url": sys.argv[2]}))
store = Store(Home.open(home))
print("ready", flush=True)
n = 0
while True:
    passages = [f"第{n}份材料的第{i}段，内容足够长，写入需要一点时间。" * 4 for i in range(400)]
    quotes = [(f"第{n}份材料的第{i}条金句内容", None, None) for i in range(40)]
    store.store_file(make_item(f"doc-{n}".encode(), f"材料{n}", passages=passages, quotes=quotes))
    n += 1
"""


@pytest.mark.parametrize("delay", [0.5, 1.3, 2.2])
def test_a_node_killed_in_the_middle_of_a_write_leaves_nothing_half_stored(pg_url, tmp_path, delay):
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path / "killed"), pg_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(delay)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    st = node(tmp_path, "survivor", pg_url)
    try:
        assert st.integrity_problems() == []
        docs = st.list_documents()
        ingests = [r for r in st.audit_log(10_000) if r["action"] == "ingest"]
        # each document with everything it had, or not there at all
        assert len(docs) == len(ingests)
        for d in docs:
            full = st.get_document(d["id"])
            assert len(full["passages"]) == 400 and len(full["quotes"]) == 40
        assert st.referenced_originals() <= st.originals.all()
        # the survivor goes on writing where the killed node stopped
        r = st.store_file(make_item(b"after", "之后的材料", passages=["一段"]))
        assert r.document_id > max((d["id"] for d in docs), default=0)
    finally:
        st.close()
