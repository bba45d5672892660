"""Stage 7: write OUTPUT_DIR/anonymized_<name>, atomically, losing nothing but the PHI."""

from __future__ import annotations

import re
from pathlib import Path

import cv2

from anonymizer.atomic import write_bytes_atomically
from anonymizer.config import PipelineConfig
from anonymizer.dicom_encoding import encode_dicom_file
from anonymizer.errors import UnsafeToWrite
from anonymizer.hold import held_path, should_hold, write_hold_records
from anonymizer.job import FileKind, Job
from anonymizer.metadata.keyed import digest
from anonymizer.metadata.scrub import PixelStatus, record_deidentification, record_pixel_status
from anonymizer.output_check import check_dicom_output
from anonymizer.overlay_planes import clean_overlay_planes
from anonymizer.pixels.encoding import write_back
from anonymizer.pixels.raster_metadata import strip_jpeg_metadata, strip_png_metadata
from anonymizer.pixels.unused_bits import clear_unused_bits
from anonymizer.verification import render_frame

OUTPUT_PREFIX = "anonymized_"
JPEG_QUALITY = 95


def mirrored_output_path(out_dir: Path, relative: Path) -> Path:
    """OUTPUT_DIR/<relative folder>/anonymized_<name>: the input tree, mirrored."""
    return out_dir / relative.parent / f"{OUTPUT_PREFIX}{relative.name}"


def uid_layout_path(job: Job, config: PipelineConfig) -> Path | None:
    """OUTPUT_DIR/<new PatientID>/<new StudyInstanceUID>/<new SeriesInstanceUID>/<new name>."""
    ds = job.dataset
    if ds is None or job.output_root is None:
        return None
    parts = [_safe_part(str(ds.get(k, "") or "")) for k in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID")]
    return job.output_root.joinpath(*parts, new_file_name(job, config))


def new_file_name(job: Job, config: PipelineConfig) -> str:
    """A name that owes nothing to the input's: exports are often named after the patient.
    DICOM: the new SOP Instance UID; an image: a keyed digest of its name."""
    ds = job.dataset
    if ds is not None:
        uid = _safe_part(str(ds.get("SOPInstanceUID", "") or ""))
        if uid != "unknown":
            return f"{OUTPUT_PREFIX}{uid}.dcm"
    name_digest = digest(config.key, "file name", str(job.output_path or job.source.name)).hex()[:20]
    return f"{OUTPUT_PREFIX}{name_digest}{job.source.suffix.lower() or '.dcm'}"


def _safe_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text.strip()) or "unknown"


def save(job: Job, config: PipelineConfig) -> None:
    if config.layout == "uid":
        job.output_path = uid_layout_path(job, config) or job.output_path
    elif config.rename == "uid" and job.output_path is not None:
        job.output_path = job.output_path.parent / new_file_name(job, config)
    release_to = job.output_path
    if release_to is None:
        raise UnsafeToWrite("no output path was set")
    holding = should_hold(job, config)
    if holding:  # text left for a person: not among the released outputs
        job.output_path = held_path(job.output_root, release_to)
    if job.kind is FileKind.DICOM:
        _save_dicom(job, config)
    else:
        _save_raster(job)
    if holding:
        write_hold_records(job, config, job.output_path, release_to, lambda frame: render_frame(job, frame))
        job.report.status = "held"
        job.report.stages.append(f"save: held for review, {job.report.regions_review} box(es) to decide")
    job.report.output_path = str(job.output_path)


def _save_dicom(job: Job, config: PipelineConfig) -> None:
    data, how = encoded_output(job, config)
    write_bytes_atomically(job.output_path, data)
    job.report.stages.append(f"save: DICOM, {how}")


def pixel_status(job: Job, config: PipelineConfig) -> PixelStatus:
    ds = job.dataset
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        return PixelStatus.NONE
    if config.metadata_only or not job.pixels_scanned:
        return PixelStatus.UNSCANNED
    return PixelStatus.REVIEW if job.report.regions_review else PixelStatus.CLEAN


def encoded_output(job: Job, config: PipelineConfig) -> tuple[bytes, str]:
    """The output file's bytes, checked (output_check), and how its pixels were stored."""
    ds = job.dataset
    if config.metadata_only:
        clean_overlay_planes(job, config)  # stage 6 did not run: overlays kept by Clean Graphics go
    how = "pixel data kept byte for byte"
    if job.pixels_changed:
        how = write_back(ds, job.pixels, job.redaction_mask)
        record_deidentification(ds, config.strategy.options, pixels_cleaned=True)
    record_pixel_status(ds, pixel_status(job, config), job.burned_in_annotation)
    overlay_samples = clear_unused_bits(ds)
    if overlay_samples:
        how += f"; bits outside BitsStored (overlay data) cleared in {overlay_samples} samples"
        job.report.warnings.append("overlay data in the pixels' unused bits was cleared")
    data = encode_dicom_file(ds)
    check_dicom_output(data, job.sealed_values)
    return data, how


def _save_raster(job: Job) -> None:
    suffix = job.source.suffix.lower()
    target = job.output_path
    if job.pixels_changed:
        params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if suffix in (".jpg", ".jpeg") else []
        ok, encoded = cv2.imencode(suffix, job.pixels[0], params)
        if not ok:
            raise UnsafeToWrite(f"could not encode the redacted image as {suffix}")
        write_bytes_atomically(target, encoded.tobytes())
        how = "re-encoded at quality 95" if params else "re-encoded losslessly"
    elif suffix in (".jpg", ".jpeg"):
        write_bytes_atomically(target, strip_jpeg_metadata(job.source.read_bytes()))
        how = "image data kept byte for byte, metadata segments removed"
    elif suffix == ".png":
        write_bytes_atomically(target, strip_png_metadata(job.source.read_bytes()))
        how = "image data kept byte for byte, metadata chunks removed"
    else:
        # TIFF tags can hold anything, and a BMP can carry bytes after its pixels or an
        # embedded profile: re-encoding from the decoded pixels keeps only the image.
        ok, encoded = cv2.imencode(suffix, job.pixels[0])
        if not ok:
            raise UnsafeToWrite(f"could not encode the image as {suffix}")
        write_bytes_atomically(target, encoded.tobytes())
        how = "re-encoded losslessly without its tags"
    job.report.stages.append(f"save: {suffix.lstrip('.').upper()}, {how}")
