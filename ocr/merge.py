"""Merge boxes from several engines: the same text seen twice becomes one region."""

from __future__ import annotations

from dataclasses import dataclass, field

from anonymizer.job import Box
from ocr.engine import OcrBox


@dataclass
class MergedBox:
    box: Box
    text: str
    confidence: float
    engines: set[str] = field(default_factory=set)


def merge_boxes(boxes: list[OcrBox], iou_threshold: float) -> list[MergedBox]:
    """Greedy, most confident first: a box joins the first region it overlaps at IoU >=
    threshold. The region keeps the union of the boxes (so redaction covers what any
    engine saw) and the text of its most confident reading."""
    merged: list[MergedBox] = []
    for candidate in sorted(boxes, key=lambda b: b.confidence, reverse=True):
        for region in merged:
            if region.box.iou(candidate.box) >= iou_threshold:
                region.box = region.box.union(candidate.box)
                region.engines.add(candidate.engine)
                break
        else:
            merged.append(MergedBox(candidate.box, candidate.text, candidate.confidence, {candidate.engine}))
    return merged
