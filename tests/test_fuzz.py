"""Mutated real files never break a run, never leave a partial file, never leak the name.

Seeded (derandomized) hypothesis runs over pydicom's own files: flipped bytes, cut
files, rewritten length fields and inserted bytes, which is what corrupt exports and
hostile senders produce. CI runs FUZZ_EXAMPLES cases (default below); by hand, e.g.
``FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py``. benchmarks/README.md
records the longer runs.
"""

from __future__ import annotations

import itertools
import os
import struct
from pathlib import Path

import pydicom
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.data import get_testdata_file

from anonymizer.config import PipelineConfig
from anonymizer.pipeline import run_file
from conftest import TEST_KEY

SEEDS = ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm", "MR_small_RLE.dcm", "SC_rgb_small_odd.dcm",
         "image_dfl.dcm", "reportsi.dcm", "nested_priv_SQ.dcm", "ExplVR_BigEnd.dcm",
         "MR_small_implicit.dcm", "SC_rgb_jpeg_dcmtk.dcm", "rtstruct.dcm", "waveform_ecg.dcm")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2000"))
PIXEL_EXAMPLES = int(os.environ.get("FUZZ_PIXEL_EXAMPLES", "150"))
ALLOWED = {"written", "failed", "rejected", "skipped"}
CASES_RUN = {"metadata": 0, "pixels": 0}
CASE_NUMBERS = itertools.count()


def seed_bytes() -> dict[str, bytes]:
    return {name: Path(get_testdata_file(name, download=False)).read_bytes() for name in SEEDS}


SEED_DATA = seed_bytes()
SEEDS_WITH_PIXELS = {name for name in SEEDS
                     if "PixelData" in pydicom.dcmread(get_testdata_file(name, download=False), force=True)}


def names_in(data: bytes) -> list[bytes]:
    """The seed's PatientName parts of 5+ characters, as stored."""
    try:
        ds = pydicom.dcmread(pydicom.filebase.DicomBytesIO(data), force=True, stop_before_pixels=True)
        name = str(ds.get("PatientName", "") or "")
    except Exception:  # noqa: BLE001 - a seed that pydicom cannot read has no name to look for
        return []
    return [part.encode() for part in name.replace("^", " ").split() if len(part) >= 5]


@st.composite
def mutants(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(SEEDS))
    data = bytearray(SEED_DATA[name])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "length16", "length32", "insert", "zero-run"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[at:]
        elif kind in ("length16", "length32"):
            size = 2 if kind == "length16" else 4
            value = draw(st.sampled_from([0, 1, 3, 0xFF, 0xFFFF, 0xFFFFFFFF, len(data)])) & (256 ** size - 1)
            data[at:at + size] = struct.pack("<H" if size == 2 else "<L", value)
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            data[at:at + 64] = b"\0" * 64
        if not data:
            break
    return name, bytes(data)


def check_one(tmp_path: Path, name: str, data: bytes, config: PipelineConfig) -> None:
    case = tmp_path / f"case{next(CASE_NUMBERS)}"
    source = case / "in" / name
    source.parent.mkdir(parents=True)
    source.write_bytes(data)
    out = case / "out"
    report = run_file(source, out, config)  # must not raise, whatever the bytes
    assert report.status in ALLOWED, report.status
    produced = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert not [p for p in produced if p.name.endswith(".partial")], "a partial file was left behind"
    if report.status != "written":
        assert produced == [], "a failed file wrote something"
        assert report.reason and "\n" not in report.reason and "Traceback" not in report.reason
        return
    assert len(produced) == 1
    written = produced[0].read_bytes()
    pydicom.dcmread(produced[0])  # a strict read: no force
    for part in names_in(SEED_DATA[name]):
        assert part not in written, f"{name}: the patient's name survived in the output"
    if name in SEEDS_WITH_PIXELS and "PixelData" not in pydicom.dcmread(produced[0]):
        # Cut at an element boundary before its pixels, a file reads as a header-only
        # export; that may be written, never silently.
        assert any("without pixel data" in w for w in report.warnings), f"{name}: pixels lost silently"


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutants())
def test_mutated_headers_fail_cleanly_or_come_out_clean(tmp_path, mutant):
    name, data = mutant
    check_one(tmp_path, name, data, PipelineConfig(key=TEST_KEY, metadata_only=True))
    CASES_RUN["metadata"] += 1


@settings(max_examples=PIXEL_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutants())
def test_mutated_images_fail_cleanly_or_come_out_clean(tmp_path, mutant):
    name, data = mutant
    config = PipelineConfig(key=TEST_KEY, skip_classification=True, ocr_engines=("rapidocr",), review="release")
    check_one(tmp_path, name, data, config)
    CASES_RUN["pixels"] += 1


def test_the_fuzz_runs_ran_their_cases():
    """Run after the two above (file order): hypothesis ran every case it was asked for."""
    assert CASES_RUN["metadata"] >= EXAMPLES and CASES_RUN["pixels"] >= PIXEL_EXAMPLES, CASES_RUN
