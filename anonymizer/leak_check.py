"""Before an output is committed, search its bytes for the input's identifying values.

Stage 3 removes or replaces them; this checks that it did, whatever went wrong on the
way: a corrupt length that made a kept element swallow the ones after it, a value copied
into an attribute no rule knows, a compressed frame carrying a comment. The values are
captured when the file is opened, before any step that can fail, and live in memory
only. A hit fails the file with the kind of value found, never the value.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from pydicom import Dataset
from pydicom.dataelem import RawDataElement

from anonymizer.dicom_decoding import sequence_items
from anonymizer.metadata.elements import element_vr

MIN_LENGTH = 4  # shorter values match ordinary text and numbers by chance
# Inside the pixel data (megabytes of compressed or binary values) a 4-byte value turns up
# by chance in about one file of a hundred; 8 bytes and more never do.
MIN_LENGTH_IN_PIXELS = 8


class Identifying(str, Enum):
    """What kind of value was found; the only thing a report says about it."""

    PERSON_NAME = "a person's name"
    IDENTIFIER = "a patient or study identifier"
    BIRTH_DATE = "the patient's birth date"
    INSTITUTION = "the institution's name or address"


_TAG_KINDS = {
    0x00100020: Identifying.IDENTIFIER,  # PatientID
    0x00101000: Identifying.IDENTIFIER,  # OtherPatientIDs
    0x00080050: Identifying.IDENTIFIER,  # AccessionNumber
    0x00101090: Identifying.IDENTIFIER,  # MedicalRecordLocator
    0x00380010: Identifying.IDENTIFIER,  # AdmissionID
    0x00100030: Identifying.BIRTH_DATE,  # PatientBirthDate
    0x00080080: Identifying.INSTITUTION,  # InstitutionName
    0x00080081: Identifying.INSTITUTION,  # InstitutionAddress
    0x00081040: Identifying.INSTITUTION,  # InstitutionalDepartmentName
    0x00101040: Identifying.INSTITUTION,  # PatientAddress
    0x00080092: Identifying.INSTITUTION,  # ReferringPhysicianAddress
}


@dataclass(frozen=True)
class SealedValue:
    """One identifying element of the input: where it was, and the byte forms to look for."""

    tag: int
    vr: str
    kind: Identifying
    patterns: tuple[bytes, ...]  # whole values
    parts: tuple[bytes, ...] = ()  # a name's components, each a word of its own


def capture_sealed_values(ds: Dataset) -> list[SealedValue]:
    """Every identifying value of the header, nested ones included, from the raw bytes
    where they are still raw: a value that cannot be decoded is captured all the same."""
    captured: list[SealedValue] = []
    _capture(ds, captured)
    return captured


def capture_swallowed_values(content: bytes, skip: tuple[int, int] | None) -> list[SealedValue]:
    """Identifying elements found by their headers in the file's bytes, wherever they are.

    A corrupt length makes the element before them swallow them: the parsed data set
    never holds them, but a kept element's value then does. A header counts when its
    value is printable text of a plausible length; ``skip`` is the pixel data's value,
    whose bytes would otherwise be read as headers by chance."""
    captured: list[SealedValue] = []
    start, end = skip or (len(content), len(content))
    for tag, kind in _SCANNED_TAGS.items():
        little = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
        ats = list(_occurrences(content, little, 0, start)) + list(_occurrences(content, little, end, len(content)))
        for at in ats:
            value = _value_after_header(content, at)
            sealed = _sealed(tag, "", kind, _values(value)) if value is not None else None
            if sealed is not None:
                captured.append(sealed)
    return captured


_SCANNED_TAGS = {0x00100010: Identifying.PERSON_NAME, 0x00080090: Identifying.PERSON_NAME,
                 **{tag: kind for tag, kind in _TAG_KINDS.items()}}
_PRINTABLE = re.compile(rb"[\x20-\x7e\x80-\xff]{4,}[\x00 ]?")


def _value_after_header(content: bytes, at: int) -> bytes | None:
    """The value of an explicit (2-byte length) or implicit (4-byte length) header at ``at``."""
    for length_at, size, value_at in ((at + 6, 2, at + 8), (at + 4, 4, at + 8)):
        if size == 2 and not content[at + 4:at + 6].isalpha():
            continue
        if value_at > len(content):
            return None
        length = int.from_bytes(content[length_at:length_at + size], "little")
        if 4 <= length <= 1024 and value_at + length <= len(content):
            value = content[value_at:value_at + length]
            if _PRINTABLE.fullmatch(value):
                return value
    return None


def _capture(ds: Dataset, captured: list[SealedValue]) -> None:
    for tag, element in list(ds._dict.items()):
        number = int(tag)
        if number >> 16 & 1:
            continue  # private: removed unless allow-listed, and never a name or ID there
        vr = element_vr(element, number)
        if vr == "SQ":
            for item in sequence_items(ds, tag):
                _capture(item, captured)
            continue
        kind = Identifying.PERSON_NAME if vr == "PN" else _TAG_KINDS.get(number)
        if kind is None:
            continue
        sealed = _sealed(number, vr, kind, _values_of(element))
        if sealed is not None:
            captured.append(sealed)


def _sealed(tag: int, vr: str, kind: Identifying, values: list[bytes]) -> SealedValue | None:
    """The byte forms of an element's values, and of a name's parts; None when none is
    long enough to be evidence."""
    parts = [p for v in values for p in re.split(rb"[\^= ,]+", v)] if kind is Identifying.PERSON_NAME else []
    patterns, part_patterns = _forms(values), _forms(parts)
    if not patterns and not part_patterns:
        return None
    return SealedValue(tag, vr, kind, patterns, tuple(p for p in part_patterns if p not in patterns))


def _values_of(element) -> list[bytes]:
    if type(element) is RawDataElement:
        return _values(element.value or b"")
    value = element.value
    texts = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value or "")]
    return [t.encode("utf-8", "replace").strip(b" \x00") for t in texts]


def _forms(values: list[bytes]) -> tuple[bytes, ...]:
    """Each value as stored and, for ASCII text, as UTF-16 would hold it (a private blob
    or a re-encoded copy); only those long enough to be evidence."""
    forms = set(values)
    forms |= {value.decode("ascii").encode("utf-16-le") for value in values if value.isascii()}
    return tuple(sorted(f for f in forms if len(f.replace(b"\x00", b"")) >= MIN_LENGTH and _ALNUM.search(f)))


_ALNUM = re.compile(rb"[A-Za-z0-9\x80-\xff]")  # "----" or "^^^^" names no one


def _values(raw: bytes) -> list[bytes]:
    """The values of a multi-valued raw element, stripped of DICOM's padding."""
    return [v.strip(b" \x00") for v in raw.split(b"\\")]


def find_leak(data: bytes, sealed: list[SealedValue], pixel_span: tuple[int, int] | None,
              vocabulary: frozenset[bytes] = frozenset()) -> Identifying | None:
    """The kind of the first identifying value found in ``data``, else None.

    A value counts where it stands alone: not inside a longer word or number (a 4-digit
    ID inside a UID's digits, a name part inside a longer name), as a value copied
    through is delimited by element headers, padding or name separators. A value made
    only of words of ``vocabulary`` (what the output names as concepts and as the
    device's maker) is no evidence: a phantom's institution "TOSHIBA" beside the
    manufacturer "TOSHIBA_MEC", a test patient "Last Name^First Name" beside the concept
    "Recording Observer's Name"."""
    start, end = pixel_span or (len(data), len(data))
    # Short values are looked for outside the pixel data only: searched as two parts
    # (the header, and whatever follows the pixels), each with its own neighbours.
    outside = [data[:start], data[end:]] if end > start else [data]
    for pattern, kind in _distinct_patterns(sealed).items():
        if vocabulary and _only_vocabulary(pattern, vocabulary):
            continue
        for part in [data] if len(pattern) >= MIN_LENGTH_IN_PIXELS else outside:
            for match in _occurrences(part, pattern):
                if _stands_alone(part, match, len(pattern), pattern):
                    return kind
    return None


def _distinct_patterns(sealed: list[SealedValue]) -> dict[bytes, Identifying]:
    """Each pattern once, with the kind of the first value that has it: a name held by
    several attributes is one search of the output, not one per attribute."""
    patterns: dict[bytes, Identifying] = {}
    for value in sealed:
        for pattern in (*value.patterns, *value.parts):
            patterns.setdefault(pattern, value.kind)
    return patterns


@lru_cache(maxsize=4096)
def words(text: bytes) -> tuple[bytes, ...]:
    return tuple(w.upper() for w in re.split(rb"[^A-Za-z0-9]+", text.replace(b"\x00", b"")) if w)


def _only_vocabulary(pattern: bytes, vocabulary: frozenset[bytes]) -> bool:
    found = words(pattern)
    return bool(found) and not pattern.replace(b"\x00", b"").isdigit() and all(w in vocabulary for w in found)


def _occurrences(data: bytes, pattern: bytes, start: int = 0, end: int | None = None):
    end = len(data) if end is None else end
    position = data.find(pattern, start, end)
    while position >= 0:
        yield position
        position = data.find(pattern, position + 1, end)


_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_NUMBER = _WORD | frozenset(b".+-")


def _stands_alone(data: bytes, at: int, length: int, pattern: bytes) -> bool:
    joined = _NUMBER if pattern.isdigit() else _WORD
    step = 2 if b"\x00" in pattern else 1  # UTF-16: the neighbours are two-byte characters
    before = data[at - step] if at >= step else None
    after = data[at + length] if at + length < len(data) else None
    return before not in joined and after not in joined
