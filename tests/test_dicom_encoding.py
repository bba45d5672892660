"""The fast file encoder writes exactly what pydicom's dcmwrite writes, on pydicom's corpus."""

from __future__ import annotations

import copy
import io
import os
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file, get_testdata_files

from anonymizer.config import PipelineConfig
from anonymizer.dicom_encoding import encode_dicom_file
from anonymizer.loading import open_job
from anonymizer.metadata.scrub import scrub_metadata

CORPUS = sorted(Path(f) for f in get_testdata_files() if os.path.isfile(f))


def pydicom_bytes(ds: pydicom.Dataset) -> bytes | None:
    out = io.BytesIO()
    try:
        pydicom.dcmwrite(out, copy.deepcopy(ds), enforce_file_format=True)
    except Exception:  # noqa: BLE001 - files pydicom cannot write are not this test's subject
        return None
    return out.getvalue()


def read_or_none(path: Path, how: str, config: PipelineConfig):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if how == "from path":
                return pydicom.dcmread(path, force=True)
            if how == "from memory":  # untouched elements are copied as runs of the file
                return pydicom.dcmread(io.BytesIO(path.read_bytes()), force=True)
            job = open_job(path)
            scrub_metadata(job, config)
            return job.dataset
    except Exception:  # noqa: BLE001 - unreadable files are covered by test_pydicom_corpus
        return None


@pytest.mark.parametrize("how", ["from path", "from memory", "after stage 3"])
def test_output_is_byte_identical_to_dcmwrite(how, config):
    compared, fast_path = 0, 0
    for path in CORPUS:
        ds = read_or_none(path, how, config)
        expected = pydicom_bytes(ds) if ds is not None else None
        if expected is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            actual = encode_dicom_file(ds)
        assert actual == expected, path.name
        compared += 1
        fast_path += ds.file_meta.get("TransferSyntaxUID") in ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")
    assert compared >= 140 and fast_path >= 90  # most of the corpus, most of it little endian


def test_changed_values_of_every_simple_kind_round_trip(config):
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    ds.StudyDescription = "CHEST PA"        # odd length text: space padded
    ds.SOPInstanceUID = "2.25.123"          # odd length UID: NUL padded
    ds.ImageType = ["ORIGINAL", "PRIMARY"]  # multi-valued
    ds.Rows = 128                           # binary number
    ds.PatientName = None                   # empty
    encoded = encode_dicom_file(ds)
    assert encoded == pydicom_bytes(ds)
    back = pydicom.dcmread(io.BytesIO(encoded))
    assert (back.StudyDescription, back.SOPInstanceUID, list(back.ImageType), back.Rows) == (
        "CHEST PA", "2.25.123", ["ORIGINAL", "PRIMARY"], 128)
    assert back.file_meta.MediaStorageSOPInstanceUID == "2.25.123"
