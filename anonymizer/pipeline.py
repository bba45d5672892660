"""The seven stages, in order, over one Job (DESIGN.md, "The seven stages")."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from anonymizer.config import PipelineConfig
from anonymizer.errors import (
    AnonymizerError,
    InternalError,
    InvalidInput,
    NonMedicalImage,
    OutputNotWritten,
    Skipped,
    is_file_error,
)
from anonymizer.job import Failure, FileReport, Job, PhiHints
from anonymizer.limits import FileTimeout
from anonymizer.loading import open_job
from anonymizer.metadata.scrub import scrub_metadata
from anonymizer.redaction import redact
from anonymizer.saving import mirrored_output_path, save
from anonymizer.text_policy import activate as activate_text_policy
from anonymizer.validation import validate
from classifier.stage import classify
from ocr.detect import detect_text
from ocr.preprocess import enhance

Stage = Callable[[Job, PipelineConfig], None]

STAGES: tuple[tuple[str, Stage], ...] = (
    ("classify", classify),
    ("validate", validate),
    ("scrub metadata", scrub_metadata),
    ("enhance", enhance),
    ("detect text", detect_text),
    ("redact", redact),
    ("save", save),
)


# Stages that look at or change pixels; --metadata-only leaves them out.
PIXEL_STAGES = {"enhance", "detect text", "redact"}


@contextmanager
def quiet_pydicom() -> Iterator[None]:
    """pydicom's warnings quote element values (UIDs, names): none may reach a log. Only
    inside the pipeline's own calls: a host (MONAI, Spark, a notebook) keeps its logging."""
    logger = logging.getLogger("pydicom")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"pydicom(\..*)?")
            yield
    finally:
        logger.setLevel(level)


def run_stages(job: Job, config: PipelineConfig, stages: tuple[tuple[str, Stage], ...] | None = None) -> None:
    activate_text_policy(config.text_policy_file)  # in every worker, before stages read it
    for name, stage in STAGES if stages is None else stages:
        if config.metadata_only and name in PIXEL_STAGES:
            continue
        try:
            stage(job, config)
        except AnonymizerError:
            raise
        except BaseException as exc:  # noqa: BLE001 - reported as a one-line reason, never a traceback
            if not is_file_error(exc):
                raise  # an interrupt, or the batch's per-file time limit
            if isinstance(exc, OSError) and name == "save":
                raise OutputNotWritten(f"the output cannot be written ({exc.strerror or type(exc).__name__})") from None
            if isinstance(exc, (MemoryError, RecursionError)):
                raise InvalidInput(f"too large or too deeply nested to process in stage '{name}' "
                                   f"({type(exc).__name__})") from None
            raise InternalError(f"internal error in stage '{name}' ({safe_message(exc, job.phi_hints)})") from exc


def run_file(source: Path, out_dir: Path, config: PipelineConfig, relative: Path | None = None) -> FileReport:
    """De-identify one file. Never raises for a bad file: the report says what happened.

    ``relative`` is the file's place under a batch's input root; the output mirrors it."""
    with quiet_pydicom():
        return _run_file(source, out_dir, config, relative)


def _run_file(source: Path, out_dir: Path, config: PipelineConfig, relative: Path | None) -> FileReport:
    report = FileReport(source_name=source.name)
    try:
        job = open_job(source, config.max_decoded_bytes)
        report = job.report
        job.output_path = mirrored_output_path(out_dir, relative or Path(source.name))
        job.output_root = out_dir
        job.input_name = str(relative or Path(source.name))
        run_stages(job, config)
        if report.status == "pending":  # stage 7 says "held" when it held the file for review
            report.status = "written"
    except NonMedicalImage as exc:
        report.status, report.reason = "rejected", exc.reason
    except Skipped as exc:
        report.status, report.reason = "skipped", exc.reason
    except AnonymizerError as exc:
        report.status, report.reason = "failed", exc.reason
        report.failure = _FAILURES.get(type(exc), Failure.INPUT)
    except FileTimeout as exc:
        report.status, report.reason, report.failure = "failed", exc.reason, Failure.INPUT
    except BaseException as exc:  # noqa: BLE001 - one bad file is that file's failure, never the batch's
        if not is_file_error(exc):
            raise
        # Raised while opening, before the header's values were captured as hints: the
        # exception's text may quote them, so only its type is reported. What a reader
        # chokes on is the file's fault.
        report.status, report.reason = "failed", f"the file cannot be opened ({type(exc).__name__})"
        report.failure = Failure.INPUT
    return report


_FAILURES = {InternalError: Failure.INTERNAL, OutputNotWritten: Failure.OUTPUT}


def safe_message(exc: BaseException, hints: PhiHints, limit: int = 160) -> str:
    """An exception's type and, when it can be shown safely, its first line.

    Library errors quote the values they choke on ("...Instead received b'PID...'").
    Every known identifier is masked first; a text that still quotes something, holds a
    run of digits (an ID, a date, a UID) or is long is replaced by the type alone."""
    kind = type(exc).__name__
    message = str(exc).strip()
    for value in sorted(hints.all_values(), key=len, reverse=True):
        message = re.sub(re.escape(value), "***", message, flags=re.IGNORECASE)
    first_line = message.splitlines()[0] if message else ""
    if not first_line or len(first_line) > limit or _UNSAFE_MESSAGE.search(first_line):
        return kind
    return f"{kind}: {first_line}"


# Quotes, byte strings and runs of 4+ digits: where a value would be, if one were quoted.
_UNSAFE_MESSAGE = re.compile(r"['\"`]|\d{4,}|\b[bB]'")
