"""Issue 2, item 4: the 8-bit view is what a radiologist sees."""

from __future__ import annotations

import numpy as np
import pydicom
from pydicom.data import get_testdata_file

from anonymizer.pixels.decoding import decode_dicom_pixels
from anonymizer.pixels.rendering import linear_window, render_dicom_view


def view_of(name: str):
    ds = pydicom.dcmread(get_testdata_file(name, download=False))
    pixels = decode_dicom_pixels(ds)
    return ds, pixels, render_dicom_view(ds, pixels)


def test_monochrome1_is_inverted():
    ds, pixels, view = view_of("6154")
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    ds.PhotometricInterpretation = "MONOCHROME2"
    assert np.array_equal(view, 255 - render_dicom_view(ds, pixels))


def test_window_from_header_is_applied_to_rescaled_values():
    ds, pixels, minmax_view = view_of("CT_small.dcm")
    ds.WindowCenter, ds.WindowWidth = 40, 400  # soft-tissue window
    view = render_dicom_view(ds, pixels)
    hu = pixels * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    assert np.array_equal(view, linear_window(hu, 40, 400))
    assert not np.array_equal(view, minmax_view)
    assert view.dtype == np.uint8 and view.shape == pixels.shape


def test_colour_photometrics_render_to_rgb_with_stored_geometry():
    for name in ("examples_ybr_color.dcm", "SC_ybr_full_422_uncompressed.dcm", "examples_palette.dcm",
                 "SC_rgb_rle_16bit.dcm", "ExplVR_BigEnd.dcm"):
        ds, pixels, view = view_of(name)
        assert view.dtype == np.uint8, name
        assert view.shape[:3] == pixels.shape[:3] and view.shape[-1] == 3, name
        assert view.max() > view.min(), name


def test_ybr_stored_values_are_kept_for_native_files():
    ds, pixels, view = view_of("SC_ybr_full_422_uncompressed.dcm")
    # Stored YBR: a red pixel has a high Cr; the view shows it red.
    assert not np.array_equal(pixels[0], view[0])
