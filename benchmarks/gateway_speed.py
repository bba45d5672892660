"""Instances per second through the DICOM gateway, beside the CLI and the network alone.

    python benchmarks/gateway_speed.py [--files 200] [--workers 2]

Builds --files copies of pydicom's GE CT, each with its own patient and UIDs, and in the
same run measures:

- the ceiling: pynetdicom alone, the modality sending straight to the PACS (no gateway);
- the gateway with `metadata-only: true`, and with the full pipeline: timed from the first
  C-STORE to the gateway until the PACS behind it has every instance (the gateway started
  beforehand, its start-up not included);
- the CLI on the same files as a folder batch, with and without --metadata-only, its
  start-up included.

The modality sends over one association; the gateway de-identifies with --workers
processes and forwards by C-STORE to the PACS, all on loopback, every socket with
TCP_NODELAY (anonymizer/gateway/sockets.py).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(REPO / "tests"))

from gateway_helpers import Pacs, free_port, gateway, send, write_config  # noqa: E402
from service_load import KEY, build, run_cli_batch  # noqa: E402

from anonymizer.gateway.sockets import enable_tcp_nodelay  # noqa: E402


def ceiling(files: list[Path]) -> float:
    pacs = Pacs()
    try:
        start = time.perf_counter()
        statuses = send(pacs.port, files, called="PACS")
        pacs.wait_for(len(files))
        elapsed = time.perf_counter() - start
    finally:
        pacs.close()
    if statuses != [0] * len(files):
        raise SystemExit("the PACS refused instances")
    return elapsed


def through_gateway(files: list[Path], work: Path, workers: int, pipeline: dict) -> float:
    pacs = Pacs()
    port = free_port()
    work.mkdir(parents=True)
    config = write_config(work, port, [{"name": "pacs", "type": "dicom", "ae_title": "PACS", "host": "127.0.0.1",
                                        "port": pacs.port}], pipeline=pipeline, workers=workers)
    try:
        with gateway(config, port, KEY.encode(), work / "gateway.log"):
            start = time.perf_counter()
            statuses = send(port, files)
            pacs.wait_for(len(files), timeout=3600)
            elapsed = time.perf_counter() - start
    finally:
        pacs.close()
    if statuses != [0] * len(files) or len(pacs.received) != len(files):
        raise SystemExit(f"the gateway lost instances: {len(pacs.received)} of {len(files)} arrived")
    return elapsed


def main() -> None:
    enable_tcp_nodelay()  # the modality and the PACS of this process, as the gateway's own sockets
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gateway-speed-"))
    try:
        files = build(work / "corpus", args.files)
        rows = [("pynetdicom alone, modality to PACS (the ceiling)", ceiling(files))]
        rows.append(("gateway, `metadata-only: true`",
                     through_gateway(files, work / "gw-meta", args.workers, {"metadata-only": True})))
        rows.append(("CLI batch `--metadata-only`",
                     run_cli_batch(work / "corpus", work / "cli-meta", ["--metadata-only", "--workers",
                                                                         str(args.workers)])))
        rows.append(("gateway, full pipeline", through_gateway(files, work / "gw-full", args.workers, {})))
        rows.append(("CLI batch, full pipeline",
                     run_cli_batch(work / "corpus", work / "cli-full", ["--workers", str(args.workers)])))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.files} instances, --workers {args.workers}\n")
    print("| path | seconds | instances per second |\n| --- | --- | --- |")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {args.files / seconds:.1f} |")


if __name__ == "__main__":
    main()
