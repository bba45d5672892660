"""Keep only what JPEG and PNG files need to decode, without touching their image data.

EXIF, XMP, comments and text chunks can carry names, dates and places. Removing them
at the container level keeps the compressed image bit-for-bit, so an image without
burned-in text is not re-encoded (no second generation of JPEG loss).
"""

from __future__ import annotations

import struct
import zlib

from anonymizer.errors import InvalidInput

# An allow list: only what decoding the image needs is copied, everything else (APPn,
# COM, unknown markers, data after EOI) is dropped, whatever it is called.
_FRAME_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_TABLE_MARKERS = {0xC4, 0xCC, 0xDB, 0xDD, 0xDC}  # DHT, DAC, DQT, DRI, DNL
SOS, EOI, APP0, APP14 = 0xDA, 0xD9, 0xE0, 0xEE
# PNG chunks needed to decode the image exactly as before. iCCP is left out: its profile
# name is free text, and a decoder shows the pixels the same without it.
_KEPT_PNG_CHUNKS = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"pHYs", b"bKGD"}


def strip_jpeg_metadata(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise InvalidInput("JPEG stream does not start with SOI")
    out = bytearray(b"\xff\xd8")
    pos = 2
    kept_app0 = kept_app14 = False
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise InvalidInput("JPEG marker structure is broken")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == EOI:
            break
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise InvalidInput("JPEG segment runs past the end of the file")
        payload = data[pos + 4:pos + 2 + length]
        if marker in _FRAME_MARKERS or marker in _TABLE_MARKERS:
            out += data[pos:pos + 2 + length]
        elif marker == SOS:
            scan_end = _entropy_coded_end(data, pos + 2 + length)
            out += data[pos:scan_end]
            pos = scan_end
            continue
        elif marker == APP0 and not kept_app0 and payload[:5] == b"JFIF\0" and len(payload) >= 14:
            # Version, units and density; the thumbnail (a small copy of the image) goes.
            out += b"\xff\xe0" + struct.pack(">H", 16) + payload[:12] + b"\0\0"
            kept_app0 = True
        elif marker == APP14 and not kept_app14 and payload[:5] == b"Adobe" and len(payload) >= 12:
            # The colour transform flag changes how the components decode; the rest goes.
            out += b"\xff\xee" + struct.pack(">H", 14) + payload[:12]
            kept_app14 = True
        pos += 2 + length
    out += b"\xff\xd9"
    return bytes(out)


def _entropy_coded_end(data: bytes, pos: int) -> int:
    """Where a scan's entropy-coded data ends: the first marker that is neither a stuffed
    0xFF00 nor a restart marker."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise InvalidInput("JPEG scan does not end")
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            pos += 1 if following == 0xFF else 2
            continue
        return pos


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
