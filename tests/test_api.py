"""The Python API and the package's manners as a library: no logging or warning state changed."""

from __future__ import annotations

import logging
import subprocess
import sys
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from anonymizer.api import AnonymizerError, PipelineConfig, deidentify_dataset, deidentify_file
from conftest import REPO, TEST_KEY

CT_SMALL = Path(get_testdata_file("CT_small.dcm", download=False))


def test_deidentify_dataset_returns_a_clean_copy_and_leaves_the_input():
    original = pydicom.dcmread(CT_SMALL)
    before = original.to_json_dict()
    clean, report = deidentify_dataset(original, PipelineConfig(key=TEST_KEY, metadata_only=True))
    assert original.to_json_dict() == before
    assert report.status == "written" and report.attributes_cleaned > 0
    assert clean.PatientIdentityRemoved == "NO"  # pixels not scanned: not declared clean
    assert str(clean.PatientName) != str(original.PatientName)
    assert clean.SOPInstanceUID != original.SOPInstanceUID
    assert clean.PixelData == original.PixelData  # --metadata-only keeps the pixels as stored


def test_deidentify_dataset_matches_the_file_the_cli_writes(tmp_path):
    config = PipelineConfig(key=TEST_KEY, metadata_only=True)
    clean, _ = deidentify_dataset(pydicom.dcmread(CT_SMALL), config)
    report = deidentify_file(CT_SMALL, tmp_path, config)
    written = pydicom.dcmread(report.output_path)
    assert clean.to_json_dict() == written.to_json_dict()


def test_deidentify_dataset_scans_pixels_of_an_in_memory_dataset():
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm", download=False))
    del ds.file_meta  # built in memory, as a gateway would hold it
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    clean, report = deidentify_dataset(ds, PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr",)))
    assert report.frames_scanned >= 1 and clean.Rows == ds.Rows


def test_an_unsafe_dataset_raises_with_a_safe_reason():
    ds = pydicom.dcmread(CT_SMALL)
    del ds.SOPClassUID
    with pytest.raises(AnonymizerError) as raised:
        deidentify_dataset(ds, PipelineConfig(key=TEST_KEY, metadata_only=True))
    assert "SOPClassUID" in raised.value.reason


def test_the_library_leaves_the_hosts_logging_and_warnings_alone():
    logger = logging.getLogger("pydicom")
    logger.setLevel(logging.WARNING)
    filters = list(warnings.filters)
    deidentify_dataset(pydicom.dcmread(CT_SMALL), PipelineConfig(key=TEST_KEY, metadata_only=True))
    assert logger.level == logging.WARNING
    assert warnings.filters == filters
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("anonymizer").handlers)


def test_version_and_typed_package():
    result = subprocess.run([sys.executable, str(REPO / "pipeline_run.py"), "--version"],
                            capture_output=True, text=True, cwd=REPO)
    from anonymizer import __version__

    assert result.returncode == 0 and result.stdout.strip().endswith(__version__)
    assert (REPO / "anonymizer" / "py.typed").is_file() and (REPO / "LICENSE").read_text().startswith(
        " " * 33 + "Apache License")


def test_the_cli_log_filter_masks_value_like_text():
    from anonymizer.logs import PhiFilter

    record = logging.LogRecord("pydicom", logging.WARNING, __file__, 1,
                               "Invalid value %r for UID 1.2.840.113619.2.55.3.604688119 (DOB 19700101)",
                               ("DOE^JOHN",), None)
    PhiFilter().filter(record)
    text = record.getMessage()
    assert "DOE" not in text and "113619" not in text and "19700101" not in text
    assert text.startswith("Invalid value *** for UID ***")


def test_the_key_is_in_no_repr_and_no_pickle():
    import os
    import pickle

    secret = b"project key 4f1c9a77 never shown"
    config = PipelineConfig(key=secret, metadata_only=True)
    dumped = pickle.dumps(config)
    assert secret not in dumped and secret.hex().encode() not in dumped
    assert secret.decode() not in repr(config) and "<hidden>" in repr(config.key)
    # A worker started from this process inherits the key; one that has none fails clearly.
    code = "import pickle, sys; c = pickle.loads(sys.stdin.buffer.read()); print(c.key == %r)" % secret
    hidden = ("ANONYMIZER_KEY", "ANONYMIZER_KEY_FILE", "ANONYMIZER_WORKER_KEY")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    inherited = subprocess.run([sys.executable, "-c", code], input=dumped, capture_output=True, env={
        **env, "ANONYMIZER_WORKER_KEY": os.environ["ANONYMIZER_WORKER_KEY"]}, cwd=REPO)
    assert inherited.stdout.strip() == b"True", inherited.stderr
    orphan = subprocess.run([sys.executable, "-c", code], input=dumped, capture_output=True, env=env, cwd=REPO)
    assert orphan.returncode != 0 and b"project key is not available" in orphan.stderr
