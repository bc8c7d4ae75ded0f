"""Doubt marks from several signals of the recogniser, fitted on half A of the real lines.

    .venv/bin/python scripts/fit_doubt.py [--data ../shared/eval/ocr] [--cache FILE]

Reads the 45 real handwritten lines with the default engine and records, per character,
the signals its CTC output gives (FEATURES) and whether it is misread or has a character
missing beside it. On half A (the even rows of labels.tsv) alone it chooses features
(forward, by 5-fold cross-validation), fits a logistic regression and chooses the threshold
(most misreadings marked while marking at most 15% of characters); it prints the marks of
that model and of the shipped rule (ocr.DOUBT_BELOW on ocr._ctc's confidence) on A, on B
and on all lines, split by kind, and how many misreadings the recogniser was sure of.
Measured 2026-12-07 (docs/ocr.md): the model did not beat the shipped rule on B, so it is
not shipped. Evaluation data only: nothing of it is written into the product.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MAX_MARKED = 0.15
L2 = 1.0

EPS = 1e-4
FEATURES = (
    "unsure",  # log(1 - best column probability)
    "runner_up",  # log of the best other character's probability in and beside its columns
    "entropy",  # entropy (nats) of the column where the character peaks
    "width",  # log(columns the character spans / the line's median)
    "gap_after",  # log of the best character's probability in the blank columns after it
    "gap_before",  # ... in those before it
    "gap_width",  # log((blank columns after + 1) / (the line's median + 1))
    "neighbours",  # the larger "unsure" of the characters either side
    "line",  # the line's mean "unsure"
)


def character_features(
    probs: np.ndarray, runs: list[tuple[int, int, int]], blank: int = 0
) -> np.ndarray:
    """One row of :data:`FEATURES` per character, from the line's ``(frames, classes)``
    softmax output and each character's run ``(class, first frame, end frame)``."""
    n = len(runs)
    out = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if not n:
        return out
    frames = len(probs)
    widths = np.array([end - start for _, start, end in runs], dtype=np.float64)
    follows = [runs[k + 1][1] if k + 1 < n else frames for k in range(n)]
    gaps = np.array([follows[k] - runs[k][2] for k in range(n - 1)] or [0], dtype=np.float64)
    median_width, median_gap = float(np.median(widths)), float(np.median(gaps))
    for k, (cls, start, end) in enumerate(runs):
        run = probs[start:end]
        peak = start + int(run[:, cls].argmax())
        p1 = float(run[:, cls].max())
        around = probs[max(start - 1, 0) : min(end + 1, frames)].max(axis=0)
        around[[blank, cls]] = 0.0
        row = probs[peak]
        entropy = float(-(row * np.log(np.clip(row, 1e-12, 1.0))).sum())
        after = probs[end : follows[k]].max(axis=0) if follows[k] > end else None
        previous_end = runs[k - 1][2] if k else 0
        before = probs[previous_end:start].max(axis=0) if start > previous_end else None
        gap_after = gap_before = 0.0
        if after is not None:
            after[[blank, cls] + ([runs[k + 1][0]] if k + 1 < n else [])] = 0.0
            gap_after = float(after.max())
        if before is not None:
            before[[blank, cls] + ([runs[k - 1][0]] if k else [])] = 0.0
            gap_before = float(before.max())
        out[k, :7] = (
            np.log(1.0 - p1 + EPS),
            np.log(float(around.max()) + EPS),
            entropy,
            np.log(widths[k] / max(median_width, 1.0)),
            np.log(gap_after + EPS),
            np.log(gap_before + EPS),
            np.log((follows[k] - end + 1) / (median_gap + 1)),
        )
    unsure = out[:, 0]
    padded = np.concatenate(([unsure.min()], unsure, [unsure.min()]))
    out[:, 7] = np.maximum(padded[:-2], padded[2:])
    out[:, 8] = unsure.mean()
    return out


def _runs(probs: np.ndarray) -> list[tuple[int, int, int]]:
    """Greedy CTC decoding as ocr._ctc does it: (class, first frame, end frame) per character."""
    best = probs.argmax(axis=1)
    runs: list[tuple[int, int, int]] = []
    for t, cls in enumerate(best):
        if cls == 0:
            continue
        if runs and runs[-1][0] == cls and runs[-1][2] == t:
            runs[-1] = (int(cls), runs[-1][1], t + 1)
        else:
            runs.append((int(cls), t, t + 1))
    return runs


def _collect(data: Path) -> list[dict[str, Any]]:
    """Per real line: its half, reference, text read, and per character its features with
    the shipped confidence last (None for a character no recogniser column gave)."""
    from PIL import Image

    import ocr
    from ocr import _rapid

    rows: list[list[float]] = []
    shipped = _rapid.read_characters

    def record(probs: np.ndarray, alphabet: list[str]) -> Any:
        # Each confidence comes back as 2 + its row's index: it travels with its character.
        text, confidences, alternatives = shipped(probs, alphabet)
        features = character_features(probs, _runs(probs))
        if len(features) != len(text):
            return text, confidences, alternatives
        first = len(rows)
        rows.extend(f + [c] for f, c in zip(features.tolist(), confidences, strict=True))
        return text, tuple(2.0 + first + k for k in range(len(text))), alternatives

    _rapid.read_characters = record  # type: ignore[assignment]
    lines = []
    with (data / "real/labels.tsv").open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.DictReader(f, delimiter="\t")):
            page = ocr.ocr_image(Image.open(data / "real" / row["file"]))
            text: list[str] = []
            feats: list[list[float] | None] = []
            for k, line in enumerate(page.lines):
                if k:
                    text.append("\n")
                    feats.append(None)
                for ch, c in zip(line.text, line.confidences or [1.0] * len(line.text),
                                 strict=True):
                    text.append(ch)
                    feats.append(rows[round(c) - 2] if c >= 2 else None)
            lines.append({"half": "AB"[n % 2], "reference": row["text"],
                          "text": "".join(text), "features": feats})
    _rapid.read_characters = shipped
    return lines


Edit = tuple[str, int | None, list[int]]


def _labelled(line: dict[str, Any]) -> tuple[str, str, list[Any], list[Edit]]:
    """The normalised reference and text, the text's feature rows, and each edit operation:
    (kind, the text position it lands on or None, the neighbours of a missing character)."""
    from ocr._cer import _alignment, normalize_for_cer

    keep = [i for i, ch in enumerate(line["text"]) if normalize_for_cer(ch)]
    hyp = "".join(normalize_for_cer(line["text"][i]) for i in keep)
    feats = [line["features"][i] for i in keep] if len(hyp) == len(keep) else [None] * len(hyp)
    ref = normalize_for_cer(line["reference"])
    pairs = _alignment(ref, hyp)
    edits: list[Edit] = []
    for n, (r, h) in enumerate(pairs):
        if h is not None and r is not None and ref[r] == hyp[h]:
            continue
        if h is not None:
            edits.append(("substitution" if r is not None else "insertion", h, []))
            continue
        near = [pairs[m][1] for m in (n - 1, n + 1) if 0 <= m < len(pairs)]
        edits.append(("deletion", None, [k for k in near if k is not None]))
    return ref, hyp, feats, edits


def _table(lines: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and labels: a character is positive when misread or beside a missing one."""
    xs, ys = [], []
    for line in lines:
        _, _, feats, edits = _labelled(line)
        bad = {h for _, h, _ in edits if h is not None}
        bad |= {k for _, _, near in edits for k in near}
        for h, f in enumerate(feats):
            if f is not None:
                xs.append(f)
                ys.append(1.0 if h in bad else 0.0)
    return np.array(xs), np.array(ys)


def fit(
    x: np.ndarray, y: np.ndarray, l2: float = L2
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Logistic regression by Newton's method on standardised features (L2 on the weights)."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * l2
    penalty[-1, -1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        gradient = z.T @ (p - y) + penalty @ w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return mean, scale, w[:-1], float(w[-1])


def score(lines: list[dict[str, Any]], misread: Callable[[np.ndarray], np.ndarray],
          threshold: float) -> dict[str, Any]:
    """Marks as the bench scores them (ocr.DoubtTally), with the edits split by kind."""
    kinds: dict[str, list[int]] = {}
    chars = marked_chars = 0
    for line in lines:
        _, _, feats, edits = _labelled(line)
        known = [f for f in feats if f is not None]
        p = misread(np.array(known)) if known else np.array([])
        it = iter(p)
        flags = [bool(next(it) > threshold) if f is not None else False for f in feats]
        chars += len(flags)
        marked_chars += sum(flags)
        for kind, h, near in edits:
            hit = flags[h] if h is not None else any(flags[k] for k in near)
            tally = kinds.setdefault(kind, [0, 0])
            tally[0] += 1
            tally[1] += hit
    errors = sum(t[0] for t in kinds.values())
    caught = sum(t[1] for t in kinds.values())
    return {"errors": errors, "errors_marked": round(caught / max(errors, 1), 3),
            "characters": chars, "characters_marked": round(marked_chars / max(chars, 1), 3),
            "by_kind": {k: f"{t[1]}/{t[0]}" for k, t in sorted(kinds.items())}}


def choose(lines: list[dict[str, Any]], misread: Callable[[np.ndarray], np.ndarray]) -> float:
    """The threshold marking the most misreadings at most MAX_MARKED of characters."""
    best = (-1.0, 1.0)
    for threshold in np.linspace(0.01, 0.99, 99):
        s = score(lines, misread, float(threshold))
        if s["characters_marked"] <= MAX_MARKED and s["errors_marked"] > best[0]:
            best = (s["errors_marked"], float(threshold))
    return best[1]


def _model(lines: list[dict[str, Any]], use: list[int]) -> Callable[[np.ndarray], np.ndarray]:
    """A logistic model on the features ``use``, fitted on ``lines``."""
    x, y = _table(lines)
    mean, scale, weights, bias = fit(x[:, use], y)
    return lambda f: 1.0 / (1.0 + np.exp(-(((f[:, use] - mean) / scale) @ weights + bias)))


def cross_validated(lines: list[dict[str, Any]], use: list[int], folds: int = 5) -> float:
    """Share of misreadings marked (at most MAX_MARKED of characters) out of fold, by line."""
    models = {f: _model([ln for i, ln in enumerate(lines) if i % folds != f], use)
              for f in range(folds)}
    best = 0.0
    for threshold in np.linspace(0.02, 0.6, 30):
        errors = caught = chars = marked = 0
        for i, line in enumerate(lines):
            s = score([line], models[i % folds], float(threshold))
            errors += s["errors"]
            caught += round(s["errors_marked"] * s["errors"])
            chars += s["characters"]
            marked += round(s["characters_marked"] * s["characters"])
        if marked <= MAX_MARKED * chars:
            best = max(best, caught / max(errors, 1))
    return best


def confident(lines: list[dict[str, Any]], sure: float = 0.95) -> dict[str, str]:
    """Per kind, how many misreadings the recogniser was sure of (best column at least
    ``sure``, no character above 1 - ``sure`` in the blanks beside): no mark from its own
    output can catch those without marking every character."""
    kinds: dict[str, list[int]] = {}
    for line in lines:
        _, _, feats, edits = _labelled(line)
        for kind, h, near in edits:
            where = [h] if h is not None else near
            rows = [feats[k] for k in where]
            certain = bool(rows) and all(
                f is not None and f[-1] >= sure and np.exp(f[4]) - EPS < 1.0 - sure for f in rows
            )
            tally = kinds.setdefault(kind, [0, 0])
            tally[0] += 1
            tally[1] += certain
    return {k: f"{t[1]}/{t[0]}" for k, t in sorted(kinds.items())}


def main() -> None:
    """Collect (or load) the features, choose and fit on half A, report A, B and all."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/eval/ocr")
    parser.add_argument("--cache", type=Path, help="features read before (JSON), or kept here")
    args = parser.parse_args()
    import ocr

    if args.cache and args.cache.is_file():
        lines = json.loads(args.cache.read_text(encoding="utf-8"))
    else:
        lines = _collect(args.data)
        if args.cache:
            args.cache.write_text(json.dumps(lines, ensure_ascii=False), encoding="utf-8")
    half_a = [ln for ln in lines if ln["half"] == "A"]
    half_b = [ln for ln in lines if ln["half"] == "B"]
    # Features chosen forward, one at a time, by 5-fold cross-validation on A alone.
    use = [FEATURES.index("unsure")]
    best = cross_validated(half_a, use)
    while True:
        trials = {k: cross_validated(half_a, use + [k])
                  for k in range(len(FEATURES)) if k not in use}
        k, value = max(trials.items(), key=lambda kv: kv[1])
        if value <= best:
            break
        use, best = use + [k], value
    misread = _model(half_a, use)
    threshold = choose(half_a, misread)

    def shipped(f: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 - f[:, -1])

    report = {
        "shipped_rule": {"threshold": ocr.DOUBT_BELOW, **{
            name: score(group, shipped, 1.0 - ocr.DOUBT_BELOW)
            for name, group in (("half_A", half_a), ("half_B", half_b), ("all", lines))}},
        "logistic": {"features": [FEATURES[k] for k in use], "cross_validated_on_A": round(best, 3),
                     "threshold": round(threshold, 3), **{
            name: score(group, misread, threshold)
            for name, group in (("half_A", half_a), ("half_B", half_b), ("all", lines))}},
        "sure_misreadings": {"half_A": confident(half_a), "half_B": confident(half_b)},
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
