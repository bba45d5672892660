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


def is_file_error(exc: BaseException) -> bool:
    """Whether an exception is one file's failure rather than the run's end. A Rust
    codec's panic (pyo3's PanicException, pylibjpeg-rle on a corrupt RLE frame) is a
    BaseException, not an Exception; it is the file's fault like any decoder error."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"
