"""PS3.15 action C on free text: keep the clinical words, drop every identifier."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from anonymizer.job import PhiHints
from anonymizer.phi.dates import date_renderings
from anonymizer.phi.patterns import find_patterns

CLEANING_PATTERNS = ("date", "time", "email", "phone", "long digit run")
CLEANED_TEXTS_PER_HINT_SET = 256


def _hint_terms(names, identifiers, institutions, dates) -> list[str]:
    terms = set(names) | set(identifiers) | set(institutions)
    for value in dates:
        terms |= date_renderings(value)
    # Longest first, so "SMITH JOHN" goes before "SMITH" leaves "JOHN" behind.
    return sorted((t for t in terms if t.strip()), key=len, reverse=True)


def merge_spans(spans) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def text_cleaner(hints: PhiHints, patterns: bool = True) -> Callable[[str], str]:
    """A cleaner for one file's hints. The files of one series or study carry the same
    identifiers, so cleaners are kept for the last few hint sets (in memory only).
    ``patterns``: also strip what looks like a date, a phone number or a long digit run
    (free text); off, only the hints go (a device's serial number is a digit run)."""
    return _cached_cleaner(frozenset(hints.names), frozenset(hints.identifiers),
                           frozenset(hints.institutions), frozenset(hints.dates), patterns)


@lru_cache(maxsize=64)
def _cached_cleaner(names, identifiers, institutions, dates, patterns: bool = True) -> Callable[[str], str]:
    terms = _hint_terms(names, identifiers, institutions, dates)
    lowered = [(term, term.lower()) for term in terms]

    # The files of a series repeat their descriptors (StudyDescription, SeriesDescription,
    # protocol names): each distinct text is cleaned once per hint set.
    @lru_cache(maxsize=CLEANED_TEXTS_PER_HINT_SET)
    def clean(text: str) -> str:
        # A substring test first: most free text holds none of the terms, and
        # compiling hundreds of date renderings per file would dominate stage 3.
        cleaned = text
        folded = cleaned.lower()
        for term, low in lowered:
            if low in folded:
                cleaned = re.sub(rf"(?<!\w){re.escape(term)}(?!\w)", "", cleaned, flags=re.IGNORECASE)
                folded = cleaned.lower()
        return _strip_patterns(cleaned) if patterns else _tidy(cleaned)

    return clean


def clean_text(text: str, hints: PhiHints) -> str:
    return text_cleaner(hints)(text)


def _strip_patterns(cleaned: str) -> str:
    for start, end in reversed(merge_spans((s, e) for _, s, e in find_patterns(cleaned, CLEANING_PATTERNS))):
        cleaned = cleaned[:start] + cleaned[end:]
    return _tidy(cleaned)


def _tidy(cleaned: str) -> str:
    """What a removal leaves: doubled spaces and dangling separators."""
    return re.sub(r"\s{2,}", " ", cleaned).strip(" ,;:-")
