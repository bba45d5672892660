"""Nothing unresolved is released silently: text left for a person holds the file under
OUTPUT_DIR/review, with a preview and a record of each box; `review` decides and releases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from conftest import REPO, TEST_KEY, central_text_dicom

from anonymizer.config import PipelineConfig
from anonymizer.pipeline import run_file

NAME = "JOHN SMITHSON"


def central_name(tmp_path: Path) -> Path:
    """A name of unknown words in the middle of an MR: no header value, label or pattern
    speaks for it, so a person has to decide."""
    return central_text_dicom(tmp_path / "in", NAME)


def review_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "pipeline_run.py"), "review", *args],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def held(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("hold")
    source = central_name(tmp_path)
    report = run_file(source, tmp_path / "out", PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr",)))
    return tmp_path, source, report


def fresh_copy(held, tmp_path: Path) -> Path:
    """The held output folder copied, so that each test decides on its own copy."""
    import shutil

    shutil.copytree(held[0] / "out", tmp_path / "out")
    return tmp_path / "out"


def test_a_file_with_text_left_for_a_person_is_held_not_released(held):
    tmp_path, _, report = held
    out = tmp_path / "out"
    assert report.status == "held" and report.regions_review >= 1
    assert not (out / "anonymized_central.dcm").exists(), "a held file is not among the released outputs"
    copy = out / "review" / "anonymized_central.dcm"
    assert Path(report.output_path) == copy and copy.is_file()
    ds = pydicom.dcmread(copy)
    assert ds.PatientIdentityRemoved == "NO" and ds.BurnedInAnnotation == "YES"
    record = json.loads((out / "review" / "anonymized_central.dcm.review.json").read_text())
    assert record["release_to"] == "anonymized_central.dcm"
    box = record["boxes"][0]
    # The box covers the burned-in name (drawn from x 150, baseline 160).
    assert box["frame"] == 0 and box["decision"] == "pending" and box["reason"]
    assert box["left"] <= 155 and box["left"] + box["width"] >= 300 and box["top"] <= 150 <= box["top"] + box["height"]
    assert report.review_boxes[0]["left"] == box["left"]


def test_the_preview_outlines_each_held_box_and_nothing_quotes_the_text(held):
    tmp_path, _, report = held
    out = tmp_path / "out"
    record = json.loads((out / "review" / "anonymized_central.dcm.review.json").read_text())
    preview = cv2.imread(str(out / record["previews"][0]))
    assert preview is not None and max(preview.shape[:2]) >= 484
    red = (preview[..., 2] > 200) & (preview[..., 1] < 50) & (preview[..., 0] < 50)
    assert red.sum() > 100, "the held box is outlined in red"
    for word in NAME.split():
        for path in out.rglob("*.json*"):
            assert word not in path.read_text().upper(), path
        assert word not in json.dumps(report.review_boxes).upper()


def test_redact_decision_paints_the_box_and_releases_the_file(held, tmp_path):
    out = fresh_copy(held, tmp_path)
    before = pydicom.dcmread(out / "review" / "anonymized_central.dcm")
    listing = review_cli(str(out))
    assert listing.returncode == 4 and "box 1" in listing.stdout, listing.stdout + listing.stderr
    result = review_cli(str(out), "anonymized_central.dcm", "--redact", "all", "--by", "reviewer-a")
    assert result.returncode == 0, result.stdout + result.stderr
    released = pydicom.dcmread(out / "anonymized_central.dcm")
    assert released.PatientIdentityRemoved == "YES" and released.BurnedInAnnotation == "NO"
    assert "113101" in {item.CodeValue for item in released.DeidentificationMethodCodeSequence}
    assert released.SOPInstanceUID == before.SOPInstanceUID
    changed = released.pixel_array != before.pixel_array
    rows, cols = np.nonzero(changed)
    assert changed.any() and rows.min() >= 120 and rows.max() <= 175 and cols.min() >= 140, "only the box changed"
    assert sorted(p.name for p in (out / "review").iterdir()) == ["decisions.jsonl"], "the hold is cleared"
    audit = [json.loads(line) for line in (out / "review" / "decisions.jsonl").read_text().splitlines()]
    assert {entry["by"] for entry in audit} == {"reviewer-a"}
    assert [entry.get("decision") for entry in audit if "box" in entry] == ["redact"] * (len(audit) - 1)
    assert audit[-1]["released"] == "anonymized_central.dcm"


def test_keep_decision_releases_the_pixels_as_held(held, tmp_path):
    out = fresh_copy(held, tmp_path)
    before = pydicom.dcmread(out / "review" / "anonymized_central.dcm")
    result = review_cli(str(out), str(out / "review" / "anonymized_central.dcm"), "--keep", "all")
    assert result.returncode == 0, result.stdout + result.stderr
    released = pydicom.dcmread(out / "anonymized_central.dcm")
    assert released.PixelData == before.PixelData
    assert released.PatientIdentityRemoved == "YES" and released.BurnedInAnnotation == "NO"


def test_an_undecided_file_stays_held_and_bad_box_numbers_are_refused(held, tmp_path):
    out = fresh_copy(held, tmp_path)
    assert review_cli(str(out), "--apply").returncode == 4
    assert not (out / "anonymized_central.dcm").exists()
    wrong = review_cli(str(out), "anonymized_central.dcm", "--redact", "99")
    assert wrong.returncode == 2 and "no box numbered 99" in wrong.stderr
    assert review_cli(str(out), "elsewhere.dcm", "--keep", "1").returncode == 2


def test_a_record_decided_by_another_tool_is_released_with_apply(held, tmp_path):
    out = fresh_copy(held, tmp_path)
    sidecar = out / "review" / "anonymized_central.dcm.review.json"
    record = json.loads(sidecar.read_text())
    for box in record["boxes"]:
        box["decision"] = "redact"
    sidecar.write_text(json.dumps(record))
    assert review_cli(str(out), "--apply").returncode == 0
    assert (out / "anonymized_central.dcm").is_file() and not sidecar.exists()


def test_a_batch_counts_held_files_and_does_not_redo_them(held, tmp_path):
    _, source, _ = held
    run = [sys.executable, str(REPO / "pipeline_run.py"), str(source.parent), str(tmp_path / "out"),
           "--ocr-engines", "rapidocr", "--workers", "1"]
    first = subprocess.run(run, capture_output=True, text=True, timeout=600)
    assert first.returncode == 4 and "1 held for review (" in first.stdout, first.stdout + first.stderr
    summary = json.loads((tmp_path / "out" / "anonymizer-summary.json").read_text())
    assert summary["held"] == 1 and summary["needing_review"] == ["central.dcm"]
    again = subprocess.run(run, capture_output=True, text=True, timeout=600)
    assert again.returncode == 4 and "1 already done" in again.stdout, again.stdout
    assert "1 held for review" in again.stdout


def test_a_record_naming_a_path_outside_the_output_folder_is_refused(held, tmp_path):
    out = fresh_copy(held, tmp_path)
    sidecar = out / "review" / "anonymized_central.dcm.review.json"
    record = json.loads(sidecar.read_text())
    record["release_to"] = "../escaped.dcm"
    for box in record["boxes"]:
        box["decision"] = "keep"
    sidecar.write_text(json.dumps(record))
    result = review_cli(str(out), "--apply")
    assert result.returncode == 2 and "outside the output folder" in result.stderr
    assert not (tmp_path / "escaped.dcm").exists()


def test_a_released_file_is_done_for_a_re_run_that_names_files_by_uid(held, tmp_path):
    _, source, _ = held
    run = [sys.executable, str(REPO / "pipeline_run.py"), str(source.parent), str(tmp_path / "out"),
           "--ocr-engines", "rapidocr", "--workers", "1", "--layout", "uid"]
    assert subprocess.run(run, capture_output=True, text=True, timeout=600).returncode == 4
    held_copy = next((tmp_path / "out" / "review").rglob("*.dcm"))
    assert review_cli(str(tmp_path / "out"), str(held_copy), "--keep", "all").returncode == 0
    again = subprocess.run(run, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "1 already done" in again.stdout, again.stdout + again.stderr
