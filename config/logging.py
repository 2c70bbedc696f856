"""Logging helpers: CPR numbers are masked before any record is written."""

import logging
import re

# DDMMYY-SSSS or DDMMYYSSSS, not part of a longer number.
CPR_PATTERN = re.compile(r"(?<!\d)([0-3]\d[01]\d\d\d)-?(\d{4})(?!\d)")


def redact_cpr(text: str) -> str:
    """Replace every CPR-shaped number in ``text`` with ``[CPR]``."""
    return CPR_PATTERN.sub("[CPR]", text)


class RedactCprFilter(logging.Filter):
    """Rewrites the record's message so no CPR number leaves the process."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_cpr(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True
