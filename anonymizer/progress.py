"""Progress for a batch: a bar with rate and ETA on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click


@contextmanager
def progress(total: int, enabled: bool = True):
    """Yields ``advance(record)``; one call per finished file."""
    if enabled and sys.stderr.isatty():
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        bar = Progress(TextColumn("de-identifying"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("{task.fields[rate]} files/s"), TimeElapsedColumn(), TimeRemainingColumn(),
                       transient=False)
        with bar:
            task = bar.add_task("files", total=total, rate="-")

            def advance(record: dict) -> None:
                bar.advance(task)
                elapsed = bar.tasks[task].elapsed or 0
                done = bar.tasks[task].completed
                bar.update(task, rate=f"{done / elapsed:.1f}" if elapsed else "-")

            yield advance
        return
    count = 0

    def print_line(record: dict) -> None:
        nonlocal count
        count += 1
        if enabled:
            reason = f": {record['reason']}" if record.get("reason") else ""
            click.echo(f"[{count}/{total}] {record['status']} {record['input']}{reason}", err=True)

    yield print_line
