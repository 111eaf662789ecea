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
# the libraries it drives log too — psycopg's pool warns of each connection the server ended: with nothing
# configured, Python's last-resort handler would print that on the host's stderr. A NullHandler on their
# loggers keeps it there; a host that configures logging still gets their records (they propagate).
for _name in ("psycopg", "transitions"):
    logging.getLogger(_name).addHandler(logging.NullHandler())


def info(event: str, **fields: Any) -> None:
    _emit(logging.INFO, "info", event, fields)


def warning(event: str, **fields: Any) -> None:
    _emit(logging.WARNING, "warning", event, fields)


# one lazy proxy: it follows structlog's configuration as it is at each call, unless the host asked
# structlog to cache loggers on first use (its advice for speed), when it binds once
_structured = structlog.get_logger(LOGGER_NAME)


def _emit(level: int, method: str, event: str, fields: dict[str, Any]) -> None:
    if structlog.is_configured():  # the host (or a test) set structlog up: its processors decide
        getattr(_structured, method)(event, **fields)
    elif stdlib.isEnabledFor(level):
        text = " ".join(f"{key}={value}" for key, value in fields.items())
        stdlib.log(level, "%s %s", event, text, extra={"ijime": {"event": event, **fields}})
