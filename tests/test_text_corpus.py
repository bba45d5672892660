"""The development corpus's ground truth is right: each token's box holds its ink, at
every orientation, and the two parts share no name, font or background."""

from __future__ import annotations

import json
import sys

import cv2
import numpy as np
import pydicom
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import text_corpus  # noqa: E402


def decoded(path):
    if path.suffix == ".dcm":
        ds = pydicom.dcmread(path)
        pixels = ds.pixel_array.astype(np.float32)
        if int(ds.get("NumberOfFrames", 1) or 1) == 1:
            pixels = pixels[None]
        return pixels / ((1 << int(ds.BitsStored)) - 1)
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED).astype(np.float32) / 255.0
    return image[None]


def test_each_token_box_holds_its_ink_and_nothing_spills_past_it(tmp_path):
    truth = text_corpus.build(tmp_path, "dev", 14, overlays=0)
    assert json.loads((tmp_path / "truth.json").read_text()) == truth
    orientations = set()
    for name, facts in truth.items():
        pixels = decoded(tmp_path / name)
        assert pixels.shape[1:3] == (facts["rows"], facts["cols"])
        for token in facts["tokens"]:
            left, top, width, height = token["box"]
            assert width > 0 and height > 0 and left >= 0 and top >= 0
            assert left + width <= facts["cols"] and top + height <= facts["rows"]
            frame = pixels[0 if token["frame"] is None else token["frame"]]
            inside = frame[top:top + height, left:left + width]
            # Ink differs from what surrounds it: the box is on the glyphs, not beside them.
            assert inside.reshape(-1, *inside.shape[2:]).std(axis=0).max() > 0.05, (name, token["cls"])
            orientations.add(token["orientation"])
    assert orientations == {0, 90, 180, 270}


def test_annotation_layer_images_hold_their_text_in_the_layer_not_the_pixels(tmp_path):
    truth = text_corpus.build(tmp_path, "eval", 0, overlays=4)
    assert sorted(facts["kind"] for facts in truth.values() if facts["kind"] != "real") == \
        ["high-bits", "high-bits", "overlay", "overlay"]
    for name, facts in truth.items():
        if facts["kind"] == "real":
            continue
        ds = pydicom.dcmread(tmp_path / name)
        stored = np.frombuffer(ds.PixelData, dtype=np.uint16).reshape(ds.Rows, ds.Columns)
        layer = (np.asarray(ds.overlay_array(0x6000)) if facts["kind"] == "overlay"
                 else stored >> ds.BitsStored & 1)
        assert ds[0x60000102].value == (0 if facts["kind"] == "overlay" else 12)
        assert {t["kind"] for t in facts["tokens"]} >= {"phi"}
        outside = layer.astype(bool)
        for token in facts["tokens"]:
            assert token["layer"] == facts["kind"]
            left, top, width, height = token["box"]
            assert layer[top:top + height, left:left + width].sum() > 5, (name, token["cls"])
            outside[max(top - 2, 0):top + height + 2, max(left - 2, 0):left + width + 2] = False
        assert not outside.any(), name  # every set bit belongs to a token of the truth


def test_rotation_moves_each_box_with_its_word():
    canvas, boxes = text_corpus.render_line([("DOB:", "label", "label"), ("1951", "phi", "date")],
                                            "DejaVuSans.ttf", 20)
    for orientation in (0, 90, 180, 270):
        turned, moved = text_corpus.rotate(canvas, boxes, orientation)
        for (left, top, width, height), original in zip(moved, boxes, strict=True):
            ink = turned[top:top + height, left:left + width]
            assert (ink > 64).sum() == (canvas[original[1]:original[1] + original[3],
                                               original[0]:original[0] + original[2]] > 64).sum()


def test_the_evaluation_part_shares_nothing_with_the_development_part():
    dev, held_out = text_corpus.PARTS["dev"], text_corpus.PARTS["eval"]
    for field in ("fonts", "family", "given", "institutions", "physicians", "backgrounds"):
        assert not set(getattr(dev, field)) & set(getattr(held_out, field)), field
    assert dev.seed != held_out.seed
