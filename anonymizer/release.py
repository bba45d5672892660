"""Finish stages 6 and 7 for a held file once a person has decided each of its boxes.

A "redact" box is painted, with the fill the run used, on every frame that showed it,
and read again as stage 6's verification does (still legible: refilled solid). The file
is then written where it would have gone, checked as every output is, and its copy,
previews and record leave the hold area. Every decision and every release is appended
to OUTPUT_DIR/review/decisions.jsonl: who, when, which box, never what it showed.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np

from anonymizer.atomic import write_bytes_atomically
from anonymizer.config import PipelineConfig
from anonymizer.dicom_encoding import encode_dicom_file
from anonymizer.hold import (
    HOLD_DIR,
    SIDECAR_SUFFIX,
    Decision,
    HeldFile,
    HoldError,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)
from anonymizer.job import FileKind, Job, TextRegion, Verdict
from anonymizer.loading import open_job
from anonymizer.metadata.scrub import PixelStatus, add_clean_pixel_code, record_pixel_status
from anonymizer.output_check import check_dicom_output
from anonymizer.pipeline import quiet_pydicom
from anonymizer.pixels.encoding import write_back
from anonymizer.redaction import apply_mask
from anonymizer.reporting import append_record
from anonymizer.saving import JPEG_QUALITY
from anonymizer.text_rules import Reason
from anonymizer.validation import validate
from anonymizer.verification import verify_redactions

AUDIT_NAME = "decisions.jsonl"


@dataclass(frozen=True)
class Released:
    path: Path
    redacted: int
    kept: int
    refilled: int


def record_decisions(root: Path, sidecar: Path, decisions: dict[int, Decision], who: str | None = None) -> HeldFile:
    """Record decisions (box number -> redact/keep) in the held file's record."""
    record = read_sidecar(sidecar)
    numbers = {box.number for box in record.boxes}
    unknown = sorted(set(decisions) - numbers)
    if unknown:
        raise HoldError(f"no box numbered {', '.join(map(str, unknown))} (boxes are {_numbers(numbers)})")
    for box in record.boxes:
        if box.number in decisions:
            box.decision = decisions[box.number]
            _audit(root, {"held": record.held, "box": box.number, "frame": box.frame,
                          "decision": box.decision.value}, who)
    write_sidecar(root, record)
    return record


def release(root: Path, sidecar: Path, who: str | None = None) -> Released:
    """Paint the boxes decided "redact", write the file where it belongs, and clear its
    hold. Raises HoldError while a box is undecided; nothing is written then."""
    record = read_sidecar(sidecar)
    pending = [box.number for box in record.boxes if box.decision is Decision.PENDING]
    if pending:
        raise HoldError(f"box(es) {_numbers(pending)} not decided yet")
    held, target = _inside(root, record.held), _inside(root, record.release_to)
    config = PipelineConfig(fill=record.fill, inpaint_radius=record.inpaint_radius,
                            ocr_engines=tuple(record.ocr_engines), skip_classification=True)
    with quiet_pydicom():
        data, refilled = _released_bytes(held, record, config)
    write_bytes_atomically(target, data)
    redacted = sum(box.decision is Decision.REDACT for box in record.boxes)
    kept = len(record.boxes) - redacted
    for preview in record.previews:
        _inside(root, preview).unlink(missing_ok=True)
    held.unlink(missing_ok=True)
    sidecar.unlink()
    _audit(root, {"released": record.release_to, "held": record.held, "boxes_redacted": redacted,
                  "boxes_kept": kept, "refilled_solid": refilled}, who)
    append_record(root, {"input": record.input or record.release_to, "source_name": Path(record.release_to).name,
                         "status": "released", "output_path": str(target), "regions_redacted": redacted,
                         "regions_kept_by_reviewer": kept, "regions_refilled": refilled})
    return Released(target, redacted, kept, refilled)


def _released_bytes(held: Path, record: HeldFile, config: PipelineConfig) -> tuple[bytes, int]:
    to_paint = [box for box in record.boxes if box.decision is Decision.REDACT]
    if record.kind == FileKind.RASTER.value and not to_paint:
        return held.read_bytes(), 0  # written as stage 7 writes a released image
    job = open_job(held)
    if job.kind is FileKind.DICOM and to_paint:
        validate(job, config)  # decodes the pixels and renders their view
    refilled = 0
    if to_paint:
        frames, rows, cols = job.pixels.shape[:3]
        mask = np.zeros((frames, rows, cols), dtype=bool)
        for held_box in to_paint:
            box = held_box.box
            for frame in held_box.frames:
                if 0 <= frame < frames:
                    mask[frame, box.top:box.bottom, box.left:box.right] = True
        apply_mask(job, mask, config)
        job.redaction_mask, job.pixels_changed = mask, True
        job.regions = [TextRegion(box=box.box, text="", confidence=1.0, engines=(), frame=box.frame,
                                  verdict=Verdict.PHI, reason=Reason.REVIEWER_REDACT, redacted_box=box.box)
                       for box in to_paint]
        _, refilled = verify_redactions(job, config)
    if job.kind is FileKind.RASTER:
        return _raster_bytes(job), refilled
    ds = job.dataset
    if job.pixels_changed:
        write_back(ds, job.pixels, job.redaction_mask)
        add_clean_pixel_code(ds)
    record_pixel_status(ds, PixelStatus.CLEAN, job.burned_in_annotation)  # every box decided by a person
    data = encode_dicom_file(ds)
    check_dicom_output(data, [])  # the identifying values were searched for when it was held
    return data, refilled


def _raster_bytes(job: Job) -> bytes:
    suffix = job.source.suffix.lower()
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if suffix in (".jpg", ".jpeg") else []
    ok, encoded = cv2.imencode(suffix, job.pixels[0], params)
    if not ok:
        raise HoldError(f"could not encode the redacted image as {suffix}")
    return encoded.tobytes()


def held_record_for(root: Path, name: str) -> Path:
    """The record of a held file named as the user sees it: its path under
    OUTPUT_DIR/review, its release path under OUTPUT_DIR, or a path to it or its record."""
    path = Path(name)
    candidates = [path, root / HOLD_DIR / path]
    if path.is_absolute() and path.is_relative_to(root):  # the release path, given in full
        candidates.append(root / HOLD_DIR / path.relative_to(root))
    for candidate in candidates:
        if candidate.name.endswith(SIDECAR_SUFFIX) and candidate.is_file():
            return candidate
        if sidecar_path(candidate).is_file():
            return sidecar_path(candidate)
    raise HoldError("not a file held for review under this output folder")


def _inside(root: Path, relative: str) -> Path:
    """A path of a record, refused unless it lies under OUTPUT_DIR (records can be edited
    by hand or by another tool)."""
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise HoldError("the review record names a path outside the output folder")
    return path


def _numbers(numbers) -> str:
    return ", ".join(str(n) for n in sorted(numbers))


def _audit(root: Path, entry: dict, who: str | None) -> None:
    entry = {**entry, "by": who or _user(), "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    path = root / HOLD_DIR / AUDIT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
