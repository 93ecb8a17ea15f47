"""Hostile-input fuzzing: every extractor, sniffing, the structurer, the query parser and the
topic-pack reader/importer.

    .venv/bin/python bench/fuzz.py [-n 2000] [--targets docx,pdf,...] [--seed 1]
                                   [--timeout 20] [--memory-mb 3072] [--out DIR]

Binary formats are fuzzed by mutation: valid seed files are built in code (python-docx,
python-pptx, reportlab, zipfile) or taken from ``tests/fixtures/extract/*.doc``, then bytes are
flipped, inserted, deleted and truncated, zip members and their XML are corrupted, PDF objects
are shuffled and their numbers and references falsified. Text, HTML, Markdown, queries and
block lists are generated. Every input must end in a result or in a ``LecturelibError``
(InputError and subclasses for files, PackError for packs, UsageError for a bad kind); anything
else is a crash, and an input that runs past ``--timeout`` seconds is a hang. Crashing inputs
are written to ``--out`` (a temporary folder by default) so they can be replayed.

Each target runs in a child process of its own, one after the other (never two at a time), under
the same address-space cap as an ingest worker, so the peak RSS reported is that target's.

Output: one line per target — inputs tried, results, documented errors, *fallbacks* (inputs
where a library raised something unforeseen that the extractor registry's last line of defence
turned into CorruptFileError: not a crash, but worth knowing), crashes, hangs, slowest input and
peak RSS — and a JSON summary at the end.

The seed builders and mutators are plain functions with no effect at import time;
``tests/test_fuzz.py`` drives the same mutators from hypothesis for the short slices.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import signal
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DOC_FIXTURES = ROOT / "tests" / "fixtures" / "extract"

# --- seeds -------------------------------------------------------------------------------

_ZH = [
    "乡村振兴是关系全面建设社会主义现代化国家的全局性、历史性任务。",
    "绿水青山就是金山银山。",
    "——2005年8月15日，在浙江安吉余村考察时的讲话",
    "人民对美好生活的向往，就是我们的奋斗目标。",
    "一、为什么要推进乡村振兴",
    "（一）产业兴旺是重点",
    "1. 坚持农民主体地位",
    "问：什么是新时代枫桥经验？",
    "答：小事不出村、大事不出镇、矛盾不上交。",
    "【金句】不忘初心，牢记使命。",
    "出处：《习近平谈治国理政》第三卷",
    "同志们，大家好！",
    "案例启示",
    "2024年3月18日",
]


def seed_docx() -> bytes:
    import docx

    d = docx.Document()
    d.core_properties.title = "乡村振兴专题讲义"
    d.core_properties.author = "宣讲团"
    d.add_heading("乡村振兴专题讲义", level=0)
    d.add_paragraph("2024年3月18日")
    d.add_heading("一、为什么要推进乡村振兴", level=1)
    d.add_paragraph(_ZH[0] * 3)
    d.add_paragraph("（一）产业兴旺是重点。各地因地制宜发展特色种植和农产品加工。")
    d.add_paragraph("坚持农民主体地位", style="List Bullet")
    p = d.add_paragraph()
    p.add_run("重点做好七个方面工作：").bold = True
    t = d.add_table(rows=2, cols=3)
    for r, row in enumerate(t.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"第{r}行{c}列"
    t.cell(0, 0).merge(t.cell(1, 0))
    d.add_heading("二、传统智慧", level=2)
    d.add_paragraph(_ZH[1])
    d.add_paragraph(_ZH[2])
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def seed_pptx() -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.core_properties.title = "生态文明建设宣讲"
    s = prs.slides.add_slide(prs.slide_layouts[1])
    s.shapes.title.text = "一、守护绿水青山"
    s.placeholders[1].text_frame.text = _ZH[1]
    s.placeholders[1].text_frame.add_paragraph().text = _ZH[2]
    s.notes_slide.notes_text_frame.text = "讲述提示：结合本地河长制实例。"
    s2 = prs.slides.add_slide(prs.slide_layouts[5])
    s2.shapes.title.text = "二、数据"
    tbl = s2.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(2)).table
    for r in range(2):
        for c in range(2):
            tbl.cell(r, c).text = f"指标{r}{c}"
    grp = s2.shapes.add_group_shape()
    grp.shapes.add_textbox(Inches(1), Inches(5), Inches(4), Inches(1)).text_frame.text = _ZH[3]
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def seed_pdf(encrypt: str | None = None) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, encrypt=encrypt, pageCompression=0)
    c.setTitle("基层治理法治化宣讲提纲")
    w, h = A4
    for n in range(1, 4):
        c.setFont("STSong-Light", 9)
        c.drawString(72, h - 40, "宣讲讲义")
        c.drawString(w / 2, 30, f"— {n} —")
        y = h - 90
        if n == 1:
            c.setFont("STSong-Light", 20)
            c.drawString(72, y, "基层治理法治化宣讲提纲")
            y -= 36
        c.setFont("STSong-Light", 14)
        c.drawString(72, y, "一、法治是最好的营商环境")
        y -= 26
        c.setFont("STSong-Light", 12)
        for line in (_ZH[0], _ZH[3], "Latin words, hyphen-", "ated across lines 2024"):
            c.drawString(90 if line is _ZH[0] else 72, y, line)
            y -= 20
        c.showPage()
    c.save()
    return buf.getvalue()


def seed_docs() -> list[bytes]:
    return [p.read_bytes() for p in sorted(DOC_FIXTURES.glob("*.doc"))]


def seed_texts() -> dict[str, list[bytes]]:
    body = "\n".join(["乡村振兴专题讲义", *_ZH, "", "Plain ASCII line."])
    md = (
        "# 生态文明建设\n\n" + _ZH[0] + "\n接续一行\n\n## 一、守护\n\n- 列表一\n1. 列表二\n\n"
        "> " + _ZH[1] + "\n\n| 指标 | 数值 |\n|---|---|\n| 森林 | 60% |\n\n```\ncode\n```\n"
        "标题\n===\n**粗体** *斜体* [链接](http://x) ![图](a.png) `代码`\n"
    )
    html = (
        "<!doctype html><html><head><meta charset='utf-8'><title>乡村振兴_某某网</title>"
        "</head><body><nav class='menu'>首页</nav><article><h1>乡村振兴</h1><p>"
        + _ZH[0]
        + "</p><ul><li>"
        + _ZH[1]
        + "</li></ul><table><tr><td>甲</td><td>乙</td>"
        "</tr></table><div>" + _ZH[3] + "<br>换行</div></article><footer>版权</footer>"
        "</body></html>"
    )
    return {
        "txt": [
            body.encode("utf-8"),
            body.encode("gb18030"),
            body.encode("utf-16"),
            "\ufeff".encode() + body.encode("utf-8"),
            b"caf\xe9 na\xefve \x93quoted\x94",
        ],
        "md": [md.encode("utf-8"), md.encode("gb18030")],
        "html": [
            html.encode("utf-8"),
            html.replace("utf-8", "gbk").encode("gb18030"),
            ("<?xml version='1.0'?>" + html).encode("utf-8"),
        ],
    }


# --- byte-level mutation -----------------------------------------------------------------

_INTERESTING = [
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"\xff\xff\xff\xff",
    b"\x00\x00\x00\x00",
    b"\xff\xff\xff\x7f",
    b"\x00\x00\x00\x80",
    b"\x01\x00",
    b"\xfe\xff",
    b"\xef\xbb\xbf",
]


def mutate_bytes(rng: random.Random, data: bytes, rounds: int | None = None) -> bytes:
    """Flip, set, insert, delete, duplicate, overwrite with interesting values, truncate."""
    buf = bytearray(data)
    for _ in range(rounds or rng.randint(1, 6)):
        if not buf:
            buf.extend(rng.randbytes(rng.randint(1, 64)))
            continue
        op = rng.randrange(8)
        i = rng.randrange(len(buf))
        if op == 0:  # bit flip
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:  # random byte
            buf[i] = rng.randrange(256)
        elif op == 2:  # insert random bytes
            buf[i:i] = rng.randbytes(rng.randint(1, 32))
        elif op == 3:  # delete a range
            del buf[i : i + rng.randint(1, max(1, min(4096, len(buf) // 8)))]
        elif op == 4:  # duplicate a chunk elsewhere
            j = rng.randrange(len(buf))
            chunk = buf[i : i + rng.randint(1, 512)]
            buf[j:j] = chunk
        elif op == 5:  # interesting value
            v = rng.choice(_INTERESTING)
            buf[i : i + len(v)] = v
        elif op == 6:  # truncate
            del buf[rng.randint(0, len(buf)) :]
        else:  # many scattered random bytes
            for _ in range(rng.randint(2, 16)):
                buf[rng.randrange(len(buf))] = rng.randrange(256)
    return bytes(buf)


# --- zip (docx/pptx) mutation ------------------------------------------------------------

_XML_SNIPPETS = [
    '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE x SYSTEM "file:///etc/passwd">',
    "&b;",
    "&#0;",
    "&#xD800;",
    "<w:t>\x01\x02</w:t>",
    '<w:outlineLvl w:val="99999999999999999999"/>',
    '<w:outlineLvl w:val="-1"/>',
    '<w:pStyle w:val="Heading1"/>',
    '<w:basedOn w:val="Heading1"/>',
    "<w:numPr/>",
    "<w:tbl><w:tr><w:tc><w:tbl><w:tr><w:tc><w:p/></w:tc></w:tr></w:tbl></w:tc></w:tr></w:tbl>",
    "<w:vMerge/>",
    "<w:txbxContent><w:p><w:r><w:t>框</w:t></w:r></w:p></w:txbxContent>",
    "<mc:Fallback>",
    "</w:body>",
    "<w:p>" * 50,
    "<w:sdt><w:sdtContent>",
    '<a:off x="-99999999999" y="NaN"/>',
    '<p:sldId id="0" r:id="rId999"/>',
    '<a:tbl><a:tr><a:tc gridSpan="1000" rowSpan="-3"/></a:tr></a:tbl>',
    "<?xml version='1.0' encoding='ebcdic'?>",
    "\ufeff",
    "]]>",
    "<![CDATA[",
    'Target="../../../../etc/passwd"',
    'TargetMode="External"',
    'r:id="rId1"',
]


def _xml_mutate(rng: random.Random, xml: bytes) -> bytes:
    text = xml.decode("utf-8", "replace")
    op = rng.randrange(7)
    if op == 0 and "<" in text:  # delete a tag (unbalances the tree)
        starts = [m.start() for m in re.finditer("<", text)]
        i = rng.choice(starts)
        j = text.find(">", i)
        text = text[:i] + text[j + 1 :] if j > 0 else text[:i]
    elif op == 1:  # insert a hostile snippet
        i = rng.randint(0, len(text))
        text = text[:i] + rng.choice(_XML_SNIPPETS) + text[i:]
    elif op == 2:  # falsify numbers / attribute values

        def num(m):
            return rng.choice(
                [
                    "-1",
                    "0",
                    "999999999999",
                    "1e309",
                    "NaN",
                    "",
                    "x",
                    str(rng.randint(-(2**40), 2**40)),
                ]
            )

        text = re.sub(r"\b\d+\b", lambda m: num(m) if rng.random() < 0.2 else m.group(0), text)
    elif op == 3:  # swap two elements' order
        parts = re.split(r"(?=<)", text)
        if len(parts) > 3:
            i, j = rng.randrange(len(parts)), rng.randrange(len(parts))
            parts[i], parts[j] = parts[j], parts[i]
        text = "".join(parts)
    elif op == 4:  # truncate the XML
        text = text[: rng.randint(0, len(text))]
    elif op == 5:  # deep nesting
        depth = rng.choice([100, 1000, 5000])
        i = text.rfind("</")
        i = i if i > 0 else len(text)
        text = text[:i] + "<w:sdt>" * depth + "</w:sdt>" * depth + text[i:]
    else:
        return mutate_bytes(rng, xml)
    return text.encode("utf-8", "surrogatepass")


def mutate_zip(rng: random.Random, data: bytes) -> bytes:
    """Corrupt an OOXML package at the level of its members, or its raw bytes."""
    try:
        zin = zipfile.ZipFile(io.BytesIO(data))
        members = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    except Exception:
        return mutate_bytes(rng, data)
    op = rng.randrange(8)
    if op == 0:
        return mutate_bytes(rng, data)
    names = [n for n, _ in members]
    if op == 1 and members:  # drop a member
        del members[rng.randrange(len(members))]
    elif op == 2 and members:  # rename a member
        k = rng.randrange(len(members))
        members[k] = (rng.choice(names) + rng.choice(["", "x", "/", ".bak"]), members[k][1])
    elif op == 3 and members:  # duplicate a member name
        k = rng.randrange(len(members))
        members.append((members[k][0], mutate_bytes(rng, members[k][1], 1)))
    elif op == 4 and members:  # raw-mutate one member
        k = rng.randrange(len(members))
        members[k] = (members[k][0], mutate_bytes(rng, members[k][1]))
    else:  # XML-mutate the parts that matter
        xml = [k for k, (n, _) in enumerate(members) if n.endswith((".xml", ".rels"))]
        body = [
            k
            for k in xml
            if members[k][0] in ("word/document.xml", "word/styles.xml", "ppt/presentation.xml")
            or members[k][0].startswith("ppt/slides/slide")
        ]
        for _ in range(rng.randint(1, 3)):
            pool = body if body and rng.random() < 0.7 else xml
            if not pool:
                break
            k = rng.choice(pool)
            members[k] = (members[k][0], _xml_mutate(rng, members[k][1]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", rng.choice([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])) as z:
        for name, blob in members:
            with _quiet():
                z.writestr(name, blob)
    return out.getvalue()


class _quiet:
    """Silence zipfile's duplicate-name warning."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


# --- PDF mutation ------------------------------------------------------------------------

_PDF_SNIPPETS = [
    b"/Count 999999999",
    b"/Count -1",
    b"/Parent 1 0 R",
    b"/Kids [3 0 R 3 0 R]",
    b"/Length 99999999",
    b"/Length -5",
    b"[" * 2000 + b"]" * 2000,
    b"<<" * 500 + b">>" * 500,
    b"/Filter /FlateDecode",
    b"/Filter /LZWDecode",
    b"/Filter [/ASCIIHexDecode /FlateDecode /RunLengthDecode]",
    b"/W [4 4 4] /Type /XRef",
    b"/Encrypt 1 0 R",
    b"/MediaBox [0 0 0 0]",
    b"/MediaBox [0 0 1e308 -1e308]",
    b"/Rotate 45",
    b"/Font << /F1 999 0 R >>",
    b"BT /F1 1e30 Tf (x) Tj ET",
    b"BT /F1 12 Tf 1e30 0 Td <4E2D> Tj ET",
    b"(" + b"\\(" * 1000,
    b"999999999 0 obj",
    b"startxref\n-1\n%%EOF",
    b"/Size 2147483647",
    b"/Prev 0",
    b"/ToUnicode 1 0 R",
    b"q " * 5000,
]


def mutate_pdf(rng: random.Random, data: bytes) -> bytes:
    op = rng.randrange(7)
    objs = list(re.finditer(rb"\d+ 0 obj.*?endobj\s*", data, re.S))
    if op == 0 and len(objs) > 2:  # shuffle objects
        head, tail = data[: objs[0].start()], data[objs[-1].end() :]
        bodies = [m.group(0) for m in objs]
        rng.shuffle(bodies)
        return head + b"".join(bodies) + tail
    if op == 1 and objs:  # delete or duplicate an object
        m = rng.choice(objs)
        if rng.random() < 0.5:
            return data[: m.start()] + data[m.end() :]
        return data[: m.end()] + m.group(0) + data[m.end() :]
    if op == 2:  # falsify numbers
        return re.sub(
            rb"\b\d+\b",
            lambda m: (
                rng.choice(
                    [b"0", b"-1", b"4294967296", b"99999", str(rng.randint(0, 10**6)).encode()]
                )
                if rng.random() < 0.05
                else m.group(0)
            ),
            data,
        )
    if op == 3:  # insert a hostile snippet
        i = rng.randrange(len(data) or 1)
        return data[:i] + rng.choice(_PDF_SNIPPETS) + data[i:]
    if op == 4:  # corrupt the xref/trailer
        i = data.rfind(b"xref")
        if i > 0:
            return data[:i] + mutate_bytes(rng, data[i:], rng.randint(1, 4))
    if op == 5:  # self-referencing objects
        return re.sub(
            rb"(\d+) 0 R",
            lambda m: (
                rng.choice([b"1 0 R", b"2 0 R", b"9999 0 R"]) if rng.random() < 0.2 else m.group(0)
            ),
            data,
        )
    return mutate_bytes(rng, data)


def cycle_pdf(rng: random.Random, data: bytes) -> bytes:
    """Indirect references that go round in a circle (issue 11: a 571-byte PDF whose stream
    /Length was 7 0 R → 8 0 R → 7 0 R spun pdfminer for ever): a stream's /Length, a page's
    /Contents or /Resources, or any reference is pointed at a chain of 1–6 new objects that
    ends where it began; new objects are appended with an xref section of their own."""
    start = 900 + rng.randrange(50)
    chain = list(range(start, start + rng.randint(1, 6)))
    where = rng.randrange(3)
    if where == 0 and re.search(rb"/Length \d+", data):
        data = re.sub(rb"/Length \d+", b"/Length %d 0 R" % chain[0], data, count=1)
    elif where == 1 and b"/Contents" in data:
        data = re.sub(rb"/Contents \d+ 0 R", b"/Contents %d 0 R" % chain[0], data, count=1)
    else:
        refs = list(re.finditer(rb"\b\d+ 0 R", data))
        if refs:
            m = rng.choice(refs)
            data = data[: m.start()] + b"%d 0 R" % chain[0] + data[m.end() :]
    body = bytearray()
    offsets = []
    base = len(data)
    for i, num in enumerate(chain):
        offsets.append(base + len(body))
        target = chain[(i + 1) % len(chain)]
        # mostly bare references (a reference to a reference: the loop that hung), sometimes
        # wrapped in an array or a dictionary
        inner = (
            b"%d 0 R" % target
            if rng.random() < 0.8
            else rng.choice([b"[%d 0 R]" % target, b"<< /Length %d 0 R >>" % target])
        )
        body += b"%d 0 obj\n%s\nendobj\n" % (num, inner)
    xref = base + len(body)
    body += b"xref\n%d %d\n" % (chain[0], len(chain))
    for off in offsets:
        body += b"%010d 00000 n \n" % off
    prev = data.rfind(b"startxref")
    prev_off = re.search(rb"startxref\s+(\d+)", data[prev:]) if prev >= 0 else None
    root = re.findall(rb"/Root\s+(\d+\s+\d+\s+R)", data)
    trailer = b"<< /Size %d /Root %s" % (chain[-1] + 1, root[-1] if root else b"1 0 R")
    if prev_off:
        trailer += b" /Prev " + prev_off.group(1)
    body += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return data + bytes(body)


# --- generators --------------------------------------------------------------------------

_ALPHABET = (
    list(
        "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工"
        "也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实"
    )
    + list("。，、；：？！“”‘’（）《》【】——…·　")
    + list("一二三四五六七八九十（）、.．1234567890")
    + list("ABCxyz \t\n\r\x0b\x0c")
    + [
        "\x00",
        "\x07",
        "\x1b",
        "\u200b",
        "\ufeff",
        "\u2f00",
        "\uf900",
        "\ud800",
        "\U0001f600",
        "\u0301",
        "\u202e",
        "\uffff",
    ]
)
_LINES = _ZH + [
    "",
    "问：",
    "答：",
    "——",
    "《》",
    "【金句】",
    "原文：",
    "出处：",
    "一是",
    "第3次",
    "（2024年）",
    "肇庆市委宣传部 2024年3月",
    "谢谢大家！",
    "附件2 名词解释",
    "——2025年1月15日在第十四届全国人民代表大会上",
    "Q：",
    "A：",
    "# ",
    "## ",
    "- ",
    "> ",
    "| a | b |",
    "```",
    "---",
    "===",
    "<b>",
    "</p>",
    "&nbsp;",
    "&#x4e2d;",
    "&bogus;",
]


def gen_str(rng: random.Random, max_len: int = 200) -> str:
    out = []
    while len(out) < rng.randint(0, max_len):
        if rng.random() < 0.3:
            out.append(rng.choice(_LINES))
        else:
            out.append(rng.choice(_ALPHABET))
    return "".join(out)


def gen_text_bytes(rng: random.Random) -> bytes:
    lines = [gen_str(rng, 80) for _ in range(rng.randint(0, 30))]
    text = rng.choice(["\n", "\r\n", "\r"]).join(lines)
    enc = rng.choice(
        [
            "utf-8",
            "utf-8-sig",
            "gb18030",
            "utf-16",
            "utf-16-le",
            "utf-16-be",
            "utf-32",
            "cp1252",
            "big5",
            "latin-1",
        ]
    )
    data = text.encode(enc, "replace") if enc != "utf-8" else text.encode("utf-8", "surrogatepass")
    return mutate_bytes(rng, data) if rng.random() < 0.3 else data


_TAGS = [
    "p",
    "div",
    "span",
    "h1",
    "h2",
    "h6",
    "li",
    "ul",
    "ol",
    "table",
    "tr",
    "td",
    "th",
    "br",
    "article",
    "main",
    "section",
    "nav",
    "footer",
    "script",
    "style",
    "title",
    "head",
    "body",
    "html",
    "a",
    "b",
    "pre",
    "blockquote",
    "svg",
    "iframe",
    "template",
    "noscript",
    "meta",
]
_ATTRS = [
    "",
    " class='menu'",
    " id='comments'",
    " class='content'",
    " charset='gbk'",
    " charset='x-nonsense'",
    " role='navigation'",
    " style='x'",
    " onload='alert(1)'",
    " http-equiv='content-type' content='text/html; charset=utf-16'",
]


def gen_html_bytes(rng: random.Random) -> bytes:
    parts = [
        rng.choice(
            [
                "<!doctype html>",
                "<html>",
                "<?xml version='1.0'?><html>",
                "<!-- -->",
                "\ufeff<html>",
                "",
            ]
        )
    ]
    depth = 0
    for _ in range(rng.randint(0, 80)):
        r = rng.random()
        if r < 0.35:
            tag = rng.choice(_TAGS)
            parts.append(f"<{tag}{rng.choice(_ATTRS)}>")
            depth += 1
        elif r < 0.55 and depth:
            parts.append(f"</{rng.choice(_TAGS)}>")
            depth -= 1
        elif r < 0.58:
            n = rng.choice([50, 500, 3000])
            parts.append("<div>" * n + "深" + "</div>" * rng.choice([0, n]))
        else:
            parts.append(gen_str(rng, 60))
    text = "".join(parts)
    enc = rng.choice(["utf-8", "gb18030", "utf-16", "cp1252"])
    data = text.encode(enc, "replace") if enc != "utf-8" else text.encode("utf-8", "surrogatepass")
    return mutate_bytes(rng, data) if rng.random() < 0.2 else data


def gen_md_bytes(rng: random.Random) -> bytes:
    lines = []
    for _ in range(rng.randint(0, 40)):
        lines.append(
            rng.choice(
                [
                    "# ",
                    "## ",
                    "###### ",
                    "- ",
                    "* ",
                    "1. ",
                    "> ",
                    "| ",
                    "",
                    "```",
                    "~~~",
                    "---",
                    "===",
                    "    ",
                    "",
                ]
            )
            + gen_str(rng, 60)
        )
    if rng.random() < 0.2:
        lines.insert(0, "---")
    return "\n".join(lines).encode("utf-8", "surrogatepass")


_QUERY_PIECES = [
    '"',
    "“",
    "”",
    "「",
    "」",
    "『",
    "』",
    "＂",
    "-",
    "－",
    "−",
    "OR",
    "或",
    "|",
    "｜",
    "or",
    "topic:",
    "专题：",
    "主题:",
    "kind:",
    "类型：",
    "audience:",
    "对象：",
    "year:",
    "年份：",
    "2019-2021",
    "２０２１",
    "2021年",
    "0000-9999",
    "1-2",
    "quote",
    "金句",
    "rural",
    "进农村",
    ",",
    "，",
    "、",
    " ",
    "　",
    "http://x.y/z",
    "10:30",
    "foo:bar",
    "生态文明",
    "不忘初心",
    "党",
    "\u200b",
    "\u2f00",
    "\x00",
    "\ud800",
    "∗",
    "*",
    "?",
    "(",
    ")",
    "AND",
    "NOT",
    "\\",
    "'",
    "…",
    "～",
    "至",
    "到",
]


def gen_query(rng: random.Random) -> str:
    n = rng.randint(0, 25)
    parts = [rng.choice(_QUERY_PIECES) if rng.random() < 0.7 else gen_str(rng, 6) for _ in range(n)]
    return "".join(p + (" " if rng.random() < 0.4 else "") for p in parts)


_BLOCK_KINDS = ["para", "heading", "list", "table", "footnote", "notes", "title"]


def gen_extracted(rng: random.Random):
    """An arbitrary Extracted: any kinds, levels, pages and texts (including empty ones)."""
    from indexer.ingest.extract.base import Block, Extracted

    blocks = []
    for _ in range(rng.randint(0, 60)):
        text = rng.choice(_LINES) if rng.random() < 0.4 else gen_str(rng, 120)
        if rng.random() < 0.2:
            text = rng.choice(_LINES) + text
        kind = rng.choice(_BLOCK_KINDS) if rng.random() < 0.97 else gen_str(rng, 5)
        level = rng.choice([0, 0, 1, 2, 3, 4, 6, 9, -1, 100])
        page = rng.choice([None, None, 1, 2, 3, 0, -1, 10**6])
        blocks.append(Block(text, kind, level, page))
    fmt = rng.choice(["docx", "pdf", "doc", "pptx", "txt", "md", "html"])
    title = rng.choice([None, "", gen_str(rng, 30), rng.choice(_LINES)])
    return Extracted(
        format=fmt, blocks=blocks, title=title, pages=rng.choice([None, 1, 3]), meta={}
    )


# --- topic packs --------------------------------------------------------------------------


def pack_rows(salt: str = "") -> tuple[list[dict], list[dict], bytes]:
    """(documents, quotes, original bytes) of a small, valid pack, as export writes them;
    ``salt`` makes the original (and so its checksum) differ from one pack to the next."""
    from library.pack import sha256

    original = (
        "乡村振兴专题讲义\n一、为什么要推进乡村振兴\n绿水青山就是金山银山。\n" + salt
    ).encode("utf-8")
    sha = sha256(original)
    from indexer.ingest.pipeline import text_key

    qtext = "绿水青山就是金山银山。"
    quotes = [
        {
            "key": text_key(qtext),
            "text": qtext,
            "source": "在浙江安吉余村考察时的讲话",
            "date": "2005-08-15",
            "speaker": "习近平",
            "theme": None,
            "note": None,
            "topics": [{"topic": "ecology", "score": 0.9}],
        }
    ]
    docs = [
        {
            "id": 1,
            "title": "乡村振兴专题讲义",
            "kind": "handout",
            "date": "2024-03",
            "source": None,
            "topics": [{"topic": "rural-revitalization", "score": 1.0, "origin": "manual"}],
            "audiences": ["rural"],
            "version": {
                "sha256": sha,
                "filename": "乡村振兴讲义.txt",
                "format": "txt",
                "pages": None,
                "chars": 40,
                "status": "ok",
                "warnings": [],
            },
            "headings": [[1, "一、为什么要推进乡村振兴", None]],
            "passages": [
                {
                    "seq": 0,
                    "kind": "passage",
                    "text": "绿水青山就是金山银山。",
                    "question": None,
                    "heading_path": ["一、为什么要推进乡村振兴"],
                    "page": None,
                }
            ],
            "quotes": [{"key": text_key(qtext), "seq": 0, "page": None, "theme": None}],
        }
    ]
    return docs, quotes, original


def write_pack(
    path: Path, docs, quotes, originals: dict[str, bytes], manifest_extra: dict | None = None
) -> Path:
    """A pack with a correct manifest (checksums included) around whatever rows are given.
    Written here rather than with PackWriter so that hostile values (lone surrogates) can be
    written as JSON escapes."""
    from library.pack import FORMAT, FORMAT_VERSION, sha256

    members = dict(originals)
    # ensure_ascii: a lone surrogate in a mutated row is written as a \\ud800 escape
    members["data/documents.jsonl"] = (
        "".join(json.dumps(d) + "\n" for d in docs) if isinstance(docs, list) else docs
    )
    members["data/quotes.jsonl"] = (
        "".join(json.dumps(q) + "\n" for q in quotes) if isinstance(quotes, list) else quotes
    )
    members = {k: v.encode() if isinstance(v, str) else v for k, v in members.items()}
    manifest = {
        "topic": {"slug": "rural-revitalization", "name": "乡村振兴"},
        "counts": {"documents": len(docs)},
    }
    manifest.update(manifest_extra or {})
    manifest.update(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        files={n: sha256(b) for n, b in sorted(members.items())},
    )
    if manifest_extra and "format_version" in manifest_extra:
        manifest["format_version"] = manifest_extra["format_version"]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest, indent=1))
        for name, blob in sorted(members.items()):
            z.writestr(name, blob)
    return path


_JSON_VALUES = [
    None,
    "",
    "x",
    0,
    -1,
    1.5,
    10**30,
    True,
    [],
    {},
    [None],
    {"a": 1},
    "../../x",
    "\ud800",
    "一" * 1000,
    [[1, "t"]],
    [{"topic": 1}],
    {"sha256": None},
]


def mutate_json(rng: random.Random, value, depth: int = 0):
    """Replace, drop or retype a random part of a JSON value."""
    if depth > 6 or rng.random() < 0.15:
        return rng.choice(_JSON_VALUES)
    if isinstance(value, dict) and value:
        v = dict(value)
        k = rng.choice(list(v))
        r = rng.random()
        if r < 0.2:
            del v[k]
        elif r < 0.3:
            v[rng.choice(["extra", "", "key"])] = rng.choice(_JSON_VALUES)
        else:
            v[k] = mutate_json(rng, v[k], depth + 1)
        return v
    if isinstance(value, list) and value:
        v = list(value)
        i = rng.randrange(len(v))
        r = rng.random()
        if r < 0.15:
            del v[i]
        elif r < 0.3:
            v.append(v[i])
        else:
            v[i] = mutate_json(rng, v[i], depth + 1)
        return v
    return rng.choice(_JSON_VALUES)


def gen_pack(rng: random.Random, path: Path) -> Path:
    """A hostile pack: checksum-valid with mutated rows or manifest, or a raw-mutated zip, or a
    zip with unsafe member names."""
    docs, quotes, original = pack_rows(str(rng.random()))
    originals = {f"originals/{docs[0]['version']['sha256']}.txt": original}
    op = rng.randrange(6)
    if op <= 2:  # checksum-valid, mutated rows
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.7:
                docs = mutate_json(rng, docs)
            else:
                quotes = mutate_json(rng, quotes)
        if not isinstance(docs, list):
            docs = [docs]
        if not isinstance(quotes, list):
            quotes = [quotes]
        return write_pack(path, docs, quotes, originals)
    if op == 3:  # mutated manifest or non-JSON lines
        extra = mutate_json(
            rng, {"topic": {"slug": "x", "name": "乡村振兴"}, "counts": {}, "format_version": 1}
        )
        if not isinstance(extra, dict):
            extra = {"topic": extra}
        if rng.random() < 0.5:
            junk = rng.choice(
                [
                    "{not json\n",
                    b"\xff\xfe\n",
                    "[" * 100000 + "]" * 100000 + "\n",
                    '{"title": NaN}\n',
                    "7\n",
                    '"文本"\n',
                ]
            )
            return write_pack(path, junk, quotes, originals, extra)
        return write_pack(path, docs, quotes, originals, extra)
    if op == 4:  # unsafe or extra members
        write_pack(path, docs, quotes, originals)
        raw = path.read_bytes()
        bad = rng.choice(
            [
                "../evil.txt",
                "/etc/x",
                "C:/x",
                "a\\..\\b",
                "originals/../../x",
                "extra.txt",
                "manifest.json",
                "dir/",
                "a\x00b",
            ]
        )
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(raw)) as zin, zipfile.ZipFile(out, "w") as zout:
            for info in zin.infolist():
                zout.writestr(info, zin.read(info))
            info = zipfile.ZipInfo(bad.replace("\x00", "_") if "\x00" in bad and False else bad)
            if rng.random() < 0.3:
                info.external_attr = 0o120777 << 16  # a symlink
            with _quiet():
                zout.writestr(info, b"x")
        path.write_bytes(out.getvalue())
        return path
    write_pack(path, docs, quotes, originals)  # raw byte mutation of the zip
    path.write_bytes(
        mutate_zip(rng, path.read_bytes())
        if rng.random() < 0.5
        else mutate_bytes(rng, path.read_bytes())
    )
    return path


# --- checking one input -----------------------------------------------------------------


class Hang(BaseException):
    """Raised by the interval timer; a BaseException so that no library's except clause
    swallows it."""


def _on_timer(signum, frame):
    raise Hang()


def check_extracted(ex) -> None:
    """Invariants of an extraction result a user would notice if broken."""
    from indexer.ingest.extract.base import Block, Extracted

    assert isinstance(ex, Extracted), type(ex)
    assert ex.status in ("ok", "needs_ocr"), ex.status
    for b in ex.blocks:
        assert isinstance(b, Block) and isinstance(b.text, str) and b.text, b
        assert b.kind in _BLOCK_KINDS, b.kind
    assert ex.title is None or isinstance(ex.title, str)


def run_extract(data: bytes, filename: str = ""):
    """extract(); returns (outcome, detail): ok | error:<Class> | fallback:<Class>."""
    from indexer.ingest.extract import extract
    from library.errors import LecturelibError

    try:
        ex = extract(data, filename)
    except LecturelibError as e:
        cause = e.__cause__
        if cause is not None and not isinstance(cause, LecturelibError):
            return "fallback", type(cause).__name__
        return "error", type(e).__name__
    check_extracted(ex)
    return "ok", ex.format


def run_sniff(data: bytes, filename: str = ""):
    from indexer.ingest.extract import sniff
    from library.errors import InputError

    try:
        fmt = sniff(data, filename)
    except InputError as e:
        return "error", type(e).__name__
    assert fmt in ("docx", "pptx", "pdf", "doc", "html", "md", "txt"), fmt
    return "ok", fmt


def run_structure(ex, kind):
    from indexer.ingest.structure import structure
    from library.content import KINDS, Structured
    from library.errors import UsageError

    try:
        s = structure(ex, kind=kind, filename=rng_name(kind))
    except UsageError as e:
        assert kind is not None and kind not in KINDS
        return "error", type(e).__name__
    assert isinstance(s, Structured) and s.kind in KINDS and isinstance(s.title, str)
    for q in s.quotes:
        assert isinstance(q.text, str) and q.text
    for p in s.passages:
        assert isinstance(p.text, str)
    return "ok", s.kind


def rng_name(kind) -> str:
    return "" if kind is None else f"{kind}.docx"


def run_query(q: str):
    from indexer.search.query import format_query, parse, resolve_audience, resolve_kind

    pq = parse(q)
    for c in pq.clauses:
        assert c, "empty clause"
        for t in c:
            assert t.text, "empty term"
    again = parse(format_query(pq))
    assert again.clauses == pq.clauses, (format_query(pq), again.clauses, pq.clauses)
    assert again.filters == pq.filters, (format_query(pq), again.filters, pq.filters)
    for v in pq.filters.get("kind", []):
        resolve_kind(v)
    for v in pq.filters.get("audience", []):
        resolve_audience(v)
    return "ok", "empty" if pq.is_empty() else "query"


def run_read_pack(path: Path):
    from library.errors import PackError
    from library.pack import read_pack

    try:
        contents = read_pack(path)
        contents.jsonl("data/documents.jsonl")
        contents.jsonl("data/quotes.jsonl")
    except PackError as e:
        return "error", type(e).__name__
    return "ok", "pack"


def run_import_pack(svc, path: Path):
    from indexer.app.packimport import import_pack
    from library.errors import PackError

    before = svc.store._one("SELECT COUNT(*) AS n FROM documents")["n"]
    try:
        rep = import_pack(svc, path, actor="fuzz")
    except PackError as e:
        after = svc.store._one("SELECT COUNT(*) AS n FROM documents")["n"]
        assert after == before, "a refused pack left documents behind"
        return "error", type(e).__name__
    return "ok", f"added={len(rep.added)}"


# --- the runner --------------------------------------------------------------------------

TARGETS = [
    "sniff",
    "docx",
    "pptx",
    "pdf",
    "pdf_cycle",
    "doc",
    "txt",
    "md",
    "html",
    "structure",
    "query",
    "read_pack",
    "import_pack",
]


def _inputs(target: str, rng: random.Random, tmp: Path):
    """An endless stream of (label, callable) for one target."""
    if target in ("docx", "pptx", "pdf", "doc", "sniff"):
        seeds = {
            "docx": [seed_docx()],
            "pptx": [seed_pptx()],
            "pdf": [seed_pdf(), seed_pdf(encrypt="pw")],
            "doc": seed_docs(),
        }
        if target == "sniff":
            pool = [s for v in seeds.values() for s in v] + [
                s for v in seed_texts().values() for s in v
            ]
            while True:
                r = rng.random()
                if r < 0.3:
                    data = rng.randbytes(rng.randint(0, 2048))
                elif r < 0.4:
                    data = rng.choice(
                        [
                            b"PK\x03\x04",
                            b"PK\x05\x06",
                            b"%PDF-1.7",
                            bytes.fromhex("d0cf11e0a1b11ae1"),
                            b"\xff\xd8\xff",
                            b"\xef\xbb\xbf",
                            b"\xff\xfe",
                            b"<html>",
                        ]
                    ) + rng.randbytes(rng.randint(0, 600))
                else:
                    data = mutate_bytes(rng, rng.choice(pool))
                name = rng.choice(["", "a.pdf", "a.docx", "a.md", "讲义.doc", "x"])
                yield data, (lambda d=data, n=name: run_sniff(d, n))
        mut = {"docx": mutate_zip, "pptx": mutate_zip, "pdf": mutate_pdf, "doc": mutate_bytes}[
            target
        ]
        while True:
            seed = rng.choice(seeds[target])
            data = mut(rng, seed)
            if rng.random() < 0.2:  # stack a second mutation
                data = mut(rng, data)
            yield data, (lambda d=data: run_extract(d, f"fuzz.{target}"))
    if target == "pdf_cycle":
        seeds = [seed_pdf()]
        while True:
            data = cycle_pdf(rng, rng.choice(seeds))
            if rng.random() < 0.3:
                data = mutate_pdf(rng, data)
            yield data, (lambda d=data: run_extract(d, "fuzz.pdf"))
    if target in ("txt", "md", "html"):
        seeds = seed_texts()[target]
        gen = {"txt": gen_text_bytes, "md": gen_md_bytes, "html": gen_html_bytes}[target]
        while True:
            data = gen(rng) if rng.random() < 0.7 else mutate_bytes(rng, rng.choice(seeds))
            yield data, (lambda d=data: run_extract(d, f"fuzz.{target}"))
    if target == "structure":
        from library.content import KINDS

        kinds = [None, None, *KINDS, "bogus", ""]
        while True:
            ex = gen_extracted(rng)
            kind = rng.choice(kinds)
            yield (
                repr(ex).encode("utf-8", "surrogatepass"),
                (lambda e=ex, k=kind: run_structure(e, k)),
            )
    if target == "query":
        while True:
            q = gen_query(rng)
            yield q.encode("utf-8", "surrogatepass"), (lambda s=q: run_query(s))
    if target in ("read_pack", "import_pack"):
        svc = None
        if target == "import_pack":
            from indexer.app.service import LibraryService

            svc = LibraryService(tmp / "home")
        k = 0
        while True:
            k += 1
            path = gen_pack(rng, tmp / f"p{k % 4}.zip")
            data = path.read_bytes()
            if svc is None:
                yield data, (lambda p=path: run_read_pack(p))
            else:
                yield data, (lambda p=path: run_import_pack(svc, p))


def run_target(
    target: str, n: int, seed: int, timeout: float, out: Path, seconds: float | None = None
) -> dict:
    """Run ``n`` inputs (or until ``seconds`` have passed) against one target, in this
    process."""
    import resource

    rng = random.Random(f"{target}:{seed}")
    outcomes: Counter = Counter()
    details: Counter = Counter()
    crashes: list[dict] = []
    slowest, slowest_len, tried = 0.0, 0, 0
    signal.signal(signal.SIGALRM, _on_timer)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{target}-") as tmpdir:
        stream = _inputs(target, rng, Path(tmpdir))
        for i in range(n):
            if seconds is not None and time.perf_counter() - started > seconds:
                break
            data, call = next(stream)
            tried += 1
            trace = ""
            t0 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                outcome, detail = call()
            except Hang:
                outcome, detail = "hang", f"> {timeout:.0f} s"
            except BaseException as e:  # noqa: BLE001 - a crash is what we are looking for
                if isinstance(e, KeyboardInterrupt):
                    raise
                outcome, detail = "crash", f"{type(e).__name__}: {str(e)[:200]}"
                trace = traceback.format_exc(limit=-4)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            dt = time.perf_counter() - t0
            if dt > slowest:
                slowest, slowest_len = dt, len(data)
                out.mkdir(parents=True, exist_ok=True)
                (out / f"{target}-slowest.bin").write_bytes(data)
            outcomes[outcome] += 1
            if outcome in ("crash", "hang", "fallback"):
                details[f"{outcome}: {detail.split(':')[0] if outcome == 'crash' else detail}"] += 1
            if outcome in ("crash", "hang") or (
                outcome == "fallback" and details[f"fallback: {detail}"] <= 5
            ):
                out.mkdir(parents=True, exist_ok=True)
                f = out / f"{target}-{i:06d}.bin"
                f.write_bytes(data)
                if outcome != "fallback" and len(crashes) < 20:
                    crashes.append({"input": str(f), "what": detail, "trace": trace})
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "target": target,
        "tried": tried,
        "outcomes": dict(outcomes),
        "details": dict(details),
        "crashes": crashes,
        "slowest_s": round(slowest, 3),
        "slowest_bytes": slowest_len,
        "peak_rss_mb": round(rss_mb, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _child(target, n, seed, timeout, out, seconds, memory_mb, queue):
    import logging
    import resource

    logging.disable(logging.WARNING)  # pdfminer logs every oddity of a damaged file
    cap = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        queue.put(run_target(target, n, seed, timeout, out, seconds))
    except BaseException as e:  # noqa: BLE001 - report the harness failure, never hang
        queue.put({"target": target, "harness_error": repr(e)})


def main(argv=None) -> int:
    import multiprocessing as mp

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=2000, help="inputs per target")
    ap.add_argument("--seconds", type=float, default=None, help="time budget per target")
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per input")
    ap.add_argument("--memory-mb", type=int, default=3072, help="address-space cap")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "lecturelib-fuzz")
    ap.add_argument("--json", type=Path, help="write the summary here too")
    args = ap.parse_args(argv)
    ctx = mp.get_context("fork")
    results = []
    print(
        f"{'target':<12}{'tried':>7}{'ok':>7}{'error':>7}{'fallbk':>7}{'crash':>7}{'hang':>6}"
        f"{'slowest s':>11}{'peak RSS MB':>13}{'wall s':>8}",
        flush=True,
    )
    for target in args.targets.split(","):
        q = ctx.Queue()
        p = ctx.Process(
            target=_child,
            args=(
                target,
                args.n,
                args.seed,
                args.timeout,
                args.out,
                args.seconds,
                args.memory_mb,
                q,
            ),
        )
        p.start()
        res = q.get()
        p.join()
        results.append(res)
        if "harness_error" in res:
            print(f"{target:<12} harness error: {res['harness_error']}", flush=True)
            continue
        o = res["outcomes"]
        print(
            f"{target:<12}{res['tried']:>7}{o.get('ok', 0):>7}{o.get('error', 0):>7}"
            f"{o.get('fallback', 0):>7}{o.get('crash', 0):>7}{o.get('hang', 0):>6}"
            f"{res['slowest_s']:>11.3f}{res['peak_rss_mb']:>13.0f}{res['seconds']:>8.0f}",
            flush=True,
        )
        for what, count in sorted(res["details"].items()):
            print(f"    {count:>5} × {what}", flush=True)
        for c in res["crashes"][:3]:
            print(
                f"    e.g. {c['input']}: {c['what']}\n"
                + "".join("      " + ln + "\n" for ln in c["trace"].splitlines()[-6:]),
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    bad = sum(
        r.get("outcomes", {}).get("crash", 0)
        + r.get("outcomes", {}).get("hang", 0)
        + (1 if "harness_error" in r else 0)
        for r in results
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
