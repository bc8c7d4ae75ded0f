"""The RapidOCR engine (PP-OCRv6 small, ONNX Runtime): the only module importing rapidocr.

Settings are a table (:data:`SETTINGS`); the defaults are what measured best on the shared
eval set (45 real handwritten lines, 12 synthetic A4 pages; docs/ocr.md has the runs):
- model paths given explicitly from the installed wheel: without them rapidocr hashes
  its files at every start and, on any mismatch, tries to download;
- detector limited by the long side to 960: on the pages det time halves against 1280
  (1.06 -> 0.56 s) with page CER 0.32% -> 0.26%; real lines unchanged;
- no vertical padding of wide images (rapidocr pads a line crop to a square-ish page by
  default): real lines 7.9% -> 7.8% CER and half the time per line;
- an image shorter than ``min_line_height`` (a single line cut from a page or a photo) is
  enlarged to it, and any single-line image is detected with a side limit of 1600:
  7.8% -> 6.95% (line limit 1280: 7.1%, 960: 7.4%; enlarging to 80 px: 7.4%);
  A4 pages are never touched by this;
- no angle classifier (8.4% with it), dilation on (box/unclip thresholds: no better value);
- one ONNX Runtime thread (two processes of one thread beat one of two);
- pages go in as greyscale: in colour (blue ink, tinted paper) the recogniser drifts to
  traditional forms (synthetic pages: 2.8% -> 1.0% CER clean, 10.0% -> 2.8% degraded).

The recogniser's output is also read per character (:mod:`ocr._ctc`): rapidocr's decoder is
wrapped so that each text it returns carries its characters' probabilities and other
readings, and they come back in the same order as its boxes whatever it sorts or filters.
With the setting ``variants`` each crop is also read drawn differently (:mod:`ocr._variants`)
and the readings vote; off by default (docs/ocr.md: no gain on half B, ×2–3.5 the time).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from ._columns import is_tall, upright_line
from ._ctc import read_characters
from ._errors import EngineUnavailable
from ._layout import LINE_ASPECT
from ._types import DOUBT_BELOW, Line
from ._variants import VARIANTS, Reading, combine, variant

DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"


@dataclass(frozen=True)
class RapidSettings:
    """Tunable settings of the default engine; every default is the measured best."""

    det_limit_side: int = 960  # detector input, longest side in pixels
    det_thresh: float = 0.3  # pixel probability that counts as text
    det_box_thresh: float = 0.5  # mean probability a box needs to be kept
    det_unclip_ratio: float = 1.6  # how far a box is grown around its text
    det_dilation: bool = True
    use_cls: bool = False  # the 0/180 degree line classifier
    vertical_padding: bool = False  # rapidocr pads wide images vertically
    min_line_height: int = 72  # shorter images are enlarged to this height (0: never)
    line_det_limit_side: int = 1600  # detector side for an image of a single line
    autocontrast: bool = False  # stretch grey levels before OCR
    pale_print: bool = False  # grey as the lightest channel: coloured grid/rules fade out
    threads: int = 1  # ONNX Runtime threads per process
    text_score: float = 0.5  # boxes read with less are dropped (tall ones: by the reader)
    # Each crop read again drawn as these ocr._variants ("+" between names; empty: never),
    # where its reading has a character below ``variant_gate``; the readings vote.
    variants: str = ""
    variant_gate: float = 1.0  # 1.0: every crop is read again
    variant_vote: bool = False  # the vote may change the text (off: only its confidences)


SETTINGS = tuple(f.name for f in fields(RapidSettings))
DEFAULTS = RapidSettings()


def parse_settings(text: str, base: RapidSettings = DEFAULTS) -> RapidSettings:
    """Settings from ``"name=value,name=value"`` (the HUIYIN_OCR_RAPIDOCR variable)."""
    changes: dict[str, Any] = {}
    types = {f.name: type(getattr(base, f.name)) for f in fields(RapidSettings)}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in types:
            raise EngineUnavailable(f"RapidOCR 没有设置项 {name!r}（有：{', '.join(SETTINGS)}）")
        kind = types[name]
        value = value.strip()
        if kind is bool:
            changes[name] = value.lower() in ("1", "true", "yes", "on")
        else:
            changes[name] = kind(value)
    return replace(base, **changes)


def _quiet() -> None:
    """Keep rapidocr's INFO chatter off stderr, where the CLI writes one-line errors."""
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)


def model_dir() -> Path:
    """The model files shipped inside the installed rapidocr wheel."""
    import rapidocr

    return Path(rapidocr.__file__).parent / "models"


def params(models: Path, settings: RapidSettings = DEFAULTS) -> dict[str, Any]:
    """RapidOCR parameters: local models only, the given detector limits and threads."""
    return {
        "Global.log_level": "error",
        "Global.use_cls": settings.use_cls,
        "Global.use_vertical_padding": settings.vertical_padding,
        "Global.text_score": 0.0,  # filtered in recognize(): a column read sideways scores low
        "Det.model_path": str(models / DET_MODEL),
        "Rec.model_path": str(models / REC_MODEL),
        "Cls.model_path": str(models / CLS_MODEL),
        "Det.limit_type": "max",
        "Det.limit_side_len": settings.det_limit_side,
        "Det.thresh": settings.det_thresh,
        "Det.box_thresh": settings.det_box_thresh,
        "Det.unclip_ratio": settings.det_unclip_ratio,
        "Det.use_dilation": settings.det_dilation,
        "EngineConfig.onnxruntime.intra_op_num_threads": settings.threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": settings.threads,
    }


def _lightest(image: Image.Image) -> Image.Image:
    """Grey as each pixel's lightest channel: red grid squares and blue rules printed on
    稿纸 and 信纸 turn pale, while black, blue-black and blue ink stay dark."""
    if image.mode != "RGB":
        return image.convert("L")
    return Image.fromarray(np.asarray(image).max(axis=2), "L")


def prepare(image: Image.Image, settings: RapidSettings = DEFAULTS) -> tuple[Image.Image, float]:
    """The greyscale image the engine sees, and its scale against the page."""
    grey = _lightest(image) if settings.pale_print else image.convert("L")
    if settings.autocontrast:
        grey = ImageOps.autocontrast(grey, cutoff=1)
    scale = 1.0
    if settings.min_line_height and 0 < grey.height < settings.min_line_height:
        scale = settings.min_line_height / grey.height
        size = (max(1, round(grey.width * scale)), settings.min_line_height)
        grey = grey.resize(size, Image.Resampling.BICUBIC)
    return grey, scale


class _Read(str):
    """A text as rapidocr returns it, carrying its per-character probabilities and readings."""

    confidences: tuple[float, ...]
    alternatives: tuple[tuple[tuple[str, float], ...], ...]


class _CharacterDecoder:
    """rapidocr's CTC decoder, its texts carrying what :func:`read_characters` finds."""

    def __init__(self, decoder: Any) -> None:
        self.decoder = decoder
        self.character = decoder.character

    def __call__(self, preds: np.ndarray, return_word_box: bool = False, **kwargs: Any) -> Any:
        lines, words = self.decoder(preds, return_word_box, **kwargs)
        out = []
        for (text, score), probs in zip(lines, preds, strict=True):
            chars, confidences, alternatives = read_characters(probs, self.character)
            read = _Read(text)
            if chars == text:  # the same greedy decoding: it always is
                read.confidences, read.alternatives = confidences, alternatives
            out.append((read, score))
        return out, words


def _reading(text: str) -> Reading | None:
    """The characters and confidences a text from :class:`_CharacterDecoder` carries."""
    confidences = getattr(text, "confidences", ())
    if not text or len(confidences) != len(text):
        return None
    return Reading(str(text), confidences, getattr(text, "alternatives", ()))


def _as_read(reading: Reading) -> _Read:
    """A combined reading as rapidocr's texts come: other readings kept only where in doubt."""
    read = _Read(reading.text)
    read.confidences = reading.confidences
    read.alternatives = tuple(
        alts if p < DOUBT_BELOW else ()
        for alts, p in zip(reading.alternatives, reading.confidences, strict=True)
    )
    return read


def variant_names(settings: RapidSettings) -> list[str]:
    """The variants a setting names, refusing one that does not exist."""
    names = [n for n in settings.variants.split("+") if n]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        known = "、".join(VARIANTS)
        raise EngineUnavailable(f"RapidOCR 没有变体 {'、'.join(unknown)}（有：{known}）")
    return names


class _VariantRecogniser:
    """rapidocr's recogniser, each crop it was unsure of read again in variants (one batch
    per crop, so a crop's readings do not depend on the crops read beside it) and voted."""

    def __init__(self, recogniser: Any, settings: RapidSettings) -> None:
        self.recogniser = recogniser
        self.names = variant_names(settings)
        self.gate = settings.variant_gate
        self.vote = settings.variant_vote

    def __getattr__(self, name: str) -> Any:
        return getattr(self.recogniser, name)

    def __call__(self, args: Any) -> Any:
        from rapidocr.ch_ppocr_rec.typings import TextRecInput

        out = self.recogniser(args)
        crops = [args.img] if isinstance(args.img, np.ndarray) else list(args.img)
        if not self.names or out.txts is None:
            return out
        txts, scores = list(out.txts), list(out.scores)
        for k, (crop, text) in enumerate(zip(crops, out.txts, strict=True)):
            main = _reading(text)
            if main is None or min(main.confidences) >= self.gate:
                continue
            again = self.recogniser(TextRecInput(img=[variant(crop, n) for n in self.names]))
            readings = [main] + [r or Reading("", ()) for r in map(_reading, again.txts)]
            voted = combine(readings, [1.0] * len(readings), vote=self.vote)
            txts[k] = _as_read(voted)
            if voted.text != main.text:
                scores[k] = float(np.mean(voted.confidences)) if voted.text else 0.0
        out.txts, out.scores = tuple(txts), scores
        return out


def _line(text: str, box: Any, score: float, scale: float) -> Line:
    """A Line from one rapidocr result, its per-character data trimmed with its text."""
    points = tuple((float(x) / scale, float(y) / scale) for x, y in box)
    stripped = text.strip()
    confidences = getattr(text, "confidences", ())
    if not confidences:
        return Line(text=stripped, box=points, score=float(score))
    start = len(text) - len(text.lstrip())
    end = start + len(stripped)
    return Line(
        text=stripped,
        box=points,
        score=float(score),
        confidences=confidences[start:end],
        alternatives=getattr(text, "alternatives", ())[start:end],
    )


class RapidOcrEngine:
    """PP-OCRv6 detection + recognition through RapidOCR, models from the wheel."""

    name = "rapidocr"

    def __init__(
        self, models: Path | None = None, settings: RapidSettings | None = None, **changes: Any
    ) -> None:
        """Load both models now, so a missing file fails here and not on the first page."""
        _quiet()
        from rapidocr import RapidOCR

        _quiet()
        self.settings = replace(settings or DEFAULTS, **changes)
        variant_names(self.settings)  # an unknown variant fails before the models load
        models = models or model_dir()
        missing = [m for m in (DET_MODEL, REC_MODEL) if not (models / m).is_file()]
        if missing:
            raise EngineUnavailable(f"RapidOCR 模型文件缺失：{', '.join(missing)}（在 {models}）")
        self._ocr = RapidOCR(params=params(models, self.settings))
        _quiet()
        for load in ("_load_det_model", "_load_rec_model"):  # load now, not on first page
            getattr(self._ocr, load, lambda: None)()
        recogniser = getattr(self._ocr, "text_rec", None)
        if recogniser is not None and hasattr(recogniser, "postprocess_op"):
            recogniser.postprocess_op = _CharacterDecoder(recogniser.postprocess_op)
        self._recogniser = recogniser  # columns read upright: one reading each
        if recogniser is not None and self.settings.variants:
            self._ocr.text_rec = _VariantRecogniser(  # type: ignore[assignment]
                recogniser, self.settings
            )
        self._lock = threading.Lock()  # the detector's side limit changes per image

    def _run(self, grey: Image.Image, line: bool) -> Any:
        """RapidOCR on one image, a single enlarged line at its own detector limit."""
        detector = getattr(self._ocr, "text_det", None)
        if not line or detector is None or not hasattr(detector, "limit_side_len"):
            return self._ocr(np.asarray(grey))
        with self._lock:
            detector.limit_side_len = self.settings.line_det_limit_side
            try:
                return self._ocr(np.asarray(grey))
            finally:
                detector.limit_side_len = self.settings.det_limit_side

    def recognize(self, image: Image.Image) -> list[Line]:
        """Boxes and text found on a page image, unordered, coordinates in its pixels."""
        grey, scale = prepare(image, self.settings)
        line = scale != 1.0 or grey.width > LINE_ASPECT * grey.height
        result = self._run(grey, line=line)
        boxes = getattr(result, "boxes", None)
        texts = getattr(result, "txts", None)
        scores = getattr(result, "scores", None)
        if boxes is None or texts is None or scores is None:
            return []
        lines = [
            _line(text, box, score, scale)
            for box, text, score in zip(boxes, texts, scores, strict=True)
            if text.strip()
        ]
        # A tall box read poorly may be a column of vertical writing, which the reader reads
        # again upright; it drops those still below the cut-off.
        return [f for f in lines if f.score >= self.settings.text_score or is_tall(f)]


    def read_upright(self, image: Image.Image, columns: list[Line], turn: int = 0) -> list[Line]:
        """Tall boxes (columns of vertical writing) read again with their characters upright
        (or each turned ``turn`` quarter turns counter-clockwise: see upright_line)."""
        recogniser = self._recogniser
        if recogniser is None:
            return columns
        from rapidocr.ch_ppocr_rec.typings import TextRecInput

        grey = np.asarray(prepare(image, replace(self.settings, min_line_height=0))[0])
        strips, kept = [], []
        for column in columns:
            left, top, right, bottom = (round(v) for v in column.bounds)
            crop = grey[max(top, 0) : bottom, max(left, 0) : right]
            if not is_tall(column) or crop.size == 0:
                continue
            strip = upright_line(crop, turn)
            strips.append(np.ascontiguousarray(np.repeat(strip[:, :, None], 3, axis=2)))
            kept.append(column)
        if not strips:
            return columns
        with self._lock:
            result = recogniser(TextRecInput(img=strips))
        read = {
            id(c): _line(t, c.box, s, 1.0)
            for c, t, s in zip(kept, result.txts, result.scores, strict=True)
        }
        return [read.get(id(c), c) for c in columns]


ENVIRONMENT = "HUIYIN_OCR_RAPIDOCR"


def engine_from_environment() -> RapidOcrEngine:
    """The default engine with any settings from HUIYIN_OCR_RAPIDOCR ("name=value,...")."""
    import os

    return RapidOcrEngine(settings=parse_settings(os.environ.get(ENVIRONMENT, "")))
