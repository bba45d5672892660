"""Decode stored pixel values into the job's (frames, rows, cols[, samples]) array."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from pydicom import Dataset
from pydicom.pixels import pixel_array

from anonymizer.errors import InvalidInput
from anonymizer.pixels.syntax import keeps_stored_colour


def frame_count(ds: Dataset) -> int:
    value = ds.get("NumberOfFrames", 1)
    try:
        frames = int(value) if value not in (None, "") else 1
    except (TypeError, ValueError):
        raise InvalidInput("NumberOfFrames is not a number") from None
    return max(frames, 1)


def as_frames(arr: np.ndarray, frames: int, samples: int) -> np.ndarray:
    """Give single-frame arrays a leading frame axis so every stage sees one shape."""
    single_frame_ndim = 2 if samples == 1 else 3
    if arr.ndim == single_frame_ndim:
        return arr[np.newaxis]
    if frames == 1 and arr.ndim == single_frame_ndim + 1 and arr.shape[0] != 1:
        raise InvalidInput("pixel array shape does not match the header")
    return arr


def decode_dicom_pixels(ds: Dataset) -> np.ndarray:
    ts = ds.file_meta.TransferSyntaxUID
    arr = pixel_array(ds, raw=keeps_stored_colour(ts))
    return as_frames(arr, frame_count(ds), int(ds.get("SamplesPerPixel", 1) or 1))


def decode_raster(path: Path) -> np.ndarray:
    """Stored values as OpenCV reads them: BGR(A) order, 8 or 16 bit, no EXIF rotation."""
    data = np.fromfile(path, dtype=np.uint8)
    arr = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if arr is None or arr.size == 0:
        raise InvalidInput("not a decodable image")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    return arr[np.newaxis]
