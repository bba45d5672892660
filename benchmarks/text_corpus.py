"""A burned-in text corpus that resembles the world, with ground truth per token.

    python benchmarks/text_corpus.py OUT_DIR [--part dev|eval] [--images 48]

Text is anti-aliased TrueType (DejaVu and Liberation, from Debian's fonts-dejavu and
fonts-liberation) or OpenCV's Hershey fonts, 6 to 40 px high, written at 0, 90, 180 or
270 degrees, in corners, along edges and in annotation areas up to a fifth of the way
in, on real images (pydicom's CT, MR, NM and ultrasound) resized to 240-3000 px. Lines
mix labels, names, dates, IDs, ages, institutions and clinical text. Images are DICOM
(grey in the stored values, colour secondary capture, ultrasound with its region
sequence, cine with fixed text and a changing frame counter) or PNG/JPEG rasters, some
JPEG-compressed after the text was written. A further few images carry their text in the
annotation layer instead of the pixels: a (60xx,3000) overlay plane, or bits above HighBit
of a 16-bit PixelData (the retired form XA and older CR systems still write).

Two parts, built by the same code from different seeds, names, fonts and backgrounds:
- ``dev``: for finding failures; misses are listed in full;
- ``eval``: the fixed evaluation part. Never tune on it: the benchmark reports only its
  totals. Its fonts, names, institutions and backgrounds appear nowhere in ``dev``.
Real scanner files with no burned-in text (pydicom's MR, CT, NM, SEG) join ``eval``
unchanged: their pixels must come out byte for byte.

Truth (truth.json): per image, each token's ink box [left, top, width, height], its frame
(None: every frame), kind (phi | label | clinical), class (name, date, id, age,
institution, time, ...), height in px, orientation, font, placement and layer (pixels,
overlay or high-bits). A label's value is phi; the label itself may be painted or kept,
and so may the sex letter written between a birth date and an age (it is part of the
identifier line).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import pydicom
from PIL import Image, ImageDraw, ImageFont
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import pack_bits
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
HERSHEY = {"hershey-simplex": cv2.FONT_HERSHEY_SIMPLEX, "hershey-duplex": cv2.FONT_HERSHEY_DUPLEX,
           "hershey-complex": cv2.FONT_HERSHEY_COMPLEX, "hershey-plain": cv2.FONT_HERSHEY_PLAIN}


@dataclass(frozen=True)
class Part:
    fonts: tuple[str, ...]
    family: tuple[str, ...]
    given: tuple[str, ...]
    institutions: tuple[str, ...]
    physicians: tuple[str, ...]
    backgrounds: tuple[str, ...]
    seed: int


PARTS = {
    "dev": Part(
        fonts=("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "LiberationSans-Regular.ttf",
               "LiberationMono-Regular.ttf", "LiberationSansNarrow-Regular.ttf", "hershey-simplex",
               "hershey-duplex"),
        family=("HARTMANN", "OKONKWO", "LINDQVIST", "TAKAHASHI", "MORENO", "DUBOIS", "KOWALSKI", "BRENNAN",
                "Fitzgerald", "Nakamura", "Ferreira", "Abernathy"),
        given=("MARGARETHE", "CHIDI", "ASTRID", "HIROSHI", "ESPERANZA", "Genevieve", "Zbigniew", "Siobhan",
               "Ana", "Lee"),
        institutions=("ST AGATHA MEDICAL CENTER", "Riverside General Hospital", "KLINIKUM NORDSTADT"),
        physicians=("DR PATEL", "Dr. Whitcombe", "DR ANSELMO"),
        backgrounds=("CT_small.dcm", "examples_overlay.dcm", "JPEG2000.dcm"),
        seed=20261203,
    ),
    "eval": Part(
        fonts=("DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf", "DejaVuSerif-Bold.ttf",
               "LiberationSerif-Regular.ttf", "LiberationSans-Bold.ttf", "LiberationMono-Bold.ttf",
               "hershey-complex", "hershey-plain"),
        family=("VANTERPOOL", "ADEBAYO", "SORENSEN", "YAMAMOTO", "CASTELLANOS", "MERCIER", "WISNIEWSKA",
                "GALLAGHER", "Rosenthal", "Oyelaran", "Bergstrom", "Quintero"),
        given=("WILHELMINA", "OLUWASEUN", "INGRID", "KENJI", "GUADALUPE", "Marguerite", "Przemyslaw", "Aoife",
               "Eva", "Kim"),
        institutions=("NORTHFIELD IMAGING INSTITUTE", "Lakeshore University Clinic", "MERCY REGIONAL HEALTH"),
        physicians=("DR OKAFOR", "Dr. Lindgren", "DR VASQUEZ"),
        backgrounds=("MR_small.dcm", "693_J2KI.dcm", "J2K_pixelrep_mismatch.dcm"),
        seed=7170419,
    ),
}
# Real scanner files without burned-in text: their pixel data must come out unchanged.
CLEAN_REAL = ("CT_small.dcm", "MR_small.dcm", "693_J2KI.dcm", "JPEG2000.dcm", "liver_1frame.dcm",
              "MR_small_RLE.dcm", "examples_overlay.dcm")
CLINICAL_LINES = (("120", "kVp", "200", "mAs"), ("SUPINE",), ("CHEST", "PA"), ("W:400", "L:40"),
                  ("SL", "5.0mm"), ("T2", "FLAIR", "AX"), ("PORTABLE",), ("ERECT",), ("LAT", "DECUB"),
                  ("12", "MHz"), ("R",), ("L",), ("AP",), ("SAG",), ("FOV", "24cm"), ("TR", "4500"), ("SE", "3"))
TITLES = {"DR", "DR."}  # a title before a name identifies no one: it is labelled a label
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
PLACEMENTS = ("top-left", "top-right", "bottom-left", "bottom-right", "top", "bottom", "left", "right", "inner")


@dataclass
class Token:
    box: list[int]
    frame: int | None
    kind: str
    cls: str
    text: str
    height: int
    orientation: int
    font: str
    placement: str
    layer: str = "pixels"  # or "overlay" (a 60xx plane) or "high-bits" (bits above HighBit)


def _date(rng: random.Random) -> tuple[str, str]:
    """(as written, as DA)."""
    y, m, d = rng.randint(1931, 2004), rng.randint(1, 12), rng.randint(1, 28)
    style = rng.randrange(5)
    written = (f"{m:02d}/{d:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}",
               f"{d:02d}-{MONTHS[m - 1]}-{y}", f"{y}{m:02d}{d:02d}")[style]
    return written, f"{y}{m:02d}{d:02d}"


def identity(part: Part, rng: random.Random) -> dict:
    dob, dob_da = _date(rng)
    return {"family": rng.choice(part.family), "given": rng.choice(part.given), "dob": dob, "dob_da": dob_da,
            "mrn": str(rng.randint(10 ** 6, 10 ** 8 - 1)).zfill(rng.choice((7, 8))),
            "acc": rng.choice(("A", "ACC", "E", "")) + str(rng.randint(10 ** 5, 10 ** 7)),
            "age": f"{rng.randint(18, 95):03d}Y", "sex": rng.choice("FM"),
            "institution": rng.choice(part.institutions), "physician": rng.choice(part.physicians),
            "study": f"{rng.randint(2015, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "time": f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"}


def identifier_lines(who: dict, rng: random.Random) -> list[list[tuple[str, str, str]]]:
    """Lines of (text, kind, class): what a modality writes in its corner block."""
    family, given = who["family"], who["given"]
    name = rng.choice(([(f"{family},", "phi", "name"), (given, "phi", "name")],
                       [(f"{family}^{given}", "phi", "name")],
                       [("NAME:", "label", "label"), (family, "phi", "name"), (given, "phi", "name")],
                       [("Patient:", "label", "label"), (f"{given}", "phi", "name"), (family, "phi", "name")]))
    lines = [name,
             rng.choice(([("DOB:", "label", "label"), (who["dob"], "phi", "date")],
                         [("Born", "label", "label"), (who["dob"], "phi", "date")],
                         [(who["dob"], "phi", "date"), (who["sex"], "label", "sex"), (who["age"], "phi", "age")])),
             rng.choice(([("ID:", "label", "label"), (who["mrn"], "phi", "id")],
                         [("MRN", "label", "label"), (who["mrn"], "phi", "id")],
                         [(who["mrn"], "phi", "id")])),
             ]
    extra = rng.sample([
        [("ACC#", "label", "label"), (who["acc"], "phi", "id")] if who["acc"] else [(who["mrn"], "phi", "id")],
        [(word, "phi", "institution") for word in who["institution"].split()],
        [(who["study"], "phi", "date"), (who["time"], "phi", "time")],
        [("REF:", "label", "label")] + [staff_word(word) for word in who["physician"].split()],
        [("Age", "label", "label"), (who["age"], "phi", "age")],
    ], rng.randint(0, 2))
    lines = lines[:rng.randint(1, 3)] + extra
    rng.shuffle(lines)
    return lines


def staff_word(word: str) -> tuple[str, str, str]:
    return (word, "label", "label") if word.upper() in TITLES else (word, "phi", "physician")


def clinical_lines(rng: random.Random) -> list[list[tuple[str, str, str]]]:
    return [[(word, "clinical", "clinical") for word in rng.choice(CLINICAL_LINES)] for _ in range(rng.randint(1, 3))]


def font_path(name: str) -> Path:
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise SystemExit(f"font {name} not found: install Debian's fonts-dejavu and fonts-liberation")


def render_line(words: list[tuple[str, str, str]], font: str, height: int) -> tuple[np.ndarray, list[list[int]]]:
    """The line as 0-255 coverage (anti-aliased), and each word's ink box within it."""
    pad = max(height // 2, 2)
    pieces = []
    if font in HERSHEY:
        face = HERSHEY[font]
        scale = height / cv2.getTextSize("H", face, 1.0, 1)[0][1]
        thickness = max(1, round(height / 12))
        space = int(0.6 * height)
        x, width = pad, pad
        for text, *_ in words:
            (w, _), _ = cv2.getTextSize(text, face, scale, thickness)
            pieces.append((text, x))
            x += w + space
        width = x - space + pad
        canvas_h = int(height * 1.8) + 2 * pad
        canvas = np.zeros((canvas_h, width), np.uint8)
        base = pad + int(height * 1.2)
        layers = []
        for text, x0 in pieces:
            layer = np.zeros_like(canvas)
            cv2.putText(layer, text, (x0, base), face, scale, 255, thickness, cv2.LINE_AA)
            layers.append(layer)
    else:
        face = ImageFont.truetype(str(font_path(font)), size=max(4, round(height / 0.73)))
        space = face.getlength(" ")
        x = float(pad)
        for text, *_ in words:
            pieces.append((text, x))
            x += face.getlength(text) + space
        width = int(x - space) + 2 * pad
        ascent, descent = face.getmetrics()
        canvas_h = ascent + descent + 2 * pad
        layers = []
        for text, x0 in pieces:
            image = Image.new("L", (width, canvas_h), 0)
            ImageDraw.Draw(image).text((x0, pad), text, fill=255, font=face)
            layers.append(np.asarray(image))
        canvas = np.zeros((canvas_h, width), np.uint8)
    boxes = []
    for layer in layers:
        canvas = np.maximum(canvas, layer)
        rows, cols = np.nonzero(layer > 64)
        if rows.size == 0:
            boxes.append([0, 0, 0, 0])
            continue
        boxes.append([int(cols.min()), int(rows.min()), int(cols.max() - cols.min() + 1),
                      int(rows.max() - rows.min() + 1)])
    return canvas, boxes


def rotate(canvas: np.ndarray, boxes: list[list[int]], orientation: int) -> tuple[np.ndarray, list[list[int]]]:
    """Turn the line counter-clockwise by ``orientation`` degrees, boxes with it."""
    h, w = canvas.shape
    turned = []
    for left, top, bw, bh in boxes:
        if orientation == 90:  # reads bottom to top
            turned.append([top, w - left - bw, bh, bw])
        elif orientation == 180:
            turned.append([w - left - bw, h - top - bh, bw, bh])
        elif orientation == 270:  # reads top to bottom
            turned.append([h - top - bh, left, bh, bw])
        else:
            turned.append([left, top, bw, bh])
    return np.rot90(canvas, orientation // 90).copy(), turned


def render_block(lines, font: str, height: int, right_aligned: bool):
    """The lines stacked, and each word's box with its text, kind and class."""
    rendered = [render_line(words, font, height) for words in lines]
    gap = max(2, height // 3)
    block_h = sum(c.shape[0] for c, _ in rendered) + gap * (len(rendered) - 1)
    block_w = max(c.shape[1] for c, _ in rendered)
    canvas = np.zeros((block_h, block_w), np.uint8)
    block_boxes, y = [], 0
    for (line, boxes), words in zip(rendered, lines, strict=True):
        x = block_w - line.shape[1] if right_aligned else 0
        canvas[y:y + line.shape[0], x:x + line.shape[1]] = line
        for (left, top, w, h), (text, kind, cls) in zip(boxes, words, strict=True):
            block_boxes.append(([left + x, top + y, w, h], text, kind, cls))
        y += line.shape[0] + gap
    return canvas, block_boxes


def place(block: tuple[int, int], rows: int, cols: int, placement: str, rng: random.Random) -> tuple[int, int] | None:
    bh, bw = block
    if bh >= rows - 2 or bw >= cols - 2:
        return None
    def inset(side: int, size: int) -> int:  # near the edge
        return rng.randint(1, max(1, min(int(0.03 * side), side - size - 1)))

    def deep(side: int, size: int) -> int:  # up to a fifth of the way in
        return rng.randint(int(0.05 * side), max(int(0.05 * side), min(int(0.2 * side), side - size - 1)))

    if placement == "inner":  # an annotation area up to a fifth of the way in
        top = deep(rows, bh) if rng.random() < 0.5 else rows - bh - deep(rows, bh)
        left = rng.randint(1, cols - bw - 1)
    else:
        top = {"top": inset(rows, bh), "bottom": rows - bh - inset(rows, bh)}.get(
            placement.split("-")[0], rng.randint(1, rows - bh - 1))
        left = {"left": inset(cols, bw), "right": cols - bw - inset(cols, bw)}.get(
            placement.split("-")[-1], rng.randint(1, cols - bw - 1))
        if placement in ("top", "bottom"):
            left = (cols - bw) // 2
        if placement in ("left", "right"):
            top = (rows - bh) // 2
    return min(max(top, 0), rows - bh - 1), min(max(left, 0), cols - bw - 1)


def background(name: str, rows: int, cols: int, colour: bool, tint: bool) -> np.ndarray:
    """A real image's pixels, scaled to 0-1 and resized (grey or RGB)."""
    ds = pydicom.dcmread(get_testdata_file(name, download=False))
    arr = ds.pixel_array
    if int(ds.get("NumberOfFrames", 1) or 1) > 1:
        arr = arr[0]
    if arr.ndim == 3 and ds.get("PhotometricInterpretation", "").startswith("YBR"):
        arr = pydicom.pixels.convert_color_space(arr, ds.PhotometricInterpretation, "RGB")
    arr = arr.astype(np.float32)
    if arr.ndim == 3 and not colour:
        arr = arr.mean(axis=-1)
    arr = (arr - arr.min()) / max(float(arr.max() - arr.min()), 1.0)
    resized = cv2.resize(arr, (cols, rows), interpolation=cv2.INTER_LINEAR)
    if colour and resized.ndim == 2:
        if tint:  # a fusion or Doppler look: a colour map over the grey
            resized = cv2.applyColorMap((resized * 255).astype(np.uint8), cv2.COLORMAP_HOT)[..., ::-1] / 255.0
        else:
            resized = np.repeat(resized[..., None], 3, axis=-1)
    return resized.astype(np.float32)


def header(kind: str, who: dict, rows: int, cols: int, samples: int, frames: int, with_identity: bool) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    sop_class = {"us": "1.2.840.10008.5.1.4.1.1.6.1", "cine": "1.2.840.10008.5.1.4.1.1.3.1"}.get(
        kind, "1.2.840.10008.5.1.4.1.1.7")
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = {"us": "US", "cine": "US"}.get(kind, "OT")
    if with_identity:
        ds.PatientName = f"{who['family']}^{who['given']}"
        ds.PatientID = who["mrn"]
        ds.PatientBirthDate = who["dob_da"]
        ds.AccessionNumber = who["acc"][:16]
        ds.InstitutionName = who["institution"]
        ds.ReferringPhysicianName = who["physician"].replace(" ", "^")
    else:  # burned in by another system, or a header cleaned before: no hints
        ds.PatientName, ds.PatientID = "ANONYMOUS", "0"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, samples
    ds.PhotometricInterpretation = "RGB" if samples == 3 else "MONOCHROME2"
    if samples == 3:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = 8 if samples == 3 or kind in ("us", "cine") else 16
    ds.BitsStored = 8 if ds.BitsAllocated == 8 else 12
    ds.HighBit, ds.PixelRepresentation = ds.BitsStored - 1, 0
    if frames > 1:
        ds.NumberOfFrames = frames
        ds.FrameTime = 33.3
    return ds


COLOUR_INKS = ((255, 255, 0), (0, 255, 0), (0, 255, 255), (255, 255, 255), (255, 128, 0), (0, 0, 0))
MIN_INK_CONTRAST = 0.4  # luminance between text and its ground: text nobody can read is no test


def _luminance(area: np.ndarray) -> float:
    if area.ndim == 3:
        area = area @ np.array([0.299, 0.587, 0.114], np.float32)
    return float(area.mean())


def _legible_ink(ground: float, colour: bool, rng: random.Random):
    """An ink a reader can see on ``ground``: white or black for grey images, one of the
    console colours (or black) for colour ones."""
    if colour:
        inks = [ink for ink in COLOUR_INKS if abs(_luminance(np.array(ink, np.float32) / 255.0) - ground)
                >= MIN_INK_CONTRAST]
        return rng.choice(inks or [(0, 0, 0) if ground > 0.5 else (255, 255, 255)])
    inks = [ink for ink in (1.0, 1.0, 1.0, 0.0) if abs(ink - ground) >= MIN_INK_CONTRAST]
    return rng.choice(inks or [0.0 if ground > 0.5 else 1.0])


def _overlap(spot: tuple[int, int], shape: tuple[int, ...], other: tuple[int, int, int, int], margin: int = 4) -> bool:
    top, left = spot
    bottom, right = top + shape[0], left + shape[1]
    return not (bottom + margin <= other[0] or other[2] + margin <= top or right + margin <= other[1]
                or other[3] + margin <= left)


def make_image(part: Part, index: int, rng: random.Random, out: Path) -> tuple[str, dict]:
    kind = rng.choice(("dicom", "dicom", "dicom-rgb", "png", "jpeg", "us", "cine"))
    long_side = int(round(np.exp(rng.uniform(np.log(240), np.log(3000)))))
    if kind == "cine":
        long_side = min(long_side, 640)  # cine loops are small matrices
    aspect = rng.uniform(0.75, 1.33)
    rows, cols = (long_side, int(long_side * aspect)) if rng.random() < 0.5 else (int(long_side / aspect), long_side)
    rows, cols = max(rows, 240), max(cols, 240)
    colour = kind in ("dicom-rgb", "us") or (kind in ("png", "jpeg") and rng.random() < 0.5)
    frames = 5 if kind == "cine" else 1
    base = background(rng.choice(part.backgrounds), rows, cols, colour, rng.random() < 0.5)
    who = identity(part, rng)
    if kind == "us":  # the image data area in the middle; annotation above and beside it
        region = (int(0.18 * rows), int(0.15 * cols), int(0.95 * rows), int(0.85 * cols))
        framed = np.zeros_like(base)
        framed[region[0]:region[2], region[1]:region[3]] = base[region[0]:region[2], region[1]:region[3]]
        base = framed
    layers = []  # (coverage canvas, top, left, colour, tokens, frame)
    tokens: list[Token] = []
    blocks = [("identifier", identifier_lines(who, rng))]
    if rng.random() < 0.8:
        blocks.append(("clinical", clinical_lines(rng)))
    used = set()
    taken: list[tuple[int, int, int, int]] = []  # (top, left, bottom, right) of text already placed
    if frames > 1:  # the frame counter's place, bottom centre
        taken.append((rows - 30, cols // 2 - 4, rows, cols // 2 + 70))
    for _, lines in blocks:
        font = rng.choice(part.fonts)
        r = rng.random()
        height = (rng.randint(6, 8) if r < 0.15 else rng.randint(9, 14) if r < 0.5
                  else rng.randint(15, 24) if r < 0.85 else rng.randint(25, 40))
        height = max(6, min(height, rows // 12))
        orientation = rng.choice((0, 0, 0, 0, 90, 270, 180))
        placements = [p for p in PLACEMENTS if p not in used]
        if orientation in (90, 270):
            placements = [p for p in placements if p in ("left", "right", "top-left", "bottom-right")] or ["left"]
        spot = None
        for placement in rng.sample(placements, len(placements)):  # blocks never overlap: no one could read them
            height_tried = height
            while True:  # a block too large for a small image is written smaller
                canvas, block_boxes = render_block(lines, font, height_tried, placement.endswith("right"))
                turned, boxes = rotate(canvas, [b for b, *_ in block_boxes], orientation)
                spot = place(turned.shape, rows, cols, placement, rng)
                if spot is not None or height_tried <= 6:
                    break
                height_tried = max(6, int(height_tried * 0.8))
            if spot is not None and not any(_overlap(spot, turned.shape, other) for other in taken):
                height = height_tried
                break
            spot = None
        if spot is None:
            continue
        used.add(placement)
        top, left = spot
        taken.append((top, left, top + turned.shape[0], left + turned.shape[1]))
        backed = rng.random() < 0.3  # text on a dark box, as many consoles write it
        ground = 0.0 if backed else _luminance(base[top:top + turned.shape[0], left:left + turned.shape[1]])
        ink = _legible_ink(ground, colour, rng)
        layers.append((turned, top, left, ink, backed))
        for box, (_, text, tkind, cls) in zip(boxes, block_boxes, strict=True):
            if box[2] == 0:
                continue
            tokens.append(Token([box[0] + left, box[1] + top, box[2], box[3]], None, tkind, cls, text, height,
                                orientation, font, placement if placement != "inner" else "inner"))
    images = []
    for frame in range(frames):
        image = base.copy()
        if frames > 1:  # anatomy moves a little from frame to frame
            image = np.roll(image, frame * 2, axis=1)
        for canvas, top, left, ink, backed in layers:
            alpha = canvas.astype(np.float32)[..., None] / 255.0 if colour else canvas.astype(np.float32) / 255.0
            area = image[top:top + canvas.shape[0], left:left + canvas.shape[1]]
            if backed:
                area[...] = 0.0
            value = np.array(ink, np.float32) / 255.0 if colour else float(ink)
            area[...] = area * (1 - alpha) + value * alpha
        images.append(image)
    if frames > 1:  # a frame counter that changes: clinical, on every frame in the same place
        font = rng.choice(part.fonts)
        for frame in range(frames):
            canvas, boxes = render_line([(f"{frame + 1}/{frames}", "clinical", "counter")], font, 14)
            top, left = rows - canvas.shape[0] - 4, cols // 2
            area = images[frame][top:top + canvas.shape[0], left:left + canvas.shape[1]]
            alpha = canvas.astype(np.float32)[..., None] / 255.0 if colour else canvas.astype(np.float32) / 255.0
            area[...] = area * (1 - alpha) + alpha
            b = boxes[0]
            tokens.append(Token([b[0] + left, b[1] + top, b[2], b[3]], frame, "clinical", "counter",
                                f"{frame + 1}/{frames}", 14, 0, font, "bottom"))
    name = f"{index:03d}_{kind}"
    stack = np.stack(images)
    if kind in ("png", "jpeg"):
        pixels = np.clip(stack[0] * 255 + 0.5, 0, 255).astype(np.uint8)
        if pixels.ndim == 3:
            pixels = pixels[..., ::-1]  # OpenCV writes BGR
        name += ".png" if kind == "png" else ".jpg"
        params = [cv2.IMWRITE_JPEG_QUALITY, rng.randint(80, 95)] if kind == "jpeg" else []
        cv2.imwrite(str(out / name), pixels, params)
    else:
        name += ".dcm"
        samples = 3 if colour else 1
        ds = header(kind, who, rows, cols, samples, frames, with_identity=rng.random() < 0.6)
        top_value = (1 << ds.BitsStored) - 1
        pixels = np.clip(stack * top_value + 0.5, 0, top_value).astype(np.uint8 if ds.BitsAllocated == 8 else np.uint16)
        if frames == 1:
            pixels = pixels[0]
        if kind == "us":
            item = Dataset()
            item.RegionLocationMinX0, item.RegionLocationMinY0 = region[1], region[0]
            item.RegionLocationMaxX1, item.RegionLocationMaxY1 = region[3] - 1, region[2] - 1
            item.RegionSpatialFormat, item.RegionDataType, item.RegionFlags = 1, 1, 0
            ds.SequenceOfUltrasoundRegions = Sequence([item])
        ds.PixelData = pixels.tobytes()
        ds.save_as(out / name, enforce_file_format=True)
    return name, {"kind": kind, "rows": rows, "cols": cols, "frames": frames,
                  "tokens": [asdict(t) for t in tokens]}


OVERLAY_BIT = 12  # the high-bits overlay's bit: the first above BitsStored 12


def make_overlay_image(part: Part, index: int, rng: random.Random, out: Path, layer: str) -> tuple[str, dict]:
    """A 16-bit grey image whose identifiers are not in the pixels but in its annotation
    layer: a (60xx,3000) plane, or (the retired form, still written by XA and older CR
    systems) bits above HighBit of PixelData. A clinical line goes in the same layer."""
    rows = cols = rng.choice((256, 512, 768, 1024))
    base = background(rng.choice(part.backgrounds), rows, cols, False, False)
    who = identity(part, rng)
    plane = np.zeros((rows, cols), np.uint8)
    tokens: list[Token] = []
    taken: list[tuple[int, int, int, int]] = []
    for lines, placement in ((identifier_lines(who, rng), rng.choice(PLACEMENTS[:4])),
                             (clinical_lines(rng), rng.choice(PLACEMENTS[4:6]))):
        font = rng.choice(part.fonts)
        height = max(8, min(rng.randint(9, 24), rows // 16))
        canvas, block_boxes = render_block(lines, font, height, placement.endswith("right"))
        spot = place(canvas.shape, rows, cols, placement, rng)
        if spot is None or any(_overlap(spot, canvas.shape, other) for other in taken):
            continue
        top, left = spot
        taken.append((top, left, top + canvas.shape[0], left + canvas.shape[1]))
        plane[top:top + canvas.shape[0], left:left + canvas.shape[1]] |= (canvas > 127).astype(np.uint8)
        for box, text, tkind, cls in block_boxes:
            if box[2]:
                tokens.append(Token([box[0] + left, box[1] + top, box[2], box[3]], None, tkind, cls, text, height,
                                    0, font, placement, layer))
    ds = header("dicom", who, rows, cols, 1, 1, with_identity=rng.random() < 0.6)
    pixels = np.clip(base * 4095 + 0.5, 0, 4095).astype(np.uint16)
    ds.add_new(0x60000010, "US", rows)
    ds.add_new(0x60000011, "US", cols)
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000050, "SS", [1, 1])
    ds.add_new(0x60000022, "LO", "annotation")
    if layer == "overlay":
        ds.add_new(0x60000100, "US", 1)
        ds.add_new(0x60000102, "US", 0)
        ds.add_new(0x60003000, "OW", pack_bits(plane.reshape(-1)))
    else:
        ds.add_new(0x60000100, "US", 16)
        ds.add_new(0x60000102, "US", OVERLAY_BIT)
        pixels |= plane.astype(np.uint16) << OVERLAY_BIT
    ds.PixelData = pixels.tobytes()
    name = f"{index:03d}_{layer}.dcm"
    ds.save_as(out / name, enforce_file_format=True)
    return name, {"kind": layer, "rows": rows, "cols": cols, "frames": 1, "tokens": [asdict(t) for t in tokens]}


def build(out: Path, part_name: str, count: int, overlays: int = 6) -> dict:
    """``count`` images with text in the pixels, then ``overlays`` with it in the
    annotation layer (drawn from their own generator, so the first ones do not change)."""
    part = PARTS[part_name]
    rng = random.Random(part.seed)
    out.mkdir(parents=True, exist_ok=True)
    truth = {}
    for index in range(count):
        name, facts = make_image(part, index, rng, out)
        truth[name] = facts
    layer_rng = random.Random(part.seed + 1)
    for index in range(count, count + overlays):
        name, facts = make_overlay_image(part, index, layer_rng, out, ("overlay", "high-bits")[index % 2])
        truth[name] = facts
    if part_name == "eval":
        for name in CLEAN_REAL:
            shutil.copy(get_testdata_file(name, download=False), out / f"clean_{name}")
            truth[f"clean_{name}"] = {"kind": "real", "tokens": [], "frames": None}
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--part", choices=sorted(PARTS), default="dev")
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--overlays", type=int, default=6)
    args = parser.parse_args()
    truth = build(args.out, args.part, args.images, args.overlays)
    tokens = sum(len(facts["tokens"]) for facts in truth.values())
    print(f"{len(truth)} images, {tokens} tokens in {args.out}")


if __name__ == "__main__":
    main()
