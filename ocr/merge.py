"""Merge boxes from several engines: the same text seen twice becomes one region."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from anonymizer.job import Box
from anonymizer.phi.classify import alnum_upper
from ocr.engine import OcrBox


@dataclass
class MergedBox:
    box: Box
    text: str
    confidence: float
    engines: set[str] = field(default_factory=set)
    readings: list[str] = field(default_factory=list)  # every engine's text, best first
    parts: list[OcrBox] = field(default_factory=list)  # every engine box merged in


# Engines differ in granularity (PP-OCR reads lines, Tesseract words): a box lying
# almost wholly inside another is the same text seen at a finer grain.
CONTAINMENT_THRESHOLD = 0.8


def same_text(a: Box, b: Box, iou_threshold: float) -> bool:
    if a.iou(b) >= iou_threshold:
        return True
    smaller = min(a.area, b.area)
    return smaller > 0 and a.intersection_area(b) / smaller >= CONTAINMENT_THRESHOLD


# Tesseract now and then draws a word box far past its word ("ACCA875766" over 369 px
# for a 174 px line). When the larger of two boxes reads no more characters than the
# smaller one, the extra area held nothing either engine read: the tighter box stands.
LOOSE_AREA_RATIO = 1.5


def _same_characters_looser(region: MergedBox, candidate: OcrBox) -> Box | None:
    """The tighter box when one box is much larger than the other yet reads the same.
    Every reading the region holds counts: a region grown by a line that reads more (a
    name line joined to a word box of its last name) is never cut back to the word."""
    characters = alnum_upper(candidate.text)
    if not characters or any(alnum_upper(text) != characters for text in region.readings):
        return None
    tight, loose = sorted((region.box, candidate.box), key=lambda b: b.area)
    if (loose.area < LOOSE_AREA_RATIO * tight.area
            or tight.intersection_area(loose) < CONTAINMENT_THRESHOLD * tight.area):
        return None
    return tight


# A word box (Tesseract) whose characters are part of an overlapping line's reading
# (PP-OCR) is that line's text even when the word box runs above or below the line
# (stretched to noise: "MARGARETHE" from row 0 over a line at rows 14-36). It joins the
# line, whose rows the region keeps.
def word_in_line(word: Box, word_text: str, line: Box, line_texts: Sequence[str]) -> Box | None:
    characters = alnum_upper(word_text)
    if len(characters) < 2 or not any(characters in alnum_upper(text) and characters != alnum_upper(text)
                                       for text in line_texts):
        return None
    across = min(word.right, line.right) - max(word.left, line.left)
    down = min(word.bottom, line.bottom) - max(word.top, line.top)
    if across < CONTAINMENT_THRESHOLD * word.width or down < line.height / 2:
        return None
    return line.union(Box(word.left, line.top, word.width, line.height))


# Tesseract also draws a word box past the end of its word, over anatomy as bright as
# the letters ("5245444" 24 px past its last digit, onto a bone edge), so that neither
# box holds the other. When a line box of the other engine read the word's characters,
# a misread one in seven allowed, and no fewer of them, the columns past the line hold
# nothing that engine read: the word joins the line within the line's columns.
OVERRUN_SIMILARITY, OVERRUN_MIN_CHARACTERS = 85, 4


def word_overrunning_line(word: Box, word_text: str, line: Box, line_texts: Sequence[str]) -> Box | None:
    characters = alnum_upper(word_text)
    if len(characters) < OVERRUN_MIN_CHARACTERS or (word.left >= line.left and word.right <= line.right):
        return None
    across = min(word.right, line.right) - max(word.left, line.left)
    down = min(word.bottom, line.bottom) - max(word.top, line.top)
    if across < word.width / 2 or down < line.height / 2:
        return None
    for text in line_texts:
        line_characters = alnum_upper(text)
        if len(line_characters) <= len(characters):
            continue
        match = fuzz.partial_ratio_alignment(characters, line_characters)
        if match.score >= OVERRUN_SIMILARITY and match.dest_end - match.dest_start >= len(characters):
            return line
    return None


def _word_joins_line(word: Box, word_text: str, line: Box, line_texts: Sequence[str]) -> Box | None:
    return (word_in_line(word, word_text, line, line_texts)
            or word_overrunning_line(word, word_text, line, line_texts))


def _joined(region: MergedBox, candidate: OcrBox, iou_threshold: float) -> Box | None:
    """The region's box with the candidate in it, or None when they are different text."""
    if same_text(region.box, candidate.box, iou_threshold):
        return _same_characters_looser(region, candidate) or region.box.union(candidate.box)
    return (_word_joins_line(candidate.box, candidate.text, region.box, region.readings)
            or _word_joins_line(region.box, region.text, candidate.box, [candidate.text]))


def merge_boxes(boxes: list[OcrBox], iou_threshold: float) -> list[MergedBox]:
    """Greedy, most confident first: a box joins the first region it overlaps at IoU >=
    threshold (or lies inside). The region keeps the union of the boxes (so redaction
    covers what any engine saw), unless the larger box reads just what the smaller one
    does, and the text of its most confident reading. A word read within a line joins
    the line."""
    merged: list[MergedBox] = []
    for candidate in sorted(boxes, key=lambda b: b.confidence, reverse=True):
        for region in merged:
            joined = _joined(region, candidate, iou_threshold)
            if joined is not None:
                region.box = joined
                region.engines.add(candidate.engine)
                region.readings.append(candidate.text)
                region.parts.append(candidate)
                break
        else:
            merged.append(MergedBox(candidate.box, candidate.text, candidate.confidence, {candidate.engine},
                                    [candidate.text], [candidate]))
    return [_tightest_rows(region) for region in _words_joined_to_lines(merged)]


def _words_joined_to_lines(merged: list[MergedBox]) -> list[MergedBox]:
    """A word that became a region before its line was read (a more confident word box)
    joins the line now."""
    kept: list[MergedBox] = []
    for region in sorted(merged, key=lambda r: max(len(alnum_upper(t)) for t in r.readings), reverse=True):
        for line in kept:
            joined = _word_joins_line(region.box, region.text, line.box, line.readings)
            if joined is not None:
                line.box = joined
                line.engines |= region.engines
                line.readings.extend(region.readings)
                line.parts.extend(region.parts)
                break
        else:
            kept.append(region)
    return sorted(kept, key=lambda r: r.confidence, reverse=True)


# "The same characters" allowing a misread letter in ten (DQB for DOB) or a word one
# engine left out ("[M]" in a name line).
WHOLE_READING_SIMILARITY = 90


def _tightest_rows(region: MergedBox) -> MergedBox:
    """When every engine read the region's text whole (the same characters, from one box
    or from words left to right), the region keeps the fewest rows any engine's boxes
    span: PP-OCR pads a line by a few rows, Tesseract now and then stretches a word, and
    what lies outside the tighter rows no engine read as part of the text."""
    by_engine: dict[str, list[OcrBox]] = {}
    for part in region.parts:
        by_engine.setdefault(part.engine, []).append(part)
    if len(by_engine) < 2:
        return region
    texts = ["".join(alnum_upper(p.text) for p in sorted(parts, key=lambda p: p.box.left))
             for parts in by_engine.values()]
    if not all(texts) or any(fuzz.ratio(a, b) < WHOLE_READING_SIMILARITY for a in texts for b in texts):
        return region
    top, bottom = min(((min(p.box.top for p in parts), max(p.box.bottom for p in parts))
                       for parts in by_engine.values()), key=lambda rows: rows[1] - rows[0])
    region.box = Box(region.box.left, top, region.box.width, bottom - top)
    return region
