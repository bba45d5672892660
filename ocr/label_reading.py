"""Stage 5: read the start of an identifier line again, cut out alone, to find its label.

"DOB: 04/15/1990" is painted from the date on when an engine boxed "DOB:" alone; when
the engines read the line as one word ("MRn3791163"), garbled ("Dp±:08/14/1972") or not
at all, the pixels alone cannot say which gap ends the label, and the whole line would
be painted (or cut at the leftmost gap near a share of its characters). The
line's start up to each of its widest gaps is cut out with nothing of the value in it,
enlarged and read as one line; a reading that is a label and nothing else becomes a part
of the region (a box of the label alone), and stage 6 cuts at that gap as for any label
an engine boxed alone. A cut-out that holds any of the value reads more than a label.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

from anonymizer.config import PipelineConfig
from anonymizer.job import Box, PhiHints, TextRegion, Verdict
from anonymizer.labels import label_end_unread, possible_labels, reads_as_label_alone
from anonymizer.phi.allow_list import tokens
from anonymizer.phi.classify import alnum_count
from anonymizer.phi.fuzzy import header_match
from ocr.reading import CROP_CONTEXT_PX, read_crop

LABEL_READ_SCALE = 3.0


def read_leading_label(region: TextRegion, engines, view: np.ndarray, hints: PhiHints,
                       config: PipelineConfig, readings: dict | None = None) -> None:
    """``readings``: what earlier cut-outs of this file read (cine frames repeat their
    overlay over changing anatomy; an identical cut-out is not read twice)."""
    if (region.verdict is not Verdict.PHI or region.upside_down or region.vertical
            or not label_end_unread(region, hints)
            or _starts_with_a_name(region, hints)):
        return
    readings = {} if readings is None else readings
    for label in possible_labels(view, region):
        alone = _alone(view, label)
        key = (label, hashlib.blake2b(alone.tobytes(), digest_size=16).digest())
        if key not in readings:
            readings[key] = _label_reading(engines, alone, label, hints, config)
        reading = readings[key]
        if reading is not None:
            label_box = Box(region.box.left, label.top, label.right - region.box.left, label.height)
            region.parts = region.parts + ((label_box, reading),)
            return


def _starts_with_a_name(region: TextRegion, hints: PhiHints) -> bool:
    """A line that some engine read as starting with a header name ("KOWALSKI ANNA") has
    no label before it: not read again."""
    first_words = [tokens(text)[0] for text in region.readings if tokens(text)]
    return any(header_match(word, hints) == "name" for word in first_words)


def _label_reading(engines, alone: np.ndarray, box: Box, hints: PhiHints, config: PipelineConfig) -> str | None:
    """The label that ``alone`` (the box cut out alone) reads as, and nothing more, or None.
    Engines with a one-line label mode read first (Tesseract reads such a crop in about
    7 ms, PP-OCR's recogniser in about 34); a crop that one engine reads as more than a
    label (a name, a number) is not read by the others."""
    inner = Box(CROP_CONTEXT_PX, CROP_CONTEXT_PX, box.width, box.height)
    readings: list[str] = []
    for engine in sorted(engines, key=lambda engine: not hasattr(engine, "read_label")):
        try:
            found = read_crop((engine,), alone, inner, LABEL_READ_SCALE, as_label=True)
        except Exception:  # noqa: BLE001 - an engine that fails reads nothing here
            continue
        readings += [b.text for b in found if b.confidence >= config.confidence and b.text.strip()]
        if any(_more_than_a_label(text, hints) for text in readings):
            return None
    return _a_label_and_nothing_more(readings, hints)


MAX_LABEL_CHARACTERS = 4  # "DOB:", "MRN", "ACC", "SSN#", or a misreading of one


def _more_than_a_label(text: str, hints: PhiHints) -> bool:
    if any(c.isdigit() for c in text):
        return True
    return alnum_count(text) > MAX_LABEL_CHARACTERS and not reads_as_label_alone(text, hints)


def _a_label_and_nothing_more(readings: list[str], hints: PhiHints) -> str | None:
    """The longest reading of a label alone, if no engine read more characters than it or
    any digit: a crop that took in a sliver of the value ("MRN3" read "MRN:" by one
    engine) reads as more than the label to another ("MRNE")."""
    labels = [text for text in readings if reads_as_label_alone(text, hints)]
    if not labels:
        return None
    longest = max(labels, key=alnum_count)
    if any(c.isdigit() for text in readings for c in text):
        return None
    return longest if all(alnum_count(text) <= alnum_count(longest) for text in readings) else None


def _alone(view: np.ndarray, box: Box) -> np.ndarray:
    """The box's pixels with a margin of the line's background and nothing else: no
    letter of the value beside it, no line above or below."""
    patch = view[box.top:box.bottom, box.left:box.right]
    # Around the box, not in it: a tight box of bold letters is more ink than background.
    margin = box.padded(box.height, *view.shape[:2])
    around = view[margin.top:margin.bottom, margin.left:margin.right]
    background = np.median(around.reshape(-1, *around.shape[2:]), axis=0)
    value = tuple(float(v) for v in np.atleast_1d(background))
    return cv2.copyMakeBorder(np.ascontiguousarray(patch), CROP_CONTEXT_PX, CROP_CONTEXT_PX, CROP_CONTEXT_PX,
                              CROP_CONTEXT_PX, cv2.BORDER_CONSTANT, value=value * (3 if len(value) == 1 else 1))
