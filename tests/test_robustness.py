"""No input breaks a batch: special files, links, locks, killed runs, bombs and slow files."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from anonymizer.cli import (
    EXIT_BATCH_FAILURES,
    EXIT_HELD,
    EXIT_INTERNAL,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_RELEASED_FOR_REVIEW,
    batch_exit_code,
)
from anonymizer.config import PipelineConfig
from anonymizer.limits import FileTimeout, time_limit
from anonymizer.output_lock import lock_output
from anonymizer.pipeline import run_file
from conftest import REPO, TEST_KEY, run_cli

CT_SMALL = Path(get_testdata_file("CT_small.dcm", download=False))
FAST = ("--metadata-only",)


def records(out: Path) -> dict[str, dict]:
    lines = (out / "anonymizer-report.jsonl").read_text().splitlines()
    return {r["input"]: r for r in map(json.loads, lines)}


def test_fifos_and_linked_folders_are_noted_never_opened(tmp_path):
    root = tmp_path / "in"
    (root / "real").mkdir(parents=True)
    shutil.copy(CT_SMALL, root / "real" / "ct.dcm")
    os.mkfifo(root / "pipe.dcm")
    (root / "loop").symlink_to(root, target_is_directory=True)  # a link loop
    (root / "gone.dcm").symlink_to(tmp_path / "nowhere.dcm")
    listing = tmp_path / "files.txt"
    listing.write_text(f"{root / 'real' / 'ct.dcm'}\n{root / 'pipe.dcm'}\n")
    # A FIFO that is opened blocks forever: the timeout is what would fail these runs.
    folder = run_cli(str(root), str(tmp_path / "out"), *FAST, timeout=120)
    assert folder.returncode == EXIT_OK, folder.stderr
    seen = records(tmp_path / "out")
    assert seen["real/ct.dcm"]["status"] == "written"
    assert seen["pipe.dcm"]["status"] == "skipped" and "not opened" in seen["pipe.dcm"]["reason"]
    assert seen["loop"]["status"] == "skipped" and "not followed" in seen["loop"]["reason"]
    assert seen["gone.dcm"]["status"] == "skipped" and "broken link" in seen["gone.dcm"]["reason"]
    listed = run_cli(f"@{listing}", str(tmp_path / "out2"), *FAST, timeout=120)
    assert listed.returncode == EXIT_OK, listed.stderr
    assert records(tmp_path / "out2")["pipe.dcm"]["status"] == "skipped"
    single = run_cli(str(root / "pipe.dcm"), str(tmp_path / "out3"), timeout=120)
    assert single.returncode == EXIT_INVALID and "not opened" in single.stderr


def test_a_second_batch_on_the_same_output_is_refused(tmp_path):
    out = tmp_path / "out"
    with lock_output(out):
        result = run_cli(str(CT_SMALL.parent / "dicomdirtests" / "77654033"), str(out), *FAST)
    assert result.returncode == EXIT_INVALID and "another run is writing" in result.stderr
    assert not (out / "anonymizer-report.jsonl").exists()


def test_stale_partial_files_are_removed_by_the_next_batch(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    shutil.copy(CT_SMALL, source / "ct.dcm")
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    stale = [out / ".anonymized_ct.dcm.x1y2.partial", out / "sub" / ".anonymized_a.dcm.zz.partial"]
    for path in stale:
        path.write_bytes(b"half a file")
    result = run_cli(str(source), str(out), *FAST)
    assert result.returncode == EXIT_OK, result.stderr
    assert not any(path.exists() for path in stale)
    assert (out / "anonymized_ct.dcm").is_file()


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found |= {int(p) for p in text}
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_workers_die_with_the_main_process(tmp_path):
    import cv2

    source = tmp_path / "in"
    source.mkdir()
    texture = np.random.default_rng(7).integers(0, 255, (2400, 2400), dtype=np.uint8)
    for i in range(4):  # each keeps a worker's OCR busy for many seconds
        cv2.imwrite(str(source / f"scan{i}.png"), texture)
    main = subprocess.Popen([sys.executable, str(REPO / "pipeline_run.py"), str(source), str(tmp_path / "out"),
                             "--workers", "2", "--skip-classification"],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "ANONYMIZER_KEY": TEST_KEY.decode()})
    deadline = time.time() + 120
    workers: set[int] = set()
    while time.time() < deadline and len(workers) < 2:
        workers = {p for p in children(main.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()} \
            if alive(main.pid) else set()
        time.sleep(0.2)
    assert len(workers) == 2, "the batch did not start its workers"
    time.sleep(4)  # the workers are inside their first file now
    main.send_signal(signal.SIGKILL)
    main.wait()
    time.sleep(2)
    survivors = [p for p in workers if alive(p)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors, "workers outlived the killed main process"


def png_declaring(width: int, height: int) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        chunk(b"IEND", b"")


def test_a_tiny_png_declaring_a_huge_image_is_refused_before_decoding(tmp_path):
    (tmp_path / "in").mkdir()
    source = tmp_path / "in" / "bomb.png"
    source.write_bytes(png_declaring(40000, 40000))
    report = run_file(source, tmp_path / "out", PipelineConfig(key=TEST_KEY, skip_classification=True))
    assert report.status == "failed" and "decompression bomb" in report.reason, report.reason
    # Under Pillow's own bound, the run's bound decides.
    source.write_bytes(png_declaring(9000, 9000))
    small = PipelineConfig(key=TEST_KEY, skip_classification=True, max_decoded_bytes=64 * 1024 * 1024)
    report = run_file(source, tmp_path / "out", small)
    assert report.status == "failed" and "decoded pixels would take" in report.reason, report.reason


def test_absurd_frame_counts_are_refused(tmp_path):
    ds = pydicom.dcmread(CT_SMALL)
    ds.NumberOfFrames = 900000
    ds.save_as(tmp_path / "frames.dcm")
    report = run_file(tmp_path / "frames.dcm", tmp_path / "out", PipelineConfig(key=TEST_KEY))
    assert report.status == "failed" and "frames" in report.reason, report.reason


def test_a_deflate_bomb_is_refused_before_it_is_inflated(tmp_path):
    ds = pydicom.dcmread(CT_SMALL)
    ds.add_new(0x00291010, "OB", b"\0" * (24 * 1024 * 1024))  # inflates from ~25 kB
    ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    assert len(buffer.getvalue()) < 200_000
    (tmp_path / "bomb.dcm").write_bytes(buffer.getvalue())
    config = PipelineConfig(key=TEST_KEY, metadata_only=True, max_decoded_bytes=16 * 1024 * 1024)
    report = run_file(tmp_path / "bomb.dcm", tmp_path / "out", config)
    assert report.status == "failed" and "decompression bomb" in report.reason, report.reason
    roomy = PipelineConfig(key=TEST_KEY, metadata_only=True)
    assert run_file(tmp_path / "bomb.dcm", tmp_path / "out", roomy).status == "written"


def test_the_time_limit_interrupts_a_slow_file():
    start = time.perf_counter()
    with pytest.raises(FileTimeout):
        with time_limit(1):
            while True:
                time.sleep(0.05)
    assert time.perf_counter() - start < 5


def test_exit_codes_rank_defects_then_failures_then_held_then_released_for_review():
    written = {"status": "written"}
    released = {"status": "written", "regions_review": 2}
    held = {"status": "held", "regions_review": 2}
    failed = {"status": "failed", "failure": "input"}
    broken = {"status": "failed", "failure": "internal"}
    assert batch_exit_code([written], report_lost=False) == EXIT_OK
    assert batch_exit_code([written, released], report_lost=False) == EXIT_RELEASED_FOR_REVIEW
    assert batch_exit_code([released, held], report_lost=False) == EXIT_HELD
    assert batch_exit_code([held, failed], report_lost=False) == EXIT_BATCH_FAILURES
    assert batch_exit_code([failed, broken], report_lost=False) == EXIT_INTERNAL
    assert batch_exit_code([written], report_lost=True) == EXIT_INTERNAL


def test_a_stage_defect_is_an_internal_error_not_the_inputs_fault(tmp_path, monkeypatch):
    from anonymizer import cli, pipeline

    def broken_stage(job, config):
        raise ZeroDivisionError("division by zero")

    stages = tuple((name, broken_stage if name == "enhance" else stage) for name, stage in pipeline.STAGES)
    monkeypatch.setattr(pipeline, "STAGES", stages)
    config = PipelineConfig(key=TEST_KEY, skip_classification=True)
    assert cli.run_single(CT_SMALL, tmp_path / "out", config) == EXIT_INTERNAL
    report = run_file(CT_SMALL, tmp_path / "out", config)
    assert report.reason == "internal error in stage 'enhance' (ZeroDivisionError: division by zero)"


def test_text_left_for_review_is_held_not_released_and_exits_4(tmp_path):
    import cv2

    image = np.full((700, 700), 30, np.uint8)
    cv2.circle(image, (350, 350), 200, 120, -1)
    cv2.putText(image, "JOHN SMITHSON", (190, 360), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 255, 3)
    cv2.imwrite(str(tmp_path / "central.png"), image)
    args = (str(tmp_path / "central.png"), "--skip-classification", "--ocr-engines", "rapidocr")
    result = run_cli(args[0], str(tmp_path / "out"), *args[1:])
    assert result.returncode == EXIT_HELD, result.stdout + result.stderr
    assert "HELD FOR REVIEW" in result.stdout
    assert not (tmp_path / "out" / "anonymized_central.png").exists()
    assert (tmp_path / "out" / "review" / "anonymized_central.png").is_file()
    released = run_cli(args[0], str(tmp_path / "released"), *args[1:], "--review", "release")
    assert released.returncode == EXIT_RELEASED_FOR_REVIEW, released.stdout + released.stderr
    assert (tmp_path / "released" / "anonymized_central.png").is_file()


def test_a_codec_panic_on_a_corrupt_rle_frame_fails_only_that_file(tmp_path):
    """pylibjpeg-rle panics in Rust on this frame (found by tests/test_fuzz.py): pyo3's
    PanicException is not an Exception, and had ended the whole run."""
    from pydicom.encaps import generate_fragmented_frames

    source = Path(get_testdata_file("MR_small_RLE.dcm", download=False))
    data = bytearray(source.read_bytes())
    frame = next(generate_fragmented_frames(pydicom.dcmread(source).PixelData))[0]
    at = bytes(data).find(frame)
    for offset, value in ((1381, 245), (5301, 175), (5762, 241)):
        data[at + offset] = value
    (tmp_path / "rle.dcm").write_bytes(bytes(data))
    report = run_file(tmp_path / "rle.dcm", tmp_path / "out", PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr",)))
    assert report.status == "failed" and report.reason == "pixel data cannot be decoded (PanicException)"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_output_folder_that_cannot_be_written_is_reported_not_a_traceback(tmp_path):
    # Running as root, permissions do not stop a write; a file where the folder should be does.
    blocked = tmp_path / "out"
    blocked.write_text("a file, not a folder")
    single = run_cli(str(CT_SMALL), str(blocked / "sub"), *FAST)
    assert single.returncode == EXIT_INVALID and "the output cannot be written" in single.stderr, single.stderr
    assert "Traceback" not in single.stderr
    source = tmp_path / "in"
    source.mkdir()
    shutil.copy(CT_SMALL, source / "ct.dcm")
    batch = run_cli(str(source), str(blocked / "sub"), *FAST)
    assert batch.returncode == EXIT_INVALID and "cannot write there" in batch.stderr, batch.stderr
    assert "Traceback" not in batch.stderr
