"""Instructions per file of the --metadata-only batch loop, counted by callgrind.

This VM's speed drifts by a third within minutes, so wall-clock A/B runs of a 5% change
say nothing; instruction counts do not drift. The loop is run on the first 20 and the
first 120 files of the header corpus, and the difference divided by 100: start-up,
imports and the first files' caches cancel out.

    python benchmarks/header_instructions.py [--repo PATH] [--work DIR]

--repo: the checkout to measure (default: this one), to compare two commits on one corpus.
--vendor: instead, per real vendor file of vendor_speed.py's corpus (about 15 minutes).
Needs valgrind. About a minute.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

FEW, MANY = 20, 120


def run_batch(repo: Path, corpus: Path, count: int, out: Path, pattern: str = "*.dcm") -> None:
    """What header_benchmark's run_ours runs, on the first ``count`` files."""
    sys.path.insert(0, str(repo))
    from anonymizer.batch import run_local
    from anonymizer.config import PipelineConfig
    from anonymizer.inputs import InputFile
    from anonymizer.reporting import append_record

    files = sorted(corpus.glob(pattern))[:count]
    config = PipelineConfig(key=b"benchmark key, fixed for the run", metadata_only=True)
    shutil.rmtree(out, ignore_errors=True)
    run_local([InputFile(f, Path(f.name)) for f in files], out, config, workers=1, overwrite=True,
              on_record=lambda record: append_record(out, record))


def instructions(repo: Path, corpus: Path, count: int, out: Path, pattern: str = "*.dcm") -> int:
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
         "--child", str(count), "--repo", str(repo), "--corpus", str(corpus), "--out", str(out),
         "--pattern", pattern],
        capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", result.stderr).group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", type=Path, default=REPO)
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "instructions")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--pattern", default="*.dcm", help=argparse.SUPPRESS)
    parser.add_argument("--vendor", action="store_true",
                        help="per real vendor file of vendor_speed.py's corpus: 2 and 7 copies, difference / 5")
    args = parser.parse_args()
    if args.child is not None:
        run_batch(args.repo.resolve(), args.corpus, args.child, args.out, args.pattern)
        return
    if args.vendor:
        from vendor_speed import base_files
        from vendor_speed import build as build_vendor

        corpus = args.work / "vendor-corpus"
        if not corpus.is_dir():
            build_vendor(corpus, 7)
        for name in sorted(base_files()):
            pattern = f"{Path(name).stem}_*.dcm"
            few = instructions(args.repo, corpus, 2, args.work / "out", pattern)
            many = instructions(args.repo, corpus, 7, args.work / "out", pattern)
            print(f"{Path(name).stem}: {(many - few) / 5 / 1e6:.2f}M instructions per file", flush=True)
        return
    from header_corpus import build

    corpus = args.work / "corpus"
    if not corpus.is_dir():
        build(corpus, 20)
    few = instructions(args.repo, corpus, FEW, args.work / "out")
    many = instructions(args.repo, corpus, MANY, args.work / "out")
    print(f"{args.repo}: {(many - few) / (MANY - FEW) / 1e6:.2f}M instructions per file "
          f"(files {FEW + 1}-{MANY} of the header corpus)")


if __name__ == "__main__":
    main()
