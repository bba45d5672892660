"""Text written along an edge, at 90 or 270 degrees or upside down, is found and painted."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from anonymizer.config import PipelineConfig
from anonymizer.pipeline import run_file
from conftest import TEST_KEY
from ocr.reading import read_frame
from ocr.registry import load_engines


def image_with_turned_name(quarter_turns: int) -> tuple[np.ndarray, tuple[slice, slice]]:
    image = np.full((600, 600), 40, np.uint8)
    cv2.circle(image, (300, 300), 200, 110, -1)  # anatomy
    line = np.zeros((40, 420), np.uint8)
    cv2.putText(line, "SMITHSON JOHN 1951", (5, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 255, 2)
    turned = np.rot90(line, quarter_turns)
    rows, cols = turned.shape
    where = (slice(20, 20 + rows), slice(10, 10 + cols))  # along the left edge
    image[where] = np.maximum(image[where], turned)
    return image, where


def readings_in_any_orientation(image: np.ndarray) -> list[str]:
    engines, _ = load_engines(("rapidocr", "tesseract"))
    return [b.text for k in range(4)
            for b in read_frame(engines, cv2.cvtColor(np.ascontiguousarray(np.rot90(image, k)), cv2.COLOR_GRAY2BGR), set())
            if sum(c.isalnum() for c in b.text) >= 3]


@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_a_turned_name_is_found_and_painted(tmp_path, quarter_turns):
    image, where = image_with_turned_name(quarter_turns)
    assert readings_in_any_orientation(image), "the name is legible in the input"
    cv2.imwrite(str(tmp_path / "turned.png"), image)
    report = run_file(tmp_path / "turned.png", tmp_path / "out", PipelineConfig(key=TEST_KEY, skip_classification=True))
    assert report.status == "written" and report.regions_redacted >= 1, report
    written = cv2.imread(report.output_path, cv2.IMREAD_UNCHANGED)
    assert readings_in_any_orientation(written) == [], "nothing of the name is legible any way round"
    outside = np.ones(image.shape, bool)
    outside[where[0].start - 10:where[0].stop + 10, :where[1].stop + 20] = False
    assert np.array_equal(written[outside], image[outside]), "the anatomy is untouched"
