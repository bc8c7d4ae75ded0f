"""A line crop read in variants by the same recogniser: the readings voted, doubt from
disagreement (ocr._variants, the ``variants`` setting of the default engine)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ocr import DOUBT_BELOW, EngineUnavailable
from ocr._rapid import RapidOcrEngine, parse_settings
from ocr._variants import VARIANTS, Reading, combine, variant


def sure(text: str, p: float = 0.99) -> Reading:
    """A reading sure of every character."""
    return Reading(text, (p,) * len(text), ((),) * len(text))


def test_readings_that_agree_keep_the_main_one():
    out = combine([sure("人久"), sure("人久", 0.97), sure("人久", 0.95)], [1, 1, 1])
    assert out.text == "人久"
    assert out.confidences == pytest.approx((0.97, 0.97))


def test_a_sure_character_the_variants_read_otherwise_is_in_doubt():
    # One reading cannot show this: the main reading is sure of 天, two variants read 夫.
    main = sure("丁天人")
    out = combine([main, sure("丁夫人"), sure("丁夫人"), sure("丁天人")], [1, 1, 1, 1],
                  vote=False)
    assert out.text == "丁天人"  # the main reading's characters are kept
    assert out.confidences[0] > DOUBT_BELOW and out.confidences[2] > DOUBT_BELOW
    assert out.confidences[1] == pytest.approx(0.99 / 2) and out.confidences[1] < DOUBT_BELOW
    assert out.alternatives[1][0] == ("夫", pytest.approx(0.99 / 2))


def test_the_other_reading_is_offered_even_where_it_outvotes_the_kept_one():
    out = combine([sure("丁天人"), sure("丁夫人"), sure("丁夫人")], [1, 1, 1], vote=False)
    assert out.text == "丁天人"
    assert out.alternatives[1] == (("夫", pytest.approx(2 * 0.99 / 3)),)


def test_the_vote_may_change_a_character():
    main = Reading("丁天人", (0.99, 0.6, 0.99), ((), (("夫", 0.3),), ()))
    out = combine([main, sure("丁夫人"), sure("丁夫人")], [1, 1, 1])
    assert out.text == "丁夫人"
    assert out.confidences[1] == pytest.approx(2 * 0.99 / 3)
    assert ("天", pytest.approx(0.2)) in out.alternatives[1]


def test_a_character_few_readings_hold_is_not_added_but_marks_its_neighbour():
    out = combine([sure("人久"), sure("人。久"), sure("人久"), sure("人久")], [1, 1, 1, 1])
    assert out.text == "人久"
    assert out.confidences[0] == pytest.approx(1 - 0.99 / 4)
    assert out.confidences[1] == pytest.approx(0.99)
    # Before the first character: the first is lowered.
    out = combine([sure("人久"), sure("①人久"), sure("人久")], [1, 1, 1])
    assert out.text == "人久" and out.confidences[0] == pytest.approx(1 - 0.99 / 3)


def test_a_character_most_readings_hold_is_added_or_dropped():
    out = combine([sure("人久"), sure("人。久"), sure("人。久")], [1, 1, 1])
    assert out.text == "人。久"
    out = combine([sure("人。久"), sure("人久"), sure("人久")], [1, 1, 1])
    assert out.text == "人久"
    # Not while only the confidences are voted: the main reading's text stays.
    assert combine([sure("人。久"), sure("人久"), sure("人久")], [1, 1, 1], vote=False).text == (
        "人。久"
    )


def test_variants_are_the_crop_redrawn_as_the_recogniser_takes_it():
    crop = np.full((40, 200, 3), 235, dtype=np.uint8)
    crop[10:30, 20:180] = 30  # ink
    sizes = {name: variant(crop, name).shape for name in VARIANTS}
    assert all(len(s) == 3 and s[2] == 3 for s in sizes.values())
    assert sizes["wide"][1] > 200 > sizes["narrow"][1]
    assert sizes["slant_left"] == sizes["slant_right"] == (40, 206, 3)
    assert sizes["tight"][0] < 40 and sizes["pad"][0] > 40
    assert variant(crop, "contrast").min() == 0 and variant(crop, "contrast").max() == 255


def test_the_setting_names_variants_and_refuses_unknown_ones():
    settings = parse_settings("variants=narrow+slant_left,variant_gate=0.95")
    assert settings.variants == "narrow+slant_left" and settings.variant_gate == 0.95
    assert parse_settings("").variants == ""  # off by default: see docs/ocr.md
    with pytest.raises(EngineUnavailable, match="没有变体 sideways"):
        RapidOcrEngine(settings=parse_settings("variants=narrow+sideways"))


@pytest.mark.slow
def test_the_real_model_reads_a_crop_in_variants_the_same_wherever_it_is(strip: Image.Image):
    """A crop's readings do not depend on the crops read beside it (each crop's variants are
    one batch), the text is the one reading's, and every character keeps its marks."""
    from rapidocr.ch_ppocr_rec.typings import TextRecInput

    plain = RapidOcrEngine()
    voted = RapidOcrEngine(variants="narrow+slant_left+slant_right")
    lines, lines_voted = plain.recognize(strip), voted.recognize(strip)
    assert [ln.text for ln in lines_voted] == [ln.text for ln in lines]
    assert [ln.confidences for ln in lines_voted] != [ln.confidences for ln in lines]
    for line in lines_voted:
        assert len(line.confidences) == len(line.text)
        for p, alts in zip(line.confidences, line.alternatives, strict=True):
            assert (p < DOUBT_BELOW) or alts == ()
    grey = np.asarray(strip.convert("L"))
    crop = np.ascontiguousarray(np.repeat(grey[40:140, :, None], 3, axis=2))
    other = np.ascontiguousarray(np.repeat(grey[150:260, :700, None], 3, axis=2))
    recogniser = voted._ocr.text_rec
    alone = recogniser(TextRecInput(img=[crop])).txts[0]
    beside = recogniser(TextRecInput(img=[other, crop])).txts[1]
    assert alone == beside and alone.confidences == beside.confidences
