"""Options of one run, shared unchanged by every stage and every worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from anonymizer.limits import DEFAULT_FILE_SECONDS, DEFAULT_MAX_DECODED_BYTES
from anonymizer.metadata.keyed import ProjectKey
from anonymizer.metadata.strategy import Strategy, default_strategy

# EasyOCR is opt-in (--ocr-engines rapidocr,tesseract,easyocr): it costs 1 to 3 s more per
# image, past the time targets, for more identifiers hidden on one part of the text corpus
# and less clinical text kept on the other (benchmarks/README.md).
DEFAULT_OCR_ENGINES = ("rapidocr", "tesseract")
KNOWN_OCR_ENGINES = ("rapidocr", "tesseract", "easyocr")


def parse_engine_list(text: str) -> tuple[str, ...]:
    """--ocr-engines as written: comma-separated names, blanks ignored."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


@dataclass(frozen=True)
class PipelineConfig:
    # detect text (stage 5)
    confidence: float = 0.1
    iou_threshold: float = 0.5
    frames: str = "all"  # all | first | N (at most N frames, evenly spread)
    frame_stride: int = 1  # scan every k-th frame of long loops
    ocr_engines: tuple[str, ...] = DEFAULT_OCR_ENGINES
    easyocr_model_dir: Path | None = None
    ocr_threads: int | None = None  # None: ONNX Runtime's default (all cores)
    text_policy: str = "phi"  # phi: redact unless every token is known safe | all: every box
    text_policy_file: Path | None = None  # thresholds and word lists (text_policy.py); None: shipped
    ner_model: Path | None = None
    # enhance (stage 4): fraction of each side treated as the border band
    border_fraction: float = 0.15
    # redact (stage 6)
    padding: int = 5
    margin: int | None = None  # border band in pixels; None: a fifth of each side (border.py)
    scope: str = "evidence"  # evidence: the band, and PHI on evidence anywhere | border | everywhere
    fill: str = "inpaint"  # inpaint | solid
    inpaint_radius: int = 3
    # classify (stage 1)
    skip_classification: bool = False
    clip_model: Path | None = None
    # scrub metadata (stage 3): the project key behind every keyed mapping
    key: bytes = field(default=b"", repr=False)  # never in a repr, log or traceback
    strategy: Strategy = field(default_factory=default_strategy)
    # known burned-in annotation areas (pixel_rules.py): the user's file, beside the shipped one
    pixel_rules: Path | None = None
    # fail closed unless the user opts in to writing pixels nobody could scan
    allow_unscanned_pixels: bool = False
    # header only: pixels are neither decoded nor scanned, and stay byte for byte
    metadata_only: bool = False
    verbose: bool = False
    # refuse a file whose decoded pixels would take more (limits.py)
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES
    # a batch fails a file that takes longer than this many seconds (0: no limit)
    file_timeout: int = DEFAULT_FILE_SECONDS
    # where outputs go: "mirror" the input tree, or "uid" patient/study/series folders
    layout: str = "mirror"
    # text left for a person: "hold" the file under OUTPUT_DIR/review/, or "release" it as it is
    review: str = "hold"
    # file names: "keep" the input's (anonymized_<name>), or "uid": the new SOP Instance UID
    rename: str = "keep"

    def __post_init__(self) -> None:
        if not isinstance(self.key, ProjectKey):  # a pickle of the config must not hold it
            object.__setattr__(self, "key", ProjectKey(self.key))
