"""Sealing personal values before they are hashed, and opening them where the key still exists.

A personal value (a fact or a data field the workflow marks ``personal: true``) is stored in the event as
``{"_sealed": {"kid": KEY ID, "nonce": base64, "ct": base64}}``: AES-256-GCM of the canonical JSON of the value,
with the canonical JSON of ``[case_id, seq, field]`` as associated data (a sealed value moved to another field,
event or case does not open). The hash, the Merkle leaves and every checkpoint cover the sealed form, so
verification needs no key. Whose key: the subject the caller names (``About(subject_id, value)``, one of the
case's subjects), else the case's own. A value whose key is gone reads as :data:`ERASED` (「消去済み / erased」);
one read without keys at all (verification, a bundle) as a :class:`Sealed` marker.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..canonical import canonical_json, check_id
from ..errors import InvalidData, StoreError

if TYPE_CHECKING:
    from ..definition import Definition
    from ..events import Event
    from .keys import KeyStore

__all__ = ["ERASED", "SEALED", "About", "Erased", "Sealed", "declares_personal", "is_sealed", "open_data", "open_event",
           "open_events", "open_value", "personal_fields", "seal_data", "take_about", "unwrap"]

SEALED = "_sealed"
ERASED_TEXT = "消去済み / erased"
SEALED_TEXT = "封印済み（鍵なし） / sealed (no key)"


class Erased(str):
    """A personal value whose key was destroyed (forgotten): reads as 「消去済み / erased」."""


class Sealed(str):
    """A personal value read without its key (verification, an exported bundle): its ciphertext, base64; shown
    as :data:`SEALED_TEXT`."""


ERASED = Erased(ERASED_TEXT)


@dataclass(frozen=True)
class About:
    """A personal value about one pupil: ``data={"statement": About("s-2041", "…")}`` seals it under that pupil's
    key (forgetting the pupil erases it). The pupil must be one of the case's subjects. Without it, a personal
    value belongs to the case."""

    subject: str
    value: Any


def is_sealed(value: object) -> bool:
    return type(value) is dict and len(value) == 1 and SEALED in value


def take_about(data: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The data without its :class:`About` wrappers, and whose each wrapped field is about."""
    if not data or not isinstance(data, Mapping) or not any(type(v) is About for v in data.values()):
        return (dict(data) if isinstance(data, Mapping) else data), {}
    plain, about = {}, {}
    for name, value in data.items():
        if type(value) is About:
            about[str(name)] = check_id(value.subject, f"About({name}) subject")
            value = value.value
        plain[name] = value
    return plain, about


_MEMO: dict[tuple[str, str, str | None], frozenset[str]] = {}


def personal_fields(defn: Definition, kind: str, trigger: str | None) -> frozenset[str]:
    """The data fields of this kind of event that the definition marks personal (a ``fact`` event: its facts)."""
    key = (defn.sha256, kind, trigger)
    found = _MEMO.get(key)
    if found is None:
        spec, names = defn.spec, set[str]()
        if kind == "opened":
            names |= {n for n, f in (spec.fields_on_open or {}).items() if f.personal}
            names |= {n for n in spec.records_on_open if n in spec.facts and spec.facts[n].personal}
        elif kind == "fact":
            names |= {n for n, f in spec.facts.items() if f.personal}
        elif kind in ("transition", "action"):
            for _, t in defn.transitions_by_trigger.get(trigger or "", []):
                names |= {n for n, f in (t.fields or {}).items() if f.personal}
                names |= {n for n in t.records if n in spec.facts and spec.facts[n].personal}
        found = _MEMO[key] = frozenset(names)
    return found


def declares_personal(defn: Definition) -> bool:
    """Whether the workflow marks any fact or data field personal (its cases then get their keys made ahead)."""
    found = _DECLARES.get(defn.sha256)
    if found is None:
        spec = defn.spec
        found = _DECLARES[defn.sha256] = (any(f.personal for f in spec.facts.values())
                                          or any(f.personal for f in (spec.fields_on_open or {}).values())
                                          or any(f.personal for t in spec.transitions for f in (t.fields or {}).values()))
    return found


_DECLARES: dict[str, bool] = {}


def _prepare(keys: KeyStore, defn: Definition, case_id: str, school: str, subjects: Iterable[tuple[str, Any]], kind: str,
             data: Mapping[str, Any]) -> None:
    """A case's keys made ahead, in one write: at its opening the case's own and each named pupil's, and a newly
    named pupil's at their ``subject`` event — so that a step sealing a value waits on no key write."""
    from .keys import prepare_keys

    if not declares_personal(defn):
        return
    if kind == "opened":
        owners = ["", *(subject for subject, _ in subjects)]
    elif data.get("part") is not None and data.get("subject") not in {subject for subject, _ in subjects}:
        owners = [str(data["subject"])]
    else:
        return
    prepare_keys(keys, school, owners, case_id)


def _aad(case_id: str, seq: int, field: str) -> bytes:
    return canonical_json([case_id, seq, field]).encode("utf-8")


def _aes(key: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def unwrap(value: Any) -> tuple[Any, str | None]:
    """A fact value without its :class:`About` wrapper, and the subject it is about (``None``: the case)."""
    if type(value) is About:
        return value.value, check_id(value.subject, "About() subject")
    return value, None


def seal_data(keys: KeyStore, defn: Definition, case_id: str, school: str, subjects: Iterable[tuple[str, Any]], seq: int,
              kind: str, trigger: str | None, data: dict[str, Any], about: Mapping[str, str]) -> dict[str, Any]:
    """``data`` with its personal values sealed (the same object when it has none). ``about``: field (for a fact
    event, the fact's name) -> subject; each must be one of ``subjects`` ((id, part) pairs) and name a personal field.
    An opening (``subjects``: the pupils it names) and a ``subject`` event also make the keys they will need."""
    if kind in ("opened", "subject"):
        _prepare(keys, defn, case_id, school, subjects, kind, data)
    personal = personal_fields(defn, kind, trigger)
    if not personal and not about:
        return data
    if kind == "fact":
        name = str(data.get("fact"))
        fields = ["value"] if name in personal else []
        owners = {"value": about[name]} if name in about else {}
        if name in about and not fields:
            raise InvalidData(f"「{name}」は個人情報として宣言されていません / fact '{name}' is not personal: About() is"
                              " only for facts and fields marked personal: true")
    else:
        fields = [n for n in data if n in personal and data[n] is not None]
        owners = {n: s for n, s in about.items() if n in data}
        stray = sorted(n for n in about if n not in personal)
        if stray:
            raise InvalidData(f"{', '.join(stray)} は個人情報として宣言されていません / not personal fields: About() is"
                              " only for facts and fields marked personal: true")
    if not fields:
        return data
    out, named = dict(data), {subject for subject, _ in subjects} if owners else set()
    for field in fields:
        owner = owners.get(field, "")
        if owner and owner not in named:
            raise InvalidData(f"{field}: 対象の児童生徒ではありません / About() of '{field}' names a pupil who is not a"
                              " subject of the case: name them first (add_subject)")
        kid, key = keys.key(school, owner, case_id)
        nonce = os.urandom(12)
        ct = _aes(key).encrypt(nonce, canonical_json(data[field]).encode("utf-8"), _aad(case_id, seq, field))
        out[field] = {SEALED: {"kid": kid, "nonce": base64.b64encode(nonce).decode(), "ct": base64.b64encode(ct).decode()}}
    return out


def open_value(keys: KeyStore | None, case_id: str, seq: int, field: str, value: Any,
               erased: Collection[str] | None = None) -> Any:
    """A stored value as it reads: a sealed one opened with its key, :data:`ERASED` when the key is gone,
    :class:`Sealed` without a key store (``None`` or :class:`~.keys.NoKeys`; erased there when its key id is in
    ``erased``, the keys the case's ``erased`` events name). Reports and exports call this through
    :func:`open_events`: a disclosure export is the same call with the keys it may use."""
    if not is_sealed(value):
        return value
    sealed = value[SEALED]
    kid = str(sealed.get("kid"))
    from .keys import NoKeys

    key = keys.get(kid) if keys is not None else None
    if key is None and (keys is None or isinstance(keys, NoKeys)):  # a bundle: a disclosure's keys open their values
        return ERASED if erased is not None and kid in erased else Sealed(sealed.get("ct", ""))
    if key is None:
        return ERASED
    from cryptography.exceptions import InvalidTag

    try:
        plain = _aes(key).decrypt(base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ct"]), _aad(case_id, seq, field))
    except (InvalidTag, KeyError, ValueError, TypeError):
        raise StoreError(f"case {case_id} seq {seq}: 封印された値「{field}」を開けません / the sealed value '{field}'"
                         " does not open with its key: the store was damaged or edited; run `ijime-flow verify`") from None
    return json.loads(plain)


def open_data(keys: KeyStore | None, case_id: str, seq: int, data: Mapping[str, Any],
              erased: Collection[str] | None = None) -> dict[str, Any]:
    return {k: open_value(keys, case_id, seq, k, v, erased) if type(v) is dict else v for k, v in data.items()}


def open_event(keys: KeyStore | None, event: Event, erased: Collection[str] | None = None) -> Event:
    """The event with its sealed values opened (or marked); the same event when it has none."""
    if not any(is_sealed(v) for v in event.data.values()):
        return event
    return event.model_copy(update={"data": open_data(keys, event.case_id, event.seq, event.data, erased)})


def open_events(keys: KeyStore | None, events: Iterable[Event]) -> list[Event]:
    """One case's events opened: what reports, timelines, replays and bundles read (see :func:`open_value`)."""
    events = list(events)
    erased = {str(k) for e in events if e.type == "erased" for k in e.data.get("keys") or []}
    return [open_event(keys, e, erased) for e in events]
