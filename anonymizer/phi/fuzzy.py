"""Recognise header values in OCR text despite OCR errors (rapidfuzz)."""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from anonymizer.job import PhiHints
from anonymizer.phi.dates import date_renderings
from anonymizer.text_policy import text_policy

# OCR confuses these with digits inside numbers and dates.
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "S": "5",
                                   "B": "8", "Z": "2"})
# Names match by partial_ratio at the text policy's reading.header_name_similarity;
# exactly for values shorter than MIN_FUZZY_LENGTH.
DATE_THRESHOLD = 90
MIN_FUZZY_LENGTH = 5


# partial_ratio aligns the shorter string inside the longer: an OCR fragment such as "12"
# scores 100 inside "412-438-8675". The text must hold most of the value to count.
MIN_COVERED_FRACTION = 0.8


def _matches(value: str, text: str) -> bool:
    value, text = value.upper().strip(), text.upper()
    if not value:
        return False
    if len(value) < MIN_FUZZY_LENGTH:
        return re.search(rf"(?<![A-Z0-9]){re.escape(value)}(?![A-Z0-9])", text) is not None
    if len(re.sub(r"\W", "", text)) < MIN_COVERED_FRACTION * len(re.sub(r"\W", "", value)):
        return False
    return fuzz.partial_ratio(value, text) >= text_policy().header_name_similarity


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text.translate(_DIGIT_LOOKALIKES))


def date_match(text: str, dates: set[str]) -> bool:
    digits = _digits(text)
    if len(digits) < 6:
        return False
    squeezed = re.sub(r"\s+", "", text.upper())
    for value in dates:
        for form in date_renderings(value):
            form_digits = _digits(form)
            if form.isalpha() or len(form_digits) < 6:
                continue
            if form_digits in digits or fuzz.partial_ratio(form_digits, digits) >= DATE_THRESHOLD and \
                    abs(len(digits) - len(form_digits)) <= 2:
                return True
            if form.upper().replace(" ", "") in squeezed:
                return True
    return False


# IDs and institution fields of two or three characters ("20", "CT1") match ordinary
# overlay numbers and labels; only those of the text policy's
# reading.min_header_identifier_length or more are evidence. Names keep the header's own
# minimum: "LI" or "WU" are surnames.


def header_match(text: str, hints: PhiHints) -> str | None:
    """Which kind of header value the OCR text contains, if any."""
    shortest = text_policy().min_header_identifier_length
    for kind, values in (("name", hints.names), ("identifier", hints.identifiers),
                         ("institution", hints.institutions)):
        if kind != "name":
            values = {v for v in values if len(v.strip()) >= shortest}
        if any(_matches(value, text) for value in values):
            return kind
    if hints.dates and date_match(text, hints.dates):
        return "date"
    return None
