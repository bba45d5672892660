"""EasyOCR, a third optional engine: used only when installed with its weights on disk.

Weights come from --easyocr-models, EASYOCR_MODULE_PATH or ~/.EasyOCR/model (the Docker
image bakes them in at build time); downloading is switched off, always.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ocr.engine import OcrBox, as_rgb, box_from_points

REQUIRED_WEIGHTS = ("craft_mlt_25k.pth", "english_g2.pth")


def easyocr_model_dir(configured: Path | None) -> Path:
    if configured is not None:
        return configured
    base = os.environ.get("EASYOCR_MODULE_PATH")
    return Path(base) / "model" if base else Path.home() / ".EasyOCR" / "model"


def missing_easyocr_weights(model_dir: Path) -> list[str]:
    return [name for name in REQUIRED_WEIGHTS if not (model_dir / name).is_file()]


class EasyOcrEngine:
    name = "easyocr"

    def __init__(self, model_dir: Path | None = None) -> None:
        directory = easyocr_model_dir(model_dir)
        missing = missing_easyocr_weights(directory)
        if missing:
            raise FileNotFoundError(f"EasyOCR weights absent ({', '.join(missing)})")
        import easyocr  # heavy: torch comes with it

        self._reader = easyocr.Reader(
            ["en"], gpu=False, model_storage_directory=str(directory),
            download_enabled=False, verbose=False,
        )

    def read(self, image: np.ndarray) -> list[OcrBox]:
        results = self._reader.readtext(as_rgb(image))
        return [OcrBox(box_from_points(points), str(text), float(score), self.name)
                for points, text, score in results]
