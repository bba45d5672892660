"""The service's tables. None holds an identifying value from any file: accounts, token
hashes, failed-login times, and per file only counts, reasons and the name the user gave it."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Role(str, Enum):
    ADMIN = "admin"  # accounts, and everything the others may do
    OPERATOR = "operator"  # de-identify files
    REVIEWER = "reviewer"  # decide held files; read figures


class FileOutcome(str, Enum):
    WRITTEN = "written"
    HELD = "held"  # left for a reviewer, not released
    RELEASED = "released"  # held, then released once a reviewer decided each box
    EXPIRED = "expired"  # held, and deleted undecided after the quarantine time
    REJECTED = "rejected"  # judged non-medical
    FAILED = "failed"


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))  # argon2id, with its parameters
    role: Mapped[Role] = mapped_column(SqlEnum(Role, native_enum=False, length=16))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A bearer token: only its SHA-256 is stored, so the table cannot be replayed."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginFailure(Base):
    """One failed password login: what the rate limit counts."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class FileRecord(Base):
    """One file through the pipeline: what the statistics count."""

    __tablename__ = "file_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))  # the name the user gave the upload
    outcome: Mapped[FileOutcome] = mapped_column(SqlEnum(FileOutcome, native_enum=False, length=16))
    failure: Mapped[str] = mapped_column(String(16), default="")  # input | internal, when failed
    # Why it failed or was rejected, digits masked (statistics.reason_class): never a value of the file.
    reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    file_format: Mapped[str] = mapped_column(String(64), default="")
    modality: Mapped[str] = mapped_column(String(16), default="")
    regions_found: Mapped[int] = mapped_column(Integer, default=0)
    regions_redacted: Mapped[int] = mapped_column(Integer, default=0)
    regions_held: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Who sent it; none for a file that came through another front door (the gateway).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class JobFileState(str, Enum):
    PENDING = "pending"
    WRITTEN = "written"
    HELD = "held"
    RELEASED = "released"
    EXPIRED = "expired"
    REJECTED = "rejected"
    FAILED = "failed"


class Job(Base):
    """A set of files de-identified together: uploaded, or a folder under the input root."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[JobStatus] = mapped_column(SqlEnum(JobStatus, native_enum=False, length=16), index=True)
    input_dir: Mapped[str] = mapped_column(String(1024))  # uploads' folder, or the folder under the input root
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class JobFile(Base):
    __tablename__ = "job_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    relative: Mapped[str] = mapped_column(String(1024))  # the name the user gave it, under input_dir
    state: Mapped[JobFileState] = mapped_column(SqlEnum(JobFileState, native_enum=False, length=16), index=True)
    reason: Mapped[str] = mapped_column(String(512), default="")


class ReviewState(str, Enum):
    HELD = "held"
    RELEASED = "released"
    EXPIRED = "expired"


class ReviewItem(Base):
    """A file held for review: its quarantined copy and record lie in the job's output, under
    review/, where only reviewers and admins can read them through the service."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The job that held it; none for a file of a watched review folder (--review-folder).
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), index=True, nullable=True)
    job_file_id: Mapped[int | None] = mapped_column(ForeignKey("job_files.id"), nullable=True)
    file_record_id: Mapped[int] = mapped_column(ForeignKey("file_records.id"))
    # The output folder the record lies in: the watched folder, or none for the job's output.
    root: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    sidecar: Mapped[str] = mapped_column(String(1024))  # the hold record, relative to that folder
    boxes: Mapped[int] = mapped_column(Integer)
    state: Mapped[ReviewState] = mapped_column(SqlEnum(ReviewState, native_enum=False, length=16), index=True)
    held_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    released_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class ReviewDecision(Base):
    """The audit of the queue: who decided which box of which held file, and when."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id"), index=True)
    box: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(16))  # redact | keep
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
