"""The rules of stages 5 and 6, in the order they decide, and the reasons they give.

Every verdict on a text region is set through ``decide``, by a reason, and every reason
belongs to exactly one rule below. ``region.trace`` keeps each decision in turn (rule,
verdict, reason), so the last entry says why a box was painted, kept or held; the
README's table of rules is this list (a test keeps them in step).

Stage 5 first judges each reading of a box on its own (the "reading" rules, first match
wins), then the box from all its readings, then the boxes of a frame together. Stage 6
paints or holds what stage 5 made PHI.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from anonymizer.job import TextRegion, Verdict


@dataclass(frozen=True)
class Rule:
    name: str
    stage: str  # "5: reading", "5: box", "5: frame", "6"
    purpose: str


RULES: tuple[Rule, ...] = (
    Rule("too-short", "5: reading",
         "one character, or letters one by one, identifies no one (L and R markers are clinical)"),
    Rule("header-value", "5: reading", "a name, ID, date or institution of this file's header, fuzzily matched"),
    Rule("identifier-label", "5: reading", "a label that announces an identifier (NAME:, DOB, MRN, AGE, REF, Dr.)"),
    Rule("identifier-pattern", "5: reading", "a date, time, age, phone, e-mail, long digit run or ID-like token"),
    Rule("ner", "5: reading", "an optional NER model finds a person, place or organisation"),
    Rule("policy-all", "5: reading", "--text-policy all: every text is an identifier"),
    Rule("clinical-vocabulary", "5: reading", "every word is clinical vocabulary, a technique value or a short number"),
    Rule("unknown-words", "5: reading", "anything else: words no list knows (a name, or a misread)"),
    Rule("readings-combined", "5: box",
         "evidence in any reading decides; else safe readings must cover every other one"),
    Rule("not-text", "5: box", "at most one character read again on the enlarged box: a shape, not text"),
    Rule("unread-block-line", "5: frame", "an unread line of ink next to an identifier line of a block"),
    Rule("garbled-block-line", "5: frame", "a garbled line next to an identifier line, clinical only on a re-read"),
    Rule("unknown-block-line", "5: frame",
         "unknown words next to an identifier line of a block: identifiers wherever the block lies"),
    Rule("label-alone", "6", "an identifier label with nothing after it to paint"),
    Rule("reviewer", "6", "a person decided the held box (medical-anonymizer review)"),
)
RULE_NAMES = {rule.name for rule in RULES}


class Reason(str, Enum):
    """Why a region has its verdict; the text names no value. ``evidence``: a PHI reason
    that rests on something read (not on a default)."""

    TOO_SHORT = "too short to identify anyone"
    HEADER_NAME = "matches a header name"
    HEADER_IDENTIFIER = "matches a header identifier"
    HEADER_DATE = "matches a header date"
    HEADER_INSTITUTION = "matches a header institution"
    IDENTIFIER_LABEL = "identifier label"
    DATE_PATTERN = "date pattern"
    TIME_PATTERN = "time pattern"
    AGE_PATTERN = "age pattern"
    EMAIL_PATTERN = "email pattern"
    PHONE_PATTERN = "phone pattern"
    DIGIT_RUN_PATTERN = "long digit run pattern"
    ID_LIKE_PATTERN = "id-like token pattern"
    NER_ENTITY = "an NER model found a person, place or organisation"
    POLICY_ALL = "text policy all: every text is redacted"
    CLINICAL_VOCABULARY = "clinical or technical vocabulary"
    UNRECOGNISED = "unrecognised words (redacted unless known safe)"
    NOT_TEXT = "not text: at most one character read again on the enlarged box"
    UNREAD_LINE = "unread line in a block of identifier lines"
    GARBLED_LINE = "line in a block of identifier lines that only a re-read made clinical"
    BLOCK_LINE = "unknown words in a block of identifier lines"
    LABEL_ALONE = "an identifier label alone, nothing after it to paint"
    REVIEWER_REDACT = "a reviewer decided to redact it"

    @property
    def rule(self) -> str:
        return _RULE_OF[self]

    @property
    def evidence(self) -> bool:
        """A PHI reason resting on what was read; unknown words and --text-policy all are
        PHI by default."""
        return self not in (Reason.UNRECOGNISED, Reason.POLICY_ALL) and self not in SAFE_REASONS


SAFE_REASONS = frozenset({Reason.TOO_SHORT, Reason.CLINICAL_VOCABULARY, Reason.NOT_TEXT, Reason.LABEL_ALONE})
_RULE_OF = {
    Reason.TOO_SHORT: "too-short",
    Reason.HEADER_NAME: "header-value", Reason.HEADER_IDENTIFIER: "header-value",
    Reason.HEADER_DATE: "header-value", Reason.HEADER_INSTITUTION: "header-value",
    Reason.IDENTIFIER_LABEL: "identifier-label",
    Reason.DATE_PATTERN: "identifier-pattern", Reason.TIME_PATTERN: "identifier-pattern",
    Reason.AGE_PATTERN: "identifier-pattern", Reason.EMAIL_PATTERN: "identifier-pattern",
    Reason.PHONE_PATTERN: "identifier-pattern", Reason.DIGIT_RUN_PATTERN: "identifier-pattern",
    Reason.ID_LIKE_PATTERN: "identifier-pattern",
    Reason.NER_ENTITY: "ner",
    Reason.POLICY_ALL: "policy-all",
    Reason.CLINICAL_VOCABULARY: "clinical-vocabulary",
    Reason.UNRECOGNISED: "unknown-words",
    Reason.NOT_TEXT: "not-text",
    Reason.UNREAD_LINE: "unread-block-line",
    Reason.GARBLED_LINE: "garbled-block-line",
    Reason.BLOCK_LINE: "unknown-block-line",
    Reason.LABEL_ALONE: "label-alone",
    Reason.REVIEWER_REDACT: "reviewer",
}
HEADER_REASONS = {"name": Reason.HEADER_NAME, "identifier": Reason.HEADER_IDENTIFIER,
                  "date": Reason.HEADER_DATE, "institution": Reason.HEADER_INSTITUTION}
PATTERN_REASONS = {"date": Reason.DATE_PATTERN, "time": Reason.TIME_PATTERN, "age": Reason.AGE_PATTERN,
                   "email": Reason.EMAIL_PATTERN, "phone": Reason.PHONE_PATTERN,
                   "long digit run": Reason.DIGIT_RUN_PATTERN, "id-like token": Reason.ID_LIKE_PATTERN}


def decide(region: TextRegion, verdict: Verdict, reason: Reason, by: str | None = None) -> None:
    """Set the region's verdict and reason, and trace which rule decided (``by``: a box or
    frame rule that adopts a reading rule's reason, as readings-combined does)."""
    region.verdict, region.reason = verdict, reason
    region.trace.append((by or reason.rule, verdict, reason))


def rules_table() -> str:
    """The README's table of rules, in their order."""
    rows = ["| # | rule | stage | purpose | reasons |", "| --- | --- | --- | --- | --- |"]
    for number, rule in enumerate(RULES, 1):
        reasons = "; ".join(f'"{reason.value}"' for reason in Reason if reason.rule == rule.name) or "-"
        rows.append(f"| {number} | `{rule.name}` | {rule.stage} | {rule.purpose} | {reasons} |")
    return "\n".join(rows)
