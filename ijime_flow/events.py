"""Events: the log of a case. Every accepted open, step and fact is one event.

An event's ``hash`` is the SHA-256 (hex) of the canonical JSON of the event without its ``hash``
field (see :mod:`ijime_flow.canonical`); ``prev_hash`` is the hash of the event before it in the same
case (``null`` for the first), so the events of a case form a chain. The store keeps each event's
canonical JSON byte for byte, exactly what the hash covers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .canonical import MAX_DEPTH, canonical_json, check_int, check_text, json_time, sha256_hex
from .errors import InvalidData

EVENT_FORMAT = 2  # 2: personal values may be sealed (ijime_flow.privacy); 1 is read through UPCASTERS
EventType = Literal["opened", "transition", "action", "fact", "automatic", "escalated", "criterion_met", "subject",
                    "hold", "hold_released", "erased"]


class ActorRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    roles: list[str]


class DefinitionPin(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    version: str
    sha256: str


class Event(BaseModel):
    """One recorded event. Read-only; build new ones with :func:`seal`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int = Field(description="event format version")
    case_id: str
    seq: int = Field(ge=1)
    type: EventType
    trigger: str | None
    from_states: list[str] | None
    to_states: list[str] | None
    actor: ActorRef
    at: AwareDatetime = Field(description="when it happened")
    recorded_at: AwareDatetime = Field(description="when it was written to the log")
    data: dict[str, Any]
    definition: DefinitionPin | None = Field(description="the pinned definition, on the first event only")
    school: str | None = Field(default=None, description="the school the case belongs to, on the first event only")
    prev_hash: str | None
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON values, ``at`` and ``recorded_at`` in UTC with ``+00:00``
        (:func:`~ijime_flow.canonical.json_time`); ``data`` as recorded. The hash covers the stored
        text, which keeps each time's own offset: verify against the store or a bundle, not this."""
        out = self.model_dump(mode="json")
        out["at"], out["recorded_at"] = json_time(self.at), json_time(self.recorded_at)
        return out


def body_hash(body: Mapping[str, Any]) -> str:
    """The hash of an event body (a dict as decoded from JSON), ignoring its ``hash`` field."""
    return sha256_hex(canonical_json({k: v for k, v in body.items() if k != "hash"}))


def seal(
    *,
    case_id: str,
    seq: int,
    type: EventType,
    trigger: str | None,
    from_states: list[str] | None,
    to_states: list[str] | None,
    actor_id: str,
    actor_roles: list[str],
    at: datetime,
    recorded_at: datetime,
    data: dict[str, Any],
    definition: DefinitionPin | None,
    prev_hash: str | None,
    school: str | None = None,
) -> tuple[Event, str]:
    """Build and hash an event; return it with its canonical JSON text (what the store keeps).

    ``school`` is written on a case's first event only; other events carry no ``school`` key at all,
    so the texts (and hashes) of events from before the field existed are unchanged."""
    body: dict[str, Any] = {
        "format": EVENT_FORMAT,
        "case_id": case_id,
        "seq": seq,
        "type": type,
        "trigger": trigger,
        "from_states": from_states,
        "to_states": to_states,
        "actor": {"id": actor_id, "roles": actor_roles},
        "at": at.isoformat(),
        "recorded_at": recorded_at.isoformat(),
        "data": data,
        "definition": definition.model_dump() if definition else None,
        "prev_hash": prev_hash,
    }
    if school is not None:
        body["school"] = school
    unsealed = canonical_json(body)
    digest = sha256_hex(unsealed)
    # built from the typed values the body was made of (no re-validation on the hot path); what the
    # store returns is parsed and validated from the canonical text, and a test checks the two agree
    event = _construct(Event, {
        "format": EVENT_FORMAT, "case_id": case_id, "seq": seq, "type": type, "trigger": trigger,
        "from_states": from_states, "to_states": to_states,
        "actor": _construct(ActorRef, {"id": actor_id, "roles": actor_roles}), "at": at, "recorded_at": recorded_at,
        "data": data, "definition": definition, "school": school, "prev_hash": prev_hash, "hash": digest})
    return event, _with_hash(unsealed, digest)


_M = TypeVar("_M", bound=BaseModel)


def _construct(cls: type[_M], values: dict[str, Any]) -> _M:
    """``cls.model_construct(**values)`` for values that name every field, without its per-field
    loop (a fifth of what ``fire`` cost in memory). The same four attributes pydantic sets."""
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(model, "__pydantic_fields_set__", set(values))
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


def _with_hash(unsealed: str, digest: str) -> str:
    """The canonical text with ``hash`` added, without encoding the body a second time. Keys are
    sorted, so ``hash`` sits just before the top-level ``prev_hash``; every key after that holds
    text, numbers or a list of text, where ``,"prev_hash":`` cannot occur, so the last occurrence
    is the top-level key. (A test checks the result equals ``canonical_json`` of the full body.)"""
    cut = unsealed.rfind(',"prev_hash":')
    return f'{unsealed[:cut]},"hash":"{digest}"{unsealed[cut:]}'


# -- reading old formats ----------------------------------------------------------------------------
# Upcasting: an event written in format N is read through UPCASTERS[N] (N -> N+1), and so on up to
# EVENT_FORMAT, in memory only. What is stored is never rewritten — its hash covers it as written —
# and verification hashes the stored text before anything is upcast. Format 2 (sealed personal values,
# :mod:`ijime_flow.privacy`) reads format 1 as it is, with its format raised; the frozen
# histories under tests/fixtures/histories must replay the same in every later version.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[int, Upcaster] = {1: lambda body: {**body, "format": 2}}  # 1 -> 2: format 1 has no sealed values


def upcast(body: dict[str, Any]) -> dict[str, Any]:
    """An event body (as decoded from its stored JSON) in the current format. A format without an
    upcaster, or a newer one than this ijime-flow knows, is left as it is (and refused when read)."""
    fmt = body.get("format")
    while isinstance(fmt, int) and fmt < EVENT_FORMAT and fmt in UPCASTERS:
        body = UPCASTERS[fmt](dict(body))
        fmt = body.get("format")
    return body


def parse_event(text: str, case_id: str = "", seq: int = 0) -> Event:
    """An event from its stored text, upcast to the current format. A damaged text (edited by hand,
    truncated) or an unknown format is a ``StoreError`` naming the case and seq, never a raw parsing
    error: ``verify`` tells the rest."""
    from pydantic import ValidationError

    from .errors import StoreError

    try:
        event = Event.model_validate_json(text)
        if event.format != EVENT_FORMAT:
            event = Event.model_validate(upcast(json.loads(text)))
        if event.format != EVENT_FORMAT:
            raise StoreError(f"{f'case {case_id} seq {seq}' if case_id else 'an event'} is in event format"
                             f" {event.format}, which this ijime-flow (format {EVENT_FORMAT}) cannot read: upgrade"
                             " ijime-flow")
        return event
    except ValidationError as exc:
        where = f"case {case_id} seq {seq}" if case_id else "an event"
        raise StoreError(f"{where} in the store is not a valid event ({exc.errors()[0]['msg']}): the store was"
                         " damaged or edited; run `ijime-flow verify`") from None


def data_object(data: object, where: str = "data") -> dict[str, Any]:
    """The ``data`` of a step as JSON: a mapping (or nothing), checked by :func:`to_json_value`."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InvalidData(f"{where} は辞書で指定してください / {where} must be a mapping of field names to values,"
                          f" not a {type(data).__name__}")
    found: dict[str, Any] = to_json_value(dict(data), where)
    return found


def to_json_value(value: Any, where: str, depth: int = 0) -> Any:
    """Data given by the caller as JSON: dates and times become ISO 8601 text; anything else not
    representable in JSON — or not kept alike by every store: a NUL or a lone surrogate in text, an
    integer beyond ±(2**53 − 1), nesting deeper than 32 — is refused with the field named."""
    if value is None or isinstance(value, bool) or (type(value) is dict and not value):
        return value
    if isinstance(value, str):
        return check_text(value, where)
    if isinstance(value, int):
        return check_int(value, where)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidData(f"{where}: {value} is not a finite number")
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidData(f"{where}: naive datetime {value.isoformat()}; give a timezone")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if depth >= MAX_DEPTH:
        raise InvalidData(f"{where}: データの入れ子が深すぎます / data nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidData(f"{where}: keys must be text, got a {type(key).__name__}")
            check_text(key, f"{where} (a key)")
            out[key] = to_json_value(item, f"{where}.{key[:40]}", depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [to_json_value(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    raise InvalidData(f"{where}: a {type(value).__name__} cannot be recorded (use text, numbers, booleans, dates)")
