"""Stage 3 at the level issue 2 asks for: Basic Profile, private tags, overlays, UIDs."""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file

from anonymizer.loading import open_job
from anonymizer.metadata.profile import load_profile_table
from anonymizer.metadata.scrub import scrub_metadata


def scrubbed(name: str, config):
    job = open_job(Path(get_testdata_file(name, download=False)))
    original = pydicom.dcmread(get_testdata_file(name, download=False))
    scrub_metadata(job, config)
    return original, job.dataset, job


def test_profile_table_covers_all_621_rows_with_repeating_groups():
    table = load_profile_table()
    assert len(table) == 621
    assert table.lookup(0x60023000).name == "Overlay Data"
    assert table.lookup(0x50100010).name == "Curve Data"


def test_ct_header_is_scrubbed(config):
    original, ds, job = scrubbed("CT_small.dcm", config)
    assert ds.PatientIdentityRemoved == "YES"
    assert str(ds.PatientName) != str(original.PatientName) and str(ds.PatientName).startswith("ANON")
    assert ds.PatientID == str(ds.PatientName)
    assert ds.get("PatientBirthDate") in (None, "")
    assert ds.SOPInstanceUID.startswith("2.25.") and ds.SOPInstanceUID != original.SOPInstanceUID
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert ds.StudyInstanceUID.startswith("2.25.")
    assert ds.SOPClassUID == original.SOPClassUID  # class UIDs identify no one
    assert not any(element.tag.is_private for element in ds.iterall())
    assert job.report.attributes_cleaned > 10
    assert original.PatientName.family_name in job.phi_hints.names


def test_overlays_are_removed(config):
    original, ds, _ = scrubbed("examples_overlay.dcm", config)
    assert any(0x6000 <= e.tag.group <= 0x60FF for e in original)
    assert not any(0x6000 <= e.tag.group <= 0x60FF for e in ds)


def test_dates_shift_consistently_for_one_patient(config):
    _, first, _ = scrubbed("CT_small.dcm", config)
    _, second, _ = scrubbed("CT_small.dcm", config)
    original = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    assert first.StudyDate == second.StudyDate != original.StudyDate
    assert first.StudyInstanceUID == second.StudyInstanceUID


def test_private_sequences_nested_are_removed(config):
    from anonymizer.metadata.scrub import ScrubContext, scrub_dataset

    ds = pydicom.dcmread(get_testdata_file("nested_priv_SQ.dcm", download=False))
    assert any(e.tag.is_private for e in ds.iterall())
    ctx = ScrubContext(load_profile_table(), config.strategy, config.key, "", -400)
    scrub_dataset(ds, ctx)
    assert not any(e.tag.is_private for e in ds.iterall())


def test_file_meta_names_this_tool_not_the_input_writer(tmp_path, config):
    from anonymizer.pipeline import run_file

    source = tmp_path / "written_by_another.dcm"
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.file_meta.ImplementationClassUID = "1.2.40.0.13.1.1"  # dcm4che's
    ds.file_meta.ImplementationVersionName = "dcm4che-1.4-JP"
    ds.save_as(source)
    report = run_file(source, tmp_path / "out", config)
    meta = pydicom.dcmread(report.output_path).file_meta
    assert meta.ImplementationClassUID == "2.25.4295474494537373921052310465301227450"
    assert meta.ImplementationVersionName == "MEDANON_0_1_0"
    assert b"dcm4che" not in Path(report.output_path).read_bytes()


def test_registered_uids_are_kept_and_instance_uids_not_in_the_table_change(tmp_path, config):
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence

    from anonymizer.pipeline import run_file

    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "T-D3000", "SRT", "Chest"
    code.ContextUID = "1.2.840.10008.6.1.2"  # a DICOM context group
    code.MappingResourceUID = "1.2.840.10008.8.1.1"
    code.CodingSchemeUID = "1.3.12.2.1107.5.2"  # a vendor's coding scheme
    code.ContextGroupExtensionCreatorUID = "1.3.12.2.1107.5.9.1"
    ds.AnatomicRegionSequence = DicomSequence([code])
    ds.CreatorVersionUID = "1.3.12.2.1107.5.9.20180101"
    ds.ReferencedColorPaletteInstanceUID = "1.3.12.2.1107.5.9.777.1"  # an instance: not in the table
    source = tmp_path / "codes.dcm"
    ds.save_as(source)
    written = pydicom.dcmread(run_file(source, tmp_path / "out", config).output_path)
    item = written.AnatomicRegionSequence[0]
    assert item.ContextUID == "1.2.840.10008.6.1.2" and item.MappingResourceUID == "1.2.840.10008.8.1.1"
    assert item.CodingSchemeUID == "1.3.12.2.1107.5.2"
    assert item.ContextGroupExtensionCreatorUID == "1.3.12.2.1107.5.9.1"
    assert written.CreatorVersionUID == "1.3.12.2.1107.5.9.20180101"
    assert written.SOPClassUID == ds.SOPClassUID
    assert written.ReferencedColorPaletteInstanceUID.startswith("2.25.")
    assert written.SOPInstanceUID != ds.SOPInstanceUID


def test_an_earlier_deidentification_is_kept_and_this_run_added_after_it(tmp_path, config):
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence

    from anonymizer.pipeline import run_file

    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    items = []
    for value, meaning in (("113100", "Basic Application Confidentiality Profile"),
                           ("113102", "Clean Recognizable Visual Features Option")):
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = DicomSequence(items)
    ds.DeidentificationMethod = ["DEFACED", "Basic Profile 2019"]
    ds.PatientIdentityRemoved = "YES"
    ds.LongitudinalTemporalInformationModified = "REMOVED"
    source = tmp_path / "deidentified_before.dcm"
    ds.save_as(source)
    written = pydicom.dcmread(run_file(source, tmp_path / "out", config).output_path)
    codes = [item.CodeValue for item in written.DeidentificationMethodCodeSequence]
    assert codes[:2] == ["113100", "113102"] and len(codes) == len(set(codes)) > 2
    assert "113108" in codes  # this run's Retain Patient Characteristics, added
    methods = list(written.DeidentificationMethod)
    assert methods[:2] == ["DEFACED", "Basic Profile 2019"]
    assert any(m.startswith("medical-anonymizer") for m in methods[2:])
    assert written.LongitudinalTemporalInformationModified == "REMOVED"  # not weakened to MODIFIED


def test_sequences_the_profile_empties_stay_valid_for_dciodvfy(tmp_path, config):
    import shutil
    import subprocess

    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence

    from anonymizer.pipeline import run_file

    def errors(path):
        result = subprocess.run([shutil.which("dciodvfy"), str(path)], capture_output=True, text=True, timeout=60)
        return {line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error")}

    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    study = Dataset()
    study.ReferencedSOPClassUID, study.ReferencedSOPInstanceUID = "1.2.840.10008.3.1.2.3.1", "1.2.3.4.5.6"
    ds.ReferencedStudySequence = DicomSequence([study])  # X/Z, Type 3 in General Study
    context = Dataset()
    context.ValueType = "TEXT"
    ds.AcquisitionContextSequence = DicomSequence([context])  # X/Z, Type 2 in Acquisition Context
    source = tmp_path / "sequences.dcm"
    ds.save_as(source)
    output = run_file(source, tmp_path / "out", config).output_path
    written = pydicom.dcmread(output)
    assert "ReferencedStudySequence" not in written
    assert "AcquisitionContextSequence" in written and len(written.AcquisitionContextSequence) == 0
    assert not errors(output) - errors(source)


def test_kept_device_fields_are_cleaned_of_header_identifiers(tmp_path, config):
    from anonymizer.pipeline import run_file

    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.InstitutionName = "Northfield General Hospital"
    ds.DeviceSerialNumber = "Northfield General Hospital"  # what a site typed into the field
    ds.StationName = "CT01"
    source = tmp_path / "device.dcm"
    ds.save_as(source)
    report = run_file(source, tmp_path / "out", config)
    written = pydicom.dcmread(report.output_path)
    assert "Northfield" not in str(written.get("DeviceSerialNumber", ""))
    assert written.StationName == "CT01"  # Retain Device Identity keeps a plain device name
    notes = [w for w in report.warnings if w.startswith("Retain Device Identity")]
    assert notes and "DeviceSerialNumber" in notes[0] and "Northfield" not in notes[0]
    assert b"Northfield" not in Path(report.output_path).read_bytes()
    # A serial number that is only digits is the device's, and stays.
    ds.DeviceSerialNumber = "0012345678"
    ds.save_as(source)
    report = run_file(source, tmp_path / "out2", config)
    assert pydicom.dcmread(report.output_path).DeviceSerialNumber == "0012345678"
    assert not any(w.startswith("Retain Device Identity") for w in report.warnings)
