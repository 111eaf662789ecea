"""A bundle as an in-memory engine (to verify, replay, report), and imported into another store."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ...calendars.resolved import FORMAT as CALENDAR_FORMAT
from ...calendars.resolved import ResolvedCalendar
from ...canonical import sha256_hex
from ...clock import FixedClock
from ...definition import Definition
from ...engine import Engine
from ...errors import ConcurrencyError, IjimeFlowError
from ...events import Event, parse_event
from ...language.conditions import GuardFn
from ...privacy.keys import DisclosedKeys, NoKeys
from ...projection import ProjectionProblem, project_log
from ...store import MemoryStore, Store
from .format import Bundle, BundleEvent, BundleRejected, CasesAlreadyExist, ImportResult, NotVerified
from .read import read_bundle


# -- loading -------------------------------------------------------------------------------------------
def load_bundle(path: Path, *, guards: Mapping[str, GuardFn] | None = None) -> tuple[Engine, str]:
    """The bundle as an in-memory engine, and its main case id.

    The engine's :class:`~ijime_flow.store.MemoryStore` holds the bundle's definitions and every
    event, byte for byte, in the bundle's order (positions renumbered 1, 2, 3 …), with the projection
    rebuilt from them; its clock is fixed at ``exported_at``; no workflow is loaded, so every case
    replays under its pinned text. ``guards``: the Python guards the workflows use, if any. A damaged
    event body still loads (``engine.verify()`` reports it with its seq); a file that cannot be read as
    a bundle is a :class:`BundleError`."""
    bundle = read_bundle(path)
    return _engine_of(bundle, guards), bundle.case_id


def _engine_of(bundle: Bundle, guards: Mapping[str, GuardFn] | None) -> Engine:
    store = MemoryStore()
    store.outside = frozenset(bundle.outside)  # links into these are not looked for (audit.links)
    for sha, text in bundle.definitions.items():
        store.put_definition(sha, *_identity(text), text)
    for line in bundle.events:
        store.append([(_event_of(line), line.body)])
    engine = Engine(store, clock=FixedClock(bundle.exported_at), guards=guards,
                    keys=DisclosedKeys(bundle.keys) if bundle.keys else NoKeys())  # a disclosure's own keys only
    engine.rebuild_projection()
    return engine


def _identity(text: str) -> tuple[str, str]:
    """The workflow id and version of a definition text ('' when it does not parse: verify says so)."""
    try:
        spec = json.loads(text)
    except ValueError:
        return "", ""
    if not isinstance(spec, dict):
        return "", ""
    if spec.get("format") == CALENDAR_FORMAT:  # a school calendar a case pinned
        years = spec.get("school_years") or ["-"]
        return "calendar", f"{years[0]}-{years[-1]}" if isinstance(years, list) else ""
    return str(spec.get("id", "")), str(spec.get("version", ""))


def _event_of(line: BundleEvent) -> Event:
    """The event to append for a line. The store files it under the line's case id and seq; when the
    body does not parse or names another place, a stand-in carries just those, so the body is kept as
    it is and ``verify`` reports what is wrong with it at that seq."""
    try:
        event = parse_event(line.body, line.case_id, line.seq)
    except IjimeFlowError:
        event = None
    if event is None or (event.case_id, event.seq) != (line.case_id, line.seq):
        known: dict[str, Any] = {"case_id": line.case_id, "seq": line.seq}  # all MemoryStore.append reads
        return Event.model_construct(**known)
    return event


# -- import ----------------------------------------------------------------------------------------------
def import_bundle(path: Path, store_or_engine: Store | Engine) -> ImportResult:
    """Verify the bundle and write it into the target store: definitions, events byte for byte, and
    the cases' projection rows, in one append (all or none).

    Refused with :class:`NotVerified` when the bundle does not verify (an engine given as target lends
    its guards to the verification) and with :class:`CasesAlreadyExist` when a case of the bundle is
    already in the store; in both cases nothing is written. A file that cannot be read as a bundle is
    a :class:`BundleError`."""
    target = store_or_engine.store if isinstance(store_or_engine, Engine) else store_or_engine
    guards = store_or_engine.guards if isinstance(store_or_engine, Engine) else None
    bundle = read_bundle(path)
    with _engine_of(bundle, guards) as source:
        report = source.verify()
        if not report.ok:
            raise NotVerified(path, report)
        problems = [_definition_problem(sha, text) for sha, text in bundle.definitions.items()]
        if any(problems):
            raise BundleRejected(f"{path}: 定義が壊れています / a definition of the bundle is damaged, nothing imported",
                                 [p for p in problems if p])
        _refuse_existing(path, bundle, target)
        projected: list[ProjectionProblem] = []
        rows = tuple(project_log(source.store.read_from(0), _definitions_of(source), projected))
        if projected or len(rows) != len(bundle.cases):
            raise BundleRejected(f"{path}: 事案を投影できません / the cases cannot be projected, nothing imported",
                                 [f"{p.case_id}: {p.message}" for p in projected] or ["a case has no row"])
        for sha, text in bundle.definitions.items():
            target.put_definition(sha, *_identity(text), text)
        records = [(parse_event(e.body, e.case_id, e.seq), e.body) for e in bundle.events]
        try:
            target.append(records, rows)
        except ConcurrencyError as exc:
            raise CasesAlreadyExist(path, [exc.case_id], [f"case {exc.case_id} was written by someone else during the"
                                                          " import"]) from None
    return ImportResult(bundle.case_id, bundle.cases, len(records), len(bundle.definitions), rows)


def _definition_problem(sha: str, text: str) -> str:
    """'' when the text hashes to its key and parses as a workflow (pinned ones are checked by verify;
    this also covers any other the file carries, so no text is kept under a wrong hash)."""
    if sha256_hex(text) != sha:
        return f"definition {sha[:12]}…: its text does not hash to {sha}"
    if _identity(text)[0] == "calendar":
        try:
            ResolvedCalendar.from_canonical(text)
        except ValueError as exc:
            return f"calendar {sha[:12]}…: not a school calendar ({exc})"
        return ""
    try:
        Definition.from_canonical(text, file=f"<bundle:{sha[:12]}>")
    except (ValueError, IjimeFlowError) as exc:
        return f"definition {sha[:12]}…: not a workflow definition ({str(exc).splitlines()[0]})"
    return ""


def _definitions_of(engine: Engine) -> Callable[[str], Definition | None]:
    def definition_for(sha256: str) -> Definition | None:
        runtime = engine.runtime_for(sha256)
        return runtime.definition if runtime is not None else None

    return definition_for


def _refuse_existing(path: Path, bundle: Bundle, target: Store) -> None:
    present: list[str] = []
    problems: list[str] = []
    mine = {cid: [e.body for e in bundle.events if e.case_id == cid] for cid in bundle.cases}
    for cid in bundle.cases:
        rows = target.read_case(cid)
        if rows:
            present.append(cid)
            same = [row.body for row in rows] == mine[cid]
            problems.append(f"case {cid} is already in the store" + (
                " with the same history (this bundle was imported before)" if same else
                f" with another history ({len(rows)} event(s) there, {len(mine[cid])} in the bundle)"))
    if present:
        raise CasesAlreadyExist(path, present, problems)
