"""Each line crop read in variants by the same recogniser: each variant alone, then combined.

    .venv/bin/python scripts/tta_lines.py [--data ../shared/eval/ocr] [--out FILE]

Reads the 45 real handwritten lines through ocr.ocr_image with the default engine's
``variants`` setting (one detection per line, kept for every combination). Reports CER and
doubt marks on half A (even rows), half B and all lines, for every variant alone (its
reading replacing the main one) and for combinations (``--configs``: a JSON list of
``{"name", "settings"}``, settings as HUIYIN_OCR_RAPIDOCR takes them): the threshold
marking most of A's misreadings at most 15% marked is chosen on A and reported on B, and
of the misreadings the one reading was sure of, how many each combination marks.
Evaluation data only: nothing of it is written into the product.
"""

from __future__ import annotations

import argparse
import copy
import csv
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Read, cache, and report every combination asked for."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/eval/ocr")
    parser.add_argument("--configs", type=Path, help="JSON list of combinations to score")
    args = parser.parse_args()

    from PIL import Image

    import ocr
    from ocr import _engine, _rapid, _variants

    det_cache: dict[tuple[str, int], Any] = {}
    timing: dict[str, float] = {}

    class CachedDet:
        """The detector, each line detected once for every combination (the same boxes)."""

        def __init__(self, det: Any) -> None:
            object.__setattr__(self, "det", det)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.det, name)

        def __setattr__(self, name: str, value: Any) -> None:
            setattr(self.det, name, value)

        def __call__(self, img: np.ndarray) -> Any:
            key = (hashlib.sha1(img.tobytes()).hexdigest() + str(img.shape),
                   self.det.limit_side_len)
            if key not in det_cache:
                det_cache[key] = self.det(img)
            return copy.deepcopy(det_cache[key])  # rapidocr changes it in place

    shipped_combine = _rapid.combine

    def use(cfg: dict[str, Any]) -> None:
        """The default engine with this combination's settings, in ocr_image's place; with
        ``alone`` the variant's reading replaces the main one (each variant measured alone)."""
        settings = _rapid.parse_settings(cfg.get("settings", ""))
        if "alone" in cfg:
            settings = _rapid.replace(settings, variants=cfg["alone"], variant_vote=True)
        _rapid.combine = (lambda readings, *_, **__: readings[1]) if "alone" in cfg else (
            shipped_combine)
        engine = _rapid.RapidOcrEngine(settings=settings)
        engine._ocr.text_det = CachedDet(engine._ocr.text_det)  # type: ignore[assignment]
        _engine._LOADED["rapidocr"] = engine

    rows = []
    with (args.data / "real/labels.tsv").open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.DictReader(f, delimiter="\t")):
            image = Image.open(args.data / "real" / row["file"])
            image.load()
            rows.append(("AB"[n % 2], row["text"], image))

    main_confidences: dict[int, list[float]] = {}

    def run(cfg: dict[str, Any], show: bool = False) -> dict[str, Any]:
        use(cfg)
        started = time.perf_counter()
        totals: dict[str, list[int]] = {}
        pages = []
        for half, ref, image in rows:
            page = ocr.ocr_image(image)
            pages.append((half, ref, page))
            e, m = ocr.character_errors(ref, page.text)
            for g in (half, "all"):
                t = totals.setdefault(g, [0, 0])
                t[0] += e
                t[1] += m
            if show:
                print(half, e, ref, "|", page.text.replace("\n", "/"), [
                    round(c, 2) for ln in page.lines for c in ln.confidences])

        def tallies(below: float) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for half, ref, page in pages:
                flags: list[bool] = []
                for k, line in enumerate(page.lines):
                    flags += [False] if k else []
                    flags += [p < below for p in line.confidences] or [False] * len(line.text)
                for g in (half, "all"):
                    out.setdefault(g, ocr.DoubtTally()).add(ref, page.text, flags)
            return out

        # The threshold marking most of A's misreadings while marking at most 15% of A.
        best = (-1.0, ocr.DOUBT_BELOW)
        for below in np.round(np.arange(0.5, 0.995, 0.01), 2):
            a = tallies(float(below))["A"]
            if a.characters_marked <= 0.15 * a.characters and a.errors_marked > best[0]:
                best = (a.errors_marked, float(below))
        marks = {}
        for below in sorted({ocr.DOUBT_BELOW, best[1]}):
            marks[str(below)] = {g: "{:.0%}/{:.1%} {}".format(
                t.errors_marked / max(t.errors, 1), t.characters_marked / max(t.characters, 1),
                t.as_dict()["by_kind"]) for g, t in sorted(tallies(below).items())}
        timing[cfg["name"]] = time.perf_counter() - started
        sure = sure_marked(pages, main_confidences, best[1])
        return {"cer": {g: round(e / m, 4) for g, (e, m) in sorted(totals.items())},
                "chosen_below_on_A": best[1], "marks": marks,
                "sure_misreadings_marked": sure}

    configs = json.loads(args.configs.read_text()) if args.configs else [
        {"name": "main"},
        *({"name": v, "alone": v} for v in _variants.VARIANTS),
        *({"name": f"{how} {len(names)}", "settings": f"variants={'+'.join(names)}" + (
            ",variant_vote=on" if how == "vote" else "")}
          for names in (("narrow", "slant_left", "slant_right"),
                        ("narrow", "slant_left", "slant_right", "blur", "sharpen"))
          for how in ("marks", "vote")),
    ]
    for cfg in configs:
        result = run(cfg, show=bool(cfg.get("show", False)))
        print(json.dumps({"config": cfg, **result}, ensure_ascii=False), flush=True)
    print(json.dumps({"seconds": {k: round(v, 2) for k, v in timing.items()}}))


def sure_marked(pages: list[Any], main: dict[int, list[float]], below: float) -> dict[str, str]:
    """Per half, of the misreadings the main reading was sure of (its character at 0.95 or
    more; substitutions and insertions), how many this combination marks ("marked/all").
    The first combination run is taken for the main reading."""
    import ocr
    from ocr._cer import _alignment, normalize_for_cer

    first = not main
    out: dict[str, list[int]] = {}
    for n, (half, ref, page) in enumerate(pages):
        conf = [c for k, ln in enumerate(page.lines) for c in ([1.0] if k else []) + list(
            ln.confidences or [1.0] * len(ln.text))]
        if first:
            main[n] = conf
        text = page.text
        if len(conf) != len(text) or len(main[n]) != len(text):
            continue
        keep = [i for i, ch in enumerate(text) if normalize_for_cer(ch)]
        hyp = "".join(normalize_for_cer(text[i]) for i in keep)
        if len(hyp) != len(keep):
            continue
        reference = normalize_for_cer(ref)
        for r, h in _alignment(reference, hyp):
            if h is None or (r is not None and reference[r] == hyp[h]):
                continue
            if main[n][keep[h]] < 0.95:
                continue
            tally = out.setdefault(half, [0, 0])
            tally[0] += 1
            tally[1] += conf[keep[h]] < below
    del ocr
    return {g: f"{m}/{a}" for g, (a, m) in sorted(out.items())}


if __name__ == "__main__":
    main()
