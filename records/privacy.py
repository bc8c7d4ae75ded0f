"""Personal data shown in lists and logs: ID numbers masked (411722********352X)."""

from __future__ import annotations

import re

_ID_NUMBER = re.compile(r"(?<![0-9])([1-9][0-9]{5})([0-9]{8})([0-9]{3}[0-9Xx])(?![0-9Xx])")


def mask_id_numbers(text: str) -> str:
    """Hide the birth date of each 18-digit ID number; region and tail still tell people apart."""
    return _ID_NUMBER.sub(lambda m: f"{m.group(1)}{'*' * 8}{m.group(3)}", text)
