"""Stage 5: read the text in every distinct frame with every engine, merge, classify."""

from __future__ import annotations

import hashlib

from anonymizer.config import PipelineConfig
from anonymizer.errors import UnsafeToWrite
from anonymizer.job import Box, Job, TextRegion
from anonymizer.phi.classify import classify_region
from ocr.engine import OcrBox, OcrEngine
from ocr.merge import merge_boxes
from ocr.plausibility import is_plausible_text
from ocr.registry import load_engines

def touches_border(box: Box, rows: int, cols: int, margin: int) -> bool:
    return (box.left < margin or box.top < margin
            or box.right > cols - margin or box.bottom > rows - margin)


def distinct_frames(job: Job) -> list[int]:
    """Frames whose view differs from every earlier one: a still cine repeats itself."""
    seen: set[bytes] = set()
    frames = []
    for index, frame in enumerate(job.view):
        digest = hashlib.blake2b(frame.tobytes(), digest_size=16).digest()
        if digest not in seen:
            seen.add(digest)
            frames.append(index)
    return frames


def read_frame(engines: tuple[OcrEngine, ...], image, failed: set[str]) -> list[OcrBox]:
    boxes: list[OcrBox] = []
    for engine in engines:
        if engine.name in failed:
            continue
        try:
            boxes.extend(engine.read(image))
        except Exception:  # noqa: BLE001 - one engine failing degrades to the others
            failed.add(engine.name)
    return boxes


def detect_text(job: Job, config: PipelineConfig) -> None:
    if job.view is None:
        job.report.stages.append("detect text: no pixels")
        return
    engines, notices = load_engines(config.ocr_engines, config.easyocr_model_dir)
    job.report.warnings.extend(notices)
    if not engines:
        _unscanned(job, config, "no OCR engine could be loaded")
        return
    failed: set[str] = set()
    counts = {engine.name: 0 for engine in engines}
    rows, cols = job.view.shape[1:3]
    frames = distinct_frames(job)
    for frame_index in frames:
        boxes = [b for b in read_frame(engines, job.view[frame_index], failed)
                 if b.confidence >= config.confidence and is_plausible_text(b.box, b.text, rows)]
        for b in boxes:
            counts[b.engine] += 1
        for merged in merge_boxes(boxes, config.iou_threshold):
            region = TextRegion(
                box=merged.box, text=merged.text, confidence=merged.confidence,
                engines=tuple(sorted(merged.engines)), frame=frame_index,
                in_border=touches_border(merged.box, rows, cols, config.margin),
            )
            classify_region(region, job.phi_hints, config.text_policy)
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
