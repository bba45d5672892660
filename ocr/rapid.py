"""PP-OCRv4 through ONNX Runtime, from the weights inside the rapidocr-onnxruntime wheel."""

from __future__ import annotations

from contextlib import contextmanager

import cv2
import numpy as np

from anonymizer.job import Box
from ocr.engine import OcrBox, as_rgb, box_from_points


@contextmanager
def _sessions_with_memory_arena():
    """RapidOCR opens its ONNX sessions with ONNX Runtime's CPU memory arena switched off,
    so every run allocates its tensors afresh: PP-OCR's detector on a 1056 px square takes
    0.21 s that way and 0.15 s with the arena. While RapidOCR is built, the options it
    makes get the arena switched on (its own threads and optimisation level stay); should
    a release not make them this way, its own options stay."""
    from rapidocr_onnxruntime.utils import infer_engine

    session_class = infer_engine.OrtInferSession
    own_options = getattr(session_class, "_init_sess_opts", None)
    if own_options is None:
        yield
        return

    def with_arena(config):
        options = own_options(config)
        options.enable_cpu_mem_arena = True
        return options

    session_class._init_sess_opts = staticmethod(with_arena)
    try:
        yield
    finally:
        session_class._init_sess_opts = staticmethod(own_options)


class _TableNormalisation:
    """PP-OCR's detector input, normalised through a 256-entry table.

    RapidOCR normalises the resized frame in float64 arithmetic over every pixel and
    channel (26-70 ms on the 1056 px square a 512x512 image is read at); an 8-bit
    image has 256 values per channel, so the table is RapidOCR's own normalisation
    applied to those 256 values, and the tensor is identical to the last bit."""

    def __init__(self, own) -> None:
        self._own = own
        every_value = np.arange(256, dtype=np.uint8).reshape(1, 256, 1).repeat(3, axis=2)
        self._table = np.asarray(own.normalize(every_value), dtype=np.float32)

    def __call__(self, image: np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            return self._own(image)
        resized = self._own.resize(image)
        if resized is None:
            return None
        normalised = cv2.LUT(resized, self._table)
        return np.ascontiguousarray(normalised.transpose(2, 0, 1))[np.newaxis]


def _normalise_by_table(detector) -> None:
    """Wrap the detector's preprocessing (made afresh per image for its size); a release
    without ``get_preprocess`` or ``normalize`` keeps its own."""
    own_preprocess = getattr(detector, "get_preprocess", None)
    if own_preprocess is None:
        return

    def get_preprocess(longest_side):
        own = own_preprocess(longest_side)
        return _TableNormalisation(own) if hasattr(own, "normalize") and hasattr(own, "resize") else own

    detector.get_preprocess = get_preprocess


class _Delegate:
    """Calls go through ``call``; everything else (sessions, thresholds) is the wrapped object's."""

    def __init__(self, wrapped, call) -> None:
        self._wrapped, self._call = wrapped, call

    def __call__(self, *args, **kwargs):
        return self._call(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._wrapped, name)


def _record_turns(ocr) -> None:
    """PP-OCR's direction classifier turns a crop it judges upside down before reading it;
    which ones it turned is kept with each reading (its last element), so that stage 6
    knows the line runs right to left in the image (a leading label is at its right)."""
    own_cls, own_rec = ocr.text_cls, ocr.text_rec
    turned: list[bool] = []

    def classify(images):
        out, results, elapsed = own_cls(images)
        threshold = getattr(own_cls, "cls_thresh", 0.9)
        turned[:] = ["180" in str(label) and float(score) > threshold for label, score in results]
        return out, results, elapsed

    def recognise(images, *args, **kwargs):
        results, elapsed = own_rec(images, *args, **kwargs)
        flags = list(turned) if len(turned) == len(results) else [False] * len(results)
        turned.clear()
        return [(*result, flag) for result, flag in zip(results, flags, strict=True)], elapsed

    ocr.text_cls, ocr.text_rec = _Delegate(own_cls, classify), _Delegate(own_rec, recognise)


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, threads: int | None = None) -> None:
        from rapidocr_onnxruntime import RapidOCR

        # Our own confidence threshold applies later. The direction classifier reads text
        # written upside down (a flipped film, a console's lower band); it costs a small
        # network per box. Batch workers run one thread each.
        extra = {"intra_op_num_threads": threads} if threads else {}
        with _sessions_with_memory_arena():
            self._ocr = RapidOCR(text_score=0.05, use_cls=True, print_verbose=False, **extra)
        _normalise_by_table(self._ocr.text_det)
        _record_turns(self._ocr)

    def read(self, image: np.ndarray) -> list[OcrBox]:
        bgr = np.ascontiguousarray(as_rgb(image)[..., ::-1])
        result, _ = self._ocr(bgr, use_cls=True)
        boxes = []
        for points, text, score, *rest in result or []:
            upside_down = bool(rest and rest[-1] is True)
            boxes.append(OcrBox(box_from_points(points), str(text), float(score), self.name, upside_down))
        return boxes

    def read_line(self, image: np.ndarray) -> list[OcrBox]:
        """Recognition only, for a crop that holds one line: what re-reading a redaction needs."""
        bgr = np.ascontiguousarray(as_rgb(image)[..., ::-1])
        result, _ = self._ocr(bgr, use_det=False, use_cls=False)
        height, width = image.shape[:2]
        return [OcrBox(Box(0, 0, width, height), str(text), float(score), self.name)
                for text, score in result or [] if str(text).strip()]
