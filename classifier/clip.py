"""CLIP zero-shot classification from a local model directory (never downloaded).

torch and transformers are imported here only, when a model is actually used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from classifier.result import Classification

CLIP_MODEL_ENV = "ANONYMIZER_CLIP_MODEL"

# (prompt, medical?, anatomy): the medical prompts name the anatomies we report.
PROMPTS: tuple[tuple[str, bool, str], ...] = (
    ("a chest x-ray or chest CT scan", True, "chest"),
    ("a skull x-ray or a head CT or brain MRI scan", True, "skull"),
    ("a dental x-ray of teeth", True, "dental"),
    ("a pelvic x-ray or pelvis CT scan", True, "pelvic"),
    ("a medical scan of another body part", True, "other"),
    ("a photograph of a person", False, ""),
    ("a photograph of an everyday object, animal or scene", False, ""),
    ("a screenshot, document or drawing", False, ""),
)


def clip_model_dir(configured: Path | None) -> Path | None:
    """--clip-model as given (a wrong path is the user's error and fails the file); the
    environment's default only where it exists. An image built without the optional
    models keeps the variable and must still classify rasters, as a run without CLIP."""
    if configured is not None:
        return configured
    value = os.environ.get(CLIP_MODEL_ENV)
    return Path(value) if value and Path(value).is_dir() else None


@dataclass
class ClipZeroShot:
    model: Any  # a transformers CLIPModel (torch is imported only here)
    processor: Any

    def probabilities(self, rgb: np.ndarray) -> np.ndarray:
        import torch
        from PIL import Image

        inputs = self.processor(
            text=[p[0] for p in PROMPTS], images=Image.fromarray(rgb), return_tensors="pt", padding=True,
        )
        with torch.no_grad():
            logits = self.model(**inputs).logits_per_image[0]
        return torch.softmax(logits, dim=-1).numpy()


@lru_cache(maxsize=2)
def load_clip(model_dir: Path) -> ClipZeroShot:
    if not model_dir.is_dir():
        raise FileNotFoundError(f"CLIP model directory {model_dir} does not exist")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import CLIPModel, CLIPProcessor

    model = CLIPModel.from_pretrained(model_dir, local_files_only=True)
    model.eval()
    processor = CLIPProcessor.from_pretrained(model_dir, local_files_only=True)
    return ClipZeroShot(model, processor)


def classify_with_clip(view_rgb: np.ndarray, model_dir: Path) -> Classification:
    probabilities = load_clip(model_dir).probabilities(view_rgb)
    medical_probability = float(sum(p for p, (_, medical, _) in zip(probabilities, PROMPTS, strict=True) if medical))
    if medical_probability < 0.5:
        return Classification(False, "", "CLIP zero-shot", f"p(medical)={medical_probability:.2f}")
    best = max((i for i, prompt in enumerate(PROMPTS) if prompt[1]), key=lambda i: probabilities[i])
    return Classification(True, PROMPTS[best][2], "CLIP zero-shot", f"p(medical)={medical_probability:.2f}")
