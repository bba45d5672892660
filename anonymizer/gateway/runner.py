"""The gateway's work after a C-STORE is acknowledged, in three kinds of thread that each
move files one step through the spool (spool.py):

- the de-identifier runs incoming/ through the pipeline (worker processes, as a batch)
  into deidentified/; a held file stays in deidentified/review/ until a person decides it;
- the router takes what lies in deidentified/ (just written, or just released from the
  review folder), waits for its study to be quiet when asked to, and links it into each
  destination's outbox;
- one forwarder per destination sends its outbox, retrying with backoff, and moves what
  it gives up on to failed/<destination>/ with the reason.

Each step ends with a rename or an unlink after its result is safely on disk, so a kill
at any moment, then a restart, redoes at most the step it cut short. Redoing is harmless:
the pipeline is deterministic under the project key (same UIDs, same bytes), so what a
destination may receive twice is the same instance, byte for byte."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

import pydicom

from anonymizer.batch import WorkerPool
from anonymizer.config import PipelineConfig
from anonymizer.gateway.config import Destination, GatewayConfig
from anonymizer.gateway.destinations import sender_for
from anonymizer.gateway.spool import PIPELINE_FAILURES, Spool, fail, link_into, waiting

LOG = logging.getLogger(__name__)
IDLE_SECONDS = 0.2
SEND_BATCH = 32
# Instances taken from incoming/ at once per worker: the pool waits for a batch's last file,
# so a short batch leaves workers idle at its end; a long one only delays the unlinks.
BATCH_PER_WORKER = 16


class Worker(threading.Thread):
    def __init__(self, name: str, stopping: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.stopping, self.wake = stopping, threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = self.step()
            except Exception:  # a defect must not stop the gateway; the file stays where it is
                LOG.exception("%s: step failed; retrying", self.name)
                busy = False
            if not busy:
                self.wake.wait(IDLE_SECONDS)
                self.wake.clear()

    def step(self) -> bool:
        raise NotImplementedError


class Deidentifier(Worker):
    def __init__(self, spool: Spool, pipeline: PipelineConfig, workers: int, stopping: threading.Event) -> None:
        super().__init__("deidentifier", stopping)
        self.spool, self.pipeline, self.workers = spool, pipeline, workers
        self.pool: WorkerPool | None = None

    def step(self) -> bool:
        from anonymizer.inputs import InputFile

        batch = waiting(self.spool.incoming)[:BATCH_PER_WORKER * self.workers]
        if not batch:
            return False
        if self.pool is None:  # started once: workers load their models once
            self.pool = WorkerPool(self.pipeline, self.workers)
        by_name = {path.name: path for path in batch}
        items = [InputFile(path, Path(path.name)) for path in batch]
        for record in self.pool.results(items, self.spool.deidentified):
            source = by_name[record["input"]]
            if record["status"] in ("written", "held"):
                source.unlink(missing_ok=True)  # its de-identified copy is on disk now
                LOG.info("%s: %s", source.name, record["status"])
            else:
                reason = str(record.get("reason") or record["status"])
                fail(source, self.spool.failed(PIPELINE_FAILURES), reason)
                LOG.warning("%s: %s (%s)", source.name, record["status"], reason)
        return True


class Router(Worker):
    def __init__(self, spool: Spool, destinations: tuple[Destination, ...], quiet_seconds: float,
                 stopping: threading.Event, on_routed) -> None:
        super().__init__("router", stopping)
        self.spool, self.names, self.quiet, self.on_routed = spool, [d.name for d in destinations], quiet_seconds, \
            on_routed

    def step(self) -> bool:
        ready = waiting(self.spool.deidentified)  # written, or released by a reviewer
        for path in ready:
            if self.quiet > 0:
                study = str(pydicom.dcmread(path, stop_before_pixels=True,
                                            specific_tags=["StudyInstanceUID"]).get("StudyInstanceUID", "unknown"))
                folder = self.spool.staged / study  # the new, de-identified Study Instance UID
                folder.mkdir(parents=True, exist_ok=True)
                os.replace(path, folder / path.name)
                os.utime(folder)  # the study's last arrival
            else:
                self._fan_out(path)
        released = self._quiet_studies()
        return bool(ready) or released

    def _quiet_studies(self) -> bool:
        if self.quiet <= 0 or not self.spool.staged.is_dir():
            return False
        released = False
        for folder in sorted(self.spool.staged.iterdir()):
            if not folder.is_dir() or time.time() - folder.stat().st_mtime < self.quiet:
                continue
            for path in waiting(folder):
                self._fan_out(path)
            try:
                folder.rmdir()
            except OSError:
                continue  # an instance arrived meanwhile: it waits for the next quiet spell
            released = True
        return released

    def _fan_out(self, path: Path) -> None:
        for name in self.names:
            link_into(path, self.spool.outbox(name))
        path.unlink()
        self.on_routed()


class Forwarder(Worker):
    def __init__(self, spool: Spool, destination: Destination, config: GatewayConfig,
                 stopping: threading.Event) -> None:
        super().__init__(f"forward-{destination.name}", stopping)
        self.spool, self.destination, self.retry = spool, destination, config.retry
        self.sender = sender_for(destination, config.ae_title)
        self.outbox = spool.outbox(destination.name)
        # When each waiting file may be tried again, read from its retry file once: a long
        # outbox behind a destination that is down is not re-read every step.
        self.next_at: dict[str, float] = {}

    def _next_try(self, path: Path) -> float:
        if path.name not in self.next_at:
            self.next_at[path.name] = float(_retry_state(path).get("next_at", 0))
        return self.next_at[path.name]

    def step(self) -> bool:
        now = time.time()
        due = [path for path in waiting(self.outbox) if self._next_try(path) <= now][:SEND_BATCH]
        if not due:
            return False
        results = self.sender.send(due)
        for path in due:
            reason = results.get(path, "not attempted")
            state_file = _retry_file(path)
            if reason is None:
                path.unlink(missing_ok=True)
                state_file.unlink(missing_ok=True)
                self.next_at.pop(path.name, None)
                LOG.info("%s: sent to %s", path.name, self.destination.name)
                continue
            attempts = int(_retry_state(path).get("attempts", 0)) + 1
            if attempts >= self.retry.attempts:
                fail(path, self.spool.failed(self.destination.name), f"{reason} (after {attempts} attempts)")
                state_file.unlink(missing_ok=True)
                self.next_at.pop(path.name, None)
                LOG.error("%s: given up on %s after %d attempts: %s", path.name, self.destination.name, attempts,
                          reason)
            else:
                self.next_at[path.name] = now + self.retry.delay(attempts)
                state_file.write_text(json.dumps({"attempts": attempts, "next_at": self.next_at[path.name],
                                                  "reason": reason}))
                LOG.warning("%s: %s failed (%s); attempt %d of %d", path.name, self.destination.name, reason,
                            attempts, self.retry.attempts)
        return any(results.get(path) is None for path in due)


def _retry_file(path: Path) -> Path:
    return path.with_name(f".{path.name}.retry.json")  # a dot name: not itself an instance to send


def _retry_state(path: Path) -> dict:
    try:
        return json.loads(_retry_file(path).read_text())
    except (OSError, ValueError):
        return {}
