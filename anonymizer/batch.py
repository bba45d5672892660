"""Run many files: in parallel worker processes that each load the OCR models once,
resumable (finished outputs are skipped), with a report line per file as it ends."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path

from anonymizer.atomic import grouped_commits
from anonymizer.config import PipelineConfig
from anonymizer.hold import is_held, sidecar_path
from anonymizer.inputs import InputFile
from anonymizer.limits import time_limit
from anonymizer.reporting import previous_outputs, report_record
from anonymizer.saving import mirrored_output_path

_WORKER_CONFIG: PipelineConfig | None = None
_PARENT: int | None = None  # the main process's pid, in a worker
# About a tenth of a second of --metadata-only work: one sync, one progress step.
METADATA_ONLY_CHUNK = 32


def default_workers() -> int:
    return max(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 1)


def worker_config(config: PipelineConfig) -> PipelineConfig:
    """A batch worker is one core: its OCR runs single-threaded, so throughput grows with
    --workers (ONNX Runtime's own threads scale far worse than whole processes)."""
    return replace(config, ocr_threads=1)


def already_done(items: list[InputFile], output_dir: Path, config: PipelineConfig) -> dict[Path, bool]:
    """Files a previous run wrote completely, or held for review (a decision may be under
    way), each with whether it is still held; atomic writes mean an output that exists is
    whole."""
    if config.layout == "uid" or config.rename == "uid":  # names known only once written
        done = previous_outputs(output_dir)
        return {item.path: sidecar_path(Path(done[str(item.relative)])).is_file()
                for item in items if str(item.relative) in done}
    finished = {}
    for item in items:
        output = mirrored_output_path(output_dir, item.relative)
        if output.is_file() or is_held(output_dir, output):
            finished[item.path] = not output.is_file()
    return finished


def process_one(item: InputFile, output_dir: Path, config: PipelineConfig) -> dict:
    from anonymizer.pipeline import run_file

    start = time.perf_counter()
    with time_limit(config.file_timeout):
        report = run_file(item.path, output_dir, config, item.relative)
    return report_record(report, item.relative, time.perf_counter() - start)


def chunk_size(config: PipelineConfig) -> int:
    """Files handed to a worker at once. Header-only files take a few milliseconds, less
    than flushing each to disk, so they go in groups committed by one sync (atomic.py);
    with OCR a file takes a second and is flushed on its own, reported as it ends."""
    return METADATA_ONLY_CHUNK if config.metadata_only else 1


def chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def process_chunk(items: list[InputFile], output_dir: Path, config: PipelineConfig) -> list[dict]:
    """Records come back only once the chunk's outputs are on disk under their names."""
    if len(items) == 1:
        return [process_one(items[0], output_dir, config)]
    with grouped_commits():
        return [process_one(item, output_dir, config) for item in items]


def _die_with_parent() -> None:
    """A worker outlives a killed main process otherwise: it goes on writing outputs that
    no report records, holding its models' memory. Linux delivers SIGKILL to it when the
    parent dies; elsewhere the worker ends at its next chunk (_work)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _init_worker(config: PipelineConfig, parent: int | None = None) -> None:
    global _WORKER_CONFIG, _PARENT
    if parent is not None:
        _PARENT = parent
        _die_with_parent()
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)
    os.environ.setdefault("OMP_THREAD_LIMIT", str(config.ocr_threads or 1))
    _WORKER_CONFIG = config
    if not config.metadata_only:
        from ocr.registry import load_engines

        load_engines(config.ocr_engines, config.easyocr_model_dir, config.ocr_threads)  # once per worker


def _work(items: list[InputFile], output_dir: Path) -> list[dict]:
    if _PARENT is not None and os.getppid() != _PARENT:
        os._exit(1)  # orphaned: nobody would record what this chunk writes
    return process_chunk(items, output_dir, _WORKER_CONFIG)


def skip_done(items: list[InputFile], output_dir: Path, config: PipelineConfig, overwrite: bool,
              on_record: Callable[[dict], None]) -> tuple[list[dict], list[InputFile]]:
    """Records for files an earlier run finished, and the files still to do (any engine)."""
    done = {} if overwrite else already_done(items, output_dir, config)
    records = []
    for item in items:
        if item.path in done:
            record: dict = {"input": str(item.relative), "source_name": item.path.name, "status": "already done",
                      "reason": "output exists from an earlier run (use --overwrite to redo)"}
            if done[item.path]:  # still held: the run's exit code and summary say so again
                record.update(held=True, reason="held for review by an earlier run (medical-anonymizer review)")
            records.append(record)
            on_record(record)
    return records, [item for item in items if item.path not in done]


def run_local(items: list[InputFile], output_dir: Path, config: PipelineConfig, workers: int,
              overwrite: bool, on_record: Callable[[dict], None], pool: WorkerPool | None = None) -> list[dict]:
    """``pool``: worker processes kept from call to call (the service's job runner); by
    default the run starts its own and ends them with it."""
    records, todo = skip_done(items, output_dir, config, overwrite, on_record)
    own = pool is None
    if pool is None:
        # One chunk runs in this process: starting workers and their models would cost more.
        pool = WorkerPool(config, workers if len(chunks(todo, chunk_size(config))) > 1 else 1)
    try:
        for record in pool.results(todo, output_dir):
            records.append(record)
            on_record(record)
    finally:
        if own:
            pool.close()
    return records


class WorkerPool:
    """The processes a batch's files run in, each one core with its models loaded once;
    with one worker, this process itself."""

    def __init__(self, config: PipelineConfig, workers: int) -> None:
        self.config, self.workers = worker_config(config), workers
        self._pool: ProcessPoolExecutor | None = None

    def results(self, items: list[InputFile], output_dir: Path) -> Iterator[dict]:
        work = chunks(items, chunk_size(self.config))
        if self.workers <= 1:
            _init_worker(self.config)
            for chunk in work:
                yield from _work(chunk, output_dir)
            return
        if self._pool is None:
            context = get_context("spawn")  # no inherited ONNX Runtime or Tesseract state
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                             initializer=_init_worker, initargs=(self.config, os.getpid()))
        futures = [self._pool.submit(_work, chunk, output_dir) for chunk in work]
        for future in as_completed(futures):
            yield from future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
