"""Fixtures: pydicom's bundled corpus, the shared TCIA files, and OCR helpers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_KEY = b"medical-anonymizer test key, not secret"


def shared_dir() -> Path:
    """../shared beside the checkout (as CI lays it out), or $ANONYMIZER_SHARED."""
    path = Path(os.environ.get("ANONYMIZER_SHARED", REPO.parent / "shared"))
    if not (path / "data" / "tcia-pseudo-phi").is_dir():
        pytest.fail(f"shared data not found at {path}; set ANONYMIZER_SHARED")
    return path


@pytest.fixture(scope="session")
def tcia_dir() -> Path:
    return shared_dir() / "data" / "tcia-pseudo-phi"


@pytest.fixture(scope="session")
def ground_truth(tcia_dir) -> dict:
    return json.loads((tcia_dir / "ground_truth.json").read_text())


@pytest.fixture
def config():
    from anonymizer.config import PipelineConfig

    return PipelineConfig(key=TEST_KEY, ocr_engines=("rapidocr", "tesseract"))


def run_cli(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "ANONYMIZER_KEY": TEST_KEY.decode(), **(env or {})}
    return subprocess.run(
        [sys.executable, str(REPO / "pipeline_run.py"), *args],
        capture_output=True, text=True, env=full_env, timeout=timeout, cwd=REPO,
    )


# Around a box, the verifier reads this much of its surroundings as they are; beyond, up to
# its padding, they are painted in the crop's median: text kept on purpose a few pixels
# away (the "DOB:" under a painted name, 4 px below it on the TCIA CT) is not the box's.
OWN_MARGIN_PX = 2


def read_text_in_box(image: np.ndarray, left: int, top: int, width: int, height: int, pad: int = 6) -> str:
    """Everything either engine can read in a box and OWN_MARGIN_PX around it (with quiet
    context up to ``pad``, upscaled 3x): the verifier."""
    import cv2

    from ocr.registry import load_engines

    rows, cols = image.shape[:2]
    y0, x0 = max(top - pad, 0), max(left - pad, 0)
    crop = image[y0:min(top + height + pad, rows), x0:min(left + width + pad, cols)].copy()
    own = np.zeros(crop.shape[:2], dtype=bool)
    own[max(top - OWN_MARGIN_PX - y0, 0):top + height + OWN_MARGIN_PX - y0,
        max(left - OWN_MARGIN_PX - x0, 0):left + width + OWN_MARGIN_PX - x0] = True
    crop[~own] = np.median(crop.reshape(-1, *crop.shape[2:]), axis=0).astype(crop.dtype)
    crop = cv2.resize(crop, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    crop = cv2.copyMakeBorder(crop, 20, 20, 20, 20, cv2.BORDER_REPLICATE)
    engines, _ = load_engines(("rapidocr", "tesseract"), None)
    return " ".join(box.text for engine in engines for box in engine.read(crop))


def central_text_dicom(folder: Path, text: str) -> Path:
    """folder/central.dcm: pydicom's 484x300 MR with ``text`` burned into its middle, far
    from every edge, in the stored values."""
    import cv2
    import pydicom
    from pydicom.data import get_testdata_file

    source = pydicom.dcmread(get_testdata_file("examples_overlay.dcm", download=False))
    pixels = source.pixel_array.copy()
    canvas = np.zeros(pixels.shape, np.uint8)
    cv2.putText(canvas, text, (150, 160), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 255, 2)
    pixels[canvas > 0] = pixels.max()
    source.PixelData = pixels.astype(source.pixel_array.dtype).tobytes()
    folder.mkdir(parents=True, exist_ok=True)
    source.save_as(folder / "central.dcm")
    return folder / "central.dcm"
