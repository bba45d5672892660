"""Patterns that identify on their own, whoever the patient: dates, IDs, phones, e-mail."""

from __future__ import annotations

import re

_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|SEPT|OCT|NOV|DEC"

PHI_PATTERNS: dict[str, re.Pattern[str]] = {
    "date": re.compile(
        r"\b(\d{1,4}[./\-]\d{1,2}[./\-]\d{2,4}"
        rf"|\d{{1,2}}[ \-]?(?:{_MONTHS})[A-Z]*[ \-,]*\d{{2,4}}"
        rf"|(?:{_MONTHS})[A-Z]*[ \-.]?\d{{1,2}},?[ \-]?\d{{2,4}}"
        r"|(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))\b",
        re.IGNORECASE,
    ),
    "time": re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AP]M)?\b", re.IGNORECASE),
    "email": re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    "phone": re.compile(r"(?<!\w)(?:\+?\d{1,3}[ .\-]?)?(?:\(\d{2,4}\)|\d{2,4})[ .\-]\d{3,4}[ .\-]\d{3,4}(?!\w)"),
    # An age as DICOM writes it (035Y, 006M; glued to the sex: F035Y) or in years (73 YO):
    # PS3.15 removes PatientAge, and a burned-in one identifies as much.
    "age": re.compile(r"(?:\b[FM]?|(?<=AGE))\d{3}[YMWD]\b|\b\d{1,3}\s?(?:YRS?|YO|Y/O)\b|\bAGE\s*[:.]?\s*\d{1,3}\b",
                      re.IGNORECASE),
    "long digit run": re.compile(r"\b\d{5,}\b"),
    # Letters and at least three digits, 6+ characters: A1234567, NT449142 (not T2FLAIR).
    "id-like token": re.compile(r"\b(?=(?:[A-Z-]*\d){3})(?=[A-Z0-9-]*[A-Z])[A-Z0-9]{2,}-?[A-Z0-9]{3,}\b"),
}

# Words that announce an identifier; the text after them is PHI.
PHI_LABELS = re.compile(
    r"\b(NAME|PATIENT|PAT|DOB|D\.O\.B|BIRTH|BORN|AGE|MRN|MR#|ID|ACC|ACCESSION|SSN|ADDRESS|PHONE|TEL"
    # Staff are identifiers too (PS3.15 removes the physicians' and operators' names); a
    # title before a name only with its period: DR alone is the modality.
    r"|REF|REFERRING|PHYSICIAN|OPERATOR|DR(?=\.))\b\s*[:#.]?",
    re.IGNORECASE,
)


def find_patterns(text: str, kinds: tuple[str, ...] | None = None) -> list[tuple[str, int, int]]:
    """(kind, start, end) of every pattern match in ``text``."""
    found: list[tuple[str, int, int]] = []
    for kind, pattern in PHI_PATTERNS.items():
        if kinds is not None and kind not in kinds:
            continue
        found.extend((kind, m.start(), m.end()) for m in pattern.finditer(text))
    return found
