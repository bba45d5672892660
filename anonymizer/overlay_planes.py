"""Overlay planes (60xx,3000) under the Clean Graphics option (PS3.15 E.3.3): kept, and
cleaned of identifying text.

Overlays are the annotation layer: a name or a date there is shown over the image by
every viewer. Without the option, stage 3 removes the 60xx groups. With it, each plane
is read by the OCR engines like a frame (set bits white on black), each text box gets
the same verdict as burned-in text, and a box with identifier evidence, or of unknown
words, has its bits cleared wherever it lies (an overlay has no clinical "centre"). The
group keeps only what shows the plane: descriptions and labels are free text and go.
A plane that cannot be read (no engine, a decoding error, --metadata-only) is removed,
never kept unread.

An overlay held in unused bits of native PixelData (the retired form, OverlayBitPosition
above HighBit, still written by older XA and US systems) is first lifted into a
(60xx,3000) plane of its own, the form PS3.5 keeps, and cleaned like any other: so
Clean Graphics keeps its clinical annotation too, while stage 7 clears the bits in
PixelData in every output as before.
"""

from __future__ import annotations

import numpy as np
from pydicom import Dataset
from pydicom.pixels import pack_bits

from anonymizer.config import PipelineConfig
from anonymizer.job import Job, TextRegion, Verdict
from anonymizer.metadata.profile import ProfileOption
from anonymizer.phi.classify import classify_region
from anonymizer.phi.ner import ner_model_dir
from anonymizer.pixels.decoding import frame_count
from anonymizer.pixels.unused_bits import native_samples
from ocr.merge import merge_boxes
from ocr.reading import read_frame
from ocr.registry import load_engines

OVERLAY_DATA = 0x3000
# What a viewer needs to show a plane (PS3.3 C.9.2); everything else of the group goes.
SHOWN_ELEMENTS = frozenset({0x0010, 0x0011, 0x0015, 0x0040, 0x0050, 0x0051, 0x0100, 0x0102, OVERLAY_DATA})
PADDING_PX = 2


def overlay_groups(ds: Dataset) -> list[int]:
    return sorted({tag >> 16 for tag in ds._dict if 0x6000 <= tag >> 16 <= 0x60FF and not tag >> 16 & 1})


def keeps_overlays(config: PipelineConfig) -> bool:
    return ProfileOption.CLEAN_GRAPHICS in config.strategy.options


def clean_overlay_planes(job: Job, config: PipelineConfig) -> None:
    """Stage 6's part for overlays; a no-op unless Clean Graphics kept some."""
    ds = job.dataset
    if ds is None or not keeps_overlays(config):
        return
    for group in overlay_groups(ds):
        if config.metadata_only:
            _remove(ds, group)
            job.report.stages.append(f"overlay {group:04X}: removed (--metadata-only does not read overlays)")
            continue
        embedded = (group << 16 | OVERLAY_DATA) not in ds._dict
        try:
            cleared = _clean_plane(ds, group, job, config)
        except Exception as exc:  # noqa: BLE001 - a plane that cannot be read is not kept unread
            _remove(ds, group)
            job.report.stages.append(f"overlay {group:04X}: removed, it could not be read ({type(exc).__name__})")
            continue
        if group in overlay_groups(ds):
            origin = " (lifted from PixelData's unused bits)" if embedded else ""
            job.report.stages.append(f"overlay {group:04X}{origin}: read, {cleared} text box(es) cleared")


def lift_embedded_plane(ds: Dataset, group: int) -> bool:
    """Copy an overlay kept in PixelData's unused bits into (60xx,3000), one bit per pixel
    and frame; False when the group describes no such overlay (or one that cannot be
    told apart from the image: a bit inside BitsStored, another size than the image's)."""
    native = native_samples(ds)
    try:
        position = int(ds[group << 16 | 0x0102].value)
        shape = (int(ds[group << 16 | 0x0010].value), int(ds[group << 16 | 0x0011].value))
    except (TypeError, ValueError, KeyError):
        return False
    if native is None or not native.high < position < native.allocated or shape != (int(ds.Rows), int(ds.Columns)) \
            or int(ds.get("SamplesPerPixel", 1) or 1) != 1:
        return False
    data = pack_bits((native.values >> position & 1).astype(np.uint8))
    ds.add_new(group << 16 | OVERLAY_DATA, "OW", data + b"\0" * (len(data) % 2))
    ds.add_new(group << 16 | 0x0100, "US", 1)
    ds.add_new(group << 16 | 0x0102, "US", 0)
    if frame_count(ds) > 1:
        ds.add_new(group << 16 | 0x0015, "IS", frame_count(ds))
    return True


def _clean_plane(ds: Dataset, group: int, job: Job, config: PipelineConfig) -> int:
    if (group << 16 | OVERLAY_DATA) not in ds._dict and not lift_embedded_plane(ds, group):
        _remove(ds, group)  # a group without a plane is description only
        return 0
    engines, _ = load_engines(config.ocr_engines, config.easyocr_model_dir, config.ocr_threads)
    if not engines:
        raise RuntimeError("no OCR engine")
    plane = np.asarray(ds.overlay_array(group), dtype=np.uint8)
    frames = plane if plane.ndim == 3 else plane[np.newaxis]
    cleared = 0
    failed: set[str] = set()
    for index, frame in enumerate(frames):
        image = np.where(frame > 0, 255, 0).astype(np.uint8)
        boxes = [b for b in read_frame(engines, image, failed) if b.confidence >= config.confidence]
        for merged in merge_boxes(boxes, config.iou_threshold):
            region = TextRegion(box=merged.box, text=merged.text, confidence=merged.confidence,
                                engines=tuple(sorted(merged.engines)), frame=index,
                                readings=tuple(merged.readings), in_border=True)
            classify_region(region, job.phi_hints, config.text_policy, ner_model_dir(config.ner_model))
            if region.verdict is Verdict.PHI:
                box = region.box.padded(PADDING_PX, *frame.shape)
                frame[box.top:box.bottom, box.left:box.right] = 0
                cleared += 1
    if failed and len(failed) == len(engines):
        raise RuntimeError("every OCR engine failed")
    data = pack_bits(frames.reshape(-1))
    ds.add_new(group << 16 | OVERLAY_DATA, "OW", data + b"\0" * (len(data) % 2))
    for tag in [t for t in ds._dict if t >> 16 == group and t & 0xFFFF not in SHOWN_ELEMENTS]:
        del ds[tag]
    return cleared


def _remove(ds: Dataset, group: int) -> None:
    for tag in [t for t in ds._dict if t >> 16 == group]:
        del ds[tag]
