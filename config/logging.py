"""Logging helpers: CPR numbers are masked before any record is written."""

import logging

# The shared detector (config/cpr_shape.py): the log filter, the citizen pages and the
# admin find the same numbers. Group 1 is DDMMYY, group 2 the serial.
from config.cpr_shape import CPR_SHAPE as CPR_PATTERN  # noqa: F401 - re-exported
from config.cpr_shape import cpr_shapes_redact


def redact_cpr(text: str) -> str:
    """Replace every CPR-shaped number in ``text`` with ``[CPR]``."""
    return cpr_shapes_redact(text)


class RedactCprFilter(logging.Filter):
    """Rewrites the record's message so no CPR number leaves the process."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_cpr(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True
