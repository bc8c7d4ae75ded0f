"""Tesseract 5 (Debian's tesseract-ocr with chi_sim/chi_tra) through its command line.

A baseline peer, not a product engine: ~85% CER on handwriting (shared/FINDINGS.md). It
runs ``tesseract - stdout tsv`` with one OpenMP thread and turns words into boxes.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess

from PIL import Image

from ._errors import EngineUnavailable
from ._types import Line

LANGUAGES = "chi_sim"
TIMEOUT_S = 300


class TesseractEngine:
    """Words from the tesseract CLI, grouped into its own lines, confidence 0..1."""

    name = "tesseract"

    def __init__(self, languages: str = LANGUAGES) -> None:
        """Check the program and the language data are installed."""
        program = shutil.which("tesseract")
        if program is None:
            raise EngineUnavailable("未安装 Tesseract（apt-get install tesseract-ocr)")
        listed = subprocess.run(
            [program, "--list-langs"], capture_output=True, text=True, timeout=60, check=False
        ).stdout.split()
        missing = [lang for lang in languages.split("+") if lang not in listed]
        if missing:
            raise EngineUnavailable(f"Tesseract 缺少语言数据：{', '.join(missing)}")
        self.program = program
        self.languages = languages

    def recognize(self, image: Image.Image) -> list[Line]:
        """Each Tesseract line as one box: words joined, mean word confidence."""
        buffer = io.BytesIO()
        image.convert("L").save(buffer, format="PNG")
        done = subprocess.run(
            [self.program, "-", "stdout", "-l", self.languages, "--psm", "3", "tsv"],
            input=buffer.getvalue(),
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
        if done.returncode != 0:
            reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"tesseract exited {done.returncode}: {reason[-1:] or ''}")
        rows = csv.DictReader(
            io.StringIO(done.stdout.decode("utf-8")), delimiter="\t", quoting=csv.QUOTE_NONE
        )
        grouped: dict[tuple[str, str, str], list[dict[str, str]]] = {}
        for row in rows:
            if row.get("level") == "5" and (row.get("text") or "").strip():
                key = (row["block_num"], row["par_num"], row["line_num"])
                grouped.setdefault(key, []).append(row)
        lines = []
        for words in grouped.values():
            left = min(int(w["left"]) for w in words)
            top = min(int(w["top"]) for w in words)
            right = max(int(w["left"]) + int(w["width"]) for w in words)
            bottom = max(int(w["top"]) + int(w["height"]) for w in words)
            text = "".join(w["text"].strip() for w in words)
            score = sum(max(float(w["conf"]), 0.0) for w in words) / len(words) / 100
            box = ((left, top), (right, top), (right, bottom), (left, bottom))
            lines.append(
                Line(text=text, box=tuple((float(x), float(y)) for x, y in box), score=score)
            )
        return lines
