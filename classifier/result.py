"""The outcome of classification, as the summary box reports it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Classification:
    medical: bool | None  # None: nobody could tell (no CLIP model for a raster image)
    anatomy: str  # chest, skull, dental, pelvic or other; "" when not classified
    method: str  # "DICOM header", "CLIP zero-shot", ...
    detail: str = ""

    def describe(self) -> str:
        if self.medical is None:
            return f"not classified ({self.detail})"
        if not self.medical:
            return f"non-medical ({self.method}{', ' + self.detail if self.detail else ''})"
        return f"medical, {self.anatomy} ({self.method})"
