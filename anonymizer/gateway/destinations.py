"""Where de-identified instances go: a remote AE by C-STORE, a DICOMweb STOW-RS service,
or a folder. Each sender takes a batch of spooled files and says, per file, whether it
arrived (None) or why not; the reason names no value of the instance."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pydicom
from pydicom.filereader import read_file_meta_info

from anonymizer.atomic import write_bytes_atomically
from anonymizer.gateway.config import Destination, DestinationKind, TlsSettings

LOG = logging.getLogger(__name__)
MAX_CONTEXTS = 128  # presentation contexts one association may propose
# C-STORE success, and the warnings after which the instance is stored (PS3.4 B.2.3).
STORED = {0x0000, 0xB000, 0xB006, 0xB007}


class Sender(Protocol):
    def send(self, paths: list[Path]) -> dict[Path, str | None]: ...


def client_ssl_context(tls: TlsSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(tls.ca_certificates) if tls.ca_certificates else None)
    if tls.certificate and tls.private_key:
        context.load_cert_chain(str(tls.certificate), str(tls.private_key))
    return context


def sender_for(destination: Destination, calling_ae_title: str) -> Sender:
    if destination.kind is DestinationKind.DICOM:
        return DicomSender(destination, calling_ae_title)
    if destination.kind is DestinationKind.STOW_RS:
        return StowSender(destination)
    return FolderSender(destination)


def _meta(path: Path) -> pydicom.Dataset:
    return pydicom.dcmread(path, stop_before_pixels=True, specific_tags=[
        "SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"])


class DicomSender:
    """One association per batch (at most MAX_CONTEXTS kinds of instance), each file sent
    as it lies in the spool, never decoded and re-encoded."""

    def __init__(self, destination: Destination, calling_ae_title: str) -> None:
        self.destination, self.calling = destination, calling_ae_title

    def send(self, paths: list[Path]) -> dict[Path, str | None]:
        from pynetdicom import AE

        results: dict[Path, str | None] = {}
        for batch in self._batches(paths):
            ae = AE(ae_title=self.calling)
            for sop_class, syntax in sorted({kind for kind, _ in batch}):
                ae.add_requested_context(sop_class, syntax)
            tls = self.destination.tls
            tls_args = (client_ssl_context(tls), self.destination.host) if tls else None
            try:
                assoc = ae.associate(self.destination.host, self.destination.port, ae_title=self.destination.ae_title,
                                     tls_args=tls_args)
            except (OSError, ssl.SSLError) as exc:
                results.update({path: f"cannot connect ({type(exc).__name__})" for _, path in batch})
                continue
            if not assoc.is_established:
                reason = "association rejected" if assoc.is_rejected else "association aborted or refused"
                results.update({path: reason for _, path in batch})
                continue
            try:
                for _, path in batch:
                    results[path] = self._store(assoc, path)
            finally:
                if assoc.is_established:
                    assoc.release()
        return results

    def _batches(self, paths: list[Path]) -> Iterator[list[tuple[tuple[str, str], Path]]]:
        batch: list[tuple[tuple[str, str], Path]] = []
        kinds: set[tuple[str, str]] = set()
        for path in paths:
            meta = read_file_meta_info(path)  # the group 2 header alone says what context it needs
            kind = (str(meta.MediaStorageSOPClassUID), str(meta.TransferSyntaxUID))
            if kind not in kinds and len(kinds) == MAX_CONTEXTS:
                yield batch
                batch, kinds = [], set()
            kinds.add(kind)
            batch.append((kind, path))
        if batch:
            yield batch

    @staticmethod
    def _store(assoc, path: Path) -> str | None:
        try:
            status = assoc.send_c_store(path)
        except (ValueError, RuntimeError) as exc:  # no accepted context for the instance
            return f"not sent: {exc}"[:200]
        if "Status" not in status:
            return "no C-STORE response (timeout or abort)"
        code = int(status.Status)
        return None if code in STORED else f"C-STORE status 0x{code:04X}"


class StowSender:
    """DICOMweb STOW-RS through dicomweb-client, one instance per request so that each
    one's outcome is its own; https:// URLs are verified against the configured CA
    bundle (or the system's)."""

    def __init__(self, destination: Destination) -> None:
        import requests
        from dicomweb_client.api import DICOMwebClient

        session = requests.Session()
        if destination.tls is not None and destination.tls.ca_certificates is not None:
            session = _configured_ca_session_class()()
            session.verify = str(destination.tls.ca_certificates)
        headers = {}
        if destination.token_file is not None:
            headers["Authorization"] = "Bearer " + destination.token_file.read_text(encoding="utf-8").strip()
        self.client = DICOMwebClient(url=destination.url, session=session, headers=headers)
        # One retry policy, the spool's (backoff between attempts, nothing held in memory):
        # dicomweb-client's own would spend half a minute on each failed attempt.
        self.client.set_http_retry_params(retry=False)

    def send(self, paths: list[Path]) -> dict[Path, str | None]:
        import requests

        results: dict[Path, str | None] = {}
        for path in paths:
            try:
                self.client.store_instances(datasets=[pydicom.dcmread(path)])
                results[path] = None
            except requests.HTTPError as exc:
                code = exc.response.status_code if exc.response is not None else 0
                results[path] = f"STOW-RS answered HTTP {code}"
            except (requests.RequestException, OSError) as exc:
                results[path] = f"cannot reach the STOW-RS service ({type(exc).__name__})"
        return results


def _configured_ca_session_class():
    """Made on first use: requests is imported only by a gateway with a STOW-RS destination."""
    import requests

    class ConfiguredCaSession(requests.Session):
        """requests lets $REQUESTS_CA_BUNDLE override a session's own CA bundle; the one
        the configuration names must win (proxies still come from the environment)."""

        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            settings["verify"] = self.verify
            return settings

    return ConfiguredCaSession


class FolderSender:
    """<folder>/<study>/<series>/<instance>.dcm by the new UIDs: a re-send writes the same
    bytes to the same name."""

    def __init__(self, destination: Destination) -> None:
        assert destination.path is not None
        self.root = destination.path

    def send(self, paths: list[Path]) -> dict[Path, str | None]:
        results: dict[Path, str | None] = {}
        for path in paths:
            meta = _meta(path)
            target = self.root / str(meta.StudyInstanceUID) / str(meta.SeriesInstanceUID) / \
                f"{meta.SOPInstanceUID}.dcm"
            try:
                write_bytes_atomically(target, path.read_bytes())
                results[path] = None
            except OSError as exc:
                results[path] = f"cannot write there ({exc.strerror or type(exc).__name__})"
        return results
