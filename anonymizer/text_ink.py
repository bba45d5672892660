"""Which columns of a text line's band hold ink like its letters (stage 6 reads them to
grow a box along its line and to find where a label ends and its value begins)."""

from __future__ import annotations

import numpy as np

from anonymizer.job import Box

INK_CONTRAST = 48  # 8-bit view levels between a glyph and the line's background

# A column crossing a glyph has ink in some of its rows, not all: one inked from top to
# bottom of the band is an edge or anatomy, not text. Burned-in text is drawn in one
# colour, so a column continues it only where its strongest ink is about as strong as
# the text's (a grey bar beside white letters is not more of them).
MAX_TEXT_COVERAGE = 0.8
PEAK_RANGE = (0.75, 1.25)  # of the median strongest ink of the box's text columns
MAX_EDGE_INKED_TEXT_COLUMNS = 0.1


def text_ink_columns(band: np.ndarray, box: Box) -> np.ndarray:
    """Columns of the line's band holding ink like the box's text: of the same polarity
    (brighter or darker than the background) and strength, and not filling the column."""
    difference = band - np.median(band)
    inside = difference[:, box.left:box.right]
    strong = np.abs(inside) > INK_CONTRAST
    if not strong.any():
        return np.zeros(band.shape[1], dtype=bool)
    polarity = 1 if inside[strong].mean() > 0 else -1
    signed = difference * polarity
    coverage = (signed > INK_CONTRAST).mean(axis=0)
    peaks = signed.max(axis=0)
    text_peaks = peaks[box.left:box.right]
    typical = np.median(text_peaks[text_peaks > INK_CONTRAST])
    like_text = (peaks >= PEAK_RANGE[0] * typical) & (peaks <= PEAK_RANGE[1] * typical)
    # Where the box leaves a margin above and below its letters, ink touching the band's
    # first or last row is something else (anatomy the line runs into).
    at_edges = (signed[[0, -1]] > INK_CONTRAST).any(axis=0)
    text_columns = coverage[box.left:box.right] > 0
    if text_columns.any() and at_edges[box.left:box.right][text_columns].mean() <= MAX_EDGE_INKED_TEXT_COLUMNS:
        like_text &= ~at_edges
    return (coverage > 0) & (coverage <= MAX_TEXT_COVERAGE) & like_text


BEYOND_LINE_PX = 3


def ink_beyond_line(grey: np.ndarray, box: Box) -> np.ndarray:
    """Columns whose ink goes on above and below the line: anatomy crossing it."""
    above = grey[max(box.top - BEYOND_LINE_PX, 0):box.top].astype(np.int16)
    below = grey[box.bottom:box.bottom + BEYOND_LINE_PX].astype(np.int16)
    if above.size == 0 or below.size == 0:
        return np.zeros(grey.shape[1], dtype=bool)
    background = np.median(grey[box.top:box.bottom])
    return ((np.abs(above - background) > INK_CONTRAST).any(axis=0)
            & (np.abs(below - background) > INK_CONTRAST).any(axis=0))
