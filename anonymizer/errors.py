"""Errors that end one file's run with a reason a user can act on.

Every message here is shown to the user and written to reports, so it must never
carry an identifying value from the file: say what is wrong, not what the value was.
"""


class AnonymizerError(Exception):
    """A file cannot be de-identified; ``reason`` is one line, free of PHI."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class InvalidInput(AnonymizerError):
    """The input is unreadable, unsupported or inconsistent."""


class NonMedicalImage(AnonymizerError):
    """Stage 1 judged the image not medical; nothing is written."""


class UnsafeToWrite(AnonymizerError):
    """A privacy stage could not do its job, so the file is not written as clean."""


class Skipped(AnonymizerError):
    """Not an image to de-identify (a DICOMDIR index): noted and passed over."""


class InternalError(AnonymizerError):
    """A stage failed in a way no input should cause: a defect of this tool."""


class OutputNotWritten(AnonymizerError):
    """The output folder refused the file (full, read-only); the input is fine."""
