"""The Python API: the CLI's pipeline, called from a program (a MONAI transform, a
gateway, a notebook).

    from anonymizer.api import PipelineConfig, deidentify_dataset, deidentify_file

    clean, report = deidentify_dataset(ds, PipelineConfig(key=project_key))
    report = deidentify_file(Path("in.dcm"), Path("out"), PipelineConfig(key=project_key))

Both run the same seven stages, strategy, key and checks as the command line. Neither
changes its input, and neither logs: the package's logger has only a NullHandler.
"""

from __future__ import annotations

import io
from copy import deepcopy
from pathlib import Path

import pydicom
from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from anonymizer.config import PipelineConfig
from anonymizer.errors import AnonymizerError
from anonymizer.job import FileKind, FileReport, Job
from anonymizer.loading import capture_identifying_values
from anonymizer.pipeline import STAGES, quiet_pydicom, run_file, run_stages
from anonymizer.saving import encoded_output

__all__ = ["AnonymizerError", "FileReport", "PipelineConfig", "deidentify_dataset", "deidentify_file"]


def deidentify_dataset(ds: Dataset, config: PipelineConfig) -> tuple[Dataset, FileReport]:
    """A de-identified copy of ``ds``, and the report of what was done to it.

    Raises AnonymizerError (its ``reason`` is one line, free of identifying values) when
    the data set cannot be de-identified safely: nothing is returned then. The copy is
    the one the CLI would write, read back from its checked bytes. A report with status
    "held" lists text a person must decide on (``review_boxes``): such a copy belongs in
    a review queue, not in a release."""
    with quiet_pydicom():
        job = Job(source=Path("dataset.dcm"), kind=FileKind.DICOM, report=FileReport(source_name="dataset"),
                  dataset=_with_file_meta(deepcopy(ds)))
        capture_identifying_values(job)
        run_stages(job, config, tuple(stage for stage in STAGES if stage[0] != "save"))
        data, how = encoded_output(job, config)
        job.report.stages.append(f"save: DICOM in memory, {how}")
        # Text left for a person: the copy is returned for a review queue, never to release.
        job.report.status = "held" if config.review == "hold" and job.report.regions_review else "written"
        return pydicom.dcmread(io.BytesIO(data)), job.report


def deidentify_file(source: Path, output_dir: Path, config: PipelineConfig) -> FileReport:
    """One file into OUTPUT_DIR/anonymized_<name>, as ``pipeline_run.py source output_dir``
    does. Never raises for a bad file: the report's status and reason say what happened."""
    return run_file(Path(source), Path(output_dir), config)


def _with_file_meta(ds: Dataset) -> Dataset:
    """A data set built in memory may have no file meta; it is written explicit VR little endian."""
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        ds.file_meta = meta = FileMetaDataset()
    if "TransferSyntaxUID" not in meta:
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds
