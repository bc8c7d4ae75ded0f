"""Build search/confusable.tsv: characters the OCR model may read in place of each character.

The recogniser the product ships (RapidOCR PP-OCRv6 rec) is run on rendered glyphs of the
GB2312 characters (6,763) in four installed fonts (Kai GB, UKai, Sung, Noto Sans CJK), each
clean and degraded (rendered small, then enlarged: a poor scan); for every glyph, the model's
highest probability of every other Chinese character over the time steps is read. The model
is sure of clean glyphs (the runner-ups get 1e-3 and far less), so the order matters, not the
value: each rendering gives its TOP runner-ups TOP, TOP-1, ... points, and a character's
look-alikes (形近) are the KEEP with most points over the eight renderings (the weight written
is the share of the best possible points). No evaluation data is read: the table comes from
the model alone.

    .venv/bin/python scripts/build_confusables.py            # writes search/confusable.tsv
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocr._rapid import RapidOcrEngine  # noqa: E402

OUT = ROOT / "search" / "confusable.tsv"
FONTS = (
    ("/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf", 0),
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
    ("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # SC face
)
HEIGHT, WIDTH = 48, 72
SMALL = 15  # pixel height of the degraded rendering before it is enlarged
TOP = 8  # runner-ups read per rendering
KEEP = 6  # look-alikes kept per character
BATCH = 256


def gb2312() -> list[str]:
    """The 6,763 GB2312 hanzi (levels 1 and 2), from the codec: no data file needed."""
    out = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                ch = bytes((hi, lo)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            if "\u4e00" <= ch <= "\u9fff":
                out.append(ch)
    return out


def render(ch: str, font: ImageFont.FreeTypeFont, small: bool) -> np.ndarray:
    """One glyph, black on white, HEIGHT x WIDTH, normalised as the recogniser expects."""
    canvas = Image.new("L", (WIDTH, HEIGHT), 255)
    draw = ImageDraw.Draw(canvas)
    left, top, right, bottom = draw.textbbox((0, 0), ch, font=font)
    draw.text(((WIDTH - right - left) / 2, (HEIGHT - bottom - top) / 2), ch, fill=0, font=font)
    if small:
        canvas = canvas.resize((WIDTH * SMALL // HEIGHT, SMALL), Image.Resampling.BILINEAR)
        canvas = canvas.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
    grey = np.asarray(canvas, dtype=np.float32) / 255.0
    grey = (grey - 0.5) / 0.5
    return np.repeat(grey[np.newaxis], 3, axis=0)


def main() -> None:
    engine = RapidOcrEngine()
    rec: Any = engine._ocr.text_rec
    charset = list(rec.postprocess_op.character)
    chars = gb2312()
    fonts = [ImageFont.truetype(path, 40, index=index) for path, index in FONTS]
    cjk = np.array(["\u4e00" <= c <= "\u9fff" and len(c) == 1 for c in charset])
    points: dict[str, dict[str, int]] = {c: {} for c in chars}
    jobs = [(c, f, s) for c in chars for f in fonts for s in (False, True)]
    t0 = time.perf_counter()
    for start in range(0, len(jobs), BATCH):
        batch = jobs[start : start + BATCH]
        x = np.stack([render(c, f, s) for c, f, s in batch]).astype(np.float32)
        probs = rec.session(x)  # (batch, steps, classes), softmax
        peak = probs.max(axis=1)  # each class's best probability over the time steps
        peak[:, ~cjk] = -1.0
        for (ch, _, _), row in zip(batch, peak, strict=True):
            rank = 0
            for i in np.argsort(-row)[: TOP + 1]:
                other = charset[i]
                if other == ch:
                    continue
                points[ch][other] = points[ch].get(other, 0) + TOP - rank
                rank += 1
                if rank == TOP:
                    break
        if start // BATCH % 20 == 0:
            print(f"{start + len(batch)}/{len(jobs)} {time.perf_counter() - t0:.0f}s", flush=True)
    lines = ["# char\tlook-alikes the OCR model read for it (share of points); scripts/"
             "build_confusables.py"]
    for ch in chars:
        alts = sorted(points[ch].items(), key=lambda kv: (-kv[1], kv[0]))[:KEEP]
        full = TOP * len(fonts) * 2
        if alts:
            lines.append(ch + "\t" + " ".join(f"{a}:{p / full:.2f}" for a, p in alts))
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines) - 1} characters with look-alikes -> {OUT}")


if __name__ == "__main__":
    main()
