"""Issue 2, item 6: every file pydicom ships is written or rejected with one clear line."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import re
import shutil
import subprocess

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


@pytest.fixture(scope="session")
def corpus_run(tmp_path_factory):
    """Every corpus file through the pipeline once: (source, out_dir, report), input hashes."""
    from anonymizer.config import PipelineConfig
    from conftest import TEST_KEY

    # Released where the checks below look: a held file's bytes are the same (tests/test_hold.py).
    config = PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr", "tesseract"), review="release")
    root = tmp_path_factory.mktemp("corpus")
    hashes = {p: digest(p) for p in CORPUS}
    runs = [(source, root / str(i), run_file(source, root / str(i), config)) for i, source in enumerate(CORPUS)]
    return runs, hashes


def test_every_corpus_file_is_written_or_rejected_cleanly(corpus_run):
    runs, hashes = corpus_run
    outcomes = {}
    for source, out_dir, report in runs:
        outcomes[source.name] = report.status
        assert report.status in ("written", "failed", "rejected", "skipped"), source
        produced = list(out_dir.glob("*")) if out_dir.exists() else []
        if report.status == "written":
            assert [p.name for p in produced] == [f"anonymized_{source.name}"], source
            written = pydicom.dcmread(produced[0])
            # YES only when the pixels were scanned and nothing was left for review.
            assert written.PatientIdentityRemoved == ("NO" if report.regions_review else "YES"), source
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
    assert outcomes["DICOMDIR"] == "skipped" and outcomes["README.txt"] == "skipped"


@pytest.mark.parametrize("name, reason", [
    ("MR_truncated.dcm", "file is truncated"),
    ("README.txt", "unsupported file type"),
    ("DICOMDIR", "DICOMDIR"),
    ("no_meta.dcm", "file is truncated"),
])
def test_cli_rejects_bad_input_with_one_line_and_nonzero_exit(tmp_path, name, reason):
    source = next(p for p in CORPUS if p.name == name)
    result = run_cli(str(source), str(tmp_path))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1 and source.name in lines[0] and reason in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())


def dciodvfy_errors(path: Path) -> set[str]:
    """dciodvfy's error lines, with values blanked so input and output compare."""
    result = subprocess.run([shutil.which("dciodvfy"), str(path)], capture_output=True, text=True, timeout=60)
    errors = set()
    for line in (result.stdout + result.stderr).splitlines():
        if line.startswith("Error"):
            line = re.sub(r"= <[^>]*>", "= <>", line)
            line = re.sub(r"\b\d[\d.]*\b", "<n>", line)  # UIDs and numbers
            errors.add(re.sub(r"\[\d+\]", "", line).strip())
    return errors


def test_outputs_add_no_dciodvfy_error(corpus_run):
    """Issue 3, item 7: for every input dciodvfy accepts, the output has no new error."""
    assert shutil.which("dciodvfy"), "dicom3tools is a test dependency (requirements-dev.txt)"
    checked = 0
    for source, out_dir, report in corpus_run[0]:
        if report.status != "written":
            continue
        before = dciodvfy_errors(source)
        if any("read failed" in e or "not a DICOM" in e or "Cannot" in e for e in before):
            continue  # dciodvfy does not accept this input
        new = dciodvfy_errors(Path(report.output_path)) - before
        assert not new, f"{source.name}: {sorted(new)}"
        checked += 1
    assert checked > 100
