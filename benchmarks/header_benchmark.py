"""Header de-identification quality and speed: medical-anonymizer beside dicognito and deid.

    pip install -r benchmarks/requirements-bench.txt
    python benchmarks/header_benchmark.py [--patients 20] [--work benchmarks/work]

Builds the synthetic corpus (header_corpus.py), runs each tool over it in this one
process (metadata only, no OCR), scores the outputs (header_score.py) and times each
tool's files per second on one core.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(Path(__file__).parent)]

from header_corpus import build  # noqa: E402
from header_score import CATEGORIES, overall, score  # noqa: E402


def run_ours(files: list[Path], out: Path) -> dict[str, Path]:
    """What `pipeline_run.py corpus/ out/ --metadata-only --workers 1` runs after start-up:
    the batch loop, with its report line per file."""
    from anonymizer.batch import run_local
    from anonymizer.config import PipelineConfig
    from anonymizer.inputs import InputFile
    from anonymizer.reporting import append_record

    config = PipelineConfig(key=b"benchmark key, fixed for the run", metadata_only=True)
    items = [InputFile(f, Path(f.name)) for f in files]
    records = run_local(items, out, config, workers=1, overwrite=True,
                        on_record=lambda record: append_record(out, record))
    return {Path(r["input"]).name: Path(r["output_path"]) if r["status"] == "written" else None for r in records}


def run_dicognito(files: list[Path], out: Path) -> dict[str, Path]:
    import pydicom
    from dicognito.anonymizer import Anonymizer

    anonymizer = Anonymizer(seed="benchmark")
    out.mkdir(parents=True, exist_ok=True)
    outputs = {}
    for f in files:
        ds = pydicom.dcmread(f)
        anonymizer.anonymize(ds)
        ds.save_as(out / f.name)
        outputs[f.name] = out / f.name
    return outputs


def run_deid(files: list[Path], out: Path) -> dict[str, Path]:
    from deid.dicom import replace_identifiers

    out.mkdir(parents=True, exist_ok=True)
    written = replace_identifiers([str(f) for f in files], save=True, output_folder=str(out),
                                  overwrite=True, remove_private=True)
    return {Path(w).name: Path(w) for w in written}


TOOLS = {"medical-anonymizer": run_ours, "dicognito 0.19.0": run_dicognito, "deid 0.4.13": run_deid}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5,
                        help="interleaved timing rounds; this machine's speed drifts by 30%% within minutes")
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    truth = build(args.work / "corpus", args.patients)
    files = sorted((args.work / "corpus").glob("*.dcm"))
    rates: dict[str, list[float]] = {tool: [] for tool in TOOLS}
    results = {}
    for round_number in range(args.rounds + 1):  # round 0 warms every tool up, untimed
        for tool, runner in TOOLS.items():
            if tool in results and results[tool] is None:
                continue
            out = args.work / tool.split()[0]
            shutil.rmtree(out, ignore_errors=True)
            start = time.perf_counter()
            try:
                outputs = runner(files, out)
            except Exception as exc:  # noqa: BLE001 - a competitor failing is a result too
                print(f"{tool}: failed ({type(exc).__name__}: {exc})")
                results[tool] = None
                continue
            if round_number:
                rates[tool].append(len(files) / (time.perf_counter() - start))
            results[tool] = score(truth, outputs)
    rows = [(tool, rates[tool], r) for tool, r in results.items() if r is not None]
    print(f"{len(files)} files, {len(truth['patients'])} patients, one process on one core, "
          f"{args.rounds} interleaved rounds after a warm-up round\n")
    print("| category | " + " | ".join(t for t, _, _ in rows) + " |")
    print("| --- | " + " | ".join("---" for _ in rows) + " |")
    for category in CATEGORIES:
        cells = [f"{100 * r[category][0] / max(r[category][1], 1):.1f}% ({r[category][0]}/{r[category][1]})"
                 for _, _, r in rows]
        print(f"| {category} | " + " | ".join(cells) + " |")
    print("| **overall** | " + " | ".join(f"**{overall(r):.2f}%**" for _, _, r in rows) + " |")
    for tool, tool_rates in rates.items():
        print(f"{tool} files/s per round: {', '.join(f'{r:.0f}' for r in tool_rates)}", file=sys.stderr)
    print("| files per second, median (best) | "
          + " | ".join(f"{statistics.median(t):.0f} ({max(t):.0f})" for _, t, _ in rows) + " |")
    reference = rates.get("dicognito 0.19.0")
    if reference and len(reference) == len(rates["medical-anonymizer"]):
        ratios = [ours / theirs for ours, theirs in zip(rates["medical-anonymizer"], reference)]
        print(f"\nmedical-anonymizer / dicognito, same round: median {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
