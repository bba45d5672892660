"""Is this token known to be safe? The curated vocabulary plus technique values with units."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import yaml
from rapidfuzz import fuzz, process

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
    return (word in safe_words() or bool(TECHNIQUE_VALUE.match(word)) or splits_into_safe_words(word)
            or near_safe_word(word))


# OCR misreads small clinical words ("PORTAELE", "SUPENE", "BRECT"); a long token this
# close to one vocabulary word is that word. Header values are matched before this, so
# a patient's own name never reaches it.
FUZZY_MIN_LENGTH = 5
FUZZY_CUTOFF = 80  # one wrong letter in five; surnames tried (BRECHT, PORTER) score <= 73


def near_safe_word(word: str) -> bool:
    if len(word) < FUZZY_MIN_LENGTH:
        return False
    letters = re.sub(r"[^A-Z0-9]", "", word.replace("$", "S"))
    # Same length give or take a letter: a misread, not a longer word (CHESTER is not CHEST).
    matches = process.extract(letters, _long_safe_words(), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=5)
    return any(abs(len(candidate) - len(letters)) <= 1 for candidate, _, _ in matches)


@lru_cache(maxsize=1)
def _long_safe_words() -> tuple[str, ...]:
    return tuple(sorted(re.sub(r"[^A-Z0-9]", "", w) for w in safe_words() if len(w) >= FUZZY_MIN_LENGTH - 1))


VIEW_CODES = frozenset({"AP", "PA", "AX", "LL", "RL", "CC", "ML", "LM", "PD", "FS"})


def splits_into_safe_words(word: str) -> bool:
    """PORTABLESUPINE -> PORTABLE + SUPINE: OCR engines sometimes drop the spaces.

    Pieces must be 3+ letters, hold a digit (T2) or be a view code (PA, AX): with any
    two-letter piece, surnames fall apart into vocabulary (LATIMER = LAT + IM + ER,
    CHESTER = CHEST + ER)."""
    vocabulary = safe_words()
    reachable = [True] + [False] * len(word)
    for end in range(2, len(word) + 1):
        for start in range(0, end - 1):
            piece = word[start:end]
            if len(piece) < 3 and not any(c.isdigit() for c in piece) and piece not in VIEW_CODES:
                continue
            if reachable[start] and piece in vocabulary:
                reachable[end] = True
                break
    return reachable[-1]


def all_tokens_safe(text: str) -> bool:
    return all(is_safe_token(t) for t in tokens(text))
