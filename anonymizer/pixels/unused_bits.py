"""Bits of a native sample outside BitsStored (above HighBit, below its low bit) hold no
image: decoders mask them off. Older equipment used them for overlay planes (PS3.5 8.1.2,
retired: OverlayBitPosition 8 and up in 16-bit XA and US), and those overlays carry the
patient's name, ID, the physician and the date. Stage 3 removes the 60xx attributes that
describe them; the bits themselves are cleared here, in every output, --metadata-only
included, as nothing reads the overlay once its description is gone.

Signed data is often written sign-extended (a CT's -1000 in 12 of 16 bits sets the top
four): such bits repeat the stored value's sign and carry nothing else. A sample whose
unused bits are anything else is cleared: to zero for unsigned data, to its sign for
signed data, so every reader decodes the same value as before.

Encapsulated syntaxes compress BitsStored bits (PS3.5 8.2): no overlay can hide there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom import Dataset

from anonymizer.pixels.decoding import frame_count
from anonymizer.pixels.syntax import is_native


@dataclass(frozen=True)
class NativeSamples:
    """Native Pixel Data as unsigned integers of BitsAllocated, with where BitsStored lie."""

    values: np.ndarray  # int64, one per sample, every frame
    dtype: np.dtype  # as stored: width and byte order
    allocated: int
    stored: int
    high: int
    rest: bytes  # what follows the samples (a pad byte)


def native_samples(ds: Dataset) -> NativeSamples | None:
    """The samples of native Pixel Data whose BitsStored leave bits unused; None for
    encapsulated data, data using every bit, or a layout the attributes do not allow."""
    if "PixelData" not in ds or not is_native(ds.file_meta.TransferSyntaxUID):
        return None
    allocated = int(ds.get("BitsAllocated", 0) or 0)
    stored = int(ds.get("BitsStored", allocated) or allocated)
    high = int(ds.get("HighBit", stored - 1) if ds.get("HighBit") is not None else stored - 1)
    if allocated not in (8, 16, 32) or not 0 < stored <= allocated or (stored == allocated and high == allocated - 1):
        return None
    if high - stored + 1 < 0 or high >= allocated:
        return None
    big_endian = not ds.file_meta.TransferSyntaxUID.is_little_endian
    dtype = np.dtype(f"uint{allocated}").newbyteorder(">" if big_endian else "<")
    samples = frame_count(ds) * int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1) or 1)
    raw = bytes(ds.PixelData)
    if len(raw) < samples * dtype.itemsize:
        return None  # short native data: validation refuses it when the pixels are decoded
    values = np.frombuffer(raw, dtype=dtype, count=samples).astype(np.int64)
    return NativeSamples(values, dtype, allocated, stored, high, raw[samples * dtype.itemsize:])


def clear_unused_bits(ds: Dataset) -> int:
    """Clear, in place, the unused bits of native Pixel Data that carry anything other
    than the sample's sign; returns how many samples had such bits."""
    native = native_samples(ds)
    if native is None:
        return 0
    values, allocated, stored, high = native.values, native.allocated, native.stored, native.high
    low = high - stored + 1
    stored_bits = ((1 << stored) - 1) << low
    clean = values & stored_bits
    unused = values & ~stored_bits & ((1 << allocated) - 1)
    if int(ds.get("PixelRepresentation", 0) or 0) == 1 and low == 0:
        # Zero or the stored value's sign repeated: both read the same; anything else is data.
        extension = ((1 << allocated) - 1) ^ ((1 << (high + 1)) - 1)  # every bit above HighBit
        negative = ((values >> high) & 1) == 1
        carries = (unused != 0) & ~(negative & (unused == extension))
        clean = np.where(negative, clean | extension, clean)
    else:
        carries = unused != 0
    changed = int(np.count_nonzero(carries))
    if changed:
        new = np.where(carries, clean, values).astype(native.dtype).tobytes() + native.rest
        vr = ds["PixelData"].VR
        ds.PixelData = new
        ds["PixelData"].VR = vr
    return changed
