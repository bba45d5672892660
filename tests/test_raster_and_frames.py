"""Issue 2, items 2 and 4: every raster format, and text on several frames of a cine."""

from __future__ import annotations

import re
import struct

import cv2
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from anonymizer.loading import open_job
from anonymizer.pipeline import run_stages
from anonymizer.pixels.raster_metadata import strip_jpeg_metadata
from anonymizer.pixels.rendering import render_dicom_view
from conftest import read_text_in_box, run_cli

TEXT = "SMITH JOHN 12.03.1961"
TEXT_ORIGIN = (8, 24)  # baseline of the burned-in text, inside the top border band


def ct_image_with_text() -> np.ndarray:
    """A real CT slice (pydicom's CT_small), 4x upscaled to 512 px, with a name burned in."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    view = render_dicom_view(ds, ds.pixel_array[np.newaxis])[0]
    view = cv2.resize(view, (512, 512), interpolation=cv2.INTER_LINEAR)
    image = cv2.cvtColor(view, cv2.COLOR_GRAY2BGR)
    cv2.putText(image, TEXT, TEXT_ORIGIN, cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return image


TEXT_BOX = (4, 6, 230, 24)  # left, top, width, height around TEXT


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"])
def test_raster_formats_are_redacted_and_kept_in_their_format(tmp_path, suffix):
    source = tmp_path / f"scan{suffix}"
    image = ct_image_with_text()
    cv2.imwrite(str(source), image)
    before = source.read_bytes()
    result = run_cli(str(source), str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "not classified (no CLIP model)" in result.stdout
    assert source.read_bytes() == before
    output = tmp_path / "out" / f"anonymized_scan{suffix}"
    written = cv2.imread(str(output), cv2.IMREAD_UNCHANGED)
    assert written.shape == image.shape
    assert not re.search(r"[A-Za-z0-9]{2,}", read_text_in_box(written, *TEXT_BOX))
    original = cv2.imread(str(source), cv2.IMREAD_UNCHANGED)
    if suffix in (".png", ".tif", ".tiff", ".bmp"):  # lossless: the anatomy below is untouched
        assert np.array_equal(written[80:], original[80:])


def test_jpeg_without_text_keeps_image_data_and_loses_exif(tmp_path):
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    view = render_dicom_view(ds, ds.pixel_array[np.newaxis])[0]
    ok, encoded = cv2.imencode(".jpg", cv2.resize(view, (256, 256)))
    jpeg = encoded.tobytes()
    exif_payload = b"Exif\x00\x00" + b"Artist=SMITH^JOHN"
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif_payload) + 2) + exif_payload
    source = tmp_path / "photo.jpg"
    source.write_bytes(jpeg[:2] + app1 + jpeg[2:])
    result = run_cli(str(source), str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    output = (tmp_path / "out" / "anonymized_photo.jpg").read_bytes()
    assert b"SMITH" not in output
    assert output == strip_jpeg_metadata(source.read_bytes())
    assert output.endswith(jpeg[jpeg.index(b"\xff\xda"):])  # entropy-coded data bit for bit


def test_text_on_several_frames_is_redacted_where_it_appears(tmp_path, tcia_dir, ground_truth, config):
    """Three frames of the TCIA CT: the name is burned into frames 0 and 1, not 2."""
    ds = pydicom.dcmread(tcia_dir / "2_ORIGINAL.dcm")
    frame = ds.pixel_array
    clean = frame.copy()
    clean[:40, :] = frame[60:100, :]  # frame 2 shows anatomy-free background instead of text
    stack = np.stack([frame, frame, clean])
    ds.NumberOfFrames = 3
    ds.PixelData = stack.tobytes()
    source = tmp_path / "cine.dcm"
    ds.save_as(source)
    job = open_job(source)
    job.output_path = tmp_path / "out" / "anonymized_cine.dcm"
    run_stages(job, config)
    written = pydicom.dcmread(job.output_path).pixel_array
    assert written.shape == stack.shape
    assert (written[0] != stack[0]).any() and (written[1] != stack[1]).any()
    assert np.array_equal(written[2], stack[2]), "a frame without the text is untouched"
    view = render_dicom_view(ds, written)
    for index in (0, 1):  # every identifier; the "DOB:" label before the date is kept
        for box in ground_truth["2_ORIGINAL.dcm"]["phi"]:
            read = read_text_in_box(view[index], box["left"], box["top"], box["width"], box["height"])
            assert not re.search(r"[A-Za-z0-9]", read), (index, box["label"])
