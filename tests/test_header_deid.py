"""Issue 3, items 1, 4 and 5: actions per VR, keyed consistency, cleaned descriptors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from anonymizer.config import PipelineConfig
from anonymizer.loading import open_job
from anonymizer.metadata.scrub import scrub_metadata
from anonymizer.pipeline import run_file
from conftest import TEST_KEY


def scrub_file(path: Path, key: bytes = TEST_KEY) -> Dataset:
    job = open_job(path)
    scrub_metadata(job, PipelineConfig(key=key))
    return job.dataset


def days_between(a: str, b: str) -> int:
    return (date(int(a[:4]), int(a[4:6]), int(a[6:])) - date(int(b[:4]), int(b[4:6]), int(b[6:]))).days


def test_same_key_same_input_gives_byte_identical_output(tmp_path, tcia_dir):
    config = PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr", "tesseract"))
    first = run_file(tcia_dir / "2_ORIGINAL.dcm", tmp_path / "a", config)
    second = run_file(tcia_dir / "2_ORIGINAL.dcm", tmp_path / "b", config)
    assert Path(first.output_path).read_bytes() == Path(second.output_path).read_bytes()
    other_key = run_file(tcia_dir / "2_ORIGINAL.dcm", tmp_path / "c",
                         PipelineConfig(key=b"another key entirely", ocr_engines=("rapidocr", "tesseract")))
    assert Path(first.output_path).read_bytes() != Path(other_key.output_path).read_bytes()


def make_series(tmp_path: Path) -> list[Path]:
    """Two instances of one patient, a day apart, referencing each other in sequences."""
    base = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    paths = []
    for index, study_date in enumerate(("20200110", "20200111")):
        ds = base.copy()
        ds.SOPInstanceUID = f"1.2.826.0.1.3680043.8.498.{index + 1}"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.StudyDate = ds.ContentDate = study_date
        ref = Dataset()
        ref.ReferencedSOPClassUID = ds.SOPClassUID
        ref.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.8.498.1"
        ref.ReferencedFrameOfReferenceUID = ds.FrameOfReferenceUID
        ref.ContentDate = study_date
        ds.ReferencedImageSequence = Sequence([ref])
        ds.StudyDescription = f"CT CHEST {base.PatientName.family_name} MRN {base.PatientID} 01/10/2020 call 555-123-4567"
        path = tmp_path / f"i{index}.dcm"
        ds.save_as(path)
        paths.append(path)
    return paths


def test_uids_pseudonyms_and_dates_are_consistent_across_files_and_sequences(tmp_path):
    first_path, second_path = make_series(tmp_path)
    original = pydicom.dcmread(first_path)
    first, second = scrub_file(second_path), scrub_file(first_path)  # order does not matter
    first, second = second, first
    assert first.StudyInstanceUID == second.StudyInstanceUID != original.StudyInstanceUID
    assert first.SeriesInstanceUID == second.SeriesInstanceUID
    assert first.FrameOfReferenceUID == second.FrameOfReferenceUID
    assert first.PatientID == second.PatientID and first.PatientName == second.PatientName
    # The reference inside a nested sequence follows the instance it points to.
    ref = second.ReferencedImageSequence[0]
    assert ref.ReferencedSOPInstanceUID == first.SOPInstanceUID
    assert ref.ReferencedFrameOfReferenceUID == first.FrameOfReferenceUID
    assert ref.ReferencedSOPClassUID == original.SOPClassUID
    assert first.file_meta.MediaStorageSOPInstanceUID == first.SOPInstanceUID
    for ds in (first, second):
        assert all(str(uid).startswith("2.25.") for uid in (ds.SOPInstanceUID, ds.StudyInstanceUID))
    # Dates move, intervals within the patient stay, nested dates too.
    assert first.StudyDate != "20200110"
    assert days_between(second.StudyDate, first.StudyDate) == 1
    assert ref.ContentDate == second.StudyDate
    assert 365 <= days_between("20200110", first.StudyDate) <= 1094


def test_clean_descriptors_keep_clinical_words_and_lose_identifiers(tmp_path):
    path = make_series(tmp_path)[0]
    original = pydicom.dcmread(path)
    ds = scrub_file(path)
    description = ds.StudyDescription
    assert "CT CHEST" in description
    for identifier in (original.PatientName.family_name, original.PatientID, "01/10/2020", "555-123-4567"):
        assert identifier not in description, identifier


def test_dummy_values_are_valid_for_their_vr(tmp_path):
    ds = scrub_file(Path(get_testdata_file("CT_small.dcm", download=False)), key=TEST_KEY)
    for element in ds.iterall():
        if element.VR in ("DA",) and element.value:
            assert len(element.value) == 8 and element.value.isdigit()
        if element.VR == "UI" and element.value:
            assert len(str(element.value)) <= 64 and all(part.isdigit() for part in str(element.value).split("."))
        if element.VR in ("CS", "SH", "AE") and isinstance(element.value, str):
            assert len(element.value) <= 16
    assert "PatientBirthDate" in ds and not ds.PatientBirthDate  # Z keeps a Type 2 attribute, empty
