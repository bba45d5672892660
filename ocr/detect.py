"""Stage 5: read the text in every distinct frame with every engine, merge, classify."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import cv2
import numpy as np

from anonymizer.config import PipelineConfig
from anonymizer.errors import UnsafeToWrite
from anonymizer.job import Box, Job, TextRegion
from anonymizer.phi.classify import classify_region
from anonymizer.phi.ner import ner_model_dir
from ocr.engine import OcrBox, OcrEngine
from ocr.merge import merge_boxes
from ocr.plausibility import is_plausible_text
from ocr.registry import load_engines

def touches_border(box: Box, rows: int, cols: int, margin: int) -> bool:
    return (box.left < margin or box.top < margin
            or box.right > cols - margin or box.bottom > rows - margin)


def frames_to_scan(total: int, frames: str, stride: int) -> list[int]:
    """--frames all|first|N and --frame-stride: which frame indices OCR reads.

    Text found on a scanned frame is still redacted on every frame that shows it
    (redaction compares the box's content across all frames)."""
    if frames == "first":
        return [0]
    candidates = list(range(0, total, max(stride, 1)))
    if frames != "all":
        limit = max(int(frames), 1)
        if len(candidates) > limit:
            step = len(candidates) / limit
            candidates = [candidates[int(i * step)] for i in range(limit)]
    return candidates


def distinct_frames(job: Job, config: PipelineConfig) -> list[int]:
    """Frames to scan whose view differs from every earlier one: a still cine repeats itself."""
    seen: set[bytes] = set()
    frames = []
    for index in frames_to_scan(job.view.shape[0], config.frames, config.frame_stride):
        frame = job.view[index]
        digest = hashlib.blake2b(frame.tobytes(), digest_size=16).digest()
        if digest not in seen:
            seen.add(digest)
            frames.append(index)
    return frames


def ultrasound_regions(job: Job) -> list[Box]:
    """SequenceOfUltrasoundRegions: the image data areas; everything else is annotation."""
    ds = job.dataset
    if ds is None or "SequenceOfUltrasoundRegions" not in ds:
        return []
    regions = []
    for item in ds.SequenceOfUltrasoundRegions:
        try:
            x0, y0 = int(item.RegionLocationMinX0), int(item.RegionLocationMinY0)
            x1, y1 = int(item.RegionLocationMaxX1), int(item.RegionLocationMaxY1)
        except (AttributeError, TypeError, ValueError):
            continue
        regions.append(Box(x0, y0, x1 - x0 + 1, y1 - y0 + 1))
    return regions


def outside_regions(box: Box, regions: list[Box]) -> bool:
    """A box in no ultrasound region lies in the annotation area: always redacted if PHI."""
    return bool(regions) and all(box.intersection_area(region) == 0 for region in regions)


# Large images (full-detector CR/DX) are read at this long side: detection time grows
# with area, and burned-in text on such images is 20 px and up, still 15 px here.
MAX_OCR_SIDE = 1600
# Small images carry small fonts (8-12 px on a 512 px CT, or on a 256 px wide NM strip):
# both engines read them far better at twice the size.
UPSCALE_BELOW_SIDE = 800
UPSCALE_NARROW_SIDE = 512  # a narrow image is read at 2x while its long side stays <= 2200
MAX_UPSCALED_SIDE = 2200
# Text touching the image edge escapes PP-OCR's detector; a quiet frame around it helps.
EDGE_PAD_PX = 16


def ocr_scale(shape: tuple[int, ...]) -> float:
    longest, shortest = max(shape[:2]), min(shape[:2])
    if longest <= UPSCALE_BELOW_SIDE or (shortest <= UPSCALE_NARROW_SIDE and 2 * longest <= MAX_UPSCALED_SIDE):
        return 2.0
    if longest > MAX_OCR_SIDE:
        return MAX_OCR_SIDE / longest
    return 1.0


def read_frame(engines: tuple[OcrEngine, ...], image: np.ndarray, failed: set[str]) -> list[OcrBox]:
    scale = ocr_scale(image.shape)
    if scale != 1.0:
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation)
    background = int(np.median(image))
    image = cv2.copyMakeBorder(image, EDGE_PAD_PX, EDGE_PAD_PX, EDGE_PAD_PX, EDGE_PAD_PX,
                               cv2.BORDER_CONSTANT, value=(background,) * 3 if image.ndim == 3 else background)
    boxes: list[OcrBox] = []
    for engine in engines:
        if engine.name in failed:
            continue
        try:
            boxes.extend(engine.read(image))
        except Exception:  # noqa: BLE001 - one engine failing degrades to the others
            failed.add(engine.name)
    rows, cols = (int(round(n / scale)) for n in (image.shape[0] - 2 * EDGE_PAD_PX, image.shape[1] - 2 * EDGE_PAD_PX))
    return [replace(b, box=_to_frame(b.box, scale, rows, cols)) for b in boxes]


def _to_frame(box: Box, scale: float, rows: int, cols: int) -> Box:
    """From the padded, rescaled OCR image back to frame coordinates, clipped to the frame."""
    left = max(int(np.floor((box.left - EDGE_PAD_PX) / scale)), 0)
    top = max(int(np.floor((box.top - EDGE_PAD_PX) / scale)), 0)
    right = min(int(np.ceil((box.right - EDGE_PAD_PX) / scale)), cols)
    bottom = min(int(np.ceil((box.bottom - EDGE_PAD_PX) / scale)), rows)
    return Box(left, top, max(right - left, 1), max(bottom - top, 1))


def detect_text(job: Job, config: PipelineConfig) -> None:
    if job.view is None:
        job.report.stages.append("detect text: no pixels")
        return
    engines, notices = load_engines(config.ocr_engines, config.easyocr_model_dir, config.ocr_threads)
    job.report.warnings.extend(notices)
    if not engines:
        _unscanned(job, config, "no OCR engine could be loaded")
        return
    failed: set[str] = set()
    counts = {engine.name: 0 for engine in engines}
    rows, cols = job.view.shape[1:3]
    frames = distinct_frames(job, config)
    regions_of_interest = ultrasound_regions(job)
    for frame_index in frames:
        boxes = [b for b in read_frame(engines, job.view[frame_index], failed)
                 if b.confidence >= config.confidence and is_plausible_text(b.box, b.text, rows, b.confidence)]
        for b in boxes:
            counts[b.engine] += 1
        for merged in merge_boxes(boxes, config.iou_threshold):
            region = TextRegion(
                box=merged.box, text=merged.text, confidence=merged.confidence,
                engines=tuple(sorted(merged.engines)), frame=frame_index, readings=tuple(merged.readings),
                in_border=touches_border(merged.box, rows, cols, config.margin)
                or outside_regions(merged.box, regions_of_interest),
            )
            classify_region(region, job.phi_hints, config.text_policy, ner_model_dir(config.ner_model))
            job.regions.append(region)
    for name in sorted(failed):
        job.report.warnings.append(f"OCR engine {name} failed on this file; the other engines' results are used")
    if len(failed) == len(engines):
        _unscanned(job, config, "every OCR engine failed")
    job.report.regions_per_engine = counts
    job.report.regions_merged = len(job.regions)
    job.report.frames_scanned = len(frames)
    job.report.stages.append(
        f"detect text: {len(job.regions)} regions after merge on {len(frames)} distinct frame(s)"
    )


def _unscanned(job: Job, config: PipelineConfig, why: str) -> None:
    if not config.allow_unscanned_pixels:
        raise UnsafeToWrite(f"{why}; pixels not scanned for burned-in text (use --allow-unscanned to write anyway)")
    job.report.warnings.append(f"{why}; written unscanned because --allow-unscanned was given")
