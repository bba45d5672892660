"""Stage 7's last look at a DICOM output before it is committed.

The encoded bytes are read back strictly, every element is checked for a length and a
VR its tag can have, and the bytes are searched for the input's identifying values
(leak_check). A corrupt input shows here: an element whose length ran on swallows the
elements after it, which surface as control bytes in a text value, a binary value where
the dictionary says text, or a length no value of the tag can have. Such a file fails;
nothing of it is written.
"""

from __future__ import annotations

import io
from functools import lru_cache

import pydicom
from pydicom import Dataset, config
from pydicom.datadict import dictionary_VM
from pydicom.dataelem import RawDataElement

from anonymizer.dicom_decoding import dataset_end, pixel_value_span, read_file, sequence_items
from anonymizer.errors import InvalidInput, UnsafeToWrite
from anonymizer.leak_check import SealedValue, find_leak, words
from anonymizer.metadata.elements import STRING_VRS, element_vr, vr_from_dictionary

FIXED_SIZE_VRS = {"US": 2, "SS": 2, "UL": 4, "SL": 4, "FL": 4, "AT": 4, "FD": 8, "SV": 8, "UV": 8,
                  "OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
OTHER_VRS = frozenset({"OB", "OW", "OF", "OL", "OD", "OV"})
BINARY_VRS = frozenset(FIXED_SIZE_VRS) | {"OB"}
# Text may hold TAB, LF, FF, CR and ESC (ISO 2022 code extensions); no other control byte.
_CONTROL_BYTES = bytes(set(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B})


def check_dicom_output(data: bytes, sealed: list[SealedValue]) -> None:
    """Raise unless ``data`` reads back strictly, every element is plausible, and no
    identifying value of the input is in it."""
    ds = read_back(data)
    try:
        tag = implausible_element(ds, top_level=True)
    except RecursionError:
        raise InvalidInput("sequences nested too deep to check: the input is corrupt") from None
    if tag is not None:
        raise InvalidInput(f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) has a length or VR its tag cannot "
                           "have: the input is corrupt")
    found = find_leak(data, sealed, pixel_value_span(ds), vocabulary_words(ds))
    if found is not None:
        raise UnsafeToWrite(f"the output would still hold {found.value}: not written")


def read_back(data: bytes) -> Dataset:
    """The output as a strict reader sees it: no forcing, truncation an error."""
    try:
        ds = read_file(data)
        if ds is None:
            mode = config.settings.reading_validation_mode
            config.settings.reading_validation_mode = config.RAISE
            try:
                ds = pydicom.dcmread(io.BytesIO(data))
            finally:
                config.settings.reading_validation_mode = mode
    except Exception as exc:  # noqa: BLE001 - what a strict reader refuses, whatever it raises
        raise UnsafeToWrite(f"the output does not read back as DICOM ({type(exc).__name__})") from None
    end = None if ds.file_meta.TransferSyntaxUID.is_deflated else dataset_end(ds)
    if end is not None and end != len(data):
        raise UnsafeToWrite("the output does not read back to its end")
    return ds


# Values that name concepts or the device's maker: words no one is identified by.
VOCABULARY_TAGS = frozenset({0x00080104, 0x00080070, 0x00081090})  # CodeMeaning, Manufacturer, model


def vocabulary_words(ds: Dataset) -> frozenset[bytes]:
    """The words of those values anywhere in the data set (its sequences are read by now)."""
    found: set[bytes] = set()
    for tag, element in ds._dict.items():
        if int(tag) in VOCABULARY_TAGS and type(element) is RawDataElement and element.value:
            found.update(words(element.value))
        elif element_vr(element, int(tag)) == "SQ" and type(element) is not RawDataElement:
            for item in element.value or []:
                if isinstance(item, Dataset):
                    found |= vocabulary_words(item)
    return frozenset(found)


def implausible_element(ds: Dataset, top_level: bool = False) -> int | None:
    """The first element, nested ones included, whose length or VR its tag cannot have."""
    for tag, element in list(ds._dict.items()):
        number = int(tag)
        if top_level and number >> 16 == 0xFFFE:
            return number  # an item or delimiter outside any sequence
        vr = element_vr(element, number)
        if vr == "SQ":
            try:
                items = sequence_items(ds, tag)
            except RecursionError:
                raise
            except Exception:  # noqa: BLE001 - a sequence that does not parse is corrupt
                return number
            for item in items:
                found = implausible_element(item)
                if found is not None:
                    return found
            continue
        if type(element) is RawDataElement and element.value is not None and not _plausible(number, vr, element.value):
            return number
    return None


def _plausible(tag: int, vr: str, value: bytes) -> bool:
    # Short binary values are cached: multi-frame functional groups repeat them frame
    # after frame. Text is not (no name outlives its file in memory), nor long values.
    if len(value) <= 64 and vr not in STRING_VRS:
        return _plausible_short(tag, vr, value)
    return _plausible_value(tag, vr, value)


@lru_cache(maxsize=8192)
def _plausible_short(tag: int, vr: str, value: bytes) -> bool:
    return _plausible_value(tag, vr, value)


def _plausible_value(tag: int, vr: str, value: bytes) -> bool:
    expected = vr_from_dictionary(tag) if not tag >> 16 & 1 else "UN"
    if vr == "UN" and expected in STRING_VRS:
        vr = expected  # a reader decodes it by the dictionary (pydicom does by default)
    if " or " not in expected and expected != "UN" and vr != "UN":
        if (vr in STRING_VRS and expected in BINARY_VRS) or (vr in BINARY_VRS and expected in STRING_VRS):
            return False
    if vr in STRING_VRS:
        return all(_free_of_control_bytes(v.rstrip(b"\x00 ")) for v in value.split(b"\\"))
    size = FIXED_SIZE_VRS.get(vr)
    if size is None:
        return True
    if len(value) % size:
        return False
    multiplicity = _fixed_multiplicity(tag) if vr not in OTHER_VRS else None  # an O* value is one string
    return multiplicity is None or len(value) in (0, size * multiplicity)


def _free_of_control_bytes(text: bytes) -> bool:
    return len(text.translate(None, _CONTROL_BYTES)) == len(text)


def _fixed_multiplicity(tag: int) -> int | None:
    if tag >> 16 & 1:
        return None
    try:
        vm = dictionary_VM(tag)
    except KeyError:
        return None
    return int(vm) if vm.isdigit() else None
