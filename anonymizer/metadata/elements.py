"""Look at a data element without decoding its value (lazy reading is what makes stage 3 fast)."""

from __future__ import annotations

from functools import cache

from pydicom import Dataset
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag

# VRs whose values are ASCII by definition (PS3.5 6.2): raw bytes need no character set.
ASCII_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI", "UR"})
STRING_VRS = ASCII_VRS | {"LO", "LT", "PN", "SH", "ST", "UC", "UT"}
# Text VRs whose backslash is a character, not a value separator (PS3.5 6.2).
SINGLE_VALUE_TEXT_VRS = frozenset({"LT", "ST", "UT", "UR"})


def element_vr(element, tag: int) -> str:
    """The VR of a raw or decoded element; implicit-VR files leave it to the dictionary."""
    return element.VR or vr_from_dictionary(int(tag))


@cache
def vr_from_dictionary(tag: int) -> str:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def text_values(ds: Dataset, tag: BaseTag) -> list[str]:
    """An element's values as stripped strings ([] when empty).

    A raw string element whose bytes are plain ASCII is read straight from them: every
    character set DICOM allows encodes ASCII alike (ISO 2022 switches only after an ESC),
    and pydicom's conversion builds and validates value objects (UID, DA, PersonName)
    that stage 3 would only turn back into text to map a UID, shift a date or match a name."""
    element = ds._dict[tag]
    if type(element) is RawDataElement and element.value is not None:
        vr = element_vr(element, tag)
        raw = element.value
        if vr in STRING_VRS and raw.isascii() and b"\x1b" not in raw:
            text = raw.decode("ascii")
            values = [text] if vr in SINGLE_VALUE_TEXT_VRS else text.split("\\")
            values = [v.strip(" \0") for v in values]
            return values if any(values) else []
    value = ds[tag].value
    if value is None or value == "":
        return []
    if isinstance(value, (MultiValue, list, tuple)):
        return [str(v).strip() for v in value]
    return [str(value).strip()]


def keyword_text(ds: Dataset, keyword: str) -> str:
    """A string attribute's value ("" when absent), read the cheap way (text_values)."""
    tag = tag_for_keyword(keyword)
    if tag is None or tag not in ds._dict:
        return ""
    return "\\".join(text_values(ds, BaseTag(tag)))


def has_value(ds: Dataset, keyword: str) -> bool:
    """Present and not empty, without decoding a raw value."""
    tag = tag_for_keyword(keyword)
    element = ds._dict.get(BaseTag(tag)) if tag is not None else None
    if element is None:
        return False
    if type(element) is RawDataElement:
        return bool(element.length) and element.value not in (None, b"")
    return element.value not in (None, "", b"")
