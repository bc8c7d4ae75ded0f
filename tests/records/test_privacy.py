"""ID numbers are masked wherever letters are listed."""

from __future__ import annotations

import pytest

from records import mask_id_numbers


@pytest.mark.parametrize(("text", "shown"), [
    ("身份证号41172219630412352X，电话13839452176",
     "身份证号411722********352X，电话13839452176"),
    ("<mark>411722196304123524</mark>", "<mark>411722********3524</mark>"),
    ("账号62220213091234567890", "账号62220213091234567890"),
    ("两人：110105194912310021、11010519491231002x",
     "两人：110105********0021、110105********002x"),
])
def test_mask_id_numbers(text: str, shown: str) -> None:
    assert mask_id_numbers(text) == shown
