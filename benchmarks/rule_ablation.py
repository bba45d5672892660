"""What each special rule of stages 5 and 6 pays for: the benchmarks with it switched off.

    python benchmarks/rule_ablation.py [--images 48]

For each rule below, the development part of the TrueType corpus (text_corpus.py) and
the Hershey set (pixel_corpus.py) run with that rule alone switched off; the table puts
the figures beside those of all rules on. A rule whose absence changes nothing on either
set pays only where a test holds it, and is a candidate to go. The evaluation part is
never used here.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(Path(__file__).parent)]

import pixel_benchmark  # noqa: E402
import text_benchmark  # noqa: E402
from pixel_corpus import build as build_hershey  # noqa: E402
from text_corpus import build as build_text  # noqa: E402

from anonymizer.config import PipelineConfig  # noqa: E402

# rule -> (module attribute, replacement) that switches it off
SWITCHES = {
    "not-text": [("ocr.detect.unconfirmed", lambda *args: False)],
    "unread-block-line": [("ocr.detect.unread_lines_of_identifier_blocks", lambda *args: [])],
    "garbled-block-line": [("ocr.detect.garbled_lines_of_identifier_blocks", lambda *args: None)],
    "unknown-block-line": [("ocr.detect.unknown_lines_of_identifier_blocks", lambda *args: None)],
    "kept label re-read (verification)": [("anonymizer.verification.kept_label_reads_as_label", lambda *args: True)],
}


def figures(work: Path, text_truth: dict, hershey_truth: dict, config: PipelineConfig) -> dict:
    shutil.rmtree(work / "out", ignore_errors=True)
    text = text_benchmark.evaluate(work / "text", text_truth, config, work / "out" / "text", show_misses=False)["stats"]
    hershey = pixel_benchmark.evaluate(work / "hershey", hershey_truth, config, work / "out" / "hershey")
    return {
        "dev hidden": f"{text['phi_hidden']}/{text['phi']}",
        "dev released readable": str(text["released_readable"]),
        "dev clinical kept": f"{text['clinical_kept']}/{text['clinical']}",
        "dev px painted outside text": str(text["outside_painted"]),
        "Hershey recall": f"{hershey['phi_hit']}/{hershey['phi']}",
        "Hershey clinical kept": f"{hershey['keep_kept']}/{hershey['keep']}",
        "Hershey px outside PHI": str(hershey["outside"] - hershey["outside_same"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "ablation")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    config = PipelineConfig(key=b"benchmark key, fixed for the run")
    text_truth = build_text(args.work / "text", "dev", args.images)
    hershey_truth = build_hershey(args.work / "hershey", 6)
    rows = {"all rules on": figures(args.work, text_truth, hershey_truth, config)}
    for rule, switches in SWITCHES.items():
        with ExitStack() as stack:
            for target, replacement in switches:
                stack.enter_context(mock.patch(target, replacement))
            rows[f"without {rule}"] = figures(args.work, text_truth, hershey_truth, config)
    columns = list(rows["all rules on"])
    print("| run | " + " | ".join(columns) + " |")
    print("| --- |" + " --- |" * len(columns))
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(row[c] for c in columns) + " |")


if __name__ == "__main__":
    main()
