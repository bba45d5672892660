"""Batch throughput: 1 and 2 local workers, and Spark local mode, on a 200-file set.

    python benchmarks/batch_benchmark.py [--files 200]

The set cycles through real images (pydicom's CT, MR, CR, NM and the TCIA files with
burned-in text) under distinct names; every run is the full seven-stage pipeline,
started from the command line as a user would, output to a fresh folder.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from pydicom.data import get_testdata_file

from cli_timing import REPO, SHARED, timed_cli
SOURCES = [get_testdata_file(n, download=False) for n in ("CT_small.dcm", "MR_small.dcm", "examples_overlay.dcm",
                                          "JPEG2000.dcm", "MR_small_RLE.dcm", "693_J2KI.dcm")]
SOURCES += [str(SHARED / "data/tcia-pseudo-phi" / n) for n in ("2_ORIGINAL.dcm", "RGB_ORIGINAL.dcm")]


def build(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        shutil.copy(SOURCES[i % len(SOURCES)], folder / f"file_{i:04d}.dcm")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "batch")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    build(args.work / "input", args.files)
    rows = []
    for label, extra in (("local, 1 worker", ["--workers", "1"]), ("local, 2 workers", ["--workers", "2"]),
                         ("spark local[2]", ["--engine", "spark", "--workers", "2"])):
        out = args.work / label.replace(" ", "_").replace(",", "")
        seconds = timed_cli([str(args.work / "input"), str(out), *extra])
        rows.append((label, seconds))
        print(f"{label}: {args.files} files in {seconds:.1f} s = {args.files / seconds:.2f} files/s", flush=True)
    base = rows[0][1]
    for label, seconds in rows[1:]:
        print(f"speed-up of {label} over 1 worker: {base / seconds:.2f}x")


if __name__ == "__main__":
    main()
