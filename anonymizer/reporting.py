"""Machine-readable reports under OUTPUT_DIR: one JSON line per file, and a summary.

They carry what happened and why, never identifying values: FileReport holds none, and
file names are the user's own input names (README, "Batches").
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import fields
from pathlib import Path

from anonymizer.atomic import write_bytes_atomically
from anonymizer.job import FileReport

REPORT_NAME = "anonymizer-report.jsonl"
SUMMARY_NAME = "anonymizer-summary.json"


def report_record(report: FileReport, relative: Path, seconds: float) -> dict:
    # A shallow copy: asdict()'s deep one was a fiftieth of a --metadata-only file's time.
    record = {f.name: getattr(report, f.name) for f in fields(report)}
    record["input"] = str(relative)
    record["seconds"] = round(seconds, 3)
    record.pop("stages", None)
    return record


def append_record(output_dir: Path, record: dict) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    with (output_dir / REPORT_NAME).open("a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")


def previous_outputs(output_dir: Path) -> dict[str, str]:
    """input -> output of files a previous run wrote completely, held, or a review released
    (for --layout uid resume)."""
    path = output_dir / REPORT_NAME
    done = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a killed run
            finished = record.get("status") in ("written", "held", "released")
            if finished and Path(record.get("output_path", "")).is_file():
                done[record["input"]] = record["output_path"]
    return done


def summarise(records: list[dict], seconds: float) -> dict:
    statuses = Counter(r["status"] for r in records)
    return {
        "processed": len(records),
        "written": statuses.get("written", 0),
        "held": statuses.get("held", 0) + sum(1 for r in records if r.get("held")),
        "already_done": statuses.get("already done", 0),
        "rejected_non_medical": statuses.get("rejected", 0),
        "skipped": statuses.get("skipped", 0),
        "failed": statuses.get("failed", 0),
        "failures": [{"input": r["input"], "reason": r["reason"]} for r in records if r["status"] == "failed"],
        # Held under OUTPUT_DIR/review (the default), or released with --review release.
        "needing_review": [r["input"] for r in records if r.get("regions_review") or r.get("held")],
        "seconds": round(seconds, 2),
        "files_per_second": round(len(records) / seconds, 2) if seconds else None,
    }


def write_summary(output_dir: Path, summary: dict) -> None:
    write_bytes_atomically(output_dir / SUMMARY_NAME, json.dumps(summary, indent=2).encode())
