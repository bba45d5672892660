"""Write redacted stored values back into a dataset without losing anything else.

The rule: only pixels under a redaction mask change. Native data is patched in its
own byte buffer (so every untouched bit, padding byte and byte order stays as read);
lossless-compressed data is re-encoded losslessly with pydicom's encoders; lossy data
is stored decompressed (no second generation of loss) with LossyImageCompression kept.
"""

from __future__ import annotations

import numpy as np
from pydicom import Dataset
from pydicom.pixels import pack_bits
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian

from anonymizer.pixels.decoding import frame_count
from anonymizer.pixels.syntax import REENCODABLE_LOSSLESS, is_lossy, is_native


def write_back(ds: Dataset, pixels: np.ndarray, changed: np.ndarray) -> str:
    """Store ``pixels`` in ``ds``; ``changed`` is a (frames, rows, cols) bool mask.

    Returns a short description of how the pixel data was stored, for the report.
    """
    ts = ds.file_meta.TransferSyntaxUID
    photometric = ds.get("PhotometricInterpretation", "")
    bits_allocated = int(ds.BitsAllocated)
    if is_native(ts):
        if bits_allocated == 1:
            ds.PixelData = pack_bits(pixels.astype(np.uint8))
            return "native, bit-packed"
        if photometric.endswith("_422"):
            # The decoder removed the chroma subsampling; storing the full-resolution
            # values as YBR_FULL keeps every value, where re-subsampling would not.
            _store_native(ds, pixels, "YBR_FULL")
            return "native, YBR_FULL_422 stored as YBR_FULL"
        _patch_native_buffer(ds, pixels, changed, big_endian=ts == ExplicitVRBigEndian)
        return "native, patched in place"
    if ts in REENCODABLE_LOSSLESS:
        try:
            _reencode(ds, pixels, ts)
            return f"re-encoded {ts.name}"
        except Exception:  # noqa: BLE001 - an encoder gap must not lose the redaction
            pass
    lossy = is_lossy(ts)
    _store_native(ds, pixels, _decoded_photometric(photometric))
    if lossy:
        ds.LossyImageCompression = "01"
        return "decompressed (lossy source kept without a second loss)"
    return "decompressed losslessly (no encoder for this syntax)"


def _decoded_photometric(photometric: str) -> str:
    """pydicom's decoders hand compressed YBR data back as RGB."""
    if photometric.startswith("YBR"):
        return "RGB"
    return photometric


def _store_native(ds: Dataset, pixels: np.ndarray, photometric: str) -> None:
    """Native little-endian, colour-by-pixel, any bit depth (pydicom's set_pixel_data
    stops at 16 bits, and 32-bit RGB RLE must come through too)."""
    bits_allocated = int(ds.BitsAllocated)
    if bits_allocated == 1:
        data = pack_bits(pixels.astype(np.uint8))
    else:
        dtype = np.dtype(f"{'i' if pixels.dtype.kind == 'i' else 'u'}{bits_allocated // 8}").newbyteorder("<")
        data = np.ascontiguousarray(pixels).astype(dtype, copy=False).tobytes()
    if len(data) % 2:
        data += b"\x00"
    ds.PixelData = data
    ds["PixelData"].VR = "OB" if bits_allocated <= 8 else "OW"
    ds.PhotometricInterpretation = photometric
    if int(ds.get("SamplesPerPixel", 1)) > 1:
        ds.PlanarConfiguration = 0
    for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
        if keyword in ds:
            del ds[keyword]
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian


def _reencode(ds: Dataset, pixels: np.ndarray, ts) -> None:
    arr = pixels[0] if pixels.shape[0] == 1 and frame_count(ds) == 1 else pixels
    # J2K YBR_RCT decodes to RGB; handed RGB values under YBR_RCT, pydicom's encoder
    # applies the reversible component transform again (PS3.5 8.2.4).
    ds.compress(ts, arr, generate_instance_uid=False)


def _patch_native_buffer(ds: Dataset, pixels: np.ndarray, changed: np.ndarray, big_endian: bool) -> None:
    bits_allocated = int(ds.BitsAllocated)
    bits_stored = int(ds.get("BitsStored", bits_allocated))
    samples = int(ds.get("SamplesPerPixel", 1))
    rows, cols = int(ds.Rows), int(ds.Columns)
    frames = frame_count(ds)
    dtype = np.dtype(f"uint{bits_allocated}").newbyteorder(">" if big_endian else "<")
    expected = frames * rows * cols * samples
    buffer = bytearray(ds.PixelData)
    raw = np.frombuffer(buffer, dtype=dtype, count=expected)
    if samples > 1 and int(ds.get("PlanarConfiguration", 0)) == 1:
        raw = raw.reshape(frames, samples, rows, cols).transpose(0, 2, 3, 1)
    elif samples > 1:
        raw = raw.reshape(frames, rows, cols, samples)
    else:
        raw = raw.reshape(frames, rows, cols)
    value_mask = (1 << bits_stored) - 1
    new_values = pixels[changed].astype(np.int64) & value_mask
    raw[changed] = new_values.astype(dtype)
    ds.PixelData = bytes(buffer)
