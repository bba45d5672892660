"""The figures /api/stats serves, counted in the database (never by re-reading files)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from anonymizer.service.models import FileOutcome, FileRecord

FAILURE_REASONS_SHOWN = 20
_DIGITS = re.compile(r"\d+")


def reason_class(reason: str) -> str:
    """A failure's reason with its numbers masked: "needs 3.2 GiB" and "needs 4.1 GiB" are
    one reason. The pipeline's reasons name no value of the file; numbers are the only
    part that varies from file to file."""
    return _DIGITS.sub("N", reason.strip())[:200]


def output_modality(output: Path) -> str:
    """Modality, read from a de-identified output or held copy: it identifies no one."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return str(pydicom.dcmread(output, stop_before_pixels=True, specific_tags=["Modality"])
                   .get("Modality", ""))[:16]
    except (OSError, ValueError, InvalidDicomError):
        return ""


def _totals(rows: Iterable[Row | tuple]) -> dict[str, int]:
    totals = {"files": 0, "with_burned_in_text": 0, "redacted": 0, "held": 0, "released_after_review": 0,
              "expired_unreviewed": 0, "rejected": 0, "failed_input": 0, "failed_internal": 0}
    for outcome, failure, found, redacted, count in rows:
        totals["files"] += count
        totals["with_burned_in_text"] += count if found else 0
        totals["redacted"] += count if redacted else 0
        if outcome == FileOutcome.HELD:
            totals["held"] += count
        elif outcome == FileOutcome.RELEASED:
            totals["released_after_review"] += count
        elif outcome == FileOutcome.EXPIRED:
            totals["expired_unreviewed"] += count
        elif outcome == FileOutcome.REJECTED:
            totals["rejected"] += count
        elif outcome == FileOutcome.FAILED:
            totals["failed_internal" if failure == "internal" else "failed_input"] += count
    return totals


def statistics(session: Session) -> dict:
    found = FileRecord.regions_found > 0
    redacted = FileRecord.regions_redacted > 0
    day = func.substr(func.cast(FileRecord.processed_at, type_=FileRecord.name.type), 1, 10)
    columns = (FileRecord.outcome, FileRecord.failure, found, redacted, func.count())
    grouping = (FileRecord.outcome, FileRecord.failure, found, redacted)
    overall = _totals(session.execute(select(*columns).group_by(*grouping)))
    by_modality: dict[str, list[tuple]] = {}
    for row in session.execute(select(FileRecord.modality, *columns).group_by(FileRecord.modality, *grouping)):
        by_modality.setdefault(row[0] or "unknown", []).append(row[1:])
    by_day: dict[str, list[tuple]] = {}
    for row in session.execute(select(day, *columns).group_by(day, *grouping)):
        by_day.setdefault(str(row[0]), []).append(row[1:])
    failures = session.execute(
        select(FileRecord.reason, func.count()).where(FileRecord.outcome == FileOutcome.FAILED)
        .group_by(FileRecord.reason).order_by(func.count().desc(), FileRecord.reason).limit(FAILURE_REASONS_SHOWN))
    return {**overall, "failure_reasons": {reason or "unknown": count for reason, count in failures},
            "by_modality": {name: _totals(rows) for name, rows in sorted(by_modality.items())},
            "by_day": {name: _totals(rows) for name, rows in sorted(by_day.items())}}
