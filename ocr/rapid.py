"""PP-OCRv4 through ONNX Runtime, from the weights inside the rapidocr-onnxruntime wheel."""

from __future__ import annotations

import numpy as np

from anonymizer.job import Box
from ocr.engine import OcrBox, as_rgb, box_from_points


def _with_memory_arena(holder, threads: int | None) -> None:
    """RapidOCR opens its ONNX sessions without ONNX Runtime's CPU memory arena, so every
    run allocates its tensors afresh: PP-OCR's detector on a 1056 px square takes 0.21 s
    so and 0.15 s with the arena. The session is opened again with it, on the same model
    and settings; if the library's internals differ from what this expects, its own
    session stays."""
    import onnxruntime as ort

    session = getattr(holder, "session", None)
    model_path = getattr(session, "_model_path", None)
    if model_path is None:
        return
    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.enable_cpu_mem_arena = True
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    holder.session = ort.InferenceSession(model_path, sess_options=options, providers=session.get_providers())


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, threads: int | None = None) -> None:
        from rapidocr_onnxruntime import RapidOCR

        # Our own confidence threshold applies later; medical overlays are upright, so
        # the angle classifier only costs time. Batch workers run one thread each.
        extra = {"intra_op_num_threads": threads} if threads else {}
        self._ocr = RapidOCR(text_score=0.05, use_cls=False, print_verbose=False, **extra)
        for holder in (self._ocr.text_det.infer, self._ocr.text_rec.session):
            _with_memory_arena(holder, threads)

    def read(self, image: np.ndarray) -> list[OcrBox]:
        bgr = np.ascontiguousarray(as_rgb(image)[..., ::-1])
        result, _ = self._ocr(bgr, use_cls=False)
        boxes = []
        for points, text, score in result or []:
            boxes.append(OcrBox(box_from_points(points), str(text), float(score), self.name))
        return boxes

    def read_line(self, image: np.ndarray) -> list[OcrBox]:
        """Recognition only, for a crop that holds one line: what re-reading a redaction needs."""
        bgr = np.ascontiguousarray(as_rgb(image)[..., ::-1])
        result, _ = self._ocr(bgr, use_det=False, use_cls=False)
        height, width = image.shape[:2]
        return [OcrBox(Box(0, 0, width, height), str(text), float(score), self.name)
                for text, score in result or [] if str(text).strip()]
