"""Issue 5: folders, lists, resume, reports, exit codes, workers, layout, Spark, MONAI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from conftest import REPO, TEST_KEY, run_cli

FAST = ("--metadata-only",)  # header-only keeps these tests quick; pixels are tested elsewhere


@pytest.fixture
def export(tmp_path) -> Path:
    """A small export: nested folders, files without suffix, a DICOMDIR, a README, a broken file."""
    root = tmp_path / "export"
    source = Path(get_testdata_file("CT_small.dcm", download=False)).parent / "dicomdirtests"
    shutil.copytree(source / "77654033", root / "patient_a")
    shutil.copytree(source / "98892001", root / "patient_b")
    shutil.copy(source / "DICOMDIR", root / "DICOMDIR")
    shutil.copy(get_testdata_file("no_meta.dcm", download=False), root / "broken.dcm")  # lacks SOPClassUID
    (root / "notes.txt").write_text("export notes")
    return root


def test_folder_batch_mirrors_tree_and_reports(tmp_path, export):
    out = tmp_path / "out"
    result = run_cli(str(export), str(out), *FAST, "--workers", "2")
    assert result.returncode == 3, result.stderr  # one broken file
    assert "broken.dcm" in result.stderr and "Batch:" in result.stdout
    written = sorted(p.relative_to(out) for p in out.rglob("anonymized_*"))
    assert Path("patient_a/CR1/anonymized_6154") in written
    assert len(written) == len([p for p in (export / "patient_a").rglob("*") if p.is_file()]) + \
        len([p for p in (export / "patient_b").rglob("*") if p.is_file()])
    summary = json.loads((out / "anonymizer-summary.json").read_text())
    assert summary["written"] == len(written) and summary["failed"] == 1 and summary["skipped"] == 2
    records = [json.loads(line) for line in (out / "anonymizer-report.jsonl").read_text().splitlines()]
    assert {r["status"] for r in records} == {"written", "failed", "skipped"}
    report_text = (out / "anonymizer-report.jsonl").read_text() + (out / "anonymizer-summary.json").read_text()
    for path in export.rglob("*"):
        if path.is_file() and path.suffix not in (".txt",) and path.name != "broken.dcm":
            ds = pydicom.dcmread(path, force=True)
            for keyword in ("PatientName", "PatientID", "StudyInstanceUID"):
                value = str(ds.get(keyword, "") or "")
                if len(value) > 3:
                    assert value not in report_text, keyword


def test_rerun_resumes_and_overwrite_redoes(tmp_path, export):
    out = tmp_path / "out"
    run_cli(str(export), str(out), *FAST)
    first = {p: p.stat().st_mtime_ns for p in out.rglob("anonymized_*")}
    again = run_cli(str(export), str(out), *FAST)
    assert f"{len(first)} already done" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in out.rglob("anonymized_*")} == first
    redo = run_cli(str(export), str(out), *FAST, "--overwrite")
    assert f"{len(first)} written" in redo.stdout


def test_list_file_and_uid_layout(tmp_path, export):
    files = sorted(p for p in (export / "patient_b").rglob("*") if p.is_file())
    listing = tmp_path / "files.txt"
    listing.write_text("# one path per line\n" + "\n".join(str(p) for p in files) + "\n")
    out = tmp_path / "out"
    result = run_cli(f"@{listing}", str(out), *FAST, "--layout", "uid")
    assert result.returncode == 0, result.stderr
    outputs = sorted(out.rglob("anonymized_*"))
    assert len(outputs) == len(files)
    for path in outputs:
        ds = pydicom.dcmread(path)
        series, study, patient = path.parent, path.parent.parent, path.parent.parent.parent
        assert (patient.name, study.name, series.name) == (ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID)
        assert path.name == f"anonymized_{ds.SOPInstanceUID}.dcm"  # nothing of the input's name
    assert not {p.name for p in files} & {p.name.removeprefix("anonymized_") for p in outputs}
    again = run_cli(f"@{listing}", str(out), *FAST, "--layout", "uid")
    assert f"{len(files)} already done" in again.stdout


def test_rename_uid_keeps_the_tree_but_not_the_names(tmp_path):
    import cv2
    import numpy as np

    source = tmp_path / "in" / "Smith_John"
    source.mkdir(parents=True)
    shutil.copy(get_testdata_file("CT_small.dcm", download=False), source / "SMITH_JOHN_CT.dcm")
    cv2.imwrite(str(source / "SMITH_JOHN_photo.png"), np.full((64, 64), 100, np.uint8))
    out = tmp_path / "out"
    result = run_cli(str(tmp_path / "in"), str(out), "--rename", "uid", "--skip-classification")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (out / "Smith_John").iterdir())
    assert len(names) == 2 and not any("SMITH" in n.upper() for n in names), names
    ds = pydicom.dcmread(next((out / "Smith_John").glob("*.dcm")))
    assert f"anonymized_{ds.SOPInstanceUID}.dcm" in names
    again = run_cli(str(tmp_path / "in"), str(out), "--rename", "uid", "--skip-classification")
    assert "2 already done" in again.stdout


def test_exit_codes(tmp_path, export):
    assert run_cli(str(export / "notes.txt"), str(tmp_path / "a")).returncode == 2
    assert run_cli(str(tmp_path / "missing.dcm"), str(tmp_path / "b")).returncode == 2
    assert run_cli(str(export), str(tmp_path / "c"), "--workers", "0").returncode == 2
    assert run_cli(str(export / "patient_a" / "CR1" / "6154"), str(tmp_path / "d"), *FAST).returncode == 0


def test_spark_local_output_is_byte_identical_to_local_engine(tmp_path, export):
    shutil.rmtree(export / "patient_a")
    (export / "broken.dcm").unlink()
    local, spark = tmp_path / "local", tmp_path / "spark"
    assert run_cli(str(export), str(local), "--workers", "2").returncode == 0
    result = run_cli(str(export), str(spark), "--engine", "spark", "--workers", "2", timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    local_files = sorted(p.relative_to(local) for p in local.rglob("anonymized_*"))
    assert local_files == sorted(p.relative_to(spark) for p in spark.rglob("anonymized_*"))
    assert len(local_files) >= 7
    for relative in local_files:
        assert (local / relative).read_bytes() == (spark / relative).read_bytes(), relative


def test_spark_submit_script_is_the_cli():
    text = (REPO / "anonymizer" / "spark_job.py").read_text()
    assert "--engine" in text and "spark" in text


def test_monai_transform_deidentifies_inside_compose(tmp_path, tcia_dir):
    from monai.transforms import Compose, LoadImaged

    from anonymizer.config import PipelineConfig
    from anonymizer.integrations.monai import DeidentifyDicomd

    config = PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr", "tesseract"))
    pipeline = Compose([DeidentifyDicomd(keys="image", output_dir=tmp_path, config=config),
                        LoadImaged(keys="image", reader="PydicomReader", image_only=False)])
    sample = pipeline({"image": str(tcia_dir / "2_ORIGINAL.dcm")})
    assert sample["image_deid"]["regions_redacted"] >= 2
    assert tuple(sample["image"].shape[:2]) in ((394, 552), (552, 394))
    written = pydicom.dcmread(sample["image_deid"]["output_path"])
    original = pydicom.dcmread(tcia_dir / "2_ORIGINAL.dcm")
    assert written.PatientName != original.PatientName and written.PatientIdentityRemoved == "YES"
    meta_text = json.dumps({k: str(v) for k, v in sample["image"].meta.items()})
    assert str(original.PatientName) not in meta_text


def test_a_zero_byte_image_beside_dicoms_fails_alone_and_the_batch_goes_on(tmp_path):
    import shutil

    from pydicom.data import get_testdata_file

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("CT_small.dcm", "MR_small.dcm"):
        shutil.copy(get_testdata_file(name, download=False), folder / name)
    (folder / "empty.png").write_bytes(b"")
    result = run_cli(str(folder), str(tmp_path / "out"), "--workers", "1", "--metadata-only")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 3, result.stderr
    assert "error: empty.png:" in result.stderr and "cv2" not in result.stderr
    assert (tmp_path / "out" / "anonymized_CT_small.dcm").is_file()
    assert (tmp_path / "out" / "anonymized_MR_small.dcm").is_file()
    assert (tmp_path / "out" / "anonymizer-summary.json").is_file()


def test_a_deeply_nested_file_fails_alone_beside_a_good_one(tmp_path):
    import sys

    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(get_testdata_file("CT_small.dcm", download=False), folder / "good.dcm")
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    inner = Dataset()
    inner.CodeValue = "X"
    for _ in range(1500):  # deeper than the interpreter's recursion limit allows to walk
        outer = Dataset()
        outer.ContentSequence = Sequence([inner])
        inner = outer
    ds.ContentSequence = inner.ContentSequence
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(50_000)
    try:
        ds.save_as(folder / "deep.dcm")
    finally:
        sys.setrecursionlimit(limit)
    result = run_cli(str(folder), str(tmp_path / "out"), "--workers", "1", "--metadata-only")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 3 and "error: deep.dcm:" in result.stderr, result.stderr
    assert (tmp_path / "out" / "anonymized_good.dcm").is_file()
    assert not (tmp_path / "out" / "anonymized_deep.dcm").exists()
    assert not list((tmp_path / "out").rglob("*.partial"))
