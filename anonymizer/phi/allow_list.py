"""Is this token known to be safe? The curated vocabulary plus technique values with units."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import yaml

# 120 kVp, 200mAs, 5 cm, 12 MHz, 40%, 0.4, x1.5, 1:1, 23/120: measurements and counters.
TECHNIQUE_VALUE = re.compile(
    r"^(?:[xX]?\d{1,3}(?:[.,]\d{1,3})?"
    r"(?:\s?(?:kvp|kv|mas|ma|ms|s|sec|cm|mm|m|hz|khz|mhz|db|%|fps|deg|°|mgy|msv|hu|cm/s|m/s|x))?"
    r"|\d{1,3}[:/]\d{1,4}|[+-]\d{1,3}(?:\.\d)?)$",
    re.IGNORECASE,
)
TOKEN_SPLIT = re.compile(r"[\s,;:=()\[\]{}|]+")


@lru_cache(maxsize=1)
def safe_words() -> frozenset[str]:
    text = resources.files("anonymizer.phi").joinpath("data/allow-list.yaml").read_text()
    groups = yaml.safe_load(text)
    return frozenset(str(word).upper() for words in groups.values() for word in words)


def tokens(text: str) -> list[str]:
    return [t for t in TOKEN_SPLIT.split(text.strip()) if t]


def is_safe_token(token: str) -> bool:
    word = token.strip(".'\"!?*-_").upper()
    if not word:
        return True
    if len(word) == 1:
        return True  # single characters identify no one (and L/R markers are clinical)
    return word in safe_words() or bool(TECHNIQUE_VALUE.match(word)) or splits_into_safe_words(word)


def splits_into_safe_words(word: str, min_part: int = 2) -> bool:
    """PORTABLESUPINE -> PORTABLE + SUPINE: OCR engines sometimes drop the spaces."""
    vocabulary = safe_words()
    reachable = [True] + [False] * len(word)
    for end in range(min_part, len(word) + 1):
        for start in range(0, end - min_part + 1):
            if reachable[start] and word[start:end] in vocabulary:
                reachable[end] = True
                break
    return reachable[-1]


def all_tokens_safe(text: str) -> bool:
    return all(is_safe_token(t) for t in tokens(text))
