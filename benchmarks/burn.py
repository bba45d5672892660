"""Burn text into stored pixel values of any depth, and report its tight box."""

from __future__ import annotations

import cv2
import numpy as np


def burn_text(pixels: np.ndarray, text: str, origin: tuple[int, int], scale: float, thickness: int,
              value, font: int = cv2.FONT_HERSHEY_SIMPLEX, outline=None) -> tuple[int, int, int, int]:
    """Draw ``text`` with its baseline at ``origin`` in ``value``; return (left, top, width, height).

    With ``outline``, a 1-px rim of that value goes round every stroke, as modality
    overlays do so that their text reads on any anatomy."""
    mask = np.zeros(pixels.shape[:2], dtype=np.uint8)
    cv2.putText(mask, text, origin, font, scale, 255, thickness, cv2.LINE_8)
    drawn = mask > 0
    if outline is not None:
        drawn = cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0
        pixels[drawn] = outline
    pixels[mask > 0] = value
    ys, xs = np.nonzero(drawn)
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)
