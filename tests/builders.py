"""Small document builders for tests: real .docx/.pdf/.txt files made in code."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

QUOTES_DOC = [
    ("h", "生态文明建设金句摘编"),
    ("p", "编者按：本汇编选取生态文明建设方面的重要论述，供基层宣讲员参考。"),
    ("h", "一、绿水青山就是金山银山"),
    ("p", "绿水青山就是金山银山。"),
    ("p", "——2005年8月15日，在浙江安吉余村考察时的讲话"),
    ("p", "人民对美好生活的向往，就是我们的奋斗目标。"),
    ("p", "——2012年11月15日，在十八届中央政治局常委同中外记者见面时的讲话"),
    ("h", "二、传统智慧"),
    ("p", "天下兴亡，匹夫有责。"),
    ("p", "——梁启超《饮冰室合集》"),
]

HANDOUT_DOC = [
    ("h", "乡村振兴专题讲义"),
    ("p", "一、为什么要推进乡村振兴"),
    ("p", "乡村振兴是关系全面建设社会主义现代化国家的全局性、历史性任务。" * 6),
    ("p", "（一）产业兴旺是重点"),
    ("p", "各地因地制宜发展特色种植和农产品加工，合作社带动村民增收致富。" * 6),
    ("p", "二、怎样把乡村振兴落到实处"),
    ("p", "要坚持农民主体地位，尊重村民意愿，办好一件件民生实事。" * 6),
]


# A classical-quotes compilation and a Q&A document, shared by the basket, id and browser tests
TRAD_QUOTES_DOC = [
    ("h", "中华优秀传统文化金句"),
    ("h", "一、家国情怀"),
    ("p", "1. 天下兴亡，匹夫有责。"),
    ("p", "——顾炎武《日知录》"),
    ("p", "2. 位卑未敢忘忧国。"),
    ("p", "——陆游《病起书怀》"),
]

QA_DOC = [
    ("t", "群众关心的热点问答"),
    ("h", "一、就业社保"),
    ("p", "问：灵活就业人员怎样参加养老保险？"),
    ("p", "答：可以在户籍地或就业地以个人身份参保。"),
    ("p", "问：医保可以跨省直接结算吗？"),
    ("p", "答：可以，备案后即可直接结算。"),
]


def make_docx(path: Path, blocks=None, *, title: str | None = None) -> Path:
    """blocks: ("t", text) → Title, ("h", text) → Heading 1, ("p", text) → Normal paragraph."""
    import docx

    d = docx.Document()
    if title:
        d.core_properties.title = title
    for kind, text in blocks or HANDOUT_DOC:
        if kind == "t":
            d.add_heading(text, level=0)
        elif kind == "h":
            d.add_heading(text, level=1)
        else:
            d.add_paragraph(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save(str(path))
    return path


def make_pdf(
    path: Path,
    pages: list[list[str]],
    *,
    encrypt: str | None = None,
    header: str | None = "宣讲讲义",
    footer: bool = True,
) -> Path:
    """A text PDF with a CJK font (reportlab's STSong-Light), optionally with a running header
    and a page-number footer on every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path.parent.mkdir(parents=True, exist_ok=True)
    c = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)
    w, h = A4
    for n, lines in enumerate(pages, 1):
        c.setFont("STSong-Light", 9)
        if header:
            c.drawString(72, h - 40, header)
        if footer:
            c.drawString(w / 2, 30, f"— {n} —")
        c.setFont("STSong-Light", 12)
        y = h - 90
        for line in lines:
            c.drawString(72, y, line)
            y -= 20
        c.showPage()
    c.save()
    return path


def make_image_only_pdf(path: Path) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    c.rect(100, 100, 300, 400, fill=1)
    c.showPage()
    c.save()
    return path


def zip_bomb_docx(path: Path, member_mb: int = 700) -> Path:
    """A .docx-looking zip whose document.xml inflates to member_mb megabytes."""
    chunk = b"<w:t>" + b"0" * (1 << 20) + b"</w:t>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            for _ in range(member_mb):
                f.write(chunk)
    return path


def ratio_tuned_docx(path: Path, member_mb: int = 60, seed: int = 7) -> Path:
    """A real-looking .docx whose document.xml inflates to ``member_mb`` MB at a compression
    ratio under 200:1 (a paragraph of random digits repeated with small changes), the shape of
    the 615 KB file that held a 100 MB document.xml (issue 11, finding 4)."""
    import random

    rng = random.Random(seed)
    body = docx_bytes([("p", "正文")])
    with (
        zipfile.ZipFile(io.BytesIO(body)) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z,
    ):
        for info in src.infolist():
            if info.filename != "word/document.xml":
                z.writestr(info, src.read(info))
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
                b'2006/main"><w:body>'
            )
            para = "".join(str(rng.randrange(10)) for _ in range(3000)).encode()
            written = 0
            while written < member_mb << 20:
                i = rng.randrange(len(para))
                chunk = b"<w:p><w:r><w:t>" + para[i:] + para[:i] + b"</w:t></w:r></w:p>"
                f.write(chunk)
                written += len(chunk)
            f.write(b"</w:body></w:document>")
    return path


JPEG_BYTES = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + bytes(range(256)) * 8
    + b"\xff\xd9"
)


def docx_bytes(blocks=None) -> bytes:
    import docx

    d = docx.Document()
    for kind, text in blocks or HANDOUT_DOC:
        (d.add_heading(text, level=1) if kind == "h" else d.add_paragraph(text))
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def cyclic_pdf(chain: int = 2) -> bytes:
    """A tiny PDF whose content stream's /Length is an indirect reference going round in a
    circle (7 0 R → 8 0 R → … → 7 0 R): pdfminer followed it for ever (issue 11, finding 2)."""
    refs = list(range(7, 7 + chain))
    objs: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
    }
    for i, r in enumerate(refs):
        objs[r] = b"%d 0 R" % refs[(i + 1) % len(refs)]
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for num in sorted(set(objs) | {4}):
        offsets[num] = len(out)
        if num == 4:
            out += (
                b"4 0 obj\n<< /Length 7 0 R >>\nstream\nBT /F1 12 Tf 10 10 Td (x) Tj ET\n"
                b"endstream\nendobj\n"
            )
        else:
            out += b"%d 0 obj\n%s\nendobj\n" % (num, objs[num])
    size = max(offsets) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        out += (b"%010d 00000 n \n" % offsets[num]) if num in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)
