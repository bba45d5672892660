"""Stage 5: read the text in every distinct frame with every engine, merge, classify."""

from __future__ import annotations

import hashlib

from anonymizer.border import outside_regions, touches_border, ultrasound_regions
from anonymizer.config import PipelineConfig
from anonymizer.errors import UnsafeToWrite
from anonymizer.job import Job, TextRegion, Verdict
from anonymizer.phi.classify import alnum_count, classify_region
from anonymizer.phi.ner import ner_model_dir
from anonymizer.text_ink import grey_view
from anonymizer.text_rules import Reason, decide
from ocr.blocks import (
    garbled_lines_of_identifier_blocks,
    unknown_lines_of_identifier_blocks,
    unread_lines_of_identifier_blocks,
)
from ocr.merge import merge_boxes
from ocr.plausibility import is_plausible_text
from ocr.reading import read_crop, read_frame
from ocr.registry import load_engines
from ocr.rotated import read_turned, vertical_lines


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
        found = read_frame(engines, job.view[frame_index], failed)
        boxes = [b for b in found
                 if b.confidence >= config.confidence and is_plausible_text(b.box, b.text, rows, b.confidence)]
        for line in vertical_lines(found):
            boxes.extend(read_turned(engines, job.view[frame_index], line, config.confidence))
        for b in boxes:
            counts[b.engine] += 1
        frame_regions, kept_by_reread = [], []
        for merged in merge_boxes(boxes, config.iou_threshold):
            region = TextRegion(
                box=merged.box, text=merged.text, confidence=merged.confidence,
                engines=tuple(sorted(merged.engines)), frame=frame_index, readings=tuple(merged.readings),
                parts=tuple((part.box, part.text) for part in merged.parts),
                upside_down=any(part.upside_down for part in merged.parts),
                in_border=touches_border(merged.box, rows, cols, config.margin)
                or outside_regions(merged.box, regions_of_interest),
            )
            classify_region(region, job.phi_hints, config.text_policy, ner_model_dir(config.ner_model))
            if region.reason is Reason.UNRECOGNISED:
                reread(region, engines, job, config)
                if region.verdict is Verdict.SAFE:
                    kept_by_reread.append(region)
            frame_regions.append(region)
        grey = grey_view(job.view[frame_index])
        frame_regions.extend(unread_lines_of_identifier_blocks(grey, frame_regions, frame_index))
        garbled_lines_of_identifier_blocks(grey, frame_regions, kept_by_reread)
        unknown_lines_of_identifier_blocks(grey, frame_regions)
        job.regions.extend(frame_regions)
    for name in sorted(failed):
        job.report.warnings.append(f"OCR engine {name} failed on this file; the other engines' results are used")
    if len(failed) == len(engines):
        _unscanned(job, config, "every OCR engine failed")
    else:
        job.pixels_scanned = True
    job.report.regions_per_engine = counts
    job.report.regions_merged = len(job.regions)
    job.report.frames_scanned = len(frames)
    job.report.stages.append(
        f"detect text: {len(job.regions)} regions after merge on {len(frames)} distinct frame(s)"
    )


# Words no list knows are most often small clinical words misread ("SUPINE" as "NEEE").
# Such a box is read again, enlarged, as it is and with thinner strokes (bold small fonts
# close their letters), Tesseract reading it as one line; if a reading is wholly known
# vocabulary and no reading carries evidence, the box is clinical text. Names stay
# unknown either way.
REREAD_SCALE_SMALL, REREAD_SCALE, SMALL_TEXT_PX = 3.0, 1.5, 40


def reread(region: TextRegion, engines, job: Job, config: PipelineConfig) -> None:
    scale = REREAD_SCALE_SMALL if region.box.height < SMALL_TEXT_PX else REREAD_SCALE
    try:
        extra = [box for thin in (False, True)
                 for box in read_crop(engines, job.view[region.frame], region.box, scale, thin=thin, as_label=True)]
    except Exception:  # noqa: BLE001 - no second reading: the first verdict (PHI) stands
        return
    legible = [b for b in extra if b.confidence >= config.confidence and b.text.strip()]
    if unconfirmed(region, legible):
        decide(region, Verdict.SAFE, Reason.NOT_TEXT)
    elif legible:
        region.readings = region.readings + tuple(b.text for b in legible)
        classify_region(region, job.phi_hints, config.text_policy, ner_model_dir(config.ner_model))


# One engine's reading of three characters or fewer, of which no more than a single
# character is read again enlarged (as it is, thinned, or as a one-line label), is a
# shape in the anatomy, not text ("Vil" on a J2K knee, where Tesseract's line mode
# reads a "v"); three characters could not identify anyone even if they were.
MAX_UNCONFIRMED_CHARACTERS = 3
MIN_CONFIRMING_CHARACTERS = 2


def unconfirmed(region: TextRegion, rereadings) -> bool:
    if len(region.engines) > 1 or any(alnum_count(b.text) >= MIN_CONFIRMING_CHARACTERS for b in rereadings):
        return False
    readings = region.readings or (region.text,)
    return all(alnum_count(text) <= MAX_UNCONFIRMED_CHARACTERS for text in readings)


def _unscanned(job: Job, config: PipelineConfig, why: str) -> None:
    if not config.allow_unscanned_pixels:
        raise UnsafeToWrite(f"{why}; pixels not scanned for burned-in text (use --allow-unscanned to write anyway)")
    job.report.warnings.append(f"{why}; written unscanned because --allow-unscanned was given")
