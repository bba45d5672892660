"""What an OCR engine is to the pipeline: an image in, text boxes out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from anonymizer.job import Box


@dataclass(frozen=True)
class OcrBox:
    box: Box
    text: str
    confidence: float  # 0..1
    engine: str
    upside_down: bool = False  # read after turning the box half a turn (PP-OCR's direction classifier)


class OcrEngine(Protocol):
    name: str

    def read(self, image: np.ndarray) -> list[OcrBox]:
        """``image`` is an 8-bit grey (rows, cols) or RGB (rows, cols, 3) array."""
        ...


def box_from_points(points) -> Box:
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    left, top = int(np.floor(min(xs))), int(np.floor(min(ys)))
    right, bottom = int(np.ceil(max(xs))), int(np.ceil(max(ys)))
    return Box(left, top, max(right - left, 1), max(bottom - top, 1))


def as_rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return np.repeat(image[:, :, np.newaxis], 3, axis=2)
    return image


def as_grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    return np.rint(image[..., :3] @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
