"""``python -m bench.scanner [--labels 1000] [--runs 3] [--photos 200] [--writers] [--only output|decode]``.

1. Labels to PDF: ``scanner.labels.write_pdf`` for ``--labels`` labels on A4 sheets of 3 × 8 (target:
   1,000 in ≤ 3 s), drawn in this process (``workers=1``) and in worker processes (the default: one per
   CPU); the median of ``--runs``. Then the same labels as PNG pages, and 50 × 30 mm thermal labels.
2. With ``--writers``: other lossless PDF writers over the same page images, for the record — Pillow's
   own ``save(save_all=True)`` (also CCITT Group 4) and img2pdf from PNG pages.
3. Decoding: ``--photos`` single-label "phone photos" (scanner.degrade) per degradation; the share that
   decodes back to the right tag, and the decode time per photo (zxing-cpp only, median and p90).

The labels carry a mix of Chinese and Latin names and org units, as the demo data does.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from scanner.decode import decode_image
from scanner.degrade import DEGRADATIONS
from scanner.labels import A4_3X8, THERMAL_50X30, Label, find_font, render_label, render_pages, write_pdf, write_png
from scanner.payload import Tag, encode_url, parse
from scanner.tags import DEFAULT_FORMAT

TARGET_PDF_S = 3.0
BASE = "https://outpost.example.com"
NAMES = [
    "空调外机 三号楼天台 东侧",
    "Dell Latitude 7440 laptop",
    "叉车 合力 3 吨",
    "冷柜（展示型）双门 1.2m",
    "Epson L3258 打印机",
    "会议室投影仪",
]
ORGS = ["广州天河区 销售一部", "GZ-YX", "华南大区 深圳南山 仓储物流中心", "Head office / IT"]


def make_labels(n: int) -> list[Label]:
    rng = random.Random(n)
    out = []
    for i in range(1, n + 1):
        tag = DEFAULT_FORMAT.make(i)
        out.append(Label(tag, encode_url(BASE, tag), f"{rng.choice(NAMES)} #{i}", rng.choice(ORGS)))
    return out


def cpu_check() -> str:
    """The best of 5 runs of a fixed pure-Python loop (as bench.sync prints): compare it before comparing runs."""

    def loop() -> float:
        t0 = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i & 7
        return time.perf_counter() - t0

    return f"{1000 * min(loop() for _ in range(5)):.0f} ms"


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "n/a"


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("pillow", "segno", "zxing-cpp", "python-stdnum")
    )
    font = find_font()
    return (
        f"{os.cpu_count()} × {cpu}, {platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"{versions}; font {font.path.name if font else 'none'}; cpu check {cpu_check()}; load {load()}"
    )


def timed(fn: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def show(label: str, median: float, times: list[float], extra: str = "") -> None:
    spread = ", ".join(f"{t:.2f}" for t in times)
    print(f"  {label:<44} {median:6.2f} s   (runs: {spread}){extra}", flush=True)


def bench_output(labels: list[Label], runs: int, writers: bool) -> None:
    n = len(labels)
    print(f"\nLabels → files ({n:,} labels; median of {runs})")
    with tempfile.TemporaryDirectory(prefix="outpost-bench-labels-") as tmp:
        out = Path(tmp)
        write_pdf(labels[:48], out / "warm.pdf", workers=1)  # fonts found and loaded once, as a server would
        target = TARGET_PDF_S * n / 1000
        choices: list[tuple[int | None, str]] = [(1, "in this process"), (None, f"{os.cpu_count()} CPUs: workers")]
        for workers, what in choices:

            def pdf(workers: int | None = workers) -> None:
                write_pdf(labels, out / "labels.pdf", A4_3X8, workers=workers)

            cpu = time.process_time()
            median, times = timed(pdf, runs)
            cpu_s = (time.process_time() - cpu) / runs
            size = (out / "labels.pdf").stat().st_size
            verdict = "ok" if median <= target else "MISS"
            show(
                f"PDF, A4 3×8, {what}",
                median,
                times,
                f"  {size / 1e6:.1f} MB; this process's CPU {cpu_s:.2f} s; target ≤ {target:.2f} s: {verdict}",
            )
        median, times = timed(lambda: write_png(labels, out / "png", A4_3X8), runs)
        show("PNG pages, A4 3×8, default workers", median, times)
        median, times = timed(lambda: write_pdf(labels, out / "thermal.pdf", THERMAL_50X30), runs)
        show("PDF, thermal 50×30 (one label a page)", median, times)
        median, times = timed(lambda: list(render_pages(labels, A4_3X8)), runs)
        show("page images only (render_pages, 1 process)", median, times)
        if writers:
            compare_writers(labels, out, runs)


def compare_writers(labels: list[Label], out: Path, runs: int) -> None:
    """Lossless PDF writers over the same, already drawn, page images (drawing not counted).

    img2pdf is not a dependency; to include it: ``uv run --with img2pdf python -m bench.scanner --writers``.
    """
    pages = list(render_pages(labels, A4_3X8))
    print(f"\nPDF writers over {len(pages)} ready page images, one process (drawing not counted)")

    def pillow() -> None:
        pages[0].save(out / "pillow.pdf", "PDF", save_all=True, append_images=pages[1:], resolution=300.0)

    def encoded(fmt: str, **options: object) -> list[bytes]:
        files = []
        for page in pages:
            buf = io.BytesIO()
            page.save(buf, fmt, **options)
            files.append(buf.getvalue())
        return files

    candidates: list[tuple[str, Callable[[], object], str]] = [
        ("Pillow save_all (CCITT G4, mode 1)", pillow, "pillow.pdf")
    ]
    try:
        import img2pdf  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        print("  img2pdf: not installed, skipped (uv run --with img2pdf python -m bench.scanner --writers)")
    else:

        def img2pdf_png() -> None:
            (out / "img2pdf.pdf").write_bytes(img2pdf.convert(encoded("PNG")))

        def img2pdf_g4() -> None:
            (out / "img2pdf-g4.pdf").write_bytes(img2pdf.convert(encoded("TIFF", compression="group4")))

        candidates += [
            ("img2pdf from PNG pages (Flate)", img2pdf_png, "img2pdf.pdf"),
            ("img2pdf from G4 TIFF pages", img2pdf_g4, "img2pdf-g4.pdf"),
        ]
    for name, fn, file in candidates:
        median, times = timed(fn, runs)
        show(name, median, times, f"  {(out / file).stat().st_size / 1e6:.1f} MB")


def bench_decoding(count: int) -> None:
    rng = random.Random(7)
    labels = []
    for _ in range(count):
        tag = DEFAULT_FORMAT.make(rng.randrange(DEFAULT_FORMAT.max_number + 1))
        labels.append(Label(tag, encode_url(BASE, tag), rng.choice(NAMES), rng.choice(ORGS)))
    photos = [render_label(label, A4_3X8 if i % 4 else THERMAL_50X30) for i, label in enumerate(labels)]
    print(f"\nDecoding single-label photos ({count}: 3/4 sheet labels, 1/4 thermal; 300 dpi before damage)")
    print(f"  {'degradation':<12} {'decoded':>14}   decode ms/photo median (p90)")
    for name, degrade in {"none": lambda image, _rng: image.convert("L"), **DEGRADATIONS}.items():
        drng = random.Random(name)
        damaged: list[Image.Image] = [degrade(photo, drng) for photo in photos]
        times, read = [], 0
        for label, image in zip(labels, damaged, strict=True):
            t0 = time.perf_counter()
            found = decode_image(image)
            times.append(1000 * (time.perf_counter() - t0))
            read += any(parse(d.text) == Tag(label.tag) for d in found)
        p90 = statistics.quantiles(times, n=10)[-1]
        print(
            f"  {name:<12} {read:>5}/{count:<5} {read / count:>4.0%}   {statistics.median(times):6.1f} ({p90:.1f})",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.scanner")
    ap.add_argument("--labels", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--writers", action="store_true", help="also time other lossless PDF writers")
    ap.add_argument("--only", choices=["output", "decode"], help="run one half")
    args = ap.parse_args()
    print("Machine: " + machine())
    if args.only != "decode":
        bench_output(make_labels(args.labels), args.runs, args.writers)
    if args.only != "output":
        bench_decoding(args.photos)
    print(f"\nload {load()}, cpu check {cpu_check()} at the end")


if __name__ == "__main__":
    main()
