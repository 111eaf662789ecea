"""Writing a bundle: the cases of one history (and those linked to it), read until two reads agree."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...calendars.resolved import CALENDAR_KEY
from ...clock import require_aware
from ...engine import Engine
from ...errors import UnknownCase
from ...escalation import link_in
from ...store import Store, StoredEvent
from ...version import __version__

if TYPE_CHECKING:
    from ...proofs.tlog import AnyCheckpoint as Checkpoint  # a JSON (format 1) or a C2SP checkpoint

from .format import _MAX_ROUNDS, BUNDLE_FORMAT, BUNDLE_KIND
from .proofs import _proofs


# -- export -------------------------------------------------------------------------------------------
def export_bundle(engine: Engine, case_id: str, *, with_linked: bool, checkpoint: Checkpoint | None = None,
                  exported_at: datetime, disclose_for: str | None = None, redacted: bool = False) -> str:
    """The bundle text of ``case_id`` (see the module documentation for the format).

    ``with_linked``: also every case linked to it by escalation, both ways, transitively.
    ``checkpoint``: add the inclusion proof of every event recorded at or before it; the store must
    hold the events the checkpoint was signed over (its first ``size`` events hash to its root), or
    ``InvalidData`` says it does not. ``UnknownCase`` if the case is not in the store.
    ``disclose_for`` (a pupil, a subject of the case): add that pupil's own keys as ``key`` lines, the rest
    withheld; ``redacted``: no key, every personal value withheld; either way the header says what was withheld
    (:mod:`ijime_flow.privacy.disclosure`)."""
    require_aware(exported_at, "exported_at")
    store = engine.store
    logs, outside = _snapshot(store, case_id, with_linked)
    cases = list(logs)
    definitions: dict[str, str] = {}
    for cid in cases:
        for sha in _pinned(logs[cid][0].body) if logs[cid] else ():  # its definition, and its school calendar
            text = store.get_definition(sha) if sha not in definitions else None
            if text is not None:
                definitions[sha] = text
    events = sorted((row for rows in logs.values() for row in rows), key=lambda row: row.position)
    proofs = _proofs(store, events, checkpoint) if checkpoint is not None else []
    header = {"kind": BUNDLE_KIND, "format": BUNDLE_FORMAT, "case_id": case_id, "exported_at": exported_at.isoformat(),
              "cases": cases, "events": len(events), "proofs": len(proofs), "generator": f"ijime-flow {__version__}"}
    if outside:  # linked cases left out on purpose (other pupils' cases the year opened): see _collect
        header["outside"] = outside
    keys: list[dict[str, Any]] = []
    if disclose_for is not None or redacted:
        from ...privacy.disclosure import disclosure_lines

        keys, header["withheld"] = disclosure_lines(engine, logs, disclose_for=disclose_for, redacted=redacted)
    lines = [header]
    lines += [{"kind": "definition", "sha256": sha, "text": text} for sha, text in definitions.items()]
    lines += [{"kind": "event", "case_id": row.case_id, "seq": row.seq, "position": row.position, "body": row.body}
              for row in events]
    lines += proofs
    lines += keys
    return "".join(_line(obj) for obj in lines)


def linked_case_ids(store: Store, case_id: str) -> list[str]:
    """The cases directly linked to ``case_id``, either way, read from its log: by escalation the ``case`` of its
    ``escalated`` events and the ``escalated_from`` of its ``opened`` and ``criterion_met`` events; by a step that
    opens a case the ``opens`` of its steps and the ``opened_from`` of its ``opened`` event (a body that does not
    parse links nothing)."""
    return [other for other, _ in _links(store.read_case(case_id))]


def _links(rows: Iterable[StoredEvent]) -> list[tuple[str, bool]]:
    """(linked case, whether this case's step opened it) for each link the rows record, once each."""
    found: dict[str, bool] = {}
    for row in rows:
        try:
            body = json.loads(row.body)
        except ValueError:
            continue
        link = link_in(str(body.get("type")), None, body.get("data")) if isinstance(body, dict) else None
        if link is not None and link[0] and link[0] not in found:
            found[link[0]] = link[1] == "opened"
    return list(found.items())


def _snapshot(store: Store, case_id: str, with_linked: bool) -> tuple[dict[str, list[StoredEvent]], list[str]]:
    """The logs of the bundle's cases, the main case first, then the others in the order they were
    opened, and the cases left outside (:func:`_collect`). A store being written meanwhile could give a case and
    its linked case one escalation apart (each is read in turn), so the cases are read again until two reads
    agree."""
    previous: tuple[dict[str, list[StoredEvent]], list[str]] | None = None
    for _ in range(_MAX_ROUNDS):
        logs = _collect(store, case_id, with_linked)
        if logs == previous:
            return logs
        previous = logs
    from ...errors import StoreError

    raise StoreError(f"case {case_id} changed during each of {_MAX_ROUNDS} reads: export it again when the store is"
                     " quieter")


def _collect(store: Store, case_id: str, with_linked: bool) -> tuple[dict[str, list[StoredEvent]], list[str]]:
    """The logs, and the cases left **outside** on purpose: those a linked case other than the main one opened by a
    step (the school year's other concerns, when the bundle is of one response case found through its survey: other
    pupils' cases, not this history's). Their links are named in the header (``outside``) so that the bundle still
    verifies: the step that opened each is in the bundle, the case it opened is not. A bundle of the year itself
    carries every case it opened."""
    main = store.read_case(case_id)
    if not main:
        raise UnknownCase(case_id)
    logs = {case_id: main}
    queue, outside = [case_id], set[str]()
    while with_linked and queue:
        current = queue.pop(0)
        for other, opened in _links(logs[current]):
            if other in logs:
                continue
            if opened and current != case_id:
                outside.add(other)
                continue
            rows = store.read_case(other)
            if rows:  # a link to a case the store lacks: verification reports it
                logs[other] = rows
                queue.append(other)
    others = sorted((cid for cid in logs if cid != case_id), key=lambda cid: logs[cid][0].position)
    return {case_id: main, **{cid: logs[cid] for cid in others}}, sorted(outside - set(logs))


def _pinned(body: str) -> list[str]:
    """The texts a first event pins: its definition, and its school calendar (``data["_calendar"]``) if any."""
    try:
        event = json.loads(body)
        pins = [event["definition"]["sha256"], (event.get("data") or {}).get(CALENDAR_KEY)]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []
    return [sha for sha in pins if isinstance(sha, str)]


def _line(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"
