"""Simulated phone photos of a label, for the decode tests and the benchmark (bench/scanner).

Each degradation takes a label image (any mode; returned as 8-bit gray ``"L"``) and a seeded
``random.Random``, so a run is repeatable and a sample sees some variety (the direction of a rotation,
which corner a skew pulls). Strengths are the ones named in the issue and are meant to be hard but
realistic for a label photographed with a phone at arm's length:

- ``jpeg30`` — JPEG at quality 30 (a phone app's aggressive upload compression);
- ``blur`` — Gaussian blur of radius 3 px at 300 dpi, about a third of a QR module (slightly out of focus);
- ``rotate15`` — turned by 15° either way (a hand-held phone);
- ``skew`` — a perspective transform, the label seen from about 30° off axis;
- ``dim`` — dim light: a third of the brightness, half the contrast, with sensor noise;
- ``combined`` — all of the above at once, as a phone in a dark storeroom would (benchmark only).
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable

from PIL import Image, ImageChops, ImageEnhance, ImageFilter

__all__ = ["DEGRADATIONS", "Degradation", "blur", "combined", "dim", "jpeg", "rotate", "skew"]

Degradation = Callable[[Image.Image, random.Random], Image.Image]

WHITE = 255


def _gray(image: Image.Image) -> Image.Image:
    return image if image.mode == "L" else image.convert("L")


def jpeg(image: Image.Image, rng: random.Random, quality: int = 30) -> Image.Image:
    """Re-encoded as JPEG at ``quality``."""
    buf = io.BytesIO()
    _gray(image).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as out:
        out.load()
        return out.convert("L")


def blur(image: Image.Image, rng: random.Random, radius: float = 3.0) -> Image.Image:
    """Gaussian blur of ``radius`` pixels."""
    return _gray(image).filter(ImageFilter.GaussianBlur(radius))


def rotate(image: Image.Image, rng: random.Random, degrees: float = 15.0) -> Image.Image:
    """Turned by ``degrees`` one way or the other (chosen by ``rng``), on a white background."""
    angle = degrees if rng.random() < 0.5 else -degrees
    return _gray(image).rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=WHITE)


def skew(image: Image.Image, rng: random.Random, amount: float = 0.4) -> Image.Image:
    """Seen at an angle: one side of the label shrunk by ``amount`` of its height (a perspective transform)."""
    src = _gray(image)
    w, h = src.size
    pad = int(h * 0.2)
    canvas = Image.new("L", (w + 2 * pad, h + 2 * pad), WHITE)
    canvas.paste(src, (pad, pad))
    w2, h2 = canvas.size
    d = amount * h / 2
    # Output corners → where they come from in the input; one vertical edge is pulled together.
    quad: tuple[float, ...]
    if rng.random() < 0.5:
        quad = (0, -d, 0, h2 + d, w2, h2, w2, 0)  # left edge further away: drawn shorter
    else:
        quad = (0, 0, 0, h2, w2, h2 + d, w2, -d)
    return canvas.transform(canvas.size, Image.Transform.QUAD, quad, resample=Image.Resampling.BICUBIC, fillcolor=WHITE)


def dim(image: Image.Image, rng: random.Random, brightness: float = 0.33, noise: float = 12.0) -> Image.Image:
    """Dim light: darker, flatter, and noisy like a phone sensor pushed to a high ISO."""
    src = ImageEnhance.Contrast(_gray(image)).enhance(0.5)
    src = ImageEnhance.Brightness(src).enhance(brightness)
    # Uniform noise of standard deviation ``noise``, from ``rng`` so that a run repeats exactly.
    spread = noise * 3**0.5 / 127.5
    grain = Image.frombytes("L", src.size, rng.randbytes(src.width * src.height))
    grain = grain.point([round(128 + (v - 127.5) * spread) for v in range(256)])
    return ImageChops.add(src, grain, scale=1.0, offset=-128)


def combined(image: Image.Image, rng: random.Random) -> Image.Image:
    """Every degradation in a row: skew, rotate, blur, dim light, then JPEG."""
    out = skew(image, rng)
    out = rotate(out, rng)
    out = blur(out, rng, radius=2.0)
    out = dim(out, rng)
    return jpeg(out, rng)


DEGRADATIONS: dict[str, Degradation] = {
    "jpeg30": jpeg,
    "blur": blur,
    "rotate15": rotate,
    "skew": skew,
    "dim": dim,
    "combined": combined,
}
