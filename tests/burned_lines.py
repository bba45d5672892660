"""Burned-in text lines for the label and ink tests, shipped as arrays.

The label cut and the ink extent are pixel-exact, and OpenCV's glyph rasterisation
moves by a pixel between releases (5.0 and 5.1 differ). Drawing the fixtures at test
time would make the tests judge the OpenCV build instead of the code, so the lines are
drawn once and stored in tests/data/burned-lines.npz. To add a line, list it in LINES
and run ``python tests/burned_lines.py`` with the locked OpenCV.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

ARCHIVE = Path(__file__).with_name("data") / "burned-lines.npz"
DEFAULT_WIDTH = 260
# Hershey simplex at 0.5, 1 px, no anti-aliasing, from (4, 20) on a 30-row black strip:
# the small overlay font of the synthetic benchmark.
ORIGIN, SCALE, THICKNESS, ROWS = (4, 20), 0.5, 1, 30
LINES: tuple[tuple[str, int], ...] = tuple(
    (text, DEFAULT_WIDTH) for text in (
        "ACC", "ACC A315871", "DOB: 07/13/1980", "DOB: 11/27/1948", "DOE 07/13/1980",
        "KOWALSKI ANNA", "MRN", "MRN 44150", "MRN 4415086", "PAT JONES 4415", "PAT: 4415086",
        "Pat Jones",
    )
) + (("HARTMANN ZBIGNIEW", 300), ("MRN 4415086", 120))
# Leading parts whose advance width (where the next character starts) the tests need.
PREFIXES = ("ACC ", "DOB", "DOB: ", "MRN ")


def _key(text: str, width: int) -> str:
    return f"{width}|{text}"


def _advance_key(prefix: str) -> str:
    return f"advance|{prefix}"


@cache
def _archive() -> dict[str, np.ndarray]:
    with np.load(ARCHIVE) as stored:
        return {name: stored[name] for name in stored.files}


def _stored(key: str, what: str, where: str) -> np.ndarray:
    if key not in _archive():
        raise KeyError(f"{what} is not in {ARCHIVE.name}: add it to {where} and run python tests/burned_lines.py")
    return _archive()[key]


def burned_line(text: str, width: int = DEFAULT_WIDTH) -> tuple[np.ndarray, np.ndarray]:
    """A burned-in line on black, and the columns of each character's ink."""
    view = _stored(_key(text, width), f"{text!r} at width {width}", "LINES").copy()
    return view, np.flatnonzero((view > 0).any(axis=0))


def advance(prefix: str) -> int:
    """How far the font's pen moves over ``prefix``: the next character starts this many
    pixels after the line's origin (cv2.getTextSize as the fixtures were drawn)."""
    return int(_stored(_advance_key(prefix), repr(prefix), "PREFIXES"))


def _advance_now(prefix: str) -> int:
    import cv2

    (width, _), _ = cv2.getTextSize(prefix, cv2.FONT_HERSHEY_SIMPLEX, SCALE, THICKNESS)
    return width


def draw_line(text: str, width: int) -> np.ndarray:
    import cv2

    view = np.zeros((ROWS, width), np.uint8)
    cv2.putText(view, text, ORIGIN, cv2.FONT_HERSHEY_SIMPLEX, SCALE, 255, THICKNESS, cv2.LINE_8)
    return view


if __name__ == "__main__":
    ARCHIVE.parent.mkdir(exist_ok=True)
    arrays = {_key(text, width): draw_line(text, width) for text, width in LINES}
    arrays.update({_advance_key(prefix): np.array(_advance_now(prefix)) for prefix in PREFIXES})
    np.savez_compressed(ARCHIVE, **arrays)
    print(f"{len(LINES)} lines and {len(PREFIXES)} advances written to {ARCHIVE}")
