"""Hostile input: short, deterministic fuzz slices over every extractor, sniffing, the
structurer, the query parser and the topic-pack reader/importer, plus regression tests for the
defects the long run (``bench/fuzz.py``) found.

The contract under test: every input ends in a result or in one of our own errors
(``LecturelibError``: InputError and subclasses for files, PackError for packs, UsageError for
an unknown kind) — never in another exception. The seeds and mutators are the long run's own
(imported from ``bench/fuzz.py``); hypothesis drives them with a fixed seed (``derandomize``).
"""

from __future__ import annotations

import importlib.util
import json
import math
import zipfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.ingest.extract import extract, sniff
from indexer.search.query import format_query, parse
from library.errors import CorruptFileError, InputError, PackError, UnsupportedFormatError
from library.pack import read_pack

ROOT = Path(__file__).resolve().parents[1]


def _load_fuzz():
    spec = importlib.util.spec_from_file_location(
        "lecturelib_bench_fuzz", ROOT / "bench" / "fuzz.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


fuzz = _load_fuzz()


def fast(n: int):
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


@cache
def seeds(fmt: str) -> tuple[bytes, ...]:
    if fmt == "docx":
        return (fuzz.seed_docx(),)
    if fmt == "pptx":
        return (fuzz.seed_pptx(),)
    if fmt == "pdf":
        return (fuzz.seed_pdf(),)
    if fmt == "doc":
        return tuple(fuzz.seed_docs())
    return tuple(fuzz.seed_texts()[fmt])


def ends_well(data: bytes, filename: str = "") -> str:
    """extract() either returns a sound result or raises an InputError; returns which."""
    try:
        ex = extract(data, filename)
    except InputError as e:
        assert e.message and isinstance(e.message, str)
        return "error"
    fuzz.check_extracted(ex)
    return "ok"


# --- the seeds themselves are valid ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["docx", "pptx", "pdf", "doc", "txt", "md", "html"])
def test_every_seed_extracts(fmt):
    for data in seeds(fmt):
        assert ends_well(data, f"seed.{fmt}") == "ok"


# --- extractors and sniffing -------------------------------------------------------------


@fast(150)
@given(st.randoms(use_true_random=False), st.sampled_from(["", "a.pdf", "讲义.docx", "a.md"]))
def test_sniff_any_bytes_ends_in_format_or_input_error(rng, name):
    pool = [s for f in ("docx", "pptx", "pdf", "doc", "txt", "html") for s in seeds(f)]
    data = (
        fuzz.mutate_bytes(rng, rng.choice(pool))
        if rng.random() < 0.6
        else rng.randbytes(rng.randint(0, 300))
    )
    try:
        assert sniff(data, name) in ("docx", "pptx", "pdf", "doc", "html", "md", "txt")
    except InputError:
        pass


@fast(60)
@given(st.randoms(use_true_random=False), st.sampled_from(["docx", "pptx"]))
def test_damaged_office_packages_end_in_result_or_input_error(rng, fmt):
    ends_well(fuzz.mutate_zip(rng, seeds(fmt)[0]), f"x.{fmt}")


@fast(20)
@given(st.randoms(use_true_random=False))
def test_damaged_pdfs_end_in_result_or_input_error(rng):
    ends_well(fuzz.mutate_pdf(rng, seeds("pdf")[0]), "x.pdf")


@fast(100)
@given(st.randoms(use_true_random=False))
def test_damaged_word97_files_end_in_result_or_input_error(rng):
    ends_well(fuzz.mutate_bytes(rng, rng.choice(seeds("doc"))), "x.doc")


@fast(150)
@given(st.randoms(use_true_random=False), st.sampled_from(["txt", "md", "html"]))
def test_generated_text_markdown_html_end_in_result_or_input_error(rng, fmt):
    gen = {"txt": fuzz.gen_text_bytes, "md": fuzz.gen_md_bytes, "html": fuzz.gen_html_bytes}[fmt]
    data = gen(rng) if rng.random() < 0.7 else fuzz.mutate_bytes(rng, rng.choice(seeds(fmt)))
    ends_well(data, f"x.{fmt}")


# --- structurer and query parser ---------------------------------------------------------


@fast(150)
@given(
    st.randoms(use_true_random=False),
    st.sampled_from([None, "quotes", "handout", "script", "case", "qa", "bogus"]),
)
def test_structure_of_arbitrary_blocks_ends_in_structured_or_usage_error(rng, kind):
    outcome, _ = fuzz.run_structure(fuzz.gen_extracted(rng), kind)
    assert outcome == ("error" if kind == "bogus" else "ok")


_QUERY_ALPHABET = st.sampled_from(fuzz._QUERY_PIECES + list("生态文明不忘初心党 　"))


@fast(300)
@given(st.one_of(st.lists(_QUERY_ALPHABET, max_size=20).map("".join), st.text(max_size=40)))
def test_any_query_parses_and_formats_back_to_itself(q):
    fuzz.run_query(q)  # never raises; format_query(parse(q)) parses to the same query


@fast(100)
@given(st.randoms(use_true_random=False))
def test_generated_queries_parse_and_format_back(rng):
    fuzz.run_query(fuzz.gen_query(rng))


# --- topic packs -------------------------------------------------------------------------


@fast(120)
@given(rng=st.randoms(use_true_random=False))
def test_hostile_packs_are_read_or_refused_with_pack_error(rng, tmp_path):
    fuzz.run_read_pack(fuzz.gen_pack(rng, tmp_path / "p.zip"))


@pytest.fixture(scope="module")
def pack_svc(tmp_path_factory):
    from indexer.app.service import LibraryService

    svc = LibraryService(tmp_path_factory.mktemp("fuzzhome"))
    yield svc
    svc.close()


@fast(50)
@given(rng=st.randoms(use_true_random=False))
def test_hostile_packs_import_or_are_refused_leaving_nothing_behind(rng, pack_svc, tmp_path):
    # run_import_pack asserts that a refused pack added no document
    fuzz.run_import_pack(pack_svc, fuzz.gen_pack(rng, tmp_path / "p.zip"))


# --- regressions: defects the long run found --------------------------------------------


def _unknown_zip_version(data: bytes) -> bytes:
    """Claim a 'version needed to extract' that zipfile does not implement (9.9)."""
    buf = bytearray(data)
    i = buf.find(b"PK\x01\x02")
    buf[i + 6] = 99
    return bytes(buf)


def test_zip_of_unknown_version_is_refused_not_crashing():
    # zipfile raised NotImplementedError("zip file version 9.9") out of sniff()
    data = _unknown_zip_version(seeds("docx")[0])
    with pytest.raises((CorruptFileError, UnsupportedFormatError)) as err:
        extract(data, "讲义.docx")
    assert "损坏" in err.value.message or "无法识别" in err.value.message


def _pack(tmp_path: Path, docs=None, quotes=None, name="p.zip", salt="") -> Path:
    d, q, original = fuzz.pack_rows(salt)
    originals = {f"originals/{d[0]['version']['sha256']}.txt": original}
    return fuzz.write_pack(
        tmp_path / name,
        d if docs is None else docs(d),
        q if quotes is None else quotes(q),
        originals,
    )


def test_pack_of_unknown_zip_version_is_refused(tmp_path):
    p = _pack(tmp_path)
    p.write_bytes(_unknown_zip_version(p.read_bytes()))
    with pytest.raises(PackError, match="不是有效的 zip 文件或已损坏"):
        read_pack(p)


def test_pack_member_with_broken_deflate_stream_is_refused(tmp_path):
    # zlib.error ("invalid block type") escaped read_pack
    p = _pack(tmp_path)
    raw = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("data/documents.jsonl")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start : start + 4] = b"\xff\xff\xff\xff"
    p.write_bytes(bytes(raw))
    with pytest.raises(PackError, match="无法读取"):
        read_pack(p)


def test_pack_zip_bomb_member_is_refused(tmp_path):
    p = _pack(tmp_path)
    with zipfile.ZipFile(p, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("originals/bomb.txt", b"0" * (8 * 1024 * 1024))
    with pytest.raises(PackError, match="压缩炸弹"):
        read_pack(p)


def test_pack_with_deeply_nested_json_is_refused(tmp_path):
    # RecursionError escaped PackContents.jsonl
    d, q, original = fuzz.pack_rows()
    p = fuzz.write_pack(
        tmp_path / "p.zip",
        "[" * 100000 + "]" * 100000 + "\n",
        q,
        {f"originals/{d[0]['version']['sha256']}.txt": original},
    )
    # refused either as malformed data or, now that highly compressible members are bounded,
    # as a bomb: never a RecursionError
    with pytest.raises(PackError, match="格式错误|压缩炸弹"):
        read_pack(p).jsonl("data/documents.jsonl")


def _set(path: str, value):
    """A row mutation: set docs[0][a][b]… = value."""
    keys = path.split(".")

    def apply(rows):
        rows = json.loads(json.dumps(rows))
        target = rows[0]
        for k in keys[:-1]:
            target = target[int(k)] if isinstance(target, list) else target[k]
        last = keys[-1]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
        return rows

    return apply


# Each of these crashed import_pack with AttributeError, TypeError, KeyError, OverflowError,
# UnicodeEncodeError or an SQLAlchemy error, some after earlier documents had been stored.
HOSTILE_ROWS = [
    ("kind is a list", _set("kind", ["handout"]), None),
    ("passages not a list", _set("passages", {"text": "x"}), None),
    ("title is a number", _set("title", 7), None),
    ("version is a string", _set("version", "v1"), None),
    ("format is a list", _set("version.format", ["txt"]), None),
    ("filename missing", _set("version.filename", None), None),
    ("page too large", _set("passages.0.page", 10**30), None),
    ("lone surrogate", _set("passages.0.text", "\ud800"), None),
    ("heading not a triple", _set("headings.0", [1, "标题"]), None),
    ("unknown audience", _set("audiences", ["martians"]), None),
    ("topic score NaN", _set("topics.0.score", math.nan), None),
    ("quote row not a dict", None, lambda q: [7]),
    ("quote topics not a list", None, _set("topics", "ecology")),
    ("document row not a dict", lambda d: ["文档"], None),
]


@pytest.mark.parametrize("what,docs,quotes", HOSTILE_ROWS, ids=[h[0] for h in HOSTILE_ROWS])
def test_malformed_pack_rows_are_refused_before_anything_is_stored(
    what, docs, quotes, tmp_path, pack_svc
):
    from indexer.app.packimport import import_pack

    good_first = fuzz.pack_rows(salt=what)[0][0]  # a valid document first …
    d, q, original = fuzz.pack_rows(salt=what + "2")
    rows = (docs or (lambda r: r))(d)
    originals = {
        f"originals/{good_first['version']['sha256']}.txt": fuzz.pack_rows(salt=what)[2],
        f"originals/{d[0]['version']['sha256']}.txt": original,
    }
    p = fuzz.write_pack(
        tmp_path / "p.zip", [good_first] + rows, (quotes or (lambda r: r))(q), originals
    )
    before = pack_svc.store._one("SELECT COUNT(*) AS n FROM documents")["n"]
    with pytest.raises(PackError) as err:
        import_pack(pack_svc, p)
    assert "已拒绝导入" in err.value.message or "格式错误" in err.value.message
    assert pack_svc.store._one("SELECT COUNT(*) AS n FROM documents")["n"] == before


def test_pack_with_a_topic_listed_twice_imports_once(tmp_path, pack_svc):
    # sqlite IntegrityError (UNIQUE document_topics) escaped import_pack
    from indexer.app.packimport import import_pack

    twice = lambda rows: _set(  # noqa: E731
        "topics",
        [
            {"topic": "ecology", "score": 0.5},  # noqa: E731
            {"topic": "ecology", "score": 0.9},
        ],
    )(rows)
    p = _pack(tmp_path, docs=twice, salt="twice")
    rep = import_pack(pack_svc, p)
    assert rep.added == ["乡村振兴专题讲义"]


def test_web_page_with_stray_control_characters_is_read_not_called_corrupt():
    # lxml refused the tree edit (drop_tree) with ValueError → “文件已损坏”
    page = (
        "<html><body><p>乡村振兴\x0b是大事\x02<script>x()</script>要办好\ufffe</p><p>"
        + "各地因地制宜发展特色种植。" * 40
        + "</p></body></html>"
    ).encode("utf-8")
    ex = extract(page, "page.html")
    assert ex.blocks[0].text.replace(" ", "") == "乡村振兴是大事要办好"


def test_fuzz_runner_reports_an_unforeseen_exception_as_a_crash(tmp_path, monkeypatch):
    """The long run counts a non-LecturelibError as a crash and keeps the input to replay."""
    import indexer.search.query

    def broken(q):
        raise KeyError("boom")

    monkeypatch.setattr(indexer.search.query, "parse", broken)
    res = fuzz.run_target("query", 3, 1, 5.0, tmp_path)
    assert res["tried"] == 3 and res["outcomes"] == {"crash": 3}
    assert len(list(tmp_path.glob("query-0*.bin"))) == 3


@pytest.mark.parametrize("q", ['audience:"\\|"', 'topic:"绿色｜发展"', 'topic:"a|b" 生态'])
def test_filter_value_with_a_bar_formats_back_to_the_same_query(q):
    # format_query wrote topic:a|b unquoted, which parses back as topic:a OR b
    pq = parse(q)
    again = parse(format_query(pq))
    assert again.filters == pq.filters and again.clauses == pq.clauses


def test_forged_cid_width_range_is_clamped_to_real_cids():
    # pdfminer filled one dict entry per CID of a /W range: “81 999999999 0” in a 6 KB PDF
    # took 2.7 GB and 16 s before failing with MemoryError
    from pdfminer import pdffont

    from indexer.ingest.extract.pdf import _bound_pdfminer_widths, _clamp_width_ranges

    assert _clamp_width_ranges([1, [500, 600], -5, 999999999, 0, 7, 9, 300], 3) == [
        1,
        [500, 600],
        0,
        0xFFFF,
        0,
        7,
        9,
        300,
    ]
    _bound_pdfminer_widths()
    _bound_pdfminer_widths()  # idempotent: wrapped once
    assert len(pdffont.get_widths([81, 999999999, 0])) == 0xFFFF - 81 + 1
    assert pdffont.get_widths([1, [500, 600], 7, 9, 300]) == {
        1: 500,
        2: 600,
        7: 300,
        8: 300,
        9: 300,
    }


def test_pdf_with_forged_width_range_extracts_in_bounded_memory(tmp_path):
    """End to end, in a child process capped at 1 GB so that a regression fails, not swaps."""
    import subprocess
    import sys

    pdf = seeds("pdf")[0]
    assert b"/W [" in pdf
    (tmp_path / "forged.pdf").write_bytes(pdf.replace(b"/W [", b"/W [ 81 999999999 0 ", 1))
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
        f"sys.path.insert(0, {str(ROOT)!r}); from indexer.ingest.extract import extract; "
        f"ex = extract(open({str(tmp_path / 'forged.pdf')!r}, 'rb').read(), 'f.pdf'); "
        "print(ex.text)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "一、法治是最好的营商环境" in out.stdout


@pytest.mark.parametrize("name", ["../../etc/evil.txt", "C:\\材料\\evil.txt", "/tmp/evil.txt"])
def test_pack_file_names_lose_their_folders(name, tmp_path, pack_svc):
    from indexer.app.packimport import import_pack

    p = _pack(tmp_path, docs=_set("version.filename", name), salt=name)
    import_pack(pack_svc, p)
    sha = fuzz.pack_rows(name)[0][0]["version"]["sha256"]
    row = pack_svc.store._one("SELECT filename FROM versions WHERE sha256 = :s", s=sha)
    assert row["filename"] == "evil.txt"


def test_pack_file_name_of_only_dots_is_refused(tmp_path, pack_svc):
    from indexer.app.packimport import import_pack

    with pytest.raises(PackError, match="文件名不正确"):
        import_pack(pack_svc, _pack(tmp_path, docs=_set("version.filename", "a/.."), salt=".."))


def test_pdf_of_centred_lines_is_read_not_called_corrupt(tmp_path):
    # _body_metrics took min() of an empty sequence when no left edge was shared by a tenth
    # of the lines (every line centred), and the file was reported as “已损坏”
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path = tmp_path / "centred.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("STSong-Light", 12)
    lines = ["绿水青山就是金山银山"[: 2 + k % 9] + "。" for k in range(14)]
    for k, line in enumerate(lines):
        c.drawCentredString(A4[0] / 2 + k * 3, A4[1] - 100 - 22 * k, line)
    c.showPage()
    c.save()
    ex = extract(path.read_bytes(), "centred.pdf")
    assert "绿水青山就是金山银山。" in ex.text
