"""Cold-process start-up: `--help`, and one 512x512 DICOM end to end (issue 2, item 9).

    python benchmarks/startup.py [--runs 5]

Each measurement is a fresh Python process, as a shell loop would start it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile

from cli_timing import SHARED, timed_cli


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    dicom = SHARED / "data/tcia-pseudo-phi/RGB_ORIGINAL.dcm"  # 512x512, real PET/CT fusion
    help_times = [timed_cli(["--help"]) for _ in range(runs)]
    with tempfile.TemporaryDirectory() as out:
        e2e = [timed_cli([str(dicom), out]) for _ in range(runs)]
    print(f"--help cold process:            median {statistics.median(help_times):.2f} s "
          f"(min {min(help_times):.2f}, max {max(help_times):.2f}, n={runs})")
    print(f"512x512 DICOM end to end (cold): median {statistics.median(e2e):.2f} s "
          f"(min {min(e2e):.2f}, max {max(e2e):.2f}, n={runs})")


if __name__ == "__main__":
    main()
