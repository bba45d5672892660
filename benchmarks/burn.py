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
    return _ink_box(drawn)


def _ink_box(drawn: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(drawn)
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def _drawn(pixels_shape: tuple[int, ...], text: str, origin: tuple[int, int], scale: float, thickness: int,
           font: int, outline) -> np.ndarray:
    """Where burn_text draws ``text``, rim included."""
    mask = np.zeros(pixels_shape[:2], dtype=np.uint8)
    cv2.putText(mask, text, origin, font, scale, 255, thickness, cv2.LINE_8)
    return cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0 if outline is not None else mask > 0


def label_and_value_boxes(pixels_shape: tuple[int, ...], text: str, label: str, origin: tuple[int, int],
                          scale: float, thickness: int, font: int, outline) -> tuple[tuple, tuple]:
    """The tight boxes of ``label`` and of what follows it in ``text`` as burn_text draws
    them: "DOB: " is a label, not an identifier (the TCIA truth boxes hold the date alone)."""
    assert text.startswith(label)
    drawn = _drawn(pixels_shape, text, origin, scale, thickness, font, outline)
    (advance, _), _ = cv2.getTextSize(label, font, scale, thickness)
    split = origin[0] + advance  # Hershey glyphs stay within their advance
    label_part, value_part = drawn.copy(), drawn
    label_part[:, split:] = False
    value_part[:, :split] = False
    return _ink_box(label_part), _ink_box(value_part)
