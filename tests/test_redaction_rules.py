"""Stage 6 rules: the border, verification by re-reading, frames, ultrasound regions, labels."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from anonymizer import redaction
from anonymizer.loading import open_job
from anonymizer.pipeline import run_stages
from anonymizer.pixels.rendering import render_dicom_view
from burned_lines import advance, burned_line
from conftest import read_text_in_box
from ocr.detect import frames_to_scan


def run(source, out, config):
    job = open_job(source)
    job.output_path = out / f"anonymized_{source.name}"
    run_stages(job, config)
    return job


def test_frames_to_scan():
    assert frames_to_scan(10, "first", 1) == [0]
    assert frames_to_scan(10, "all", 3) == [0, 3, 6, 9]
    assert frames_to_scan(10, "2", 1) == [0, 5]
    assert frames_to_scan(3, "all", 1) == [0, 1, 2]


def test_verification_refills_what_inpainting_left_legible(tmp_path, tcia_dir, ground_truth, config, monkeypatch):
    # An inpainting that changes nothing: the text stays legible, and only the re-read can catch it.
    monkeypatch.setattr(redaction, "inpaint_frame", lambda frame, mask, radius, low, high, view=None: frame.copy())
    job = run(tcia_dir / "2_ORIGINAL.dcm", tmp_path, config)
    assert job.report.regions_verified == job.report.regions_redacted >= 2
    assert job.report.regions_refilled == job.report.regions_redacted
    written = pydicom.dcmread(job.output_path)
    view = render_dicom_view(written, written.pixel_array[np.newaxis])[0]
    for box in ground_truth["2_ORIGINAL.dcm"]["phi"]:
        read = read_text_in_box(view, box["left"], box["top"], box["width"], box["height"])
        assert not re.search(r"[A-Za-z0-9]", read), box["label"]


def test_verification_reads_no_letters_into_a_fill_of_background_noise():
    import cv2

    from anonymizer.job import Box
    from anonymizer.verification import legible_text
    from ocr.registry import load_engines

    engines, _ = load_engines(("rapidocr", "tesseract"), None)
    box = Box(20, 20, 85, 23)
    # What inpainting leaves over a noisy dark background: values within one level of
    # 28. Stretched to full contrast, the engines read "o3" and "SN" into it.
    noise = (28 + np.random.default_rng(0).integers(-1, 2, size=(60, 140))).astype(np.uint8)
    assert not legible_text(engines, noise, box)
    # A remnant the mask missed is a stroke at text contrast: still caught.
    remnant = noise.copy()
    cv2.putText(remnant, "4471", (24, 38), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (68,), 1)
    assert legible_text(engines, remnant, box)


def test_icons_too_small_to_hold_text_are_left_as_they_are(tmp_path, config):
    from pydicom.data import get_testdata_file

    # pydicom's DICOMDIR corpus holds 16x16 icons (a CR and an MR). The engines "read"
    # "VW" 4 px high and "Fsa" in 5 px of width on them; no font is that small.
    root = Path(get_testdata_file("CT_small.dcm", download=False)).parent / "dicomdirtests"
    for source in (root / "77654033" / "CR2" / "6247", root / "98892003" / "MR700" / "4528"):
        job = run(source, tmp_path, config)
        assert not job.pixels_changed, source.name
        assert pydicom.dcmread(job.output_path).PixelData == pydicom.dcmread(source).PixelData


def test_padding_stops_at_clinical_text_on_the_next_line(tmp_path, config):
    from pydicom.data import get_testdata_file

    from anonymizer.text_rules import Reason

    # An ultrasound screen: its lines have 2 px between them. "MSCSKEL" sits under a line
    # of unknown words ("3cm3cm M12L" misread), whose 5 px padding painted its letters' tops.
    source = Path(get_testdata_file("examples_rgb_color.dcm", download=False))
    job = run(source, tmp_path, config)
    before = pydicom.dcmread(source).pixel_array.astype(int)
    after = pydicom.dcmread(job.output_path).pixel_array.astype(int)
    kept = [r for r in job.regions if r.reason is Reason.CLINICAL_VOCABULARY and r.box.top < 60]
    assert kept
    for region in kept:
        b = region.box  # its first row holds the bottom of the icon above ("M12L" boxed)
        rows, cols = slice(b.top + 1, b.bottom - 1), slice(b.left, b.right)
        letters = before[rows, cols].mean(axis=-1) > 100
        assert letters.sum() > 20
        assert (before[rows, cols][letters] == after[rows, cols][letters]).all()
    assert any(r.redacted and r.box.top < 60 and r.box.left > 250 for r in job.regions), "the IDs beside are painted"


def test_central_phi_is_listed_for_review_under_scope_border_unless_everywhere(tmp_path, tcia_dir, config):
    central = replace(config, margin=0, scope="border")  # no band: the burned-in name counts as central
    job = run(tcia_dir / "2_ORIGINAL.dcm", tmp_path / "a", central)
    assert job.report.regions_redacted == 0 and job.report.regions_review >= 2
    assert not job.pixels_changed
    everywhere = run(tcia_dir / "2_ORIGINAL.dcm", tmp_path / "b", replace(central, scope="everywhere"))
    assert everywhere.report.regions_redacted >= 2 and everywhere.report.regions_review == 0


def test_central_phi_on_evidence_is_redacted_by_default(tmp_path, tcia_dir, config):
    # The TCIA name and birth date match the header: evidence, redacted wherever they lie.
    job = run(tcia_dir / "2_ORIGINAL.dcm", tmp_path / "a", replace(config, margin=0))
    assert job.report.regions_redacted >= 2 and job.report.regions_review == 0


def test_ultrasound_annotation_area_is_always_redacted(tmp_path, tcia_dir, config):
    ds = pydicom.dcmread(tcia_dir / "2_ORIGINAL.dcm")
    region = Dataset()
    region.RegionLocationMinX0, region.RegionLocationMinY0 = 0, 40
    region.RegionLocationMaxX1, region.RegionLocationMaxY1 = ds.Columns - 1, ds.Rows - 1
    ds.SequenceOfUltrasoundRegions = Sequence([region])
    source = tmp_path / "us.dcm"
    ds.save_as(source)
    job = run(source, tmp_path / "out", replace(config, margin=0))
    assert job.report.regions_redacted >= 2 and job.report.regions_review == 0
    assert not job.redaction_mask[0, 40:].any(), "the image data region itself is untouched"


def test_text_policy_phi_keeps_clinical_words(tmp_path, config):
    import cv2

    image = np.zeros((400, 400, 3), dtype=np.uint8)
    cv2.putText(image, "PORTABLE SUPINE", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
    cv2.putText(image, "JOHANSSON ERIK", (10, 380), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
    source = tmp_path / "xray.png"
    cv2.imwrite(str(source), image)
    job = run(source, tmp_path / "out", config)
    written = cv2.imread(str(job.output_path))
    assert np.array_equal(written[:45], image[:45]), "clinical words are kept"
    assert "JOHANSSON" not in read_text_in_box(written, 5, 350, 300, 40).upper()
    everything = run(source, tmp_path / "all", replace(config, text_policy="all"))
    assert everything.report.regions_redacted == 2


# A name beside clinical words on one line. Tesseract boxes the words apart, and the merge
# puts them in PP-OCR's line: a safe word box once made the whole line safe, and every one
# of these names was written out as it was.
NAMES_BESIDE_CLINICAL_WORDS = ("JOHANSSON PORTABLE", "CHEST PA OKONKWO", "Dr. SMITH", "PORTABLE SUPINE BRENNAN",
                               "AP ERECT LINDQVIST", "T2 FLAIR MORENO", "TAKAHASHI 5 cm", "120 kVp KOWALSKI")


def test_clinical_words_do_not_keep_a_name_on_their_line(tmp_path, config):
    import cv2

    image = np.zeros((40 * len(NAMES_BESIDE_CLINICAL_WORDS) + 20, 400, 3), dtype=np.uint8)
    for number, text in enumerate(NAMES_BESIDE_CLINICAL_WORDS):
        cv2.putText(image, text, (10, 30 + 40 * number), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
    source = tmp_path / "lines.png"
    cv2.imwrite(str(source), image)
    job = run(source, tmp_path / "out", config)
    written = cv2.imread(str(job.output_path))
    for number, text in enumerate(NAMES_BESIDE_CLINICAL_WORDS):
        name = max(text.replace(".", "").split(), key=len)
        assert name not in read_text_in_box(written, 5, 8 + 40 * number, 390, 30).upper(), text


# Common names one letter from a vocabulary word of 5+ letters, which the allow-list's
# misread rule took for that word (ALICE ~ SLICE, BLAIR ~ FLAIR, NORMAN ~ NORMAL, PARKER
# ~ MARKER, SUPINO ~ SUPINE, ...): each was written out unchanged.
# Bold ones (0.7, 2 px) that a re-read made numbers and signs of ("213{0]0] €" for
# BROOKS): a safe reading that said nothing like the name made the box safe.
NAMES_NEAR_VOCABULARY = ("ALICE", "BLAIR", "CHASE", "GRACE", "NORMAN", "PARKER", "SCOTT", "SUPINO")
NAMES_READ_AS_NUMBERS = ("BROOKS", "COOK")


def test_a_name_one_letter_from_a_clinical_word_is_redacted(tmp_path, config):
    import cv2

    names = NAMES_NEAR_VOCABULARY + NAMES_READ_AS_NUMBERS
    image = np.zeros((40 * len(names) + 60, 400, 3), dtype=np.uint8)
    for number, text in enumerate(names):
        scale, stroke = (0.7, 2) if text in NAMES_READ_AS_NUMBERS else (0.5, 1)
        cv2.putText(image, text, (10, 30 + 40 * number), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), stroke)
    bottom = 30 + 40 * len(names)
    cv2.putText(image, "PORTABLE SUPINE", (10, bottom), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    source = tmp_path / "names.png"
    cv2.imwrite(str(source), image)
    job = run(source, tmp_path / "out", config)
    written = cv2.imread(str(job.output_path))
    for number, name in enumerate(names):
        assert name not in read_text_in_box(written, 5, 8 + 40 * number, 390, 30).upper(), name
    assert np.array_equal(written[bottom - 25:], image[bottom - 25:]), "clinical words are kept"


def test_a_phi_box_grows_over_its_lines_text_but_not_over_anatomy():
    import numpy as np

    from anonymizer.job import Box
    from anonymizer.redaction import grow_along_line

    view = np.zeros((40, 200), np.uint8)
    view[12:18, 28:38:3] = 255   # glyph strokes the detector missed, left of the box
    view[12:18, 40:80:3] = 255   # the box's own text (OCR boxes overshoot the glyphs)
    view[0:40, 90:140] = 200     # bright anatomy filling every row to its right
    grown = grow_along_line(view, Box(40, 10, 40, 10))
    assert grown.left <= 28      # continues over the missed glyphs
    assert grown.right <= 90     # stops where the band is filled from top to bottom


def test_a_phi_box_grows_over_a_given_name_the_ocr_left_out():
    from anonymizer.job import Box
    from anonymizer.redaction import grow_along_line

    view, inked = _line("HARTMANN ZBIGNIEW", width=300)  # MR_small_RLE_1: "HARTMAN" read alone
    surname = Box(int(inked[0]), 8, 80, 16)
    assert grow_along_line(view, surname).right >= inked[-1]


def test_a_phi_box_does_not_grow_over_ink_of_another_strength():
    import numpy as np

    from anonymizer.job import Box
    from anonymizer.redaction import grow_along_line

    view = np.zeros((40, 300), np.uint8)
    view[12:18, 40:80:3] = 254   # white text, as burned in
    view[12:18, 84:96:3] = 254   # a character the detector missed: same ink
    view[14:18, 97:200] = 127    # a grey bar of the image right after it (RGB_ORIGINAL)
    grown = grow_along_line(view, Box(40, 10, 40, 10))
    assert grown.right == 94


def test_a_phi_box_does_not_grow_over_anatomy_crossing_its_line():
    import numpy as np

    from anonymizer.job import Box
    from anonymizer.redaction import grow_along_line

    view = np.zeros((40, 200), np.uint8)
    view[12:18, 40:80:3] = 254          # the box's text
    view[:, 83] = 254                    # a thin vessel crossing the line, fainter in
    view[13:18, 83] = 0                  # its middle: half the band's rows are inked
    assert grow_along_line(view, Box(40, 10, 40, 10)).right == 80  # not grown


def test_a_phi_box_does_not_grow_over_a_bright_shape_running_diagonally_past_its_line():
    import numpy as np

    from anonymizer.job import Box
    from anonymizer.redaction import grow_along_line

    view = np.zeros((40, 200), np.uint8)
    view[12:18, 40:80:3] = 254          # the box's text
    for row in range(40):                # the edge of a bone, as bright as the letters,
        view[row, 99 - row:104 - row] = 254   # crossing the line's band on a slant
    assert grow_along_line(view, Box(40, 10, 40, 10)).right == 80  # not grown


def test_a_box_running_past_its_letters_does_not_grow_over_a_bone_edge_after_them():
    import numpy as np

    from anonymizer.job import Box
    from anonymizer.redaction import grow_along_line

    # From 693_J2KI_4 in the pixel benchmark: the line box ends 3 px past the last digit,
    # and a piece of bone edge as bright as the digits starts 9 px past it, inside the
    # band: a gap wider than half the box height from the ink, narrower from the box.
    view = np.zeros((40, 200), np.uint8)
    view[14:26, 40:77:3] = 254                  # the text, last ink in column 76
    for row in range(14, 26):                    # the bone edge, slanting like a slash
        view[row, 86 + (row - 14) // 2:90 + (row - 14) // 2] = 254
    assert grow_along_line(view, Box(36, 12, 44, 17)).right == 80  # not grown
    # A given name after a word space (7 blank columns) is still ink of the line, however
    # far past the letters the box runs.
    view[:, 80:] = 0
    view[14:26, 84:100:3] = 254
    assert grow_along_line(view, Box(36, 12, 44, 17)).right >= 98


def test_a_phi_box_with_margins_does_not_grow_over_ink_touching_the_bands_edge():
    import numpy as np

    from anonymizer.job import Box
    from anonymizer.redaction import grow_along_line

    view = np.zeros((40, 200), np.uint8)
    view[12:18, 40:80:3] = 254   # the text, with two rows of margin above and below
    view[10:15, 82:120] = 254    # anatomy reaching into the line from above
    assert grow_along_line(view, Box(40, 10, 40, 10)).right == 80  # not grown


def test_a_short_single_reading_that_nothing_confirms_is_not_text():
    from anonymizer.job import Box, TextRegion
    from ocr.detect import unconfirmed
    from ocr.engine import OcrBox

    region = TextRegion(box=Box(0, 0, 50, 20), text="Vil", confidence=0.6, engines=("rapidocr",), frame=0,
                        readings=("Vil",))
    assert unconfirmed(region, [])
    again = OcrBox(box=Box(0, 0, 50, 20), text="Vi", confidence=0.5, engine="tesseract")
    assert not unconfirmed(region, [again])  # read again: it stays text
    one_letter = OcrBox(box=Box(0, 0, 50, 20), text="v", confidence=0.5, engine="tesseract")
    assert unconfirmed(region, [one_letter])  # a line-mode read of one letter into a shape
    longer = TextRegion(box=Box(0, 0, 50, 20), text="DOE", confidence=0.6, engines=("rapidocr",), frame=0,
                        readings=("DOE J",))
    assert not unconfirmed(longer, [])  # four characters could name someone
    both = TextRegion(box=Box(0, 0, 50, 20), text="Vil", confidence=0.6, engines=("rapidocr", "tesseract"),
                      frame=0, readings=("Vil", "Vl"))
    assert not unconfirmed(both, [])  # two engines saw it


def test_inpainting_beside_kept_text_does_not_smear_its_letters_into_the_fill():
    """A painted date right after a kept "DOB:" label, on a black background (TCIA)."""
    from anonymizer.pixels.fill import inpaint_frame

    frame = np.zeros((40, 120), np.uint16)
    frame[10:30, 10:40:4] = 4095      # the kept label's strokes, up to the mask's edge
    frame[10:30, 44:100:4] = 4095     # the date's strokes, under the mask
    mask = np.zeros(frame.shape, bool)
    mask[8:32, 39:104] = True
    view = (frame >> 4).astype(np.uint8)
    filled = inpaint_frame(frame, mask, 3, 0, 4095, view)
    assert filled[mask].max() < 400, "the fill takes the background, not the label's white"
    assert np.array_equal(filled[~mask], frame[~mask])
    smeared = inpaint_frame(frame, mask, 3, 0, 4095)  # without the view: TELEA's own result
    assert smeared[mask].max() > 1000


def _line(text: str, width: int = 260):
    """A burned-in line on black, and the columns of each character's ink (shipped arrays:
    the rules are pixel-exact and OpenCV's glyphs move between releases)."""
    return burned_line(text, width)


def _region(box, *parts):
    from anonymizer.job import TextRegion, Verdict

    return TextRegion(box=box, text=parts[0][1], confidence=0.9, engines=("rapidocr",), frame=0,
                      verdict=Verdict.PHI, readings=tuple(t for _, t in parts), parts=parts)


def test_a_misread_label_before_a_number_is_kept_but_a_header_name_is_not_a_label():

    from anonymizer.job import Box, PhiHints
    from anonymizer.labels import value_start

    view, inked = _line("DOB: 07/13/1980")
    label_width = advance("DOB: ")
    box = Box(int(inked[0]), 8, int(inked[-1] - inked[0] + 1), 16)
    for reading in ("D0B: 07/13/1980", "D0B:07/13/1980", "DOB: 07/13/1980"):
        start = value_start(view, _region(box, (box, reading)), PhiHints())
        assert start is not None, reading
        assert start <= 4 + label_width <= start + 4, reading  # at the date's first ink
        assert not ((inked >= 4 + label_width) & (inked < start)).any(), "no column of the date is kept"
    view, inked = _line("ACC A315871")  # read glued: "ACCA315871"
    label_width = advance("ACC ")
    box = Box(int(inked[0]), 8, int(inked[-1] - inked[0] + 1), 16)
    start = value_start(view, _region(box, (box, "ACCA315871")), PhiHints())
    assert start is not None and start <= 4 + label_width <= start + 4
    view, inked = _line("DOE 07/13/1980")
    box = Box(int(inked[0]), 8, int(inked[-1] - inked[0] + 1), 16)
    patient_doe = PhiHints(names={"DOE", "JOHN"})
    assert value_start(view, _region(box, (box, "DOE 07/13/1980")), patient_doe) is None
    assert value_start(view, _region(box, (box, "DOE JOHNATHAN")), PhiHints()) is None  # no number follows


def test_a_label_read_alone_is_kept_and_the_value_after_it_painted():
    from anonymizer.job import Box, PhiHints
    from anonymizer.labels import value_start
    from anonymizer.redaction import _painted_box

    view, inked = _line("MRN 44150")
    label = Box(int(inked[0]), 8, 30, 16)  # the engines read "MRN" alone
    region = _region(label, (label, "MRN"), (label, "MRN"))
    painted = _painted_box(view, region, value_start(view, region, PhiHints()))
    assert painted.left == label.right and painted.right >= inked[-1]  # the value, within 6 text heights


def test_growth_stops_at_text_kept_on_purpose_and_a_lone_label_paints_nothing():
    from anonymizer.job import Box, PhiHints
    from anonymizer.labels import value_start
    from anonymizer.redaction import _painted_box, grow_along_line

    view = np.zeros((40, 200), np.uint8)
    view[12:18, 28:38:3] = 255   # ink left of the box: a label another region kept ("MRN")
    view[12:18, 40:80:3] = 255   # the box's own text
    assert grow_along_line(view, Box(40, 10, 40, 10)).left <= 28
    assert grow_along_line(view, Box(40, 10, 40, 10), kept=(Box(26, 11, 13, 8),)).left == 40
    assert grow_along_line(view, Box(40, 10, 40, 10), kept=(Box(26, 30, 13, 8),)).left <= 28  # other rows

    view, inked = _line("MRN")
    label = Box(int(inked[0]), 8, int(inked[-1] - inked[0] + 1), 16)
    region = _region(label, (label, "MRN"))
    assert _painted_box(view, region, value_start(view, region, PhiHints())) is None


def test_a_labels_word_box_that_stops_short_of_its_colon_keeps_the_colon():

    from anonymizer.job import Box, PhiHints
    from anonymizer.labels import value_start

    view, inked = _line("DOB: 07/13/1980")
    label_width = advance("DOB: ")
    letters_width = advance("DOB")
    line = Box(int(inked[0]), 8, int(inked[-1] - inked[0] + 1), 16)
    b_ends = int(inked[inked < 4 + letters_width][-1]) + 1
    word = Box(line.left, 8, b_ends - line.left, 16)  # J2K_pixelrep_mismatch_2: "DOB:" boxed to its B
    start = value_start(view, _region(line, (word, "DOB:"), (line, "D0b: 07/13/1980")), PhiHints())
    assert start is not None and start <= 4 + label_width <= start + 4  # at the date's first ink
    colon = inked[(inked > word.right + 1) & (inked < 4 + label_width)]
    assert colon.size and (colon < start).all(), "the colon is kept with its label"


def test_a_part_that_reads_the_value_alone_says_where_the_value_starts():

    from anonymizer.job import Box, PhiHints
    from anonymizer.labels import value_start

    view, inked = _line("DOB: 11/27/1948")
    label_width = advance("DOB: ")
    date_ink = int(inked[inked >= 4 + label_width][0])
    line = Box(int(inked[0]), 8, int(inked[-1] - inked[0] + 1), 16)
    date = Box(date_ink - 1, 8, line.right - date_ink + 1, 16)
    # examples_overlay_4: one engine garbles the line, whose share of characters puts the
    # label's end inside it; the other boxes the date alone.
    garbled = _region(line, (line, "DO1027A40"))
    assert value_start(view, garbled, PhiHints()) < 4 + label_width - 4, "without the date's box: fail safe"
    start = value_start(view, _region(line, (line, "DO1027A40"), (date, "11/27/1948")), PhiHints())
    colon_ends = int(inked[inked < 4 + label_width][-1])
    assert colon_ends < start <= date_ink + 1, "the colon is kept; the date is painted (padding covers a faint column)"


def test_a_label_misread_alone_is_kept_when_its_rereads_read_the_label():
    from dataclasses import replace

    from anonymizer.job import Box, PhiHints
    from anonymizer.labels import value_start

    view, inked = _line("ACC")
    box = Box(int(inked[0]), 8, int(inked[-1] - inked[0] + 1), 16)
    misread = _region(box, (box, "AGC"))  # examples_overlay_1: boxed apart from its value
    assert value_start(view, misread, PhiHints()) is None, "one edit from a label, alone: no evidence"
    reread = replace(misread, readings=("AGC", "ACC", "ACC", "ALCC _"))
    assert value_start(view, reread, PhiHints()) == box.right, "the label: kept"
    with_digits = replace(misread, readings=("AGC", "ACC", "ACC4"))
    assert value_start(view, with_digits, PhiHints()) is None
    patient_agc = PhiHints(names={"AGC"})
    assert value_start(view, reread, patient_agc) is None, "a header value is never a label"


def test_a_label_that_is_also_a_name_or_a_header_value_is_not_kept():
    from anonymizer.job import Box, PhiHints
    from anonymizer.labels import value_start

    view, inked = _line("Pat Jones")
    box = Box(int(inked[0]), 8, 28, 16)  # "Pat" boxed alone
    assert value_start(view, _region(box, (box, "Pat")), PhiHints()) is None
    view, inked = _line("PAT: 4415086")
    box = Box(int(inked[0]), 8, 34, 16)
    assert value_start(view, _region(box, (box, "PAT:")), PhiHints()) == box.right
    view, inked = _line("MRN 4415086")
    box = Box(int(inked[0]), 8, 30, 16)
    assert value_start(view, _region(box, (box, "MRN")), PhiHints()) == box.right
    assert value_start(view, _region(box, (box, "MRN")), PhiHints(identifiers={"MRN"})) is None


def test_rows_and_columns_around_a_boxs_text_are_not_painted():
    from anonymizer.job import Box
    from anonymizer.text_ink import ink_extent

    view, inked = _line("MRN 4415086", width=120)
    ink_rows = np.flatnonzero((view > 0).any(axis=1))
    tall = Box(int(inked[0]), 0, int(inked[-1] - inked[0] + 1), 30)  # MR_small_1: a box twice the text's height
    trimmed = ink_extent(view, tall)
    # One row of margin around the rows as bright as the letters (the first and last ink
    # rows of this font are fainter: 148, so the margin holds them).
    assert ink_rows[0] - 1 <= trimmed.top <= ink_rows[0] and ink_rows[-1] + 1 <= trimmed.bottom <= ink_rows[-1] + 2
    over_anatomy = view.copy()
    over_anatomy[:ink_rows[0] - 1, ::2] = 120  # grey texture above the white letters
    assert ink_extent(over_anatomy, tall) == trimmed
    over_anatomy[ink_rows[0] - 3, inked[0]:inked[-1]] = 150  # a fainter edge of the letters
    assert ink_extent(over_anatomy, tall).padded(5, 30, 120).top <= ink_rows[0] - 3, "within the padding"
    assert ink_extent(np.zeros_like(view), tall) == tall, "no ink at all: the box as it is"
    wide = Box(0, 0, 120, 30)  # MR_small_0: a box running 18 px past the last digit
    grey_letters = (view * (160 / 255)).astype(np.uint8)
    grey_letters[:, 40:] = np.maximum(grey_letters[:, 40:], 255 * (np.arange(30) % 3 == 0)[:, None])  # bright anatomy
    assert ink_extent(grey_letters, wide).left <= inked[0], "grey letters beside brighter anatomy are ink"
    narrowed = ink_extent(view, wide)
    assert inked[0] - 1 <= narrowed.left <= inked[0] and inked[-1] + 1 <= narrowed.right <= inked[-1] + 2


def test_a_boxs_rows_stop_at_its_own_line_not_at_the_next_ones_letters():
    import cv2

    from anonymizer.job import Box
    from anonymizer.text_ink import ink_extent

    view = np.zeros((60, 160), np.uint8)
    cv2.putText(view, "DUBOIS ASTRID", (4, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1, cv2.LINE_8)
    own_rows = np.flatnonzero((view > 0).any(axis=1))
    cv2.putText(view, "MRN 4415086", (4, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1, cv2.LINE_8)
    next_top = int(np.flatnonzero((view[own_rows[-1] + 1:] > 0).any(axis=1))[0]) + own_rows[-1] + 1
    # MR_small_RLE_3: an OCR box twice the text's height reaches down into the next line.
    box = Box(2, int(own_rows[0]) - 2, 120, next_top + 3 - (int(own_rows[0]) - 2))
    extent = ink_extent(view, box)
    assert extent.bottom <= own_rows[-1] + 2
    assert extent.top <= own_rows[0]
    # A box over the next line alone reaches all of its letters.
    lower = Box(2, next_top - 2, 120, 20)
    assert ink_extent(view, lower).bottom >= next_top + 8


def test_a_label_is_cut_at_its_space_when_the_rows_median_is_anatomy():
    """MR_small_RLE_1 of the synthetic set: dark letters with a bright rim on grey, on a
    small image whose rows are mostly bright anatomy. Against the row's median the grey
    background is as dark as the letters, every column is ink, and the cut fell inside
    "MRN" (its first gap); against the value around the line it falls at the space."""
    import cv2

    from anonymizer.job import Box, PhiHints
    from anonymizer.labels import value_start

    view = np.full((40, 300), 200, np.uint8)  # bright anatomy across most of the row
    view[:, :140] = 95  # the grey the line is drawn on
    mask = np.zeros(view.shape, np.uint8)
    cv2.putText(mask, "MRN 4415086", (6, 26), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 2, cv2.LINE_8)
    view[cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0] = 255  # the rim
    view[mask > 0] = 50  # the letters
    (label_width, _), _ = cv2.getTextSize("MRN ", cv2.FONT_HERSHEY_SIMPLEX, 0.5, 2)
    rim = np.flatnonzero((view == 255).any(axis=0))
    box = Box(int(rim[0]), 10, int(rim[-1] - rim[0] + 1), 21)
    start = value_start(view, _region(box, (box, "Mrn4415086")), PhiHints())
    letters = np.flatnonzero((mask > 0).any(axis=0))
    last_of_label = letters[letters < 6 + label_width - 4].max()
    first_of_value = letters[letters >= 6 + label_width - 4].min()
    assert start is not None and last_of_label < start <= first_of_value - 1, (start, last_of_label, first_of_value)


def test_the_border_band_scales_with_the_image():
    from anonymizer.border import touches_border
    from anonymizer.job import Box

    # A name line 150 px above the bottom of a 2022 x 2022 radiograph, 18 px high.
    name_line = Box(400, 2022 - 150 - 18, 300, 18)
    assert touches_border(name_line, 2022, 2022, None)
    assert not touches_border(name_line, 2022, 2022, 100)  # a fixed band in pixels, as --margin sets
    # A 128 px MR frame: only its outer 26 px are border, not the whole image.
    centre = Box(40, 40, 40, 20)
    assert not touches_border(centre, 128, 128, None) and touches_border(centre, 128, 128, 100)
