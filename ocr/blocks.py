"""Lines of a block of identifiers that no engine read, or read only as garble.

Modalities burn identifiers as a block of lines in one corner (name, birth date, ID,
accession), one above the other and aligned on one side. When an engine reads one
line of the block as an identifier but misses the line above or below it (small text,
outlined letters that OCR sees as a bar), that line is almost surely an identifier
too, and its pixels are where the block shows it: the next band of ink of the same
height, aligned with the read line. Such a line becomes a PHI region of its own with no
reading; stage 6 paints it like any other. Privacy first: an identifier left legible is
the failure that matters most.

The same holds for a line of the block that the engines read only as garble and that
passed for clinical text only through stage 5's re-read of its box: a re-read that made
a short number of it ("769" of an outlined "MRN 7694052", beside the engines' "NZeaa"
and "MRS") says nothing about the characters it did not read. Next to an identifier,
such a line is kept only when an engine read it as clinical text the first time.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from anonymizer.job import Box, TextRegion, Verdict
from anonymizer.text_ink import (
    INK_CONTRAST,
    MAX_TEXT_COVERAGE,
    ink_extent,
    ink_off_the_line,
    line_background,
    text_polarity,
)
from anonymizer.text_rules import Reason, decide

UNREAD_LINE, GARBLED_LINE, BLOCK_LINE = Reason.UNREAD_LINE, Reason.GARBLED_LINE, Reason.BLOCK_LINE
# The next line starts within this many text heights of the read one (a console writing
# a small font at its fixed line pitch leaves two heights between lines); lines of a
# block are this alike in height; a word space is narrower than a text height.
MAX_LINE_GAP_HEIGHTS = 2.0
LINE_HEIGHT_RANGE = (0.6, 1.5)
MAX_ALIGNMENT_HEIGHTS = 1.0
MIN_LINE_WIDTH_HEIGHTS = 1.5
MIN_INK_PER_ROW = 2
MAX_LINES_FOUND = 6
# An unread line must not be mostly overlapped by a region an engine did read (that
# region has its own verdict: clinical text is kept).
MAX_OVERLAP_WITH_READ_TEXT = 0.3
# Share of a line's inked columns that its ink fills from top to bottom: bold letters
# reach 0.73 in the synthetic set (stems of M, N, B), the edge of an ultrasound screen's
# title bar under its read lines 1.0 (otherwise painted as two unread lines).
MAX_FILLED_COLUMNS = 0.9


def unread_lines_of_identifier_blocks(grey: np.ndarray, regions: list[TextRegion], frame: int) -> list[TextRegion]:
    """PHI regions for the lines directly above and below identifier lines (and above and
    below those, up to MAX_LINES_FOUND) that hold aligned ink of the same height but that
    no engine read. ``regions``: those read on this frame. A block written up or down an
    edge is the same block turned a quarter: its lines are searched for in the transposed
    frame, beside the line that was read."""
    across = _unread_lines(grey, regions, frame, vertical=False)
    if not any(r.vertical for r in regions):
        return across  # no line up or down an edge: the frame need not be turned
    turned = [_transposed_region(r) for r in regions + across]
    along = _unread_lines(np.ascontiguousarray(grey.T), turned, frame, vertical=True)
    return across + [_transposed_region(r) for r in along]


def _transposed_box(box: Box) -> Box:
    return Box(box.top, box.left, box.height, box.width)


def _same_box(box: Box) -> Box:
    return box


def _transposed_region(region: TextRegion) -> TextRegion:
    return replace(region, box=_transposed_box(region.box))


def _unread_lines(grey: np.ndarray, regions: list[TextRegion], frame: int, vertical: bool) -> list[TextRegion]:
    """The search of unread lines in ``grey`` as it lies; ``vertical``: the regions were
    turned with it, and the seeds are the identifier lines written up or down an edge,
    which now lie across."""
    seeds = _identifier_lines(regions, vertical)
    taken = [r.box for r in regions]
    found: list[TextRegion] = []
    while seeds and len(found) < MAX_LINES_FOUND:
        seed = seeds.pop(0)
        line = ink_extent(grey, seed.box)
        for direction in (-1, 1):
            candidate = _next_line(grey, line, direction)
            if candidate is None or any(candidate.intersection_area(box) > MAX_OVERLAP_WITH_READ_TEXT * candidate.area
                                        for box in taken):
                continue
            region = TextRegion(box=candidate, text="", confidence=0.0, engines=(), frame=frame,
                                in_border=seed.in_border)
            decide(region, Verdict.PHI, UNREAD_LINE)
            found.append(region)
            taken.append(candidate)
            seeds.append(region)
    return found


def garbled_lines_of_identifier_blocks(grey: np.ndarray, regions: list[TextRegion],
                                      kept_by_reread: list[TextRegion]) -> None:
    """Make PHI each region of ``kept_by_reread`` (judged safe only after its box was read
    again) that is the line directly above or below an identifier line of ``regions``, or
    of a line made PHI so, aligned with it on the left or the right."""
    garbled = [r for r in kept_by_reread if r.verdict is Verdict.SAFE and r.in_border]
    _join_block(grey, _identifier_lines(regions, vertical=False), garbled, GARBLED_LINE, _same_box)


def unknown_lines_of_identifier_blocks(grey: np.ndarray, regions: list[TextRegion]) -> None:
    """Give the block's evidence to each line of unknown words directly above or below an
    identifier line (or a line joined so), aligned with it: a name under an "ID:" line is
    an identifier wherever the block lies, so it is redacted, not held for review. Lines
    written up or down an edge are followed in the transposed frame."""
    for vertical in (False, True):
        seeds = [r for r in regions if r.verdict is Verdict.PHI and r.reason is not None and r.reason.evidence
                 and r.vertical == vertical]
        unknown = [r for r in regions if r.verdict is Verdict.PHI and r.reason is Reason.UNRECOGNISED
                   and r.vertical == vertical]
        if not seeds or not unknown:
            continue
        view = np.ascontiguousarray(grey.T) if vertical else grey
        _join_block(view, seeds, unknown, BLOCK_LINE, _transposed_box if vertical else _same_box)


def _join_block(view: np.ndarray, seeds: list[TextRegion], candidates: list[TextRegion], reason: Reason,
                turn) -> None:
    """Make PHI, for ``reason``, each candidate that is the line next to a seed (see
    _adjacent_line), and follow the block from it; ``turn`` brings a region's box into
    ``view`` (the frame, or the frame transposed)."""
    seeds = list(seeds)
    left = {id(r): (r, ink_extent(view, turn(r.box))) for r in candidates}
    while seeds and left:
        line = ink_extent(view, turn(seeds.pop(0).box))
        for key, (region, extent) in list(left.items()):
            if _adjacent_line(line, extent):
                decide(region, Verdict.PHI, reason)
                del left[key]
                seeds.append(region)


def _identifier_lines(regions: list[TextRegion], vertical: bool) -> list[TextRegion]:
    """Border regions that are PHI by evidence, written across the frame as it lies
    (``vertical``: a frame transposed, so these were written up or down an edge). Lines
    of unknown words are PHI by default, not by evidence: they anchor no block."""
    return [r for r in regions if r.verdict is Verdict.PHI and r.in_border
            and (r.box.width >= 2 * r.box.height if vertical else not r.vertical)
            and r.reason is not None and r.reason.evidence]


def _adjacent_line(line: Box, other: Box) -> bool:
    """``other`` is the next line of ``line``'s block: above or below it within
    MAX_LINE_GAP_HEIGHTS, of about its height, aligned on one side."""
    height = line.height
    gap = other.top - line.bottom if other.top >= line.top else line.top - other.bottom
    aligned = min(abs(other.left - line.left), abs(other.right - line.right)) <= MAX_ALIGNMENT_HEIGHTS * height
    return (0 <= gap <= MAX_LINE_GAP_HEIGHTS * height and aligned
            and LINE_HEIGHT_RANGE[0] * height <= other.height <= LINE_HEIGHT_RANGE[1] * height)


def _next_line(grey: np.ndarray, line: Box, direction: int) -> Box | None:
    """The band of ink of about the line's height just above (-1) or below (+1) it,
    aligned with it on the left or the right, or None."""
    height = line.height
    reach = int(round((MAX_LINE_GAP_HEIGHTS + LINE_HEIGHT_RANGE[1]) * height))
    top = max(line.top - reach, 0) if direction < 0 else line.bottom
    bottom = line.top if direction < 0 else min(line.bottom + reach, grey.shape[0])
    left = max(line.left - height, 0)
    right = min(line.right + 3 * height, grey.shape[1])
    strip = grey[top:bottom, left:right].astype(np.int16)
    if strip.size == 0:
        return None
    # The read line's letters against the background around them (a tight box of bold
    # letters is more ink than background).
    polarity = text_polarity(grey[line.top:line.bottom, line.left:line.right].astype(np.int16)
                             - line_background(grey, line))
    if polarity == 0:
        return None
    ink = (strip - np.median(strip)) * polarity > INK_CONTRAST
    # Rows are judged under the read line's own columns: anatomy beside the block does
    # not make them one long band.
    inked_rows = ink[:, :line.right - left].sum(axis=1) >= MIN_INK_PER_ROW
    rows = np.flatnonzero(inked_rows)
    if rows.size == 0:
        return None
    # The run of inked rows nearest the line, which must end before the strip does (a
    # line, not anatomy going on).
    runs = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
    run = runs[-1] if direction < 0 else runs[0]
    if (direction < 0 and run[0] == 0) or (direction > 0 and run[-1] == strip.shape[0] - 1):
        return None
    gap = (strip.shape[0] - 1 - run[-1]) if direction < 0 else run[0]
    if gap > MAX_LINE_GAP_HEIGHTS * height:
        return None
    run_height = run[-1] - run[0] + 1
    if not LINE_HEIGHT_RANGE[0] * height <= run_height <= LINE_HEIGHT_RANGE[1] * height:
        return None
    columns = np.flatnonzero(ink[run[0]:run[-1] + 1].any(axis=0))
    pieces = np.split(columns, np.flatnonzero(np.diff(columns) > height) + 1)
    aligned_left = [p for p in pieces if abs(left + p[0] - line.left) <= MAX_ALIGNMENT_HEIGHTS * height]
    aligned_right = [p for p in pieces if abs(left + p[-1] + 1 - line.right) <= MAX_ALIGNMENT_HEIGHTS * height]
    # Pieces are split at gaps wider than a text height (a word space is narrower): the
    # aligned piece is the line.
    aligned = aligned_left[:1] or aligned_right[-1:]
    if not aligned:
        return None
    chosen = aligned[0]
    box = Box(left + int(chosen.min()), top + int(run[0]), int(chosen.max() - chosen.min()) + 1, int(run_height))
    if box.width < MIN_LINE_WIDTH_HEIGHTS * height:
        return None
    band = ink[run[0]:run[-1] + 1, box.left - left:box.right - left]
    inked = band.any(axis=0)
    if (band.mean(axis=0)[inked] > MAX_TEXT_COVERAGE).mean() > MAX_FILLED_COLUMNS:
        return None  # the edge of a coloured bar or panel: no letter leaves a column blank
    off_line = ink_off_the_line(grey, box)[box.left:box.right]
    if (inked & off_line).sum() > inked.sum() / 2:
        return None  # anatomy reaching into the band, not a line of text
    return box
