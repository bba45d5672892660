"""Synthetic multi-patient DICOM corpus with known identifiers, built from pydicom's real files.

Identifiers are planted in standard attributes, nested sequences, a private block and
free text; the ground truth says what must vanish, what must stay, and how UIDs, dates
and patient IDs relate across files.

    python benchmarks/header_corpus.py OUT_DIR [--patients 20]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

BASE_FILES = ("CT_small.dcm", "MR_small.dcm")
FAMILY = ("HARTMANN", "OKONKWO", "LINDQVIST", "TAKAHASHI", "MORENO", "DUBOIS", "KOWALSKI", "NAKAMURA", "OSEI",
          "BRENNAN", "IVANOVA", "HALVORSEN", "ABERNATHY", "CASTELLANOS", "WINTERBOTTOM", "FAIRWEATHER")
GIVEN = ("MARGARETHE", "CHIDIEBERE", "ASTRID", "HIROSHI", "ESPERANZA", "GENEVIEVE", "ZBIGNIEW", "YUKIKO",
         "KWABENA", "SIOBHAN", "SVETLANA", "TORBJORN", "PERCIVAL", "REMEDIOS", "BARNABY", "CORDELIA")
CITIES = ("Springfield", "Riverton", "Lakewood", "Fairview", "Greenville")
# Attributes that identify no one and must come through unchanged.
RETAINED = ("Modality", "Rows", "Columns", "BitsStored", "PhotometricInterpretation", "SliceThickness",
            "PixelSpacing", "Manufacturer", "ImageType", "SamplesPerPixel", "RescaleIntercept")
CLINICAL_WORDS = ("CHEST", "CONTRAST", "FOLLOW-UP")


def uid(*parts) -> str:
    digest = int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:24], 16)
    return f"1.2.826.0.1.3680043.10.1137.{digest}"


def build(out_dir: Path, patients: int = 20) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    truth = {"files": {}, "patients": {}}
    for p in range(patients):
        family, given = FAMILY[p % len(FAMILY)] + ("" if p < len(FAMILY) else str(p)), GIVEN[(p * 7) % len(GIVEN)]
        pid = f"MRN{480000 + p * 7919}"
        birth = date(1940 + p % 50, 1 + p % 12, 1 + p % 27)
        phone = f"555-{200 + p:03d}-{4000 + p * 3:04d}"
        institution = f"{CITIES[p % len(CITIES)]} General Hospital"
        physician = f"{FAMILY[(p + 5) % len(FAMILY)]}^{GIVEN[(p + 3) % len(GIVEN)]}"
        identifiers = [family, given, pid, birth.strftime("%Y%m%d"), phone, institution,
                       physician.split("^")[0]]
        truth["patients"][pid] = identifiers
        previous_sop = None
        for s in range(2):
            study_uid = uid("study", p, s)
            study_date = date(2019, 3, 1) + timedelta(days=p * 11 + s * 30)
            accession = f"ACC{p:03d}{s}{p * 31 % 97:02d}"
            for k, base_name in enumerate(BASE_FILES):
                series_uid = uid("series", p, s, k)
                for i in range(3):
                    ds = pydicom.dcmread(get_testdata_file(base_name, download=False))
                    sop = uid("sop", p, s, k, i)
                    ds.SOPInstanceUID = sop
                    ds.file_meta.MediaStorageSOPInstanceUID = sop
                    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
                    ds.FrameOfReferenceUID = uid("for", p, s, k)
                    ds.PatientName = f"{family}^{given}"
                    ds.PatientID = pid
                    ds.PatientBirthDate = birth.strftime("%Y%m%d")
                    ds.AccessionNumber = accession
                    ds.InstitutionName = institution
                    ds.ReferringPhysicianName = physician
                    ds.PatientTelephoneNumbers = phone
                    ds.StudyDate = ds.SeriesDate = ds.ContentDate = study_date.strftime("%Y%m%d")
                    ds.StudyDescription = f"CT CHEST CONTRAST FOLLOW-UP {family} {pid}"
                    ds.ImageComments = f"Pt {given} {family} DOB {birth:%m/%d/%Y} tel {phone}"
                    request = Dataset()
                    request.RequestedProcedureID = accession
                    request.ScheduledProcedureStepID = f"SPS{pid}"
                    ds.RequestAttributesSequence = Sequence([request])
                    other = Dataset()
                    other.PatientID = f"{pid}-OLD"
                    other.TypeOfPatientID = "TEXT"
                    ds.OtherPatientIDsSequence = Sequence([other])
                    if previous_sop:
                        ref = Dataset()
                        ref.ReferencedSOPClassUID = ds.SOPClassUID
                        ref.ReferencedSOPInstanceUID = previous_sop
                        ds.ReferencedImageSequence = Sequence([ref])
                    block = ds.private_block(0x0009, "ACME_PACS 1.0", create=True)
                    block.add_new(0x01, "LO", f"{family} {given}")
                    block.add_new(0x02, "LO", pid)
                    name = f"p{p:03d}_s{s}_{k}_{i}.dcm"
                    ds.save_as(out_dir / name)
                    truth["files"][name] = {
                        "patient": pid, "study_uid": study_uid, "series_uid": series_uid, "sop_uid": sop,
                        "referenced_sop": previous_sop, "study_date": ds.StudyDate,
                        "identifiers": identifiers + [accession, f"SPS{pid}"],
                        "retained": {kw: str(ds[kw].value) for kw in RETAINED if kw in ds},
                        "pixel_sha256": hashlib.sha256(ds.PixelData).hexdigest(),
                    }
                    previous_sop = sop
    (out_dir.parent / f"{out_dir.name}-truth.json").write_text(json.dumps(truth, indent=1))
    return truth


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--patients", type=int, default=20)
    args = parser.parse_args()
    truth = build(args.out_dir, args.patients)
    print(f"{len(truth['files'])} files for {len(truth['patients'])} patients in {args.out_dir}")
