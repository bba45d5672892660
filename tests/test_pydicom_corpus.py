"""Issue 2, item 6: every file pydicom ships is written or rejected with one clear line."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_files

from anonymizer.pipeline import run_file
from conftest import run_cli

CORPUS = sorted(Path(f) for f in get_testdata_files() if os.path.isfile(f))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_corpus_is_the_real_one():
    assert len(CORPUS) > 150
    assert any(p.name == "examples_ybr_color.dcm" for p in CORPUS)


def test_every_corpus_file_is_written_or_rejected_cleanly(tmp_path, config):
    hashes = {p: digest(p) for p in CORPUS}
    outcomes = {}
    for index, source in enumerate(CORPUS):
        out_dir = tmp_path / str(index)
        report = run_file(source, out_dir, config)
        outcomes[source.name] = report.status
        assert report.status in ("written", "failed", "rejected"), source
        produced = list(out_dir.glob("*")) if out_dir.exists() else []
        if report.status == "written":
            assert [p.name for p in produced] == [f"anonymized_{source.name}"], source
            written = pydicom.dcmread(produced[0])
            assert written.PatientIdentityRemoved == "YES", source
            assert not any(element.tag.is_private for element in written.iterall()), source
        else:
            assert produced == [], f"{source.name}: nothing may be half-written"
            assert report.reason and "\n" not in report.reason and "Traceback" not in report.reason
    assert all(digest(p) == h for p, h in hashes.items()), "inputs must never change"
    written = [name for name, status in outcomes.items() if status == "written"]
    # Compressed, multi-frame, colour, big-endian and MONOCHROME1 files all come through.
    for name in ("JPEG2000.dcm", "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "examples_ybr_color.dcm",
                 "SC_rgb_rle_32bit_2frame.dcm", "MR_small_bigendian.dcm", "examples_palette.dcm", "6154",
                 "liver_1frame.dcm", "rtdose.dcm", "reportsi.dcm"):
        assert name in written, name
    assert outcomes["MR_truncated.dcm"] == "failed"
    assert outcomes["DICOMDIR"] == "failed"


@pytest.mark.parametrize("name, reason", [
    ("MR_truncated.dcm", "pixel data cannot be decoded"),
    ("README.txt", "unsupported file type"),
    ("DICOMDIR", "DICOMDIR"),
    ("no_meta.dcm", "missing required attribute"),
])
def test_cli_rejects_bad_input_with_one_line_and_nonzero_exit(tmp_path, name, reason):
    source = next(p for p in CORPUS if p.name == name)
    result = run_cli(str(source), str(tmp_path))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1 and source.name in lines[0] and reason in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())
