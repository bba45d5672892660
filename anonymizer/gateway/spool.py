"""The gateway's spool on disk: every instance lives in exactly one place at a time, and
moves on only by atomic renames, so that a kill at any moment leaves each one where a
restart picks it up.

    incoming/                 received, acknowledged, not yet de-identified
    deidentified/             the pipeline's output folder (as `run`'s OUTPUT_DIR)
    deidentified/review/      held for a person: `medical-anonymizer review SPOOL/deidentified`
    staged/<study>/           de-identified, waiting for its study to be quiet
    outbox/<destination>/     waiting to be sent there (one hard link per destination)
    failed/<destination>/     given up on, with a .reason.txt beside each
    failed/pipeline/          the received instance the pipeline refused, with its reason

Names are the gateway's own (receipt time and a random part, in letters) and, after de-identification,
``anonymized_<that>``: never a value of the instance. What stands in incoming/ and
failed/pipeline/ is the original, identifying: the spool belongs where only the gateway
and its operators can read.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from anonymizer.atomic import write_bytes_atomically
from anonymizer.hold import HOLD_DIR

PIPELINE_FAILURES = "pipeline"


@dataclass(frozen=True)
class Spool:
    root: Path

    @property
    def incoming(self) -> Path:
        return self.root / "incoming"

    @property
    def deidentified(self) -> Path:
        return self.root / "deidentified"

    @property
    def review(self) -> Path:
        return self.deidentified / HOLD_DIR

    @property
    def staged(self) -> Path:
        return self.root / "staged"

    def outbox(self, destination: str) -> Path:
        return self.root / "outbox" / destination

    def failed(self, destination: str) -> Path:
        return self.root / "failed" / destination

    def create(self, destinations: list[str]) -> None:
        for folder in (self.incoming, self.deidentified, self.staged, self.failed(PIPELINE_FAILURES),
                       *(self.outbox(d) for d in destinations), *(self.failed(d) for d in destinations)):
            folder.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)  # originals wait in incoming/

    def receive(self, data: bytes) -> Path:
        """Keep a received instance, flushed to disk, before it is acknowledged."""
        target = self.incoming / f"{letters(time.time_ns(), 14)}-{letters(uuid.uuid4().int, 8)}.dcm"
        write_bytes_atomically(target, data)
        return target


def letters(number: int, width: int) -> str:
    """``number`` in base 26, a-z, ``width`` letters (the low ones): names that sort by
    receipt time and that the log's masking of digit runs leaves readable."""
    out = []
    for _ in range(width):
        number, digit = divmod(number, 26)
        out.append(chr(ord("a") + digit))
    return "".join(reversed(out))


def waiting(folder: Path) -> list[Path]:
    """The instances of a spool folder, oldest first (names start with the receipt time);
    temp files of an interrupted write are not among them."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.suffix == ".dcm" and not path.name.startswith("."))


def link_into(source: Path, folder: Path) -> Path:
    """A hard link to ``source`` under ``folder``, appearing whole (made beside, renamed)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    temp = folder / f".{source.name}.{uuid.uuid4().hex[:8]}.partial"
    try:
        os.link(source, temp)
    except OSError:  # another file system: copy, flushed
        write_bytes_atomically(temp, source.read_bytes())
    os.replace(temp, target)
    return target


def fail(path: Path, folder: Path, reason: str) -> None:
    """Move an instance aside with its reason (which names no value of the instance)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_bytes_atomically(folder / f"{path.name}.reason.txt", (reason.strip() + "\n").encode())
    os.replace(path, folder / path.name)
