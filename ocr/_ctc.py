"""Per-character probabilities and other readings from a CTC recogniser's output.

The recogniser gives, for each column (frame) of a line crop, a probability over its
alphabet plus a blank. Greedy decoding keeps the best class of each frame, collapses
repeats and drops blanks: each character read is a run of frames. A character is in doubt
when its best frame is unsure (another character could be there), or when the blank frames
after it (before it, for a line's first) still give some character a fair chance (one may be
missing there: most unmarked misreadings were dropped characters, often punctuation). Its
other readings are the classes most probable in and beside its run; a missing character is
offered as a two-character reading (the character with the missing one after it).
"""

from __future__ import annotations

import numpy as np

from ._types import ALTERNATIVES, DOUBT_BELOW, Alternatives

BLANK = 0


def _best_other(frames: np.ndarray, exclude: tuple[int, ...]) -> tuple[int, float]:
    """The most probable class in ``frames`` other than ``exclude``, and its probability."""
    if not len(frames):
        return BLANK, 0.0
    best = frames.max(axis=0)
    best[list(exclude)] = 0.0
    cls = int(best.argmax())
    return cls, float(best[cls])


def read_characters(
    probs: np.ndarray, alphabet: list[str], keep: int = ALTERNATIVES, below: float = DOUBT_BELOW
) -> tuple[str, tuple[float, ...], tuple[Alternatives, ...]]:
    """Text, per-character confidence and, for characters under ``below``, up to ``keep``
    other readings, from one line's ``(frames, classes)`` softmax output."""
    best = probs.argmax(axis=1)
    starts_at = best != BLANK
    starts_at[1:] &= best[1:] != best[:-1]
    starts = [int(s) for s in np.flatnonzero(starts_at)]
    text: list[str] = []
    confidences: list[float] = []
    alternatives: list[Alternatives] = []
    for k, start in enumerate(starts):
        cls = int(best[start])
        end = start + 1
        while end < len(best) and best[end] == cls:
            end += 1
        following = starts[k + 1] if k + 1 < len(starts) else len(best)
        after = int(best[following]) if following < len(best) else BLANK
        char = alphabet[cls]
        confidence = float(probs[start:end, cls].max())
        gaps: list[tuple[str, float]] = []
        missing, p_missing = _best_other(probs[end:following], (BLANK, cls, after))
        if p_missing > 0:
            gaps.append((char + alphabet[missing], p_missing))
        if k == 0:
            missing, p_missing = _best_other(probs[:start], (BLANK, cls))
            if p_missing > 0:
                gaps.append((alphabet[missing] + char, p_missing))
        text.append(char)
        confidences.append(min([confidence] + [1.0 - p for _, p in gaps]))
        if confidences[-1] >= below or keep <= 0:
            alternatives.append(())
            continue
        # Look one frame either side too: a look-alike often peaks just beside the run.
        around = probs[max(start - 1, 0) : min(end + 1, len(best))].max(axis=0)
        around[[BLANK, cls]] = 0.0
        top = np.argpartition(around, -keep)[-keep:]
        readings = [(alphabet[int(i)], float(around[i])) for i in top] + gaps
        readings.sort(key=lambda r: -r[1])
        alternatives.append(tuple(r for r in readings[:keep] if r[1] >= 0.001))
    return "".join(text), tuple(confidences), tuple(alternatives)
