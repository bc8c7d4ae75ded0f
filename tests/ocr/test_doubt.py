"""Characters in doubt: per-character confidence and other readings from the CTC output."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from ocr import DOUBT_BELOW, DoubtTally, Line, ocr_image, reading_order
from ocr._ctc import read_characters

ALPHABET = ["blank", "久", "欠", "人", "。", " "]
BOX = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))


def frames(*rows: dict[str, float]) -> np.ndarray:
    """A (frames, classes) softmax output, the blank taking what a row leaves."""
    out = np.zeros((len(rows), len(ALPHABET)), dtype=np.float32)
    for n, row in enumerate(rows):
        for ch, p in row.items():
            out[n, ALPHABET.index(ch)] = p
        out[n, 0] = 1.0 - sum(row.values())
    return out


def test_a_sure_character_has_no_alternatives():
    text, conf, alts = read_characters(frames({"人": 0.99}, {"人": 0.98}, {}), ALPHABET)
    assert text == "人"
    assert conf == pytest.approx((0.99,))
    assert alts == ((),)


def test_a_look_alike_is_offered_best_first():
    probs = frames({"人": 0.99}, {}, {"久": 0.41, "欠": 0.38}, {"久": 0.3, "欠": 0.35})
    text, conf, alts = read_characters(probs, ALPHABET)
    assert text == "人久"
    assert conf[1] == pytest.approx(0.41)
    assert alts[1][0] == ("欠", pytest.approx(0.38))
    assert conf[0] > DOUBT_BELOW and alts[0] == ()


def test_a_character_likely_missing_marks_its_neighbour():
    # 。 nearly made it in the blank frames after 人: 人 is marked, 人。 offered.
    probs = frames({"人": 0.99}, {"。": 0.3}, {}, {"久": 0.99})
    text, conf, alts = read_characters(probs, ALPHABET)
    assert text == "人久"
    assert conf[0] == pytest.approx(0.7)
    assert ("人。", pytest.approx(0.3)) in alts[0]
    assert conf[1] == pytest.approx(0.99)


def test_repeats_split_by_a_blank_are_two_characters():
    text, conf, _ = read_characters(frames({"久": 0.95}, {}, {"久": 0.97}), ALPHABET)
    assert text == "久久" and len(conf) == 2


def test_stored_lines_round_trip_and_old_ones_still_load():
    line = Line("人久", BOX, 0.7, confidences=(0.99, 0.41), alternatives=((), (("欠", 0.38),)))
    shape = json.loads(json.dumps(line.as_dict(), ensure_ascii=False))
    assert shape["conf"] == [0.99, 0.41]
    assert shape["alt"] == [[], [["欠", 0.38]]]
    assert Line.from_dict(shape) == line
    assert line.doubtful == (1,)
    old = {"text": "人久", "box": [[0, 0], [10, 0], [10, 5], [0, 5]], "score": 0.9}
    loaded = Line.from_dict(old)
    assert loaded.confidences == () and loaded.doubtful == ()
    # A text corrected by hand no longer lines up with its marks: they are dropped.
    assert Line.from_dict({**shape, "text": "人久了"}).confidences == ()


def test_marks_that_do_not_line_up_are_refused():
    with pytest.raises(ValueError):
        Line("人久", BOX, 0.7, confidences=(0.99,), alternatives=((),))


def test_joined_boxes_keep_marks_on_their_characters():
    left = Line("ab", BOX, 0.9, confidences=(0.99, 0.5), alternatives=((), (("d", 0.4),)))
    right_box = tuple((x + 20, y) for x, y in BOX)
    right = Line("c久", right_box, 0.9, confidences=(0.3, 0.99), alternatives=((("e", 0.6),), ()))
    (line,) = reading_order([right, left], size=(100, 5))
    assert line.text == "ab c久"  # a space between two Latin runs
    assert line.doubtful == (1, 3)
    assert line.alternatives[3] == (("e", 0.6),)


def test_doubt_tally_counts_marked_misreadings():
    tally = DoubtTally()
    tally.add("人久人", "人欠人", [False, True, False])  # a substitution, marked
    tally.add("人久人", "人人", [True, False])  # a dropped character beside a mark
    tally.add("人人", "人人人", [False, False, False])  # an insertion, unmarked
    assert tally.errors == 3 and tally.errors_marked == 2
    assert tally.characters == 8 and tally.characters_marked == 2


def test_doubt_tally_splits_misreadings_by_kind():
    # Which kinds the marks catch: a confident substitution cannot be marked by doubt alone.
    tally = DoubtTally()
    tally.add("人久人", "人欠人", [False, False, False])  # a substitution, unmarked
    tally.add("人久", "人", [True])  # a dropped character beside a mark
    tally.add("人", "人久", [False, True])  # an insertion, marked
    assert tally.kinds == {"substitution": [1, 0], "deletion": [1, 1], "insertion": [1, 1]}
    by_kind = {"deletion": "1/1", "insertion": "1/1", "substitution": "0/1"}
    assert tally.as_dict()["by_kind"] == by_kind


@pytest.mark.slow
def test_the_real_model_gives_every_character_a_confidence(strip: Image.Image):
    page = ocr_image(strip)
    assert page.lines
    for line in page.lines:
        assert len(line.confidences) == len(line.text)
        assert all(0.0 <= p <= 1.0 for p in line.confidences)
        assert len(line.alternatives) == len(line.text)
        for p, alts in zip(line.confidences, line.alternatives, strict=True):
            assert (p < DOUBT_BELOW) or alts == ()
        assert Line.from_dict(json.loads(json.dumps(line.as_dict()))).text == line.text
