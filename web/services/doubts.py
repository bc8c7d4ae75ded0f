"""The characters the recogniser was unsure of, read from a stored OCR line: one rule for the
review screen (which marks them) and the index (which finds the letter under the other
readings)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def doubts(line: Mapping[str, Any]) -> dict[int, list[str]]:
    """Position in the line's text → the other characters read there, best first, for every
    character read with less than ocr.DOUBT_BELOW. Nothing for a line a clerk corrected, or
    one stored before the recogniser's own marks were kept (their positions no longer hold)."""
    from ocr import DOUBT_BELOW  # numpy and OpenCV: not at the command line's start

    text = str(line.get("text", ""))
    conf, alt = line.get("conf") or [], line.get("alt") or []
    corrected = "ocr_text" in line and line["ocr_text"] != text
    if corrected or len(conf) != len(text):
        return {}
    found: dict[int, list[str]] = {}
    for i, p in enumerate(conf):
        if float(p) >= DOUBT_BELOW:
            continue
        options = alt[i] if i < len(alt) and isinstance(alt[i], list) else []
        found[i] = [str(o[0]) for o in options
                    if isinstance(o, list | tuple) and o and len(str(o[0])) == 1
                    and str(o[0]) != text[i]]
    return found
