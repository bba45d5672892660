"""Write outputs so that a reader never sees half a file: temp file, flush to disk, rename.

One file at a time, each output is fsync'ed before its rename. A batch of small files
(``--metadata-only``) writes inside ``grouped_commits()``: its temp files reach the disk
together, through one sync, and are renamed only after it. A journal commit per file
costs more than de-identifying the file; the guarantee is the same: a name under the
output folder always holds a complete, flushed file, and a crash leaves at most
``.partial`` temp files behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

# (temp, target) pairs written inside grouped_commits(), waiting for the group's sync.
_pending: list[tuple[Path, Path]] | None = None


@cache
def _umask_mode() -> int:
    """The mode a new file gets here (0o666 less the umask), as cp or open() would give.
    mkstemp's 0600 left a bind-mounted output unreadable to the host's user. Read once
    per process: os.umask can only be read by setting it, which for a moment would give
    files that other threads create mode 0666."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _temp_beside(target: Path) -> tuple[int, Path]:
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except FileNotFoundError:  # the first file of its folder
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.fchmod(fd, _umask_mode())
    return fd, Path(temp_name)


def _sync_directory(folder: Path) -> None:
    """A rename is durable only once its directory entry is on disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """For writers that need a path (OpenCV, shutil)."""
    fd, temp = _temp_beside(target)
    os.close(fd)
    try:
        write(temp)
        _commit(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_bytes_atomically(target: Path, data: bytes) -> None:
    fd, temp = _temp_beside(target)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        _commit(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _commit(temp: Path, target: Path) -> None:
    if _pending is not None:
        _pending.append((temp, target))
        return
    fd = os.open(temp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, target)
    _sync_directory(target.parent)


@contextmanager
def grouped_commits() -> Iterator[None]:
    """Outputs written inside are flushed by one sync at the end, then renamed into place."""
    global _pending
    if _pending is not None:  # already inside a group: it commits these too
        yield
        return
    pending: list[tuple[Path, Path]] = []
    _pending = pending
    try:
        yield
        _pending = None
        if pending:
            os.sync()
            for temp, target in pending:
                os.replace(temp, target)
            for folder in {target.parent for _, target in pending}:
                _sync_directory(folder)
    except BaseException:
        for temp, _ in pending:
            temp.unlink(missing_ok=True)
        raise
    finally:
        _pending = None
