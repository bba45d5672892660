"""After redaction, read each redacted line again; whatever is still legible gets a solid fill.

What is read is the whole line that held the value: the painted area and the OCR's box
of the text together (from the value on, where a leading label was kept). A painted
area can stop short of the line (its ink measured over changing ground, a glyph's
tail below the box), and what it left is part of the identifier. The check runs on a
fresh rendering of the redacted stored values (not on the view that was redacted from),
with small text upscaled, by every OCR engine.
"""

from __future__ import annotations

import re

import numpy as np

from anonymizer.config import PipelineConfig
from anonymizer.job import Box, FileKind, Job
from anonymizer.labels import reads_as_label_alone
from anonymizer.pixels.fill import black_value
from anonymizer.pixels.rendering import render_dicom_view, render_raster_view
from anonymizer.text_policy import text_policy
from ocr.reading import CROP_CONTEXT_PX, read_crop
from ocr.registry import load_engines

_ALNUM = re.compile(r"[A-Za-z0-9]")
UPSCALE_BELOW_PX = 32  # boxes lower than this are read at 3x
# A reading less sure than the text policy's verification.legible_confidence is the
# engine guessing at background texture, not text.
# A box whose rendering spans this few 8-bit levels shows nothing: what stage 6 leaves
# behind when its mask missed ink is a stroke at the text's own contrast (tens of
# levels). The engines stretch a crop's contrast before reading, and then read letters
# into the one-level dither of a fill over a noisy background (a letter at 0.49 in a box
# spanning two levels, on lossy-compressed frames), and refill it black over the label
# beside it.
FLAT_SPREAD_LEVELS = 4


def render_frame(job: Job, frame: int) -> np.ndarray:
    pixels = job.pixels[frame:frame + 1]
    if job.kind is FileKind.DICOM:
        return render_dicom_view(job.dataset, pixels)[0]
    return render_raster_view(pixels)[0]


def legible_text(engines, image: np.ndarray, box: Box) -> bool:
    local, inner = _box_alone(image, box)
    if _spread(local[inner.top:inner.bottom, inner.left:inner.right]) <= FLAT_SPREAD_LEVELS:
        return False
    try:
        found = read_crop(engines, local, inner, 3.0 if box.height < UPSCALE_BELOW_PX else 1.0)
    except Exception:  # noqa: BLE001 - a failed re-read counts as legible: fail closed
        return True
    least = text_policy().legible_confidence
    return any(_ALNUM.search(f.text) and f.confidence >= least for f in found)


def _spread(patch: np.ndarray) -> int:
    """The largest range of values any channel takes in the patch (0 for an empty one)."""
    if patch.size == 0:
        return 0
    channels = patch.reshape(-1, patch.shape[-1]) if patch.ndim == 3 else patch.reshape(-1, 1)
    return int((channels.max(axis=0).astype(np.int32) - channels.min(axis=0)).max())


def _box_alone(image: np.ndarray, box: Box) -> tuple[np.ndarray, Box]:
    """The box with the context read_crop adds around it, that context painted in the
    box's median: only what the box holds is read. Text kept next to it (the "DOB:"
    before a painted date) would read as legible, and a solid refill of the box would
    change nothing about text outside it anyway."""
    rows, cols = image.shape[:2]
    top, left = max(box.top - CROP_CONTEXT_PX, 0), max(box.left - CROP_CONTEXT_PX, 0)
    bottom, right = min(box.bottom + CROP_CONTEXT_PX, rows), min(box.right + CROP_CONTEXT_PX, cols)
    local = image[top:bottom, left:right].copy()
    inner = Box(box.left - left, box.top - top, box.width, box.height)
    inside = np.zeros(local.shape[:2], dtype=bool)
    inside[inner.top:inner.bottom, inner.left:inner.right] = True
    if inside.any() and not inside.all():
        local[~inside] = np.median(local[inside], axis=0).astype(local.dtype)
    return local, inner


def verify_redactions(job: Job, config: PipelineConfig) -> tuple[int, int]:
    """(boxes verified, boxes refilled solid)."""
    engines, _ = load_engines(config.ocr_engines, config.easyocr_model_dir, config.ocr_threads)
    redacted = [r for r in job.regions if r.redacted]
    if not engines or not redacted:
        return 0, 0
    views: dict[int, np.ndarray] = {}
    refilled = 0
    black = black_value(job.pixels, job.dataset)
    for region in redacted:
        painted = region.redacted_box
        if region.frame not in views:
            views[region.frame] = render_frame(job, region.frame)
        if region.label_kept and not kept_label_reads_as_label(engines, views[region.frame], region, job):
            region.label_kept = False  # the cut fell inside the value: the whole line goes
        box = whole_line(region)
        if not legible_text(engines, views[region.frame], box):
            continue
        # Every frame stage 6 painted this value on; the line is refilled there and joins
        # the mask (what is written back is what the mask covers).
        frames = np.flatnonzero(job.redaction_mask[:, painted.top:painted.bottom, painted.left:painted.right]
                                .any(axis=(1, 2)))
        for index in frames:
            target = job.pixels[index, box.top:box.bottom, box.left:box.right]
            if job.kind is FileKind.RASTER and target.ndim == 3:
                target[..., :3] = 0
            else:
                target[...] = black
            job.redaction_mask[index, box.top:box.bottom, box.left:box.right] = True
        region.redacted_box = box
        views.pop(region.frame, None)
        refilled += 1
    return len(redacted), refilled


def kept_label_reads_as_label(engines, image: np.ndarray, region, job: Job) -> bool:
    """Whether what stage 6 left before the painted value reads as an identifier label
    and nothing else ("DOB:", not "DOB: 03/"): where a font's spacing misled the cut, the
    rest of the line is part of the value. Unreadable counts as not a label."""
    painted, text = region.redacted_box, region.box
    kept = Box(text.left, text.top, painted.left - text.left, text.height)
    if kept.width <= 0:
        return True
    local, inner = _box_alone(image, kept)
    try:
        found = read_crop(engines, local, inner, 3.0 if kept.height < UPSCALE_BELOW_PX else 1.0)
    except Exception:  # noqa: BLE001 - no reading: fail closed, paint the label too
        return False
    least = text_policy().legible_confidence
    readings = [f.text for f in found if _ALNUM.search(f.text) and f.confidence >= least]
    return bool(readings) and all(reads_as_label_alone(reading, job.phi_hints) for reading in readings)


def whole_line(region) -> Box:
    """The painted area and the text's own box together; from the painted area's left
    edge on where a leading label was kept (the label stays legible on purpose)."""
    painted, text = region.redacted_box, region.box
    left = painted.left if region.label_kept else min(painted.left, text.left)
    top, bottom = min(painted.top, text.top), max(painted.bottom, text.bottom)
    right = max(painted.right, text.right)
    return Box(left, top, right - left, bottom - top)
