"""Draws the app icons (ours, no third-party art): a pin on a map-blue square, with the maskable
variant keeping the mark inside the 80 % safe zone. Run: .venv/bin/python pwa/scripts/make-icons.py"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "public" / "icons"
BLUE, WHITE, GOLD = (11, 92, 171), (255, 255, 255), (242, 180, 0)


def icon(size: int, *, maskable: bool) -> Image.Image:
    img = Image.new("RGB", (size, size), BLUE)
    d = ImageDraw.Draw(img)
    s = size * (0.62 if maskable else 0.78)
    cx, cy = size / 2, size / 2 - s * 0.06
    r = s * 0.28
    d.ellipse([cx - r, cy - r - s * 0.12, cx + r, cy + r - s * 0.12], fill=WHITE)
    d.polygon([(cx - r * 0.86, cy - s * 0.02), (cx + r * 0.86, cy - s * 0.02), (cx, cy + s * 0.42)], fill=WHITE)
    ri = r * 0.45
    d.ellipse([cx - ri, cy - ri - s * 0.12, cx + ri, cy + ri - s * 0.12], fill=GOLD)
    d.rectangle([cx - s * 0.36, cy + s * 0.44, cx + s * 0.36, cy + s * 0.48], fill=GOLD)
    return img


OUT.mkdir(parents=True, exist_ok=True)
icon(192, maskable=False).save(OUT / "icon-192.png", optimize=True)
icon(512, maskable=False).save(OUT / "icon-512.png", optimize=True)
icon(512, maskable=True).save(OUT / "maskable-512.png", optimize=True)
icon(180, maskable=False).save(OUT / "apple-touch-icon.png", optimize=True)
print("icons written to", OUT)
