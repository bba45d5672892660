"""Issue 2, item 5: the real TCIA files with burned-in fake identities."""

from __future__ import annotations

import re

import numpy as np
import pydicom

from anonymizer.loading import open_job
from anonymizer.pipeline import run_stages
from anonymizer.pixels.rendering import render_dicom_view
from conftest import read_text_in_box, run_cli


def test_cli_run_on_tcia_ct_prints_summary_and_writes_output(tmp_path, tcia_dir):
    result = run_cli(str(tcia_dir / "2_ORIGINAL.dcm"), str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "ANONYMIZATION COMPLETE" in result.stdout
    for label in ("Classification", "Format", "Metadata attributes cleaned", "PP-OCR regions",
                  "Tesseract regions", "After merge", "Regions redacted", "Left for a person", "Output"):
        assert label in result.stdout
    assert (tmp_path / "anonymized_2_ORIGINAL.dcm").is_file()
    original = pydicom.dcmread(tcia_dir / "2_ORIGINAL.dcm")
    for keyword in ("PatientName", "PatientID", "PatientBirthDate"):
        value = str(original.get(keyword))
        assert value not in result.stdout and value not in result.stderr


def test_tcia_ct_burned_in_phi_unreadable_and_rest_identical(tmp_path, tcia_dir, ground_truth, config):
    source = tcia_dir / "2_ORIGINAL.dcm"
    before = source.read_bytes()
    job = open_job(source)
    job.output_path = tmp_path / "anonymized_2_ORIGINAL.dcm"
    run_stages(job, config)
    assert source.read_bytes() == before, "input must never be modified"

    original = pydicom.dcmread(source)
    written = pydicom.dcmread(job.output_path)
    # Pixel format kept.
    for keyword in ("BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation",
                    "PhotometricInterpretation", "Rows", "Columns"):
        assert written[keyword].value == original[keyword].value
    assert written.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID

    # Only pixels under the redaction mask changed, and the mask stays in the text band.
    changed = original.pixel_array != written.pixel_array
    mask = job.redaction_mask[0]
    assert changed.any()
    assert not (changed & ~mask).any()
    assert np.nonzero(mask)[0].max() < 40

    # Every ground-truth PHI box is covered and no character of it can be read back.
    view = render_dicom_view(written, written.pixel_array[np.newaxis])[0]
    for box in ground_truth["2_ORIGINAL.dcm"]["phi"]:
        l, t, w, h = box["left"], box["top"], box["width"], box["height"]
        assert mask[t:t + h, l:l + w].all(), box["label"]
        read = read_text_in_box(view, l, t, w, h)
        assert not re.search(r"[A-Za-z0-9]", read), f"{box['label']} still reads as {read!r}"

    # The label before the birth date ("DOB:") identifies no one: it is kept, as the truth
    # box holds the date alone. Painting starts at most the padding before the date (the
    # padding of the name line above reaches the label's first rows).
    date = ground_truth["2_ORIGINAL.dcm"]["phi"][4]
    name_line_painted_to = max(b["top"] + b["height"] for b in ground_truth["2_ORIGINAL.dcm"]["phi"][:4]) + config.padding
    rows = slice(name_line_painted_to, date["top"] + date["height"])
    label_columns = slice(0, date["left"] - config.padding - 1)
    assert not mask[rows, label_columns].any() and not changed[rows, label_columns].any()
    assert (view[rows, label_columns] > 128).sum() > 50, "the label's letters are still there"
    # The re-read checks what the boxes hold: the kept label beside the date is no reason
    # for a solid refill (inpainting left nothing legible).
    assert job.report.regions_verified == 2 and job.report.regions_refilled == 0

    # The identifying header values are nowhere in the output's bytes.
    data = job.output_path.read_bytes()
    for keyword in ("PatientName", "PatientID", "PatientBirthDate"):
        value = str(original.get(keyword)).strip()
        assert value and value.encode() not in data, keyword
    assert written.PatientIdentityRemoved == "YES"
    codes = [item.CodeValue for item in written.DeidentificationMethodCodeSequence]
    assert "113100" in codes and "113101" in codes


def test_the_ocr_verifier_reads_the_original_text(tcia_dir, ground_truth):
    """The unreadability check above means something only if it reads the input."""
    original = pydicom.dcmread(tcia_dir / "2_ORIGINAL.dcm")
    view = render_dicom_view(original, original.pixel_array[np.newaxis])[0]
    box = ground_truth["2_ORIGINAL.dcm"]["phi"][4]  # the birth date
    read = read_text_in_box(view, box["left"], box["top"], box["width"], box["height"])
    assert "1943" in read.replace(" ", "")


def test_rgb_without_burned_in_text_keeps_pixel_data_byte_identical(tmp_path, tcia_dir):
    result = run_cli(str(tcia_dir / "RGB_ORIGINAL.dcm"), str(tmp_path))
    assert result.returncode == 0, result.stderr
    original = pydicom.dcmread(tcia_dir / "RGB_ORIGINAL.dcm")
    written = pydicom.dcmread(tmp_path / "anonymized_RGB_ORIGINAL.dcm")
    assert written.PixelData == original.PixelData
    assert written.PatientIdentityRemoved == "YES"
