"""The canonical JSON encoding that every hash in ijime-flow covers.

Anyone can re-create it with the standard library alone::

    json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

and ``hashlib.sha256`` of those bytes, as hex, is the hash.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from .errors import InvalidData

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(obj: Any) -> str:
    """Keys sorted, no insignificant white space, UTF-8 text as is (not ``\\u`` escapes). One
    encoder made once: ``json.dumps`` with these options would build a new one on every call."""
    return _ENCODER.encode(obj)


def json_time(value: datetime) -> str:
    """A time as every JSON-ready value of ijime-flow carries it (``to_dict``, ``StepInfo``, errors):
    UTC, ISO 8601, with an explicit ``+00:00`` offset (never ``Z``, never the workflow's local offset),
    microseconds only when there are some: ``2019-05-01T01:00:00+00:00`` is 10:00 in Tokyo."""
    return value.astimezone(UTC).isoformat()


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- what the encoding carries on every store ----------------------------------------------------------
MAX_INT = 2**53 - 1
"""Integers are kept within ±(2**53 − 1), the range every JSON reader holds exactly (I-JSON, RFC 7493)."""
MAX_DEPTH = 32
"""How deep lists and objects may nest in recorded data."""
MAX_ID = 128


def check_text(value: str, where: str) -> str:
    """Text every store keeps as it is: valid Unicode (no lone surrogate) and no NUL character (which
    PostgreSQL cannot store). ``InvalidData`` naming ``where`` otherwise."""
    if "\x00" in value:
        raise InvalidData(f"{where}: 文字列に NUL 文字（\\x00）は使えません / text may not contain a NUL character")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidData(f"{where}: 文字化けした文字（単独のサロゲート）があります / the text is not valid"
                              " Unicode (a lone surrogate)") from None
    return value


def check_id(value: object, what: str) -> str:
    """An id given by the caller (a case, a school, an actor, a role, a trigger, a fact): non-empty text of at
    most 128 characters that every store keeps. ``InvalidData`` naming ``what`` otherwise."""
    if type(value) is str and 0 < len(value) <= MAX_ID and value.isascii() and "\x00" not in value \
            and not value.isspace():
        return value  # the common case: a plain ASCII id
    if not isinstance(value, str):
        raise InvalidData(f"{what} は文字列で指定してください / {what} must be text, not {type(value).__name__}")
    if not value.strip() or len(value) > MAX_ID:
        raise InvalidData(f"{what} は1〜{MAX_ID}文字の文字列です / {what} must be non-empty text of at most {MAX_ID}"
                          " characters")
    return check_text(value, what)


def check_int(value: object, what: str) -> int:
    """A whole number within :data:`MAX_INT` (not a bool). ``InvalidData`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidData(f"{what} は整数で指定してください / {what} must be a whole number, not {type(value).__name__}")
    if not -MAX_INT <= value <= MAX_INT:
        raise InvalidData(f"{what} が大きすぎます / {what} is out of range (at most ±{MAX_INT})")
    return value
