"""Where a text line's ink is: which columns of its band hold ink like its letters, which
belong to shapes reaching off the line, and the rows and columns a box's text spans.
Stage 6 reads them to grow a box along its line, to find where a label ends and its
value begins, and to paint no more than the text's extent."""

from __future__ import annotations

import cv2
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


def grey_view(view: np.ndarray) -> np.ndarray:
    """A frame's 8-bit view as one channel (the mean of RGB), as the ink measures read it."""
    if view.ndim == 2:
        return view
    # The channels summed in uint16, then divided: the same values as view.mean(axis=-1),
    # ten times faster (stage 6 asks for it a dozen times per image).
    return (view[..., 0].astype(np.uint16) + view[..., 1] + view[..., 2]) / 3.0


def text_polarity(difference: np.ndarray) -> int:
    """+1 for text brighter than the background (``difference`` from it), -1 for darker,
    0 for no ink at all."""
    strong = np.abs(difference) > INK_CONTRAST
    if not strong.any():
        return 0
    return 1 if difference[strong].mean() > 0 else -1


def text_ink_columns(band: np.ndarray, box: Box, around: float | None = None) -> np.ndarray:
    """Columns of the line's band holding ink like the box's text: of the same polarity
    (brighter or darker than the background) and strength, and not filling the column.
    ``around``: the value around the line (``line_background``). Where the band's median
    gives the text the other polarity, the median is wrong and ``around`` is taken: on a
    small image a row's median is the anatomy's (bright tissue beside dark letters with a
    bright rim on a mid-grey overlay background), the grey background then
    counts as ink as dark as the letters, and every column of the line is inked."""
    difference = band - np.median(band)
    polarity = text_polarity(difference[:, box.left:box.right])
    if around is not None:
        local = band - around
        local_polarity = text_polarity(local[:, box.left:box.right])
        if local_polarity not in (0, polarity):
            difference, polarity = local, local_polarity
    if polarity == 0:
        return np.zeros(band.shape[1], dtype=bool)
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


def line_background(grey: np.ndarray, box: Box) -> float:
    """The value around a line of text: the median of strips half its height above and
    below it, over its columns and a height either side (the box's own median, where the
    line fills the frame's height)."""
    reach = max(box.height // 2, 2)
    left, right = max(box.left - box.height, 0), min(box.right + box.height, grey.shape[1])
    above = grey[max(box.top - reach, 0):box.top, left:right]
    below = grey[box.bottom:min(box.bottom + reach, grey.shape[0]), left:right]
    around = np.concatenate([above.ravel(), below.ravel()])
    if around.size == 0:
        return float(np.median(grey[box.top:box.bottom, box.left:box.right]))
    return float(np.median(around))


def blank_columns_at_ends(grey: np.ndarray, box: Box) -> tuple[int, int]:
    """How many columns at the box's left and right ends hold no ink (against the line's
    background, the median of its whole band): OCR boxes run a few columns past their
    letters. (0, 0) for a box with no ink."""
    band = grey[box.top:box.bottom].astype(np.int16)
    if band.size == 0:
        return 0, 0
    difference = band[:, box.left:box.right] - np.median(band)
    polarity = text_polarity(difference)
    columns = np.flatnonzero((difference * polarity > INK_CONTRAST).any(axis=0))
    if polarity == 0 or columns.size == 0:
        return 0, 0
    return int(columns[0]), difference.shape[1] - 1 - int(columns[-1])


BEYOND_LINE_PX = 3

# How far a glyph of the line may reach past its box (boxes can clip an ascender or a
# descender), as a share of the box height and at least BEYOND_LINE_PX.
GLYPH_OVERHANG = 0.25


def ink_off_the_line(grey: np.ndarray, box: Box) -> np.ndarray:
    """Columns whose ink within the line's band all belongs to shapes that reach well
    above or below the line: anatomy beside the text (a bone as bright as the letters),
    not letters of the line. A letter of the line is a shape inside its band."""
    reach = max(int(GLYPH_OVERHANG * box.height), BEYOND_LINE_PX)
    top, bottom = max(box.top - box.height, 0), min(box.bottom + box.height, grey.shape[0])
    window = grey[top:bottom].astype(np.int16)
    band = grey[box.top:box.bottom].astype(np.int16)
    background = np.median(band)
    polarity = text_polarity(band[:, box.left:box.right] - background)
    if polarity == 0:
        return np.zeros(grey.shape[1], dtype=bool)
    ink = ((window - background) * polarity > INK_CONTRAST).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    band_top, band_bottom = box.top - top, box.bottom - top
    shape_top = stats[:, cv2.CC_STAT_TOP]
    shape_bottom = shape_top + stats[:, cv2.CC_STAT_HEIGHT]
    off_line = (shape_top < band_top - reach) | (shape_bottom > band_bottom + reach)
    off_line[0] = False  # the background
    band_labels = labels[band_top:band_bottom]
    on_line_ink = ((band_labels > 0) & ~off_line[band_labels]).any(axis=0)
    off_line_ink = off_line[band_labels].any(axis=0)
    return off_line_ink & ~on_line_ink


def _rows_of_the_line(grey: np.ndarray, box: Box, strong: np.ndarray, polarity: int,
                      background: float) -> np.ndarray:
    """The box's rows with strong ink, less a run of them at its top or bottom edge that
    is set off from the rest by a blank row and goes on past the box: the top of the next
    line's letters, or anatomy coming in at the edge (OCR boxes of small text are often
    twice its height). The dot of an "i" at the edge ends there, and stays."""
    inked = strong.any(axis=1)
    rows = np.flatnonzero(inked)
    runs = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
    if len(runs) < 2:
        return rows
    main = max(range(len(runs)), key=lambda i: int(strong[runs[i]].sum()))
    keep = []
    for index, run in enumerate(runs):
        outside = None
        if index != main and run[0] == 0 and box.top > 0:
            outside = box.top - 1
        elif index != main and run[-1] == box.height - 1 and box.bottom < grey.shape[0]:
            outside = box.bottom
        if outside is not None:
            edge_row = run[0] if run[0] == 0 else run[-1]
            # Any ink beside the edge row's, a column either way: a glyph's last row is
            # often its brightest, the row before it anti-aliased.
            beyond = (grey[outside, box.left:box.right].astype(np.int16) - background) * polarity > INK_CONTRAST
            edge = strong[edge_row].copy()
            edge[1:] |= strong[edge_row, :-1]
            edge[:-1] |= strong[edge_row, 1:]
            if (beyond & edge).any():
                continue
        keep.append(run)
    return np.concatenate(keep)


def ink_extent(grey: np.ndarray, box: Box) -> Box:
    """The box without the rows and columns at its edges that hold no ink as strong as its
    text's (OCR boxes of small text are often twice its height, and run past its end, over
    anatomy as often as over black), a pixel of margin kept; the box itself when it has
    no ink. Fainter edges of the letters lie within that margin and the padding. The rows
    are those of the line's own letters, not of the next line's (_rows_of_the_line)."""
    patch = grey[box.top:box.bottom, box.left:box.right].astype(np.int16)
    if patch.size == 0:
        return box
    background = np.median(patch)
    difference = patch - background
    polarity = text_polarity(difference)
    if polarity == 0:
        return box
    signed = difference * polarity
    column_peaks = signed.max(axis=0)
    # The lower quartile, not the median: where anatomy brighter than grey letters fills
    # much of the box, the letters still count as ink.
    typical = np.percentile(column_peaks[column_peaks > INK_CONTRAST], 25)
    strong = signed >= PEAK_RANGE[0] * typical
    rows, columns = _rows_of_the_line(grey, box, strong, polarity, background), np.flatnonzero(strong.any(axis=0))
    top = box.top + max(int(rows[0]) - 1, 0)
    bottom = box.top + min(int(rows[-1]) + 2, box.height)
    left = box.left + max(int(columns[0]) - 1, 0)
    right = box.left + min(int(columns[-1]) + 2, box.width)
    return Box(left, top, right - left, bottom - top)
