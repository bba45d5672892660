"""Load the configured OCR engines once per process and say, once, which are absent."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ocr.engine import OcrEngine


@lru_cache(maxsize=4)
def load_engines(names: tuple[str, ...], easyocr_dir: Path | None = None,
                 threads: int | None = None) -> tuple[tuple[OcrEngine, ...], tuple[str, ...]]:
    """The engines that loaded, and one notice per engine that did not (free of PHI).

    Cached per process: a batch worker loads its models once and keeps them."""
    engines: list[OcrEngine] = []
    notices: list[str] = []
    for name in names:
        try:
            engines.append(_load(name, easyocr_dir, threads))
        except Exception as exc:  # noqa: BLE001 - a missing engine degrades, it does not stop the run
            notices.append(_absent_notice(name, exc))
    return tuple(engines), tuple(notices)


def _load(name: str, easyocr_dir: Path | None, threads: int | None) -> OcrEngine:
    if name == "rapidocr":
        from ocr.rapid import RapidOcrEngine

        return RapidOcrEngine(threads)
    if name == "tesseract":
        from ocr.tesseract import TesseractEngine

        return TesseractEngine()
    if name == "easyocr":
        from ocr.easyocr_onnx import EasyOcrEngine

        return EasyOcrEngine(easyocr_dir, threads)
    raise ValueError(f"unknown OCR engine {name!r}")


def _absent_notice(name: str, exc: Exception) -> str:
    if name == "easyocr":
        return f"EasyOCR not used ({exc}); running with the other engines"
    return f"OCR engine {name} unavailable ({type(exc).__name__}: {exc}); degrading to the others"
