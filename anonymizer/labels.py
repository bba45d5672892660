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
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Levenshtein

from anonymizer.job import Box, PhiHints, TextRegion
from anonymizer.phi.classify import alnum_count
from anonymizer.phi.patterns import PHI_LABELS
from anonymizer.text_ink import grey_view, line_background, text_ink_columns

# One or more labels at the start of a reading: "DOB:", "PATIENT NAME:", "MRN".
_LEADING_LABELS = re.compile(rf"\s*(?:{PHI_LABELS.pattern}\s*)+", re.IGNORECASE)
# OCR misreads small bold labels ("D0B:", "Mrn4415086", "MIN 4742816") and glues them to
# their value ("ACCA315871"). A three-character token one edit from a label counts as
# that label only when a number follows it (a letter may lead it, as in accessions; at
# least MIN_MISREAD_VALUE_DIGITS digits, nearly nothing else) and it is no header value,
# so "DOE 07/13/1980" of a patient named Doe is painted whole.
_MISREAD_LABELS = ("DOB", "MRN", "ACC", "SSN")  # not PAT or TEL: "PAM 07/13/1980", "TED ..."
_LEADING_TOKEN = re.compile(r"\s*([A-Za-z][A-Za-z0-9±]{2})\s*[:;.]?\s*(?=[A-Za-z]?\d)")  # "ACCA315871" too
_TOKEN_ALONE = re.compile(r"\s*([A-Za-z][A-Za-z0-9±]{2})\s*:\s*")
MIN_MISREAD_VALUE_DIGITS = 4
MIN_VALUE_DIGIT_SHARE = 0.8
MIN_GAP_TOLERANCE_PX = 3
MIN_VALUE_CHARACTERS = 2
# A space is at least this much wider than the gaps between letters beside it.
SPACE_WIDTH_RATIO = 2


@dataclass(frozen=True)
class LabelEnd:
    column: float  # where the OCR says the label ends
    tolerance: float  # how far off that may be (a character)
    kind: str  # "word": the label's own word box; "share": its share of a line; "alone": the region is the label


def value_start(view: np.ndarray, region: TextRegion, hints: PhiHints) -> int | None:
    """The first column of the value after a leading label, or None (no label, or no
    gap in the ink where the OCR says the label ends). A region that is the label alone
    gets its right edge: what follows on the line is the value."""
    if region.upside_down:
        return None  # its label is at the right and its letters turned: the whole line is painted
    label = _label_end(region, hints)
    if label is None:
        return None
    box = region.box
    if label.kind == "alone":
        return box.right
    gaps = _gaps(grey_view(view), box)
    end, tolerance = label.column, label.tolerance
    if label.kind == "word":
        # The label's word box ends at its last letter: the gap after it starts there, a
        # gap inside the value a glyph further on, past the slack.
        near = [gap for gap in gaps if end - tolerance <= gap[0] <= end + MIN_GAP_TOLERANCE_PX]
        chosen = min(near, key=lambda gap: abs(gap[0] - end), default=None)
        # A word box may stop short of the label's colon ("DOB" boxed, ":" past it): a
        # space within a character after it, clearly the widest gap there, is the end.
        within = [gap for gap in gaps if end - tolerance <= gap[0] <= end + tolerance]
        widest = _space(within)
        if widest is not None:
            chosen = widest
    else:
        # A share of characters is off by up to a character either way: a space after
        # the label stands out as the widest gap there; without one, the leftmost gap is
        # taken, so that a cut may fall inside the label but never inside the value.
        near = sorted(gap for gap in gaps if abs((gap[0] + gap[1]) / 2 - end) <= tolerance)
        chosen = _space(near) or (near[0] if near else None)
    value_left = _value_part_left(region, label)
    if value_left is None:
        return None if chosen is None else chosen[1]
    # An engine boxed the value alone: it starts where that box does. The gap ending
    # nearest before it is the space; the cut never falls past that box's left edge.
    before = [gap for gap in gaps if value_left - tolerance <= gap[1] <= value_left + MIN_GAP_TOLERANCE_PX]
    if before:
        return min(before, key=lambda gap: abs(gap[1] - value_left))[1]
    return value_left if chosen is None else min(chosen[1], value_left)


def _value_part_left(region: TextRegion, label: LabelEnd) -> int | None:
    """The left edge of a part that reads the value alone: it starts between the label's
    end and a space and a character after it, holds no label, and runs to the line's end."""
    lefts = []
    for box, text in region.parts:
        if not label.column - label.tolerance <= box.left <= label.column + 2 * label.tolerance:
            continue
        if box.right < region.box.right - label.tolerance or alnum_count(text) < MIN_VALUE_CHARACTERS:
            continue
        if _LEADING_LABELS.match(text) is None:
            lefts.append(box.left)
    return min(lefts, default=None)


def _space(gaps: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The gap that stands out as a space: at least SPACE_WIDTH_RATIO times as wide as
    every other one, or None."""
    widths = sorted((gap[1] - gap[0] for gap in gaps), reverse=True)
    if len(widths) > 1 and widths[0] >= SPACE_WIDTH_RATIO * widths[1]:
        return max(gaps, key=lambda gap: gap[1] - gap[0])
    return None


def _label_end(region: TextRegion, hints: PhiHints) -> LabelEnd | None:
    """From the OCR parts: a word box holding only a label beats a label's share of a
    line's characters; a region whose every part is a label alone (at least one read as
    such, the others letters one edit from a label) is the label."""
    left = region.box.left
    words, shares, alone = [], [], []
    for box, text in region.parts:
        stripped = text.strip()
        if not stripped:
            continue
        tolerance = max(box.width / len(stripped), MIN_GAP_TOLERANCE_PX)
        if box.left > left + tolerance:
            alone.append(False)
            continue  # not at the start of the line
        if reads_as_label_alone(text, hints):
            words.append(LabelEnd(float(box.right), tolerance, "word"))
            alone.append(True)
            continue
        match = _LEADING_LABELS.match(text)
        if match is not None and not _keepable(text[:match.end()], hints):
            match = None  # "Pat" of "Pat Jones", or a header value that reads like a label
        # Beside a reading of the label alone, another engine's misreading of it ("AGC",
        # "ALCC _" with "ACC") is that label too: letters one edit from it, nothing else.
        alone.append(_letters_of_a_label(stripped, hints))
        if match is None:
            match = _LEADING_TOKEN.match(text)
            if match is None or not _misread_label(match.group(1), hints) or not _number(text[match.end():]):
                continue
        if alnum_count(text[match.end():]) >= MIN_VALUE_CHARACTERS:
            label_characters = (len(text[:match.end()].rstrip()) + match.end()) / 2
            shares.append(LabelEnd(box.left + box.width * label_characters / len(text), tolerance, "share"))
    if alone and all(alone) and (words or _label_in_rereads(region, hints)):
        return LabelEnd(float(region.box.right), 0.0, "alone")
    return (words or shares or [None])[0]


def reads_as_label_alone(text: str, hints: PhiHints) -> bool:
    """A label and nothing else: read exactly ("DOB:", "PATIENT NAME:"; not a header value,
    not "Pat" without a colon), or three letters one edit from a label, with a colon."""
    match = _LEADING_LABELS.match(text)
    if match is not None and _keepable(text[:match.end()], hints) and not text[match.end():].strip():
        return True
    misread = _TOKEN_ALONE.fullmatch(text)
    return misread is not None and _misread_label(misread.group(1), hints)


def _label_in_rereads(region: TextRegion, hints: PhiHints) -> bool:
    """Whether the re-readings of a region that reads like a label alone (stage 5 reads an
    unknown word again, larger) read a label alone, and nothing but labels."""
    parts = {text for _, text in region.parts}
    rereads = [text.strip() for text in region.readings if text not in parts and text.strip()]
    exact = [text for text in rereads if _LEADING_LABELS.fullmatch(text) and _keepable(text, hints)]
    return bool(exact) and all(text in exact or _letters_of_a_label(text, hints) for text in rereads)


def _letters_of_a_label(text: str, hints: PhiHints) -> bool:
    letters = "".join(c for c in text if c.isalnum())
    return letters.isalpha() and _misread_label(letters, hints)


def _misread_label(token: str, hints: PhiHints) -> bool:
    normalised = token.upper().replace("0", "O")
    if _header_value(normalised, hints):
        return False
    return any(Levenshtein.distance(normalised, label) <= 1 for label in _MISREAD_LABELS)


# A label that is also a given name ("Pat") is kept only with the punctuation of a label.
_LABELS_THAT_ARE_NAMES = {"PAT"}


def _keepable(label: str, hints: PhiHints) -> bool:
    """Whether a label read exactly may be kept: it is no header value, and a label that is
    also a name ends with a colon, '#' or '.'."""
    words = re.findall(r"[A-Za-z]+", label.upper())
    if any(_header_value(word, hints) for word in words):
        return False
    return not _LABELS_THAT_ARE_NAMES & set(words) or label.rstrip().endswith((":", "#", "."))


def _header_value(word: str, hints: PhiHints) -> bool:
    return any(word == value.upper() for value in hints.names | hints.identifiers)


def _number(value: str) -> bool:
    characters = [c for c in value if c.isalnum()]
    digits = sum(c.isdigit() for c in characters)
    return digits >= MIN_MISREAD_VALUE_DIGITS and digits >= MIN_VALUE_DIGIT_SHARE * len(characters)


def _gaps(grey: np.ndarray, box: Box) -> list[tuple[int, int]]:
    """(start, stop) of each run of columns without ink like the box's text, between its
    letters, in the box's band."""
    band = grey[box.top:box.bottom].astype(np.int16)
    if band.size == 0:
        return []
    inked = text_ink_columns(band, box, line_background(grey, box))[box.left:box.right]
    return [(box.left + start, box.left + stop) for start, stop in _blank_runs(inked)]


def _blank_runs(inked: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of columns without ink that has ink on both sides."""
    columns = np.flatnonzero(inked)
    if columns.size < 2:
        return []
    steps = np.diff(columns)
    return [(int(columns[i]) + 1, int(columns[i + 1])) for i in np.flatnonzero(steps > 1)]
