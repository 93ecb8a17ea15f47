"""Recordings (视频/音频) in backup, restore, ``check`` and ``migrate``, in both modes (issue
13): the embedded library keeps a recording among its originals on disk, PostgreSQL in
``media_chunks`` (4 MB rows; smaller here, so that a tiny test file has several). A backup of
either mode restores into either mode, a damaged or missing recording is reported by its
title, orphan chunks are removed by ``check --repair``, nothing reads a whole recording into
memory."""

from __future__ import annotations

import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from builders import HANDOUT_DOC, make_docx
from mediakit import SRT, make_audio, make_video, needs_ffmpeg
from stores import database, home_on  # noqa: F401

from cli.main import main
from indexer.app.service import LibraryService
from library.backup import backup
from library.errors import UsageError
from library.store import mediafiles

pytestmark = needs_ffmpeg
CHUNK = 16 * 1024
TITLE = "乡村振兴宣讲"


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(mediafiles, "DB_CHUNK", CHUNK)


@pytest.fixture
def pg_urls(pg_cluster):
    """Fresh PostgreSQL databases on demand, dropped after the test."""
    made: list[str] = []

    def make() -> str:
        made.append(pg_cluster.create_database())
        return made[-1]

    yield make
    for url in made:
        pg_cluster.drop_database(url)


def make_home(request, path: Path, mode: str) -> Path:
    if mode == "postgres":
        path.mkdir(parents=True, exist_ok=True)
        url = request.getfixturevalue("pg_urls")()
        (path / "settings.json").write_text(json.dumps({"database_url": url}), "utf-8")
        return path
    return home_on(request, path, "sqlite")


def material(tmp_path: Path) -> tuple[Path, Path]:
    """A folder with a video, its subtitles and a handout; returns (folder, video)."""
    folder = tmp_path / "in"
    video = make_video(folder / f"{TITLE}.mp4")
    (folder / f"{TITLE}.srt").write_text(SRT, encoding="utf-8")
    make_docx(folder / "h.docx", HANDOUT_DOC)
    return folder, video


@pytest.fixture
def library(request, tmp_path, database):  # noqa: F811
    """A library on ``database`` with a video (poster, transcript) and a handout."""
    folder, video = material(tmp_path)
    svc = LibraryService(make_home(request, tmp_path / "home", database))
    results = svc.ingest([folder])
    assert all(r.status == "ok" for r in results), [r.message for r in results]
    [rec] = [r for r in results if r.kind == "media"]
    yield svc, video, rec.document_id
    svc.close()


def media_sha(svc, doc_id) -> str:
    return svc.media(doc_id)["version"]["sha256"]


def plays(svc, doc_id, video: Path) -> bool:
    path, mime = svc.media_file(doc_id)
    return mime == "video/mp4" and path.read_bytes() == video.read_bytes()


def where_kept(svc, sha) -> tuple[int, bool]:
    """(chunk rows in media_chunks, whether the originals table/folder has the file)."""
    if svc.store.db.postgres:
        chunks = svc.store.db.scalar("SELECT COUNT(*) FROM media_chunks WHERE sha256 = :s", s=sha)
        row = svc.store.db.one("SELECT 1 AS x FROM originals WHERE sha256 = :s", s=sha)
        return chunks, row is not None
    return 0, svc.store.originals.path_for(sha).is_file()


# -- check ------------------------------------------------------------------------------------


def test_check_passes_with_a_recording_in_both_modes(library):
    svc, video, doc_id = library
    assert svc.check() == []
    chunks, in_originals = where_kept(svc, media_sha(svc, doc_id))
    if svc.store.db.postgres:
        assert chunks == -(-video.stat().st_size // CHUNK) > 1 and not in_originals
    else:
        assert in_originals


def test_check_names_a_damaged_recording_by_its_title(library, capsys):
    svc, video, doc_id = library
    sha = media_sha(svc, doc_id)
    if svc.store.db.postgres:  # one chunk of the database changed (same length)
        svc.store.db.execute(
            "UPDATE media_chunks SET data = :d WHERE sha256 = :s AND seq = 1",
            {"d": b"\0" * CHUNK, "s": sha},
        )
    else:
        path = svc.store.originals.path_for(sha)
        data = bytearray(path.read_bytes())
        data[CHUNK + 10] ^= 0xFF
        path.write_bytes(bytes(data))
    problems = svc.check()
    [p] = problems
    assert f"《{TITLE}》" in p and "损坏" in p and "备份" in p and "重新导入" in p
    # --repair cannot make the recording right: it says so again and removes nothing
    assert main(["--home", str(svc.home.path), "check", "--repair"]) == 1
    out = capsys.readouterr().out
    assert f"《{TITLE}》" in out and "修复后仍有问题" in out
    assert svc.store.media_files.has(sha)


def test_check_names_a_missing_recording_by_its_title(library):
    svc, video, doc_id = library
    sha = media_sha(svc, doc_id)
    if svc.store.db.postgres:
        svc.store.db.execute("DELETE FROM media_chunks WHERE sha256 = :s", {"s": sha})
    svc.store.originals.path_for(sha).unlink(missing_ok=True)  # (PostgreSQL: the node's copy)
    [p] = svc.check()
    assert f"《{TITLE}》" in p and "缺失" in p and sha[:12] not in p.split("《")[0]


def test_ingesting_the_same_file_again_puts_a_missing_recording_back(library, tmp_path):
    """The library knows the recording but lost its file: ingesting that very file (it was
    refused as a duplicate) puts it back, and check passes."""
    svc, video, doc_id = library
    sha = media_sha(svc, doc_id)
    if svc.store.db.postgres:
        svc.store.db.execute("DELETE FROM media_chunks WHERE sha256 = :s", {"s": sha})
    svc.store.originals.path_for(sha).unlink(missing_ok=True)
    assert svc.check() != []
    [r] = svc.ingest([video])
    assert r.status == "ok" and r.document_id == doc_id and "补回" in r.message
    assert svc.check() == [] and plays(svc, doc_id, video)
    [again] = svc.ingest([video])  # now it is an ordinary duplicate
    assert again.status == "duplicate"


def test_repair_removes_media_no_version_refers_to(library, tmp_path):
    svc, video, doc_id = library
    stray = make_audio(tmp_path / "stray.wav", seconds=1)  # an interrupted import's leftover
    sha = svc.store.media_files.put_file(stray)
    assert svc.store.media_files.has(sha)
    problems = svc.check()
    assert len(problems) == 1 and "不属于任何材料" in problems[0]
    svc.check(repair=True)
    assert svc.check() == []
    assert not svc.store.media_files.has(sha) and plays(svc, doc_id, video)


@pytest.mark.postgres
def test_a_node_copy_repairs_the_chunks_and_a_bad_copy_is_removed(request, tmp_path):
    """PostgreSQL: a node serves a recording from its own copy. A damaged chunk is written
    again from a copy that hashes right; a damaged copy is removed and made again."""
    folder, video = material(tmp_path)
    svc = LibraryService(make_home(request, tmp_path / "home", "postgres"))
    try:
        [rec] = [r for r in svc.ingest([folder]) if r.kind == "media"]
        sha = media_sha(svc, rec.document_id)
        # chunks are stored as they are: a recording is compressed already (revision 0008)
        assert (
            svc.store.db.scalar(
                "SELECT attstorage FROM pg_attribute "
                "WHERE attrelid = 'media_chunks'::regclass AND attname = 'data'"
            )
            == "e"
        )
        copy, _ = svc.media_file(rec.document_id)  # this node's copy
        svc.store.db.execute(
            "UPDATE media_chunks SET data = :d WHERE sha256 = :s AND seq = 0",
            {"d": b"x", "s": sha},
        )
        [p] = svc.check()
        assert f"《{TITLE}》" in p and "损坏" in p
        svc.check(repair=True)
        assert svc.check() == [] and svc.store.media_files.verify(sha)

        copy.write_bytes(b"\0" * 100)  # a bad copy on this node
        [p] = svc.check()
        assert f"《{TITLE}》" in p and "缓存副本" in p
        svc.check(repair=True)
        assert svc.check() == [] and plays(svc, rec.document_id, video)
    finally:
        svc.close()


# -- backup and restore -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "source,target",
    [
        ("sqlite", "sqlite"),
        pytest.param("sqlite", "postgres", marks=pytest.mark.postgres),
        pytest.param("postgres", "sqlite", marks=pytest.mark.postgres),
        pytest.param("postgres", "postgres", marks=pytest.mark.postgres),
    ],
)
def test_a_backup_of_either_mode_restores_the_recording_into_either_mode(
    request, tmp_path, capsys, source, target
):
    folder, video = material(tmp_path)
    home = make_home(request, tmp_path / "home", source)
    svc = LibraryService(home)
    try:
        [rec] = [r for r in svc.ingest([folder]) if r.kind == "media"]
        sha = media_sha(svc, rec.document_id)
        poster = svc.media_poster(rec.document_id).read_bytes()
    finally:
        svc.close()
    assert main(["--home", str(home), "backup", "-o", str(tmp_path / "b.zip")]) == 0
    out = capsys.readouterr().out
    assert "1 段录像/录音" in out
    with zipfile.ZipFile(tmp_path / "b.zip") as z:
        assert z.getinfo(f"originals/{sha[:2]}/{sha}").file_size == video.stat().st_size
        manifest = json.loads(z.read("manifest.json"))
    assert manifest["media"] == 1 and manifest["media_bytes"] == video.stat().st_size

    new = make_home(request, tmp_path / "new", target)
    assert main(["--home", str(new), "restore", str(tmp_path / "b.zip")]) == 0
    out = capsys.readouterr().out
    assert "1 段录像/录音" in out
    other = LibraryService(new)
    try:
        assert other.check() == []
        assert plays(other, rec.document_id, video)
        assert other.media_poster(rec.document_id).read_bytes() == poster
        assert any(h["kind"] == "passage" for h in other.search("实在话")["hits"])
        chunks, in_originals = where_kept(other, sha)
        if target == "postgres":
            assert chunks == -(-video.stat().st_size // CHUNK) and not in_originals
        else:
            assert in_originals
    finally:
        other.close()


def test_a_backup_without_media_says_what_is_missing(library, tmp_path, capsys):
    svc, video, doc_id = library
    sha = media_sha(svc, doc_id)
    home = str(svc.home.path)
    assert main(["--home", home, "backup", "--no-media", "-o", str(tmp_path / "b.zip")]) == 0
    out = capsys.readouterr().out
    assert "不含录像/录音" in out and f"《{TITLE}》" in out
    with zipfile.ZipFile(tmp_path / "b.zip") as z:
        names = z.namelist()
    assert f"originals/{sha[:2]}/{sha}" not in names
    poster = svc.media(doc_id)["media"]["poster"]
    assert f"originals/{poster[:2]}/{poster}" in names  # the small files are in

    assert main(["--home", str(tmp_path / "new"), "restore", str(tmp_path / "b.zip")]) == 0
    out = capsys.readouterr().out
    assert f"《{TITLE}》" in out and "录像/录音" in out
    other = LibraryService(tmp_path / "new")
    try:
        [p] = other.check()
        assert f"《{TITLE}》" in p and "缺失" in p
        assert any(h["kind"] == "passage" for h in other.search("实在话")["hits"])
    finally:
        other.close()


def test_check_backup_and_restore_never_hold_a_recording_in_memory(
    request,
    tmp_path,
    database,  # noqa: F811
):
    """A 16 MB recording: check, backup and restore (with its reindex) peak well below its
    size (what they allocate besides is a few MB whatever the size: migrations, zip
    buffers)."""
    folder = tmp_path / "in"
    audio = make_audio(folder / "长录音.wav", seconds=190)
    size = audio.stat().st_size
    assert size > 16_000_000
    svc = LibraryService(make_home(request, tmp_path / "home", database))
    try:
        [r] = svc.ingest([folder])
        assert r.kind == "media", r.message
        tracemalloc.start()
        try:
            assert svc.check() == []
            _, check_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            rep = backup(svc.home, tmp_path / "b.zip")
            _, backup_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            LibraryService.restore_backup(
                tmp_path / "b.zip", make_home(request, tmp_path / "new", database)
            )
            _, restore_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        svc.close()
    assert rep.media == 1 and rep.media_bytes == size
    assert max(check_peak, backup_peak, restore_peak) < size / 2, (
        check_peak,
        backup_peak,
        restore_peak,
    )


# -- migrate ----------------------------------------------------------------------------------


@pytest.mark.postgres
def test_migrate_moves_recordings_to_postgresql_and_back(request, tmp_path, capsys):
    folder, video = material(tmp_path)
    home = make_home(request, tmp_path / "home", "sqlite")
    svc = LibraryService(home)
    try:
        [rec] = [r for r in svc.ingest([folder]) if r.kind == "media"]
        sha = media_sha(svc, rec.document_id)
        stages = []
        url = request.getfixturevalue("pg_urls")()
        report = svc.migrate_to(url, progress=lambda s, d, t: stages.append(s))
    finally:
        svc.close()
    assert report.media == 1 and report.media_bytes == video.stat().st_size
    assert "media" in stages
    node = tmp_path / "node"
    node.mkdir()
    (node / "settings.json").write_text(json.dumps({"database_url": url}), "utf-8")
    pg = LibraryService(node)
    try:
        pg.ready()
        assert pg.check() == []
        assert where_kept(pg, sha) == (-(-video.stat().st_size // CHUNK), False)
        assert plays(pg, rec.document_id, video)
    finally:
        pg.close()

    back = tmp_path / "back"
    assert main(["--home", str(node), "migrate", "--to", f"sqlite:///{back}"]) == 0
    out = capsys.readouterr().out
    assert "1 段录像/录音" in out and "核对一致" in out
    again = LibraryService(back)
    try:
        again.ready()
        assert again.check() == []
        assert (back / "originals" / sha[:2] / sha).read_bytes() == video.read_bytes()
        assert plays(again, rec.document_id, video)
    finally:
        again.close()


@pytest.mark.postgres
def test_migrate_refuses_a_damaged_recording_naming_it(request, tmp_path):
    folder, video = material(tmp_path)
    svc = LibraryService(make_home(request, tmp_path / "home", "sqlite"))
    try:
        [rec] = [r for r in svc.ingest([folder]) if r.kind == "media"]
        path = svc.store.originals.path_for(media_sha(svc, rec.document_id))
        data = bytearray(path.read_bytes())
        data[100] ^= 0xFF
        path.write_bytes(bytes(data))
        with pytest.raises(UsageError) as e:
            svc.migrate_to(request.getfixturevalue("pg_urls")())
        assert f"《{TITLE}》" in str(e.value) and "check" in str(e.value)
    finally:
        svc.close()
