"""Privacy probe: which common names does `--text-policy phi` write out still readable?

    python benchmarks/name_probe.py

Renders every name of anonymizer/phi/data/common-names.txt, and the names that are
clinical vocabulary as they stand (NAMES_THAT_ARE_VOCABULARY), 25 to a black PNG, one
per row, at two sizes, with no header to match them against: the case where only the
allow-list stands between a name and the output. A name is kept when its row of the
output is identical to the input. About 6 minutes per size on 2 cores.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from anonymizer.config import PipelineConfig  # noqa: E402
from anonymizer.phi.allow_list import common_names  # noqa: E402
from anonymizer.pipeline import run_file  # noqa: E402

NAMES_THAT_ARE_VOCABULARY = ("BEST", "CALDWELL", "DIXON", "LONG", "MAX", "SHARP", "WATERS")
SIZES = ((0.5, 1), (0.7, 2))  # Hershey simplex scale, stroke px
PER_IMAGE = 25
ROW_PX = 40


def kept_names(names: list[str], scale: float, stroke: int, config: PipelineConfig, work: Path) -> list[str]:
    kept = []
    for start in range(0, len(names), PER_IMAGE):
        chunk = names[start:start + PER_IMAGE]
        image = np.zeros((ROW_PX * len(chunk) + 20, 400, 3), dtype=np.uint8)
        for row, name in enumerate(chunk):
            cv2.putText(image, name, (10, 30 + ROW_PX * row), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), stroke)
        source = work / f"names_{start}.png"
        cv2.imwrite(str(source), image)
        run_file(source, work / "out", config)
        written = cv2.imread(str(work / "out" / f"anonymized_{source.name}"))
        for row, name in enumerate(chunk):
            band = slice(8 + ROW_PX * row, 38 + ROW_PX * row)
            if written is not None and np.array_equal(written[band], image[band]):
                kept.append(name)
    return kept


def main() -> None:
    names = sorted(common_names() | set(NAMES_THAT_ARE_VOCABULARY))
    config = PipelineConfig(key=b"name probe key, fixed for a run.", scope="everywhere")
    with tempfile.TemporaryDirectory() as tmp:
        for scale, stroke in SIZES:
            kept = kept_names(names, scale, stroke, config, Path(tmp))
            print(f"{len(names)} names, Hershey {scale}/{stroke} px: {len(kept)} kept: {', '.join(kept)}", flush=True)


if __name__ == "__main__":
    main()
