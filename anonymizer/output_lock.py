"""One batch at a time per output folder, and what a killed run left behind cleared.

Two batches writing one folder would each append their report lines and summaries; a
killed run leaves ``.partial`` temp files (atomic.py) that no later run would finish. A
batch holds an exclusive lock on OUTPUT_DIR/.anonymizer.lock, and with it removes the
temp files: no live batch can own them. Single-file runs (often started in parallel from
a shell loop) write no report and take no lock: a folder they fail on stays empty.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".anonymizer.lock"


class OutputBusy(Exception):
    """Another run holds the output folder."""


@contextmanager
def lock_output(output_dir: Path) -> Iterator[int]:
    """Yields the number of stale temp files removed."""
    output_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(output_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputBusy("another run is writing to this output folder") from None
        yield remove_stale_partials(output_dir)
    finally:
        os.close(fd)  # releases the lock


def remove_stale_partials(output_dir: Path) -> int:
    removed = 0
    for temp in output_dir.rglob(".*.partial"):
        if temp.is_file() and not temp.is_symlink():
            temp.unlink(missing_ok=True)
            removed += 1
    return removed
