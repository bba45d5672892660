"""medical-anonymizer review OUTPUT_DIR: list held files, decide their boxes, release them.

    medical-anonymizer review OUT                         # what is held, box by box
    medical-anonymizer review OUT anonymized_x.dcm --redact 1,3 --keep 2
    medical-anonymizer review OUT --apply                 # release every fully decided file

A file is released as soon as each of its boxes is decided. Records edited by another
tool (the web service's review queue) are released with --apply.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from anonymizer.exit_codes import EXIT_HELD, EXIT_INVALID, EXIT_OK
from anonymizer.hold import HOLD_DIR, Decision, HoldError, held_files, read_sidecar


def _numbers(value: str | None, all_numbers: list[int]) -> list[int]:
    if not value:
        return []
    if value.strip().lower() == "all":
        return all_numbers
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter("box numbers separated by commas, or 'all'") from None


@click.command("review", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("output_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("held", required=False)
@click.option("--redact", "redact", default=None, metavar="N[,N...]|all", help="Boxes to paint over.")
@click.option("--keep", "keep", default=None, metavar="N[,N...]|all", help="Boxes to leave as they are.")
@click.option("--apply", "apply_all", is_flag=True, help="Release every held file whose boxes are all decided.")
@click.option("--by", "who", default=None, help="Who decides, for the audit log (default: the login name).")
def review(output_dir: Path, held: str | None, redact: str | None, keep: str | None, apply_all: bool,
           who: str | None) -> None:
    """List the files held under OUTPUT_DIR/review, or decide the boxes of one (HELD: its
    name as listed) and release it. Exit 0 when nothing is left held, 4 while some is."""
    from anonymizer.release import held_record_for, record_decisions, release

    root = output_dir.resolve()
    try:
        if held is not None:
            sidecar = held_record_for(root, held)
            record = read_sidecar(sidecar)
            everything = [box.number for box in record.boxes]
            decisions = {n: Decision.REDACT for n in _numbers(redact, everything)}
            for number in _numbers(keep, everything):
                if number in decisions:
                    raise click.BadParameter(f"box {number} cannot be both redacted and kept")
                decisions[number] = Decision.KEEP
            if decisions:
                record = record_decisions(root, sidecar, decisions, who)
            if record.decided:
                _echo_released(release(root, sidecar, who), root)
        elif redact or keep:
            raise click.BadParameter("name the held file the boxes belong to", param_hint="HELD")
        elif apply_all:
            for sidecar in held_files(root):
                if read_sidecar(sidecar).decided:
                    _echo_released(release(root, sidecar, who), root)
    except HoldError as exc:
        click.echo(f"error: {held or output_dir}: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    remaining = held_files(root)
    for sidecar in remaining:
        _echo_held(read_sidecar(sidecar))
    click.echo(f"{len(remaining)} file(s) held for review under {root / HOLD_DIR}")
    sys.exit(EXIT_HELD if remaining else EXIT_OK)


def _echo_held(record) -> None:
    click.echo(f"{record.held}  (releases to {record.release_to})")
    for box in record.boxes:
        frames = f"frame {box.frame}" + (f" (shown on {len(box.frames)})" if len(box.frames) > 1 else "")
        click.echo(f"  box {box.number}: {frames}, x {box.left} y {box.top}, {box.width}x{box.height}: "
                   f"{box.reason} [{box.decision.value}]")
    for preview in record.previews:
        click.echo(f"  preview: {preview}")


def _echo_released(outcome, root: Path) -> None:
    click.echo(f"released {outcome.path.relative_to(root)}: {outcome.redacted} box(es) redacted, "
               f"{outcome.kept} kept, {outcome.refilled} refilled solid after re-reading")
