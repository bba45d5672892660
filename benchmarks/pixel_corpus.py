"""Synthetic burned-in text on pydicom's real images, with ground-truth boxes.

Identifiers (name, birth date, MRN, accession, study date, physician) and clinical text
(views, positions, technique values) are burned into the stored pixel values in varied
Hershey fonts, sizes, thicknesses, polarity and border positions; the identity is also
in the header, as a modality would write it. One image in six carries no text at all.
The truth box of a labelled identifier ("DOB: 03/14/1951", "MRN ...", "ACC ...") holds
the value alone: labels are not identifiers, as in the TCIA truth.

    python benchmarks/pixel_corpus.py OUT_DIR [--variants 6]
"""

from __future__ import annotations

import argparse
import json
import os
import random
from pathlib import Path

import cv2
import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import ExplicitVRLittleEndian

from burn import burn_text, label_and_value_boxes

# Real images without burned-in text of their own (pydicom's ultrasound examples carry
# unlabelled overlays, so they would blur the "untouched" measures), plus the TCIA
# PET/CT fusion for colour.
SOURCES = ("CT_small.dcm", "MR_small.dcm", "examples_overlay.dcm", "693_J2KI.dcm",
           "J2K_pixelrep_mismatch.dcm", "JPEG2000.dcm", "SHARED:RGB_ORIGINAL.dcm", "MR_small_RLE.dcm")
SHARED = Path(os.environ.get("ANONYMIZER_SHARED", Path(__file__).resolve().parents[2] / "shared"))
FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
         cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN)
FAMILY = ("HARTMANN", "OKONKWO", "LINDQVIST", "TAKAHASHI", "MORENO", "DUBOIS", "KOWALSKI", "BRENNAN")
GIVEN = ("MARGARETHE", "CHIDI", "ASTRID", "HIROSHI", "ESPERANZA", "GENEVIEVE", "ZBIGNIEW", "SIOBHAN")
CLINICAL = ("PORTABLE", "SEMI-UPRIGHT", "SUPINE", "AP", "CHEST PA", "120 kVp", "200 mAs", "5 cm",
            "T2 FLAIR AX", "L", "R", "12 MHz", "LAT DECUB", "ERECT")
TARGET_SIDE = 512


def load_source(name: str) -> pydicom.Dataset:
    """The source as native little-endian, one frame, upscaled to about 512 px."""
    if name.startswith("SHARED:"):
        ds = pydicom.dcmread(SHARED / "data/tcia-pseudo-phi" / name.split(":", 1)[1])
    else:
        ds = pydicom.dcmread(get_testdata_file(name, download=False))
    arr = ds.pixel_array  # decoded (RGB for colour); the pipeline's codecs are tested elsewhere
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        arr = arr[0]
        ds.NumberOfFrames = 1
    factor = max(1, TARGET_SIDE // max(arr.shape[:2]))
    if factor > 1:
        arr = cv2.resize(arr, None, fx=factor, fy=factor, interpolation=cv2.INTER_NEAREST)
    ds.Rows, ds.Columns = arr.shape[:2]
    if arr.ndim == 3:
        ds.PhotometricInterpretation, ds.PlanarConfiguration = "RGB", 0
    ds.PixelData = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds["PixelData"].VR = "OB" if int(ds.BitsAllocated) <= 8 else "OW"
    for keyword in ("LossyImageCompression", "ExtendedOffsetTable"):
        ds.pop(keyword, None)
    return ds


def text_values(arr: np.ndarray, ds: pydicom.Dataset, rng: random.Random):
    """(text, outline) values: bright text with a dark rim, or (one time in three) the reverse."""
    low, high = arr.min(), arr.max()
    bright, dark = (low, high) if ds.PhotometricInterpretation == "MONOCHROME1" else (high, low)
    if rng.random() < 1 / 3:
        bright, dark = dark, bright
    if arr.ndim == 3:
        return (np.array([bright] * arr.shape[2], dtype=arr.dtype), np.array([dark] * arr.shape[2], dtype=arr.dtype))
    return bright, dark


def build(out_dir: Path, variants: int = 6, seed: int = 7) -> dict:
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    truth = {}
    for source in SOURCES:
        for v in range(variants):
            ds = load_source(source)
            arr = ds.pixel_array.copy()
            rows, cols = arr.shape[:2]
            family, given = rng.choice(FAMILY), rng.choice(GIVEN)
            mrn = f"{rng.randint(1000000, 9999999)}"
            birth = f"{rng.randint(1930, 1999)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            study = f"20{rng.randint(10, 24)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.StudyDate = f"{family}^{given}", mrn, birth, study
            ds.AccessionNumber = f"A{rng.randint(100000, 999999)}"
            name = f"{Path(source.split(':')[-1]).stem}_{v}.dcm"
            phi, keep, label_boxes = [], [], []
            if v % 6 != 5:  # one in six stays clean
                scale = rng.choice((0.45, 0.55, 0.7, 0.9)) * min(rows, cols) / TARGET_SIDE
                scale = max(scale, 0.4)
                thickness = rng.choice((1, 1, 2))
                font = rng.choice(FONTS)
                if font == cv2.FONT_HERSHEY_PLAIN:
                    scale *= 1.6
                line = int(32 * scale) + 6
                dob = f"{birth[4:6]}/{birth[6:]}/{birth[:4]}"
                study_shown = rng.choice((f"{study[6:]}.{study[4:6]}.{study[:4]}", f"{study[:4]}-{study[4:6]}-{study[6:]}"))
                phi_texts = [f"{family} {given}", f"DOB: {dob}", f"MRN {mrn}", study_shown, f"ACC {ds.AccessionNumber}"]
                labels = {text: text.split(" ")[0] + " " for text in phi_texts if text.startswith(("DOB", "MRN", "ACC"))}
                value, outline = text_values(arr, ds, rng)
                corner = rng.choice(("tl", "tr", "bl"))
                texts = phi_texts[:3] + rng.sample(phi_texts[3:], 1)
                top_block = corner in ("tl", "tr")
                y = line if top_block else rows - line * (len(texts) - 1) - 6
                for text in texts:
                    (w, h), _ = cv2.getTextSize(text, font, scale, thickness)
                    x = 6 if corner in ("tl", "bl") else max(cols - w - 6, 0)
                    box = burn_text(arr, text, (x, y), scale, thickness, value, font, outline)
                    if text in labels:
                        # The label before the value is neither identifier nor clinical text:
                        # its pixels count among "everything else" (as in the TCIA truth).
                        # Its box is recorded apart, to tell text lost from anatomy changed.
                        label_box, box = label_and_value_boxes(arr.shape, text, labels[text], (x, y), scale,
                                                               thickness, font, outline)
                        label_boxes.append({"label": labels[text].strip(), "box": label_box})
                    phi.append({"label": "phi", "box": box})
                    y += line
                # Clinical labels on the other horizontal edge, left and right.
                y_clinical = rows - 8 if top_block else line
                left_edge = 0
                for side, text in zip(("left", "right"), rng.sample(CLINICAL, 2)):
                    (w, h), _ = cv2.getTextSize(text, font, scale, thickness)
                    x = 6 if side == "left" else max(cols - w - 6, 0)
                    if side == "right" and x < left_edge + 12:  # no room beside: one line further in
                        y_clinical += -line if top_block else line
                    box = burn_text(arr, text, (x, y_clinical), scale, thickness, value, font, outline)
                    keep.append({"label": text, "box": box})
                    left_edge = box[0] + box[2]
                ds.PixelData = arr.tobytes()
            ds.save_as(out_dir / name)
            truth[name] = {"phi": phi, "keep": keep, "labels": label_boxes}
    (out_dir.parent / f"{out_dir.name}-truth.json").write_text(json.dumps(truth, indent=1))
    return truth


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--variants", type=int, default=6)
    args = parser.parse_args()
    truth = build(args.out_dir, args.variants)
    print(f"{len(truth)} images in {args.out_dir}")
