"""Text written along an edge, at 90 or 270 degrees (a name up the side of a CT).

The recognisers read lines left to right. PP-OCR's detector still finds a vertical line,
as a box at least twice as tall as it is wide, and then reads it sideways into garble that
the plausibility check drops as too tall to be text. Each such box is cut out, turned
both ways and read again as one line; the readings stand for the box, which stage 6
paints like any other. Only the boxes the detector found are turned, never whole frames.
"""

from __future__ import annotations

import numpy as np

from anonymizer.job import Box
from ocr.engine import OcrBox
from ocr.plausibility import MIN_TEXT_HEIGHT_PX, is_plausible_text
from ocr.reading import CROP_CONTEXT_PX

VERTICAL_RATIO = 2.0  # a box this many times taller than wide holds a vertical line
# A turned reading counts with this many letters and digits: a name or an ID runs longer,
# and shorter "readings" come from shapes (a 16 px icon's edge read as "VW" turned).
MIN_TURNED_ALNUM = 4


# PP-OCR's and EasyOCR's (CRAFT) detectors outline text; Tesseract's page layout also
# boxes anatomy's edges, tall ones included, so only the detectors' boxes are turned.
DETECTOR_ENGINES = ("rapidocr", "easyocr")


def vertical_lines(boxes: list[OcrBox]) -> list[Box]:
    found: list[Box] = []
    for b in boxes:
        if b.engine not in DETECTOR_ENGINES:
            continue
        if b.box.height >= VERTICAL_RATIO * b.box.width and b.box.width >= MIN_TEXT_HEIGHT_PX \
                and all(b.box.iou(seen) < 0.5 for seen in found):
            found.append(b.box)
    return found


def read_turned(engines, image: np.ndarray, box: Box, confidence: float) -> list[OcrBox]:
    """Every engine's reading of ``box`` turned a quarter each way, as boxes in the frame."""
    rows, cols = image.shape[:2]
    crop = image[max(box.top - CROP_CONTEXT_PX, 0):min(box.bottom + CROP_CONTEXT_PX, rows),
                 max(box.left - CROP_CONTEXT_PX, 0):min(box.right + CROP_CONTEXT_PX, cols)]
    # A line runs one way: of each engine's two turned readings only the more confident
    # stands; the other is the line upside down, which one engine or another always reads
    # as some confident garble ("Vd IS3HD" for CHEST PA).
    best: dict[str, OcrBox] = {}
    for quarter_turns in (1, 3):
        turned = np.ascontiguousarray(np.rot90(crop, quarter_turns))
        for engine in engines:
            reader = getattr(engine, "read_label", None) or getattr(engine, "read_line", None)
            try:
                found = reader(turned) if reader else engine.read(turned)
            except Exception:  # noqa: BLE001 - an engine failing on one crop leaves the others
                continue
            for b in found:
                # Judged as the horizontal line it is once turned: its height is the box's width.
                as_line = Box(0, 0, box.height, box.width)
                if (sum(c.isalnum() for c in b.text) >= MIN_TURNED_ALNUM and b.confidence >= confidence
                        and is_plausible_text(as_line, b.text, cols, b.confidence)
                        and (b.engine not in best or b.confidence > best[b.engine].confidence)):
                    best[b.engine] = OcrBox(box, b.text, b.confidence, b.engine)
    return list(best.values())
