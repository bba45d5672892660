"""Refuse, before anything is allocated, a file whose pixels would not fit in memory.

A few kilobytes can declare gigabytes: a JPEG header that says 30000 x 30000, a DICOM
that says 100000 frames, a deflated data set or an RLE frame that inflates a
thousandfold. Each is measured from its header (or inflated in bounded steps) and
refused with a one-line reason when it would exceed the run's bound.
"""

from __future__ import annotations

import signal
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydicom import Dataset

from anonymizer.errors import InvalidInput

DEFAULT_MAX_DECODED_BYTES = 2 * 1024 ** 3
MAX_FRAMES = 50_000  # longer than any cine loop or enhanced multi-frame series
MAX_SIDE = 65_535  # Rows and Columns are 16-bit in DICOM; a raster as large is a poster
DEFAULT_FILE_SECONDS = 600
_INFLATE_STEP = 64 * 1024 * 1024


def _gib(size: float) -> str:
    return f"{size / 1024 ** 3:.1f} GiB"


def check_decoded_size(rows: int, cols: int, frames: int, samples: int, bits: int, limit: int) -> None:
    if min(rows, cols, frames, samples) < 1 or max(rows, cols) > MAX_SIDE:
        raise InvalidInput(f"image dimensions {cols}x{rows} are not plausible")
    if frames > MAX_FRAMES:
        raise InvalidInput(f"{frames} frames is more than the {MAX_FRAMES} a file may have")
    # As decoded: at least a byte per sample, and the rendered 8-bit view beside it.
    decoded = rows * cols * frames * samples * max((bits + 7) // 8, 1) + rows * cols * frames * 3
    if decoded > limit:
        raise InvalidInput(f"decoded pixels would take {_gib(decoded)}, over the limit of {_gib(limit)} "
                           "(--max-decoded-gib)")


def check_dicom_size(ds: Dataset, frames: int, limit: int) -> None:
    def number(keyword: str, default: int) -> int:
        try:
            return int(ds.get(keyword, default) or default)
        except (TypeError, ValueError):
            raise InvalidInput(f"{keyword} is not a number") from None

    check_decoded_size(number("Rows", 0), number("Columns", 0), frames, number("SamplesPerPixel", 1),
                       number("BitsAllocated", 8), limit)


def check_raster_size(path: Path, limit: int) -> None:
    """From the header alone (Pillow reads it without decoding a pixel)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's own bomb warning: the check below decides
            with Image.open(path) as image:
                cols, rows = image.size
                samples = len(image.getbands())
                bits = 16 if image.mode in ("I;16", "I;16B", "I;16L", "I") else 8
                frames = 1
    except Image.DecompressionBombError:
        raise InvalidInput("image header declares more pixels than can be decoded safely: refused as a "
                           "decompression bomb") from None
    except Exception:  # noqa: BLE001 - Pillow cannot read this header; OpenCV decides (and refuses)
        return
    check_decoded_size(rows, cols, frames, samples, bits, limit)


def inflated_size(deflated: bytes, limit: int) -> int:
    """A deflated data set is inflated in bounded steps, the output discarded: a deflate
    bomb is refused before pydicom inflates it whole. Returns the inflated length."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    data = deflated
    try:
        while data:
            chunk = inflater.decompress(data, _INFLATE_STEP)
            total += len(chunk)
            if total > limit:
                raise InvalidInput(f"deflated data set inflates to more than {_gib(limit)}: refused as a "
                                   "decompression bomb")
            data = inflater.unconsumed_tail
            if not chunk and not data:
                break
    except zlib.error:
        raise InvalidInput("deflated data set is corrupt") from None
    return total


class FileTimeout(BaseException):
    """One file took longer than the per-file limit of a batch. Not an Exception: the
    stages' own fallbacks (an engine that fails is skipped) must not swallow it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@contextmanager
def time_limit(seconds: int | None) -> Iterator[None]:
    """Raise FileTimeout in this (main) thread after ``seconds``; no limit when None or 0,
    or off the main thread, where signals cannot be delivered."""
    if not seconds or not _on_main_thread():
        yield
        return

    def expire(_signum, _frame):
        raise FileTimeout(f"took longer than the per-file limit of {seconds} s (--file-timeout)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _on_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
