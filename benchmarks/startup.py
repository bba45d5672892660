"""Cold-process start-up: `--help`, and one 512x512 DICOM end to end (issue 2, item 9).

    python benchmarks/startup.py [--runs 5]

Each measurement is a fresh Python process, as a shell loop would start it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ANONYMIZER_SHARED", REPO.parent / "shared"))


def timed(args: list[str]) -> float:
    env = {**os.environ, "ANONYMIZER_KEY": "benchmark-key-0123456789"}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(REPO / "pipeline_run.py"), *args],
                            capture_output=True, env=env, cwd=REPO)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"failed: {args}: {result.stderr.decode()[-300:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    dicom = SHARED / "data/tcia-pseudo-phi/RGB_ORIGINAL.dcm"  # 512x512, real PET/CT fusion
    help_times = [timed(["--help"]) for _ in range(runs)]
    with tempfile.TemporaryDirectory() as out:
        e2e = [timed([str(dicom), out]) for _ in range(runs)]
    print(f"--help cold process:            median {statistics.median(help_times):.2f} s "
          f"(min {min(help_times):.2f}, max {max(help_times):.2f}, n={runs})")
    print(f"512x512 DICOM end to end (cold): median {statistics.median(e2e):.2f} s "
          f"(min {min(e2e):.2f}, max {max(e2e):.2f}, n={runs})")


if __name__ == "__main__":
    main()
