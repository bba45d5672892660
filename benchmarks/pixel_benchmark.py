"""Burned-in text quality: PHI recall, clinical text kept, pixels untouched.

    python benchmarks/pixel_benchmark.py [--variants 6] [--text-policy phi]

Runs the whole pipeline (default options) over the synthetic set from pixel_corpus.py
and over ../shared/data/tcia-pseudo-phi, and reports:
- PHI box recall: ground-truth PHI boxes at least 95% covered by the redaction;
- clinical text kept: ground-truth clinical boxes at most 5% covered;
- pixels outside PHI unchanged: stored values outside the PHI boxes (grown by the
  padding plus 3 px of glyph slack) that are identical to the input; the same with
  clinical text boxes left out, and with the identifiers' labels ("DOB:") left out too
  (what is then left is anatomy and background: no burned-in text at all);
- clean images byte-identical: PixelData of images without burned-in text.
Then each PHI box missed, and each image with pixels changed outside the PHI boxes, with
the clinical labels and identifier labels those pixels fall on.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(Path(__file__).parent)]
SHARED = Path(os.environ.get("ANONYMIZER_SHARED", REPO.parent / "shared"))

from anonymizer.config import PipelineConfig  # noqa: E402
from anonymizer.loading import open_job  # noqa: E402
from anonymizer.pipeline import run_stages  # noqa: E402
from pixel_corpus import build  # noqa: E402

SLACK_PX = 3


def _mark_grown(area: np.ndarray, items, grow: int) -> None:
    """Set ``area`` over each truth item's box, grown by ``grow`` pixels on every side."""
    for item in items:
        left, top, width, height = item["box"]
        area[max(top - grow, 0):top + height + grow, max(left - grow, 0):left + width + grow] = True


def _changed_text(name: str, facts: dict, changed_outside: np.ndarray, grow: int) -> list[str]:
    """Which clinical labels and identifier labels the changed pixels outside the PHI boxes
    fall on, with how many pixels each ("examples_overlay_0.dcm: clinical 'SUPINE' 1023 px").
    The texts are the corpus's clinical words and labels, never its identifiers."""
    total = int(changed_outside.sum())
    if not total:
        return []
    parts = []
    for kind, items in (("clinical", facts["keep"]), ("label", facts.get("labels", ()))):
        for item in items:
            area = np.zeros(changed_outside.shape, dtype=bool)
            _mark_grown(area, (item,), grow)
            count = int((changed_outside & area).sum())
            if count:
                parts.append(f"{kind} '{item['label']}' {count} px")
    return [f"{name}: {total} px ({'; '.join(parts) or 'no burned-in text'})"]


def evaluate(images: Path, truth: dict, config: PipelineConfig, out: Path) -> dict:
    counts = dict(phi=0, phi_hit=0, keep=0, keep_kept=0, outside=0, outside_same=0, clean=0, clean_same=0,
                  other=0, other_same=0, no_text=0, no_text_same=0, unlabelled=0, unlabelled_same=0)
    missed = []
    for name, facts in sorted(truth.items()):
        job = open_job(images / name)
        job.output_path = out / f"anonymized_{name}"
        run_stages(job, config)
        mask = job.redaction_mask[0]
        before = pydicom.dcmread(images / name)
        after = pydicom.dcmread(job.output_path)
        if not facts["phi"] and not facts["keep"]:
            counts["clean"] += 1
            counts["clean_same"] += after.PixelData == before.PixelData
        for item in facts["phi"]:
            left, top, width, height = item["box"]
            counts["phi"] += 1
            covered = mask[top:top + height, left:left + width].mean()
            counts["phi_hit"] += covered >= 0.95
            if covered >= 0.95:
                counts["least_hit"] = min(counts.get("least_hit", 1.0), float(covered))
            if covered < 0.95:
                missed.append(f"{name} box {item['box']} covered {covered:.0%}")
        for item in facts["keep"]:
            left, top, width, height = item["box"]
            counts["keep"] += 1
            counts["keep_kept"] += mask[top:top + height, left:left + width].mean() <= 0.05
        allowed = np.zeros(mask.shape, dtype=bool)
        grow = config.padding + SLACK_PX
        _mark_grown(allowed, facts["phi"], grow)
        changed = before.pixel_array != after.pixel_array
        if changed.ndim == 3:
            changed = changed.any(axis=-1)
        counts["outside"] += int((~allowed).sum())
        counts["outside_same"] += int((~allowed & ~changed).sum())
        counts.setdefault("where", []).extend(_changed_text(name, facts, changed & ~allowed, grow))
        # The identifiers' labels counted with their values: what changes then is clinical
        # text, anatomy or background.
        labelled = allowed.copy()
        _mark_grown(labelled, facts.get("labels", ()), grow)
        counts["unlabelled"] += int((~labelled).sum())
        counts["unlabelled_same"] += int((~labelled & ~changed).sum())
        # The same, clinical text boxes left out too (it has its own measure above): the
        # pixels that are neither identifier nor text, anatomy and background.
        text = allowed.copy()
        _mark_grown(text, facts["keep"], grow)
        counts["other"] += int((~text).sum())
        counts["other_same"] += int((~text & ~changed).sum())
        # And the identifiers' labels ("DOB:", "MRN") left out as well: what is not burned-in
        # text at all. A change here is anatomy or background painted, not text lost.
        _mark_grown(text, facts.get("labels", ()), grow)
        counts["no_text"] += int((~text).sum())
        counts["no_text_same"] += int((~text & ~changed).sum())
    counts["missed"] = missed
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", type=int, default=6)
    parser.add_argument("--text-policy", default="phi")
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "pixels")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    config = PipelineConfig(key=b"benchmark key, fixed for the run", text_policy=args.text_policy)
    truth = build(args.work / "images", args.variants)
    start = time.perf_counter()
    synthetic = evaluate(args.work / "images", truth, config, args.work / "out")
    elapsed = time.perf_counter() - start
    tcia_dir = SHARED / "data/tcia-pseudo-phi"
    tcia_truth = {name: {"phi": [{"box": [b["left"], b["top"], b["width"], b["height"]]} for b in facts["phi"]],
                         "keep": facts["keep"]}
                  for name, facts in json.loads((tcia_dir / "ground_truth.json").read_text()).items()}
    tcia = evaluate(tcia_dir, tcia_truth, replace(config), args.work / "tcia")

    def pct(a, b):
        return f"{100 * a / b:.1f}% ({a}/{b})" if b else "n/a"

    print(f"synthetic set: {len(truth)} images, {elapsed / len(truth):.2f} s per image; text policy {args.text_policy}")
    print("| measure | synthetic set | TCIA pseudo-PHI |")
    print("| --- | --- | --- |")
    print(f"| PHI box recall | {pct(synthetic['phi_hit'], synthetic['phi'])} | {pct(tcia['phi_hit'], tcia['phi'])} |")
    print(f"| least covered of the PHI boxes counted | {synthetic.get('least_hit', 1):.1%} | {tcia.get('least_hit', 1):.1%} |")
    print(f"| clinical text kept | {pct(synthetic['keep_kept'], synthetic['keep'])} | n/a (none in the set) |")
    print(f"| pixels outside PHI unchanged | {100 * synthetic['outside_same'] / synthetic['outside']:.3f}% "
          f"| {100 * tcia['outside_same'] / tcia['outside']:.3f}% |")
    print(f"| pixels outside PHI changed | {synthetic['outside'] - synthetic['outside_same']} px "
          f"| {tcia['outside'] - tcia['outside_same']} px |")
    print(f"| pixels outside PHI and the identifiers' labels unchanged "
          f"| {100 * synthetic['unlabelled_same'] / synthetic['unlabelled']:.3f}% "
          f"({synthetic['unlabelled'] - synthetic['unlabelled_same']} px changed) "
          f"| {100 * tcia['unlabelled_same'] / tcia['unlabelled']:.3f}% "
          f"({tcia['unlabelled'] - tcia['unlabelled_same']} px changed) |")
    print(f"| pixels outside PHI and clinical text unchanged | {100 * synthetic['other_same'] / synthetic['other']:.3f}% "
          f"| {100 * tcia['other_same'] / tcia['other']:.3f}% |")
    print(f"| pixels outside all burned-in text (identifiers, their labels, clinical text) unchanged "
          f"| {100 * synthetic['no_text_same'] / synthetic['no_text']:.3f}% "
          f"({synthetic['no_text'] - synthetic['no_text_same']} px changed) "
          f"| {100 * tcia['no_text_same'] / tcia['no_text']:.3f}% ({tcia['no_text'] - tcia['no_text_same']} px changed) |")
    print(f"| clean images byte-identical | {pct(synthetic['clean_same'], synthetic['clean'])} "
          f"| {pct(tcia['clean_same'], tcia['clean'])} |")
    for line in synthetic["missed"] + tcia["missed"]:
        print("missed:", line)
    for line in synthetic.get("where", []) + tcia.get("where", []):
        print("changed outside PHI:", line)


if __name__ == "__main__":
    main()
