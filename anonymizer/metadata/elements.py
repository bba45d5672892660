"""Look at a data element without decoding its value (lazy reading is what makes stage 3 fast)."""

from __future__ import annotations

from functools import cache

from pydicom import Dataset
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag

# VRs whose values are ASCII by definition (PS3.5 6.2): raw bytes need no character set.
ASCII_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI", "UR"})


def element_vr(ds: Dataset, tag: BaseTag) -> str:
    """The VR of a raw or decoded element; implicit-VR files leave it to the dictionary."""
    return ds._dict[tag].VR or vr_from_dictionary(int(tag))


@cache
def vr_from_dictionary(tag: int) -> str:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def text_values(ds: Dataset, tag: BaseTag) -> list[str]:
    """An element's values as stripped strings ([] when empty).

    A raw element of an ASCII VR is read straight from its bytes: pydicom's conversion
    builds and validates value objects (UID, DA) that stage 3 would only turn back into
    text to map a UID or shift a date."""
    element = ds._dict[tag]
    if type(element) is RawDataElement and element.value is not None:
        vr = element.VR or element_vr(ds, tag)
        if vr in ASCII_VRS:
            try:
                text = element.value.decode("ascii")
            except UnicodeDecodeError:
                pass  # not what the standard allows: pydicom's decoding decides
            else:
                values = [v.strip(" \0") for v in text.split("\\")]
                return values if any(values) else []
    value = ds[tag].value
    if value is None or value == "":
        return []
    if isinstance(value, (MultiValue, list, tuple)):
        return [str(v).strip() for v in value]
    return [str(value).strip()]
