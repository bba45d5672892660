"""The border rule: which text lies in the annotation area, where redaction happens.

A box is border when any part of it lies within the margin band of an edge; with
SequenceOfUltrasoundRegions, anything outside every region is annotation area too.
"""

from __future__ import annotations

from anonymizer.job import Box, Job
from anonymizer.text_policy import text_policy

# Annotation areas reach about a fifth of the way in (a name and birth date 150 px above
# the bottom of a 2022 px radiograph; a 512 px frame's 100 px corner blocks): the band
# (the text policy's border.band_fraction) scales with the image unless --margin fixes it
# in pixels.


def band_widths(rows: int, cols: int, margin: int | None) -> tuple[int, int]:
    """(rows, columns) of the band along the top and bottom, and along the sides."""
    if margin is not None:
        return margin, margin
    fraction = text_policy().band_fraction
    return round(fraction * rows), round(fraction * cols)


def touches_border(box: Box, rows: int, cols: int, margin: int | None) -> bool:
    band_rows, band_cols = band_widths(rows, cols, margin)
    return (box.left < band_cols or box.top < band_rows
            or box.right > cols - band_cols or box.bottom > rows - band_rows)


def ultrasound_regions(job: Job) -> list[Box]:
    """SequenceOfUltrasoundRegions: the image data areas; everything else is annotation."""
    ds = job.dataset
    if ds is None or "SequenceOfUltrasoundRegions" not in ds:
        return []
    regions = []
    for item in ds.SequenceOfUltrasoundRegions:
        try:
            x0, y0 = int(item.RegionLocationMinX0), int(item.RegionLocationMinY0)
            x1, y1 = int(item.RegionLocationMaxX1), int(item.RegionLocationMaxY1)
        except (AttributeError, TypeError, ValueError):
            continue
        regions.append(Box(x0, y0, x1 - x0 + 1, y1 - y0 + 1))
    return regions


def outside_regions(box: Box, regions: list[Box]) -> bool:
    """A box in no ultrasound region lies in the annotation area: always redacted if PHI."""
    return bool(regions) and all(box.intersection_area(region) == 0 for region in regions)
