"""A line crop read in a few variants by the same recogniser, and the readings combined.

One reading of a crop cannot show a misreading it is sure of. The same crop drawn a little
differently (stretched, slanted, with more margin) is read again; the readings are aligned
to the main one by edit distance and each position takes the character with the greatest
summed confidence (ROVER). A character the variants disagree on loses confidence: it is in
doubt even where the main reading was sure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ._types import ALTERNATIVES, Alternatives

Grey = np.ndarray  # a crop, 2-D uint8


def _background(crop: Grey) -> int:
    """The paper's grey: the crop's light pixels."""
    return int(np.percentile(crop, 90))


def _pad(crop: Grey, share: float) -> Grey:
    """The crop with a margin of paper around it, ``share`` of its height each side."""
    m = max(1, round(crop.shape[0] * share))
    return cv2.copyMakeBorder(crop, m, m, m, m, cv2.BORDER_CONSTANT, value=_background(crop))


def _stretch(crop: Grey, factor: float) -> Grey:
    """The crop drawn ``factor`` times as wide (characters wider or narrower)."""
    h, w = crop.shape
    return cv2.resize(crop, (max(1, round(w * factor)), h), interpolation=cv2.INTER_CUBIC)


def _shear(crop: Grey, slant: float) -> Grey:
    """The crop slanted: each row shifted by ``slant`` × its height above the bottom."""
    h, w = crop.shape
    extra = round(abs(slant) * h)
    matrix = np.array([[1, slant, extra if slant < 0 else 0], [0, 1, 0]], dtype=np.float32)
    return cv2.warpAffine(crop, matrix, (w + extra, h), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=_background(crop))


def _tight(crop: Grey) -> Grey:
    """The crop cut to the rows holding ink (the characters then fill the recogniser's 48 px)."""
    ink = (crop < _background(crop) - 40).sum(axis=1)
    rows = np.flatnonzero(ink > 0)
    if len(rows) < max(8, crop.shape[0] // 3):
        return crop
    top, bottom = max(int(rows[0]) - 1, 0), min(int(rows[-1]) + 2, crop.shape[0])
    return crop[top:bottom]


def _contrast(crop: Grey) -> Grey:
    """Grey levels stretched so the darkest ink is black and the paper white."""
    low, high = np.percentile(crop, (1, 95))
    if high - low < 10:
        return crop
    out = (crop.astype(np.float32) - low) * (255.0 / (high - low))
    return np.clip(out, 0, 255).astype(np.uint8)


def _blur(crop: Grey) -> Grey:
    """A slightly softer crop (thin, broken strokes joined)."""
    return cv2.GaussianBlur(crop, (3, 3), 0.8)


def _sharpen(crop: Grey) -> Grey:
    """A slightly sharper crop (unsharp mask)."""
    soft = cv2.GaussianBlur(crop, (0, 0), 1.5)
    return cv2.addWeighted(crop, 1.6, soft, -0.6, 0)


VARIANTS: dict[str, Callable[[Grey], Grey]] = {
    "pad": lambda c: _pad(c, 0.15),
    "wide": lambda c: _stretch(c, 1.2),
    "narrow": lambda c: _stretch(c, 0.85),
    "slant_left": lambda c: _shear(c, -0.15),
    "slant_right": lambda c: _shear(c, 0.15),
    "tight": _tight,
    "contrast": _contrast,
    "blur": _blur,
    "sharpen": _sharpen,
}


def variant(crop: np.ndarray, name: str) -> np.ndarray:
    """The crop (H × W × 3, grey in each channel, as the recogniser takes it) drawn as ``name``."""
    grey = crop[:, :, 0] if crop.ndim == 3 else crop
    out = VARIANTS[name](np.ascontiguousarray(grey))
    return np.ascontiguousarray(np.repeat(out[:, :, None], 3, axis=2))


@dataclass(frozen=True)
class Reading:
    """One reading of a crop: its characters, their confidences and other readings."""

    text: str
    confidences: tuple[float, ...]
    alternatives: tuple[Alternatives, ...] = ()

    def __post_init__(self) -> None:
        """Confidences must line up with characters for the votes to land right."""
        if len(self.confidences) != len(self.text):
            raise ValueError("one confidence per character")


def _align(a: str, b: str) -> list[tuple[int | None, int | None]]:
    """Pairs (i, j) of an edit-distance alignment of ``a`` and ``b`` (None: a gap)."""
    n, m = len(a), len(b)
    cost = np.zeros((n + 1, m + 1), dtype=np.int32)
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(cost[i - 1, j] + 1, cost[i, j - 1] + 1,
                             cost[i - 1, j - 1] + (a[i - 1] != b[j - 1]))
    pairs: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i or j:
        if i and j and cost[i, j] == cost[i - 1, j - 1] + (a[i - 1] != b[j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i and cost[i, j] == cost[i - 1, j] + 1:
            pairs.append((i - 1, None))
            i -= 1
        else:
            pairs.append((None, j - 1))
            j -= 1
    return pairs[::-1]


def combine(
    readings: Sequence[Reading],
    weights: Sequence[float],
    absent: float = 0.9,
    vote: bool = True,
) -> Reading:
    """The readings voted per position of the first (the main one): each votes its
    character's confidence × its weight; a reading without a character there votes for
    none with ``absent`` × its weight. A character's confidence is its votes over all the
    weight: a position the readings disagree on is in doubt however sure each was. With
    ``vote`` off the main reading's characters are kept and only their confidences voted."""
    main = readings[0]
    total = float(sum(weights))
    n = len(main.text)
    # Slot 2i + 1 is main character i; slot 2i is the gap before it (2n: after the last).
    slots: list[dict[str, float]] = [{} for _ in range(2 * n + 1)]
    for reading, weight in zip(readings, weights, strict=True):
        inserted: dict[int, str] = {}
        inserted_conf: dict[int, float] = {}
        gap = 0
        for i, j in _align(main.text, reading.text) if reading is not main else (
            (k, k) for k in range(n)
        ):
            if i is None:
                assert j is not None
                inserted[gap] = inserted.get(gap, "") + reading.text[j]
                inserted_conf[gap] = min(inserted_conf.get(gap, 1.0), reading.confidences[j])
                continue
            gap = i + 1
            char, p = (reading.text[j], reading.confidences[j]) if j is not None else ("", absent)
            slot = slots[2 * i + 1]
            slot[char] = slot.get(char, 0.0) + weight * p
        for g in range(n + 1):
            chars, p = (inserted[g], inserted_conf[g]) if g in inserted else ("", absent)
            slot = slots[2 * g]
            slot[chars] = slot.get(chars, 0.0) + weight * p
    text: list[str] = []
    confidences: list[float] = []
    alternatives: list[list[tuple[str, float]]] = []
    cap = 1.0  # a character missing before the first lowers it
    for s, slot in enumerate(slots):
        ranked = sorted(slot.items(), key=lambda kv: -kv[1])
        chosen, votes = ranked[0]
        if not vote:
            chosen = main.text[s // 2] if s % 2 else ""
            votes = slot.get(chosen, 0.0)
        if s % 2 == 0:  # a gap: a character some readings put here may be missing
            missing = max((v for c, v in ranked if c), default=0.0) / total
            if chosen:
                text.extend(chosen)
                confidences.extend([votes / total] * len(chosen))
                alternatives.extend([] for _ in chosen)
            elif confidences:
                confidences[-1] = min(confidences[-1], 1.0 - missing)
            else:
                cap = 1.0 - missing
            continue
        if not chosen:  # the readings agree this character is not there
            continue
        text.append(chosen)
        confidences.append(min(votes / total, cap))
        cap = 1.0
        main_alts = dict(main.alternatives[s // 2]) if main.alternatives else {}
        others = {c: v / total for c, v in ranked if c and c != chosen}
        merged = {**main_alts, **{c: max(p, main_alts.get(c, 0.0)) for c, p in others.items()}}
        merged.pop(chosen, None)
        alternatives.append(sorted(merged.items(), key=lambda kv: -kv[1]))
    return Reading(
        "".join(text),
        tuple(confidences),
        tuple(tuple(a[:ALTERNATIVES]) for a in alternatives),
    )
