"""Retain Safe Private (PS3.15 E.3.10): the standard's whole table, checked on real vendor
files that ship in nibabel's wheel, and converted with dcm2niix."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import nibabel
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from anonymizer.config import PipelineConfig
from anonymizer.metadata.strategy import StrategyError, parse_strategy, safe_private_attributes
from anonymizer.pipeline import run_file
from conftest import TEST_KEY

SAFE_PRIVATE = ("options: [retain-safe-private, retain-longitudinal-modified-dates, retain-patient-characteristics,"
                " retain-device-identity, clean-descriptors]")  # the default options, and this one
# What dcm2niix writes from attributes the Basic Profile removes whatever the options.
IDENTITY_FIELDS = {"PatientBirthDate", "ReferringPhysicianName", "StudyID"}


def nibabel_file(name: str, tmp_path: Path) -> Path:
    """A real scanner's file from nibabel's test data (gzipped ones unpacked)."""
    packaged = resources.files("nibabel.nicom.tests").joinpath("data", name)
    target = tmp_path / "input" / name.removesuffix(".gz")
    target.parent.mkdir(parents=True, exist_ok=True)
    data = packaged.read_bytes()
    target.write_bytes(gzip.decompress(data) if name.endswith(".gz") else data)
    return target


def deidentify(source: Path, out: Path, strategy_text: str) -> Path:
    config = PipelineConfig(key=TEST_KEY, strategy=parse_strategy(strategy_text), metadata_only=True)
    return run_file(source, out, config).output_path


def dcm2niix(dicom: Path, out: Path) -> tuple[dict, np.ndarray]:
    """The BIDS sidecar and the voxels dcm2niix makes of one file."""
    folder = out / "dicom"
    folder.mkdir(parents=True)
    shutil.copy(dicom, folder)
    subprocess.run([shutil.which("dcm2niix"), "-b", "y", "-ba", "n", "-z", "n", "-f", "volume", "-o", str(out),
                    str(folder)], check=True, capture_output=True, timeout=120)
    return json.loads((out / "volume.json").read_text()), np.asarray(nibabel.load(out / "volume.nii").dataobj)


def test_the_standards_whole_table_is_shipped():
    table = safe_private_attributes()
    assert len(table) == 479  # every row of PS3.15 2026a Table E.3.10-1
    assert all(group % 2 == 1 for _, group, _ in table)
    assert table[("GEMS_PARM_01", 0x0043, 0x39)] == "IS"  # GE's b-value
    assert table[("SIEMENS MR HEADER", 0x0019, 0x0C)] == "IS"  # Siemens' b-value
    assert table[("PHILIPS MR IMAGING DD 001", 0x2005, 0x0E)] == "FL"  # Philips' scale slope
    assert table[("PHILIPS PET PRIVATE GROUP", 0x7053, 0x00)] == "DS"  # SUV factor


def test_a_philips_enhanced_mr_converts_to_the_same_sidecar_and_voxels(tmp_path):
    source = nibabel_file("philips_mprage.dcm.gz", tmp_path)
    before, voxels = dcm2niix(source, tmp_path / "before")
    kept, kept_voxels = dcm2niix(deidentify(source, tmp_path / "safe", SAFE_PRIVATE), tmp_path / "after")
    # The scale slope sits in a private per-frame sequence the table does not list; the
    # sequence is kept as its container. TablePosition comes from an unlisted attribute.
    assert set(before) - set(kept) <= IDENTITY_FIELDS | {"TablePosition"}
    for field in ("PhilipsRescaleSlope", "PhilipsScaleSlope", "PhilipsRescaleIntercept", "WaterFatShift",
                  "EstimatedEffectiveEchoSpacing", "RepetitionTime", "EchoTime", "FlipAngle"):
        assert kept[field] == before[field], field
    assert np.array_equal(kept_voxels, voxels)
    # Without the option the Philips attributes go, and with them the scaling.
    basic, _ = dcm2niix(deidentify(source, tmp_path / "basic", "options: []"), tmp_path / "basic-nifti")
    assert "PhilipsScaleSlope" not in basic and "WaterFatShift" not in basic


def test_real_vendor_files_stay_as_valid_as_they_came_for_dciodvfy(tmp_path):
    def errors(path: Path) -> set[str]:
        result = subprocess.run([shutil.which("dciodvfy"), str(path)], capture_output=True, text=True, timeout=60)
        return {line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error")}

    for name in ("philips_mprage.dcm.gz", "siemens_dwi_1000.dcm.gz", "0.dcm"):
        source = nibabel_file(name, tmp_path)
        for label, strategy in (("default", "version: 1"), ("safe", SAFE_PRIVATE)):
            output = deidentify(source, tmp_path / label, strategy)
            assert not errors(output) - errors(source), (name, label)


def test_kept_private_text_is_checked_and_kept_uids_are_replaced(tmp_path):
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.PatientName = "Quillfeather^Ottoline"
    acquisition = ds.private_block(0x0019, "GEMS_ACQU_01")
    acquisition.add_new(0x9E, "LO", "QUILLFEATHER BRAIN")  # Internal Pulse Sequence Name, listed
    analysed = ds.private_block(0x0099, "NQHeader", create=True)
    analysed.add_new(0x02, "UI", ds.SeriesInstanceUID)  # Analyzed Series UID, listed
    analysed.add_new(0x01, "UI", "1.2.840.10008.1.2.1")  # Version: a registered UID, kept
    analysed.add_new(0x03, "LO", "Quillfeather")  # not listed
    source = tmp_path / "private.dcm"
    ds.save_as(source)
    result = run_file(source, tmp_path / "out", PipelineConfig(key=TEST_KEY, strategy=parse_strategy(SAFE_PRIVATE),
                                                               metadata_only=True))
    written = pydicom.dcmread(result.output_path)
    assert "QUILLFEATHER" not in written.private_block(0x0019, "GEMS_ACQU_01")[0x9E].value.upper()
    block = written.private_block(0x0099, "NQHeader")
    assert block[0x02].value == written.SeriesInstanceUID != ds.SeriesInstanceUID
    assert block[0x01].value == "1.2.840.10008.1.2.1"
    assert 0x03 not in block
    assert any("Retain Safe Private: (0019,xx9E) GEMS_ACQU_01" in w for w in result.warnings)


def test_a_strategy_adds_safe_private_attributes_of_its_own(tmp_path):
    strategy = parse_strategy(SAFE_PRIVATE + '\nsafe-private:\n  GEMS_PARM_01: ["(0043,xx2F)"]\n')
    assert ("GEMS_PARM_01", 0x0043, 0x2F) in strategy.safe_private
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    block = ds.private_block(0x0043, "GEMS_PARM_01", create=True)
    block.add_new(0x2F, "SS", 0)  # image type: magnitude
    block.add_new(0x30, "SS", 1)  # not added
    source = tmp_path / "ge.dcm"
    ds.save_as(source)
    written = pydicom.dcmread(run_file(source, tmp_path / "out", PipelineConfig(
        key=TEST_KEY, strategy=strategy, metadata_only=True)).output_path)
    kept = written.private_block(0x0043, "GEMS_PARM_01")
    assert kept[0x2F].value == 0 and 0x30 not in kept
    with pytest.raises(StrategyError, match="line 3: '\\(0042,xx2F\\)' is not a private attribute"):
        parse_strategy('version: 1\nsafe-private:\n  GEMS_PARM_01: ["(0042,xx2F)"]\n')


def test_an_unlisted_private_sequence_without_a_listed_attribute_goes_with_its_creator():
    from anonymizer.metadata.profile import load_profile_table
    from anonymizer.metadata.scrub import ScrubContext, scrub_dataset

    ds = Dataset()
    block = ds.private_block(0x2005, "Philips MR Imaging DD 005", create=True)
    item = Dataset()
    item.private_block(0x2005, "Philips MR Imaging DD 002", create=True).add_new(0x01, "LO", "operator note")
    block.add_new(0x0F, "SQ", [item])
    scrub_dataset(ds, ScrubContext(load_profile_table(), parse_strategy(SAFE_PRIVATE), TEST_KEY, "", -400))
    assert not [e for e in ds if e.tag.is_private]


GE_FOR_DCM2NIIX = """
safe-private:
  GEMS_PARM_01: ["(0043,xx2F)", "(0043,xx83)"]   # image type, ASSET reduction factors
  GEMS_ACQU_01: ["(0019,xx5A)"]                  # acquisition duration
"""


def test_ge_attributes_dcm2niix_reads_need_the_sites_additions(tmp_path):
    """No GE MR ships in a package: GE's private attributes are planted in pydicom's MR,
    labelled as GE's, where dcm2niix looks for them."""
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    ds.Manufacturer, ds.ImageType = "GE MEDICAL SYSTEMS", ["ORIGINAL", "PRIMARY", "OTHER"]
    ds.private_block(0x0019, "GEMS_ACQU_01", create=True).add_new(0x5A, "FL", 123456.0)
    parameters = ds.private_block(0x0043, "GEMS_PARM_01", create=True)
    parameters.add_new(0x2F, "SS", 0)
    parameters.add_new(0x83, "DS", ["0.5", "1"])
    source = tmp_path / "input" / "ge.dcm"
    source.parent.mkdir()
    ds.save_as(source)
    before, _ = dcm2niix(source, tmp_path / "before")
    fields = ("ImageType", "ParallelReductionFactorInPlane", "AcquisitionDuration")
    assert before["ImageType"][-1] == "MAGNITUDE" and all(f in before for f in fields)
    table_only, _ = dcm2niix(deidentify(source, tmp_path / "table", SAFE_PRIVATE), tmp_path / "table-nifti")
    assert "MAGNITUDE" not in table_only["ImageType"] and "AcquisitionDuration" not in table_only
    added, _ = dcm2niix(deidentify(source, tmp_path / "added", SAFE_PRIVATE + GE_FOR_DCM2NIIX), tmp_path / "added-nifti")
    assert all(added[f] == before[f] for f in fields)
