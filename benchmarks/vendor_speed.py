"""Header speed on the shape of real scanners' files: medical-anonymizer beside dicognito.

    pip install -r benchmarks/requirements-bench.txt
    python benchmarks/vendor_speed.py [--copies 30] [--rounds 5] [--work benchmarks/work/vendor]

The corpus is built from real vendor files that ship in packages: nibabel's Siemens MR
(CSA headers, a mosaic, diffusion), its Philips enhanced MR (176 frames of functional
groups and Philips private sequences), and pydicom's GE CT (eight GEMS private blocks),
GE NM, Siemens MR with overlays, SonoSite ultrasound and GE MR, their large pixel data cropped. Each copy gets
its own patient, study, series and instance UIDs, so every tool maps fresh values. Both
tools run in this one process, metadata only (ours through the batch loop of
`pipeline_run.py corpus/ out/ --metadata-only --workers 1`), and take turns for
`--rounds` rounds after an untimed warm-up round.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import sys
import time
from importlib import resources
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(Path(__file__).parent)]

from header_benchmark import run_dicognito, run_ours  # noqa: E402
from header_corpus import uid  # noqa: E402

NIBABEL_FILES = ("0.dcm", "siemens_dwi_1000.dcm.gz", "csa_slice_norm.dcm", "philips_mprage.dcm.gz")
PYDICOM_FILES = ("CT_small.dcm", "JPEG2000.dcm", "examples_overlay.dcm", "examples_ybr_color.dcm", "MR_small.dcm")


def base_files() -> dict[str, bytes]:
    bases = {}
    for name in NIBABEL_FILES:
        data = resources.files("nibabel.nicom.tests").joinpath("data", name).read_bytes()
        bases[name.removesuffix(".gz")] = gzip.decompress(data) if name.endswith(".gz") else data
    for name in PYDICOM_FILES:
        bases[name] = Path(get_testdata_file(name, download=False)).read_bytes()
    return bases


def _crop_large_pixel_data(ds: pydicom.Dataset, side: int = 64) -> None:
    """The header is what this measures: 23 MB of Philips frames would time the disk. An
    uncompressed image over 1 MiB keeps its top-left corner of each frame, and every
    header attribute, functional groups included, as it was."""
    if len(ds.get("PixelData", b"")) <= 1 << 20 or ds.file_meta.TransferSyntaxUID.is_compressed:
        return
    pixels = ds.pixel_array[..., :side, :side]
    ds.Rows, ds.Columns = pixels.shape[-2:]
    ds.PixelData = pixels.tobytes()


def build(out: Path, copies: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name, data in base_files().items():
        source = out / "base" / name
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(data)
        ds = pydicom.dcmread(source)
        _crop_large_pixel_data(ds)
        for copy in range(copies):
            ds.PatientName = f"VENDOR^PATIENT{copy}"
            ds.PatientID = f"VP{copy:05d}"
            ds.StudyInstanceUID = uid("study", copy)
            ds.SeriesInstanceUID = uid("series", name, copy)
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid("instance", name, copy)
            target = out / f"{Path(name).stem}_{copy:03d}.dcm"
            ds.save_as(target)
            files.append(target)
    shutil.rmtree(out / "base")
    return sorted(files)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "vendor")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    files = build(args.work / "corpus", args.copies)
    tools = {"medical-anonymizer": run_ours, "dicognito 0.19.0": run_dicognito}
    rates: dict[str, list[float]] = {tool: [] for tool in tools}
    for round_number in range(args.rounds + 1):  # round 0 warms both up, untimed
        for tool, runner in tools.items():
            out = args.work / tool.split()[0]
            shutil.rmtree(out, ignore_errors=True)
            start = time.perf_counter()
            outputs = runner(files, out)
            elapsed = time.perf_counter() - start
            if sum(path is not None for path in outputs.values()) != len(files):
                raise SystemExit(f"{tool}: {len(files) - len(outputs)} files not written")
            if round_number:
                rates[tool].append(len(files) / elapsed)
    size = sum(f.stat().st_size for f in files) / len(files) / 1024
    print(f"{len(files)} files ({len(base_files())} real vendor files x {args.copies} identities, "
          f"{size:.0f} KiB on average), one process on one core, {args.rounds} rounds after a warm-up\n")
    print("| tool | files per second, median (best) | per round |")
    print("| --- | --- | --- |")
    for tool, tool_rates in rates.items():
        print(f"| {tool} | {statistics.median(tool_rates):.0f} ({max(tool_rates):.0f}) | "
              + ", ".join(f"{r:.0f}" for r in tool_rates) + " |")
    ours, theirs = rates["medical-anonymizer"], rates["dicognito 0.19.0"]
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    print(f"\nmedical-anonymizer / dicognito, same round: median {statistics.median(ratios):.2f}x\n")
    print("| vendor file | KiB | " + " | ".join(f"{tool}, ms per file" for tool in tools) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in tools) + " |")
    for base in sorted({f.stem.rsplit("_", 1)[0] for f in files}):
        group = [f for f in files if f.stem.rsplit("_", 1)[0] == base]
        cells = []
        for tool, runner in tools.items():
            out = args.work / tool.split()[0]
            shutil.rmtree(out, ignore_errors=True)
            start = time.perf_counter()
            runner(group, out)
            cells.append(f"{1000 * (time.perf_counter() - start) / len(group):.1f}")
        print(f"| {base} | {group[0].stat().st_size / 1024:.0f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
