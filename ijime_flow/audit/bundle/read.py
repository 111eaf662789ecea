"""Reading a bundle file: its shape checked line by line, nothing verified (see :func:`read_bundle`)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ...version import __version__
from .format import _GROUPS, BUNDLE_FORMAT, BUNDLE_KIND, Bundle, BundleError, BundleEvent, BundleProof


# -- reading --------------------------------------------------------------------------------------------
def read_bundle(path: Path) -> Bundle:
    """Read a bundle file and check its shape (not its content: that is :func:`load_bundle` and
    ``verify``). Every problem is a :class:`BundleError` naming the file and line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BundleError(path, None, f"cannot read it ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(path, raw.count(b"\n", 0, exc.start) + 1, "not UTF-8 text") from None
    lines = text.removeprefix("\ufeff").split("\n")  # "\n" only: U+2028 and friends may sit inside strings
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise BundleError(path, None, "the file is empty (no header)")
    reader = _Reader(path)
    for number, line in enumerate(lines, start=1):
        reader.take(number, line)
    return reader.finish()


# the keys each kind of line has in format 1 (``generator`` is informative, the only optional one)
_KEYS = {BUNDLE_KIND: frozenset({"kind", "format", "case_id", "exported_at", "cases", "events", "proofs", "generator",
                                   "withheld", "outside"}),
         "definition": frozenset({"kind", "sha256", "text"}),
         "event": frozenset({"kind", "case_id", "seq", "position", "body"}),
         "proof": frozenset({"kind", "case_id", "seq", "inclusion"}),
         "key": frozenset({"kind", "kid", "owner", "key"})}


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.header: dict[str, Any] = {}
        self.group = -1  # index in _GROUPS of the last group seen
        self.definitions: dict[str, str] = {}
        self.events: list[BundleEvent] = []
        self.proofs: list[BundleProof] = []
        self.keys: dict[str, tuple[str, bytes]] = {}
        self.last_seq: dict[str, int] = {}
        self.last_position = 0

    def fail(self, line: int | None, detail: str) -> BundleError:
        return BundleError(self.path, line, detail)

    def take(self, number: int, line: str) -> None:
        if not line.strip():
            raise self.fail(number, "an empty line (each line must hold one JSON object)")
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise self.fail(number, f"not JSON, the line is cut or damaged ({exc})") from None
        except RecursionError:
            raise self.fail(number, "not usable JSON (nested too deeply)") from None
        if not isinstance(obj, dict):
            raise self.fail(number, f"a line must hold a JSON object, not {type(obj).__name__}")
        kind = obj.get("kind")
        allowed = _KEYS.get(kind) if isinstance(kind, str) else None  # (an unhashable kind is refused below)
        if allowed is not None and set(obj) - allowed:
            unknown = ", ".join(repr(k)[:40] for k in sorted(set(obj) - allowed))
            raise self.fail(number, f"unknown key(s) {unknown} on a {kind} line (format {BUNDLE_FORMAT} has"
                                    f" {', '.join(sorted(allowed))})")
        if number == 1:
            self.take_header(obj)
            return
        if kind == BUNDLE_KIND:
            raise self.fail(number, "a second header")
        if kind not in _GROUPS:
            raise self.fail(number, f"unknown kind {kind!r} (expected one of {', '.join(_GROUPS)})")
        group = _GROUPS.index(str(kind))
        if group < self.group:
            raise self.fail(number, f"a {kind} line after the {_GROUPS[self.group]} lines (the order is header,"
                                    " definitions, events, proofs, keys)")
        self.group = group
        if kind == "definition":
            self.take_definition(number, obj)
        elif kind == "event":
            self.take_event(number, obj)
        elif kind == "proof":
            self.take_proof(number, obj)
        else:
            self.take_key(number, obj)

    def take_header(self, obj: dict[str, Any]) -> None:
        if obj.get("kind") != BUNDLE_KIND:
            raise self.fail(1, f"the header is missing: line 1 must be {{\"kind\": \"{BUNDLE_KIND}\", ...}}, found"
                               f" kind {obj.get('kind')!r}")
        fmt = obj.get("format")
        if type(fmt) is not int or fmt != BUNDLE_FORMAT:
            raise self.fail(1, f"bundle format {fmt!r} is not supported (this ijime-flow {__version__} reads format"
                               f" {BUNDLE_FORMAT})")
        self.need(1, obj, "case_id", str)
        cases = self.need(1, obj, "cases", list)
        if not cases or not all(isinstance(c, str) and c for c in cases) or len(set(cases)) != len(cases):
            raise self.fail(1, "'cases' must list the bundle's case ids, each once")
        if obj["case_id"] not in cases:
            raise self.fail(1, f"the main case {obj['case_id']} is not in 'cases'")
        for count in ("events", "proofs"):
            value = self.need(1, obj, count, int)
            if isinstance(value, bool) or value < 0:
                raise self.fail(1, f"'{count}' must be a count")
        stamp = self.need(1, obj, "exported_at", str)
        try:
            exported_at = datetime.fromisoformat(stamp)
        except ValueError:
            raise self.fail(1, f"exported_at {stamp!r} is not an ISO 8601 time") from None
        if exported_at.tzinfo is None or exported_at.utcoffset() is None:
            raise self.fail(1, f"exported_at {stamp!r} has no UTC offset")
        self.header = {**obj, "exported_at": exported_at}

    def need(self, number: int, obj: Mapping[str, Any], key: str, kind: type) -> Any:
        value = obj.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            what = "missing" if key not in obj else f"a {type(value).__name__}, not a {kind.__name__}"
            raise self.fail(number, f"'{key}' is {what}")
        return value

    def take_definition(self, number: int, obj: dict[str, Any]) -> None:
        sha, text = self.need(number, obj, "sha256", str), self.need(number, obj, "text", str)
        if sha in self.definitions:
            raise self.fail(number, f"definition {sha[:12]}… a second time")
        self.definitions[sha] = text

    def take_event(self, number: int, obj: dict[str, Any]) -> None:
        case_id, body = self.need(number, obj, "case_id", str), self.need(number, obj, "body", str)
        seq, position = self.need(number, obj, "seq", int), self.need(number, obj, "position", int)
        if case_id not in self.header["cases"]:
            raise self.fail(number, f"an event of case {case_id}, which the header does not list")
        expected = self.last_seq.get(case_id, 0) + 1
        if seq != expected:
            raise self.fail(number, f"case {case_id} seq {seq} where seq {expected} was due: an event is missing,"
                                    " doubled or out of order")
        if position <= self.last_position:
            raise self.fail(number, f"position {position} does not follow {self.last_position}: events must be in"
                                    " position order")
        self.last_seq[case_id], self.last_position = seq, position
        self.events.append(BundleEvent(case_id, seq, position, body, number))

    def take_proof(self, number: int, obj: dict[str, Any]) -> None:
        case_id, seq = self.need(number, obj, "case_id", str), self.need(number, obj, "seq", int)
        inclusion = self.need(number, obj, "inclusion", dict)
        self.proofs.append(BundleProof(case_id, seq, inclusion, number))

    def take_key(self, number: int, obj: dict[str, Any]) -> None:
        kid, owner = self.need(number, obj, "kid", str), self.need(number, obj, "owner", str)
        text = self.need(number, obj, "key", str)
        try:
            key = base64.b64decode(text, validate=True)
        except ValueError:
            key = b""
        if len(key) != 32 or not owner or kid in self.keys:
            raise self.fail(number, "a key line needs a new 'kid', the pupil it is of ('owner') and a 32-byte base64 'key'")
        self.keys[kid] = (owner, key)

    def finish(self) -> Bundle:
        header = self.header
        empty = [cid for cid in header["cases"] if cid not in self.last_seq]
        if empty:
            raise self.fail(1, f"the header lists case(s) {', '.join(empty)} but the bundle holds no event of them")
        for count, found in (("events", len(self.events)), ("proofs", len(self.proofs))):
            if header[count] != found:
                raise self.fail(1, f"the header announces {header[count]} {count} but the bundle holds {found}: the file"
                                   " was cut or edited")
        outside = header.get("outside", [])
        if not isinstance(outside, list) or not all(isinstance(c, str) and c not in header["cases"] for c in outside):
            raise self.fail(1, "'outside' lists the ids of linked cases the bundle leaves out (none of its own cases)")
        return Bundle(self.path, header["case_id"], tuple(header["cases"]), header["exported_at"],
                      str(header.get("generator", "")), dict(self.definitions), tuple(self.events), tuple(self.proofs),
                      dict(self.keys), header.get("withheld") if isinstance(header.get("withheld"), dict) else None,
                      tuple(outside))
