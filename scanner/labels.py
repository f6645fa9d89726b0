"""Printable asset labels: a QR code with the label URL, the tag in text, the asset's name and org unit.

Layouts (:data:`LAYOUTS`): an A4 sheet of 3 × 8 labels of 70 × 37 mm (:data:`A4_3X8`) and single
50 × 30 mm labels for thermal printers (:data:`THERMAL_50X30`), rendered at 300 dpi. Output is one PDF
(:func:`write_pdf`) or one PNG per page (:func:`write_png`); :func:`render_pages` yields the page images.

Pages are 1-bit (mode ``"1"``): the QR modules stay pure black and white, and the PDF stores each page
losslessly with CCITT Group 4 (Pillow's PDF writer with libtiff), which is also the fastest writer
measured here (bench/scanner). QR codes: segno, error correction M or higher (segno raises it when the
symbol has room), a fixed mask (about 5× faster than choosing one; decoders read every mask), the
4-module quiet zone kept inside the label, and modules drawn by scaling a one-pixel-per-module image
with NEAREST to a whole number of pixels per module.

Names are often Chinese, so the text font must cover CJK. :func:`find_font` looks for one: the
``font`` argument, then ``$OUTPOST_LABEL_FONT``, then well-known system paths and fontconfig. When none
is found a :class:`FontWarning` says what to install, and Pillow's built-in font is used (Chinese then
prints as empty boxes). Text that does not fit is cut with an ellipsis; it never runs into the QR code
or the neighbouring label. The tag is printed in a monospace font (DejaVu Sans Mono when present) so
that 0/O and 1/I are easy to tell apart when someone types it.
"""

from __future__ import annotations

import functools
import io
import math
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import segno
from PIL import Image, ImageDraw, ImageFont, PdfParser, TiffImagePlugin

__all__ = [
    "A4_3X8",
    "FONT_ENV",
    "LAYOUTS",
    "THERMAL_50X30",
    "FontChoice",
    "FontNotFound",
    "FontWarning",
    "Label",
    "LabelError",
    "Layout",
    "find_font",
    "label_box",
    "render_label",
    "render_pages",
    "write_pdf",
    "write_png",
]

FONT_ENV = "OUTPOST_LABEL_FONT"
QUIET_ZONE = 4  # modules, as ISO/IEC 18004 asks
MIN_MODULE_PX = 3  # below ~0.25 mm a module is too small for phone cameras at a usual distance
QR_MASK = 0
MIN_PAGES_FOR_WORKERS = 8  # below that, starting worker processes (~0.2 s) costs more than it saves
ELLIPSIS = "…"

# Searched in order; the first that exists wins. Sans before serif, regular before bold.
CJK_FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian/Ubuntu fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch, Fedora
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # Debian fonts-wqy-microhei
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",  # macOS
    "/System/Library/Fonts/STHeiti Light.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",  # Windows: Microsoft YaHei
    "C:/Windows/Fonts/simhei.ttf",
)
MONO_FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf",
    "/System/Library/Fonts/Menlo.ttc",
    "C:/Windows/Fonts/consolab.ttf",
)
INSTALL_HINT = (
    "no CJK font found for label text: Chinese names will print as empty boxes. Install one "
    "(Debian/Ubuntu: apt-get install fonts-noto-cjk; Fedora: dnf install google-noto-sans-cjk-fonts) "
    f"or set {FONT_ENV} to a .ttf/.ttc/.otf file that covers Chinese."
)


class LabelError(ValueError):
    """A label cannot be rendered as asked (bad input, or it does not fit the layout)."""


class FontNotFound(LabelError):
    """A font file given by argument or ``$OUTPOST_LABEL_FONT`` does not exist or cannot be read."""


class FontWarning(UserWarning):
    """No CJK-capable font: labels still render, with Pillow's built-in font."""


@dataclass(frozen=True)
class Label:
    """One label: the tag (printed as text), the URL in the QR code, the asset name and its org unit."""

    tag: str
    url: str
    name: str = ""
    org_unit: str = ""


@dataclass(frozen=True)
class Layout:
    """Where labels go on a page. Lengths in millimetres; text sizes are the font's em size."""

    name: str
    page_mm: tuple[float, float]
    label_mm: tuple[float, float]
    columns: int = 1
    rows: int = 1
    origin_mm: tuple[float, float] = (0.0, 0.0)  # top-left corner of the first label
    padding_mm: float = 2.0
    gap_mm: float = 1.5  # between the QR code's quiet zone and the text
    tag_mm: float = 4.5  # at most; smaller when the tag would not fit
    name_mm: float = 3.4
    org_mm: float = 2.8
    name_lines: int = 2
    dpi: int = 300

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def px(self, mm: float) -> int:
        return round(mm * self.dpi / 25.4)

    @property
    def page_px(self) -> tuple[int, int]:
        return self.px(self.page_mm[0]), self.px(self.page_mm[1])


A4_3X8 = Layout("a4-3x8", (210.0, 297.0), (70.0, 37.0), columns=3, rows=8, origin_mm=(0.0, 0.5), padding_mm=2.5)
THERMAL_50X30 = Layout(
    "thermal-50x30", (50.0, 30.0), (50.0, 30.0), padding_mm=1.5, gap_mm=1.0, tag_mm=3.6, name_mm=2.8, org_mm=2.3
)
LAYOUTS = {layout.name: layout for layout in (A4_3X8, THERMAL_50X30)}


def label_box(layout: Layout, index: int) -> tuple[int, int, int, int]:
    """The pixel box ``(left, top, right, bottom)`` of the ``index``-th label on its page."""
    i = index % layout.per_page
    col, row = i % layout.columns, i // layout.columns
    x0 = layout.origin_mm[0] + col * layout.label_mm[0]
    y0 = layout.origin_mm[1] + row * layout.label_mm[1]
    return layout.px(x0), layout.px(y0), layout.px(x0 + layout.label_mm[0]), layout.px(y0 + layout.label_mm[1])


# --- fonts -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FontChoice:
    """A font file and the face to use in it (collections such as .ttc hold several)."""

    path: Path
    index: int = 0


def find_font(font: str | os.PathLike[str] | None = None) -> FontChoice | None:
    """The CJK-capable font for label text, or ``None`` (after a :class:`FontWarning`) when there is none.

    ``font`` (a path) wins, then ``$OUTPOST_LABEL_FONT``; either one that does not exist raises
    :class:`FontNotFound`, since somebody asked for it, and one without Chinese characters warns.
    Otherwise well-known paths, then fontconfig (``fc-list :lang=zh``).
    """
    asked = font if font is not None else os.environ.get(FONT_ENV) or None
    if asked is not None:
        path = Path(asked).expanduser()
        where = "font argument" if font is not None else f"${FONT_ENV}"
        if not path.is_file():
            raise FontNotFound(f"{where}: font file {str(path)!r} does not exist")
        choice = _choose_face(path, where)
        if not _covers_chinese(choice):
            warnings.warn(f"{where}: {path.name} has no Chinese characters. {INSTALL_HINT}", FontWarning, stacklevel=2)
        return choice
    found = _search_cjk_font()
    if found is None:
        warnings.warn(INSTALL_HINT, FontWarning, stacklevel=2)
        return None
    return _choose_face(found, "system font")


@functools.cache
def _search_cjk_font() -> Path | None:
    for candidate in CJK_FONT_PATHS:
        if Path(candidate).is_file():
            return Path(candidate)
    return _fontconfig_cjk_font()


def _fontconfig_cjk_font() -> Path | None:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        out = subprocess.run(
            [fc_list, ":lang=zh", "file", "style"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = []
    for line in out.splitlines():
        file, _, style = line.partition(":")
        if file.strip():
            score = ("sans" not in file.lower()) + 2 * ("regular" not in style.lower() and "book" not in style.lower())
            files.append((score, file.strip()))
    return Path(min(files)[1]) if files else None


@functools.cache
def _choose_face(path: Path, where: str) -> FontChoice:
    """In a collection, the Simplified Chinese face (…SC / …GB) when there is one, else the first face."""
    faces = []
    for index in range(32):
        try:
            family = ImageFont.truetype(str(path), 12, index=index).getname()[0] or ""
        except OSError as exc:
            if index == 0:
                raise FontNotFound(f"{where}: {str(path)!r} is not a font Pillow can read ({exc})") from None
            break
        faces.append((index, family))
    for index, family in faces:
        words = family.replace("-", " ").split()
        if ("SC" in words or "GB" in words) and "Mono" not in words:
            return FontChoice(path, index)
    return FontChoice(path, 0)


@functools.cache
def _covers_chinese(choice: FontChoice) -> bool:
    """Whether the font draws 中 differently from a character no font has (its "missing glyph" box)."""
    font = _load_font(choice, 32)

    def ink(char: str) -> bytes:
        image = Image.new("1", (48, 48), 0)
        ImageDraw.Draw(image).text((4, 4), char, font=font, fill=1)
        return image.tobytes()

    return ink("中") != ink("\U0010fffd")


def _find_mono_font() -> FontChoice | None:
    for candidate in MONO_FONT_PATHS:
        if Path(candidate).is_file():
            return FontChoice(Path(candidate))
    return None


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.lru_cache(maxsize=64)
def _load_font(choice: FontChoice | None, size: int) -> Font:
    if choice is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(str(choice.path), size, index=choice.index)


# Scripts drawn glyph by glyph from cached bitmaps: no shaping needed (Latin, CJK, kana, Hangul, their
# punctuation and full-width forms). Anything else (Arabic or Uyghur, Tibetan, Mongolian, Indic scripts,
# combining marks, joiners) is drawn a line at a time by Pillow, which shapes it with Raqm.
_UNSHAPED = re.compile(
    "[\x20-\x7e\u00a0-\u024f\u2010-\u2027\u2030-\u205e\u2100-\u214f\u2190-\u21ff\u2460-\u24ff"
    "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff\uff01-\uffee]*"
)


def _unshaped(font: Font, text: str) -> bool:
    return isinstance(font, ImageFont.FreeTypeFont) and _UNSHAPED.fullmatch(text) is not None


@functools.lru_cache(maxsize=16384)  # CJK names use a few thousand characters; a glyph is ~2 KB
def _glyph(font: Font, char: str) -> tuple[Image.Image | None, int, int, float]:
    """One character's ink as a paste mask, its offset from the pen position, and its advance."""
    left, top, right, bottom = (int(v) for v in font.getbbox(char))
    advance = float(font.getlength(char))
    if right <= left or bottom <= top:
        return None, 0, 0, advance
    mask = Image.new("1", (right - left, bottom - top), 0)
    ImageDraw.Draw(mask).text((-left, -top), char, font=font, fill=1)
    return mask, left, top, advance


def _length(font: Font, text: str) -> float:
    """The advance width of ``text`` as :func:`_paste_text` draws it."""
    if _unshaped(font, text):
        return sum(_glyph(font, char)[3] for char in text)
    return float(font.getlength(text))


def _line_height(font: Font) -> int:
    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
        return int(ascent + descent)
    box = font.getbbox("Ag")
    return int(box[3] - box[1]) + 2


def _ellipsise(text: str, font: Font, width: int) -> str:
    if _length(font, text) <= width:
        return text
    lo, hi = 0, len(text)  # longest prefix that fits with the ellipsis
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _length(font, text[:mid].rstrip() + ELLIPSIS) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS if lo or _length(font, ELLIPSIS) <= width else ""


_NO_LINE_START = frozenset("）)」』】〕〉》、。，,.：:；;！!？?%")  # closing punctuation stays on the line before


@functools.lru_cache(maxsize=8192)
def _wrap(text: str, font: Font, width: int, max_lines: int) -> tuple[str, ...]:
    """At most ``max_lines`` lines that fit ``width``; CJK breaks anywhere, Latin at spaces when it can."""
    lines: list[str] = []
    rest = " ".join(text.split())
    while rest and len(lines) < max_lines:
        if len(lines) == max_lines - 1 or _length(font, rest) <= width:
            lines.append(_ellipsise(rest, font, width))
            break
        lo, hi = 1, len(rest)  # longest prefix that fits (at least one character)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if _length(font, rest[:mid]) <= width:
                lo = mid
            else:
                hi = mid - 1
        space = rest.rfind(" ", 0, lo + 1)
        cut = space if space > lo // 2 else lo
        while 1 < cut < len(rest) and rest[cut] in _NO_LINE_START:
            cut -= 1
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return tuple(lines)


@functools.lru_cache(maxsize=256)  # a mask is ~25 KB
def _text_mask(text: str, font: Font) -> Image.Image:
    """A whole line as a paste mask (mode "1", set where ink goes), for text that needs shaping."""
    width = max(1, math.ceil(_length(font, text)) + 2)
    image = Image.new("1", (width, _line_height(font)), 0)
    ImageDraw.Draw(image).text((0, 0), text, font=font, fill=1)
    return image


# --- rendering ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """Everything needed to draw labels, resolved once; picklable, so worker processes get it as is."""

    layout: Layout
    width: int
    height: int
    pad: int
    qr_box: int  # the square reserved for the QR code and its quiet zone
    text_x: int
    text_width: int
    text_font: FontChoice | None
    tag_font: FontChoice | None
    tag_size: int

    def fonts(self) -> tuple[Font, Font, Font]:
        """Name, org unit and tag fonts (loaded once per process)."""
        layout = self.layout
        return (
            _load_font(self.text_font, layout.px(layout.name_mm)),
            _load_font(self.text_font, layout.px(layout.org_mm)),
            _load_font(self.tag_font, self.tag_size),
        )


def _plan(layout: Layout, font: str | os.PathLike[str] | None, labels: Sequence[Label]) -> _Plan:
    if not isinstance(layout, Layout):
        raise LabelError(f"expected a Layout (e.g. one of {sorted(LAYOUTS)}), got {type(layout).__name__}")
    width, height = layout.px(layout.label_mm[0]), layout.px(layout.label_mm[1])
    pad = layout.px(layout.padding_mm)
    qr_box = height - 2 * pad
    text_x = pad + qr_box + layout.px(layout.gap_mm)
    text_width = width - pad - text_x
    if qr_box <= 0 or text_width <= 0:
        raise LabelError(f"layout {layout.name!r} leaves no room for the QR code and the text")
    text_font = find_font(font)
    tag_font = _find_mono_font() or text_font
    longest = max((len(label.tag.strip()) for label in labels), default=1)
    probe = _load_font(tag_font, 100)
    fit = int(text_width * 100 / max(1.0, _length(probe, "W" * longest)))
    tag_size = max(8, min(layout.px(layout.tag_mm), fit))
    return _Plan(layout, width, height, pad, qr_box, text_x, text_width, text_font, tag_font, tag_size)


_MODULE_TO_GRAY = bytes([255, 0]) + bytes(254)  # segno's matrix: 0 light → white (255), 1 dark → black (0)


def _qr_image(url: str, box: int) -> Image.Image:
    try:
        qr = segno.make_qr(url, error="m", mask=QR_MASK)
    except segno.DataOverflowError:
        raise LabelError(f"URL too long for a QR code: {url[:60]!r}…") from None
    matrix = qr.matrix
    n = len(matrix)
    modules = n + 2 * QUIET_ZONE
    scale = box // modules
    if scale < MIN_MODULE_PX:
        raise LabelError(
            f"URL too long for this label: its QR code needs {modules} modules, {box} px give {scale} px each "
            f"(at least {MIN_MODULE_PX}); use a shorter public base URL"
        )
    small = Image.frombytes("L", (n, n), b"".join(bytes(row) for row in matrix).translate(_MODULE_TO_GRAY))
    qr_px = n * scale
    framed = Image.new("L", (qr_px + 2 * QUIET_ZONE * scale,) * 2, 255)
    framed.paste(small.resize((qr_px, qr_px), Image.Resampling.NEAREST), (QUIET_ZONE * scale,) * 2)
    return framed.convert("1", dither=Image.Dither.NONE)


def _check(labels: Iterable[Label]) -> list[Label]:
    if isinstance(labels, Label | str | bytes) or not isinstance(labels, Iterable):
        raise LabelError(f"expected a list of Label, got {type(labels).__name__}")
    out = []
    for i, label in enumerate(labels):
        if not isinstance(label, Label):
            raise LabelError(f"label {i}: expected a Label, got {type(label).__name__}")
        for field in ("tag", "url", "name", "org_unit"):
            if not isinstance(getattr(label, field), str):
                raise LabelError(f"label {i}: {field} must be text, got {type(getattr(label, field)).__name__}")
        if not label.tag.strip() or not label.url.strip():
            raise LabelError(f"label {i}: the tag and the URL must not be empty")
        out.append(label)
    return out


def _check_fit(plan: _Plan, labels: Sequence[Label]) -> None:
    """Refuse a URL whose QR code could not be printed on this layout, before any page is drawn.

    The longest URL (in bytes) makes the largest QR code, so trying that one is enough.
    """
    if not labels:
        return
    index, longest = max(enumerate(labels), key=lambda item: len(item[1].url.encode("utf-8")))
    try:
        _qr_image(longest.url, plan.qr_box)
    except LabelError as exc:
        raise LabelError(f"label {index} ({longest.tag}): {exc}") from None


def _draw_label(page: Image.Image, origin: tuple[int, int], label: Label, plan: _Plan) -> None:
    name_font, org_font, tag_font = plan.fonts()
    x0, y0 = origin
    qr = _qr_image(label.url, plan.qr_box)
    page.paste(qr, (x0 + plan.pad + (plan.qr_box - qr.width) // 2, y0 + plan.pad + (plan.qr_box - qr.height) // 2))
    # The quiet zone is white inside the QR image; the text starts right of the box reserved for it.
    tx, top, bottom, width = x0 + plan.text_x, y0 + plan.pad, y0 + plan.height - plan.pad, plan.text_width
    y = top
    for line in _wrap(label.name, name_font, width, plan.layout.name_lines):
        y = _paste_text(page, line, name_font, tx, y, bottom)
    if label.org_unit.strip():
        y = _paste_text(page, _ellipsise(" ".join(label.org_unit.split()), org_font, width), org_font, tx, y, bottom)
    tag_line = _ellipsise(label.tag.strip(), tag_font, width)
    _paste_text(page, tag_line, tag_font, tx, max(y, bottom - _line_height(tag_font)), bottom)


def _paste_text(page: Image.Image, text: str, font: Font, x: int, y: int, bottom: int) -> int:
    """Draw one line at (x, y) if it fits above ``bottom``; the y of the next line.

    Text without shaping is put together from cached glyph bitmaps (FreeType draws each character once
    per run instead of once per label: the text was a third of the drawing time); other text is drawn
    by Pillow a line at a time.
    """
    height = _line_height(font)
    if not text or y + height > bottom:
        return y
    if _unshaped(font, text):
        pen = float(x)
        for char in text:
            mask, left, top, advance = _glyph(font, char)
            if mask is not None:
                gx, gy = round(pen) + left, y + top
                page.paste(0, (gx, gy, gx + mask.width, gy + mask.height), mask)
            pen += advance
    else:
        mask = _text_mask(text, font)
        page.paste(0, (x, y, x + mask.width, y + mask.height), mask)
    return y + height


def _render_page(plan: _Plan, labels: Sequence[Label]) -> Image.Image:
    page = Image.new("1", plan.layout.page_px, 1)
    for i, label in enumerate(labels):
        left, top, _, _ = label_box(plan.layout, i)
        _draw_label(page, (left, top), label, plan)
    return page


def _pdf_page(plan: _Plan, labels: Sequence[Label]) -> tuple[int, int, bytes]:
    """A page as CCITT Group 4 data (what Pillow's PDF writer embeds), made where the page was drawn."""
    page = _render_page(plan, labels)
    width, height = page.size
    buf = io.BytesIO()
    page.save(buf, "TIFF", compression="group4", strip_size=math.ceil(width / 8) * height)  # one strip
    with Image.open(buf) as tiff:
        if not isinstance(tiff, TiffImagePlugin.TiffImageFile) or len(tiff.tag_v2[273]) != 1:
            raise RuntimeError("expected a single-strip Group 4 TIFF from Pillow")
        offsets, counts = tiff.tag_v2[273], tiff.tag_v2[279]  # StripOffsets, StripByteCounts
    return width, height, buf.getvalue()[offsets[0] : offsets[0] + counts[0]]


def _png_page(plan: _Plan, labels: Sequence[Label], path: Path) -> Path:
    _render_page(plan, labels).save(path, "PNG", dpi=(plan.layout.dpi, plan.layout.dpi))
    return path


def _pages(plan: _Plan, labels: Sequence[Label]) -> list[Sequence[Label]]:
    n = plan.layout.per_page
    return [labels[i : i + n] for i in range(0, len(labels), n)]


T = TypeVar("T")


def _cpus() -> int:
    """CPUs this process may use (a container's affinity, not the host's count, where the OS tells)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _can_fork() -> bool:
    """Forking is cheap and safe here: Linux, and no other thread that could hold a lock at the fork."""
    return sys.platform == "linux" and threading.active_count() == 1


def _run(fn: Callable[..., T], jobs: Sequence[tuple[object, ...]], workers: int | None) -> Iterator[T]:
    """``fn(*job)`` for each job, in order; in worker processes when there is enough work for them.

    ``workers=None`` uses processes only where they start by a plain fork (Linux, a single-threaded
    caller such as the ``outpost labels`` command): a forked child inherits the loaded fonts and glyphs
    and does not import the caller's main module again. Elsewhere (e.g. a server's worker thread) it
    draws in the calling thread. An explicit ``workers`` > 1 from a multi-threaded caller starts a
    forkserver (spawn where there is none); as with any multiprocessing, the caller's main module must
    then be safe to import (``if __name__ == "__main__":``).
    """
    if workers is None:
        auto = len(jobs) >= MIN_PAGES_FOR_WORKERS and _can_fork()
        workers = min(_cpus(), 4) if auto else 1
    if not isinstance(workers, int) or workers < 1:
        raise LabelError(f"workers must be a positive number, got {workers!r}")
    workers = min(workers, len(jobs))
    if workers <= 1:
        yield from (fn(*job) for job in jobs)
        return
    context: multiprocessing.context.BaseContext
    if _can_fork():
        context = multiprocessing.get_context("fork")
    elif "forkserver" in multiprocessing.get_all_start_methods():
        forkserver = multiprocessing.get_context("forkserver")
        forkserver.set_forkserver_preload([__name__])  # children start with this module imported
        context = forkserver
    else:
        context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        yield from pool.map(fn, *zip(*jobs, strict=True))


def render_pages(
    labels: Iterable[Label], layout: Layout = A4_3X8, *, font: str | os.PathLike[str] | None = None
) -> Iterator[Image.Image]:
    """Page images (mode ``"1"``, ``layout.dpi``), ``layout.per_page`` labels each, in order, in this process.

    Bad labels raise :class:`LabelError` before the first page is made.
    """
    items = _check(labels)
    plan = _plan(layout, font, items)
    _check_fit(plan, items)
    return (_render_page(plan, chunk) for chunk in _pages(plan, items))


def render_label(label: Label, layout: Layout = A4_3X8, *, font: str | os.PathLike[str] | None = None) -> Image.Image:
    """One label alone, cut to its own size (what a phone photographs)."""
    items = _check([label])
    plan = _plan(layout, font, items)
    _check_fit(plan, items)
    image = Image.new("1", (plan.width, plan.height), 1)
    _draw_label(image, (0, 0), items[0], plan)
    return image


def write_pdf(
    labels: Iterable[Label],
    path: str | os.PathLike[str],
    layout: Layout = A4_3X8,
    *,
    font: str | os.PathLike[str] | None = None,
    workers: int | None = None,
) -> int:
    """All labels in one PDF; the number of pages.

    Each page is one 1-bit image stored losslessly with CCITT Group 4, the page size from the layout.
    Pages are drawn and compressed in ``workers`` processes and written as they come, so memory stays
    small. Default: one process per CPU (up to 4) for 8 pages or more when the caller is single-threaded
    on Linux, else the calling thread; ``workers=1`` always draws in the calling thread (see :func:`_run`).
    """
    items = _check(labels)
    if not items:
        raise LabelError("no labels to write")
    plan = _plan(layout, font, items)
    _check_fit(plan, items)
    chunks = _pages(plan, items)
    target = Path(path)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        _write_pdf(partial, plan, chunks, workers)
        partial.replace(target)  # all or nothing: an earlier file of that name stays until the new one is whole
    finally:
        partial.unlink(missing_ok=True)
    return len(chunks)


def _write_pdf(target: Path, plan: _Plan, chunks: list[Sequence[Label]], workers: int | None) -> None:
    layout = plan.layout
    with target.open("wb") as fp:
        pdf = PdfParser.PdfParser(f=fp, mode="w+b")
        pdf.start_writing()
        pdf.write_header()
        pdf.write_comment("Outpost labels")
        pdf.info["Title"] = "Outpost labels"
        page_refs = [pdf.next_object_id(0) for _ in chunks]
        content_refs = [pdf.next_object_id(0) for _ in chunks]
        pdf.pages.extend(page_refs)
        pdf.write_catalog()
        scale = 72.0 / layout.dpi
        for (width, height, data), page_ref, content_ref in zip(
            _run(_pdf_page, [(plan, chunk) for chunk in chunks], workers), page_refs, content_refs, strict=True
        ):
            image_ref = pdf.write_obj(
                None,
                stream=data,
                Type=PdfParser.PdfName("XObject"),
                Subtype=PdfParser.PdfName("Image"),
                Width=width,
                Height=height,
                Filter=PdfParser.PdfArray([PdfParser.PdfName("CCITTFaxDecode")]),
                DecodeParms=PdfParser.PdfArray(
                    [PdfParser.PdfDict({"K": -1, "BlackIs1": True, "Columns": width, "Rows": height})]
                ),
                BitsPerComponent=1,
                ColorSpace=PdfParser.PdfName("DeviceGray"),
            )
            w_pt, h_pt = width * scale, height * scale
            pdf.write_page(
                page_ref,
                Resources=PdfParser.PdfDict(
                    ProcSet=[PdfParser.PdfName("PDF"), PdfParser.PdfName("ImageB")],
                    XObject=PdfParser.PdfDict(image=image_ref),
                ),
                MediaBox=[0, 0, w_pt, h_pt],
                Contents=content_ref,
            )
            pdf.write_obj(content_ref, stream=b"q %f 0 0 %f 0 0 cm /image Do Q\n" % (w_pt, h_pt))
        pdf.write_xref_and_trailer()


def write_png(
    labels: Iterable[Label],
    folder: str | os.PathLike[str],
    layout: Layout = A4_3X8,
    *,
    font: str | os.PathLike[str] | None = None,
    stem: str = "labels",
    workers: int | None = None,
) -> list[Path]:
    """One PNG per page, ``<stem>-001.png`` …, in ``folder`` (created); the paths written, in page order."""
    items = _check(labels)
    if not items:
        raise LabelError("no labels to write")
    plan = _plan(layout, font, items)
    _check_fit(plan, items)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    chunks = _pages(plan, items)
    jobs = [(plan, chunk, out / f"{stem}-{number:03d}.png") for number, chunk in enumerate(chunks, start=1)]
    return list(_run(_png_page, jobs, workers))
