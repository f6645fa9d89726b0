"""Reading QR and Code 128 codes in photos (zxing-cpp), and normalising photos as phones send them.

Phones store a photo the way the sensor saw it and say in EXIF how to turn it; :func:`open_image`
applies that (Pillow's ``ImageOps.exif_transpose``), so what is decoded, stored or shown is upright.
Anything that is not a readable image raises :class:`UnreadableImage`, whatever the file held.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import zxingcpp
from PIL import Image, ImageOps

__all__ = ["DEFAULT_FORMATS", "Decoded", "UnreadableImage", "decode_image", "open_image"]

DEFAULT_FORMATS = ("QRCode", "Code128")
"""What our labels carry: the QR code, and Code 128 on older labels."""

ImageSource = Image.Image | str | os.PathLike[str] | bytes | bytearray | memoryview


class UnreadableImage(ValueError):
    """The input is not an image Pillow can read (missing, truncated, unsupported, too large)."""


@dataclass(frozen=True)
class Decoded:
    """One code found in an image: its text, its symbology (``"QRCode"``, ``"Code128"``, …) and where it is.

    ``position`` is the four corners ``(top_left, top_right, bottom_right, bottom_left)`` in pixels of the
    upright image, as the code reads (so they turn with it); ``orientation`` is its rotation in degrees.
    """

    text: str
    format: str
    position: tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]
    orientation: int


def open_image(source: ImageSource) -> Image.Image:
    """The image, loaded and turned upright by its EXIF orientation, or :class:`UnreadableImage`."""
    try:
        if isinstance(source, Image.Image):
            image = source
        elif isinstance(source, bytes | bytearray | memoryview):
            image = Image.open(io.BytesIO(bytes(source)))
        elif isinstance(source, str | os.PathLike):
            path = Path(source)
            if not path.is_file():
                raise UnreadableImage(f"no image file at {str(path)!r}")
            image = Image.open(path)
        else:
            raise UnreadableImage(f"expected an image, a path or bytes, got {type(source).__name__}")
        image.load()
        upright = ImageOps.exif_transpose(image)
        upright.load()
        return upright
    except UnreadableImage:
        raise
    except Exception as exc:  # Pillow raises many kinds on broken input (OSError, SyntaxError, struct.error, …)
        raise UnreadableImage(f"not a readable image: {exc}") from exc


def _formats(names: list[str]) -> zxingcpp.BarcodeFormats:
    if not names or not all(isinstance(name, str) and name.strip() for name in names):
        raise ValueError(f"name the barcode formats to look for, e.g. {list(DEFAULT_FORMATS)}; got {names!r}")
    try:
        return zxingcpp.barcode_formats_from_str(",".join(names))
    except Exception as exc:
        raise ValueError(f"unknown barcode format in {list(names)!r}: {exc}") from None


def decode_image(source: ImageSource, formats: Iterable[str] = DEFAULT_FORMATS) -> list[Decoded]:
    """Every code of ``formats`` found in the image (EXIF orientation applied first); ``[]`` when none.

    ``formats`` are zxing-cpp's names (``"QRCode"``, ``"Code128"``, ``"EAN13"``, …).
    """
    wanted = _formats(list(formats))
    image = open_image(source)
    gray = image if image.mode == "L" else image.convert("L")
    found = zxingcpp.read_barcodes(gray, formats=wanted)
    out = []
    for code in found:
        p = code.position
        corners = tuple((int(pt.x), int(pt.y)) for pt in (p.top_left, p.top_right, p.bottom_right, p.bottom_left))
        out.append(Decoded(code.text, code.format.name, corners, int(code.orientation)))  # type: ignore[arg-type]
    return out
