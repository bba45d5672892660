"""Dummy values that are valid for each VR (PS3.15 action D)."""

from __future__ import annotations

DUMMY_TEXT = "ANONYMIZED"

DUMMY_BY_VR: dict[str, object] = {
    "AE": DUMMY_TEXT,
    "AS": "000D",
    "CS": DUMMY_TEXT,
    "DA": "19000101",
    "DS": "0",
    "DT": "19000101000000",
    "IS": "0",
    "LO": DUMMY_TEXT,
    "LT": DUMMY_TEXT,
    "PN": DUMMY_TEXT,
    "SH": DUMMY_TEXT,
    "ST": DUMMY_TEXT,
    "TM": "000000",
    "UC": DUMMY_TEXT,
    "UR": "",
    "UT": DUMMY_TEXT,
    "FL": 0.0,
    "FD": 0.0,
    "SL": 0,
    "SS": 0,
    "SV": 0,
    "UL": 0,
    "US": 0,
    "UV": 0,
    "AT": 0,
    "OB": b"\x00\x00",
    "OD": b"\x00" * 8,
    "OF": b"\x00" * 4,
    "OL": b"\x00" * 4,
    "OV": b"\x00" * 8,
    "OW": b"\x00\x00",
    "UN": b"\x00\x00",
}


def dummy_value(vr: str) -> object:
    return DUMMY_BY_VR.get(vr, DUMMY_TEXT)


def empty_value(vr: str) -> object:
    if vr == "SQ":
        return []
    if vr in ("OB", "OD", "OF", "OL", "OV", "OW", "UN"):
        return b""
    return None
