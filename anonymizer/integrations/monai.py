"""A MONAI dictionary transform that de-identifies DICOM files before they are loaded.

    from monai.transforms import Compose, LoadImaged
    from anonymizer.integrations.monai import DeidentifyDicomd

    pipeline = Compose([DeidentifyDicomd(keys="image", output_dir="deid/"),
                        LoadImaged(keys="image", reader="PydicomReader")])
    sample = pipeline({"image": "scan.dcm"})   # loads deid/anonymized_scan.dcm

The value under each key, a DICOM path, goes through the full seven-stage pipeline and is
replaced by the de-identified file's path, so every later transform sees only the
de-identified header and pixels. The report (no identifying values) is kept under
"<key>_deid". A file that cannot be de-identified raises, so nothing identifiable flows on.
MONAI is imported only here, and only when the transform is built.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

from anonymizer.config import PipelineConfig
from anonymizer.errors import AnonymizerError


def _base_class():
    from monai.transforms import MapTransform

    return MapTransform


class DeidentifyDicomd(_base_class()):  # type: ignore[misc]  # MONAI is imported only when used
    def __init__(self, keys: str | Sequence[str], output_dir: str | Path, config: PipelineConfig | None = None,
                 allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)
        self.output_dir = Path(output_dir)
        self.config = config or PipelineConfig()

    def __call__(self, data: Mapping[Hashable, object]) -> dict:
        from anonymizer.pipeline import run_file

        result = dict(data)
        for key in self.key_iterator(result):
            report = run_file(Path(str(result[key])), self.output_dir, self.config)
            if report.status != "written":
                raise AnonymizerError(f"{Path(str(result[key])).name}: {report.reason}")
            result[key] = report.output_path
            result[f"{key}_deid"] = {k: v for k, v in asdict(report).items() if k != "stages"}
        return result
