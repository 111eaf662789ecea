"""The canonical JSON encoding that every hash in ijime-flow covers.

Anyone can re-create it with the standard library alone::

    json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

and ``hashlib.sha256`` of those bytes, as hex, is the hash.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(obj: Any) -> str:
    """Keys sorted, no insignificant white space, UTF-8 text as is (not ``\\u`` escapes). One
    encoder made once: ``json.dumps`` with these options would build a new one on every call."""
    return _ENCODER.encode(obj)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
