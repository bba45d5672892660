"""Issue 4, item 5: lossless write-back for every transfer syntax in pydicom's corpus."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from anonymizer.job import Box, TextRegion, Verdict
from anonymizer.loading import open_job
from anonymizer.metadata.scrub import scrub_metadata
from anonymizer.pixels.rendering import render_dicom_view
from anonymizer.redaction import redact
from anonymizer.saving import save
from anonymizer.text_rules import Reason
from anonymizer.validation import validate

CASES = [
    ("MR_small_implicit.dcm", "Implicit VR Little Endian"),
    ("MR_small.dcm", "Explicit VR Little Endian"),
    ("MR_small_bigendian.dcm", "Explicit VR Big Endian"),
    ("image_dfl.dcm", "Deflated Explicit VR Little Endian"),
    ("MR_small_RLE.dcm", "RLE Lossless"),
    ("SC_rgb_rle_32bit_2frame.dcm", "RLE Lossless"),
    ("MR_small_jpeg_ls_lossless.dcm", "JPEG-LS Lossless Image Compression"),
    ("MR_small_jp2klossless.dcm", "JPEG 2000 Image Compression (Lossless Only)"),
    ("GDCMJ2K_TextGBR.dcm", "JPEG 2000 Image Compression (Lossless Only)"),
    ("SC_rgb_jpeg_gdcm.dcm", "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])"),
    ("SC_rgb_jpeg_dcmtk.dcm", "JPEG Baseline (Process 1)"),
    ("JPGExtended.dcm", "JPEG Extended (Process 2 and 4)"),
    ("JPEG2000.dcm", "JPEG 2000 Image Compression"),
    ("JPEGLSNearLossless_16.dcm", "JPEG-LS Lossy (Near-Lossless) Image Compression"),
    ("SC_ybr_full_422_uncompressed.dcm", "Explicit VR Little Endian"),
    ("examples_palette.dcm", "Explicit VR Little Endian"),
    ("6154", "Explicit VR Little Endian"),  # MONOCHROME1
    ("liver_1frame.dcm", "Explicit VR Little Endian"),  # 1 bit
    ("examples_ybr_color.dcm", "JPEG Baseline (Process 1)"),  # multi-frame YBR_FULL_422
]
# pydicom's RLE encoder stops short of 3 x 32-bit samples: stored natively instead.
NO_ENCODER = {"SC_rgb_rle_32bit_2frame.dcm"}
LOSSY = {"JPEG Baseline (Process 1)", "JPEG Extended (Process 2 and 4)", "JPEG 2000 Image Compression",
         "JPEG-LS Lossy (Near-Lossless) Image Compression"}


def redact_corner(name: str, tmp_path: Path, config, fill: str = "inpaint"):
    """Redact a forced PHI box in the top-left corner of frame 0 through stages 6 and 7."""
    source = Path(get_testdata_file(name, download=False))
    job = open_job(source)
    validate(job, config)
    scrub_metadata(job, config)  # stage 7 refuses an output that still holds the header's names
    rows, cols = job.pixels.shape[1:3]
    box = Box(1, 1, max(cols // 4, 2), max(rows // 8, 2))
    job.regions = [TextRegion(box, "DOE JANE", 0.99, ("test",), 0, Verdict.PHI, Reason.HEADER_NAME, in_border=True)]
    job.output_path = tmp_path / f"anonymized_{source.name}"
    config = replace(config, fill=fill, padding=0, ocr_engines=())
    redact(job, config)
    save(job, config)
    return source, job


@pytest.mark.parametrize("name, syntax", CASES)
def test_pixels_outside_the_redaction_are_identical(tmp_path, config, name, syntax):
    source, job = redact_corner(name, tmp_path, config)
    original = pydicom.dcmread(source)
    assert original.file_meta.TransferSyntaxUID.name == syntax
    written = pydicom.dcmread(job.output_path)
    before, after = original.pixel_array, written.pixel_array
    assert before.shape == after.shape
    frames = int(original.get("NumberOfFrames", 1) or 1)
    outside = ~(job.redaction_mask if frames > 1 else job.redaction_mask[0])
    assert np.array_equal(before[outside], after[outside]), "untouched pixels must be identical"
    assert written.BitsStored == original.BitsStored
    assert written.PixelRepresentation == original.PixelRepresentation
    out_syntax = written.file_meta.TransferSyntaxUID
    if syntax in LOSSY:
        assert out_syntax.name == "Explicit VR Little Endian"  # no second generation of loss
        assert written.LossyImageCompression == "01"
    elif "Process 14" in syntax or name in NO_ENCODER:
        assert not out_syntax.is_compressed  # no encoder here: stored natively, still lossless
    else:
        assert out_syntax.name == syntax


@pytest.mark.parametrize("name", ["MR_small.dcm", "6154", "SC_ybr_full_422_uncompressed.dcm",
                                  "examples_palette.dcm", "SC_rgb_rle_16bit.dcm", "MR_small_RLE.dcm"])
def test_solid_fill_renders_black(tmp_path, config, name):
    _, job = redact_corner(name, tmp_path, config, fill="solid")
    written = pydicom.dcmread(job.output_path)
    pixels = written.pixel_array
    pixels = pixels[np.newaxis] if int(written.get("NumberOfFrames", 1) or 1) == 1 else pixels
    from anonymizer.pixels.decoding import decode_dicom_pixels

    view = render_dicom_view(written, decode_dicom_pixels(written))[0]
    region = view[job.redaction_mask[0]]
    assert region.max() <= 8, f"{name}: fill renders as {region.max()}"
