"""The review queue: files a job held for a person, decided box by box in the service.

The held copy, its previews and its record stay where the pipeline wrote them, in the
job's output under review/ (the quarantine). A decision goes through the same code as
`medical-anonymizer review` (release.py), so a file released here is painted, checked and
written exactly as one released from the shell. The database keeps the queue and the audit
(who decided which box, when), never what a box showed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from anonymizer.hold import (
    HOLD_DIR,
    Decision,
    HeldBox,
    HeldFile,
    HoldError,
    PaintedBox,
    held_files,
    read_sidecar,
    sidecar_path,
)
from anonymizer.service.accounts import Principal, as_utc, now
from anonymizer.service.models import (
    FileOutcome,
    FileRecord,
    JobFile,
    JobFileState,
    ReviewDecision,
    ReviewItem,
    ReviewState,
    User,
)
from anonymizer.service.settings import ServiceSettings
from anonymizer.service.statistics import output_modality


class ReviewError(ValueError):
    """A refused decision; the message names the reason."""


class ReviewSummary(BaseModel):
    """A queue entry as GET /api/review shows it."""

    id: int
    job_id: int | None  # none for a file of a watched review folder (the gateway's)
    name: str  # the name the user gave the file (a watched folder's: its held file's name)
    boxes: int
    state: ReviewState
    held_at: datetime


class DecisionView(BaseModel):
    box: int
    decision: str
    by: str
    at: datetime


class ReviewDetail(ReviewSummary):
    held: list[HeldBox]  # left for a person, as its hold record lists it
    painted: list[PaintedBox]  # painted by the machine on evidence
    previews: int  # GET /api/review/{id}/preview/{1..previews}
    decisions: list[DecisionView]  # the audit: who decided which box, when


def _summaries(session: Session, *conditions) -> list[ReviewSummary]:
    rows = session.execute(select(ReviewItem, JobFile.relative, FileRecord.name)
                           .outerjoin(JobFile, JobFile.id == ReviewItem.job_file_id)
                           .join(FileRecord, FileRecord.id == ReviewItem.file_record_id)
                           .where(*conditions).order_by(ReviewItem.held_at, ReviewItem.id))
    return [ReviewSummary(id=item.id, job_id=item.job_id, name=relative or name, boxes=item.boxes,
                          state=item.state, held_at=item.held_at) for item, relative, name in rows]


def summaries(session: Session, state: ReviewState) -> list[ReviewSummary]:
    """The queue's entries in ``state``, oldest first."""
    return _summaries(session, ReviewItem.state == state)


def detail(session: Session, settings: ServiceSettings, item: ReviewItem) -> ReviewDetail:
    """A held file's boxes and the audit of its decisions. Raises HoldError or
    ReviewError when its record cannot be read."""
    [summary] = _summaries(session, ReviewItem.id == item.id)
    audit = [DecisionView(box=decision.box, decision=decision.decision, by=username, at=decision.at)
             for decision, username in session.execute(
                 select(ReviewDecision, User.username).join(User, User.id == ReviewDecision.user_id)
                 .where(ReviewDecision.review_item_id == item.id).order_by(ReviewDecision.id))]
    if item.state is not ReviewState.HELD:
        return ReviewDetail(**summary.model_dump(), held=[], painted=[], previews=0, decisions=audit)
    record = held_record(settings, item)
    return ReviewDetail(**summary.model_dump(), held=record.boxes, painted=record.painted,
                        previews=len(record.previews), decisions=audit)


def output_dir(settings: ServiceSettings, job_id: int) -> Path:
    return settings.job_dir(job_id) / "output"


def root_of(settings: ServiceSettings, item: ReviewItem) -> Path:
    """The output folder a held file's record lies in: its job's, or a watched folder."""
    if item.root is not None:
        return Path(item.root)
    assert item.job_id is not None
    return output_dir(settings, item.job_id)


def enqueue(session: Session, job_id: int, job_file_id: int, file_record: FileRecord, record: dict,
            settings: ServiceSettings) -> None:
    """Put a file the pipeline just held into the queue."""
    output = output_dir(settings, job_id)
    sidecar = sidecar_path(Path(record["output_path"]))
    session.flush()  # the file record's id
    session.add(ReviewItem(job_id=job_id, job_file_id=job_file_id, file_record_id=file_record.id,
                           sidecar=str(sidecar.relative_to(output)), boxes=int(record.get("regions_review", 0)),
                           state=ReviewState.HELD, held_at=now()))


def held_record(settings: ServiceSettings, item: ReviewItem) -> HeldFile:
    return read_sidecar(_sidecar(settings, item))


def _sidecar(settings: ServiceSettings, item: ReviewItem) -> Path:
    output = root_of(settings, item).resolve()
    path = (output / item.sidecar).resolve()
    if not path.is_relative_to(output / HOLD_DIR):
        raise ReviewError("the review record lies outside the job's quarantine")
    return path


def preview_path(settings: ServiceSettings, item: ReviewItem, number: int) -> Path | None:
    """The number-th preview (from 1) of a held file, if it has one."""
    previews = held_record(settings, item).previews
    if not 1 <= number <= len(previews):
        return None
    return root_of(settings, item) / previews[number - 1]


@dataclass(frozen=True)
class Outcome:
    released: bool
    redacted: int = 0
    kept: int = 0


def decide(session: Session, settings: ServiceSettings, item: ReviewItem, decisions: dict[int, Decision],
           who: Principal) -> Outcome:
    """Record a reviewer's decisions; once every box is decided, finish stages 6 and 7
    and release the file into the job's output."""
    from anonymizer.release import record_decisions, release

    if item.state is not ReviewState.HELD:
        raise ReviewError(f"the file is {item.state.value}, not held")
    if any(decision is Decision.PENDING for decision in decisions.values()):
        raise ReviewError("a decision is 'redact' or 'keep'")
    root, sidecar = root_of(settings, item), _sidecar(settings, item)
    try:
        record = record_decisions(root, sidecar, decisions, who.username)
    except HoldError as exc:
        raise ReviewError(str(exc)) from None
    at = now()
    session.add_all(ReviewDecision(review_item_id=item.id, box=number, decision=decision.value,
                                   user_id=who.user_id, at=at) for number, decision in sorted(decisions.items()))
    if not record.decided:
        return Outcome(released=False)
    try:
        released = release(root, sidecar, who.username)
    except HoldError as exc:
        raise ReviewError(str(exc)) from None
    item.state, item.closed_at, item.released_by = ReviewState.RELEASED, at, who.user_id
    file_record = session.get(FileRecord, item.file_record_id)
    if file_record is not None:
        file_record.outcome = FileOutcome.RELEASED
        file_record.regions_redacted += released.redacted
    job_file = session.get(JobFile, item.job_file_id) if item.job_file_id is not None else None
    if job_file is not None:
        job_file.state = JobFileState.RELEASED
    return Outcome(released=True, redacted=released.redacted, kept=released.kept)


def expire(session: Session, settings: ServiceSettings, quarantine: timedelta) -> int:
    """Delete held files of the service's jobs left undecided longer than ``quarantine``:
    their copy, previews and record, which still show the undecided text. Returns how
    many went. A watched folder's files are its owner's: they are not expired here."""
    expired = 0
    for item in session.scalars(select(ReviewItem).where(ReviewItem.state == ReviewState.HELD,
                                                         ReviewItem.root.is_(None))):
        if as_utc(item.held_at) > now() - quarantine:
            continue
        remove_quarantined(settings, item)
        item.state, item.closed_at = ReviewState.EXPIRED, now()
        file_record = session.get(FileRecord, item.file_record_id)
        if file_record is not None:
            file_record.outcome = FileOutcome.EXPIRED
        job_file = session.get(JobFile, item.job_file_id) if item.job_file_id is not None else None
        if job_file is not None:
            job_file.state, job_file.reason = JobFileState.EXPIRED, "held for review, not decided in time"
        expired += 1
    return expired


def remove_quarantined(settings: ServiceSettings, item: ReviewItem) -> None:
    sidecar = _sidecar(settings, item)
    root = root_of(settings, item)
    try:
        record = read_sidecar(sidecar)
    except HoldError:
        sidecar.unlink(missing_ok=True)
        return
    for relative in (*record.previews, record.held):
        path = (root / relative).resolve()
        if path.is_relative_to(root.resolve() / HOLD_DIR):
            path.unlink(missing_ok=True)
    sidecar.unlink(missing_ok=True)


def watch_folders(session: Session, settings: ServiceSettings) -> int:
    """Bring the held files of each watched folder (another front door's output folder,
    such as the gateway's SPOOL/deidentified) into the queue, and close the items whose
    record went because they were decided elsewhere (`medical-anonymizer review`).
    Returns how many were added."""
    added = 0
    for folder in settings.review_folders:
        root = folder.resolve()
        known = {item.sidecar: item for item in session.scalars(
            select(ReviewItem).where(ReviewItem.root == str(root), ReviewItem.state == ReviewState.HELD))}
        present = set()
        for sidecar in held_files(root):
            relative = str(sidecar.relative_to(root))
            present.add(relative)
            if relative in known or session.scalar(select(ReviewItem.id).where(
                    ReviewItem.root == str(root), ReviewItem.sidecar == relative)) is not None:
                continue
            try:
                record = read_sidecar(sidecar)
            except HoldError:
                continue  # being written, or broken: looked at again next time
            figures = FileRecord(name=Path(record.held).name[:255], outcome=FileOutcome.HELD, failure="", reason="",
                                 file_format="DICOM" if record.kind == "dicom" else "image",
                                 modality=output_modality(root / record.held), regions_found=len(record.boxes)
                                 + len(record.painted), regions_redacted=len(record.painted),
                                 regions_held=len(record.boxes), processed_at=now(), user_id=None)
            session.add(figures)
            session.flush()
            session.add(ReviewItem(job_id=None, job_file_id=None, file_record_id=figures.id, root=str(root),
                                   sidecar=relative, boxes=len(record.boxes), state=ReviewState.HELD, held_at=now()))
            added += 1
        for relative, item in known.items():
            if relative not in present:  # released from the shell, or removed by the folder's owner
                item.state, item.closed_at = ReviewState.RELEASED, now()
                figures = session.get(FileRecord, item.file_record_id)
                if figures is not None:
                    figures.outcome = FileOutcome.RELEASED
    return added

