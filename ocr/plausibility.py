"""Reject OCR "text" that is really anatomy: engines (Tesseract above all) read noise.

Burned-in annotations are small and regular. A box taller than a tenth of the image,
or far wider than its characters could fill, is texture, not text; redacting it would
destroy anatomy for nothing. Measured on pydicom's corpus, where every such box was
noise (README, "Detect text"). So is a box too small to hold what it claims: lower
than the smallest pixel font (3x5), or narrower than its characters could be drawn
(PP-OCR's "VW" 4 px high and Tesseract's "Fsa" 5 px wide on pydicom's 16x16 icons).
"""

from __future__ import annotations

import re

from anonymizer.job import Box

MAX_HEIGHT_FRACTION = 0.10
MIN_HEIGHT_LIMIT_PX = 16  # small images still carry 8-16 px fonts
MAX_CHAR_WIDTH_PER_HEIGHT = 2.0
MIN_TEXT_HEIGHT_PX = 5
# Average width of a glyph and its spacing: "1", "I" and "l" are the narrowest, about a
# third of the text height with spacing; a fifth is narrower than any word.
MIN_CHAR_WIDTH_PER_HEIGHT = 0.2
MIN_ALNUM_FRACTION = 0.5

# PP-OCRv4's recogniser is Chinese-English: on anatomy texture it "reads" CJK characters
# at low confidence. Overlays here are Latin script (Tesseract runs with eng), so such a
# reading is texture unless the recogniser is sure of it.
MIN_CONFIDENCE_NON_LATIN = 0.6

_ALNUM = re.compile(r"[A-Za-z0-9]")
_NON_LATIN = re.compile(r"[^\x00-\u024F\u2000-\u206F\u00B0]")


def is_plausible_text(box: Box, text: str, image_rows: int, confidence: float = 1.0) -> bool:
    glyphs = [c for c in text if not c.isspace()]
    if not glyphs:
        return False
    if _NON_LATIN.search(text) and confidence < MIN_CONFIDENCE_NON_LATIN:
        return False
    alnum = sum(1 for c in glyphs if _ALNUM.match(c))
    if alnum == 0 or alnum / len(glyphs) < MIN_ALNUM_FRACTION:
        return False
    if box.height > max(MAX_HEIGHT_FRACTION * image_rows, MIN_HEIGHT_LIMIT_PX) or box.height < MIN_TEXT_HEIGHT_PX:
        return False
    return MIN_CHAR_WIDTH_PER_HEIGHT * box.height <= box.width / len(glyphs) <= MAX_CHAR_WIDTH_PER_HEIGHT * box.height
