"""The RapidOCR engine (PP-OCRv6 small, ONNX Runtime): the only module importing rapidocr.

Settings follow shared/FINDINGS.md and were re-measured here (2 cores, loaded machine):
- model paths given explicitly from the installed wheel: without them rapidocr hashes
  its files at every start and, on any mismatch, tries to download;
- no angle classifier; detector limited by the long side. Side 1280 against 1600 on the
  shared eval set: real lines 7.9% vs 7.8% CER, pages 0.29% vs 0.26% (one or two
  characters either way) at 1.8 vs 2.5 s per page, so 1280;
- one ONNX Runtime thread (two processes of one thread beat one of two);
- pages go in as greyscale: in colour (blue ink, tinted paper) the recogniser drifts to
  traditional forms (synthetic pages at side 1600: 2.8% -> 1.0% CER clean, 10.0% -> 2.8%
  degraded) while the eval set is unchanged (it is greyscale already).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ._errors import EngineUnavailable
from ._types import Line

DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
DET_LIMIT_SIDE = 1280
THREADS = 1


def _quiet() -> None:
    """Keep rapidocr's INFO chatter off stderr, where the CLI writes one-line errors."""
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)


def model_dir() -> Path:
    """The model files shipped inside the installed rapidocr wheel."""
    import rapidocr

    return Path(rapidocr.__file__).parent / "models"


def params(models: Path, det_limit_side: int = DET_LIMIT_SIDE) -> dict[str, Any]:
    """RapidOCR parameters: local models only, measured detector limits, one thread."""
    return {
        "Global.log_level": "error",
        "Global.use_cls": False,
        "Det.model_path": str(models / DET_MODEL),
        "Rec.model_path": str(models / REC_MODEL),
        "Cls.model_path": str(models / CLS_MODEL),
        "Det.limit_type": "max",
        "Det.limit_side_len": det_limit_side,
        "EngineConfig.onnxruntime.intra_op_num_threads": THREADS,
        "EngineConfig.onnxruntime.inter_op_num_threads": THREADS,
    }


class RapidOcrEngine:
    """PP-OCRv6 detection + recognition through RapidOCR, models from the wheel."""

    name = "rapidocr"

    def __init__(self, models: Path | None = None, det_limit_side: int = DET_LIMIT_SIDE) -> None:
        """Load both models now, so a missing file fails here and not on the first page."""
        _quiet()
        from rapidocr import RapidOCR

        _quiet()
        models = models or model_dir()
        missing = [m for m in (DET_MODEL, REC_MODEL) if not (models / m).is_file()]
        if missing:
            raise EngineUnavailable(f"RapidOCR 模型文件缺失：{', '.join(missing)}（在 {models}）")
        self._ocr = RapidOCR(params=params(models, det_limit_side))
        _quiet()
        for load in ("_load_det_model", "_load_rec_model"):  # load now, not on first page
            getattr(self._ocr, load, lambda: None)()

    def recognize(self, image: Image.Image) -> list[Line]:
        """Boxes and text found on a page image, unordered, coordinates in its pixels."""
        result = self._ocr(np.asarray(image.convert("L")))
        boxes = getattr(result, "boxes", None)
        texts = getattr(result, "txts", None)
        scores = getattr(result, "scores", None)
        if boxes is None or texts is None or scores is None:
            return []
        lines = []
        for box, text, score in zip(boxes, texts, scores, strict=True):
            if not text.strip():
                continue
            points = tuple((float(x), float(y)) for x, y in box)
            lines.append(Line(text=text.strip(), box=points, score=float(score)))
        return lines
