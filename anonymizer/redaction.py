"""Stage 6: paint over PHI text in the stored pixel values, in every frame that shows it.

Scope (--scope evidence, the default): PHI boxes that touch the margin band, and PHI
boxes on evidence (a header value, a date, an ID, a label with its value) wherever they
lie, are changed. Central text of unknown words goes to the review list: the centre is
anatomy, and OCR reads texture there as words no list knows.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from anonymizer.config import PipelineConfig
from anonymizer.job import Box, FileKind, Job, TextRegion, Verdict
from anonymizer.labels import value_start
from anonymizer.overlay_planes import clean_overlay_planes
from anonymizer.pixel_rules import known_areas
from anonymizer.pixels.fill import black_value, inpaint_frame, value_range
from anonymizer.text_ink import blank_columns_at_ends, grey_view, ink_extent, ink_off_the_line, text_ink_columns
from anonymizer.text_policy import text_policy
from anonymizer.text_rules import Reason, decide
from anonymizer.verification import verify_redactions

# A frame "shows" a region found on another frame when the 8-bit view of the box differs
# by at most this mean absolute value: the same overlay over slowly changing anatomy.
SAME_CONTENT_TOLERANCE = 2.0
MAX_INPAINT_BITS = 24


def frames_showing(job: Job, region: TextRegion, box) -> list[int]:
    view = job.view
    patch = view[region.frame, box.top:box.bottom, box.left:box.right].astype(np.int16)
    frames = []
    for index in range(view.shape[0]):
        other = view[index, box.top:box.bottom, box.left:box.right].astype(np.int16)
        if index == region.frame or np.abs(other - patch).mean() <= SAME_CONTENT_TOLERANCE:
            frames.append(index)
    return frames


def should_redact(region: TextRegion, config: PipelineConfig) -> bool:
    """--scope evidence (default): PHI in the border band, and PHI on evidence (a header
    value, a date, an ID, a label) wherever it lies; only central text of unknown words
    is left for review. border: the border band only. everywhere: all PHI."""
    if region.verdict is not Verdict.PHI:
        return False
    if region.in_border or config.scope == "everywhere":
        return True
    return config.scope == "evidence" and region.reason is not None and region.reason.evidence


# OCR boxes can stop short of a line's first or last characters (a missed "MR" before an
# ID, a surname the detector skipped, a given name after a surname read alone: nine
# letters are about five text heights). A PHI box grows along its line over ink that
# continues it, by at most the text policy's painting.max_growth_heights on each side.


def grow_along_line(view: np.ndarray, box: Box, leftwards: bool = True, ink_of: Box | None = None,
                    kept: tuple[Box, ...] = ()) -> Box:
    """``ink_of``: the box whose letters show what the line's ink is like (default: box).
    ``kept``: text kept on the frame (clinical lines, labels): growth stops at it."""
    grey = grey_view(view)
    band = grey[box.top:box.bottom].astype(np.int16)
    if band.size == 0:
        return box
    inked = text_ink_columns(band, ink_of or box) & ~ink_off_the_line(grey, box)
    walls = np.zeros(grey.shape[1], dtype=bool)
    for other in kept:
        if min(other.bottom, box.bottom) - max(other.top, box.top) >= min(other.height, box.height) / 2:
            walls[max(other.left, 0):max(other.right, 0)] = True
    limit = int(text_policy().max_growth_heights * box.height)
    gap_allowed = max(box.height // 2, 3)
    left, right = box.left, box.right
    # The gap is counted from the box's first and last ink, not from its edges: OCR
    # boxes run a few columns past their letters, and those columns are part of the gap.
    blank_at_left, blank_at_right = blank_columns_at_ends(grey, box)
    for direction in (-1, 1) if leftwards else (1,):
        x = (box.left - 1) if direction < 0 else box.right
        gap, travelled = (blank_at_left if direction < 0 else blank_at_right), 0
        while 0 <= x < grey.shape[1] and gap <= gap_allowed and travelled <= limit and not walls[x]:
            if inked[x]:
                gap = 0
                if direction < 0:
                    left = x
                else:
                    right = x + 1
            else:
                gap += 1
            x += direction
            travelled += 1
    return Box(left, box.top, right - left, box.height)


def _painted_box(view: np.ndarray, region: TextRegion, start: int | None, kept: tuple[Box, ...] = ()) -> Box | None:
    """The region grown along its line (not into kept text), from ``start`` on when a
    label leads it ("DOB:" is kept). None for a label alone with no ink after it to
    paint (its value has a box of its own, or there is none)."""
    if start is None:
        return grow_along_line(view, region.box, kept=kept)
    value = Box(start, region.box.top, region.box.right - start, region.box.height)
    grown = grow_along_line(view, value, leftwards=False, ink_of=region.box, kept=kept)
    return grown if grown.width > 0 else None


# Text kept on purpose stops a PHI box's growth: what growth is for is ink the OCR
# missed, and this ink it read and judged. Not single characters or shapes judged not
# text: a surname's first letter boxed alone ("K" of KOWALSKI) must still be covered.
KEPT_TEXT_REASONS = (Reason.CLINICAL_VOCABULARY,)


def build_mask(job: Job, config: PipelineConfig) -> np.ndarray:
    frames, rows, cols = job.pixels.shape[:3]
    mask = np.zeros((frames, rows, cols), dtype=bool)
    to_paint = [region for region in job.regions if should_redact(region, config)]
    starts = {id(region): None if region.vertical else value_start(job.view[region.frame], region, job.phi_hints)
              for region in to_paint}
    kept_by_frame: dict[int, list[Box]] = {}
    for region in job.regions:
        if region.verdict is Verdict.SAFE and region.reason in KEPT_TEXT_REASONS:
            kept_by_frame.setdefault(region.frame, []).append(region.box)
    for region in to_paint:
        start = starts[id(region)]
        if start is not None:  # the label before the value (or the whole box: a label alone)
            label = Box(region.box.left, region.box.top, start - region.box.left, region.box.height)
            kept_by_frame.setdefault(region.frame, []).append(label)
    greys: dict[int, np.ndarray] = {}

    def area_to_paint(region: TextRegion, start: int | None) -> Box | None:
        kept = tuple(kept_by_frame.get(region.frame, ()))
        if region.vertical:
            return _vertical_area(job.view[region.frame], region.box, kept, config.padding)
        painted = _painted_box(job.view[region.frame], region, start, kept)
        if painted is None:
            return None
        if region.frame not in greys:
            greys[region.frame] = grey_view(job.view[region.frame])
        ink = ink_extent(greys[region.frame], painted)
        return _clear_of(kept, ink, ink.padded(config.padding, rows, cols))

    for region in to_paint:
        box = area_to_paint(region, starts[id(region)])
        if box is None:
            decide(region, Verdict.SAFE, Reason.LABEL_ALONE)
            continue
        for index in frames_showing(job, region, box):
            mask[index, box.top:box.bottom, box.left:box.right] = True
        region.redacted_box, region.label_kept = box, starts[id(region)] is not None
    # Text left for a person: what a "redact" decision will paint, measured as stage 6
    # would have painted it, on the frames that show it.
    for region in job.regions:
        if region.verdict is Verdict.PHI and not region.redacted:
            box = area_to_paint(region, None) or region.box.padded(config.padding, rows, cols)
            region.review_box, region.review_frames = box, tuple(frames_showing(job, region, box))
    return mask


def _transposed(box: Box) -> Box:
    return Box(box.top, box.left, box.height, box.width)


def _vertical_area(view: np.ndarray, box: Box, kept: tuple[Box, ...], padding: int) -> Box:
    """A line written up or down an edge is a horizontal line of the frame turned a
    quarter: it grows along its length over ink that continues it, and its padding stops
    at kept text, as a horizontal line's do. Its label is not kept."""
    turned = np.swapaxes(view, 0, 1)
    kept_turned = tuple(_transposed(other) for other in kept)
    grown = grow_along_line(turned, _transposed(box), kept=kept_turned)
    rows, cols = turned.shape[:2]
    # Trimmed to the ink across the line only: along a long vertical line over changing
    # anatomy, the ink's extent cut whole words off; the grown box spans the line.
    across = ink_extent(grey_view(turned), grown)
    line = Box(grown.left, across.top, grown.width, across.height)
    return _transposed(_clear_of(kept_turned, line, line.padded(padding, rows, cols)))


# Past the strong ink's extent and its pixel of margin: an outline's rim, painted even
# where kept text is nearer (ultrasound lines can have 2 px between them).
RIM_PX = 1


def _clear_of(kept: tuple[Box, ...], ink: Box, padded: Box) -> Box:
    """The padded box, its padding stopped at kept text beside the ink: on pydicom's
    ultrasound, lines 8 px apart leave 2 px between them, and a 5 px padding painted the
    top of the clinical line below ("MSCSKEL"); elsewhere it painted the colon of a kept
    "DOB:". The ink, its margin and RIM_PX are painted whatever is kept next to them."""
    left, top, right, bottom = padded.left, padded.top, padded.right, padded.bottom
    for other in kept:
        if not other.intersection_area(padded):
            continue  # not in the padding
        if other.bottom <= ink.top:
            top = max(top, min(other.bottom, ink.top - RIM_PX))
        elif other.top >= ink.bottom:
            bottom = min(bottom, max(other.top, ink.bottom + RIM_PX))
        elif other.right <= ink.left:
            left = max(left, min(other.right, ink.left - RIM_PX))
        elif other.left >= ink.right:
            right = min(right, max(other.left, ink.right + RIM_PX))
    return Box(left, top, right - left, bottom - top)


def _uses_solid_fill(job: Job, config: PipelineConfig) -> bool:
    if config.fill == "solid":
        return True
    ds = job.dataset
    if ds is None:
        return False
    # Palette indices and single bits have no neighbourhood to interpolate, and OpenCV
    # inpaints in float32, which holds integers exactly only up to 24 bits.
    return (ds.get("PhotometricInterpretation") == "PALETTE COLOR" or int(ds.BitsAllocated) == 1
            or int(ds.get("BitsStored", ds.BitsAllocated)) > MAX_INPAINT_BITS)


def apply_mask(job: Job, mask: np.ndarray, config: PipelineConfig) -> None:
    pixels = job.pixels
    low, high = value_range(pixels, job.dataset)
    solid = _uses_solid_fill(job, config)
    black = black_value(pixels, job.dataset)
    colour_channels = 3 if job.kind is FileKind.RASTER and pixels.ndim == 4 else None
    for index in np.flatnonzero(mask.any(axis=(1, 2))):
        frame_mask = mask[index]
        frame = pixels[index]
        if solid:
            filled = frame.copy()
            if colour_channels:
                filled[frame_mask, :colour_channels] = 0  # keep alpha as it was
            else:
                filled[frame_mask] = black
        else:
            target = frame[..., :colour_channels] if colour_channels else frame
            painted = inpaint_frame(np.ascontiguousarray(target), frame_mask, config.inpaint_radius, low, high,
                                    job.view[index])
            filled = frame.copy()
            if colour_channels:
                filled[..., :colour_channels][frame_mask] = painted[frame_mask]
            else:
                filled[frame_mask] = painted[frame_mask]
        pixels[index][frame_mask] = filled[frame_mask]


def redact(job: Job, config: PipelineConfig) -> None:
    clean_overlay_planes(job, config)
    if job.pixels is None:
        job.report.stages.append("redact: no pixels")
        return
    mask = build_mask(job, config)
    areas = known_areas(job.dataset, mask.shape[1], mask.shape[2], config.pixel_rules)
    for _, box in areas:
        mask[:, box.top:box.bottom, box.left:box.right] = True
    if areas:
        names = ", ".join(sorted({name for name, _ in areas}))
        job.report.stages.append(f"redact: {len(areas)} known annotation area(s) ({names})")
    if mask.any():
        apply_mask(job, mask, config)
    job.redaction_mask = mask
    job.pixels_changed = bool(mask.any())
    verified, refilled = verify_redactions(job, config) if job.pixels_changed else (0, 0)
    job.report.regions_verified = verified
    job.report.regions_refilled = refilled
    redacted = sum(r.redacted for r in job.regions)
    held = [r for r in job.regions if r.verdict is Verdict.PHI and not r.redacted]
    review = len(held)
    job.report.regions_redacted = redacted
    job.report.regions_review = review
    job.report.review_boxes = [review_box_record(number, region) for number, region in enumerate(held, 1)]
    job.report.pixels_changed = job.pixels_changed
    decided = Counter(region.reason.rule for region in job.regions if region.reason is not None)
    job.report.stages.append("rules: " + ", ".join(f"{rule} {count}" for rule, count in sorted(decided.items())))
    fill = "solid" if _uses_solid_fill(job, config) else "TELEA inpainting"
    job.report.stages.append(f"redact: {redacted} region(s) by {fill}, {review} central left for review; "
                             f"{verified} verified by re-reading, {refilled} refilled solid")


def review_box_record(number: int, region: TextRegion) -> dict:
    """A box left for a person, as the report and the hold area list it: where, on which
    frames, and why; never the text read."""
    box = region.review_box or region.box
    return {"number": number, "frame": region.frame, "frames": list(region.review_frames or (region.frame,)),
            "left": box.left, "top": box.top, "width": box.width, "height": box.height,
            "reason": region.reason.value if region.reason else "", "rule": region.reason.rule if region.reason else ""}
