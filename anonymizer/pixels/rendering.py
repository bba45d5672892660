"""The 8-bit display view a radiologist would see, used for classification and OCR.

Every function keeps the (frames, rows, cols[, 3]) geometry of the stored pixels, so a
box found on the view is at the same coordinates in the stored values.
"""

from __future__ import annotations

import numpy as np
from pydicom import Dataset
from pydicom.multival import MultiValue
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi, convert_color_space

from anonymizer.pixels.syntax import keeps_stored_colour


def _first(value) -> float:
    if isinstance(value, (MultiValue, list, tuple)):
        value = value[0]
    return float(value)


def stretch_to_uint8(values: np.ndarray, low: float, high: float) -> np.ndarray:
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    scaled = (values.astype(np.float32) - low) * (255.0 / (high - low))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def min_max_uint8(values: np.ndarray) -> np.ndarray:
    return stretch_to_uint8(values, float(values.min()), float(values.max()))


def linear_window(values: np.ndarray, center: float, width: float) -> np.ndarray:
    """PS3.3 C.11.2.1.2.1 LINEAR window, mapped straight to 0..255."""
    width = max(width, 1.0)
    low = center - 0.5 - (width - 1) / 2
    high = center - 0.5 + (width - 1) / 2
    return stretch_to_uint8(values, low, high)


def render_monochrome(ds: Dataset, stored: np.ndarray) -> np.ndarray:
    values = apply_modality_lut(stored, ds) if _has_modality_transform(ds) else stored
    view = None
    if "VOILUTSequence" in ds and len(ds.VOILUTSequence):
        # A VOI LUT's output range is its own; stretch what it gives.
        view = min_max_uint8(apply_voi(values, ds))
    elif "WindowCenter" in ds and "WindowWidth" in ds:
        try:
            view = linear_window(values, _first(ds.WindowCenter), _first(ds.WindowWidth))
        except (TypeError, ValueError, IndexError):
            view = None
        if view is not None and view.min() == view.max():
            view = None  # a window that shows nothing is no help for OCR
    if view is None:
        view = min_max_uint8(values)
    if ds.get("PhotometricInterpretation", "") == "MONOCHROME1":
        view = 255 - view
    return view


def _has_modality_transform(ds: Dataset) -> bool:
    return "ModalityLUTSequence" in ds or "RescaleSlope" in ds or "RescaleIntercept" in ds


def render_colour(ds: Dataset, stored: np.ndarray) -> np.ndarray:
    photometric = ds.get("PhotometricInterpretation", "RGB")
    ts = ds.file_meta.TransferSyntaxUID
    rgb = stored
    if photometric in ("YBR_FULL", "YBR_FULL_422") and keeps_stored_colour(ts):
        # convert_color_space works in place; the stored values must stay as they are.
        rgb = convert_color_space(stored.copy(), "YBR_FULL", "RGB", per_frame=True)
    bits = int(ds.get("BitsStored", 8) or 8)
    if bits > 8:
        return stretch_to_uint8(rgb, 0, (1 << bits) - 1)
    return rgb.astype(np.uint8, copy=False)


def render_dicom_view(ds: Dataset, pixels: np.ndarray) -> np.ndarray:
    photometric = ds.get("PhotometricInterpretation", "MONOCHROME2")
    if photometric == "PALETTE COLOR":
        rgb = apply_color_lut(pixels, ds)
        depth = 16 if rgb.dtype.itemsize > 1 else 8
        return stretch_to_uint8(rgb, 0, (1 << depth) - 1)
    if pixels.ndim == 4:
        return render_colour(ds, pixels)
    return render_monochrome(ds, pixels)


def render_raster_view(pixels: np.ndarray) -> np.ndarray:
    """BGR(A) stored order to an RGB or grey 8-bit view."""
    frames = pixels
    if frames.dtype != np.uint8:
        frames = min_max_uint8(frames)
    if frames.ndim == 4:
        frames = frames[..., :3][..., ::-1]  # drop alpha, BGR -> RGB
    return np.ascontiguousarray(frames)
