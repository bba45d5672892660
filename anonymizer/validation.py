"""Stage 2: the file is what it claims, and its pixels decode, before anything is changed."""

from __future__ import annotations

import warnings

import numpy as np
from pydicom.uid import UID_dictionary

from anonymizer.config import PipelineConfig
from anonymizer.errors import InvalidInput, is_file_error
from anonymizer.job import FileKind, Job
from anonymizer.limits import check_dicom_size
from anonymizer.metadata.elements import has_value, keyword_text
from anonymizer.pixels.decoding import decode_dicom_pixels, frame_count
from anonymizer.pixels.rendering import render_dicom_view

REQUIRED_FOR_ANY = ("SOPClassUID",)
REQUIRED_FOR_PIXELS = ("Rows", "Columns", "BitsAllocated", "PhotometricInterpretation")


def validate(job: Job, config: PipelineConfig) -> None:
    if job.kind is FileKind.RASTER:
        _validate_raster(job)
    else:
        _validate_dicom(job, config)


def _validate_raster(job: Job) -> None:
    pixels = job.pixels
    if pixels is None or pixels.ndim not in (3, 4) or min(pixels.shape[1:3]) < 1:
        raise InvalidInput("image has no pixel array")
    job.report.stages.append(f"validate: {pixels.shape[2]}x{pixels.shape[1]} {pixels.dtype} image")


def _is_image_storage(ds) -> bool:
    """SOP classes named "... Image Storage" are image IODs: Pixel Data is mandatory."""
    uid = keyword_text(ds, "SOPClassUID")
    return uid in UID_dictionary and "Image Storage" in UID_dictionary[uid][0]


def _validate_dicom(job: Job, config: PipelineConfig) -> None:
    ds = job.dataset
    for keyword in REQUIRED_FOR_ANY:
        if not has_value(ds, keyword):
            raise InvalidInput(f"missing required attribute {keyword}")
    if "PixelData" not in ds:
        extra = " (float pixel data is not supported)" if "FloatPixelData" in ds or "DoubleFloatPixelData" in ds else ""
        if extra:
            raise InvalidInput("pixel data cannot be checked" + extra)
        if has_value(ds, "Rows") and has_value(ds, "Columns") or _is_image_storage(ds):
            # An image's header without its pixels: stripped on purpose (header-only
            # exports), or a file cut exactly at an element boundary, which no reader can
            # tell apart. Written, with a warning in every report that says so.
            job.report.warnings.append("an image without pixel data: written header-only (truncated input?)")
        job.report.stages.append("validate: no pixel data; header only")
        return
    for keyword in REQUIRED_FOR_PIXELS:
        if not has_value(ds, keyword):
            raise InvalidInput(f"missing required attribute {keyword}")
    if config.metadata_only:
        job.report.warnings.append("--metadata-only: pixels kept as stored and not scanned for burned-in text")
        job.report.stages.append("validate: header checked; pixels not decoded (--metadata-only)")
        return
    check_dicom_size(ds, frame_count(ds), config.max_decoded_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            job.pixels = decode_dicom_pixels(ds)
            job.view = render_dicom_view(ds, job.pixels)
    except InvalidInput:
        raise
    except BaseException as exc:  # noqa: BLE001 - any decoder failure means the pixels cannot be scanned
        if not is_file_error(exc):
            raise
        raise InvalidInput(f"pixel data cannot be decoded ({type(exc).__name__})") from None
    if job.view.shape[:3] != job.pixels.shape[:3]:
        raise InvalidInput("rendered view does not match the pixel geometry")
    job.report.frames_total = frame_count(ds)
    job.report.stages.append(
        f"validate: {ds.Columns}x{ds.Rows}, {job.report.frames_total} frame(s), "
        f"{ds.PhotometricInterpretation}, {ds.get('BitsStored', ds.BitsAllocated)} bits stored"
    )
    if not np.isfinite(job.view).all():
        raise InvalidInput("rendered view has non-finite values")
