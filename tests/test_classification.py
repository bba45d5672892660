"""Issue 2, item 3 (classify) and item 9 (torch stays out of DICOM runs)."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from classifier.header import classify_header
from conftest import REPO, run_cli


def test_header_classification_names_anatomy():
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    ds.BodyPartExamined = "CHEST"
    assert classify_header(ds).anatomy == "chest"
    ds.BodyPartExamined = "PELVIS"
    assert classify_header(ds).anatomy == "pelvic"
    del ds.BodyPartExamined
    ds.StudyDescription = "CT HEAD W/O CONTRAST"
    assert classify_header(ds).anatomy == "skull"
    ds.Modality = "IO"
    assert classify_header(ds).anatomy == "dental"
    assert classify_header(ds).medical is True


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    from tiny_models import build_tiny_clip

    return build_tiny_clip(tmp_path_factory.mktemp("clip"))


def test_clip_zero_shot_runs_offline_from_a_local_directory(tiny_clip):
    from classifier.clip import PROMPTS, classify_with_clip, load_clip

    image = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    probabilities = load_clip(tiny_clip).probabilities(image)
    assert probabilities.shape == (len(PROMPTS),)
    assert abs(float(probabilities.sum()) - 1) < 1e-5
    result = classify_with_clip(image, tiny_clip)
    assert result.method == "CLIP zero-shot"
    assert (result.medical is True) == (result.anatomy in ("chest", "skull", "dental", "pelvic", "other"))


def test_cli_uses_clip_model_and_honours_its_verdict(tmp_path, tiny_clip):
    from classifier.clip import classify_with_clip

    source = tmp_path / "image.png"
    image = np.full((128, 128, 3), 90, dtype=np.uint8)
    cv2.imwrite(str(source), image)
    verdict = classify_with_clip(image[..., ::-1].copy(), tiny_clip)
    result = run_cli(str(source), str(tmp_path / "out"), "--clip-model", str(tiny_clip))
    if verdict.medical:
        assert result.returncode == 0, result.stderr
        assert "CLIP zero-shot" in result.stdout
    else:
        assert result.returncode == 1
        assert "non-medical" in result.stderr
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    skipped = run_cli(str(source), str(tmp_path / "out2"), "--clip-model", str(tiny_clip), "--skip-classification")
    assert skipped.returncode == 0 and "not classified" in skipped.stdout


def test_non_medical_verdict_exits_1_without_output(tmp_path, monkeypatch, config):
    from anonymizer.pipeline import run_file
    from classifier import stage
    from classifier.result import Classification

    monkeypatch.setattr(stage, "clip_model_dir", lambda configured: tmp_path)
    monkeypatch.setattr(stage, "classify_with_clip",
                        lambda view, model_dir: Classification(False, "", "CLIP zero-shot", "p(medical)=0.10"))
    source = tmp_path / "cat.png"
    cv2.imwrite(str(source), np.zeros((64, 64, 3), dtype=np.uint8))
    report = run_file(source, tmp_path / "out", config)
    assert report.status == "rejected" and "non-medical" in report.reason
    assert not (tmp_path / "out").exists()


def test_dicom_run_never_imports_torch(tmp_path, tcia_dir):
    code = (
        "import sys, runpy; sys.argv = ['pipeline_run.py', %r, %r];\n"
        "try:\n    runpy.run_path('pipeline_run.py', run_name='__main__')\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'heavy import'\n"
    ) % (str(tcia_dir / "RGB_ORIGINAL.dcm"), str(tmp_path))
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            env={"ANONYMIZER_KEY": "k" * 32, "PATH": ""})
    assert result.returncode == 0, result.stderr


def test_help_documents_every_option():
    result = run_cli("--help")
    assert result.returncode == 0
    for option in ("--confidence", "--padding", "--margin", "--verbose", "--fill", "--scope", "--text-policy",
                   "--clip-model", "--skip-classification", "--key-file", "--ocr-engines", "--easyocr-models",
                   "--allow-unscanned"):
        assert option in result.stdout, option


def test_an_environment_clip_path_that_does_not_exist_means_no_clip(tmp_path, monkeypatch):
    """The slim Docker image keeps ANONYMIZER_CLIP_MODEL but has no model: rasters must
    still be processed (as without CLIP), not fail in 'classify'."""
    import cv2

    from anonymizer.config import PipelineConfig
    from anonymizer.pipeline import run_file
    from classifier.clip import clip_model_dir

    monkeypatch.setenv("ANONYMIZER_CLIP_MODEL", str(tmp_path / "missing"))
    assert clip_model_dir(None) is None
    assert clip_model_dir(tmp_path / "given") == tmp_path / "given"  # an explicit path is kept as given
    image = tmp_path / "plain.png"
    cv2.imwrite(str(image), np.full((64, 64), 90, np.uint8))
    report = run_file(image, tmp_path / "out", PipelineConfig(key=b"k" * 16, ocr_engines=("tesseract",)))
    assert report.status == "written", report.reason
