"""Every common rendering of a DICOM date, to recognise it in burned-in text."""

from __future__ import annotations

from datetime import date

_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def date_renderings(yyyymmdd: str) -> set[str]:
    try:
        day = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except (ValueError, IndexError):
        return set()
    y, yy = f"{day.year:04d}", f"{day.year % 100:02d}"
    m, d = f"{day.month:02d}", f"{day.day:02d}"
    mon = _MONTH_NAMES[day.month - 1]
    forms = {f"{y}{m}{d}"}
    for sep in ".-/ ":
        forms |= {
            f"{y}{sep}{m}{sep}{d}", f"{m}{sep}{d}{sep}{y}", f"{d}{sep}{m}{sep}{y}",
            f"{m}{sep}{d}{sep}{yy}", f"{d}{sep}{m}{sep}{yy}",
            f"{day.month}{sep}{day.day}{sep}{y}", f"{day.day}{sep}{day.month}{sep}{y}",
        }
    forms |= {f"{d} {mon} {y}", f"{d}-{mon}-{y}", f"{d}{mon}{y}", f"{mon} {d} {y}",
              f"{mon} {d}, {y}", f"{day.day} {mon} {y}", f"{d}-{mon}-{yy}"}
    return forms
