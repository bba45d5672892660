"""Give each text region a verdict (phi or safe) and a reason that names no value.

The reading rules of anonymizer/text_rules.py, in their order: too short; evidence,
strongest first (a fuzzy match with a header value captured before scrubbing, an
identifier label, a PHI pattern, an optional NER model); --text-policy all; clinical
vocabulary (every token known safe: allow-list, technique values with units, short
numbers); else unknown words. Then readings-combined judges the box from all of them.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz

from anonymizer.job import Box, PhiHints, TextRegion, Verdict
from anonymizer.phi.allow_list import all_tokens_safe, common_names, is_safe_token, normalised_word, tokens
from anonymizer.phi.fuzzy import header_match
from anonymizer.phi.patterns import PHI_LABELS, find_patterns
from anonymizer.text_policy import text_policy
from anonymizer.text_rules import HEADER_REASONS, PATTERN_REASONS, Reason, decide


def alnum_count(text: str) -> int:
    """Letters and digits: what a reading has that could identify anyone."""
    return sum(c.isalnum() for c in text)


def alnum_upper(text: str) -> str:
    """A reading's letters and digits, upper case: what two readings are compared by."""
    return "".join(c for c in text.upper() if c.isalnum())


def evidence(text: str, hints: PhiHints, ner_model: Path | None = None) -> Reason | None:
    kind = header_match(text, hints)
    if kind:
        return HEADER_REASONS[kind]
    extra_labels = text_policy().extra_labels_pattern
    if PHI_LABELS.search(text) or extra_labels is not None and extra_labels.search(text):
        return Reason.IDENTIFIER_LABEL
    found = find_patterns(text)
    if found:
        return PATTERN_REASONS[found[0][0]]
    if ner_model is not None:
        from anonymizer.phi.ner import identifying_entities

        if identifying_entities(text, ner_model):
            return Reason.NER_ENTITY
    return None


def classify_text(text: str, hints: PhiHints, policy: str, ner_model: Path | None = None,
                  confirmed: frozenset[str] = frozenset()) -> tuple[Verdict, Reason]:
    """``confirmed``: words read exactly so by more than one reading of the region, which
    count as vocabulary only as they stand, never as a misread of a vocabulary word."""
    # One letter or digit identifies no one; markers such as "L" or "R" are clinical.
    if alnum_count(text) < text_policy().min_identifying_characters:
        return Verdict.SAFE, Reason.TOO_SHORT
    reason = evidence(text, hints, ner_model)
    if reason:
        return Verdict.PHI, reason
    if policy == "all":
        return Verdict.PHI, Reason.POLICY_ALL
    if all(alnum_count(token) <= 1 for token in tokens(text)):
        # Letters one by one ("S e", "I m:T:") are what a re-read makes of texture or of
        # an ID it cannot read: no word, so no weight against another reading's words.
        return Verdict.SAFE, Reason.TOO_SHORT
    if all_tokens_safe(text, confirmed):
        return Verdict.SAFE, Reason.CLINICAL_VOCABULARY
    return Verdict.PHI, Reason.UNRECOGNISED


def classify_region(region: TextRegion, hints: PhiHints, policy: str, ner_model: Path | None = None) -> None:
    """Every engine's reading counts: evidence in any reading makes the box PHI. It is safe
    only when each substantial reading is covered by some wholly safe reading (PP-OCR
    drops spaces that Tesseract keeps, and one engine garbles what the other reads
    right); safe readings cover the columns of their own boxes. So Tesseract's word boxes
    "CHEST" and "PA" speak for PP-OCR's "CHeT PA" over both, but "PORTABLE" does not
    speak for the "SMITH" beside it."""
    boxed = _readings_with_boxes(region)
    confirmed = _words_read_twice([text for _, text in boxed])
    verdicts = [(classify_text(text, hints, policy, ner_model, confirmed), box, text) for box, text in boxed]
    evidence_found = [v for v, _, _ in verdicts if v[0] is Verdict.PHI and v[1].evidence]
    if evidence_found:
        decide(region, *evidence_found[0], by="readings-combined")
        return
    # A reading too short to identify says nothing when another engine read more.
    substantial = [v for v in verdicts if v[0][1] is not Reason.TOO_SHORT] or verdicts
    safe = [v for v in substantial if v[0][0] is Verdict.SAFE]
    unsafe = [v for v in substantial if v[0][0] is not Verdict.SAFE]
    # Readings that agree on a word one letter from vocabulary ("PARKER" read twice, ~
    # MARKER) read what is written, a name more likely than a misread, and no other
    # reading speaks for it ("FARKER" is as near MARKER). Garble they agree on that no
    # vocabulary word is near ("CETPA" for CHEST PA) is spoken for by a reading like it.
    agreed_unknown = frozenset(word for word in confirmed if not is_safe_token(word, confirmed))
    near_vocabulary = any(is_safe_token(word) for word in agreed_unknown)
    # A reading with a common name in it, exactly ("PARKER" beside another engine's
    # "MARKER"), is not spoken for by any other reading: which of them read right, the
    # pixels do not say, and the name is the one that identifies.
    names_read = any(normalised_word(token) in common_names() for _, _, text in unsafe for token in tokens(text))
    if safe and not near_vocabulary and not names_read and all(
            _spoken_for(box, text, safe, agreed_unknown) for _, box, text in unsafe):
        decide(region, *safe[0][0], by="readings-combined")
        return
    decide(region, *unsafe[0][0], by="readings-combined")


def _words_read_twice(readings: list[str]) -> frozenset[str]:
    """Words that two or more readings of the region (engines, re-reads) read exactly
    alike. OCR misreads small clinical words one letter off ("SUPENE"), and the allow-list
    forgives that; but two readings that agree on a word one letter from a vocabulary
    word have read what is written there: a name (SCOTT, BLAIR, NORMAN), not SCOUT,
    FLAIR or NORMAL."""
    counts = Counter(word for text in readings for word in {normalised_word(token) for token in tokens(text)})
    return frozenset(word for word, count in counts.items() if count > 1)


# A word that readings agree on and that is not vocabulary as it stands is what is
# written; a safe reading speaks for it only where it read something like it: garble of
# the same text ("CETPA" twice, "CHEST PA" once), or a word of it. A re-read that made
# short numbers and stray signs of a name ("213{0]0] €" for BROOKS, which three readings
# agreed on) is safe in itself, and says nothing about the name. A reading nobody
# confirmed (garble, stray marks) is spoken for by any safe reading over its columns.
# How alike "like it" is: the text policy's box.speaking_similarity.


def _spoken_for(box: Box, text: str, safe: list[tuple[tuple[Verdict, Reason], Box, str]],
                agreed_unknown: frozenset[str]) -> bool:
    """``agreed_unknown``: words readings agree on that are not vocabulary as they stand."""
    holds_agreed = any(normalised_word(token) in agreed_unknown for token in tokens(text))
    policy = text_policy()
    characters = alnum_upper(text)
    speaking = [(safe_box, safe_text) for _, safe_box, safe_text in safe if box.intersection_area(safe_box) and (
        not holds_agreed or fuzz.partial_ratio(characters, alnum_upper(safe_text)) >= policy.speaking_similarity)]
    # Readings that hold far fewer characters than this one (stray signs and short
    # numbers of a re-read) did not read what this one read, whatever columns they span.
    substance = sum(alnum_count(safe_text) for _, safe_text in speaking)
    return substance >= policy.speaking_substance * alnum_count(text) and _covered(box, [b for b, _ in speaking])


def _covered(box: Box, safe_boxes: list[Box]) -> bool:
    """Whether safe boxes together span the text policy's box.covering_share of the box's
    width: engines' boxes of the same text differ by a few pixels at either end, and the
    gaps between word boxes are spaces."""
    columns = np.zeros(max(box.width, 1), dtype=bool)
    for safe in safe_boxes:
        columns[max(safe.left - box.left, 0):max(safe.right - box.left, 0)] = True
    return columns.mean() >= text_policy().covering_share


def _readings_with_boxes(region: TextRegion) -> list[tuple[Box, str]]:
    """Each reading with the box it was read in: the merged engine boxes first (``parts``
    and ``readings`` are built side by side by the merge), then readings of the whole
    region (stage 5 reads an unknown box again, enlarged)."""
    readings = region.readings or (region.text,)
    parts = region.parts[:len(readings)]
    return list(parts) + [(region.box, text) for text in readings[len(parts):]]
