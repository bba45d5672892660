"""Command line: python pipeline_run.py INPUT OUTPUT_DIR [options] (or medical-anonymizer),
and its other commands (medical-anonymizer review OUTPUT_DIR ...).

Exit codes: 0 done; 1 a single file rejected as non-medical; 2 usage error or invalid
input; 3 some files of a batch failed; 4 files held for review (not released);
5 internal error (a defect of this tool, or the report could not be written);
6 written under --review release with text left for review.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from anonymizer.config import PipelineConfig
from anonymizer.exit_codes import (  # noqa: F401 - re-exported: tests and scripts import them from here
    EXIT_BATCH_FAILURES,
    EXIT_HELD,
    EXIT_INTERNAL,
    EXIT_INVALID,
    EXIT_NON_MEDICAL,
    EXIT_OK,
    EXIT_RELEASED_FOR_REVIEW,
)
from anonymizer.gateway.command import gateway
from anonymizer.pipeline_options import build_config, pipeline_options
from anonymizer.review_command import review
from anonymizer.service.commands import serve, users


class DefaultCommandGroup(click.Group):
    """``medical-anonymizer INPUT OUTPUT_DIR`` runs the pipeline, as pipeline_run.py always
    did; a first word that names a command (review, ...) runs that command instead."""

    default_command = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultCommandGroup, context_settings={"help_option_names": ["-h", "--help"],
                                                       "max_content_width": 100})
def main() -> None:
    """De-identify medical images (the run command, the default), decide held files (review),
    serve the pipeline over HTTP (serve, users), and run it as a DICOM gateway (gateway)."""


main.add_command(review)
main.add_command(serve)
main.add_command(users)
main.add_command(gateway)


@main.command("run", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="medical-anonymizer", message="%(prog)s %(version)s")
@click.argument("input_spec", metavar="INPUT")
@click.argument("output_dir", metavar="OUTPUT_DIR", type=click.Path(file_okay=False, path_type=Path))
@pipeline_options
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Parallel worker processes for a folder or list (default: the number of cores).")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="local: worker processes on this machine; spark: the same pipeline on PySpark "
                   "(local[N] here, or the cluster under spark-submit).")
@click.option("--overwrite", is_flag=True, help="Redo files whose output already exists (default: skip them).")
@click.option("-v", "--verbose", is_flag=True, help="Print what each stage did (never identifying values).")
def run(input_spec: str, output_dir: Path, workers, engine, overwrite, verbose, **pipeline) -> None:
    """De-identify INPUT into OUTPUT_DIR. INPUT is a DICOM or image file, a folder (walked
    recursively; DICOM is recognised by content) or @list.txt (one path per line).

    Each file goes through seven stages: classify, validate, scrub metadata (DICOM
    PS3.15 profile), enhance (CLAHE on the border bands), detect text (PP-OCRv4 and
    Tesseract, merged by IoU), redact (in the stored pixel values) and save, as
    OUTPUT_DIR/anonymized_<name>. The input is never modified. A file with text left
    for a person is held under OUTPUT_DIR/review/ instead (exit 4): decide it with
    'medical-anonymizer review OUTPUT_DIR'.
    """
    import logging

    from anonymizer.logs import cli_log_handler

    logging.getLogger().addHandler(cli_log_handler(verbose))
    config = build_config(verbose=verbose, **pipeline)
    from anonymizer.errors import InvalidInput
    from anonymizer.inputs import collect_inputs

    try:
        items, is_batch = collect_inputs(input_spec, output_dir)
    except InvalidInput as exc:
        click.echo(f"error: {input_spec}: {exc.reason}", err=True)
        sys.exit(EXIT_INVALID)
    from anonymizer.output_lock import OutputBusy, lock_output

    if not is_batch and engine == "local":
        sys.exit(run_single(items[0].path, output_dir, config))
    try:
        with lock_output(output_dir):
            code = run_batch(items, output_dir, config, workers, engine, overwrite)
    except OutputBusy as exc:
        click.echo(f"error: {output_dir}: {exc}", err=True)
        code = EXIT_INVALID
    except OSError as exc:
        click.echo(f"error: {output_dir}: cannot write there ({exc.strerror or type(exc).__name__})", err=True)
        code = EXIT_INVALID
    sys.exit(code)


def run_single(source: Path, output_dir: Path, config: PipelineConfig) -> int:
    from anonymizer.job import Failure
    from anonymizer.pipeline import run_file
    from anonymizer.summary import render_summary

    report = run_file(source, output_dir, config)
    if config.verbose:
        for line in report.stages:
            click.echo(f"[{report.source_name}] {line}", err=True)
    if report.status == "held":
        click.echo(render_summary(report))
        return EXIT_HELD
    if report.status == "written":
        click.echo(render_summary(report))
        return EXIT_RELEASED_FOR_REVIEW if report.regions_review else EXIT_OK
    click.echo(f"error: {source}: {report.reason}", err=True)
    if report.status == "rejected":
        return EXIT_NON_MEDICAL
    return EXIT_INTERNAL if report.failure is Failure.INTERNAL else EXIT_INVALID


def run_batch(items, output_dir: Path, config: PipelineConfig, workers: int | None, engine: str,
              overwrite: bool) -> int:
    import time

    from anonymizer.batch import default_workers, run_local
    from anonymizer.progress import progress
    from anonymizer.reporting import append_record, summarise, write_summary

    workers = workers or default_workers()
    start = time.perf_counter()
    lost_lines = [0]  # report lines the disk refused (full, read-only): the run says so at the end
    with progress(len(items)) as advance:
        def on_record(record: dict) -> None:
            if record["status"] != "already done":
                try:
                    append_record(output_dir, record)
                except OSError:
                    lost_lines[0] += 1
            advance(record)

        if engine == "spark":
            from anonymizer.spark_engine import run_spark

            records = run_spark(items, output_dir, config, workers, overwrite, on_record)
        else:
            records = run_local(items, output_dir, config, workers, overwrite, on_record)
    summary = summarise(records, time.perf_counter() - start)
    report_lost = False
    try:
        write_summary(output_dir, summary)
    except OSError as exc:
        report_lost = True
        click.echo(f"error: {output_dir}: the summary could not be written ({exc.strerror or type(exc).__name__})",
                   err=True)
    if lost_lines[0]:
        click.echo(f"error: {output_dir}: {lost_lines[0]} report line(s) could not be written", err=True)
    click.echo(
        f"Batch: {summary['processed']} processed, {summary['written']} written, "
        f"{summary['already_done']} already done, {summary['rejected_non_medical']} rejected as non-medical, "
        f"{summary['skipped']} skipped, {summary['failed']} failed, {summary['held']} held for review "
        f"({summary['files_per_second']} files/s). Report: {output_dir}"
    )
    for failure in summary["failures"]:
        click.echo(f"error: {failure['input']}: {failure['reason']}", err=True)
    return batch_exit_code(records, report_lost or lost_lines[0] > 0)


def batch_exit_code(records: list[dict], report_lost: bool) -> int:
    """The most serious outcome: a defect, then failed files, then held files, then files
    released with text left for review."""
    from anonymizer.job import Failure

    if report_lost or any(r.get("failure") == Failure.INTERNAL for r in records):
        return EXIT_INTERNAL
    if any(r["status"] == "failed" for r in records):
        return EXIT_BATCH_FAILURES
    if any(r["status"] == "held" or r.get("held") for r in records):
        return EXIT_HELD
    if any(r.get("regions_review") for r in records):
        return EXIT_RELEASED_FOR_REVIEW
    return EXIT_OK

