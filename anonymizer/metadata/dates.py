"""Shift DA and DT values by a whole number of days, keeping their precision."""

from __future__ import annotations

from datetime import date, timedelta


def shift_da(value: str, days: int) -> str | None:
    """YYYYMMDD shifted; None when the value is not a full date (caller removes it)."""
    text = value.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        day = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None
    try:
        return (day + timedelta(days=days)).strftime("%Y%m%d")
    except OverflowError:
        return None


def shift_dt(value: str, days: int) -> str | None:
    """YYYYMMDD[HHMMSS.FFFFFF][&ZZXX]: the date part moves, the rest is kept."""
    text = value.strip()
    shifted = shift_da(text[:8], days)
    if shifted is None:
        return None
    return shifted + text[8:]
