"""Keyed, deterministic mappings: the same key and value give the same output anywhere.

Every replacement derives from HMAC-SHA256(project key, purpose + value), so batches,
workers and Spark executors need no shared state, and re-runs reproduce their output.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_ENV = "ANONYMIZER_KEY"
KEY_FILE_ENV = "ANONYMIZER_KEY_FILE"

# Date offsets move every date of one patient back by 1 to 3 years (whole days), so
# intervals within the patient are kept and the day of the week shifts too.
MIN_OFFSET_DAYS = 365
OFFSET_SPAN_DAYS = 730


WORKER_KEY_ENV = "ANONYMIZER_WORKER_KEY"


class ProjectKey(bytes):
    """The project key: never in a repr, and never in a pickle.

    Batch workers and Spark executors receive the run's configuration pickled. A pickle
    of the key holds only its fingerprint; the receiving process takes the key from its
    environment, which it inherited from this one (export_key sets it before any worker
    starts) or which a cluster's executors are given (ANONYMIZER_KEY or
    ANONYMIZER_KEY_FILE), and checks the fingerprint."""

    def __repr__(self) -> str:
        return "ProjectKey(<hidden>)"

    __str__ = __repr__

    def fingerprint(self) -> str:
        return digest(self, "fingerprint", "").hex()[:16]

    def __reduce__(self):
        export_key(self)
        return _key_of_this_process, (self.fingerprint(),)


def export_key(key: bytes) -> None:
    """Make the key available to processes started from here on (workers, Spark's JVM)."""
    os.environ[WORKER_KEY_ENV] = bytes(key).hex()


def _key_of_this_process(fingerprint: str) -> ProjectKey:
    if os.environ.get(WORKER_KEY_ENV):
        key = ProjectKey(bytes.fromhex(os.environ[WORKER_KEY_ENV]))
    elif os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV):
        key = ProjectKey(load_key(None)[0])
    else:
        raise RuntimeError("the project key is not available in this worker: set ANONYMIZER_KEY or "
                           "ANONYMIZER_KEY_FILE where it runs")
    if key.fingerprint() != fingerprint:
        raise RuntimeError("this worker's project key is not the run's (ANONYMIZER_KEY or ANONYMIZER_KEY_FILE differ)")
    return key


def digest(key: bytes, purpose: str, value: str) -> bytes:
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()


def keyed_uid(key: bytes, original: str) -> str:
    """A UID under the 2.25 root (PS3.5 B.2): the decimal of a 128-bit integer."""
    number = int.from_bytes(digest(key, "uid", original.strip())[:16], "big")
    return f"2.25.{number}"


def pseudonym(key: bytes, patient_id: str, prefix: str = "ANON") -> str:
    """Short pseudonymous ID; 12 base-32 characters give 60 bits, ample against collisions."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    number = int.from_bytes(digest(key, "patient", patient_id.strip())[:8], "big")
    chars = []
    for _ in range(12):
        number, rest = divmod(number, 32)
        chars.append(alphabet[rest])
    return f"{prefix}{''.join(chars)}"


def date_offset_days(key: bytes, patient_id: str) -> int:
    number = int.from_bytes(digest(key, "date-offset", patient_id.strip())[:4], "big")
    return -(MIN_OFFSET_DAYS + number % OFFSET_SPAN_DAYS)


def load_key(key_file: Path | None) -> tuple[bytes, str | None]:
    """The project key and, when none was given, a warning that re-runs will not match."""
    path = key_file or (Path(os.environ[KEY_FILE_ENV]) if os.environ.get(KEY_FILE_ENV) else None)
    if path is not None:
        data = path.read_bytes().strip()
        if len(data) < 16:
            raise ValueError(f"key file {path.name} holds fewer than 16 bytes")
        return data, None
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV].encode("utf-8"), None
    return secrets.token_bytes(32), (
        "no project key (--key-file or ANONYMIZER_KEY): a random key is used, "
        "so UIDs, pseudonyms and date shifts will differ on a re-run"
    )
