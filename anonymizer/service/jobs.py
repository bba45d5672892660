"""Jobs: files taken in (uploads, zips, or a folder under the admin's input root), then run
through the batch loop the CLI uses (worker processes, timeouts, the key) by one runner
thread. Each file's outcome is committed as it ends, so a restart resumes a job where it
stopped: what was recorded is not redone, and what was not is."""

from __future__ import annotations

import functools
import io
import shutil
import threading
import time
import zipfile
from pathlib import Path, PurePosixPath

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from anonymizer.loading import DICOM_SUFFIXES, RASTER_SUFFIXES
from anonymizer.service.accounts import as_utc, now
from anonymizer.service.models import FileOutcome, FileRecord, Job, JobFile, JobFileState, JobStatus
from anonymizer.service.review import enqueue, expire, watch_folders
from anonymizer.service.settings import ServiceSettings
from anonymizer.service.statistics import output_modality, reason_class

SUFFIXES = DICOM_SUFFIXES | RASTER_SUFFIXES
WATCH_SECONDS = 2.0  # how often watched review folders are looked at
_STATE_OF = {"written": JobFileState.WRITTEN, "held": JobFileState.HELD, "rejected": JobFileState.REJECTED}


class JobInputError(ValueError):
    """A refused job: the message names the reason."""


def job_dir(settings: ServiceSettings, job_id: int) -> Path:
    return settings.job_dir(job_id)


def safe_relative(name: str) -> PurePosixPath:
    """A member's path as given, refused when absolute or climbing out (zip slip)."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise JobInputError(f"{name!r}: a path inside the job must be relative and stay inside it")
    return path


def unpack_uploads(uploads: list[tuple[str, bytes]], target: Path, max_files: int) -> list[str]:
    """Uploaded files and the members of uploaded zips, written under ``target``."""
    names: list[str] = []

    def add(relative: PurePosixPath, data: bytes) -> None:
        if relative.suffix.lower() not in SUFFIXES:
            return  # what the CLI skips in a folder is skipped here
        if len(names) >= max_files:
            raise JobInputError(f"more than the configured {max_files} files in one job")
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
        names.append(str(relative))

    for name, data in uploads:
        relative = safe_relative(PurePosixPath(name).name)
        if relative.suffix.lower() == ".zip":
            try:
                archive = zipfile.ZipFile(io.BytesIO(data))
            except zipfile.BadZipFile:
                raise JobInputError(f"{relative}: not a readable zip") from None
            for member in archive.infolist():
                if member.is_dir() or (member.external_attr >> 16) & 0o170000 == 0o120000:
                    continue  # folders, and symbolic links (never followed)
                add(safe_relative(member.filename), archive.read(member))
        else:
            add(relative, data)
    if not names:
        raise JobInputError("no .dcm, .dicom, .jpg, .jpeg, .png, .tif, .tiff or .bmp file in the upload")
    return names


def folder_files(input_root: Path | None, folder: str, max_files: int) -> tuple[Path, list[str]]:
    """The files of a server-side folder, which must lie under the input root the admin
    configured: absolute paths, '..' and symbolic links out of the root are refused."""
    if input_root is None:
        raise JobInputError("the service has no --input-root: folder jobs are off")
    root = input_root.resolve()
    base = (root / safe_relative(folder)).resolve()
    if not base.is_relative_to(root) or not base.is_dir():
        raise JobInputError(f"{folder!r} is not a folder under the input root")
    names = []
    for path in sorted(base.rglob("*")):
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        if not path.resolve().is_relative_to(root):
            raise JobInputError(f"{path.relative_to(base)}: a link out of the input root")
        names.append(str(path.relative_to(base)))
        if len(names) > max_files:
            raise JobInputError(f"more than the configured {max_files} files in one job")
    if not names:
        raise JobInputError(f"{folder!r} holds no file to de-identify")
    return base, names


def create_job(session: Session, user_id: int, input_dir: Path, names: list[str]) -> Job:
    """A queued job; the runner sees it, its files included, once the transaction commits."""
    job = Job(user_id=user_id, status=JobStatus.QUEUED, input_dir=str(input_dir), created_at=now())
    session.add(job)
    session.flush()
    add_files(session, job, names)
    return job


def add_files(session: Session, job: Job, names: list[str]) -> None:
    session.add_all(JobFile(job_id=job.id, relative=name, state=JobFileState.PENDING, reason="") for name in names)


def remove_uploads(settings: ServiceSettings, job: Job) -> None:
    """An uploaded job's originals, once no file of it will run: they hold the identities
    the outputs no longer do (files held for review keep theirs in the output's review
    area). A folder job's inputs are the site's own, never touched."""
    uploads = job_dir(settings, job.id) / "input"
    if Path(job.input_dir) == uploads:
        shutil.rmtree(uploads, ignore_errors=True)


class Progress(BaseModel):
    """A job as GET /api/jobs/{id} shows it."""

    id: int
    status: JobStatus
    total: int
    pending: int
    written: int
    held: int  # waiting for a reviewer
    released: int  # held, then released by a reviewer
    rejected: int
    failed: int  # failed, or held and not decided within the quarantine time
    files_per_second: float


def progress(session: Session, job: Job) -> Progress:
    counts = dict(session.execute(select(JobFile.state, func.count()).where(JobFile.job_id == job.id)
                                  .group_by(JobFile.state)).all())
    done = sum(n for state, n in counts.items() if state != JobFileState.PENDING)
    elapsed = 0.0
    if job.started_at is not None:
        elapsed = (as_utc(job.finished_at or now()) - as_utc(job.started_at)).total_seconds()
    return Progress(id=job.id, status=job.status, total=sum(counts.values()),
                    pending=counts.get(JobFileState.PENDING, 0), written=counts.get(JobFileState.WRITTEN, 0),
                    held=counts.get(JobFileState.HELD, 0), released=counts.get(JobFileState.RELEASED, 0),
                    rejected=counts.get(JobFileState.REJECTED, 0),
                    failed=counts.get(JobFileState.FAILED, 0) + counts.get(JobFileState.EXPIRED, 0),
                    files_per_second=round(done / elapsed, 3) if elapsed > 0 else 0.0)


def result_zip(settings: ServiceSettings, job_id: int) -> bytes:
    """The job's de-identified files (and its report), as a zip in memory."""
    output = job_dir(settings, job_id) / "output"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(output.rglob("*")) if output.is_dir() else []:
            if path.is_file() and "review" not in path.relative_to(output).parts:  # held files stay here
                archive.write(path, str(path.relative_to(output)))
    return buffer.getvalue()


class JobRunner(threading.Thread):
    """Takes the oldest unfinished job, runs its pending files, and goes on to the next.
    A job found running on start is one a stopped service left: it is resumed."""

    def __init__(self, settings: ServiceSettings, sessions: sessionmaker[Session], workers: int) -> None:
        super().__init__(name="job-runner", daemon=True)
        self.settings, self.sessions, self.workers = settings, sessions, workers
        self.stopping = threading.Event()
        self.next_sweep = self.next_watch = 0.0

    def run(self) -> None:
        from anonymizer.batch import WorkerPool

        # Started once: a job's chunks would otherwise each start workers and load models.
        self.pool = WorkerPool(self.settings.pipeline, self.workers)
        try:
            while not self.stopping.is_set():
                self._expire_quarantine()
                self._watch_review_folders()
                job_id = self._next_job()
                if job_id is None:
                    self.stopping.wait(0.5)
                    continue
                self._run_job(job_id)
        finally:
            self.pool.close()

    def _expire_quarantine(self) -> None:
        """Every minute (sooner for a short quarantine): held files past the quarantine
        time are deleted."""
        if time.monotonic() < self.next_sweep:
            return
        self.next_sweep = time.monotonic() + min(60.0, self.settings.quarantine.total_seconds() / 2)
        with self.sessions.begin() as session:
            expire(session, self.settings, self.settings.quarantine)

    def _watch_review_folders(self) -> None:
        if not self.settings.review_folders or time.monotonic() < self.next_watch:
            return
        self.next_watch = time.monotonic() + WATCH_SECONDS
        with self.sessions.begin() as session:
            watch_folders(session, self.settings)

    def _next_job(self) -> int | None:
        with self.sessions.begin() as session:
            job = session.scalar(select(Job).where(Job.status.in_([JobStatus.RUNNING, JobStatus.QUEUED]))
                                 .order_by(Job.id).limit(1))
            if job is None:
                return None
            if job.status is JobStatus.QUEUED:
                job.status, job.started_at = JobStatus.RUNNING, now()
            return job.id

    def _run_job(self, job_id: int) -> None:
        from anonymizer.batch import run_local
        from anonymizer.inputs import InputFile

        output = job_dir(self.settings, job_id) / "output"
        chunk = max(2 * self.workers, 1)  # small enough that a cancel is heard soon
        while not self.stopping.is_set():
            self._expire_quarantine()  # between chunks too: a long job must not stop them
            self._watch_review_folders()
            with self.sessions.begin() as session:
                job = session.get(Job, job_id)
                if job is None or job.status is not JobStatus.RUNNING:
                    if job is not None:
                        remove_uploads(self.settings, job)  # cancelled meanwhile
                    return
                base, owner = Path(job.input_dir), job.user_id
                pending = session.scalars(select(JobFile).where(JobFile.job_id == job_id,
                                                                JobFile.state == JobFileState.PENDING)
                                          .order_by(JobFile.id).limit(chunk)).all()
                if not pending:
                    job.status, job.finished_at = JobStatus.DONE, now()
                    remove_uploads(self.settings, job)
                    return
                ids = {f.relative: f.id for f in pending}
            items = [InputFile(base / name, Path(name)) for name in ids]
            run_local(items, output, self.settings.pipeline, workers=self.workers, overwrite=True,
                      on_record=functools.partial(self._record, job_id, ids, owner), pool=self.pool)

    def _record(self, job_id: int, ids: dict[str, int], owner: int, record: dict) -> None:
        """One file's outcome and its figures, committed together as it ends."""
        state = _STATE_OF.get(record["status"], JobFileState.FAILED)
        job_file_id = ids[record["input"]]
        with self.sessions.begin() as session:
            session.execute(update(JobFile).where(JobFile.id == job_file_id)
                            .values(state=state, reason=str(record.get("reason", ""))[:512]))
            figures = file_record(record, PurePosixPath(record["input"]).name, owner)
            session.add(figures)
            if state is JobFileState.HELD:
                enqueue(session, job_id, job_file_id, figures, record, self.settings)


def file_record(record: dict, name: str, user_id: int, modality: str = "") -> FileRecord:
    outcome = {"written": FileOutcome.WRITTEN, "held": FileOutcome.HELD, "rejected": FileOutcome.REJECTED}.get(
        record["status"], FileOutcome.FAILED)
    failure = record.get("failure")
    output = record.get("output_path") or ""
    de_identified = outcome in (FileOutcome.WRITTEN, FileOutcome.HELD)
    if not modality and de_identified and Path(output).suffix.lower() in DICOM_SUFFIXES:
        modality = output_modality(Path(output))
    refused = outcome in (FileOutcome.FAILED, FileOutcome.REJECTED)
    reason = reason_class(str(record.get("reason", ""))) if refused else ""
    return FileRecord(
        name=name[:255], outcome=outcome, failure=getattr(failure, "value", failure) or "", reason=reason,
        file_format=str(record.get("file_format", ""))[:64], modality=modality,
        regions_found=int(record.get("regions_merged", 0)), regions_redacted=int(record.get("regions_redacted", 0)),
        regions_held=int(record.get("regions_review", 0)), processed_at=now(), user_id=user_id)

