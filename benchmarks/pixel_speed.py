"""Stages 4 to 7 with models loaded: a 512x512 single-frame DICOM, a 2140x1760 CR, and
a multi-frame MR.

    python benchmarks/pixel_speed.py [--runs 7] [--frames 500] [--ocr-engines rapidocr,tesseract,easyocr
                                                                 --easyocr-models DIR]

The 512x512 file is the TCIA PET/CT fusion (../shared), as it is (no burned-in text) and
with an identifier block and a view label burned in (every stage-5 and stage-6 step then
runs: re-reads, label reads, growth, inpainting, verification); the 2140x1760 CR is
pydicom's real CR (dicomdirtests 6154, MONOCHROME1) resized to a full detector and given
a burned-in name and date, as a CR from the modality would carry. The multi-frame MR is
an Enhanced MR of --frames 256x256 frames without burned-in text, each a different
section (pydicom's MR turned and scaled frame by frame), run once.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pydicom
from pydicom.data import get_testdata_file

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(Path(__file__).parent)]
SHARED = Path(os.environ.get("ANONYMIZER_SHARED", REPO.parent / "shared"))

from burn import burn_text  # noqa: E402

from anonymizer.config import PipelineConfig, parse_engine_list  # noqa: E402
from anonymizer.loading import open_job  # noqa: E402
from anonymizer.pipeline import STAGES  # noqa: E402


def make_cr(path: Path) -> Path:
    ds = pydicom.dcmread(get_testdata_file("6154", download=False))
    big = cv2.resize(ds.pixel_array.astype(np.float32), (1760, 2140), interpolation=cv2.INTER_CUBIC)
    big = np.clip(big, 0, 4095).astype(np.uint16)
    white = 0  # MONOCHROME1: low values render white
    burn_text(big, "HARTMANN MARGARETHE", (40, 80), 1.6, 3, white)
    burn_text(big, "DOB 03/14/1951  ID 4471923", (40, 140), 1.6, 3, white)
    burn_text(big, "PA ERECT", (1400, 2080), 1.6, 3, white)
    ds.Rows, ds.Columns = big.shape
    ds.PixelData = big.tobytes()
    ds.PatientName = "HARTMANN^MARGARETHE"
    ds.save_as(path)
    return path


def make_enhanced_mr(path: Path, frames: int) -> Path:
    """An Enhanced MR Image Storage file of ``frames`` 256x256 frames, no burned-in text."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    source = pydicom.dcmread(get_testdata_file("MR_small.dcm", download=False)).pixel_array.astype(np.float32)
    base = cv2.resize(source, (256, 256), interpolation=cv2.INTER_CUBIC)
    stack = np.empty((frames, 256, 256), np.uint16)
    for index in range(frames):
        turn = cv2.getRotationMatrix2D((128, 128), 360.0 * index / frames, 0.8 + 0.4 * index / max(frames - 1, 1))
        stack[index] = np.clip(cv2.warpAffine(base, turn, (256, 256)), 0, 4095)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4.1"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.Modality = generate_uid(), generate_uid(), "MR"
    ds.PatientName, ds.PatientID = "HARTMANN^MARGARETHE", "4471923"
    ds.Rows = ds.Columns = 256
    ds.NumberOfFrames, ds.SamplesPerPixel, ds.PhotometricInterpretation = frames, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = stack.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def make_text_512(source: Path, path: Path) -> Path:
    """The 512x512 RGB fusion with a four-line identifier block top left and a view label
    bottom right, white on the image, 13-16 px letters as modality overlays draw them."""
    ds = pydicom.dcmread(source)
    rgb = ds.pixel_array.copy()
    white = np.array([255, 255, 255], dtype=rgb.dtype)
    for row, text in enumerate(("HARTMANN MARGARETHE", "DOB: 03/14/1951", "MRN 4471923", "ACC A208817")):
        burn_text(rgb, text, (8, 22 + 20 * row), 0.5, 1, white)
    burn_text(rgb, "PET/CT AXIAL", (400, 500), 0.5, 1, white)
    ds.PixelData = rgb.tobytes()
    ds.PatientName = "HARTMANN^MARGARETHE"
    ds.save_as(path)
    return path


def time_stages(path: Path, config: PipelineConfig, out: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        job = open_job(path)
        job.output_path = out / f"anonymized_{path.name}"
        for _name, stage in STAGES[:3]:
            stage(job, config)
        start = time.perf_counter()
        for _name, stage in STAGES[3:]:
            stage(job, config)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--frames", type=int, default=500, help="frames of the multi-frame MR (0: leave it out)")
    parser.add_argument("--ocr-engines", help="comma-separated OCR engines (default: the CLI's)")
    parser.add_argument("--easyocr-models", type=Path, help="EasyOCR's exported models, as the CLI's option")
    args = parser.parse_args()
    runs = args.runs
    config = PipelineConfig(key=b"benchmark key, fixed for the run", easyocr_model_dir=args.easyocr_models)
    if args.ocr_engines:
        config = replace(config, ocr_engines=parse_engine_list(args.ocr_engines))
    print(f"OCR engines: {', '.join(config.ocr_engines)}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        cr = make_cr(out / "cr_2140x1760.dcm")
        small = SHARED / "data/tcia-pseudo-phi/RGB_ORIGINAL.dcm"
        time_stages(small, config, out, 1)  # load the models once, as a batch worker would
        text_ct = SHARED / "data/tcia-pseudo-phi/2_ORIGINAL.dcm"
        text_512 = make_text_512(small, out / "rgb_512_text.dcm")
        cases = (("512x512 DICOM, no burned-in text (RGB_ORIGINAL)", small),
                 ("512x512 DICOM with an identifier block and a view label (RGB_ORIGINAL + text)", text_512),
                 ("552x394 CT with a burned-in name and DOB (2_ORIGINAL)", text_ct),
                 ("2140x1760 CR with burned-in name, DOB, ID and a view label", cr))
        for label, path in cases:
            times = time_stages(path, config, out, runs)
            print(f"{label}: stages 4-7 median {statistics.median(times):.2f} s "
                  f"(min {min(times):.2f}, max {max(times):.2f}, n={runs})")
        if args.frames:
            mr = make_enhanced_mr(out / "enhanced_mr.dcm", args.frames)
            times = time_stages(mr, config, out, 1)
            print(f"Enhanced MR, {args.frames} frames of 256x256 without burned-in text: stages 4-7 {times[0]:.1f} s "
                  f"({times[0] / args.frames:.3f} s per frame)")


if __name__ == "__main__":
    main()
