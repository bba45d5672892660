"""The record that flows through the seven stages (see DESIGN.md, "The job")."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pydicom import Dataset

    from anonymizer.leak_check import SealedValue
    from anonymizer.text_rules import Reason


class FileKind(str, Enum):
    DICOM = "dicom"
    RASTER = "raster"


class Verdict(str, Enum):
    PHI = "phi"
    SAFE = "safe"
    REVIEW = "review"


@dataclass(frozen=True)
class Box:
    """Axis-aligned rectangle in pixel coordinates of one frame (left, top inclusive)."""

    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    @property
    def area(self) -> int:
        return max(self.width, 0) * max(self.height, 0)

    def padded(self, padding: int, rows: int, cols: int) -> Box:
        left = max(self.left - padding, 0)
        top = max(self.top - padding, 0)
        right = min(self.right + padding, cols)
        bottom = min(self.bottom + padding, rows)
        return Box(left, top, right - left, bottom - top)

    def union(self, other: Box) -> Box:
        left, top = min(self.left, other.left), min(self.top, other.top)
        right, bottom = max(self.right, other.right), max(self.bottom, other.bottom)
        return Box(left, top, right - left, bottom - top)

    def intersection_area(self, other: Box) -> int:
        w = min(self.right, other.right) - max(self.left, other.left)
        h = min(self.bottom, other.bottom) - max(self.top, other.top)
        return max(w, 0) * max(h, 0)

    def iou(self, other: Box) -> float:
        inter = self.intersection_area(other)
        union = self.area + other.area - inter
        return inter / union if union else 0.0


@dataclass
class TextRegion:
    """One piece of text found in the pixels. ``text`` is PHI-bearing: never report it."""

    box: Box
    text: str
    confidence: float
    engines: tuple[str, ...]
    frame: int
    verdict: Verdict = Verdict.REVIEW
    reason: Reason | None = None
    # Each decision on the region in turn: (rule, verdict, reason), from text_rules.decide.
    trace: list[tuple[str, Verdict, Reason]] = field(default_factory=list)
    in_border: bool = False
    redacted_box: Box | None = None  # the area stage 6 painted (grown along the line, padded)
    readings: tuple[str, ...] = ()  # every engine's reading of the box (PHI-bearing too)
    parts: tuple[tuple[Box, str], ...] = ()  # each engine box merged in, with its reading (PHI-bearing)
    upside_down: bool = False  # an engine read it turned half a turn: it runs right to left here
    label_kept: bool = False  # stage 6 painted from the value on, keeping a leading label
    # Text left for a person: the area a "redact" decision paints, and the frames showing it.
    review_box: Box | None = None
    review_frames: tuple[int, ...] = ()

    @property
    def redacted(self) -> bool:
        return self.redacted_box is not None

    @property
    def vertical(self) -> bool:
        """Written up or down an edge: its box at least twice as tall as wide."""
        return self.box.height >= 2 * self.box.width


@dataclass
class PhiHints:
    """Identifying values copied from the header before scrubbing; memory only, never saved."""

    names: set[str] = field(default_factory=set)
    identifiers: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)
    institutions: set[str] = field(default_factory=set)

    def all_values(self) -> set[str]:
        return self.names | self.identifiers | self.dates | self.institutions


class Failure(str, Enum):
    """Why a failed file failed: its own fault, or the tool's (they exit differently)."""

    INPUT = "input"  # unreadable, corrupt, too large, or unsafe to write as it is
    OUTPUT = "output"  # the output could not be written (a full or read-only disk)
    INTERNAL = "internal"  # a defect of this tool


@dataclass
class FileReport:
    """Per-stage facts for the summary box and JSON report. Holds no PHI values."""

    source_name: str
    status: str = "pending"  # written | held | rejected | skipped | failed
    reason: str = ""
    failure: Failure | None = None  # set when status is "failed"
    classification: str = ""
    anatomy: str = ""
    file_format: str = ""
    attributes_cleaned: int = 0
    regions_per_engine: dict[str, int] = field(default_factory=dict)
    regions_merged: int = 0
    regions_redacted: int = 0
    regions_review: int = 0
    # Each box left for a person: number, frame, left, top, width, height, reason (no text read).
    review_boxes: list[dict] = field(default_factory=list)
    regions_verified: int = 0
    regions_refilled: int = 0
    frames_scanned: int = 0
    frames_total: int = 0
    pixels_changed: bool = False
    output_path: str = ""
    warnings: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)


@dataclass
class Job:
    source: Path
    kind: FileKind
    report: FileReport
    dataset: Dataset | None = None
    pixels: np.ndarray | None = None
    view: np.ndarray | None = None
    phi_hints: PhiHints = field(default_factory=PhiHints)
    # The same, but for the fields Retain Device Identity keeps: what those are checked against.
    hints_beside_device_fields: PhiHints = field(default_factory=PhiHints)
    # The input's identifying values as stored, for the output's byte search (leak_check);
    # captured on opening, narrowed by stage 3 to the ones the strategy does not keep.
    sealed_values: list[SealedValue] = field(default_factory=list)
    regions: list[TextRegion] = field(default_factory=list)
    redaction_mask: np.ndarray | None = None  # (frames, rows, cols): pixels stage 6 changed
    pixels_changed: bool = False
    pixels_scanned: bool = False  # stage 5 read every distinct frame with a working engine
    burned_in_annotation: str = ""  # the input's BurnedInAnnotation, before stage 3
    output_path: Path | None = None
    output_root: Path | None = None  # OUTPUT_DIR, for layouts that place files by identifier
    input_name: str = ""  # the input as the batch report names it (relative to INPUT), for the hold record
