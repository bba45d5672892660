"""Give each text region a verdict (phi or safe) and a reason that names no value."""

from __future__ import annotations

import re

from anonymizer.job import PhiHints, TextRegion, Verdict
from anonymizer.phi.dates import date_renderings
from anonymizer.phi.patterns import PHI_LABELS, find_patterns

TEXT_POLICIES = ("all", "phi")


def header_match(text: str, hints: PhiHints) -> str | None:
    """Which kind of header value the text contains, if any (exact, case-insensitive)."""
    upper = text.upper()
    squeezed = re.sub(r"\s+", "", upper)
    for kind, values in (("name", hints.names), ("identifier", hints.identifiers),
                         ("institution", hints.institutions)):
        for value in values:
            v = value.upper()
            if re.search(rf"(?<![A-Z0-9]){re.escape(v)}(?![A-Z0-9])", upper):
                return kind
    for value in hints.dates:
        for form in date_renderings(value):
            if form.upper().replace(" ", "") in squeezed:
                return "date"
    return None


def evidence(text: str, hints: PhiHints) -> str | None:
    kind = header_match(text, hints)
    if kind:
        return f"matches a header {kind}"
    if PHI_LABELS.search(text):
        return "identifier label"
    found = find_patterns(text)
    if found:
        return f"{found[0][0]} pattern"
    return None


# One letter or digit identifies no one; markers such as "L" or "R" are clinical.
MIN_IDENTIFYING_CHARACTERS = 2


def classify_region(region: TextRegion, hints: PhiHints, policy: str) -> None:
    reason = evidence(region.text, hints)
    if sum(c.isalnum() for c in region.text) < MIN_IDENTIFYING_CHARACTERS:
        region.verdict, region.reason = Verdict.SAFE, "too short to identify anyone"
    elif reason:
        region.verdict, region.reason = Verdict.PHI, reason
    elif policy == "all":
        region.verdict, region.reason = Verdict.PHI, "text policy all: every text is redacted"
    else:
        region.verdict, region.reason = Verdict.SAFE, "no identifying evidence"
