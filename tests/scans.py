"""Scanned pages made in code: our own Chinese text rendered onto an A4 page image, then, for a
"degraded" scan, blurred, rotated a little, speckled and saved at 200 dpi — the way a party
school's office copier or a phone photo delivers a handout. Used by the OCR tests and by
bench/ocr_bench.py; nothing here reads files from outside the project."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
]

PAGE_TEXT = [
    "第三讲　把宣讲办到群众心坎上",
    "一、宣讲要讲群众听得懂的话",
    "基层宣讲面对的是农民、工人、社区居民和青年学生，宣讲员要把文件里的大道理转化成身边的小故事，",
    "用家常话讲清楚政策的来龙去脉。宣讲前要做足功课，了解听众最关心的问题，做到有的放矢。",
    "二、宣讲要走进田间地头",
    "今年以来，我市组织宣讲小分队深入村组、企业和学校，累计开展宣讲一千二百余场，",
    "覆盖群众八万多人次。很多村民说，宣讲员讲的都是实在事，听得进、记得住、用得上。",
    "三、宣讲要注重互动交流",
    "宣讲不是单向灌输，而是双向交流。每场宣讲都留出时间回答群众提问，把群众反映的困难",
    "记下来、转上去、抓落实，让宣讲成为联系群众的桥梁和纽带。",
    "四、宣讲要久久为功",
    "理论宣讲是一项长期工作，要建立常态化机制，培养一支懂理论、接地气、善表达的宣讲队伍，",
    "推动党的创新理论飞入寻常百姓家。",
]


def font_path() -> str | None:
    return next((p for p in FONT_CANDIDATES if Path(p).exists()), None)


def han_chars(text: str) -> str:
    return "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fff")


def render_page(
    lines: list[str] = PAGE_TEXT,
    *,
    dpi: int = 300,
    header: str | None = None,
    footer: str | None = None,
) -> Image.Image:
    """A clean A4 page at ``dpi`` with ``lines`` in 12 pt (a typical handout)."""
    w, h = int(8.27 * dpi), int(11.69 * dpi)
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    size = int(12 / 72 * dpi)
    font = ImageFont.truetype(font_path(), size)
    small = ImageFont.truetype(font_path(), int(9 / 72 * dpi))
    x, y = int(0.9 * dpi), int(1.0 * dpi)
    if header:
        draw.text((x, int(0.5 * dpi)), header, font=small, fill=0)
    for line in lines:
        # wrap to the page width
        while line:
            n = len(line)
            while n > 1 and draw.textlength(line[:n], font=font) > w - 2 * x:
                n -= 1
            draw.text((x, y), line[:n], font=font, fill=0)
            line = line[n:]
            y += int(size * 1.8)
    if footer:
        draw.text((w // 2 - size, h - int(0.6 * dpi)), footer, font=small, fill=0)
    return img


def degrade(
    img: Image.Image,
    *,
    dpi: int = 200,
    source_dpi: int = 300,
    angle: float = 0.8,
    blur: float = 0.8,
    noise: float = 0.02,
    seed: int = 7,
) -> Image.Image:
    """A copier's version of a clean page: rescaled to ``dpi``, rotated, blurred, speckled."""
    rng = random.Random(seed)
    scale = dpi / source_dpi
    out = img.resize((int(img.width * scale), int(img.height * scale)), Image.LANCZOS)
    out = out.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255)
    out = out.filter(ImageFilter.GaussianBlur(blur))
    px = out.load()
    for _ in range(int(out.width * out.height * noise)):
        px[rng.randrange(out.width), rng.randrange(out.height)] = rng.choice((0, 90, 200, 255))
    return out


def save_pdf(images: list[Image.Image], path: Path, dpi: int = 300) -> Path:
    """An image-only PDF (no text layer), one page per image."""
    images[0].convert("RGB").save(
        path,
        "PDF",
        resolution=dpi,
        save_all=True,
        append_images=[i.convert("RGB") for i in images[1:]],
    )
    return path


def accuracy(expected: str, got: str) -> float:
    """Share of the expected Han characters recovered, by edit distance (as the issue counts)."""
    a, b = han_chars(expected), han_chars(got)
    if not a:
        return 1.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return max(0.0, 1 - prev[-1] / len(a))
