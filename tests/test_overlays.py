"""Overlays held in the unused high bits of native Pixel Data (retired, but written by
older XA and US equipment) are cleared in every output; the image's values stay."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from anonymizer.config import PipelineConfig
from anonymizer.pipeline import run_file
from conftest import TEST_KEY

CT_SMALL = Path(get_testdata_file("CT_small.dcm", download=False))


def with_overlay_bits(tmp_path: Path, signed: bool) -> tuple[Path, np.ndarray, np.ndarray]:
    """CT_small as a 16-bit file with 12 (signed) or 8 (unsigned) bits stored, and an
    "overlay" of text-like strokes set in the bits above HighBit."""
    ds = pydicom.dcmread(CT_SMALL)
    values = ds.pixel_array.astype(np.int32)
    overlay = np.zeros(values.shape, dtype=bool)
    overlay[5:15, 5:60:3] = True  # strokes of a burned-in name in the overlay plane
    if signed:
        stored = np.clip(values - 1000, -2048, 2047)
        ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 11, 1
        raw = (stored.astype(np.int16).view(np.uint16)).astype(np.uint32)  # sign-extended
        raw[overlay] ^= 1 << 13  # breaks the sign extension: data, not a sign
    else:
        stored = np.clip(values // 8, 0, 255)
        ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 7, 0
        raw = stored.astype(np.uint32)
        raw[overlay] |= 1 << 8  # OverlayBitPosition 8, as 16-bit XA overlays were
    ds.PixelData = raw.astype("<u2").tobytes()
    ds["PixelData"].VR = "OW"
    ds.add_new(0x60000100, "US", 1)  # OverlayBitsAllocated, a 60xx attribute stage 3 removes
    ds.add_new(0x60000102, "US", 13 if signed else 8)  # OverlayBitPosition
    path = tmp_path / f"overlay_{'signed' if signed else 'unsigned'}.dcm"
    ds.save_as(path)
    return path, stored, overlay


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("metadata_only", [True, False])
def test_overlay_bits_are_cleared_and_values_kept(tmp_path, signed, metadata_only):
    source, stored, overlay = with_overlay_bits(tmp_path, signed)
    config = PipelineConfig(key=TEST_KEY, metadata_only=metadata_only, ocr_engines=("rapidocr",))
    report = run_file(source, tmp_path / "out", config)
    assert report.status == "written", report.reason
    written = pydicom.dcmread(report.output_path)
    raw = np.frombuffer(written.PixelData, dtype="<u2")[:stored.size].reshape(stored.shape).astype(np.int32)
    high_bits = raw >> (12 if signed else 8)
    if signed:
        # Every sample's bits above HighBit are its sign, nothing else.
        assert set(np.unique(high_bits).tolist()) <= {0, 0xF}
    else:
        assert not high_bits.any()
    assert not any(0x6000 <= e.tag.group <= 0x60FF for e in written)
    decoded = written.pixel_array.astype(np.int32)
    if metadata_only:
        assert np.array_equal(decoded, stored)  # the image's values are untouched
    assert any("overlay" in w for w in report.warnings)


def test_sign_extended_signed_data_is_kept_byte_for_byte(tmp_path):
    source, _, _ = with_overlay_bits(tmp_path, signed=True)
    ds = pydicom.dcmread(source)
    stored = ds.pixel_array.astype(np.int16)
    ds.PixelData = stored.view(np.uint16).astype("<u2").tobytes()  # sign-extended, no overlay
    ds.save_as(tmp_path / "clean.dcm")
    report = run_file(tmp_path / "clean.dcm", tmp_path / "out", PipelineConfig(key=TEST_KEY, metadata_only=True))
    assert report.status == "written"
    assert pydicom.dcmread(report.output_path).PixelData == ds.PixelData
    assert not any("overlay" in w for w in report.warnings)


def overlay_with_text(tmp_path: Path) -> Path:
    """pydicom's examples_overlay.dcm (a real Siemens overlay plane, 484x300) with the
    patient's name written into the plane, as annotation software does."""
    import cv2
    from pydicom.pixels import pack_bits

    ds = pydicom.dcmread(get_testdata_file("examples_overlay.dcm", download=False))
    plane = np.asarray(ds.overlay_array(0x6000), dtype=np.uint8)
    name = str(ds.PatientName).replace("^", " ").upper()
    canvas = np.zeros(plane.shape, np.uint8)
    cv2.putText(canvas, name, (60, 260), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 255, 2)
    plane = np.where(canvas > 0, 1, plane).astype(np.uint8)
    ds[0x60003000].value = pack_bits(plane.reshape(-1))
    path = tmp_path / "overlay.dcm"
    ds.save_as(path)
    return path


def clean_graphics() -> PipelineConfig:
    from dataclasses import replace

    from anonymizer.metadata.profile import ProfileOption
    from anonymizer.metadata.strategy import default_strategy

    strategy = default_strategy()
    return PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr", "tesseract"),
                          strategy=replace(strategy, options=strategy.options | {ProfileOption.CLEAN_GRAPHICS}))


def test_clean_graphics_keeps_the_overlay_and_clears_the_name_in_it(tmp_path):
    source = overlay_with_text(tmp_path)
    report = run_file(source, tmp_path / "out", clean_graphics())
    assert report.status == "written", report.reason
    written = pydicom.dcmread(report.output_path)
    before = np.asarray(pydicom.dcmread(source).overlay_array(0x6000))
    after = np.asarray(written.overlay_array(0x6000))
    name_rows = slice(235, 270)
    assert before[name_rows, 50:400].sum() > 200 and after[name_rows, 50:400].sum() < 0.05 * before[name_rows, 50:400].sum()
    assert np.array_equal(before[:200], after[:200])  # the rest of the annotation layer stays
    assert 0x60000022 not in written  # OverlayDescription is free text
    assert any("overlay 6000: read" in s for s in report.stages)


def test_overlays_are_removed_without_clean_graphics_or_unread(tmp_path):
    source = overlay_with_text(tmp_path)
    default = run_file(source, tmp_path / "a", PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr",)))
    from dataclasses import replace

    unread = run_file(source, tmp_path / "b", replace(clean_graphics(), metadata_only=True))
    for report in (default, unread):
        assert report.status == "written", report.reason
        assert not any(e.tag.group == 0x6000 for e in pydicom.dcmread(report.output_path))
    assert any("overlay 6000: removed" in s for s in unread.stages)


def high_bits_overlay_with_text(tmp_path: Path) -> Path:
    """CT_small with 12 of 16 bits stored and an embedded overlay (OverlayBitPosition 12,
    the retired form): the patient's name at the top, a clinical "SUPINE" at the bottom."""
    import cv2

    ds = pydicom.dcmread(CT_SMALL)
    values = np.clip(ds.pixel_array.astype(np.int32) + 1000, 0, 4095).astype(np.uint16)
    canvas = np.zeros(values.shape, np.uint8)
    cv2.putText(canvas, str(ds.PatientName).replace("^", " ").upper(), (8, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 255, 1)
    cv2.putText(canvas, "SUPINE", (8, 110), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 255, 1)
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 11, 0
    ds.RescaleIntercept = -1000
    ds.PixelData = (values | ((canvas > 127).astype(np.uint16) << 12)).astype("<u2").tobytes()
    ds["PixelData"].VR = "OW"
    for element, vr, value in ((0x0010, "US", ds.Rows), (0x0011, "US", ds.Columns), (0x0040, "CS", "G"),
                               (0x0050, "SS", [1, 1]), (0x0100, "US", 16), (0x0102, "US", 12)):
        ds.add_new(0x60000000 | element, vr, value)
    path = tmp_path / "xa_style_overlay.dcm"
    ds.save_as(path)
    return path


def test_clean_graphics_lifts_a_high_bits_overlay_into_a_plane_and_cleans_it(tmp_path):
    source = high_bits_overlay_with_text(tmp_path)
    before = np.frombuffer(pydicom.dcmread(source).PixelData, dtype="<u2").reshape(128, 128) >> 12 & 1
    report = run_file(source, tmp_path / "out", clean_graphics())
    assert report.status == "written", report.reason
    written = pydicom.dcmread(report.output_path)
    stored = np.frombuffer(written.PixelData, dtype="<u2").reshape(128, 128)
    assert not (stored >> 12).any()  # PixelData's unused bits are cleared as in every output
    plane = np.asarray(written.overlay_array(0x6000))
    assert written[0x60000102].value == 0 and written[0x60000100].value == 1
    name_rows, clinical_rows = slice(10, 40), slice(90, 120)
    assert before[name_rows].sum() > 50 and plane[name_rows].sum() <= 0.05 * before[name_rows].sum()
    assert np.array_equal(plane[clinical_rows], before[clinical_rows])  # the clinical annotation stays
    assert any("lifted from PixelData's unused bits" in s for s in report.stages)
