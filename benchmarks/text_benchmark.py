"""Burned-in identifiers on the TrueType corpus (text_corpus.py): both parts, reported apart.

    python benchmarks/text_benchmark.py [--images 48] [--overlays 6] [--parts dev,eval] [--text-policy-file F]
    python benchmarks/text_benchmark.py --parts eval --easyocr-models DIR \
        --engine-sets "rapidocr;tesseract;easyocr;rapidocr,tesseract;rapidocr,tesseract,easyocr"

Each image goes through the whole pipeline with the default options (hold included).
Measures, per part:
- identifier tokens hidden: phi tokens whose ink box is at least 95% under stage 6's
  mask on every frame that shows them;
- images released with an identifier readable: written (not held, not failed) with a
  phi token not hidden. The worst outcome; the target is 0;
- images held for review, and failed;
- clinical tokens kept: at most 5% of their ink box painted;
- pixels outside all burned-in text unchanged: outside every token box (grown by the
  padding and 3 px), the share stage 6 did not paint; and how many images had any;
- real scanner files without text whose pixel data came out byte for byte;
- text in the annotation layer (a 60xx plane, or bits above HighBit), run with Clean
  Graphics so that planes are kept and cleaned: a token is hidden when at most 5% of its
  set bits are left in the written file (a removed plane hides everything), and a
  clinical one kept when at least 95% are;
- seconds per image;
- text regions each engine found (before the merge), summed over the images with text.
With --engine-sets, each set of OCR engines runs the same images and one row per set
compares them; otherwise the default engines run and the full tables are printed.
Hidden rates are broken down by text height, orientation, font, placement and class.
Misses are listed for the dev part only: the evaluation part is reported as totals, so
that no rule is ever fitted to one of its images.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(Path(__file__).parent)]

from text_corpus import build  # noqa: E402

from anonymizer.config import PipelineConfig, parse_engine_list  # noqa: E402
from anonymizer.errors import AnonymizerError  # noqa: E402
from anonymizer.loading import open_job  # noqa: E402
from anonymizer.metadata.profile import ProfileOption  # noqa: E402
from anonymizer.pipeline import quiet_pydicom, run_stages  # noqa: E402

HIDDEN, KEPT, SLACK_PX = 0.95, 0.05, 3
LAYERS = ("overlay", "high-bits")


def size_bucket(height: int) -> str:
    return "6-8 px" if height <= 8 else "9-14 px" if height <= 14 else "15-24 px" if height <= 24 else "25-40 px"


def coverage(mask: np.ndarray | None, token: dict) -> float:
    """The least share of the token's ink box painted, over the frames that show it."""
    if mask is None:
        return 0.0
    left, top, width, height = token["box"]
    frames = range(mask.shape[0]) if token["frame"] is None else [token["frame"]]
    return min(float(mask[f, top:top + height, left:left + width].mean()) for f in frames)


def layer_plane(path: Path) -> np.ndarray:
    """What the file's annotation layer shows, one bit per pixel: its (6000,3000) plane,
    where the output may have lifted a high-bits overlay to, and bits above HighBit of
    PixelData."""
    ds = pydicom.dcmread(path)
    stored = np.frombuffer(ds.PixelData, dtype=np.uint16).reshape(ds.Rows, ds.Columns)
    plane = stored >> int(ds.BitsStored) & 1
    if 0x60003000 in ds:
        plane = plane | np.asarray(ds.overlay_array(0x6000))
    return plane


def bits_in(plane: np.ndarray, token: dict) -> int:
    left, top, width, height = token["box"]
    return int(plane[top:top + height, left:left + width].sum())


def run_image(path: Path, out: Path, config: PipelineConfig) -> tuple[str, np.ndarray | None, float, object]:
    start = time.perf_counter()
    try:
        with quiet_pydicom():
            job = open_job(path)
            job.output_root = out
            job.output_path = out / f"anonymized_{path.name}"
            run_stages(job, config)
    except AnonymizerError as exc:
        return f"failed: {exc.reason}", None, time.perf_counter() - start, None
    status = job.report.status if job.report.status != "pending" else "written"
    return status, job.redaction_mask, time.perf_counter() - start, job


def evaluate_layer(name: str, facts: dict, folder: Path, out: Path, config: PipelineConfig, stats: dict,
                   misses: list[str], show_misses: bool) -> None:
    status, _, _, job = run_image(folder / name, out, config)
    stats["layer_images"] += 1
    readable = False
    before = layer_plane(folder / name)
    after = layer_plane(job.output_path) if job is not None and job.output_path.exists() else None
    for token in facts["tokens"]:
        set_bits = bits_in(before, token)
        kept = 0.0 if after is None else bits_in(after, token) / set_bits if set_bits else 1.0
        if token["kind"] == "phi":
            stats["layer_phi"] += 1
            stats["layer_phi_hidden"] += kept <= 1 - HIDDEN
            if kept > 1 - HIDDEN:
                readable = True
                if show_misses:
                    misses.append(f"{name} [{status}] {token['layer']} {token['cls']} {token['height']} px: "
                                  f"{kept:.0%} of its bits left")
        elif token["kind"] == "clinical":
            stats["layer_clinical"] += 1
            stats["layer_clinical_kept"] += kept >= HIDDEN
    stats["layer_released_readable"] += readable and status == "written"


def evaluate(folder: Path, truth: dict, config: PipelineConfig, out: Path, show_misses: bool) -> dict:
    stats: dict = defaultdict(int)
    by: dict = defaultdict(lambda: [0, 0])
    misses, seconds = [], []
    strategy = config.strategy
    clean_graphics = replace(strategy, options=strategy.options | {ProfileOption.CLEAN_GRAPHICS})
    layer_config = replace(config, strategy=clean_graphics)
    for name, facts in sorted(truth.items()):
        if facts["kind"] in LAYERS:
            evaluate_layer(name, facts, folder, out, layer_config, stats, misses, show_misses)
            continue
        status, mask, elapsed, job = run_image(folder / name, out, config)
        seconds.append(elapsed)
        tokens = facts["tokens"]
        phi = [t for t in tokens if t["kind"] == "phi"]
        if facts["kind"] == "real":
            stats["clean"] += 1
            if job is not None and status == "written":
                before = pydicom.dcmread(folder / name)
                after = pydicom.dcmread(job.output_path)
                stats["clean_same"] += before.PixelData == after.PixelData
            continue
        stats["images"] += 1
        if job is not None:
            for engine, count in job.report.regions_per_engine.items():
                stats[f"regions {engine}"] += count
        stats["held"] += status == "held"
        stats["failed"] += status.startswith("failed")
        readable = False
        for token in phi:
            hidden = coverage(mask, token) >= HIDDEN
            stats["phi"] += 1
            stats["phi_hidden"] += hidden
            for key in (f"height {size_bucket(token['height'])}", f"orientation {token['orientation']}",
                        f"font {token['font']}", f"placement {token['placement']}", f"class {token['cls']}",
                        f"image {facts['kind']}"):
                by[key][0] += 1
                by[key][1] += hidden
            if not hidden:
                readable = True
                if show_misses:
                    misses.append(f"{name} [{status}] {token['cls']} {token['height']} px, {token['orientation']} deg, "
                                  f"{token['font']}, {token['placement']}: {coverage(mask, token):.0%} painted")
        stats["released_readable"] += readable and status == "written"
        for token in tokens:
            if token["kind"] == "clinical":
                stats["clinical"] += 1
                stats["clinical_kept"] += coverage(mask, token) <= KEPT
        if mask is not None:
            text = np.zeros(mask.shape[1:], dtype=bool)
            grow = config.padding + SLACK_PX
            for token in tokens:
                left, top, width, height = token["box"]
                text[max(top - grow, 0):top + height + grow, max(left - grow, 0):left + width + grow] = True
            painted = mask.any(axis=0) & ~text
            stats["outside"] += int((~text).sum())
            stats["outside_painted"] += int(painted.sum())
            stats["anatomy_painted_images"] += bool(painted.any())
    stats["seconds"] = float(np.mean(seconds)) if seconds else 0.0
    return {"stats": dict(stats), "by": dict(by), "misses": misses}


def outside_unchanged(stats: dict) -> float:
    """Percent of the pixels outside all text that stage 6 left unpainted."""
    return 100 - 100 * stats.get("outside_painted", 0) / max(stats.get("outside", 1), 1)


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}% ({a}/{b})" if b else "n/a"


def compare_engine_sets(args, config: PipelineConfig, parts: list[str], truths: dict) -> None:
    sets = [parse_engine_list(group) for group in args.engine_sets.split(";")]
    print("| part | OCR engines | identifier tokens hidden | released readable | clinical tokens kept "
          "| pixels outside text unchanged | seconds per image | regions found, per engine |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for part in parts:
        for engines in sets:
            out = args.work / part / ("out-" + "-".join(engines))
            s = evaluate(args.work / part / "images", truths[part], replace(config, ocr_engines=engines), out,
                         show_misses=False)["stats"]
            found = ", ".join(f"{e} {s.get(f'regions {e}', 0)}" for e in engines)
            print(f"| {part} | {' + '.join(engines)} | {pct(s.get('phi_hidden', 0), s.get('phi', 0))} "
                  f"| {s.get('released_readable', 0)} | {pct(s.get('clinical_kept', 0), s.get('clinical', 0))} "
                  f"| {outside_unchanged(s):.3f}% | {s.get('seconds', 0):.2f} | {found} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--overlays", type=int, default=6)
    parser.add_argument("--parts", default="dev,eval")
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "text")
    parser.add_argument("--text-policy-file", type=Path, help="a site's text policy, as the CLI's option")
    parser.add_argument("--engine-sets", help="';'-separated sets of comma-separated OCR engines to compare")
    parser.add_argument("--easyocr-models", type=Path, help="EasyOCR's exported models, as the CLI's option")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    config = PipelineConfig(key=b"benchmark key, fixed for the run", text_policy_file=args.text_policy_file,
                            easyocr_model_dir=args.easyocr_models)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    truths = {part: build(args.work / part / "images", part, args.images, args.overlays) for part in parts}
    if args.engine_sets:
        compare_engine_sets(args, config, parts, truths)
        return
    results = {}
    for part in parts:
        results[part] = evaluate(args.work / part / "images", truths[part], config, args.work / part / "out",
                                 show_misses=part == "dev")
    header = " | ".join(parts)
    print(f"| measure | {header} |")
    print("| --- |" + " --- |" * len(parts))

    def row(label: str, cell) -> None:
        print(f"| {label} | " + " | ".join(cell(results[p]["stats"]) for p in parts) + " |")

    row("images with text", lambda s: str(s.get("images", 0)))
    row("identifier tokens hidden", lambda s: pct(s.get("phi_hidden", 0), s.get("phi", 0)))
    row("images released with an identifier readable", lambda s: str(s.get("released_readable", 0)))
    row("images held for review", lambda s: str(s.get("held", 0)))
    row("images failed", lambda s: str(s.get("failed", 0)))
    row("clinical tokens kept", lambda s: pct(s.get("clinical_kept", 0), s.get("clinical", 0)))
    row("pixels outside all text unchanged",
        lambda s: f"{outside_unchanged(s):.3f}% "
                  f"({s.get('outside_painted', 0)} px painted, in {s.get('anatomy_painted_images', 0)} images)")
    row("real files without text, pixel data byte for byte", lambda s: pct(s.get("clean_same", 0), s.get("clean", 0)))
    row("seconds per image", lambda s: f"{s.get('seconds', 0):.2f}")
    row("annotation-layer images (60xx plane, high bits), Clean Graphics", lambda s: str(s.get("layer_images", 0)))
    row("annotation layer: identifier tokens hidden",
        lambda s: pct(s.get("layer_phi_hidden", 0), s.get("layer_phi", 0)))
    row("annotation layer: released with an identifier readable", lambda s: str(s.get("layer_released_readable", 0)))
    row("annotation layer: clinical tokens kept",
        lambda s: pct(s.get("layer_clinical_kept", 0), s.get("layer_clinical", 0)))
    keys = sorted({k for p in parts for k in results[p]["by"]})
    print()
    print(f"| identifier tokens hidden, by | {header} |")
    print("| --- |" + " --- |" * len(parts))
    for key in keys:
        cells = []
        for p in parts:
            total, hidden = results[p]["by"].get(key, (0, 0))
            cells.append(pct(hidden, total))
        print(f"| {key} | " + " | ".join(cells) + " |")
    for p in parts:
        for line in results[p]["misses"]:
            print(f"missed ({p}):", line)


if __name__ == "__main__":
    main()
