"""Training-curve PNG drawn with Pillow (no matplotlib in the image): loss, and validation CER/WER per epoch."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

W, H, PAD = 720, 520, 56
COLORS = {"loss": (31, 119, 180), "val_cer": (214, 39, 40), "val_wer": (44, 160, 44)}


def _panel(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], epochs: list[int],
           series: dict[str, list[float]], title: str, font: ImageFont.ImageFont) -> None:
    x0, y0, x1, y1 = box
    draw.rectangle(box, outline=(0, 0, 0))
    draw.text((x0, y0 - 16), title, fill=(0, 0, 0), font=font)
    values = [v for vs in series.values() for v in vs]
    lo, hi = min(values + [0.0]), max(values + [1e-9])
    span_e = max(1, max(epochs) - min(epochs))
    for frac in (0.0, 0.5, 1.0):
        y = y1 - frac * (y1 - y0)
        draw.line([(x0, y), (x0 - 4, y)], fill=(0, 0, 0))
        draw.text((4, y - 6), f"{lo + frac * (hi - lo):.3g}", fill=(0, 0, 0), font=font)
    for e in sorted(set(epochs)):
        x = x0 + (e - min(epochs)) / span_e * (x1 - x0)
        draw.text((x - 3, y1 + 4), str(e), fill=(0, 0, 0), font=font)
    for i, (name, vs) in enumerate(series.items()):
        pts = [(x0 + (e - min(epochs)) / span_e * (x1 - x0), y1 - (v - lo) / (hi - lo or 1) * (y1 - y0))
               for e, v in zip(epochs, vs)]
        color = COLORS.get(name, (0, 0, 0))
        if len(pts) > 1:
            draw.line(pts, fill=color, width=2)
        for x, y in pts:
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=color)
        draw.text((x1 - 90, y0 + 6 + 14 * i), name, fill=color, font=font)


def curve_png(history: list[dict], path: Path, title: str = "") -> Path:
    """Write the curves of `history` (train.py's per-epoch rows) to `path`; returns it."""
    img = Image.new("RGB", (W, H), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    draw.text((PAD, 8), title or "training curves", fill=(0, 0, 0), font=font)
    epochs = [int(r["epoch"]) for r in history] or [0]
    mid = H // 2
    if history:
        _panel(draw, (PAD, 40, W - 16, mid - 24), epochs, {"loss": [float(r["loss"]) for r in history]}, "train loss", font)
        _panel(draw, (PAD, mid + 16, W - 16, H - 28), epochs,
               {k: [float(r.get(k, 0.0)) for r in history] for k in ("val_cer", "val_wer")}, "validation CER / WER (epoch)", font)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path
