"""Loopback DICOM peers for the gateway's tests and benchmark: a receiving PACS (pynetdicom's
Storage SCP keeping what arrives in memory) and a sending modality (a Storage SCU)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pydicom
import yaml
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt
from pynetdicom.sop_class import Verification

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Pacs:
    """A Storage SCP on loopback. ``received[sop_uid]`` is the list of the SHA-256 of each
    copy that arrived, ``datasets[sop_uid]`` the last copy."""

    def __init__(self, ae_title: str = "PACS", ssl_context=None) -> None:
        self.port = free_port()
        self.received: dict[str, list[str]] = defaultdict(list)
        self.datasets: dict[str, pydicom.Dataset] = {}
        self.lock = threading.Lock()
        ae = AE(ae_title=ae_title)
        for context in AllStoragePresentationContexts:
            ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
        self.server = ae.start_server(("127.0.0.1", self.port), block=False, ssl_context=ssl_context,
                                      evt_handlers=[(evt.EVT_C_STORE, self._store)])

    def _store(self, event) -> int:
        data = event.encoded_dataset(include_meta=True)
        ds = pydicom.dcmread(io.BytesIO(data))
        with self.lock:  # the dataset first: a reader that sees the UID received finds its dataset
            self.datasets[str(ds.SOPInstanceUID)] = ds
            self.received[str(ds.SOPInstanceUID)].append(hashlib.sha256(data).hexdigest())
        return 0x0000

    def wait_for(self, count: int, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.2)

    def close(self) -> None:
        self.server.shutdown()


def send(port: int, paths: list[Path], calling: str = "MODALITY", called: str = "MEDANON",
         tls_args=None) -> list[int]:
    """C-STORE each file over one association; the status of each (-1: not sent)."""
    ae = AE(ae_title=calling)
    kinds = set()
    for path in paths:
        meta = pydicom.dcmread(path, stop_before_pixels=True)
        kinds.add((meta.file_meta.MediaStorageSOPClassUID, meta.file_meta.TransferSyntaxUID))
    for sop_class, syntax in sorted(kinds):
        ae.add_requested_context(sop_class, syntax)
    assoc = ae.associate("127.0.0.1", port, ae_title=called, tls_args=tls_args)
    if not assoc.is_established:
        return [-1] * len(paths)
    statuses = []
    try:
        for path in paths:
            status = assoc.send_c_store(path)
            statuses.append(int(status.Status) if "Status" in status else -1)
    finally:
        if assoc.is_established:
            assoc.release()
    return statuses


def echo(port: int, calling: str = "MODALITY", called: str = "MEDANON", tls_args=None) -> int | None:
    """The C-ECHO status, or None when the association is not accepted."""
    ae = AE(ae_title=calling)
    ae.add_requested_context(Verification)
    assoc = ae.associate("127.0.0.1", port, ae_title=called, tls_args=tls_args)
    if not assoc.is_established:
        return None
    try:
        status = assoc.send_c_echo()
        return int(status.Status) if "Status" in status else None
    finally:
        assoc.release()


def write_config(folder: Path, port: int, destinations: list[dict], **extra) -> Path:
    config = {"ae_title": "MEDANON", "host": "127.0.0.1", "port": port, "spool": str(folder / "spool"),
              "allowed": [{"ae_title": "MODALITY", "addresses": ["127.0.0.1"]}],
              "destinations": destinations,
              "retry": {"attempts": 4, "first_delay_seconds": 0.5, "max_delay_seconds": 2}, **extra}
    path = folder / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@contextlib.contextmanager
def gateway(config: Path, port: int, key: bytes, log: Path):
    """`medical-anonymizer gateway --config ...` until the block ends; yields the process."""
    process = start_gateway(config, port, key, log)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def start_gateway(config: Path, port: int, key: bytes, log: Path) -> subprocess.Popen:
    with log.open("a") as out:
        process = subprocess.Popen([sys.executable, str(REPO / "pipeline_run.py"), "gateway", "--config", str(config),
                                    "--verbose"], stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
                                   env={**os.environ, "ANONYMIZER_KEY": key.decode()})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return process
        if process.poll() is not None:
            raise RuntimeError(log.read_text())
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the gateway did not start listening: " + log.read_text())


class StowReceiver:
    """A small DICOMweb STOW-RS service on loopback: POST {base}/studies with a
    multipart/related body of application/dicom parts; keeps each part by SOP Instance UID."""

    def __init__(self, certificate: Path | None = None, private_key: Path | None = None) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.received: dict[str, list[str]] = defaultdict(list)
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                if not self.path.rstrip("/").endswith("/studies"):
                    self.send_error(404)
                    return
                body = self._body()
                boundary = self.headers.get_param("boundary", header="content-type")
                if not boundary or "multipart/related" not in self.headers.get("content-type", ""):
                    self.send_error(415)
                    return
                for part in body.split(b"--" + boundary.encode())[1:]:
                    if part.startswith(b"--"):
                        break
                    headers, _, payload = part.partition(b"\r\n\r\n")
                    if b"application/dicom" not in headers.lower():
                        continue
                    payload = payload[:-2] if payload.endswith(b"\r\n") else payload
                    ds = pydicom.dcmread(io.BytesIO(payload))
                    with receiver.lock:
                        receiver.received[str(ds.SOPInstanceUID)].append(hashlib.sha256(payload).hexdigest())
                self.send_response(200)
                self.send_header("Content-Type", "application/dicom+json")
                reply = b"{}"
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def _body(self) -> bytes:
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("content-length", 0)))

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        scheme = "http"
        if certificate is not None:  # HTTPS with the given certificate
            import ssl

            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(certificate), str(private_key))
            # The handshake in each connection's thread, not in accept(): a client that
            # refuses the certificate must not stall the others.
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True,
                                                     do_handshake_on_connect=False)
            scheme = "https"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"{scheme}://localhost:{self.port}/dicomweb"

    def close(self) -> None:
        self.server.shutdown()


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, and its key (openssl)."""
    import shutil

    openssl = shutil.which("openssl")
    assert openssl, "openssl makes the tests' certificates"
    certificate, key = folder / "localhost.pem", folder / "localhost.key"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(certificate), "-days", "1", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return certificate, key
