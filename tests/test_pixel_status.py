"""PatientIdentityRemoved and BurnedInAnnotation say what was done to the pixels."""

from __future__ import annotations

from pathlib import Path

import pydicom
from conftest import TEST_KEY, central_text_dicom
from pydicom.data import get_testdata_file

from anonymizer.config import PipelineConfig
from anonymizer.pipeline import run_file

CT_SMALL = Path(get_testdata_file("CT_small.dcm", download=False))


def written(tmp_path: Path, source: Path, **options) -> pydicom.Dataset:
    report = run_file(source, tmp_path / "out", PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr",), **options))
    assert report.status == "written", report.reason
    return pydicom.dcmread(report.output_path)


def test_scanned_clean_pixels_are_declared_clean(tmp_path):
    ds = written(tmp_path, CT_SMALL)
    assert ds.PatientIdentityRemoved == "YES" and ds.BurnedInAnnotation == "NO"


def test_unscanned_pixels_are_not_declared_clean(tmp_path):
    ds = written(tmp_path, CT_SMALL, metadata_only=True)
    assert ds.PatientIdentityRemoved == "NO" and "BurnedInAnnotation" not in ds


def test_unscanned_pixels_the_equipment_declared_clean_stay_declared(tmp_path):
    source = pydicom.dcmread(CT_SMALL)
    source.BurnedInAnnotation = "NO"
    source.save_as(tmp_path / "declared.dcm")
    ds = written(tmp_path, tmp_path / "declared.dcm", metadata_only=True)
    assert ds.PatientIdentityRemoved == "YES" and ds.BurnedInAnnotation == "NO"


def central_text(tmp_path: Path, text: str) -> Path:
    return central_text_dicom(tmp_path, text)


def test_text_left_for_review_is_declared(tmp_path):
    source = central_text(tmp_path, "JOHN SMITHSON")
    for review in ("hold", "release"):
        config = PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr",), review=review)
        report = run_file(source, tmp_path / review, config)
        status = "held" if review == "hold" else "written"
        assert report.status == status and report.regions_review >= 1, (report.reason, report.regions_review)
        ds = pydicom.dcmread(report.output_path)
        assert ds.PatientIdentityRemoved == "NO" and ds.BurnedInAnnotation == "YES"


def test_an_identifier_on_evidence_is_redacted_wherever_it_lies(tmp_path):
    source = central_text(tmp_path, "DOB 03/14/1951")
    default = run_file(source, tmp_path / "a", PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr",)))
    assert default.status == "written" and default.regions_redacted >= 1 and default.regions_review == 0
    seed = run_file(source, tmp_path / "b", PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr",), scope="border"))
    assert seed.regions_redacted == 0 and seed.regions_review >= 1
