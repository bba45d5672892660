"""Drop the metadata of JPEG and PNG files without touching their image data.

EXIF, XMP, comments and text chunks can carry names, dates and places. Removing them
at the container level keeps the compressed image bit-for-bit, so an image without
burned-in text is not re-encoded (no second generation of JPEG loss).
"""

from __future__ import annotations

import struct
import zlib

from anonymizer.errors import InvalidInput

# JPEG segments that hold no metadata: JFIF (APP0) and Adobe colour transform (APP14)
# change how the pixels decode, so they stay; every other APPn and COM goes.
_KEPT_APP_MARKERS = {0xE0, 0xEE}
# PNG chunks needed to decode the image exactly as before.
_KEPT_PNG_CHUNKS = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs", b"bKGD"}


def strip_jpeg_metadata(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise InvalidInput("JPEG stream does not start with SOI")
    out = bytearray(b"\xff\xd8")
    pos = 2
    while pos < len(data):
        if data[pos] != 0xFF:
            raise InvalidInput("JPEG marker structure is broken")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is image data up to EOI
            out += data[pos:]
            return bytes(out)
        if 0xD0 <= marker <= 0xD9 or marker == 0x01:
            out += data[pos:pos + 2]
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        segment = data[pos:pos + 2 + length]
        is_app = 0xE0 <= marker <= 0xEF
        if not ((is_app and marker not in _KEPT_APP_MARKERS) or marker == 0xFE):
            out += segment
        pos += 2 + length
    return bytes(out)


def strip_png_metadata(data: bytes) -> bytes:
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature):
        raise InvalidInput("PNG signature missing")
    out = bytearray(signature)
    pos = len(signature)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        chunk = data[pos:pos + 12 + length]
        if kind in _KEPT_PNG_CHUNKS:
            if zlib.crc32(chunk[4:8 + length]) != struct.unpack(">I", chunk[8 + length:12 + length])[0]:
                raise InvalidInput(f"PNG chunk {kind.decode('latin-1')} fails its CRC")
            out += chunk
        pos += 12 + length
        if kind == b"IEND":
            break
    return bytes(out)
