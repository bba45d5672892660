"""Encode a dataset as a DICOM file, copying every element stage 3 left alone as raw bytes.

pydicom's writer spends most of its time re-deriving what it already holds: an element
read from the file and never touched (a RawDataElement) goes through the general
element writer one Python call chain at a time. Here such an element is written as
its header plus the bytes it was read with; everything that was decoded or set, and
every file this fast path does not cover (big endian, deflated, a charset or encoding
change), goes through pydicom's own writer. The output is byte-identical to
``dcmwrite(ds, enforce_file_format=True)`` (tests/test_dicom_encoding.py holds it to that
on pydicom's corpus); only the speed differs (benchmarks/README.md, issue 3).
"""

from __future__ import annotations

import struct

from pydicom import Dataset
from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import FileMetaDataset, validate_file_meta
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import dcmwrite, write_data_element, write_dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

from anonymizer.metadata.elements import keyword_text

PREAMBLE = b"\x00" * 128
PIXEL_DATA_TAG = BaseTag(0x7FE00010)
SPECIFIC_CHARACTER_SET = 0x00080005
UNDEFINED_LENGTH = 0xFFFFFFFF
ITEM = b"\xfe\xff\x00\xe0"
ITEM_DELIMITER = b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
SEQUENCE_DELIMITER = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
# The standard's VRs: those written with 2 reserved bytes and a 4-byte length, and the
# rest, with a 2-byte length. An unknown VR goes to pydicom (and dicom_decoding leaves
# it to pydicom too).
LONG_LENGTH_VRS = frozenset(str(vr) for vr in EXPLICIT_VR_LENGTH_32)
STANDARD_VRS = LONG_LENGTH_VRS | {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT",
                                  "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"}
ASCII_STRING_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "LT", "SH", "ST", "TM", "UC", "UI",
                              "UR", "UT"})
_BINARY_NUMBER_FORMATS = {"US": "H", "UL": "L", "SS": "h", "SL": "l", "FL": "f", "FD": "d"}
_FAST_SYNTAXES = {ImplicitVRLittleEndian: True, ExplicitVRLittleEndian: False}


def encode_dicom_file(ds: Dataset) -> bytes:
    """The bytes ``dcmwrite(ds, enforce_file_format=True)`` would write."""
    syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    implicit = _FAST_SYNTAXES.get(syntax)
    if implicit is None or not _encoding_kept(ds, implicit) or _undefined_native_pixels(ds):
        return _pydicom_bytes(ds)
    out = bytearray(_preamble(ds))
    out += b"DICM"
    _encode_file_meta(out, _synchronised_file_meta(ds))
    _encode_dataset(out, ds, implicit, "iso8859")
    return bytes(out)


def _pydicom_bytes(ds: Dataset) -> bytes:
    out = DicomBytesIO()
    dcmwrite(out, ds, enforce_file_format=True)
    return out.getvalue()


def _encoding_kept(ds: Dataset, implicit: bool) -> bool:
    """pydicom re-decodes every element when the encoding or charset changed; so do we."""
    return ds.original_encoding == (implicit, True) and ds.original_character_set == ds._character_set


def _undefined_native_pixels(ds: Dataset) -> bool:
    """dcmwrite gives native Pixel Data a defined length; a broken file may not have one."""
    pixels = ds._dict.get(PIXEL_DATA_TAG)
    if pixels is None:
        return False
    if isinstance(pixels, RawDataElement):
        return pixels.length == UNDEFINED_LENGTH
    return pixels.is_undefined_length


def _preamble(ds: Dataset) -> bytes:
    preamble = getattr(ds, "preamble", None)
    if preamble and len(preamble) != 128:
        raise ValueError("the preamble must be 128 bytes long")
    return preamble or PREAMBLE


def _synchronised_file_meta(ds: Dataset) -> FileMetaDataset:
    """dcmwrite's rules: the meta's SOP class and instance follow the dataset's.

    dcmwrite applies them to a deep copy to spare its caller; the job's dataset is ours
    and about to be written, so they are applied in place."""
    meta = ds.file_meta
    for keyword, meta_keyword in _SYNCHRONISED_UIDS:
        # Compared as raw text (UIDs are ASCII); decoded only when the meta is to change.
        value = keyword_text(ds, keyword)
        if tag_for_keyword(meta_keyword) not in meta._dict or (value and value != keyword_text(meta, meta_keyword)):
            setattr(meta, meta_keyword, ds.get(keyword))
    if not _file_meta_complete(meta):
        validate_file_meta(meta, enforce_standard=True)  # adds what is missing, or raises
    return meta


_SYNCHRONISED_UIDS = (("SOPClassUID", "MediaStorageSOPClassUID"), ("SOPInstanceUID", "MediaStorageSOPInstanceUID"))
# What validate_file_meta(enforce_standard=True) requires: with all of them present and
# not empty, and nothing outside group 0002, it changes nothing (and costs a tenth of a
# millisecond of keyword look-ups per file).
_REQUIRED_META = tuple(BaseTag(t) for t in (0x00020001, 0x00020002, 0x00020003, 0x00020010, 0x00020012))
_IMPLEMENTATION_VERSION_NAME = 0x00020013


def _file_meta_complete(meta: FileMetaDataset) -> bool:
    elements = meta._dict
    for tag in _REQUIRED_META:
        element = elements.get(tag)
        if element is None:
            return False
        if isinstance(element, RawDataElement):
            if not element.value or not element.value.strip(b" \0"):  # when unsure, pydicom decides
                return False
        elif element.is_empty:
            return False
    return _IMPLEMENTATION_VERSION_NAME in elements and all(tag >> 16 == 2 for tag in elements)


def _encode_file_meta(out: bytearray, meta: FileMetaDataset) -> None:
    """Group 0002, always explicit VR little endian, led by its group length (PS3.10 7.1)."""
    body = bytearray()
    for tag in sorted(meta._dict, key=int):
        if tag != 0x00020000:
            _encode_element(body, meta, tag, implicit=False, encodings="iso8859")
    out += struct.pack("<HH", 0x0002, 0x0000) + b"UL" + struct.pack("<HL", 4, len(body))
    out += body


def _encode_dataset(out: bytearray, ds: Dataset, implicit: bool, encodings) -> None:
    if not _encoding_kept(ds, implicit) and not _plain_in_memory(ds):
        _encode_dataset_with_pydicom(out, ds, implicit, encodings)
        return
    if SPECIFIC_CHARACTER_SET in ds._dict:
        encodings = ds[SPECIFIC_CHARACTER_SET].value
    for tag in sorted(ds._dict, key=int):  # int: BaseTag compares in Python, slowly
        if tag & 0xFFFF == 0 and tag >> 16 > 6:
            continue  # retired group lengths are not written (PS3.5 7.2)
        _encode_element(out, ds, tag, implicit, encodings)


def _plain_in_memory(ds: Dataset) -> bool:
    """A dataset built in memory (a code item stage 3 adds): pydicom would re-decode raw
    elements and resolve ambiguous VRs; with neither present, its output is ours."""
    return all(type(e) is DataElement and " or " not in e.VR for e in ds._dict.values())


def _encode_element(out: bytearray, ds: Dataset, tag: BaseTag, implicit: bool, encodings) -> None:
    element = ds._dict[tag]
    if type(element) is RawDataElement:
        if element.value is None:
            element = ds[tag]  # an empty or deferred value: decoded, as pydicom's get_item does
        elif _copyable(element, implicit):
            _encode_raw(out, element, implicit)
            return
    if isinstance(element, DataElement) and element.VR == "SQ" and not element.is_buffered:
        _encode_sequence(out, element, implicit, encodings)
        return
    value = _simple_value(element)
    if value is not None:
        _encode_header(out, tag, element.VR, len(value), implicit)
        out += value
    else:
        _encode_with_pydicom(out, element, implicit, encodings)


def _copyable(element: RawDataElement, implicit: bool) -> bool:
    if element.is_implicit_VR != implicit or not element.is_little_endian or element.is_buffered:
        return False
    return implicit or element.VR in STANDARD_VRS


def _encode_raw(out: bytearray, element: RawDataElement, implicit: bool) -> None:
    value = element.value
    tag = element.tag
    undefined = element.length == UNDEFINED_LENGTH
    if undefined and tag == 0x7FE00010 and not value.startswith(ITEM):
        raise ValueError("Pixel Data of undefined length is not encapsulated")
    _encode_header(out, tag, element.VR, UNDEFINED_LENGTH if undefined else len(value), implicit)
    out += value
    if undefined:
        out += SEQUENCE_DELIMITER


# Element headers (PS3.5 7.1): implicit (and item headers: tag, 4-byte length); explicit
# with a 2-byte length; explicit with 2 reserved bytes and a 4-byte length.
IMPLICIT_HEADER = struct.Struct("<HHL")
SHORT_HEADER = struct.Struct("<HH2sH")
LONG_HEADER = struct.Struct("<HH2s2xL")


def _encode_header(out: bytearray, tag: int, vr: str, length: int, implicit: bool) -> None:
    if implicit:
        out += IMPLICIT_HEADER.pack(tag >> 16, tag & 0xFFFF, length)
    elif vr in LONG_LENGTH_VRS:
        out += LONG_HEADER.pack(tag >> 16, tag & 0xFFFF, vr.encode("ascii"), length)
    else:
        out += SHORT_HEADER.pack(tag >> 16, tag & 0xFFFF, vr.encode("ascii"), length)


def _simple_value(element) -> bytes | None:
    """The value bytes of a decoded element whose encoding is plain, else None (pydicom's).

    Stage 3 sets mostly such values: UIDs, dummies, shifted dates, cleaned ASCII text,
    empty values. For them pydicom's writers reduce to: nothing for an empty value; text
    joined with a backslash and padded to even length (NUL for UI, space otherwise), alike
    in every character set DICOM allows as the text is ASCII; binary numbers packed little
    endian; OB bytes padded with NUL. Names, decimal and integer strings and non-ASCII text
    keep pydicom's writers."""
    if type(element) is not DataElement:
        return None
    vr, value = element.VR, element.value
    if value is None or value == "":
        return b"" if vr != "SQ" else None
    if vr in ASCII_STRING_VRS:
        return ascii_text_bytes(vr, value)
    if vr in _BINARY_NUMBER_FORMATS:
        values = value if type(value) is MultiValue else (value,)
        if not all(type(v) in (int, float) for v in values):
            return None
        return struct.pack(f"<{len(values)}{_BINARY_NUMBER_FORMATS[vr]}", *values)
    if vr == "OB" and type(value) is bytes:
        return value + b"\0" if len(value) % 2 else value
    return None


def ascii_text_bytes(vr: str, value) -> bytes | None:
    """The value bytes pydicom writes for an ASCII str (or list of them) of a string VR;
    None when the value is not such."""
    if isinstance(value, str):
        text = value
    elif type(value) is MultiValue and all(isinstance(v, str) for v in value):
        text = "\\".join(value)
    else:
        return None
    if not text.isascii():
        return None
    encoded = text.encode("ascii")
    if len(encoded) % 2:
        encoded += b"\0" if vr == "UI" else b" "
    if len(encoded) > 0xFFFF and vr not in LONG_LENGTH_VRS:
        return None  # pydicom writes such a value as UN, with a warning
    return encoded


def _encode_sequence(out: bytearray, element: DataElement, implicit: bool, encodings) -> None:
    tag = element.tag
    body = bytearray()
    for item in element.value:
        body += ITEM
        undefined_item = getattr(item, "is_undefined_length_sequence_item", False)
        content = bytearray()
        _encode_dataset(content, item, implicit, encodings)
        body += struct.pack("<L", UNDEFINED_LENGTH if undefined_item else len(content))
        body += content
        if undefined_item:
            body += ITEM_DELIMITER
    length = UNDEFINED_LENGTH if element.is_undefined_length else len(body)
    out += struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    out += struct.pack("<L", length) if implicit else b"SQ" + struct.pack("<HL", 0, length)
    out += body
    if element.is_undefined_length:
        out += SEQUENCE_DELIMITER


def _encode_dataset_with_pydicom(out: bytearray, ds: Dataset, implicit: bool, encodings) -> None:
    """A dataset built in memory (no original encoding): pydicom's rules, ambiguous VRs included."""
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, implicit
    write_dataset(buffer, ds, encodings)
    out += buffer.getvalue()


def _encode_with_pydicom(out: bytearray, element, implicit: bool, encodings) -> None:
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, implicit
    write_data_element(buffer, element, encodings)
    out += buffer.getvalue()
