"""The command line's log handler: whatever a library logs reaches stderr only with every
value-like run of text masked.

The pipeline never logs a header value, but the libraries under it may (a decoder's
warning quoting a UID, an error quoting a name). The filter masks quoted text, runs of
four or more digits (IDs, dates, UIDs) and byte strings before a record is printed.
"""

from __future__ import annotations

import logging
import re

_VALUE_LIKE = re.compile(r"""b?'[^']*'|b?"[^"]*"|\d[\d.^-]{3,}""")


def mask_values(text: str) -> str:
    return _VALUE_LIKE.sub("***", text)


class PhiFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_values(record.getMessage())
        record.args = ()
        record.exc_info = record.exc_text = record.stack_info = None  # tracebacks quote values too
        return True


def cli_log_handler(verbose: bool) -> logging.Handler:
    handler = logging.StreamHandler()
    handler.setLevel(logging.INFO if verbose else logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(name)s: %(message)s"))
    handler.addFilter(PhiFilter())
    return handler
