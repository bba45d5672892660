"""Read explicit VR little endian data sets straight from their bytes.

The counterpart of dicom_encoding. pydicom reads a data set element by element through
a file object, a generator and a chain of checks for encodings the file does not use;
for a file of ~200 small elements that was a fifth of de-identifying it, and sequence
items pay it again with a Dataset set up per item. Here one loop walks the bytes with
precompiled structs and builds exactly the objects pydicom builds: RawDataElements
(values left undecoded, defined-length sequences left unparsed until asked for), items
with the same encoding records and positions. Whatever this loop does not expect (VR
switched to implicit, a VR of undefined length other than SQ or encapsulated pixel
data, a value running past its item, a command set) is left to pydicom, which knows
every variant, for the whole file or the whole sequence.
tests/test_dicom_decoding.py holds the result to pydicom's on its corpus.
"""

from __future__ import annotations

import io
import struct
from collections.abc import MutableSequence
from typing import cast

from pydicom import Dataset
from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import DataElement, RawDataElement, empty_value_for_VR
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.filereader import read_preamble, read_undefined_length_value
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, SequenceDelimiterTag
from pydicom.uid import UID_dictionary
from pydicom.values import convert_string

from anonymizer.dicom_encoding import (
    ASCII_STRING_VRS,
    IMPLICIT_HEADER,
    LONG_LENGTH_VRS,
    PIXEL_DATA_TAG,
    SHORT_HEADER,
    SPECIFIC_CHARACTER_SET,
    STANDARD_VRS,
    UNDEFINED_LENGTH,
    ascii_text_bytes,
)

PIXEL_DATA = 0x7FE00010
ITEM = 0xFFFEE000
ITEM_DELIMITER = 0xFFFEE00D
SEQUENCE_DELIMITER = 0xFFFEE0DD
_HEADER = SHORT_HEADER.unpack_from  # an explicit VR header; a long one reads 4 more bytes
_LONG_LENGTH = struct.Struct("<L").unpack_from
_ITEM_HEADER = IMPLICIT_HEADER.unpack_from  # tag and 4-byte length
_VR_NAMES = {vr.encode(): vr for vr in STANDARD_VRS}

Encoding = str | MutableSequence[str]


class Unusual(Exception):
    """Something this reader leaves to pydicom."""


def read_file(buffer: bytes) -> FileDataset | None:
    """The FileDataset ``dcmread(io.BytesIO(buffer))`` returns, or None when the file is
    not explicit VR little endian with a file meta group, or not as this loop expects
    (pydicom reads it then)."""
    fp = io.BytesIO(buffer)
    try:
        preamble = read_preamble(fp, False)
        file_meta, start = read_file_meta(buffer, fp.tell())
    except Exception:  # noqa: BLE001 - pydicom reads it again and reports what is wrong
        return None
    syntax = file_meta.get("TransferSyntaxUID")
    if (syntax not in UID_dictionary or UID_dictionary[syntax][1] != "Transfer Syntax"
            or syntax.is_implicit_VR or not syntax.is_little_endian or syntax.is_deflated):
        return None  # encapsulated (compressed) syntaxes are explicit VR little endian too
    if buffer[start:start + 2] == b"\x00\x00":
        return None  # a command set, which pydicom reads as implicit VR
    try:
        elements, _ = read_elements(buffer, start, len(buffer), default_encoding, 0, top_level=True)
    except (Unusual, ValueError, LookupError):
        return None  # pydicom reads it again and decides what is wrong
    dataset = _dataset(elements, default_encoding)
    ds = FileDataset(fp, dataset, preamble, file_meta, False, True)
    # As read_partial does: asking for the character set decodes (0008,0005) in place.
    ds.set_original_encoding(False, True, dataset._character_set)
    return ds


def dataset_end(ds: Dataset) -> int | None:
    """Where the last top-level element read ends, when its length tells (None for a
    sequence of undefined length, or a data set not read from bytes). Elements are
    stored in the order they were read: the last one is the file's last."""
    if not ds._dict:
        return None
    element = ds._dict[next(reversed(ds._dict))]  # type: ignore[arg-type]  # a dict, typed as a MutableMapping
    if type(element) is not RawDataElement or element.value_tell is None:
        return None
    if element.length == UNDEFINED_LENGTH:
        if int(element.tag) != PIXEL_DATA:
            return None
        return element.value_tell + len(element.value or b"") + 8  # the sequence delimiter
    return element.value_tell + element.length


def pixel_value_span(ds: Dataset) -> tuple[int, int] | None:
    """Where the top-level Pixel Data value lies in the bytes it was read from."""
    element = ds._dict.get(PIXEL_DATA_TAG)
    if not isinstance(element, RawDataElement) or element.value_tell is None or not isinstance(element.value, bytes):
        return None
    return element.value_tell, element.value_tell + len(element.value)


def read_file_meta(buffer: bytes, start: int) -> tuple[FileMetaDataset, int]:
    """Group 0002 as pydicom's _read_file_meta_info leaves it, and where the data set begins."""
    elements, end = read_elements(buffer, start, len(buffer), default_encoding, 0, only_group=0x0002)
    meta = FileMetaDataset(_dataset(elements, default_encoding))
    meta.set_original_encoding(False, True, default_encoding)
    if meta._dict:
        meta[min(meta._dict)]  # noqa: B018 - pydicom decodes the first element to test the VR encoding
    return meta, end


def sequence_items(ds: Dataset, tag: BaseTag) -> Sequence | list[Dataset]:
    """``ds[tag].value`` for an SQ element, read here when it is raw explicit VR little
    endian. As in Dataset.__getitem__, the decoded element replaces the raw one.
    (__getitem__ also passes Pixel Representation down to the items; that only settles
    ambiguous VRs of implicit-VR items, which this path never reads, so it is left out.)"""
    element = ds._dict[tag]
    if (type(element) is RawDataElement and element.VR == "SQ" and element.value
            and element.length != UNDEFINED_LENGTH and not element.is_implicit_VR and element.is_little_endian):
        try:
            sequence = read_sequence(element.value, ds.original_character_set or ds._character_set,
                                     element.value_tell)
        except Unusual:
            return ds[tag].value
        store(ds, DataElement(tag, "SQ", sequence, element.value_tell, False, already_converted=True))
        return sequence
    return ds[tag].value or []


def store(ds: Dataset, element: DataElement) -> None:
    """Put a decoded element in place of its raw one. Dataset.__setitem__ only adds, for a
    public tag, checks that cost more than the store; a private one needs it (pydicom
    records the block's creator on the element)."""
    if element.tag.is_private:
        ds[element.tag] = element
    else:
        ds._dict[element.tag] = element


def store_text(ds: Dataset, tag: BaseTag, vr: str, value) -> bool:
    """Put an ASCII text value (str or list of str) in place of a raw explicit VR little
    endian element, as the raw element a file holding that value reads into: stage 7
    copies its bytes as it does for untouched elements, and no DataElement is built and
    validated for it (stage 3 replaces ~20 values a file). False, storing nothing, when
    the element or the value is not such a one."""
    old = ds._dict[tag]
    if (type(old) is not RawDataElement or old.is_implicit_VR or not old.is_little_endian
            or vr not in ASCII_STRING_VRS or tag >> 16 & 1):
        return False  # a private tag needs Dataset.__setitem__ (store)
    encoded = ascii_text_bytes(vr, value)
    if encoded is None:
        return False
    ds._dict[tag] = _raw_element(tag, vr, len(encoded), encoded, old.value_tell)
    return True


def read_sequence(value: bytes, encoding: Encoding, offset: int) -> Sequence:
    """A defined-length SQ element's items, as pydicom's convert_SQ reads them."""
    encodings = [encoding] if isinstance(encoding, str) else encoding or [default_encoding]
    items, _ = _read_items(value, 0, len(value), encodings, offset, defined_length=True)
    sequence = Sequence(items)
    sequence.is_undefined_length = False
    return sequence


def _raw_element(tag: BaseTag, vr: str, length: int, value: bytes | None, value_tell: int) -> RawDataElement:
    """``RawDataElement(tag, vr, length, value, value_tell, False, True)`` (is_raw True,
    is_buffered False), built without the namedtuple's keyword-handling constructor, a
    third of the cost of each. tests/test_dicom_decoding.py compares every field."""
    return _new_tuple(RawDataElement, (tag, vr, length, value, value_tell, False, True, True, False))


_new_tuple = tuple.__new__


def read_elements(buf: bytes, pos: int, end: int, encoding: Encoding, offset: int,
                  top_level: bool = False, only_group: int | None = None) -> tuple[dict, int]:
    """Elements from pos up to end (or an item delimiter when end is None, or the first
    element of another group than only_group); returns them and the position after them.
    Positions recorded are pydicom's: within buf, the sequence's offset added only to
    item positions (convert_SQ does the same)."""
    elements: dict[BaseTag, RawDataElement | DataElement] = {}
    limit = len(buf) if end is None else end
    # This loop runs once per element of every file: names it uses are bound locally.
    header, vr_names, long_length_vrs, base_tag = _HEADER, _VR_NAMES, LONG_LENGTH_VRS, BaseTag
    while pos < limit:
        if pos + 8 > limit:
            raise Unusual("truncated element header")
        group, number, vr_bytes, length = header(buf, pos)
        if only_group is not None and group != only_group:
            return elements, pos
        tag = group << 16 | number
        if tag == ITEM_DELIMITER:
            if end is not None:
                raise Unusual("item delimiter inside a defined-length item")
            return elements, pos + 8
        vr = vr_names.get(vr_bytes)
        if vr is None:
            raise Unusual("VR switched or unknown")
        pos += 8
        if vr in long_length_vrs:
            if pos + 4 > limit:
                raise Unusual("truncated element header")
            length = _LONG_LENGTH(buf, pos)[0]
            pos += 4
        value_tell = pos
        btag = base_tag(tag)
        if length == UNDEFINED_LENGTH:
            if vr == "SQ":
                items, pos = _read_items(buf, pos, None, encoding, 0, defined_length=False)
                sequence = Sequence(items)
                sequence.is_undefined_length = True
                elements[btag] = DataElement(btag, vr, sequence, value_tell, is_undefined_length=True)
            elif top_level and tag == PIXEL_DATA and vr in ("OB", "OW"):
                fp = io.BytesIO(buf)
                fp.seek(pos)
                value = read_undefined_length_value(fp, True, SequenceDelimiterTag, None)
                pos = fp.tell()
                elements[btag] = RawDataElement(btag, vr, length, value, value_tell, False, True)
            else:
                raise Unusual("undefined length outside SQ and encapsulated pixel data")
            continue
        if pos + length > limit:
            raise Unusual("value runs past its data set")
        value = buf[pos:pos + length] if length else cast(bytes, empty_value_for_VR(vr, raw=True))
        pos += length
        if tag == SPECIFIC_CHARACTER_SET:
            encoding = convert_encodings(convert_string(value or b"", True))
        elements[btag] = _raw_element(btag, vr, length, value, value_tell)
    if end is None:
        raise Unusual("undefined-length item without its delimiter")
    return elements, pos


def _read_items(buf: bytes, pos: int, end: int | None, encoding: Encoding, offset: int,
                defined_length: bool) -> tuple[list[Dataset], int]:
    items: list[Dataset] = []
    limit = len(buf) if end is None else end
    while pos < limit:
        if pos + 8 > len(buf):
            raise Unusual("truncated item header")
        group, number, length = _ITEM_HEADER(buf, pos)
        tag = group << 16 | number
        if tag == SEQUENCE_DELIMITER:
            return items, pos + 8
        if tag != ITEM:
            raise Unusual("not an item")
        item_tell = pos + offset
        pos += 8
        if length == UNDEFINED_LENGTH:
            elements, pos = read_elements(buf, pos, None, encoding, 0)
        elif pos + length > len(buf):
            raise Unusual("item runs past its sequence")
        else:
            elements, pos = read_elements(buf, pos, pos + length, encoding, 0)
        item = _dataset(elements, encoding)
        # Plain instance attributes, set as such (Dataset.__setattr__ is a Python call each).
        item.__dict__.update(is_undefined_length_sequence_item=length == UNDEFINED_LENGTH,
                             seq_item_tell=item_tell, file_tell=item_tell)
        items.append(item)
    if not defined_length:
        raise Unusual("undefined-length sequence without its delimiter")
    return items, pos


def _dataset(elements: dict, parent_encoding: Encoding) -> Dataset:
    """Dataset records as pydicom's read_dataset leaves them."""
    charset = elements.get(SPECIFIC_CHARACTER_SET)
    encoding = convert_encodings(convert_string(charset.value or b"", True)) if charset is not None else parent_encoding
    if _DATASET_TEMPLATE is None:
        ds = Dataset(elements, parent_encoding=parent_encoding)
        ds.set_original_encoding(False, True, encoding)
        return ds
    # Dataset.__init__ sets its dozen attributes through Dataset.__setattr__, which checks
    # each name against the DICOM dictionary: for the items of a file's sequences that was
    # a twentieth of reading it. The same attributes, set directly:
    ds = _new_object(Dataset)
    attributes = ds.__dict__
    attributes.update(_DATASET_TEMPLATE)
    for name in _FRESH_PER_DATASET:
        attributes[name] = dict(_DATASET_TEMPLATE[name])
    attributes["_dict"] = elements
    attributes["_parent_encoding"] = parent_encoding
    attributes["_read_implicit"], attributes["_read_little"], attributes["_read_charset"] = False, True, encoding
    return ds


def _dataset_template() -> tuple[dict | None, tuple[str, ...]]:
    """A new Dataset's attributes, when they are all plain values or dicts (pydicom 3.0);
    otherwise None, and datasets are built by Dataset() itself."""
    attributes = dict(Dataset().__dict__)
    fresh = tuple(name for name, value in attributes.items() if type(value) is dict)
    plain = all(value is None or type(value) in (bool, int, str, dict) for value in attributes.values())
    expected = {"_dict", "_parent_encoding", "_read_implicit", "_read_little", "_read_charset"}
    return (attributes if plain and expected <= attributes.keys() else None), fresh


_new_object = object.__new__
_DATASET_TEMPLATE, _FRESH_PER_DATASET = _dataset_template()
