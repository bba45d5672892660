"""Where the value of a labelled identifier begins: "DOB: 07.22.1943" is painted from
the date on. The label identifies no one (the TCIA truth boxes hold the value alone),
and it tells a reader of the de-identified image what was there.

The boundary is found in two steps: the OCR says roughly where the label ends (a word
box of the label alone, or the label's share of a line's characters), and the pixels
say exactly where: a run of columns without ink between the label's last letter and
the value's first. Without such a gap near the estimate, the whole line is painted.
"""

from __future__ import annotations

import re

import numpy as np

from anonymizer.job import TextRegion
from anonymizer.phi.patterns import PHI_LABELS
from anonymizer.text_ink import text_ink_columns

# One or more labels at the start of a reading: "DOB:", "PATIENT NAME:", "MRN".
_LEADING_LABELS = re.compile(rf"\s*(?:{PHI_LABELS.pattern}\s*)+", re.IGNORECASE)
MIN_GAP_TOLERANCE_PX = 3
MIN_VALUE_CHARACTERS = 2


def value_start(view: np.ndarray, region: TextRegion) -> int | None:
    """The first column of the value after a leading label, or None (no label, or no
    gap in the ink where the OCR says the label ends)."""
    estimate = _label_end_estimate(region)
    if estimate is None:
        return None
    end, tolerance, own_box = estimate
    box = region.box
    grey = view if view.ndim == 2 else view.mean(axis=-1)
    band = grey[box.top:box.bottom].astype(np.int16)
    if band.size == 0:
        return None
    inked = text_ink_columns(band, box)[box.left:box.right]
    gaps = [(box.left + start, box.left + stop) for start, stop in _blank_runs(inked)]
    if own_box:
        # The label's word box ends at its last letter: the gap after it starts there, a
        # gap inside the value a glyph further on, past the slack.
        near = [gap for gap in gaps if end - tolerance <= gap[0] <= end + MIN_GAP_TOLERANCE_PX]
        chosen = min(near, key=lambda gap: abs(gap[0] - end), default=None)
    else:
        # A share of characters is off by up to a character: the space after the label
        # is the widest gap near it (the leftmost of equals, so a value is never cut).
        near = [gap for gap in gaps if abs((gap[0] + gap[1]) / 2 - end) <= tolerance]
        chosen = min(near, key=lambda gap: (gap[0] - gap[1], gap[0]), default=None)
    return None if chosen is None else chosen[1]


def _label_end_estimate(region: TextRegion) -> tuple[float, float, bool] | None:
    """(column where the label ends, how far off that may be, whether it is the label's
    own word box), from the OCR parts: a word box holding only labels beats a label's
    share of a line's characters."""
    left = region.box.left
    shares = []
    for box, text in region.parts:
        match = _LEADING_LABELS.match(text)
        if match is None or not text.strip():
            continue
        width_per_character = box.width / max(len(text.strip()), 1)
        tolerance = max(width_per_character, MIN_GAP_TOLERANCE_PX)
        if box.left > left + tolerance:
            continue  # not at the start of the line
        rest = text[match.end():]
        if not rest.strip():
            return float(box.right), tolerance, True
        if sum(c.isalnum() for c in rest) >= MIN_VALUE_CHARACTERS:
            label_characters = (len(text[:match.end()].rstrip()) + match.end()) / 2
            shares.append((box.left + box.width * label_characters / len(text), tolerance, False))
    return shares[0] if shares else None


def _blank_runs(inked: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of columns without ink that has ink on both sides."""
    columns = np.flatnonzero(inked)
    if columns.size < 2:
        return []
    steps = np.diff(columns)
    return [(int(columns[i]) + 1, int(columns[i + 1])) for i in np.flatnonzero(steps > 1)]
