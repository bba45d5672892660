"""PS3.15 action C on free text: keep the clinical words, drop every identifier."""

from __future__ import annotations

import re

from anonymizer.job import PhiHints
from anonymizer.phi.dates import date_renderings
from anonymizer.phi.patterns import find_patterns

CLEANING_PATTERNS = ("date", "time", "email", "phone", "long digit run")


def _hint_terms(hints: PhiHints) -> list[str]:
    terms = set(hints.names) | set(hints.identifiers) | set(hints.institutions)
    for value in hints.dates:
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


def clean_text(text: str, hints: PhiHints) -> str:
    cleaned = text
    for term in _hint_terms(hints):
        cleaned = re.sub(rf"(?<!\w){re.escape(term)}(?!\w)", "", cleaned, flags=re.IGNORECASE)
    for start, end in reversed(merge_spans((s, e) for _, s, e in find_patterns(cleaned, CLEANING_PATTERNS))):
        cleaned = cleaned[:start] + cleaned[end:]
    return re.sub(r"\s{2,}", " ", cleaned).strip(" ,;:-")
