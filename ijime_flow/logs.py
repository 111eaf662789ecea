"""The library's log: structured records (ids, triggers, states — never a fact's value or free text) that
reach the host only when it asks for them. A library never writes to the host's stdout or stderr.

- A host that configures nothing sees nothing: records go to the standard ``logging`` logger
  ``ijime_flow``, which has a :class:`logging.NullHandler` (so Python's last-resort handler stays silent)
  and, below WARNING, is not even formatted.
- A host that configures ``logging`` (``logging.basicConfig(level=logging.INFO)``, its own handlers) gets
  each record on the ``ijime_flow`` logger: the message ``case.fired case_id=… trigger=…`` and the fields
  as ``record.ijime`` (a dict) for a structured formatter.
- A host that configures structlog gets the records through its own processors, as structlog events
  (structlog's testing helper ``capture_logs`` too).
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

LOGGER_NAME = "ijime_flow"
stdlib = logging.getLogger(LOGGER_NAME)
stdlib.addHandler(logging.NullHandler())


def info(event: str, **fields: Any) -> None:
    _emit(logging.INFO, "info", event, fields)


def warning(event: str, **fields: Any) -> None:
    _emit(logging.WARNING, "warning", event, fields)


def _emit(level: int, method: str, event: str, fields: dict[str, Any]) -> None:
    if structlog.is_configured():  # the host (or a test) set structlog up: its processors decide
        getattr(structlog.get_logger(LOGGER_NAME), method)(event, **fields)
    elif stdlib.isEnabledFor(level):
        text = " ".join(f"{key}={value}" for key, value in fields.items())
        stdlib.log(level, "%s %s", event, text, extra={"ijime": {"event": event, **fields}})
