"""What a transfer syntax means for lossless write-back."""

from __future__ import annotations

from pydicom.uid import (
    UID,
    HTJ2KLossless,
    HTJ2KLosslessRPCL,
    JPEG2000Lossless,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

# Compressed syntaxes whose data is mathematically lossless as stored.
LOSSLESS_COMPRESSED = {
    RLELossless,
    JPEGLSLossless,
    JPEG2000Lossless,
    JPEGLossless,
    JPEGLosslessSV1,
    HTJ2KLossless,
    HTJ2KLosslessRPCL,
}

# Those we can re-encode after redaction with the codecs we ship (pydicom encoders).
REENCODABLE_LOSSLESS = {RLELossless, JPEGLSLossless, JPEG2000Lossless}


def is_native(ts: UID) -> bool:
    return not ts.is_compressed


def is_lossy(ts: UID) -> bool:
    return ts.is_compressed and ts not in LOSSLESS_COMPRESSED


def keeps_stored_colour(ts: UID) -> bool:
    """Whether redaction happens on stored colour values (YBR kept as YBR).

    Native and re-encodable data are written back as they were stored, so they are
    decoded raw. Everything else is stored decompressed as pydicom decodes it (RGB).
    """
    return is_native(ts) or ts in REENCODABLE_LOSSLESS
