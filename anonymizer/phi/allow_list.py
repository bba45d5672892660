"""Is this token known to be safe? The curated vocabulary plus technique values with units."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import yaml
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from anonymizer.text_policy import text_policy

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


@lru_cache(maxsize=1)
def common_names() -> frozenset[str]:
    text = resources.files("anonymizer.phi").joinpath("data/common-names.txt").read_text()
    return frozenset(line.strip().upper() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def tokens(text: str) -> list[str]:
    return [t for t in TOKEN_SPLIT.split(text.strip()) if t]


def normalised_word(token: str) -> str:
    return token.strip(".'\"!?*-_").upper()


def is_safe_token(token: str, confirmed: frozenset[str] = frozenset()) -> bool:
    """``confirmed``: words that more than one reading read exactly so; they are what is
    written, not misreads, and must be vocabulary as they stand ("SCOTT" read twice is
    no misread "SCOUT")."""
    word = normalised_word(token)
    if not word:
        return True
    if len(word) == 1:
        return True  # single characters identify no one (and L/R markers are clinical)
    # A word read exactly as a common name is that name, not a misread clinical word.
    misread_possible = word not in confirmed and word not in common_names()
    return (word in safe_words() or word in text_policy().extra_safe_words
            or bool(TECHNIQUE_VALUE.match(word)) or _safe_compound(word, confirmed)
            or splits_into_safe_words(word, misread_possible) or misread_possible and near_safe_word(word))


def _safe_compound(word: str, confirmed: frozenset[str]) -> bool:
    """PET/CT, SPECT/CT, PA/LAT, T1/T2: vocabulary words joined by slashes. Every part
    must hold a letter: slashes between numbers are dates, and only patterns judge them."""
    parts = word.split("/")
    return len(parts) > 1 and all(
        any(c.isalpha() for c in part) and is_safe_token(part, confirmed) for part in parts)


# OCR misreads small clinical words ("PORTAELE", "SUPENE", "BRECT"); a long token of the
# same length as one vocabulary word and a letter or two apart from it is that word.
# Header values are matched before this, so a patient's own name never reaches it.
# Same length only: OCR swaps letters, while a name that adds one to a word (WRIGHT,
# HEARST, UPRIGHTS) or shifts it (CARTER/ARTERY) is a different word.
FUZZY_MIN_LENGTH = 5
LONG_WORD = 8  # from here two substituted letters are still a misread (PORTAELE)


def near_safe_word(word: str) -> bool:
    if len(word) < FUZZY_MIN_LENGTH:
        return False
    letters = re.sub(r"[^A-Z0-9]", "", word.replace("$", "S"))
    allowed = 2 if len(letters) >= LONG_WORD else 1
    candidates = _long_safe_words_by_length().get(len(letters), ())
    return process.extractOne(letters, candidates, scorer=Levenshtein.distance, score_cutoff=allowed) is not None


@lru_cache(maxsize=1)
def _long_safe_words_by_length() -> dict[int, tuple[str, ...]]:
    by_length: dict[int, list[str]] = {}
    for word in _long_safe_words():
        by_length.setdefault(len(word), []).append(word)
    return {length: tuple(words) for length, words in by_length.items()}


@lru_cache(maxsize=1)
def _long_safe_words() -> tuple[str, ...]:
    return tuple(sorted(re.sub(r"[^A-Z0-9]", "", w) for w in safe_words() if len(w) >= FUZZY_MIN_LENGTH - 1))


VIEW_CODES = frozenset({"AP", "PA", "AX", "LL", "RL", "CC", "ML", "LM", "PD", "FS"})


def splits_into_safe_words(word: str, misread_possible: bool = True) -> bool:
    """PORTABLESUPINE -> PORTABLE + SUPINE: OCR engines sometimes drop the spaces.

    Pieces must be 3+ letters, hold a digit (T2) or be a view code (PA, AX): with any
    two-letter piece, surnames fall apart into vocabulary (LATIMER = LAT + IM + ER,
    CHESTER = CHEST + ER). A piece of 5+ letters may also be a misread vocabulary word
    by near_safe_word's rule (LATDECUE = LAT + DECUB), as a whole token may."""
    vocabulary = safe_words()
    reachable = [True] + [False] * len(word)
    for end in range(2, len(word) + 1):
        for start in range(0, end - 1):
            piece = word[start:end]
            if not reachable[start]:
                continue
            if len(piece) < 3 and not any(c.isdigit() for c in piece) and piece not in VIEW_CODES:
                continue
            if piece in vocabulary or misread_possible and (start > 0 or end < len(word)) and near_safe_word(piece):
                reachable[end] = True
                break
    return reachable[-1]


# MR and CT consoles write a parameter's name before its value: "TR 4500", "TI 2200",
# "mAs 1200". A number of four digits is not safe alone (a year is four digits), but it
# is the value of the parameter word just before it.
PARAMETER_WORDS = frozenset({"TR", "TE", "TI", "ETL", "MAS", "MA", "KV", "KVP", "WW", "WL", "W", "L", "C",
                             "FOV", "DLP", "CTDI", "CTDIVOL", "DOSE", "BW", "NEX", "MATRIX"})
PARAMETER_VALUE = re.compile(r"^\d{4}(?:[.,]\d{1,2})?$")


def all_tokens_safe(text: str, confirmed: frozenset[str] = frozenset()) -> bool:
    words = tokens(text)

    def parameter_value(index: int) -> bool:
        return (index > 0 and normalised_word(words[index - 1]) in PARAMETER_WORDS
                and bool(PARAMETER_VALUE.match(words[index])))

    return all(is_safe_token(word, confirmed) or parameter_value(index) for index, word in enumerate(words))
