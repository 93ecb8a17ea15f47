"""The topic-pack (专题包) file format: one .zip that a station can open without a server and
another library can import.

    manifest.json          format version, library, topic, time, counts, dictionary version,
                           the SHA-256 of every other member, and (version 2) ``media``: the
                           export's size limit, the recordings included and those left out
                           (title, duration, size, why)
    index.html, assets/    the offline site (works from file://; plays the recordings)
    compilation.docx       print-ready compilation
    originals/<sha>.<ext>  the original files; for a recording (视频/音频) also its poster frame
                           (.jpg) and transcript file (.srt …), and the recording itself
                           (.mp4 .webm .mkv .mp3 .m4a .wav .ogg) when it fitted the size limit
    data/documents.jsonl   one document per line (metadata, outline, passages, quote refs; a
                           recording: ``version.media`` and passages with ``start``/``end`` s)
    data/quotes.jsonl      one quote per line (text, 出处, date, topics)

Format version 1 has no recordings; a pack holding any is written as version 2 (a version-1
reader refuses it with “please upgrade” instead of failing on a format it does not know), and
a pack without recordings is still written as version 1, readable by older programs.

Reading a pack is defensive: member names are checked (no absolute paths, no "..", no links),
sizes are bounded, every member must be listed in the manifest with a matching checksum, and
nothing outside the manifest is accepted. Any failure raises :class:`PackError` before anything
is imported.

Recordings are the one kind of member that may be large (hundreds of MB). They are written
*stored* (no compression: audio and video are compressed already), so their size in the zip is
their size on disk, and they are read under their own rules: a member named
``originals/<sha256>.<media extension>`` must be stored with equal compressed and file sizes
(it cannot inflate), may be up to :data:`MAX_MEDIA_MEMBER_BYTES`, all of them together may not
be larger than the pack file itself (stored members that add up to more overlap: a bomb), and
they are copied to disk chunk by chunk (``PackContents.files``), never held in memory. Every
other member keeps the bounds below, its inflation measured against the rest of the pack.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import PackError

FORMAT = "lecturelib-topic-pack"
FORMAT_VERSION = 2  # the newest this program reads and writes (2: recordings)
PLAIN_FORMAT_VERSION = 1  # what a pack without recordings is written as
MEDIA_EXTENSIONS = ("mp4", "webm", "mkv", "mp3", "m4a", "wav", "ogg")
# one recording in a pack: twice the library's default upload limit (max_media_mb 2048)
MAX_MEDIA_MEMBER_BYTES = 4 * 1024 * 1024 * 1024
_MEDIA_MEMBER = re.compile(r"originals/[0-9a-f]{64}\.(?:" + "|".join(MEDIA_EXTENSIONS) + ")")
MAX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
MAX_MEMBERS = 100_000
MAX_RATIO = 200  # inflated / compressed, for members over RATIO_EXEMPT
RATIO_EXEMPT = 64 * 1024  # (1 MiB members were exempt: 2,000 of them took 2 GB)
MAX_INFLATION = 20  # inflated total ≤ this × the pack's size ...
INFLATION_FLOOR = 64 * 1024 * 1024  # ... or this much (an exported pack: ≈ 2–4×)
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # a manifest lists names and checksums (1,000 files: 0.1 MB)
MAX_ROW_BYTES = 32 * 1024 * 1024  # one JSON line of data/*.jsonl (a 100-page handout: ~1 MB)
_CHUNK = 1 << 16
# What zipfile and zlib raise on a damaged archive or member (NotImplementedError: an
# unknown compression method or zip version; RuntimeError: an encrypted member;
# RecursionError: JSON nested too deep).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_media_member(name: str) -> bool:
    """Whether a member name is that of a recording (``originals/<sha256>.mp4`` …)."""
    return bool(_MEDIA_MEMBER.fullmatch(name))


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def safe_member_name(name: str) -> bool:
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return False
    parts = PurePosixPath(name).parts
    if ".." in parts or not parts:
        return False
    return ":" not in parts[0]  # no C:/ style drive letters


class PackWriter:
    """Collects members, then writes the zip with a manifest of their checksums."""

    def __init__(self):
        self.members: dict[str, bytes] = {}
        self.files: dict[str, tuple[Path, str]] = {}  # recordings: (file on disk, sha256)

    def add(self, name: str, data: bytes | str) -> None:
        if not safe_member_name(name):
            raise PackError(f"专题包内文件名不安全：{name}")
        self.members[name] = data.encode("utf-8") if isinstance(data, str) else data

    def add_file(self, name: str, path: Path) -> None:
        """A recording, copied from ``path`` into the zip a chunk at a time when written
        (stored, not compressed); its checksum is computed from the file here."""
        if not is_media_member(name):
            raise PackError(f"专题包内录音/录像的文件名不符合格式：{name}")
        self.files[name] = (Path(path), _file_sha256(Path(path)))

    def add_jsonl(self, name: str, rows) -> None:
        self.add(
            name, "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
        )

    def write(self, path: Path, manifest: dict) -> dict:
        files = {n: sha256(d) for n, d in self.members.items()}
        files.update({n: sha for n, (_, sha) in self.files.items()})
        manifest = dict(
            manifest,
            format=FORMAT,
            format_version=FORMAT_VERSION if manifest.get("media") else PLAIN_FORMAT_VERSION,
            files=dict(sorted(files.items())),
        )
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
            z.writestr(
                _member("manifest.json"),
                json.dumps(manifest, ensure_ascii=False, indent=2),
                compresslevel=6,
            )
            for name, data in sorted(self.members.items()):
                z.writestr(_member(name), data, compresslevel=6)
            for name, (src, _) in sorted(self.files.items()):
                info = _member(name)
                info.compress_type = zipfile.ZIP_STORED
                info.file_size = src.stat().st_size  # zipfile switches to ZIP64 when needed
                with open(src, "rb") as f, z.open(info, "w") as out:
                    while block := f.read(1 << 20):
                        out.write(block)
        tmp.replace(path)
        return manifest


def _member(name: str) -> zipfile.ZipInfo:
    """A regular file readable by everyone once unzipped (rw-r--r--): ZipFile.writestr would
    give 0600, and a station's web server or colleague could not read the offline site."""
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix: unzip honours the mode
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info


@dataclass
class PackContents:
    """A verified pack: ``members`` in memory, recordings (``files``) copied to disk. Close it
    (or use it as a context manager) to remove those copies."""

    manifest: dict
    members: dict[str, bytes]
    files: dict[str, Path] = field(default_factory=dict)
    _tmpdir: Path | None = None

    def has(self, name: str) -> bool:
        return name in self.members or name in self.files

    def close(self) -> None:
        for p in self.files.values():
            p.unlink(missing_ok=True)
        self.files = {}
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> PackContents:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def jsonl(self, name: str) -> list[dict]:
        data = self.members.get(name)
        if data is None:
            return []
        try:
            lines = data.decode("utf-8").splitlines()
            if any(len(line) > MAX_ROW_BYTES for line in lines):
                raise PackError(
                    f"专题包数据文件 {name} 中有一行过大，已拒绝导入。",
                    "该文件可能被篡改，请向发送方核实。",
                )
            return [json.loads(line) for line in lines if line.strip()]
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise PackError(
                f"专题包数据文件 {name} 格式错误：{str(e)[:200]}",
                "该文件可能被篡改或已损坏，请重新获取专题包。",
            ) from None


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, budget: list, pack: str) -> bytes:
    """A member's bytes, inflated a chunk at a time and stopped as soon as it passes ``limit``,
    its ratio bound, or what is left of the pack's ``budget`` (a forged directory cannot
    declare its way past these)."""
    out = bytearray()
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            out += chunk
            budget[0] -= len(chunk)
            if (
                len(out) > limit
                or budget[0] < 0
                or (len(out) > RATIO_EXEMPT and len(out) > MAX_RATIO * max(info.compress_size, 1))
            ):
                raise PackError(
                    f"专题包 {pack} 中的“{info.filename}”解压后体积异常巨大，"
                    "疑似“压缩炸弹”，已拒绝导入。",
                    "该文件可能被篡改，请向发送方核实。",
                )
    return bytes(out)


def _bomb(pack: str, member: str) -> PackError:
    return PackError(
        f"专题包 {pack} 中的“{member}”解压后体积异常巨大，疑似“压缩炸弹”，已拒绝导入。",
        "该文件可能被篡改，请向发送方核实。",
    )


def _spool(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: list, pack: str) -> str:
    """Copy a recording out of the zip to ``dest`` a chunk at a time; its SHA-256. Stopped as
    soon as it passes its declared size or the pack's media ``budget``."""
    h = hashlib.sha256()
    n = 0
    with zf.open(info) as fh, open(dest, "wb") as out:
        while chunk := fh.read(1 << 20):
            n += len(chunk)
            budget[0] -= len(chunk)
            if n > info.file_size or budget[0] < 0:
                raise _bomb(pack, info.filename)
            h.update(chunk)
            try:
                out.write(chunk)
            except OSError as e:  # not the pack's fault: say so
                raise PackError(
                    f"无法把专题包 {pack} 中的录音/录像“{info.filename}”写入磁盘"
                    f"（{e.strerror or e}）。",
                    "请检查磁盘空间后重试。",
                ) from e
    return h.hexdigest()


def read_pack(path: Path, *, spool: Path | None = None) -> PackContents:
    """Open and fully verify a pack. Raises PackError (Chinese message) on any problem.

    Recordings are copied to files in ``spool`` (a folder of the caller's; by default a new
    temporary folder), listed in ``PackContents.files``; close the contents to remove them."""
    path = Path(path)
    name = path.name
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise PackError(f"找不到专题包文件：{name}") from None
    except _ZIP_ERRORS as e:
        raise PackError(
            f"专题包 {name} 不是有效的 zip 文件或已损坏（可能下载不完整）。",
            "请重新获取完整的专题包后再导入。",
        ) from e
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise PackError(f"专题包 {name} 内文件过多。")
        total = media_total = 0
        for info in infos:
            if (
                not safe_member_name(info.filename)
                or info.filename.endswith("/")
                and not safe_member_name(info.filename.rstrip("/"))
            ):
                raise PackError(
                    f"专题包 {name} 含有不安全的路径“{info.filename}”，已拒绝导入。",
                    "该文件可能被篡改，请向发送方核实。",
                )
            mode = (info.external_attr >> 16) & 0o170000
            if mode == stat.S_IFLNK:
                raise PackError(f"专题包 {name} 含有符号链接“{info.filename}”，已拒绝导入。")
            if is_media_member(info.filename):
                # stored as is: what it occupies in the pack is what it will be on disk
                if info.compress_type != zipfile.ZIP_STORED or info.file_size != info.compress_size:
                    raise PackError(
                        f"专题包 {name} 中的录音/录像“{info.filename}”不是按原样存放的，"
                        "已拒绝导入。",
                        "该文件可能被篡改，或由不兼容的程序生成；请向发送方核实。",
                    )
                if info.file_size > MAX_MEDIA_MEMBER_BYTES:
                    raise PackError(f"专题包 {name} 中的“{info.filename}”过大，已拒绝导入。")
                media_total += info.file_size
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                raise PackError(f"专题包 {name} 中的“{info.filename}”过大，已拒绝导入。")
            if info.file_size > RATIO_EXEMPT and info.file_size > MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise _bomb(name, info.filename)
            total += info.file_size
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        if media_total > size:  # stored members overlapping in the file
            raise PackError(
                f"专题包 {name} 中的录音/录像合计大于专题包文件本身，疑似“压缩炸弹”，已拒绝导入。",
                "该文件可能被篡改，请向发送方核实。",
            )
        # the other members' inflation is measured against what is left of the pack
        cap = min(MAX_TOTAL_BYTES, max(INFLATION_FLOOR, MAX_INFLATION * (size - media_total)))
        if total > cap:
            raise PackError(
                f"专题包 {name} 解压后过大（{total / 1024 / 1024:.0f} MB），"
                "疑似“压缩炸弹”，已拒绝导入。",
                "该文件可能被篡改，请向发送方核实。",
            )
        budget = [cap]  # bytes still allowed to be inflated (forged sizes too)
        try:
            info = zf.getinfo("manifest.json")
            if info.file_size > MAX_MANIFEST_BYTES:
                raise PackError(
                    f"专题包 {name} 的清单文件过大，已拒绝导入。",
                    "该文件可能被篡改，请向发送方核实。",
                )
            manifest = json.loads(_read(zf, info, MAX_MANIFEST_BYTES, budget, name).decode("utf-8"))
        except KeyError:
            raise PackError(f"{name} 不是专题包：缺少 manifest.json。") from None
        except (*_ZIP_ERRORS, RecursionError) as e:
            raise PackError(f"专题包 {name} 的清单文件已损坏。", "请重新获取专题包。") from e
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise PackError(f"{name} 不是 lecturelib 专题包。")
        version = manifest.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
            raise PackError(
                f"专题包 {name} 的格式版本（{version}）不受支持。",
                f"本程序支持第 1–{FORMAT_VERSION} 版，请升级 lecturelib 后再导入。",
            )
        files = manifest.get("files")
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise PackError(f"专题包 {name} 的清单缺少文件校验信息。")
        present = {i.filename for i in infos if not i.filename.endswith("/")} - {"manifest.json"}
        extra = present - set(files)
        missing = set(files) - present
        if missing:
            raise PackError(
                f"专题包 {name} 不完整：缺少 {len(missing)} 个文件（如 {sorted(missing)[0]}）。",
                "请重新获取完整的专题包。",
            )
        if extra:
            raise PackError(
                f"专题包 {name} 含有清单之外的文件（如 {sorted(extra)[0]}），已拒绝导入。",
                "该文件可能被篡改，请向发送方核实。",
            )
        contents = PackContents(manifest, {})
        media_budget = [media_total]
        try:
            if any(is_media_member(m) for m in files):
                try:
                    if spool is None:
                        contents._tmpdir = Path(tempfile.mkdtemp(prefix="lecturelib-pack-"))
                    folder = spool if spool is not None else contents._tmpdir
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    raise PackError(
                        f"无法为专题包 {name} 中的录音/录像准备临时文件夹（{e.strerror or e}）。",
                        "请检查磁盘空间和资料库目录的权限后重试。",
                    ) from e
            for member, want in files.items():
                try:
                    info = zf.getinfo(member)
                    if is_media_member(member):
                        # its extension kept: the tools that read it look at it
                        suffix = PurePosixPath(member).suffix
                        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".pack-", suffix=suffix)
                        os.close(fd)
                        dest = Path(tmp)
                        contents.files[member] = dest
                        got = _spool(zf, info, dest, media_budget, name)
                    else:
                        data = _read(zf, info, MAX_MEMBER_BYTES, budget, name)
                        got = sha256(data)
                        contents.members[member] = data
                except _ZIP_ERRORS as e:
                    raise PackError(
                        f"专题包 {name} 中的“{member}”无法读取（文件可能被截断）。",
                        "请重新获取完整的专题包。",
                    ) from e
                if got != want:
                    raise PackError(
                        f"专题包 {name} 中的“{member}”校验和不符，可能被篡改或损坏，已拒绝导入。",
                        "请向发送方重新获取专题包。",
                    )
        except BaseException:
            contents.close()
            raise
    return contents


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "PLAIN_FORMAT_VERSION",
    "MEDIA_EXTENSIONS",
    "PackWriter",
    "PackContents",
    "is_media_member",
    "read_pack",
    "safe_member_name",
    "sha256",
]
