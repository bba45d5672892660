"""The web service under load, beside the CLI's batch on the same files in the same run.

    python benchmarks/service_load.py [--files 200] [--workers 2] [--metadata-only]

Builds --files copies of pydicom's GE CT, each with its own patient and UIDs. The CLI
runs them as one folder batch (`pipeline_run.py corpus/ out/ --workers N`, its start-up
included). The service (`serve --workers N` on loopback, started beforehand) gets them
in one POST /api/jobs; its rate runs from that request to the job's end, and the status
endpoint is polled all along, its latency recorded.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pydicom
from pydicom.data import get_testdata_file

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from header_corpus import uid  # noqa: E402

KEY = "service load benchmark key, not secret"
PASSWORD = "service load benchmark password"


def build(out: Path, count: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    files = []
    for i in range(count):
        ds.PatientName, ds.PatientID = f"LOAD^PATIENT{i}", f"LD{i:05d}"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = uid("load-study", i), uid("load-series", i)
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid("load-instance", i)
        files.append(out / f"ct{i:04d}.dcm")
        ds.save_as(files[-1])
    return files


def cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "pipeline_run.py"), *args], capture_output=True, text=True,
                          env={**os.environ, "ANONYMIZER_KEY": KEY}, cwd=REPO, **kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_cli_batch(corpus: Path, out: Path, options: list[str]) -> float:
    start = time.perf_counter()
    result = cli(str(corpus), str(out), *options)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 4):
        raise SystemExit(f"CLI batch failed ({result.returncode}): {result.stderr[-500:]}")
    return elapsed


def run_service(files: list[Path], data: Path, options: list[str]) -> tuple[float, list[float], dict]:
    cli("users", "add", "load", "--role", "operator", "--password-stdin", "--data-dir", str(data),
        input=PASSWORD + "\n", check=True)
    token = cli("users", "token", "load", "--data-dir", str(data), check=True).stdout.strip()
    port = free_port()
    server = subprocess.Popen([sys.executable, str(REPO / "pipeline_run.py"), "serve", "--data-dir", str(data),
                               "--port", str(port), "--max-upload-mib", "2048", *options],
                              env={**os.environ, "ANONYMIZER_KEY": KEY}, cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600, headers=headers) as client:
            while True:
                try:
                    client.get("/api/stats")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            start = time.perf_counter()
            job = client.post("/api/jobs", files=[("files", (f.name, f.read_bytes())) for f in files]).json()
            latencies = []
            while True:
                asked = time.perf_counter()
                view = client.get(f"/api/jobs/{job['id']}").json()
                latencies.append(time.perf_counter() - asked)
                if view["status"] == "done":
                    return time.perf_counter() - start, latencies, view
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--metadata-only", action="store_true")
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "service-load")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    files = build(args.work / "corpus", args.files)
    options = ["--workers", str(args.workers)] + (["--metadata-only"] if args.metadata_only else [])
    cli_seconds = run_cli_batch(args.work / "corpus", args.work / "cli-out", options)
    service_seconds, latencies, view = run_service(files, args.work / "service", options)
    if view["written"] + view["held"] != args.files:
        raise SystemExit(f"the service's job ended with {view}")
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else max(latencies)
    cli_rate, service_rate = args.files / cli_seconds, args.files / service_seconds
    print(f"{args.files} files, {' '.join(options)}\n")
    print("| path | seconds | files per second |")
    print("| --- | --- | --- |")
    print(f"| CLI batch (`pipeline_run.py corpus/ out/`, start-up included) | {cli_seconds:.1f} | {cli_rate:.2f} |")
    print(f"| service job (POST /api/jobs to done) | {service_seconds:.1f} | {service_rate:.2f} |")
    print(f"\nservice / CLI: {service_rate / cli_rate:.0%}; status endpoint while the job ran: "
          f"{len(latencies)} requests, median {1000 * statistics.median(latencies):.1f} ms, "
          f"95th percentile {1000 * p95:.1f} ms")


if __name__ == "__main__":
    main()
