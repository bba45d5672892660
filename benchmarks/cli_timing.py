"""Time one cold command-line run, as a user's shell loop would start it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ANONYMIZER_SHARED", REPO.parent / "shared"))


def timed_cli(args: list[str]) -> float:
    env = {**os.environ, "ANONYMIZER_KEY": "benchmark-key-0123456789"}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(REPO / "pipeline_run.py"), *args],
                            capture_output=True, text=True, env=env, cwd=REPO)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"failed: {args}: {result.stderr[-500:]}")
    return elapsed
