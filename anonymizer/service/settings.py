"""What `medical-anonymizer serve` is started with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from anonymizer.config import PipelineConfig

DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class ServiceSettings:
    data_dir: Path
    database_url: str
    # The same options, strategy, key and text policy the CLI's run command builds.
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_files_per_job: int = 10000
    # Server-side folders a job may name lie under this root; None turns folder jobs off.
    input_root: Path | None = None
    workers: int = 1  # worker processes for a job's files (the batch loop's --workers)
    # Held files left undecided this long are deleted from the quarantine.
    quarantine: timedelta = timedelta(days=30)
    # Output folders of other front doors whose held files join the review queue, such as
    # the gateway's SPOOL/deidentified; decided here, they are released there.
    review_folders: tuple[Path, ...] = ()

    @property
    def work_dir(self) -> Path:
        """Uploads and outputs while a request runs; emptied as each one ends."""
        return self.data_dir / "work"

    def job_dir(self, job_id: int) -> Path:
        """A job's uploads (input/) and results (output/, held files under output/review/)."""
        return self.data_dir / "jobs" / str(job_id)
