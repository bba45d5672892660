"""Known burned-in annotation areas, by device and image size, are painted beside OCR."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from anonymizer.config import PipelineConfig
from anonymizer.pipeline import run_file
from anonymizer.pixel_rules import PixelRulesError, load_pixel_rules, parse_pixel_rules
from conftest import TEST_KEY, run_cli


def ultrasound_screen(tmp_path: Path, model: str, rows: int = 480, cols: int = 640) -> Path:
    """An 8-bit grey ultrasound screen of the given system, header band included."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    rng = np.random.default_rng(3)
    pixels = rng.integers(20, 60, (rows, cols), dtype=np.uint8)
    pixels[:40, 10:300] = 200  # a header band's bright block, unreadable as text
    ds.Modality, ds.Manufacturer, ds.ManufacturerModelName = "US", "Philips Medical Systems", model
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit, ds.PixelRepresentation = 7, 0
    for keyword in ("RescaleIntercept", "RescaleSlope", "WindowCenter", "WindowWidth"):
        if keyword in ds:
            del ds[keyword]
    ds.PixelData = pixels.tobytes()
    ds["PixelData"].VR = "OB"
    path = tmp_path / f"{model}.dcm"
    ds.save_as(path)
    return path


def test_a_known_header_band_is_painted_and_the_rest_kept(tmp_path):
    source = ultrasound_screen(tmp_path, "iU22")
    report = run_file(source, tmp_path / "out", PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr",)))
    assert report.status == "written", report.reason
    assert any("known annotation area" in s and "Philips iU22, 480 rows" in s for s in report.stages)
    before = pydicom.dcmread(source).pixel_array
    after = pydicom.dcmread(report.output_path).pixel_array
    assert not np.array_equal(before[:47], after[:47])
    assert np.array_equal(before[60:], after[60:]), "below the band nothing changes"


def test_another_model_or_size_is_not_matched(tmp_path):
    for source in (ultrasound_screen(tmp_path, "HD11"), ultrasound_screen(tmp_path, "iU22", rows=500)):
        report = run_file(source, tmp_path / source.stem, PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr",)))
        assert not any("known annotation area" in s for s in report.stages)


def test_a_users_rules_file_adds_areas_and_bad_files_are_refused(tmp_path):
    rules = tmp_path / "site.yaml"
    rules.write_text("rules:\n  - name: site HD11 footer\n    match: {Modality: US, ManufacturerModelName: HD11}\n"
                     "    boxes: [[0, 440, 640, 40]]\n")
    source = ultrasound_screen(tmp_path, "HD11")
    report = run_file(source, tmp_path / "out", PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr",),
                                                               pixel_rules=rules))
    assert any("site HD11 footer" in s for s in report.stages)
    assert len(load_pixel_rules(rules)) == len(load_pixel_rules()) + 1
    with pytest.raises(PixelRulesError, match="rule 1"):
        parse_pixel_rules("rules:\n  - name: x\n    boxes: [[0, 0, -5, 10]]\n    match: {}\n", "bad.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [{name: x}]\n")
    result = run_cli(str(source), str(tmp_path / "o2"), "--pixel-rules", str(bad))
    assert result.returncode == 2 and "bad.yaml: rule 1" in result.stderr
