"""Stage 1: the DICOM header decides for DICOM; CLIP, when present, for raster images."""

from __future__ import annotations

from anonymizer.config import PipelineConfig
from anonymizer.errors import NonMedicalImage
from anonymizer.job import FileKind, Job
from classifier.clip import classify_with_clip, clip_model_dir
from classifier.header import classify_header
from classifier.result import Classification
from ocr.engine import as_rgb


def classify(job: Job, config: PipelineConfig) -> None:
    if config.skip_classification:
        result = Classification(None, "", "skipped", "--skip-classification")
    elif job.kind is FileKind.DICOM:
        result = classify_header(job.dataset)
    else:
        model_dir = clip_model_dir(config.clip_model)
        if model_dir is None:
            result = Classification(None, "", "none", "no CLIP model")
        else:
            result = classify_with_clip(as_rgb(job.view[0]), model_dir)
    job.report.classification = result.describe()
    job.report.anatomy = result.anatomy
    job.report.stages.append(f"classify: {result.describe()}")
    if result.medical is False:
        raise NonMedicalImage(f"classified as non-medical ({result.method}, {result.detail})")
