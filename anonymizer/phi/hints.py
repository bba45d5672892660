"""Copy identifying header values into PhiHints before stage 3 removes them.

Stage 5 uses them to recognise the same values burned into the pixels, and the
descriptor cleaner to strip them from free text. They live in memory only.
"""

from __future__ import annotations

from pydicom import Dataset
from pydicom.datadict import tag_for_keyword

from anonymizer.dicom_decoding import sequence_items
from anonymizer.job import PhiHints
from anonymizer.metadata.elements import element_vr, text_values

IDENTIFIER_KEYWORDS = (
    "PatientID", "OtherPatientIDs", "AccessionNumber", "IssuerOfPatientID", "StudyID",
    "MedicalRecordLocator", "RequestedProcedureID", "ScheduledProcedureStepID",
    "PerformedProcedureStepID", "AdmissionID", "ServiceEpisodeID",
    "DeviceSerialNumber", "PlateID", "CassetteID", "DetectorID",
)
INSTITUTION_KEYWORDS = (
    "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName", "StationName",
    "ReferringPhysicianAddress", "PatientAddress", "PatientTelephoneNumbers",
    "ReferringPhysicianTelephoneNumbers", "CountryOfResidence", "RegionOfResidence",
)
# Shorter fragments match too much ordinary text to be useful evidence.
MIN_HINT_LENGTH = 2


def _name_parts(value) -> set[str]:
    """A PN's components (family^given^middle^prefix^suffix, up to three groups)."""
    text = str(value)
    parts = {text.replace("^", " ").strip()}
    for group in text.split("="):
        for component in group.split("^"):
            parts.update(component.split())
    return {p.strip(" ,.") for p in parts if len(p.strip(" ,.")) >= MIN_HINT_LENGTH}


_IDENTIFIER_TAGS = {tag_for_keyword(k) for k in IDENTIFIER_KEYWORDS}
_INSTITUTION_TAGS = {tag_for_keyword(k) for k in INSTITUTION_KEYWORDS}
_KEYWORD_TAGS = _IDENTIFIER_TAGS | _INSTITUTION_TAGS
_HINT_VRS = {"PN", "DA", "DT", "SQ"}


def collect_phi_hints_beside(ds: Dataset, checked: frozenset[int]) -> tuple[PhiHints, PhiHints]:
    """All the hints, and those of every attribute but ``checked`` (fields checked against
    the rest), in one walk of the header."""
    every, beside = PhiHints(), PhiHints()
    for item, tag, vr in _walk(ds):
        targets = (every,) if int(tag) in checked else (every, beside)
        values = text_values(item, tag)
        for hints in targets:
            if vr in ("DA", "DT"):
                hints.dates |= {v[:8] for v in values if len(v) >= 8}
            elif vr == "PN":
                for value in values:
                    hints.names |= _name_parts(value)
            elif int(tag) in _IDENTIFIER_TAGS:
                hints.identifiers |= {v for v in values if len(v) >= MIN_HINT_LENGTH}
            elif int(tag) in _INSTITUTION_TAGS:
                hints.institutions |= {v for v in values if len(v) >= MIN_HINT_LENGTH}
    return every, beside


def _walk(ds: Dataset):
    """(dataset, tag, VR) of each element that can hold a hint, nested ones included,
    decoding no other value (this runs on every file)."""
    for tag, element in list(ds._dict.items()):
        vr = element_vr(element, tag)
        if vr not in _HINT_VRS and int(tag) not in _KEYWORD_TAGS:
            continue
        if vr == "SQ":
            for item in sequence_items(ds, tag):
                yield from _walk(item)
        else:
            yield ds, tag, vr
