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
