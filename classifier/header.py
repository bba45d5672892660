"""Classify a DICOM file from its header: Modality, BodyPartExamined, SOP Class."""

from __future__ import annotations

import re

from pydicom import Dataset

from anonymizer.metadata.elements import keyword_text
from classifier.result import Classification

DENTAL_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.1.3",    # Digital Intra-Oral X-Ray, for presentation
    "1.2.840.10008.5.1.4.1.1.1.3.1",  # Digital Intra-Oral X-Ray, for processing
}
# Words of BodyPartExamined (CID 4031 values) and of descriptions, by anatomy.
ANATOMY_WORDS = {
    "dental": ("DENTAL", "TOOTH", "TEETH", "JAW", "MANDIBLE", "MAXILLA", "TMJ", "PANORAMIC", "PANO", "ORAL"),
    "skull": ("SKULL", "HEAD", "BRAIN", "CRANIUM", "CEREBRAL", "SINUS", "ORBIT", "FACE", "HEADNECK"),
    "chest": ("CHEST", "THORAX", "LUNG", "LUNGS", "RIB", "RIBS", "HEART", "CARDIAC", "MEDIASTINUM", "CXR"),
    "pelvic": ("PELVIS", "PELVIC", "HIP", "HIPS", "SACRUM", "PROSTATE", "BLADDER", "UTERUS", "OVARY"),
}
DENTAL_MODALITIES = {"IO", "PX"}


def _words(text: str) -> set[str]:
    return set(re.split(r"[^A-Z]+", text.upper()))


def anatomy_from_header(ds: Dataset) -> str:
    if keyword_text(ds, "SOPClassUID") in DENTAL_SOP_CLASSES or keyword_text(ds, "Modality") in DENTAL_MODALITIES:
        return "dental"
    # Most specific source first: the coded body part, then the free-text descriptions.
    for keyword in ("BodyPartExamined", "StudyDescription", "SeriesDescription", "ProtocolName"):
        words = _words(keyword_text(ds, keyword))
        for anatomy, anatomy_words in ANATOMY_WORDS.items():
            if words & set(anatomy_words):
                return anatomy
    return "other"


def classify_header(ds: Dataset) -> Classification:
    """A DICOM object is a medical record by definition; the header names its anatomy."""
    modality = keyword_text(ds, "Modality") or "unknown modality"
    return Classification(True, anatomy_from_header(ds), "DICOM header", modality)
