"""Score de-identified output against the synthetic corpus's truth, in MIDI-B's categories.

Each check passes or fails; a category's score is passed / total, and the overall score
is all passed checks over all checks.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date
from pathlib import Path

import pydicom

from header_corpus import CLINICAL_WORDS

CATEGORIES = ("tag retained", "text retained", "text removed", "date shifted", "UID changed",
              "UID consistent", "patient ID consistent", "pixels retained")


def _days(value: str) -> int | None:
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8])).toordinal()
    except (ValueError, TypeError):
        return None


def score(truth: dict, outputs: dict[str, Path | None]) -> dict[str, tuple[int, int]]:
    results = {c: [0, 0] for c in CATEGORIES}

    def check(category: str, ok: bool) -> None:
        results[category][0] += bool(ok)
        results[category][1] += 1

    new_uid: dict[str, set[str]] = defaultdict(set)
    new_pid: dict[str, set[str]] = defaultdict(set)
    offsets: dict[str, set[int]] = defaultdict(set)
    datasets = {}
    for name, facts in truth["files"].items():
        path = outputs.get(name)
        if path is None or not Path(path).is_file():
            for category in CATEGORIES:
                check(category, False)
            continue
        data = Path(path).read_bytes()
        ds = pydicom.dcmread(path)
        datasets[name] = ds
        text = data.decode("latin-1").upper()
        for keyword, value in facts["retained"].items():
            check("tag retained", keyword in ds and str(ds[keyword].value) == value)
        description = str(ds.get("StudyDescription", "")).upper()
        for word in CLINICAL_WORDS:
            check("text retained", word in description)
        for identifier in facts["identifiers"]:
            check("text removed", identifier.upper() not in text)
        shifted = _days(str(ds.get("StudyDate", "")))
        original = _days(facts["study_date"])
        check("date shifted", shifted is not None and shifted != original)
        if shifted is not None:
            offsets[facts["patient"]].add(shifted - original)
        for key in ("study_uid", "series_uid", "sop_uid"):
            check("UID changed", facts[key].encode() not in data)
        new_uid[facts["study_uid"]].add(str(ds.get("StudyInstanceUID", "")))
        new_uid[facts["series_uid"]].add(str(ds.get("SeriesInstanceUID", "")))
        new_pid[facts["patient"]].add(str(ds.get("PatientID", "")))
        check("pixels retained", hashlib.sha256(ds.get("PixelData", b"")).hexdigest() == facts["pixel_sha256"])
    for uids in new_uid.values():
        check("UID consistent", len(uids) == 1 and "" not in uids)
    for name, facts in truth["files"].items():  # references follow the instance they point to
        referenced = facts.get("referenced_sop")
        if not referenced or name not in datasets:
            continue
        target = next(n for n, f in truth["files"].items() if f["sop_uid"] == referenced)
        sequence = datasets[name].get("ReferencedImageSequence") or []
        ok = target in datasets and len(sequence) and \
            sequence[0].get("ReferencedSOPInstanceUID") == datasets[target].get("SOPInstanceUID", "-")
        check("UID consistent", bool(ok))
    all_pids = [p for pids in new_pid.values() for p in pids]
    for patient, pids in new_pid.items():
        check("patient ID consistent", len(pids) == 1 and "" not in pids and all_pids.count(next(iter(pids))) == 1)
    for patient, deltas in offsets.items():
        check("date shifted", len(deltas) == 1)  # intervals within a patient preserved
    return {c: (p, t) for c, (p, t) in results.items()}


def overall(results: dict[str, tuple[int, int]]) -> float:
    passed = sum(p for p, _ in results.values())
    total = sum(t for _, t in results.values())
    return 100.0 * passed / total if total else 0.0
