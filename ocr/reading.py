"""Read one frame with every engine, at a scale where burned-in text is legible."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from anonymizer.border import band_widths
from anonymizer.job import Box
from anonymizer.text_policy import text_policy
from ocr.engine import OcrBox, OcrEngine
from ocr.preprocess import thinned_strokes

# Large images (full-detector CR/DX) are read at the text policy's detection.max_ocr_side
# (1600 px shipped): detection time grows with area, and burned-in text on such images is
# 20 px and up, still 15 px there.
# Small images carry small fonts (8-12 px on a 512 px CT, or on a 256 px wide NM strip):
# both engines read them far better at twice the size.
UPSCALE_BELOW_SIDE = 800
UPSCALE_NARROW_SIDE = 512  # a narrow image is read at 2x while its long side stays <= 2200
MAX_UPSCALED_SIDE = 2200
# Text touching the image edge escapes PP-OCR's detector; a quiet frame around it helps.
EDGE_PAD_PX = 16


def ocr_scale(shape: tuple[int, ...]) -> float:
    longest, shortest = max(shape[:2]), min(shape[:2])
    if longest <= UPSCALE_BELOW_SIDE or (shortest <= UPSCALE_NARROW_SIDE and 2 * longest <= MAX_UPSCALED_SIDE):
        return 2.0
    largest = text_policy().max_ocr_side
    if longest > largest:
        return largest / longest
    return 1.0


def read_frame(engines: tuple[OcrEngine, ...], image: np.ndarray, failed: set[str]) -> list[OcrBox]:
    scale = ocr_scale(image.shape)
    if scale != 1.0:
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation)
    background = int(np.median(image))
    image = cv2.copyMakeBorder(image, EDGE_PAD_PX, EDGE_PAD_PX, EDGE_PAD_PX, EDGE_PAD_PX,
                               cv2.BORDER_CONSTANT, value=(background,) * 3 if image.ndim == 3 else background)
    boxes: list[OcrBox] = []
    for engine in engines:
        if engine.name in failed:
            continue
        try:
            boxes.extend(engine.read(image) if getattr(engine, "whole_frame", True) else read_bands(engine, image))
        except Exception:  # noqa: BLE001 - one engine failing degrades to the others
            failed.add(engine.name)
    rows, cols = (int(round(n / scale)) for n in (image.shape[0] - 2 * EDGE_PAD_PX, image.shape[1] - 2 * EDGE_PAD_PX))
    return [replace(b, box=_to_frame(b.box, scale, rows, cols)) for b in boxes]


def read_bands(engine: OcrEngine, image: np.ndarray) -> list[OcrBox]:
    """An engine too slow for whole frames reads the four border bands (the text policy's
    band fraction of each side), where burned-in annotations sit; boxes in image coordinates."""
    rows, cols = image.shape[:2]
    band_rows, band_cols = band_widths(rows, cols, None)
    if 2 * band_rows >= rows or 2 * band_cols >= cols:
        return engine.read(image)
    # Top and bottom across the whole width, the sides between them: no pixel read twice.
    strips = ((0, band_rows, 0, cols), (rows - band_rows, rows, 0, cols),
              (band_rows, rows - band_rows, 0, band_cols), (band_rows, rows - band_rows, cols - band_cols, cols))
    found: list[OcrBox] = []
    for top, bottom, left, right in strips:
        for b in engine.read(np.ascontiguousarray(image[top:bottom, left:right])):
            found.append(replace(b, box=Box(b.box.left + left, b.box.top + top, b.box.width, b.box.height)))
    return found


def _to_frame(box: Box, scale: float, rows: int, cols: int) -> Box:
    """From the padded, rescaled OCR image back to frame coordinates, clipped to the frame."""
    left = max(int(np.floor((box.left - EDGE_PAD_PX) / scale)), 0)
    top = max(int(np.floor((box.top - EDGE_PAD_PX) / scale)), 0)
    right = min(int(np.ceil((box.right - EDGE_PAD_PX) / scale)), cols)
    bottom = min(int(np.ceil((box.bottom - EDGE_PAD_PX) / scale)), rows)
    return Box(left, top, max(right - left, 1), max(bottom - top, 1))


CROP_CONTEXT_PX = 6


def read_crop(engines: tuple[OcrEngine, ...], image: np.ndarray, box: Box, scale: float,
              thin: bool = False, as_label: bool = False) -> list[OcrBox]:
    """Every engine's reading of one box, cut out with a little context and enlarged.

    PP-OCR reads the crop as one line (recognition only); the others read it padded to a
    square, since a detector that scales the short side up would otherwise blow a long,
    thin line up to thousands of pixels. ``as_label``: engines that can read a label as
    one line do so instead (stage 5 re-reading a word it did not know). Engine errors
    propagate: callers decide."""
    rows, cols = image.shape[:2]
    crop = image[max(box.top - CROP_CONTEXT_PX, 0):min(box.bottom + CROP_CONTEXT_PX, rows),
                 max(box.left - CROP_CONTEXT_PX, 0):min(box.right + CROP_CONTEXT_PX, cols)]
    if crop.size == 0:
        return []
    if thin:
        crop = thinned_strokes(crop)
    if scale != 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    height, width = crop.shape[:2]
    side = max(height, width) + 32
    pad_y, pad_x = (side - height) // 2, (side - width) // 2
    square = cv2.copyMakeBorder(crop, pad_y, side - height - pad_y, pad_x, side - width - pad_x,
                                cv2.BORDER_REPLICATE)
    found: list[OcrBox] = []
    for engine in engines:
        reader = getattr(engine, "read_label", None) if as_label else None
        reader = reader or getattr(engine, "read_line", None)
        found.extend(reader(crop) if reader else engine.read(square))
    return found
