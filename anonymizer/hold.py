"""The hold area: a file with text left for a person is not released among the outputs.

It is written, de-identified as far as the machine could decide (header scrubbed, text
on evidence painted), to OUTPUT_DIR/review/<its output's place>, with

- ``<name>.review.json``: where to release it, each box left for a person (number,
  frame, the frames showing it, coordinates, reason, decision) and each box the machine
  painted (frame, coordinates, reason), never the text read;
- ``<name>.frame<N>.preview.png``: the frame as it will be released, each held box
  outlined in red with its number, each painted one in green.

`medical-anonymizer review` records a person's decision per box and finishes stages 6
and 7 for the file (release.py). The hold area still shows the undecided text: it is
a quarantine, to be kept where only reviewers can read it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

import cv2
import numpy as np

from anonymizer.atomic import write_bytes_atomically
from anonymizer.config import PipelineConfig
from anonymizer.job import Box, Job

HOLD_DIR = "review"
SIDECAR_SUFFIX = ".review.json"
PREVIEW_MIN_SIDE = 512  # small matrices are enlarged so that a box and its number can be seen
HELD_COLOUR, PAINTED_COLOUR = (0, 0, 255), (0, 200, 0)  # BGR


class Decision(str, Enum):
    PENDING = "pending"
    REDACT = "redact"
    KEEP = "keep"


@dataclass
class HeldBox:
    number: int
    frame: int
    frames: list[int]
    left: int
    top: int
    width: int
    height: int
    reason: str
    rule: str = ""  # the rule of anonymizer/text_rules.py that left it for a person
    decision: Decision = Decision.PENDING

    @property
    def box(self) -> Box:
        return Box(self.left, self.top, self.width, self.height)


@dataclass
class PaintedBox:
    """A box stage 6 painted on evidence, shown beside the held ones so a reviewer sees
    what the machine decided and why."""

    frame: int
    left: int
    top: int
    width: int
    height: int
    reason: str


@dataclass
class HeldFile:
    """The sidecar of one held file. ``held`` and ``release_to`` are relative to OUTPUT_DIR."""

    held: str
    release_to: str
    kind: str
    boxes: list[HeldBox]
    fill: str = "inpaint"
    inpaint_radius: int = 3
    ocr_engines: list[str] = field(default_factory=list)
    previews: list[str] = field(default_factory=list)
    input: str = ""  # the input as the batch report names it: a re-run knows the file is done
    painted: list[PaintedBox] = field(default_factory=list)

    @property
    def decided(self) -> bool:
        return all(box.decision is not Decision.PENDING for box in self.boxes)


def should_hold(job: Job, config: PipelineConfig) -> bool:
    return config.review == "hold" and job.report.regions_review > 0 and job.output_root is not None


def held_path(output_root: Path, output_path: Path) -> Path:
    """OUTPUT_DIR/review/<the output's place under OUTPUT_DIR>."""
    return output_root / HOLD_DIR / output_path.relative_to(output_root)


def sidecar_path(held: Path) -> Path:
    return held.with_name(held.name + SIDECAR_SUFFIX)


def is_held(output_root: Path, output_path: Path) -> bool:
    return sidecar_path(held_path(output_root, output_path)).is_file()


def write_hold_records(job: Job, config: PipelineConfig, held: Path, release_to: Path, render) -> HeldFile:
    """The previews and the sidecar of a file just written to ``held``. ``render(frame)``
    gives the frame's 8-bit view as it will be released."""
    root = job.output_root
    boxes = [HeldBox(**{**record, "decision": Decision.PENDING}) for record in job.report.review_boxes]
    previews = []
    for frame in sorted({box.frame for box in boxes}):
        image = preview_image(render(frame), [b for b in boxes if b.frame == frame],
                              [r.redacted_box for r in job.regions if r.redacted and r.frame == frame])
        ok, encoded = cv2.imencode(".png", image)
        if not ok:
            continue
        path = held.with_name(f"{held.name}.frame{frame}.preview.png")
        write_bytes_atomically(path, encoded.tobytes())
        previews.append(str(path.relative_to(root)))
    record = HeldFile(held=str(held.relative_to(root)), release_to=str(release_to.relative_to(root)),
                      kind=job.kind.value, boxes=boxes, fill=config.fill, inpaint_radius=config.inpaint_radius,
                      ocr_engines=list(config.ocr_engines), previews=previews, input=job.input_name,
                      painted=[painted_box(region) for region in job.regions if region.redacted_box is not None])
    write_sidecar(root, record)
    return record


def painted_box(region) -> PaintedBox:
    box = region.redacted_box
    return PaintedBox(region.frame, box.left, box.top, box.width, box.height,
                      region.reason.value if region.reason else "")


def preview_image(view: np.ndarray, held: list[HeldBox], painted: list[Box]) -> np.ndarray:
    image = view if view.ndim == 3 else cv2.cvtColor(view, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    image = np.ascontiguousarray(image[..., :3])
    scale = max(1.0, PREVIEW_MIN_SIDE / max(image.shape[:2]))
    if scale > 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)

    def corners(box: Box) -> tuple[tuple[int, int], tuple[int, int]]:
        return (int(box.left * scale), int(box.top * scale)), (int(box.right * scale) - 1, int(box.bottom * scale) - 1)

    for box in painted:
        cv2.rectangle(image, *corners(box), PAINTED_COLOUR, 1)
    for held_box in held:
        top_left, bottom_right = corners(held_box.box)
        cv2.rectangle(image, top_left, bottom_right, HELD_COLOUR, 2)
        label_at = (top_left[0], max(top_left[1] - 4, 12))
        cv2.putText(image, str(held_box.number), label_at, cv2.FONT_HERSHEY_SIMPLEX, 0.5, HELD_COLOUR, 1, cv2.LINE_AA)
    return image


def write_sidecar(root: Path, record: HeldFile) -> None:
    data = asdict(record)
    for box in data["boxes"]:
        box["decision"] = box["decision"].value
    write_bytes_atomically(sidecar_path(root / record.held), (json.dumps(data, indent=2) + "\n").encode())


class HoldError(Exception):
    """A sidecar that cannot be read or does not fit its held file."""


def read_sidecar(path: Path) -> HeldFile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        boxes = [HeldBox(**{**box, "decision": Decision(box["decision"])}) for box in data.pop("boxes")]
        painted = [PaintedBox(**box) for box in data.pop("painted", [])]
        return HeldFile(boxes=boxes, painted=painted, **data)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise HoldError(f"the review record cannot be read ({type(exc).__name__})") from None


def held_files(output_root: Path) -> list[Path]:
    """Every sidecar under OUTPUT_DIR/review, in name order."""
    area = output_root / HOLD_DIR
    return sorted(area.rglob(f"*{SIDECAR_SUFFIX}")) if area.is_dir() else []
