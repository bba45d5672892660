"""Values to paint over text: inpainting from the surroundings, or a value that renders black."""

from __future__ import annotations

import cv2
import numpy as np
from pydicom import Dataset
from pydicom.pixels import apply_color_lut

from anonymizer.pixels.syntax import keeps_stored_colour
from anonymizer.text_ink import grey_view


def value_range(pixels: np.ndarray, ds: Dataset | None) -> tuple[int, int]:
    """The stored values a pixel may take: BitsStored and signedness for DICOM."""
    if ds is None or not np.issubdtype(pixels.dtype, np.integer):
        if np.issubdtype(pixels.dtype, np.integer):
            info = np.iinfo(pixels.dtype)
            return int(info.min), int(info.max)
        return int(np.floor(pixels.min())), int(np.ceil(pixels.max()))
    bits = int(ds.get("BitsStored", ds.BitsAllocated))
    if int(ds.get("PixelRepresentation", 0)) == 1:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def black_value(pixels: np.ndarray, ds: Dataset | None):
    """A value per sample that the photometric interpretation shows as black."""
    if ds is None:
        return 0  # raster: BGR(A) zero; alpha is kept by the caller
    photometric = ds.get("PhotometricInterpretation", "MONOCHROME2")
    low, high = value_range(pixels, ds)
    # The extreme of the stored range sits below (or above) any window a viewer applies.
    if photometric == "MONOCHROME1":
        return high
    if photometric == "MONOCHROME2":
        return low
    if photometric == "PALETTE COLOR":
        return _darkest_palette_index(ds, pixels)
    if photometric in ("YBR_FULL", "YBR_FULL_422") and keeps_stored_colour(ds.file_meta.TransferSyntaxUID):
        mid = 1 << (int(ds.get("BitsStored", 8)) - 1)
        return np.array([0, mid, mid], dtype=pixels.dtype)
    return 0


def _darkest_palette_index(ds: Dataset, pixels: np.ndarray) -> int:
    descriptor = ds.RedPaletteColorLookupTableDescriptor
    entries = int(descriptor[0]) or 65536
    first = int(descriptor[1])
    indices = np.arange(first, first + entries, dtype=pixels.dtype)
    colours = apply_color_lut(indices, ds).astype(np.int64)
    return int(indices[int(np.argmin(colours.sum(axis=-1)))])


def inpaint_frame(frame: np.ndarray, mask: np.ndarray, radius: int, low: int, high: int,
                  view: np.ndarray | None = None) -> np.ndarray:
    """TELEA inpainting of ``mask``, computed on the mask's bounding box plus a margin:
    the result is the same, and a 2140x1760 CR does not pay for its whole area. With the
    frame's 8-bit ``view``, text kept beside the mask does not bleed into it."""
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return frame.copy()
    margin = 4 * radius + 2
    top, bottom = max(ys.min() - margin, 0), min(ys.max() + margin + 1, mask.shape[0])
    left, right = max(xs.min() - margin, 0), min(xs.max() + margin + 1, mask.shape[1])
    crop = np.ascontiguousarray(frame[top:bottom, left:right])
    crop_mask = mask[top:bottom, left:right]
    source = crop if view is None else _surroundings_without_ink(crop, crop_mask, view[top:bottom, left:right], radius)
    result = frame.copy()
    result[top:bottom, left:right][crop_mask] = _inpaint_whole(source, crop_mask, radius, low, high)[crop_mask]
    return result


# TELEA fills a mask from the pixels around it. Where the mask ends beside text that is
# kept (the "DOB:" before a painted date, a clinical label, the top of a letter under
# another box's padding), those letters would be smeared into the fill as a bright blob.
# Around each patch, pixels that stand out from the patch's surroundings by this many
# 8-bit view levels are given the surroundings' median for the fill's computation only.
SURROUNDING_INK_CONTRAST = 48


def _surroundings_without_ink(crop: np.ndarray, mask: np.ndarray, view: np.ndarray, radius: int) -> np.ndarray:
    grey = grey_view(view)
    size = 2 * radius + 3
    near = cv2.dilate(mask.astype(np.uint8), np.ones((size, size), np.uint8)) > 0
    count, patches = cv2.connectedComponents(near.astype(np.uint8))
    source = crop.copy()
    for patch in range(1, count):
        ring = (patches == patch) & ~mask
        if not ring.any():
            continue
        ink = ring & (np.abs(grey - np.median(grey[ring])) > SURROUNDING_INK_CONTRAST)
        background = ring & ~ink
        if ink.any() and background.any():
            source[ink] = np.median(crop[background], axis=0).astype(crop.dtype)
    return source


def _inpaint_whole(frame: np.ndarray, mask: np.ndarray, radius: int, low: int, high: int) -> np.ndarray:
    mask8 = mask.astype(np.uint8) * 255
    if frame.dtype == np.uint8 and (frame.ndim == 2 or frame.shape[2] == 3):
        return cv2.inpaint(frame, mask8, radius, cv2.INPAINT_TELEA)
    channels = [frame] if frame.ndim == 2 else [frame[..., c] for c in range(frame.shape[2])]
    filled = []
    for channel in channels:
        result = cv2.inpaint(np.ascontiguousarray(channel, dtype=np.float32), mask8, radius, cv2.INPAINT_TELEA)
        filled.append(np.clip(np.rint(result.astype(np.float64)), low, high).astype(frame.dtype))
    return filled[0] if frame.ndim == 2 else np.stack(filled, axis=-1)
