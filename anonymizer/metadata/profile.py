"""DICOM PS3.15 Table E.1-1 as data: which action applies to a tag under which options.

The table ships inside the package (data/ps3.15-table-e1-1.json, a copy of the
standard's table); nothing here hard-codes an attribute's action.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from importlib import resources


class ProfileOption(str, Enum):
    """PS3.15 E.3 options, named by the table's column keys, with their CID 7050 codes."""

    RETAIN_SAFE_PRIVATE = "rtnSafePrivOpt"
    RETAIN_UIDS = "rtnUIDsOpt"
    RETAIN_DEVICE_IDENTITY = "rtnDevIdOpt"
    RETAIN_INSTITUTION_IDENTITY = "rtnInstIdOpt"
    RETAIN_PATIENT_CHARACTERISTICS = "rtnPatCharsOpt"
    RETAIN_LONGITUDINAL_FULL_DATES = "rtnLongFullDatesOpt"
    RETAIN_LONGITUDINAL_MODIFIED_DATES = "rtnLongModifDatesOpt"
    CLEAN_DESCRIPTORS = "cleanDescOpt"
    CLEAN_STRUCTURED_CONTENT = "cleanStructContOpt"
    CLEAN_GRAPHICS = "cleanGraphOpt"


# CID 7050 code and meaning for each option; 113100 is the Basic Profile itself.
OPTION_CODES: dict[ProfileOption, tuple[str, str]] = {
    ProfileOption.CLEAN_GRAPHICS: ("113103", "Clean Graphics Option"),
    ProfileOption.CLEAN_STRUCTURED_CONTENT: ("113104", "Clean Structured Content Option"),
    ProfileOption.CLEAN_DESCRIPTORS: ("113105", "Clean Descriptors Option"),
    ProfileOption.RETAIN_LONGITUDINAL_FULL_DATES: (
        "113106", "Retain Longitudinal Temporal Information Full Dates Option"),
    ProfileOption.RETAIN_LONGITUDINAL_MODIFIED_DATES: (
        "113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
    ProfileOption.RETAIN_PATIENT_CHARACTERISTICS: ("113108", "Retain Patient Characteristics Option"),
    ProfileOption.RETAIN_DEVICE_IDENTITY: ("113109", "Retain Device Identity Option"),
    ProfileOption.RETAIN_UIDS: ("113110", "Retain UIDs Option"),
    ProfileOption.RETAIN_SAFE_PRIVATE: ("113111", "Retain Safe Private Option"),
    ProfileOption.RETAIN_INSTITUTION_IDENTITY: ("113112", "Retain Institution Identity Option"),
}
BASIC_PROFILE_CODE = ("113100", "Basic Application Confidentiality Profile")
CLEAN_PIXEL_DATA_CODE = ("113101", "Clean Pixel Data Option")

# Combined codes depend on the attribute's type in the IOD, which the table does not
# carry. We take the action valid for every type: a non-empty dummy keeps a Type 1
# attribute valid, an empty value keeps a Type 2 one present, and neither breaks a
# Type 3 one. So D wins where offered, Z otherwise, and U for UIDs.
COMBINED_CODE_RESOLUTION = {"X/Z": "Z", "X/D": "D", "Z/D": "D", "X/Z/D": "D", "X/Z/U*": "U"}
# A sequence is the exception: present with zero items it breaks a Type 3 attribute (PS3.5
# 7.5.1: a Type 3 sequence, when present, has one or more items), so X/Z there means X,
# except for the sequences PS3.3 makes Type 2 in the modules that carry them, which stay
# present with zero items (on D a sequence keeps its items, each scrubbed by its own rules).
TYPE_2_SEQUENCES = frozenset({0x00400555})  # Acquisition Context Sequence (Acquisition Context Module)

# When several options in force name an action for one attribute, the one that keeps
# most wins: an option exists to retain something, and cleaning retains more than removing.
_RETENTION_ORDER = {"K": 0, "C": 1, "U": 2, "D": 3, "Z": 4, "X": 5}


@dataclass(frozen=True)
class ProfileRow:
    pattern: str  # 8 lowercase hex digits, "x" where the tag repeats (50xx, 60xx)
    name: str
    basic: str
    options: dict[str, str]

    def action(self, options: frozenset[ProfileOption]) -> str:
        candidates = [self.options[o.value] for o in options if o.value in self.options]
        chosen = min(candidates, key=_RETENTION_ORDER.__getitem__) if candidates else self.basic
        if chosen == "X/Z" and self.name.endswith("Sequence") and int(self.pattern.replace("x", "0"), 16) \
                not in TYPE_2_SEQUENCES:
            return "X"
        return COMBINED_CODE_RESOLUTION.get(chosen, chosen)


@dataclass(frozen=True)
class ProfileTable:
    exact: dict[int, ProfileRow]
    repeating: tuple[tuple[int, int, ProfileRow], ...]  # (mask, value, row)
    private: ProfileRow

    def lookup(self, tag: int) -> ProfileRow | None:
        row = self.exact.get(tag)
        if row is not None:
            return row
        for mask, value, repeating_row in self.repeating:
            if tag & mask == value:
                return repeating_row
        return None

    def __len__(self) -> int:
        return len(self.exact) + len(self.repeating) + 1


def _pattern_mask(pattern: str) -> tuple[int, int]:
    mask = int("".join("0" if c == "x" else "f" for c in pattern), 16)
    value = int(pattern.replace("x", "0"), 16)
    return mask, value


def parse_rows(rows: list[dict]) -> ProfileTable:
    exact: dict[int, ProfileRow] = {}
    repeating: list[tuple[int, int, ProfileRow]] = []
    private = None
    for raw in rows:
        options = {k: v for k, v in raw.items() if k in {o.value for o in ProfileOption}}
        pattern = raw["id"].lower()
        row = ProfileRow(pattern, raw["name"], raw["basicProfile"], options)
        if pattern.startswith("gggg"):
            private = row
        elif "x" in pattern:
            repeating.append((*_pattern_mask(pattern), row))
        else:
            exact[int(pattern, 16)] = row
    if private is None:
        raise ValueError("profile table has no private-attributes row")
    return ProfileTable(exact, tuple(repeating), private)


@lru_cache(maxsize=1)
def load_profile_table() -> ProfileTable:
    text = resources.files("anonymizer.metadata").joinpath("data/ps3.15-table-e1-1.json").read_text()
    return parse_rows(json.loads(text))


@lru_cache(maxsize=1)
def device_identity_tags() -> frozenset[int]:
    """The attributes Retain Device Identity keeps (the table's rtnDevIdOpt K rows)."""
    table = load_profile_table()
    option = ProfileOption.RETAIN_DEVICE_IDENTITY.value
    return frozenset(tag for tag, row in table.exact.items() if row.options.get(option) == "K")
