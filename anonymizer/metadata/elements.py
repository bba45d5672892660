"""Look at a data element without decoding its value (lazy reading is what makes stage 3 fast)."""

from __future__ import annotations

from pydicom import Dataset
from pydicom.datadict import dictionary_VR
from pydicom.tag import BaseTag


def element_vr(ds: Dataset, tag: BaseTag) -> str:
    """The VR of a raw or decoded element; implicit-VR files leave it to the dictionary."""
    vr = ds.get_item(tag).VR
    if vr:
        return vr
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"
