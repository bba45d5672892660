"""Open one input file into a Job: what kind it is, its header, and raster pixels."""

from __future__ import annotations

import io
import stat
import warnings
from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from anonymizer.dicom_decoding import dataset_end, pixel_value_span, read_file, read_file_meta
from anonymizer.errors import InvalidInput, Skipped
from anonymizer.job import FileKind, FileReport, Job
from anonymizer.leak_check import capture_sealed_values, capture_swallowed_values
from anonymizer.limits import DEFAULT_MAX_DECODED_BYTES, check_raster_size, inflated_size
from anonymizer.metadata.elements import keyword_text
from anonymizer.metadata.profile import device_identity_tags
from anonymizer.phi.hints import collect_phi_hints_beside
from anonymizer.pixels.decoding import decode_raster
from anonymizer.pixels.rendering import render_raster_view

DICOM_SUFFIXES = {".dcm", ".dicom"}
RASTER_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"}
READ_INTO_MEMORY_BYTES = 256 * 1024 * 1024
MEDIA_DIRECTORY_STORAGE = "1.2.840.10008.1.3.10"
DIRECTORY_RECORDS = 0x00041220  # DirectoryRecordSequence
TRANSFER_SYNTAX_UID = 0x00020010
DEFLATED = "1.2.840.10008.1.2.1.99"
# A DICOM stream without a preamble starts with a group 0002 or 0008 element tag.
_BARE_DATASET_STARTS = (b"\x02\x00", b"\x08\x00", b"\x00\x02", b"\x00\x08")


def read_input(path: Path) -> bytes | None:
    """The file's bytes, read once for sniffing and parsing; None for a file too large to
    hold twice in memory (it is then read from disk where needed)."""
    try:
        if path.is_symlink() and not path.exists():
            raise Skipped("a broken link: skipped")
        status = path.stat()
        if stat.S_ISDIR(status.st_mode):
            raise Skipped("a link to a folder: not followed")
        if not stat.S_ISREG(status.st_mode):
            # Opening a FIFO blocks until someone writes to it; a device may never end.
            raise Skipped("not a regular file (a FIFO, device or socket): not opened")
        if status.st_size > READ_INTO_MEMORY_BYTES:
            return None
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read file ({exc.strerror or type(exc).__name__})") from None


def sniff_kind(path: Path, head: bytes | None = None) -> FileKind:
    """DICOM is recognised by content first, so files without a suffix work too."""
    if head is None:
        try:
            with path.open("rb") as f:
                head = f.read(132)
        except OSError as exc:
            raise InvalidInput(f"cannot read file ({exc.strerror or type(exc).__name__})") from None
    suffix = path.suffix.lower()
    if head[128:132] == b"DICM" or suffix in DICOM_SUFFIXES:
        return FileKind.DICOM
    if suffix in RASTER_SUFFIXES:
        return FileKind.RASTER
    if head[:2] in _BARE_DATASET_STARTS:
        return FileKind.DICOM
    raise Skipped("unsupported file type (expected DICOM or .jpg .jpeg .png .tif .tiff .bmp)")


def open_job(path: Path, max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES) -> Job:
    content = read_input(path)
    kind = sniff_kind(path, content[:132] if content is not None else None)
    job = Job(source=path, kind=kind, report=FileReport(source_name=path.name))
    if kind is FileKind.DICOM:
        job.dataset = read_dicom(path, content, max_decoded_bytes)
        capture_identifying_values(job, content)
        ts = job.dataset.file_meta.TransferSyntaxUID
        job.report.file_format = f"DICOM ({ts.name})"
    else:
        check_raster_size(path, max_decoded_bytes)
        job.pixels = decode_raster(path)
        job.view = render_raster_view(job.pixels)
        job.report.file_format = path.suffix.lower().lstrip(".").upper()
    job.report.frames_total = 1
    return job


def capture_identifying_values(job: Job, content: bytes | None = None) -> None:
    """The header's identifying values, copied before any step that can fail: an error's
    text is masked with them, and the output is searched for them before it is written.
    A value that cannot even be read for that makes the file corrupt."""
    try:
        job.burned_in_annotation = keyword_text(job.dataset, "BurnedInAnnotation").strip().upper()
        job.phi_hints, job.hints_beside_device_fields = collect_phi_hints_beside(job.dataset, device_identity_tags())
        job.sealed_values = capture_sealed_values(job.dataset)
        if content is not None:
            job.sealed_values += capture_swallowed_values(content, pixel_value_span(job.dataset))
    except RecursionError:
        raise InvalidInput("sequences nested too deep to read: the file is corrupt") from None
    except Exception as exc:  # noqa: BLE001 - its text may quote the value; the type is the reason
        raise InvalidInput(f"a header value cannot be decoded ({type(exc).__name__}): the file is corrupt") from None


def _deflated_length(content: bytes, limit: int) -> int | None:
    """For a deflated data set, its inflated length (None for any other): pydicom
    inflates it whole, in memory, so it is measured first, in bounded steps."""
    try:
        meta, start = read_file_meta(content, 132 if content[128:132] == b"DICM" else 0)
    except Exception:  # noqa: BLE001 - not a file meta group this reader knows: pydicom decides
        return None
    if str(meta.get("TransferSyntaxUID", "")) != DEFLATED:
        return None
    return inflated_size(content[start:], limit)


def read_dicom(path: Path, content: bytes | None,
               max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES) -> pydicom.Dataset:
    """``content``: the file's bytes (read_input), or None to let pydicom read the file.

    pydicom reads element by element; from memory that is a third faster than through a
    file's reads. Explicit VR little endian files are read by dicom_decoding, a quicker
    loop that builds what pydicom builds; anything else by pydicom."""
    try:
        ds = read_file(content) if content is not None else None
        inflated = None
        if ds is None and content is not None:
            inflated = _deflated_length(content, max_decoded_bytes)
        if ds is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(io.BytesIO(content) if content is not None else path, force=True)
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError, OverflowError) as exc:
        raise InvalidInput(f"not readable as DICOM ({type(exc).__name__})") from None
    if len(ds) == 0:
        raise InvalidInput("not a DICOM file (no data elements)")
    meta = ds.file_meta
    # Raw reads and tag numbers: pydicom's decoding and keyword look-ups are a fixed cost
    # of every file in a --metadata-only batch.
    if keyword_text(meta, "MediaStorageSOPClassUID") == MEDIA_DIRECTORY_STORAGE or DIRECTORY_RECORDS in ds._dict:
        raise Skipped("DICOMDIR media directory, not an image: skipped")
    if TRANSFER_SYNTAX_UID not in meta._dict:
        meta.TransferSyntaxUID = _syntax_as_read(ds)
    if content is not None:
        _refuse_partial_read(ds, content, inflated)
    return ds


def _refuse_partial_read(ds: pydicom.Dataset, content: bytes, inflated: int | None) -> None:
    """pydicom stops quietly at a value that runs past the end of the file, and keeps a
    short last value: what it dropped or cut (the pixel data, most often) would be
    missing from an output that passes for a complete de-identified file."""
    end = dataset_end(ds)
    if end is None:
        return
    if ds.file_meta.get("TransferSyntaxUID", "") == DEFLATED:
        if inflated is not None and end != inflated:
            raise InvalidInput("file is truncated or corrupt: its deflated data set does not end where it should")
        return
    if end > len(content):
        raise InvalidInput("file is truncated: its last element runs past the end of the file")
    if content[end:].strip(b"\0"):
        raise InvalidInput("file is truncated or corrupt: data after its last readable element")


def _syntax_as_read(ds: pydicom.Dataset):
    implicit, little = ds.original_encoding
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little else ExplicitVRBigEndian
