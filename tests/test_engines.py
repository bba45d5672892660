"""Issue 2, item 3 (detect text): engines load locally, degrade, and merge by IoU."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


from anonymizer.job import Box
from ocr.engine import OcrBox
from ocr.merge import merge_boxes
from ocr.registry import load_engines


def test_bundled_engines_load_offline_and_easyocr_absence_is_said_once(tmp_path):
    engines, notices = load_engines(("rapidocr", "tesseract", "easyocr"), tmp_path / "no-weights")
    assert [e.name for e in engines] == ["rapidocr", "tesseract"]
    assert len(notices) == 1 and "EasyOCR not used" in notices[0]


def test_merge_joins_boxes_at_iou_half_and_keeps_the_union_of_columns():
    a = OcrBox(Box(10, 10, 100, 20), "DOB 07.22.1943", 0.9, "rapidocr")
    b = OcrBox(Box(12, 11, 100, 20), "D0B 07.22.1943", 0.6, "tesseract")
    c = OcrBox(Box(300, 10, 50, 20), "CHEST", 0.8, "tesseract")
    merged = merge_boxes([a, b, c], 0.5)
    assert len(merged) == 2
    first = next(m for m in merged if m.engines == {"rapidocr", "tesseract"})
    # Columns: the union of both boxes; rows: both engines read the whole text (one
    # letter apart), so the fewer rows one of them spans.
    assert first.text == "DOB 07.22.1943" and first.box == Box(10, 10, 102, 20)


def test_a_loose_box_reading_the_same_characters_does_not_widen_the_region():
    # From the synthetic benchmark: Tesseract's word box ran 190 px past the line.
    line = OcrBox(Box(6, 487, 173, 22), "ACC A875766", 0.97, "rapidocr")
    loose = OcrBox(Box(6, 478, 369, 29), "ACCA875766", 0.46, "tesseract")
    [merged] = merge_boxes([line, loose], 0.5)
    assert merged.box == line.box and merged.engines == {"rapidocr", "tesseract"}
    # A loose box that reads more than the line still widens it: it saw more text.
    more = OcrBox(Box(6, 478, 369, 29), "ACCA875766 SMITH", 0.46, "tesseract")
    [merged] = merge_boxes([line, more], 0.5)
    assert merged.box == Box(6, 478, 369, 31)


def test_a_word_read_within_a_line_joins_it_in_the_lines_rows():
    # From the synthetic benchmark: Tesseract stretched a word box up to row 0.
    word = OcrBox(Box(342, 0, 163, 35), "MARGARETHE", 0.88, "tesseract")
    line = OcrBox(Box(217, 14, 289, 22), "OKONKWO MARGARETHe", 0.86, "rapidocr")
    [merged] = merge_boxes([word, line], 0.5)
    assert merged.box == line.box and set(merged.readings) == {"MARGARETHE", "OKONKWO MARGARETHe"}
    # Also when the line first joined another, more confident word of it.
    first_word = OcrBox(Box(217, 15, 116, 20), "OKONKWO", 0.89, "tesseract")
    [merged] = merge_boxes([first_word, word, line], 0.5)
    assert merged.box == line.box and "MARGARETHE" in merged.readings
    # A word that is not part of the line's reading stays a region of its own.
    other = OcrBox(Box(342, 0, 163, 35), "SMITH", 0.88, "tesseract")
    assert len(merge_boxes([other, line], 0.5)) == 2


def test_a_word_box_running_past_a_line_that_read_its_characters_joins_it_within_the_lines_columns():
    # From 693_J2KI_4 in the pixel benchmark: Tesseract's word box runs 22 px past the
    # line's, over a bone edge, and misreads a digit; neither box holds the other.
    line = OcrBox(Box(4, 469, 115, 17), "Mrn 5246444", 0.95, "rapidocr")
    word = OcrBox(Box(45, 469, 96, 15), "5245444", 0.90, "tesseract")
    [merged] = merge_boxes([line, word], 0.5)
    assert merged.box == line.box and "5245444" in merged.readings
    # Not when the line read fewer characters than the word: the word's box then holds
    # a digit the line did not, and it stands.
    short = OcrBox(Box(4, 469, 115, 17), "Mrn 524644", 0.95, "rapidocr")
    assert len(merge_boxes([short, word], 0.5)) == 2
    # Nor when the word is other text.
    other = OcrBox(Box(45, 469, 96, 15), "SMITHSON", 0.90, "tesseract")
    assert len(merge_boxes([line, other], 0.5)) == 2


def test_a_region_read_whole_by_both_engines_keeps_the_tighter_rows():
    # From the synthetic benchmark: PP-OCR's line box is 6 rows taller than the words.
    line = OcrBox(Box(321, 79, 185, 28), "MRN 9627430", 0.98, "rapidocr")
    label = OcrBox(Box(324, 84, 56, 18), "MRN", 0.92, "tesseract")
    value = OcrBox(Box(386, 83, 119, 20), "9627430", 0.96, "tesseract")
    [merged] = merge_boxes([line, label, value], 0.5)
    assert merged.box == Box(321, 83, 185, 20)
    # Also with a letter misread; but not when an engine read only part of the text.
    misread = OcrBox(Box(386, 83, 119, 20), "9627436", 0.96, "tesseract")
    [merged] = merge_boxes([line, label, misread], 0.5)
    assert merged.box == Box(321, 83, 185, 20)
    [merged] = merge_boxes([line, value], 0.5)
    assert merged.box == Box(321, 79, 185, 28)


def test_a_label_is_re_read_as_one_line():
    import cv2
    import numpy as np

    from ocr.reading import read_crop

    engines, _ = load_engines(("rapidocr", "tesseract"), None)
    image = np.zeros((64, 200), np.uint8)
    cv2.putText(image, "CHEST PA", (6, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 255, 1, cv2.LINE_AA)
    rows, cols = np.nonzero(image)
    box = Box(int(cols.min()), int(rows.min()), int(np.ptp(cols)) + 1, int(np.ptp(rows)) + 1)
    as_label = [b.text for b in read_crop(engines, image, box, 3.0, as_label=True) if b.engine == "tesseract"]
    sparse = [b.text for b in read_crop(engines, image, box, 3.0) if b.engine == "tesseract"]
    assert as_label == ["CHEST PA"] and sparse == ["CHEST", "PA"]


def test_a_failing_engine_degrades_to_the_other_with_one_warning(tmp_path, tcia_dir, config, monkeypatch):
    from anonymizer.pipeline import run_file
    from ocr.tesseract import TesseractEngine

    def broken(self, image):
        raise RuntimeError("engine crashed")

    monkeypatch.setattr(TesseractEngine, "read", broken)
    report = run_file(tcia_dir / "2_ORIGINAL.dcm", tmp_path, config)
    assert report.status == "written"
    assert report.regions_redacted >= 2
    assert sum("tesseract failed" in w for w in report.warnings) == 1


def test_all_engines_failing_means_nothing_is_written(tmp_path, tcia_dir, config, monkeypatch):
    from anonymizer.pipeline import run_file
    from ocr.rapid import RapidOcrEngine
    from ocr.tesseract import TesseractEngine

    def broken(self, image):
        raise RuntimeError("engine crashed")

    monkeypatch.setattr(TesseractEngine, "read", broken)
    monkeypatch.setattr(RapidOcrEngine, "read", broken)
    report = run_file(tcia_dir / "2_ORIGINAL.dcm", tmp_path, config)
    assert report.status == "failed" and "not scanned" in report.reason
    assert not any(Path(tmp_path).iterdir())


def test_pp_ocr_runs_with_onnx_runtimes_memory_arena_and_threads_as_asked():
    """RapidOCR opens its sessions without the arena (PP-OCR's detector 0.21 s instead of
    0.15 on a 1056 px square, benchmarks/README.md); ocr/rapid.py switches it on in the
    options RapidOCR makes. Should a RapidOCR release change its internals, this says so
    instead of the speed benchmark drifting."""
    from ocr.rapid import RapidOcrEngine

    for threads in (None, 1):
        engine = RapidOcrEngine(threads)
        for session in (engine._ocr.text_det.infer.session, engine._ocr.text_rec.session.session,
                        engine._ocr.text_cls.infer.session):
            options = session.get_session_options()
            assert options.enable_cpu_mem_arena
            assert options.intra_op_num_threads == (threads or 0)
        line = np.zeros((48, 220, 3), dtype=np.uint8)
        cv2.putText(line, "CHEST PA", (10, 34), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
        assert [b.text for b in engine.read_line(line)] == ["CHEST PA"]  # and it still reads
        upside_down = np.ascontiguousarray(np.rot90(np.pad(line, ((40, 40), (40, 40), (0, 0))), 2))
        assert [(b.text, b.upside_down) for b in engine.read(upside_down)] == [("CHEST PA", True)]


def test_pp_ocr_detector_input_through_the_table_is_rapidocrs_own_to_the_last_bit():
    """ocr/rapid.py normalises the detector's input through a 256-entry table made by
    RapidOCR's own normalisation; the tensor must be the one RapidOCR would have made, for
    a square frame, a long strip and a crop smaller than the detector's minimum side."""
    from ocr.rapid import RapidOcrEngine

    detector = RapidOcrEngine()._ocr.text_det
    rng = np.random.default_rng(4)
    for shape in ((1056, 1056, 3), (300, 2000, 3), (40, 50, 3)):
        image = rng.integers(0, 256, shape, dtype=np.uint8)
        table = detector.get_preprocess(max(shape))
        ours, theirs = table(image), table._own(image)  # RapidOCR's DetPreProcess
        assert ours.dtype == theirs.dtype == np.float32
        assert ours.shape == theirs.shape
        assert np.array_equal(ours, theirs)


def test_a_region_grown_by_a_longer_line_is_not_cut_back_to_a_word():
    # From the text corpus: a loose word box, then the line that holds it, then a tight box
    # of the same word; the region must keep the line's columns.
    loose_word = OcrBox(Box(286, 225, 65, 25), "HIROSHI", 0.99, "easyocr")
    line = OcrBox(Box(219, 230, 125, 14), "LINDQVIST,HIROSHI", 0.98, "rapidocr")
    tight_word = OcrBox(Box(293, 231, 49, 10), "HIROSHI", 0.91, "tesseract")
    [merged] = merge_boxes([loose_word, line, tight_word], 0.5)
    assert merged.box.left <= 219 and merged.box.right >= 344
