"""Stage 4: CLAHE on the border bands of the 8-bit view, where burned-in text lives.

Only the view changes (it feeds OCR); the stored pixels never do. The centre is left
alone so that the view there stays what a radiologist sees.
"""

from __future__ import annotations

import cv2
import numpy as np

from anonymizer.config import PipelineConfig
from anonymizer.job import Job

CLIP_LIMIT = 2.0
TILE_GRID = (8, 8)
# A band whose values already spread over half the 8-bit range has readable contrast;
# CLAHE there only lifts background noise, which cost Tesseract every word on the
# TCIA sample. Faint bands (grey text on grey) are the ones it helps.
READABLE_SPREAD = 128


def needs_enhancement(band: np.ndarray) -> bool:
    low, high = np.percentile(band, [0.5, 99.5])
    return high - low < READABLE_SPREAD


def border_band_slices(rows: int, cols: int, fraction: float) -> list[tuple[slice, slice]]:
    """Top and bottom bands across the full width; left and right bands between them."""
    band_rows = max(int(round(rows * fraction)), 1)
    band_cols = max(int(round(cols * fraction)), 1)
    if 2 * band_rows >= rows or 2 * band_cols >= cols:
        return [(slice(0, rows), slice(0, cols))]
    return [
        (slice(0, band_rows), slice(0, cols)),
        (slice(rows - band_rows, rows), slice(0, cols)),
        (slice(band_rows, rows - band_rows), slice(0, band_cols)),
        (slice(band_rows, rows - band_rows), slice(cols - band_cols, cols)),
    ]


def clahe_frame(frame: np.ndarray, fraction: float) -> np.ndarray:
    clahe = cv2.createCLAHE(clipLimit=CLIP_LIMIT, tileGridSize=TILE_GRID)
    out = frame.copy()
    for rows, cols in border_band_slices(frame.shape[0], frame.shape[1], fraction):
        band = np.ascontiguousarray(frame[rows, cols])
        if band.size == 0 or band.min() == band.max() or not needs_enhancement(band):
            continue  # flat or already contrasted: CLAHE would only add noise
        if band.ndim == 2:
            out[rows, cols] = clahe.apply(band)
        else:
            lab = cv2.cvtColor(band, cv2.COLOR_RGB2LAB)
            lab[..., 0] = clahe.apply(np.ascontiguousarray(lab[..., 0]))
            out[rows, cols] = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    return out


def enhance(job: Job, config: PipelineConfig) -> None:
    if job.view is None:
        job.report.stages.append("enhance: no pixels")
        return
    job.view = np.stack([clahe_frame(frame, config.border_fraction) for frame in job.view])
    job.report.stages.append(f"enhance: CLAHE on {config.border_fraction:.0%} border bands")


THIN_KERNEL = np.ones((2, 2), np.uint8)


def thinned_strokes(crop: np.ndarray) -> np.ndarray:
    """The crop with its text strokes one pixel thinner. Bold small fonts close their
    counters ("CHEST" reads "CHET", "FLAIR" "FLAR"); thinning opens them again. The text
    is the minority side of Otsu's threshold: bright text is eroded, dark text dilated."""
    gray = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    if gray.min() == gray.max():
        return crop
    threshold, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright_text = (gray > threshold).mean() < 0.5
    return cv2.erode(crop, THIN_KERNEL) if bright_text else cv2.dilate(crop, THIN_KERNEL)
