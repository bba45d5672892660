"""The text policy: thresholds and word lists of stages 5 and 6, from a YAML file.

The shipped file (anonymizer/phi/data/text-policy.yaml) holds every key; a user's file
(--text-policy-file) overrides any of them. The pipeline makes a run's policy the
active one before its stages (``activate``), in every worker; stages read it through
``text_policy()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml


class TextPolicyError(ValueError):
    """A text-policy file that cannot be used; the message names the key, never a value."""


@dataclass(frozen=True)
class TextPolicy:
    band_fraction: float
    max_ocr_side: int
    min_identifying_characters: int
    header_name_similarity: int
    min_header_identifier_length: int
    extra_identifier_labels: tuple[str, ...]
    extra_safe_words: frozenset[str]
    covering_share: float
    speaking_similarity: int
    speaking_substance: float
    max_growth_heights: float
    legible_confidence: float

    @property
    def extra_labels_pattern(self) -> re.Pattern[str] | None:
        return _labels_pattern(self.extra_identifier_labels)


# (section, key) of the YAML -> field, and the range a value must lie in.
_KEYS = {
    ("border", "band_fraction"): ("band_fraction", float, (0.0, 0.5)),
    ("detection", "max_ocr_side"): ("max_ocr_side", int, (800, 10000)),
    ("reading", "min_identifying_characters"): ("min_identifying_characters", int, (1, 10)),
    ("reading", "header_name_similarity"): ("header_name_similarity", int, (50, 100)),
    ("reading", "min_header_identifier_length"): ("min_header_identifier_length", int, (1, 20)),
    ("reading", "extra_identifier_labels"): ("extra_identifier_labels", list, None),
    ("reading", "extra_safe_words"): ("extra_safe_words", list, None),
    ("box", "covering_share"): ("covering_share", float, (0.0, 1.0)),
    ("box", "speaking_similarity"): ("speaking_similarity", int, (0, 100)),
    ("box", "speaking_substance"): ("speaking_substance", float, (0.0, 1.0)),
    ("painting", "max_growth_heights"): ("max_growth_heights", float, (0.0, 50.0)),
    ("verification", "legible_confidence"): ("legible_confidence", float, (0.0, 1.0)),
}


def shipped_text() -> str:
    return resources.files("anonymizer.phi").joinpath("data/text-policy.yaml").read_text()


def _values(text: str, source: str) -> dict:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        raise TextPolicyError(f"{source}: not valid YAML") from None
    if not isinstance(data, dict):
        raise TextPolicyError(f"{source}: expected sections border, detection, reading, box, painting, verification")
    values = {}
    for section, keys in data.items():
        if not isinstance(keys, dict):
            raise TextPolicyError(f"{source}: section {section} must hold keys")
        for key, value in keys.items():
            if (section, key) not in _KEYS:
                raise TextPolicyError(f"{source}: unknown key {section}.{key}")
            name, kind, bounds = _KEYS[(section, key)]
            if kind is list:
                if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                    raise TextPolicyError(f"{source}: {section}.{key} must be a list of words")
                values[name] = value
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
                raise TextPolicyError(f"{source}: {section}.{key} must be a number")
            if bounds and not bounds[0] <= value <= bounds[1]:
                raise TextPolicyError(f"{source}: {section}.{key} must lie in {bounds[0]}-{bounds[1]}")
            values[name] = kind(value)
    return values


@lru_cache(maxsize=8)
def load_text_policy(path: Path | None = None) -> TextPolicy:
    values = _values(shipped_text(), "shipped text policy")
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TextPolicyError(f"{Path(path).name}: cannot be read ({type(exc).__name__})") from None
        values.update(_values(text, Path(path).name))
    missing = {f.name for f in fields(TextPolicy)} - set(values)
    if missing:
        raise TextPolicyError(f"shipped text policy lacks {', '.join(sorted(missing))}")
    values["extra_identifier_labels"] = tuple(word.strip().upper() for word in values["extra_identifier_labels"])
    values["extra_safe_words"] = frozenset(word.strip().upper() for word in values["extra_safe_words"])
    return TextPolicy(**values)


@lru_cache(maxsize=8)
def _labels_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    if not words:
        return None
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b\s*[:#.]?", re.IGNORECASE)


_active: list[TextPolicy] = []


def activate(path: Path | None) -> None:
    """Make the policy of ``path`` (None: the shipped one) the one stages read."""
    _active[:] = [load_text_policy(path)]


def text_policy() -> TextPolicy:
    if not _active:
        activate(None)
    return _active[0]
