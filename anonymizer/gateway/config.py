"""gateway.yaml: where the gateway listens, whom it accepts, where it forwards, and the
pipeline options its instances go through (the options of `run`, by their long names)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import yaml


class GatewayConfigError(ValueError):
    """A configuration that cannot be used; the message names the key and the reason."""


class DestinationKind(str, Enum):
    DICOM = "dicom"  # C-STORE to a remote AE
    STOW_RS = "stow-rs"  # DICOMweb STOW-RS
    FOLDER = "folder"


@dataclass(frozen=True)
class TlsSettings:
    certificate: Path | None = None  # this side's certificate and key (PEM)
    private_key: Path | None = None
    ca_certificates: Path | None = None  # the peer must present a certificate signed by one of these


@dataclass(frozen=True)
class Destination:
    name: str
    kind: DestinationKind
    ae_title: str = ""
    host: str = ""
    port: int = 0
    url: str = ""
    path: Path | None = None
    tls: TlsSettings | None = None  # DIMSE over TLS; for STOW-RS, the CA bundle of an https:// URL
    token_file: Path | None = None  # STOW-RS: a bearer token, read at start


@dataclass(frozen=True)
class AllowedCaller:
    ae_title: str
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    def calls_from(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def admits(self, ae_title: str, address: str) -> bool:
        return ae_title.strip() == self.ae_title and self.calls_from(address)


@dataclass(frozen=True)
class Retry:
    attempts: int = 8
    first_delay_seconds: float = 2.0
    max_delay_seconds: float = 300.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the attempt-th failure (from 1): doubling, capped."""
        return min(self.max_delay_seconds, self.first_delay_seconds * 2 ** (attempt - 1))


@dataclass(frozen=True)
class GatewayConfig:
    ae_title: str
    port: int
    spool: Path
    allowed: tuple[AllowedCaller, ...]
    destinations: tuple[Destination, ...]
    host: str = "0.0.0.0"
    tls: TlsSettings | None = None
    max_associations: int = 8
    max_pdu_bytes: int = 65536  # the largest PDU this side receives
    max_instance_bytes: int = 1024 * 1024 * 1024
    # A connection must finish association negotiation this fast: a bare TCP connection
    # otherwise holds one of max_associations for pynetdicom's default half minute.
    negotiation_timeout_seconds: float = 10.0
    study_quiet_seconds: float = 0.0  # forward a study only once no instance came for this long
    retry: Retry = field(default_factory=Retry)
    workers: int = 1
    pipeline_args: tuple[str, ...] = ()  # the `run` options, as command-line words


AE_TITLE_LENGTH = 16


def load_config(path: Path) -> GatewayConfig:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise GatewayConfigError(f"cannot read it ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise GatewayConfigError("the file must be a mapping of settings")
    base = path.resolve().parent  # relative paths are relative to the configuration file
    known = {"ae_title", "host", "port", "spool", "allowed", "destinations", "tls", "limits",
             "study_quiet_seconds", "retry", "workers", "pipeline"}
    _no_unknown(data, known, "")
    limits = _mapping(data.get("limits", {}), "limits")
    _no_unknown(limits, {"max_associations", "max_pdu_bytes", "max_instance_mib", "negotiation_timeout_seconds"},
                "limits.")
    retry = _mapping(data.get("retry", {}), "retry")
    _no_unknown(retry, {"attempts", "first_delay_seconds", "max_delay_seconds"}, "retry.")
    allowed = tuple(_caller(entry, f"allowed[{i}]") for i, entry in enumerate(_list(data.get("allowed"), "allowed")))
    if not allowed:
        raise GatewayConfigError("allowed: list at least one caller (ae_title and addresses)")
    destinations = tuple(_destination(entry, f"destinations[{i}]", base)
                         for i, entry in enumerate(_list(data.get("destinations"), "destinations")))
    if not destinations:
        raise GatewayConfigError("destinations: name at least one")
    names = [d.name for d in destinations]
    if len(set(names)) != len(names):
        raise GatewayConfigError("destinations: each needs its own name")
    return GatewayConfig(
        ae_title=_ae_title(data.get("ae_title"), "ae_title"),
        host=str(data.get("host", "0.0.0.0")),
        port=_integer(data.get("port"), "port", 1, 65535),
        spool=_path(data.get("spool"), "spool", base),
        allowed=allowed, destinations=destinations,
        tls=_tls(data.get("tls"), "tls", base, server=True) if data.get("tls") is not None else None,
        max_associations=_integer(limits.get("max_associations", 8), "limits.max_associations", 1, 1000),
        max_pdu_bytes=_integer(limits.get("max_pdu_bytes", 65536), "limits.max_pdu_bytes", 4096, 2**32 - 1),
        max_instance_bytes=_integer(limits.get("max_instance_mib", 1024), "limits.max_instance_mib", 1, 65536)
        * 1024 * 1024,
        negotiation_timeout_seconds=_number(limits.get("negotiation_timeout_seconds", 10),
                                            "limits.negotiation_timeout_seconds", 0.5),
        study_quiet_seconds=_number(data.get("study_quiet_seconds", 0), "study_quiet_seconds", 0),
        retry=Retry(attempts=_integer(retry.get("attempts", 8), "retry.attempts", 1, 1000),
                    first_delay_seconds=_number(retry.get("first_delay_seconds", 2), "retry.first_delay_seconds", 0),
                    max_delay_seconds=_number(retry.get("max_delay_seconds", 300), "retry.max_delay_seconds", 0)),
        workers=_integer(data.get("workers", 1), "workers", 1, 256),
        pipeline_args=_pipeline_args(data.get("pipeline", {}), base),
    )


def _no_unknown(data: dict, known: set[str], prefix: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise GatewayConfigError(f"{prefix}{unknown[0]}: not a setting (known: {', '.join(sorted(known))})")


def _mapping(value: Any, key: str) -> dict:
    if not isinstance(value, dict):
        raise GatewayConfigError(f"{key}: must be a mapping")
    return value


def _list(value: Any, key: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise GatewayConfigError(f"{key}: must be a list")
    return value


def _integer(value: Any, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise GatewayConfigError(f"{key}: must be a whole number from {low} to {high}")
    return value


def _number(value: Any, key: str, low: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low:
        raise GatewayConfigError(f"{key}: must be a number of at least {low}")
    return float(value)


def _ae_title(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > AE_TITLE_LENGTH or "\\" in value:
        raise GatewayConfigError(f"{key}: an AE title is 1-16 characters, no backslash")
    return value.strip()


def _path(value: Any, key: str, base: Path) -> Path:
    if not isinstance(value, str) or not value:
        raise GatewayConfigError(f"{key}: must be a path")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _existing_file(value: Any, key: str, base: Path) -> Path:
    path = _path(value, key, base)
    if not path.is_file():
        raise GatewayConfigError(f"{key}: no such file")
    return path


def _caller(entry: Any, key: str) -> AllowedCaller:
    entry = _mapping(entry, key)
    _no_unknown(entry, {"ae_title", "addresses"}, f"{key}.")
    networks = []
    for address in _list(entry.get("addresses"), f"{key}.addresses"):
        try:
            networks.append(ipaddress.ip_network(str(address), strict=False))
        except ValueError:
            raise GatewayConfigError(f"{key}.addresses: {address!r} is not an address or network") from None
    if not networks:
        raise GatewayConfigError(f"{key}.addresses: list the addresses or networks it calls from")
    return AllowedCaller(_ae_title(entry.get("ae_title"), f"{key}.ae_title"), tuple(networks))


def _tls(entry: Any, key: str, base: Path, server: bool) -> TlsSettings:
    entry = _mapping(entry, key)
    _no_unknown(entry, {"certificate", "private_key", "ca_certificates"}, f"{key}.")
    settings = TlsSettings(
        certificate=_existing_file(entry["certificate"], f"{key}.certificate", base) if "certificate" in entry
        else None,
        private_key=_existing_file(entry["private_key"], f"{key}.private_key", base) if "private_key" in entry
        else None,
        ca_certificates=_existing_file(entry["ca_certificates"], f"{key}.ca_certificates", base)
        if "ca_certificates" in entry else None)
    if server and (settings.certificate is None or settings.private_key is None):
        raise GatewayConfigError(f"{key}: a listening side needs certificate and private_key")
    if (settings.certificate is None) != (settings.private_key is None):
        raise GatewayConfigError(f"{key}: certificate and private_key go together")
    return settings


def _destination(entry: Any, key: str, base: Path) -> Destination:
    entry = _mapping(entry, key)
    name = entry.get("name")
    if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
        raise GatewayConfigError(f"{key}.name: letters, digits, '-' and '_' (it names a spool folder)")
    try:
        kind = DestinationKind(entry.get("type"))
    except ValueError:
        raise GatewayConfigError(f"{key}.type: one of dicom, stow-rs, folder") from None
    if kind is DestinationKind.DICOM:
        _no_unknown(entry, {"name", "type", "ae_title", "host", "port", "tls"}, f"{key}.")
        return Destination(name, kind, ae_title=_ae_title(entry.get("ae_title"), f"{key}.ae_title"),
                           host=str(entry.get("host", "")) or _missing(f"{key}.host"),
                           port=_integer(entry.get("port"), f"{key}.port", 1, 65535),
                           tls=_tls(entry["tls"], f"{key}.tls", base, server=False) if "tls" in entry else None)
    if kind is DestinationKind.STOW_RS:
        _no_unknown(entry, {"name", "type", "url", "ca_certificates", "token_file"}, f"{key}.")
        url = str(entry.get("url", ""))
        if not url.startswith(("http://", "https://")):
            raise GatewayConfigError(f"{key}.url: an http:// or https:// URL of the STOW-RS service")
        ca = _existing_file(entry["ca_certificates"], f"{key}.ca_certificates", base) \
            if "ca_certificates" in entry else None
        token = _existing_file(entry["token_file"], f"{key}.token_file", base) if "token_file" in entry else None
        return Destination(name, kind, url=url, tls=TlsSettings(ca_certificates=ca), token_file=token)
    _no_unknown(entry, {"name", "type", "path"}, f"{key}.")
    return Destination(name, kind, path=_path(entry.get("path"), f"{key}.path", base))


def _missing(key: str) -> str:
    raise GatewayConfigError(f"{key}: required")


def _pipeline_args(value: Any, base: Path) -> tuple[str, ...]:
    """`pipeline: {strategy: s.yaml, metadata-only: true}` as `--strategy /abs/s.yaml --metadata-only`."""
    options = _mapping(value, "pipeline")
    args: list[str] = []
    for name, setting in options.items():
        flag = "--" + str(name).replace("_", "-")
        if setting is True:
            args.append(flag)
        elif setting is False or setting is None:
            continue
        else:
            text = str(setting)
            if flag in PATH_OPTIONS:
                text = str(_path(text, f"pipeline.{name}", base))
            args += [flag, text]
    return tuple(args)


# Pipeline options that name a file or folder: relative to the configuration file too.
PATH_OPTIONS = {"--strategy", "--key-file", "--text-policy-file", "--pixel-rules", "--ner-model",
                "--easyocr-models", "--clip-model"}
