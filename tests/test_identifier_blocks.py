"""Lines of an identifier block that no engine read (ocr/blocks.py), on a real CT."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from pydicom.data import get_testdata_file

from anonymizer.job import Box, TextRegion, Verdict
from anonymizer.text_rules import Reason
from ocr.blocks import GARBLED_LINE, UNREAD_LINE, garbled_lines_of_identifier_blocks, unread_lines_of_identifier_blocks

LINES = ("KOWALSKI ANNA", "DOB: 07/13/1980", "MRN 4415086")


def _ct_with_block(lines=LINES) -> tuple[np.ndarray, list[Box]]:
    """CT_small as an 8-bit 512 px view, with a block of lines burned in its top left."""
    import pydicom

    pixels = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False)).pixel_array.astype(np.float32)
    view = cv2.resize(cv2.normalize(pixels, None, 0, 180, cv2.NORM_MINMAX), (512, 512)).astype(np.uint8)
    boxes = []
    for number, text in enumerate(lines):
        mask = np.zeros_like(view)
        cv2.putText(mask, text, (6, 22 + 20 * number), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1, cv2.LINE_8)
        view[mask > 0] = 255
        ys, xs = np.nonzero(mask)
        boxes.append(Box(int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)))
    return view, boxes


def _region(box: Box, verdict=Verdict.PHI, reason=Reason.HEADER_DATE) -> TextRegion:
    return TextRegion(box=box, text="", confidence=0.9, engines=("rapidocr",), frame=0,
                      verdict=verdict, reason=reason, in_border=True)


def _covers(found: Box, truth: Box) -> bool:
    return (found.left <= truth.left + 1 and found.top <= truth.top + 1
            and found.right >= truth.right - 1 and found.bottom >= truth.bottom - 1)


def test_the_lines_above_and_below_a_read_identifier_are_found():
    view, (name, date, mrn) = _ct_with_block()
    read = Box(date.left - 2, date.top - 3, date.width + 4, date.height + 6)  # an OCR box, looser than the ink
    found = unread_lines_of_identifier_blocks(view, [_region(read)], 0)
    assert len(found) == 2
    assert all(r.verdict is Verdict.PHI and r.reason == UNREAD_LINE and r.in_border for r in found)
    assert any(_covers(r.box, name) for r in found) and any(_covers(r.box, mrn) for r in found)
    assert all(r.box.height <= 1.5 * date.height for r in found), "one line each, not the anatomy below"


@pytest.mark.parametrize("quarter_turns", [1, 3])
def test_the_lines_beside_a_read_identifier_written_up_or_down_an_edge_are_found(quarter_turns):
    view, (name, date, mrn) = _ct_with_block()
    rows, cols = view.shape
    turned = np.ascontiguousarray(np.rot90(view, quarter_turns))

    def turn(box: Box) -> Box:  # the box on the frame turned as np.rot90 turns it
        if quarter_turns == 1:
            return Box(box.top, cols - box.right, box.height, box.width)
        return Box(rows - box.bottom, box.left, box.height, box.width)

    read = turn(Box(date.left - 2, date.top - 3, date.width + 4, date.height + 6))
    assert read.height >= 2 * read.width  # written up or down the edge
    found = unread_lines_of_identifier_blocks(turned, [_region(read)], 0)
    assert len(found) == 2 and all(r.reason == UNREAD_LINE and r.vertical for r in found)
    assert any(_covers(r.box, turn(name)) for r in found) and any(_covers(r.box, turn(mrn)) for r in found)


def test_lines_of_a_block_are_found_one_after_another():
    view, boxes = _ct_with_block(LINES + ("ACC A315871",))
    found = unread_lines_of_identifier_blocks(view, [_region(boxes[0])], 0)
    assert [any(_covers(r.box, box) for r in found) for box in boxes[1:]] == [True, True, True]


@pytest.mark.parametrize("why", ["clinical text read there", "no evidence in the read line", "not a line"])
def test_no_line_is_added_without_an_identifier_beside_it_or_over_read_or_non_text_ink(why):
    view, (name, date, mrn) = _ct_with_block()
    regions = [_region(date)]
    if why == "clinical text read there":
        regions += [_region(name, Verdict.SAFE, "clinical or technical vocabulary"),
                    _region(mrn, Verdict.SAFE, "clinical or technical vocabulary")]
    elif why == "no evidence in the read line":
        regions = [_region(date, reason=Reason.UNRECOGNISED)]
    else:
        view[:date.top - 2] = 0
        view[date.bottom + 2:] = 0
        cv2.circle(view, (40, date.top - 40), 36, 255, -1)     # bright shapes beside the block,
        cv2.circle(view, (60, date.bottom + 44), 38, 255, -1)  # higher than a line: anatomy
    assert unread_lines_of_identifier_blocks(view, regions, 0) == []


def test_the_edge_of_a_title_bar_is_no_unread_line(tmp_path, config):
    import pydicom

    from anonymizer.loading import open_job
    from anonymizer.pipeline import run_stages

    # pydicom's Philips ultrasound: a title bar (palette index 244, rows 0-59) holds the
    # date, time and an ID. Under the read lines, the bar's last rows are a band of
    # colour as high as a line, aligned with them: with no blank column it is not text.
    source = get_testdata_file("examples_palette.dcm", download=False)
    job = open_job(Path(source))
    job.output_path = tmp_path / "anonymized_examples_palette.dcm"
    run_stages(job, config)
    assert job.report.regions_redacted >= 3
    assert not [r for r in job.regions if r.reason == UNREAD_LINE]
    before = pydicom.dcmread(source).pixel_array
    after = pydicom.dcmread(job.output_path).pixel_array
    assert (before[59] == 244).all() and (after[59] == before[59]).all(), "the bar's last row is untouched"


def test_a_line_of_a_block_kept_only_by_a_re_read_is_painted_and_clinical_text_elsewhere_is_not():
    """The residual risk the README names: an outlined MRN line that the engines read as
    garble ("NZeaa", "MRS") and a re-read of its box as a short number ("769"), which
    made it clinical. Under a date line it is a line of the identifier block: PHI. The
    same kind of re-read far from the block, and a line beside it that an engine read as
    clinical text itself, stay kept."""
    view, (name, date, mrn) = _ct_with_block()
    view_label = Box(430, 480, 60, 12)
    cv2.putText(view, "SUPINE", (432, 490), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 255, 1, cv2.LINE_8)
    clinical = "clinical or technical vocabulary"
    date_line = _region(date)
    garbled = _region(mrn, Verdict.SAFE, clinical)
    far_away = _region(view_label, Verdict.SAFE, clinical)
    garbled_lines_of_identifier_blocks(view, [date_line, garbled, far_away], [garbled, far_away])
    assert garbled.verdict is Verdict.PHI and garbled.reason == GARBLED_LINE
    assert far_away.verdict is Verdict.SAFE

    read_as_clinical = _region(mrn, Verdict.SAFE, clinical)  # an engine read it so itself
    garbled_lines_of_identifier_blocks(view, [date_line, read_as_clinical], [])
    assert read_as_clinical.verdict is Verdict.SAFE


def test_garbled_lines_are_followed_through_the_block():
    """Name, then a date, then two garbled lines: the second is next to the first, which
    is next to the date."""
    view, boxes = _ct_with_block(LINES + ("ACC A315871",))
    clinical = "clinical or technical vocabulary"
    lines = [_region(boxes[1])] + [_region(box, Verdict.SAFE, clinical) for box in boxes[2:]]
    garbled_lines_of_identifier_blocks(view, lines, lines[1:])
    assert [r.verdict for r in lines[1:]] == [Verdict.PHI, Verdict.PHI]


@pytest.mark.parametrize("quarter_turns", [0, 1])
def test_unknown_words_in_an_identifier_block_are_identifiers_wherever_the_block_lies(quarter_turns):
    """A name line of unknown words under an "ID" line, both in the middle of the image
    (outside the border band), is part of the block: PHI on evidence, so redacted rather
    than held. Unknown words far from the block stay unknown (held for review); so do
    lines in a block with no identifier line."""
    from ocr.blocks import BLOCK_LINE, unknown_lines_of_identifier_blocks

    view, (name, date, mrn) = _ct_with_block()
    cv2.putText(view, "OKONKWO", (300, 300), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1, cv2.LINE_8)
    elsewhere = Box(300, 289, 75, 12)
    if quarter_turns:
        view = np.ascontiguousarray(view.T)  # the block written down the left edge
        name, date, mrn, elsewhere = (Box(b.top, b.left, b.height, b.width) for b in (name, date, mrn, elsewhere))

    def unknown(box: Box) -> TextRegion:
        region = _region(box, reason=Reason.UNRECOGNISED)
        region.in_border = False
        return region

    identifier, name_line, far_away = _region(mrn, reason=Reason.ID_LIKE_PATTERN), unknown(date), unknown(elsewhere)
    first_line = unknown(name)
    unknown_lines_of_identifier_blocks(view, [identifier, name_line, first_line, far_away])
    assert name_line.reason == BLOCK_LINE and name_line.reason.evidence
    assert first_line.reason == BLOCK_LINE  # next to a line joined to the block
    assert far_away.reason is Reason.UNRECOGNISED

    alone = [unknown(name), unknown(date)]
    unknown_lines_of_identifier_blocks(view, alone)
    assert all(r.reason is Reason.UNRECOGNISED for r in alone)
