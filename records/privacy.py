"""Personal data shown in lists and logs: ID numbers and mobile numbers masked.

411722********352X keeps the region and the tail, 138****2176 the network and the tail: enough
to tell people apart in a list, not enough to use the number. Masking works on text and on
HTML that a highlighter has already marked (``<mark>138</mark>39452176`` is still one number).
"""

from __future__ import annotations

import logging
import re

_ID_NUMBER = re.compile(r"(?<![0-9])([1-9][0-9]{5})([0-9]{8})([0-9]{3}[0-9Xx])(?![0-9Xx])")
_PHONE = re.compile(r"(?<![0-9])(1[3-9][0-9])([0-9]{4})([0-9]{4})(?![0-9])")
_TAG = re.compile(r"<[^<>]*>")


def personal_numbers(text: str) -> list[re.Match[str]]:
    """Each ID number and mobile number in the text, in order (what masking hides)."""
    found = list(_ID_NUMBER.finditer(text)) + list(_PHONE.finditer(text))
    return sorted(found, key=lambda m: m.start())


def mask_id_numbers(text: str) -> str:
    """Hide the birth date of each 18-digit ID number; region and tail still tell people apart."""
    return _ID_NUMBER.sub(lambda m: f"{m.group(1)}{'*' * 8}{m.group(3)}", text)


def mask_phone_numbers(text: str) -> str:
    """Hide the middle four digits of each mobile number."""
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def mask_personal(text: str) -> str:
    """ID numbers and mobile numbers masked, also across the tags of highlighted HTML."""
    if "<" not in text:
        return mask_phone_numbers(mask_id_numbers(text))
    pieces = _TAG.split(text)
    tags = _TAG.findall(text)
    masked = mask_phone_numbers(mask_id_numbers("".join(pieces)))
    out, start = [], 0
    for i, piece in enumerate(pieces):  # masking keeps lengths, so the tags go back in place
        out.append(masked[start:start + len(piece)])
        start += len(piece)
        if i < len(tags):
            out.append(tags[i])
    return "".join(out)


class MaskingFilter(logging.Filter):
    """A log filter that masks ID and mobile numbers in messages and tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_personal(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal(record.exc_text)
        return True
