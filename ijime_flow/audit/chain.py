"""Reading one stored event, and the chain checks: its place (case and seq), its hash, its link to the
event before it. A canonical text is read by a pattern (``_CANONICAL``, ``_LATER``); any other the plain
way (:func:`_plain_row`: ``json.loads``, re-encoding, the ``Event`` model), which gives every message."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from ..events import EVENT_FORMAT, UPCASTERS, Event, body_hash, upcast
from .problems import VerificationProblem

# -- reading one stored event -------------------------------------------------------------------------
# The canonical JSON of an event, as ``seal`` writes it: keys sorted, no white space, text without any
# escape, integers as ``int`` writes them, one of the event types, times as ``datetime.isoformat`` writes
# them (to the minute of the offset) on days that exist (year 1 on; 29 February of leap years only), so
# that exactly the times ``datetime.fromisoformat`` and the event model read. ``data`` is any object:
# it is checked apart (its own canonical JSON).
_S = r'"([^"\\\x00-\x1f]*)"'
_L = r'\[((?:"[^"\\\x00-\x1f]*"(?:,"[^"\\\x00-\x1f]*")*)?)\]'
_I = r'(0|-?[1-9][0-9]*)'
_LEAP = r'(?:[0-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)'
_DAY = (r'(?:(?!0000)[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)'
        rf'|{_LEAP}-02-29)')
_T = rf'"({_DAY}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{{6}})?[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"'
_TYPE = r'"(opened|transition|action|fact|automatic|escalated|criterion_met|subject|hold|hold_released|erased)"'
_CANONICAL = re.compile(
    rf'\{{"actor":\{{"id":{_S},"roles":{_L}\}},"at":{_T},"case_id":{_S},"data":(\{{.*?\}}),'
    rf'"definition":(?:null|\{{"id":{_S},"sha256":{_S},"version":{_S}\}}),"format":{_I},"from_states":(?:null|{_L})'
    rf'(,"hash":{_S}),"prev_hash":(?:null|{_S}),"recorded_at":{_T},(?:"school":{_S},)?"seq":{_I},'
    rf'"to_states":(?:null|{_L}),"trigger":(?:null|{_S}),"type":{_TYPE}\}}', re.DOTALL)
# An event after a case's first, as ``seal`` writes it (no pin, no school, format 1 or 2), for the loop that
# knows the hash it must link to: ``hash`` and ``prev_hash`` are read as any 64 characters (no scan),
# which the loop accepts only when they are the SHA-256 it computes and the hash before — hex digits,
# so that the pattern read the text as JSON reads it. Anything else is read the plain way.
_LATER = re.compile(
    rf'\{{"actor":\{{"id":{_S},"roles":{_L}\}},"at":{_T},"case_id":{_S},"data":(\{{.*?\}}),"definition":null,'
    rf'"format":[12],"from_states":(?:null|{_L}),"hash":"(.{{64}})","prev_hash":"(.{{64}})","recorded_at":{_T},"seq":{_I},'
    rf'"to_states":(?:null|{_L}),"trigger":(?:null|{_S}),"type":{_TYPE}\}}', re.DOTALL)

# one event as the replay reads it: (type, trigger, from_states, to_states, actor id, actor roles, at,
# recorded_at, data, pin (id, version, sha256), the canonical text of data — None when it was read the plain way)
_Row = tuple[str, str | None, list[str] | None, list[str] | None, str, tuple[str, ...], datetime, datetime,
            dict[str, Any], tuple[str, str, str] | None, str | None]


def _plain_row(case_id: str, seq: int, text: str, prev: str | None,
               problems: list[VerificationProblem]) -> tuple[_Row | None, str | None]:
    """The chain checks of one stored event, read with ``json.loads``, re-encoded and validated by the
    ``Event`` model: every check and message as the rules above state them."""
    try:
        body = json.loads(text)
    except ValueError:
        problems.append(VerificationProblem(case_id, seq, "format", "the stored event is not valid JSON"))
        return None, None
    if not isinstance(body, dict):
        problems.append(VerificationProblem(case_id, seq, "format", "the stored event is not a JSON object"))
        return None, None
    if body.get("seq") != seq or body.get("case_id") != case_id:
        problems.append(_moved(case_id, seq, body.get("case_id"), body.get("seq")))
    if body_hash(body) != body.get("hash"):
        problems.append(_changed(case_id, seq))
    if body.get("prev_hash") != prev:
        problems.append(_unlinked(case_id, seq))
    if problems:
        return None, None
    fmt = body.get("format")
    if type(fmt) is not int or not (fmt == EVENT_FORMAT or fmt in UPCASTERS):
        problems.append(VerificationProblem(case_id, seq, "format", f"event format {str(fmt)[:20]} is not one this"
                                                                    f" ijime-flow reads (format {EVENT_FORMAT})"))
        return None, None
    try:
        ev = Event.model_validate(upcast(body))
    except ValidationError as exc:
        problems.append(VerificationProblem(case_id, seq, "format", f"not a valid event: {exc.errors()[0]['msg']}"))
        return None, None
    pin = None if ev.definition is None else (ev.definition.id, ev.definition.version, ev.definition.sha256)
    return (ev.type, ev.trigger, ev.from_states, ev.to_states, ev.actor.id, tuple(ev.actor.roles), ev.at, ev.recorded_at,
            ev.data, pin, None), body["hash"]


def _moved(case_id: str, seq: int, body_case: Any, body_seq: Any) -> VerificationProblem:
    return VerificationProblem(case_id, seq, "seq", f"the row says case {case_id} seq {seq} but the event inside says"
                                                    f" case {body_case} seq {body_seq}: rows were moved or swapped")


def _changed(case_id: str, seq: int) -> VerificationProblem:
    return VerificationProblem(case_id, seq, "hash",
                               "the content does not match its hash: it was changed after it was recorded")


def _unlinked(case_id: str, seq: int) -> VerificationProblem:
    return VerificationProblem(case_id, seq, "chain",
                               "prev_hash is not the hash of the event before it: the chain is broken here")


def _missing(case_id: str, expected: int, seq: int) -> VerificationProblem:
    return VerificationProblem(case_id, expected, "seq", f"seq {expected} is missing (next row has seq {seq}):"
                                                         " an event was deleted or reordered")
