"""Label sheets: what is printed decodes back to its tag, text stays inside its label, CJK needs a font."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image, ImageOps

from scanner import labels as labels_module
from scanner.decode import decode_image
from scanner.labels import (
    A4_3X8,
    FONT_ENV,
    LAYOUTS,
    THERMAL_50X30,
    FontNotFound,
    FontWarning,
    Label,
    LabelError,
    find_font,
    label_box,
    render_label,
    render_pages,
    write_pdf,
    write_png,
)
from scanner.payload import Tag, encode_url, parse
from scanner.tags import DEFAULT_FORMAT

BASE = "https://outpost.example.com"
NAMES = [
    "空调外机 三号楼天台 东侧",
    "Dell Latitude 7440 laptop with docking station",
    "叉车",
    "冷柜（展示型）双门 1.2m 广州天河店 收银台左侧第二台",
    "",
]
ORGS = ["广州天河区 销售一部", "GZ-YX", "华南大区 / 深圳南山 / 仓储物流中心 二号库 东区", ""]


def make_labels(n: int, start: int = 1) -> list[Label]:
    out = []
    for i in range(start, start + n):
        tag = DEFAULT_FORMAT.make(i * 7919 % DEFAULT_FORMAT.max_number)
        out.append(Label(tag, encode_url(BASE, tag), NAMES[i % len(NAMES)], ORGS[i % len(ORGS)]))
    return out


def centre(corners: tuple[tuple[int, int], ...]) -> tuple[float, float]:
    return sum(x for x, _ in corners) / 4, sum(y for _, y in corners) / 4


def assert_page_decodes(image: Image.Image, expected: list[Label], layout=A4_3X8, scale: float = 1.0) -> None:
    """Every label on the page decodes to its own tag, inside its own box on the page."""
    found = decode_image(image)
    by_text = {d.text: d for d in found}
    assert len(found) == len(expected), f"{len(found)} codes found, {len(expected)} labels"
    for i, label in enumerate(expected):
        decoded = by_text.get(label.url)
        assert decoded is not None, f"label {i} ({label.tag}) did not decode"
        assert decoded.format == "QRCode"
        assert parse(decoded.text) == Tag(label.tag)
        x, y = centre(decoded.position)
        left, top, right, bottom = label_box(layout, i)
        assert left * scale <= x <= right * scale and top * scale <= y <= bottom * scale, (i, x, y)


def test_a_thousand_labels_in_a_pdf_all_decode_back(tmp_path: Path):
    labels = make_labels(1000)
    path = tmp_path / "labels.pdf"
    pages = write_pdf(labels, path, A4_3X8, workers=2)
    assert pages == 42  # 1000 / 24, rounded up
    pdf = pypdfium2.PdfDocument(path)
    try:
        assert len(pdf) == 42
        decoded = 0
        for number in range(len(pdf)):
            page = pdf[number]
            width, height = page.get_size()
            assert abs(width - 595.3) < 1 and abs(height - 841.9) < 1  # A4 in points
            image = page.render(scale=300 / 72, grayscale=True).to_pil()
            expected = labels[number * 24 : number * 24 + 24]
            assert_page_decodes(image, expected, scale=image.width / A4_3X8.page_px[0])
            decoded += len(expected)
            page.close()
    finally:
        pdf.close()
    assert decoded == 1000


def test_pdf_is_the_same_whether_drawn_in_workers_or_not(tmp_path: Path):
    labels = make_labels(100, start=5000)
    one, two = tmp_path / "one.pdf", tmp_path / "two.pdf"
    assert write_pdf(labels, one, workers=1) == write_pdf(labels, two, workers=2) == 5
    assert one.read_bytes() == two.read_bytes()


def test_png_pages(tmp_path: Path):
    labels = make_labels(30, start=300)
    paths = write_png(labels, tmp_path / "out", A4_3X8, stem="sheet", workers=2)
    assert [p.name for p in paths] == ["sheet-001.png", "sheet-002.png"]
    first = Image.open(paths[0])
    assert first.size == A4_3X8.page_px == (2480, 3508)
    assert first.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert_page_decodes(first, labels[:24])
    assert_page_decodes(Image.open(paths[1]), labels[24:])


def test_thermal_labels_one_per_page(tmp_path: Path):
    labels = make_labels(3, start=77)
    paths = write_png(labels, tmp_path, THERMAL_50X30, workers=1)
    assert len(paths) == 3
    for path, label in zip(paths, labels, strict=True):
        image = Image.open(path)
        assert image.size == (591, 354)  # 50 × 30 mm at 300 dpi
        assert_page_decodes(image, [label], THERMAL_50X30)


@pytest.mark.parametrize("layout", list(LAYOUTS.values()), ids=list(LAYOUTS))
def test_long_text_stays_inside_its_label_and_off_the_qr_code(layout):
    long = Label(
        DEFAULT_FORMAT.make(12345678),
        encode_url(BASE, DEFAULT_FORMAT.make(12345678)),
        "冷柜" * 60 + " Supercalifragilisticexpialidocious" * 5,
        "华南大区深圳南山仓储物流中心" * 10,
    )
    (page,) = render_pages([long], layout)
    ink = ImageOps.invert(page.convert("L"))
    left, top, right, bottom = label_box(layout, 0)
    plan = labels_module._plan(layout, None, [long])
    pad = plan.pad
    assert ink.getbbox() is not None
    # Nothing outside the label's own box, less its padding: the neighbours stay clean.
    outside = ink.copy()
    outside.paste(0, (left + pad, top + pad, right - pad, bottom - pad))
    assert outside.getbbox() is None
    # Text only right of the QR code's reserved square (its quiet zone stays white).
    text_area = ink.crop((left + plan.text_x, top, right, bottom))
    qr_area = ink.crop((left, top, left + plan.text_x, bottom))
    assert text_area.getbbox() is not None
    assert decode_image(Image.merge("L", [ImageOps.invert(qr_area)]))[0].text == long.url
    # The long name was cut with an ellipsis, not dropped.
    lines = labels_module._wrap(long.name, plan.fonts()[0], plan.text_width, layout.name_lines)
    assert len(lines) == layout.name_lines and lines[-1].endswith("…")


def test_cjk_font_is_found_on_this_machine_and_draws_chinese():
    choice = find_font()
    assert choice is not None, "install fonts-noto-cjk (the test command does)"
    font = labels_module._load_font(choice, 40)
    # A font that covers Chinese draws two different characters differently; a fallback draws the
    # same empty box (or nothing) for both.
    a, b = (labels_module._text_mask(c, font) for c in "空调")
    assert a.getbbox() is not None and b.getbbox() is not None
    assert a.tobytes() != b.tobytes()


def test_fontconfig_is_asked_when_no_known_path_exists(monkeypatch):
    monkeypatch.setattr(labels_module, "CJK_FONT_PATHS", ())
    found = labels_module._fontconfig_cjk_font()
    assert found is not None and found.is_file()
    assert find_font(found) is not None


def test_without_a_cjk_font_a_warning_says_what_to_install_and_labels_still_render(monkeypatch):
    monkeypatch.delenv(FONT_ENV, raising=False)
    monkeypatch.setattr(labels_module, "_search_cjk_font", lambda: None)
    with pytest.warns(FontWarning, match="fonts-noto-cjk"):
        assert find_font() is None
    label = make_labels(1)[0]
    with pytest.warns(FontWarning):
        image = render_label(label)
    assert decode_image(image)[0].text == label.url


def test_font_from_the_environment(monkeypatch, tmp_path: Path):
    real = find_font()
    assert real is not None
    monkeypatch.setenv(FONT_ENV, str(real.path))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert find_font() == real
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "missing.ttf"))
    with pytest.raises(FontNotFound, match=FONT_ENV):
        find_font()
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_bytes(b"not a font")
    with pytest.raises(FontNotFound, match="not a font"):
        find_font(not_a_font)


def test_a_configured_font_without_chinese_warns(monkeypatch):
    latin_only = labels_module._find_mono_font()  # DejaVu Sans Mono: no CJK glyphs
    assert latin_only is not None
    with pytest.warns(FontWarning, match="no Chinese characters"):
        assert find_font(latin_only.path) == latin_only
    real = find_font()
    assert real is not None and labels_module._covers_chinese(real)


def test_a_font_argument_wins_and_must_exist(tmp_path: Path):
    with pytest.raises(FontNotFound, match="font argument"):
        render_label(make_labels(1)[0], font=tmp_path / "nope.ttc")


@pytest.mark.parametrize(
    "bad",
    [
        "not a list",
        [("AS00000001X", "https://x")],
        [Label("", "https://outpost.example.com/t/X")],
        [Label("AS00000001X", "")],
        [Label("AS00000001X", "https://x", name=None)],  # type: ignore[arg-type]
        [Label("AS00000001X", "https://outpost.example.com/t/" + "x" * 2000)],
    ],
)
def test_bad_labels_are_a_label_error_before_anything_is_written(bad, tmp_path: Path):
    path = tmp_path / "bad.pdf"
    with pytest.raises(LabelError):
        write_pdf(bad, path)
    assert not path.exists()
    with pytest.raises(LabelError):
        render_pages(bad)


def test_no_labels_no_file(tmp_path: Path):
    with pytest.raises(LabelError, match="no labels"):
        write_pdf([], tmp_path / "empty.pdf")
    with pytest.raises(LabelError, match="no labels"):
        write_png([], tmp_path)
    assert list(render_pages([])) == []


@pytest.mark.parametrize("workers", [0, -1, "2"])
def test_a_failed_write_leaves_the_earlier_file_alone(workers, tmp_path: Path):
    earlier = tmp_path / "x.pdf"
    earlier.write_bytes(b"the labels printed last week")
    with pytest.raises(LabelError, match="workers"):
        write_pdf(make_labels(1), earlier, workers=workers)
    assert earlier.read_bytes() == b"the labels printed last week"
    assert [p.name for p in tmp_path.iterdir()] == ["x.pdf"]  # no partial file left behind


def test_label_boxes_tile_the_sheet():
    boxes = [label_box(A4_3X8, i) for i in range(24)]
    assert boxes[0] == (0, 6, 827, 443)  # 0.5 mm top margin, 70 × 37 mm at 300 dpi
    assert boxes[23][2] == 2480 and boxes[23][3] <= 3508
    for a, b in itertools.pairwise(boxes):
        if a[1] == b[1]:
            assert a[2] == b[0]  # side by side, no gap, no overlap
    assert label_box(A4_3X8, 24) == boxes[0]  # the next page starts over


class RecordingPool:
    """Stands in for ProcessPoolExecutor: records how it was asked to start, runs the jobs here."""

    started: list[tuple[int, str]] = []

    def __init__(self, workers: int, mp_context) -> None:
        RecordingPool.started.append((workers, mp_context.get_start_method()))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def map(self, fn, *iterables):
        return map(fn, *iterables)


@pytest.mark.parametrize(
    "can_fork,workers,jobs,expected",
    [
        (True, None, 8, [(2, "fork")]),  # a single-threaded caller: forked workers
        (True, None, 7, []),  # too little work to start processes
        (False, None, 50, []),  # a server's worker thread: drawn in that thread
        (False, 2, 50, [(2, "forkserver")]),  # asked for explicitly: a clean forkserver
        (True, 1, 50, []),
    ],
)
def test_when_worker_processes_are_used(monkeypatch, can_fork, workers, jobs, expected):
    RecordingPool.started = []
    monkeypatch.setattr(labels_module, "ProcessPoolExecutor", RecordingPool)
    monkeypatch.setattr(labels_module, "_can_fork", lambda: can_fork)
    monkeypatch.setattr(labels_module, "_cpus", lambda: 2)
    results = list(labels_module._run(pow, [(n, 2) for n in range(jobs)], workers))
    assert results == [n * n for n in range(jobs)]
    assert RecordingPool.started == expected
