"""Burn text into stored pixel values of any depth, and report its tight box."""

from __future__ import annotations

import cv2
import numpy as np


def burn_text(pixels: np.ndarray, text: str, origin: tuple[int, int], scale: float, thickness: int,
              value, font: int = cv2.FONT_HERSHEY_SIMPLEX) -> tuple[int, int, int, int]:
    """Draw ``text`` with its baseline at ``origin`` in ``value``; return (left, top, width, height)."""
    mask = np.zeros(pixels.shape[:2], dtype=np.uint8)
    cv2.putText(mask, text, origin, font, scale, 255, thickness, cv2.LINE_8)
    pixels[mask > 0] = value
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)
