"""The engine: loads workflows, opens and reloads cases, verifies the log.

``Engine("cases.db")`` keeps cases in an SQLite file; ``Engine()`` keeps them in memory.
One compiled machine per definition hash is shared by every case of that definition; no case is
kept in memory by the engine, so memory does not grow with the number of cases in the store.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import bundled, logs
from .actor import Actor, Subject, check_actor
from .audit.parallel import verify_parallel
from .audit.subjects import People, check_subjects, subject_records
from .audit.verify import VerificationReport, verify_store
from .calendars.file import SchoolCalendarFile
from .calendars.pinning import CalendarPins
from .canonical import check_id, check_text, sha256_hex
from .case import Case, checked_time
from .clock import Clock, SystemClock, storable
from .deadlines import advance
from .definition import Definition
from .errors import (
    CaseExists,
    ConcurrencyError,
    DefinitionError,
    InvalidData,
    PermissionDenied,
    Problem,
    StoredDefinitionError,
    StoreError,
    UnknownWorkflow,
)
from .escalation import Met, escalation_records, seal_opened
from .events import Event, data_object
from .language.conditions import GuardFn, GuardRef, walk
from .language.lint import unrunnable
from .language.loader import load_path
from .language.stored import StoredRead
from .machine import CompiledMachine, Runtime
from .privacy.forget import Forgetting
from .privacy.keys import KeyStore, default_keys
from .privacy.sealing import seal_data, take_about
from .projection import CaseRow, make_row
from .reads import Reads
from .step_api import IDEMPOTENCY, check_reserved, keyed_case_id, opened_with
from .stepper import apply_facts, opening_data
from .store import Store, open_store


class Engine(Reads, Forgetting):
    """Entry point of the library. Thread-safe: steps are taken one at a time per engine."""

    def __init__(self, store: str | Path | Store | None = None, *, clock: Clock | None = None,
                 guards: Mapping[str, GuardFn] | None = None, school: str | None = None, keys: KeyStore | None = None) -> None:
        """``school``: the school id of the cases this engine opens, when it serves one school (a board's engine passes
        ``school=`` to each :meth:`open_case` instead). ``keys``: where sealing keys live (default: beside the store)."""
        self.school = None if school is None else _school_id(school)
        self.store: Store = open_store(store, school=self.school)  # PostgreSQL: checked against the role's school
        self.clock: Clock = clock or SystemClock()
        self.guards: dict[str, GuardFn] = dict(guards or {})
        self.keys: KeyStore = keys if keys is not None else default_keys(self.store)  # ijime_flow.privacy.keys
        self.lock = threading.RLock()
        self._tx: _Transaction | None = None  # the transaction under way (its thread holds the lock)
        self._current: dict[str, Definition] = {}
        self._runtimes: dict[str, Runtime] = {}
        self._unrunnable: dict[str, str] = {}  # sha256 -> why its stored text cannot be run
        self._kept: set[str] = set()
        self.calendars = CalendarPins()  # the school calendar file loaded, and the calendars cases pin
        # a store from before the projection existed: fill it from the log (read-only: the lists refuse)
        self._list_stale = self.store.projection_stale() and self.store.read_only
        if self.store.projection_stale() and not self.store.read_only:
            self.rebuild_projection()

    # -- definitions ------------------------------------------------------------------------------
    def load(self, path: str | Path, *, lint: bool = True) -> list[Definition]:
        """Load a workflow file or every ``*.yaml`` file of a folder — or a shipped one, ``"bundled:response"``
        (:mod:`ijime_flow.bundled`). The last loaded definition of an id is the one new cases are opened under;
        existing cases keep their pinned one. A workflow that escalates to another (``escalation.to``) also
        loads ``<to>.yaml`` from its folder if that workflow is not loaded yet, and the folder's school calendar
        (``calendar.yaml``, :meth:`load_calendar`) when it has one."""
        if isinstance(path, str) and path.startswith(bundled.PREFIX):
            path = bundled.workflow(path)
        loaded = load_path(path, run_lint=lint, known=self._current)
        for defn in loaded:
            self.add_definition(defn)
        folder = Path(path) if Path(path).is_dir() else Path(path).parent
        self.calendars.load_beside(folder)
        for defn in list(loaded):  # a workflow that escalates brings its target from the same folder
            target = defn.spec.escalation.to if defn.spec.escalation else None
            if target and target not in self._current and (folder / f"{target}.yaml").is_file():
                loaded += self.load(folder / f"{target}.yaml", lint=lint)
        return loaded

    def load_calendar(self, path: str | Path) -> SchoolCalendarFile:
        """Load a school calendar file (``calendar.yaml``: the school's closures per school year, see
        :mod:`ijime_flow.calendars.file`); cases opened from now on are judged under it, each pinning the
        calendar it resolves to. Without one, the workflow's country's national holidays and its own
        ``calendar:`` block count."""
        return self.calendars.load(path)

    def load_bundled(self) -> list[Definition]:  # the workflows that ship with the package (response, serious_incident)
        return self.load(bundled.path("workflows"))

    def add_definition(self, definition: Definition) -> None:
        """Make ``definition`` the one new cases of its id open under. One read back from a store with what
        the language now refuses (:attr:`Definition.lenient`) is refused: its old cases still run under it."""
        if definition.lenient:
            raise DefinitionError(list(definition.lenient))
        self._current[definition.id] = definition
        self._runtime(definition)

    def register_guard(self, name: str, guard: GuardFn) -> None:  # a named Python guard, in conditions ``guard: NAME``
        self.guards[name] = guard

    @property
    def definitions(self) -> Mapping[str, Definition]:
        return dict(self._current)

    def definition(self, workflow_id: str) -> Definition:
        try:
            return self._current[workflow_id]
        except (KeyError, TypeError):
            raise UnknownWorkflow(check_id(workflow_id, "workflow_id"), sorted(self._current)) from None

    def _runtime(self, definition: Definition) -> Runtime:
        runtime = self._runtimes.get(definition.sha256)
        if runtime is None:
            runtime = Runtime(definition, CompiledMachine(definition))
            self._runtimes[definition.sha256] = runtime
        return runtime

    def runtime_for(self, sha256: str) -> Runtime | None:
        """The runtime of a pinned definition: loaded, or rebuilt from the text the store keeps, read as
        earlier versions read it (:meth:`Definition.from_canonical`). ``None`` when the store has no text
        under ``sha256`` or the text does not hash to it; :class:`StoredDefinitionError` (naming it and the
        field) when the text is there but cannot be run."""
        runtime = self._runtimes.get(sha256)
        if runtime is not None:
            return runtime
        if sha256 in self._unrunnable:  # read once per engine: verification asks for every case
            raise StoredDefinitionError(self._unrunnable[sha256])
        text = self.store.get_definition(sha256)
        if text is None or sha256_hex(text) != sha256:
            return None
        try:
            definition = Definition.from_canonical(text, file=f"<store:{sha256[:12]}>")
            try:
                problem = "; ".join(f"{'.'.join(map(str, f.path))}: {f.message}" for f in unrunnable(definition))
                if not problem:
                    return self._runtime(definition)
            except (KeyError, TypeError, ValueError) as exc:  # a machine that cannot be built from it
                problem = f"{type(exc).__name__}: {exc}"
            raise StoredRead.of(text, definition.file).error("を実行できません", "cannot be run", problem[:300])
        except StoredDefinitionError as exc:
            self._unrunnable[sha256] = str(exc)
            raise

    # -- cases ------------------------------------------------------------------------------------------
    def open_case(self, workflow_id: str, *, actor: Actor, at: datetime | None = None,
                  data: Mapping[str, Any] | None = None, case_id: str | None = None, school: str | None = None,
                  subjects: Iterable[Subject] | None = None, key: str | None = None) -> Case:
        """Open a case under the current definition of ``workflow_id``; the first event pins it and
        names the case's school (``school``, or the engine's). ``subjects``: the pupils it is about, one
        ``subject`` event each after the first, in the same write (see :mod:`ijime_flow.audit.subjects`).

        ``key``: an idempotency key. Without ``case_id``, the case id is derived from it (and the school and
        workflow), so the same call again — from any process — opens nothing and returns the case the
        first one opened; the key is kept in the first event, in ``data["_idempotency"]``. A case id
        already taken by a call without this key raises :class:`CaseExists`."""
        with self.lock:
            check_id(workflow_id, "workflow_id")
            check_actor(actor)
            if school is None and self.school is None:
                raise InvalidData("事案には学校の指定が必要です / every case belongs to a school: pass"
                                  " open_case(..., school=ID) or Engine(..., school=ID)")
            school = self.school if school is None else _school_id(school)
            definition = self.definition(workflow_id)
            runtime = self._runtime(definition)
            self._check_guards(definition)
            self._check_escalation(definition)
            roles = definition.role_closure(actor.roles)
            if not roles & set(definition.spec.opened_by):
                raise PermissionDenied(f"open {workflow_id}", actor.id, sorted(roles), definition.spec.opened_by)
            if key is not None:
                check_text(key, "key")
            if case_id is None:
                case_id = uuid.uuid4().hex if key is None else keyed_case_id(school, workflow_id, key)
            else:
                case_id = check_id(case_id, "case_id")
            now = storable(self.clock.now(), "the clock's now()")
            at = checked_time(at, now)
            plain, about = take_about(data)  # About(subject, value): whose key seals a personal value
            payload = data_object(plain)
            check_reserved(payload)
            named = check_subjects(subjects, definition, actor)
            facts = opening_data(definition, payload)
            runtime, payload = self.calendars.pin(self.store, runtime, payload, at)  # the school calendar it is judged under
            if key is not None:
                payload = {**payload, IDEMPOTENCY: {"key": key, "events": 1 + len(named)}}
            self._keep(definition)
            leaves = frozenset(definition.initial_leaves)
            payload = seal_data(self.keys, definition, case_id, school or "", named, 1, "opened", None, payload, about)
            event, body = seal_opened(definition, case_id, actor, at, now, payload, school)
            typed: dict[str, Any] = {}
            apply_facts(typed, definition, facts)
            started = advance(definition, (), trigger=None, at=at, seq=1, before=frozenset(), after=leaves, facts=typed,
                              case_id=case_id)
            records = [(event, body), *subject_records(case_id, 2, event.hash, sorted(leaves), actor, at, now, named)]
            people = People().after(e for e, _ in records)
            row = make_row(definition, case_id, school, leaves, at, at, len(records), started, people.subjects, people.actors)
            try:
                self.store.append(records, [row])
            except ConcurrencyError:  # the store refuses a second seq 1: the id is taken, and no retry will help
                if key is not None and opened_with(self.store.read_case(case_id), key):
                    return self.get_case(case_id)  # this very call, made before (here or in another process)
                raise CaseExists(case_id) from None
            logs.info("case.opened", case_id=case_id, workflow=definition.id,
                                                    version=definition.version, to_states=sorted(leaves))
            case = Case(self, runtime, case_id, leaves, typed, len(records), records[-1][0].hash, school=school,
                        opened_at=at, started=started, people=people)
            self._changing(case, opened=True)
            return case

    def escalation_records(self, source: Case, met: list[Met], at: datetime,
                           recorded_at: datetime) -> tuple[str, list[tuple[Event, str]], list[CaseRow]]:
        """The records that open (or add to) the case ``source`` escalates to (:func:`.escalation.escalation_records`)."""
        return escalation_records(self, source, met, at, recorded_at)

    def _keep(self, definition: Definition) -> None:
        if definition.sha256 not in self._kept:
            self.store.put_definition(definition.sha256, definition.id, definition.version, definition.canonical)
            self._kept.add(definition.sha256)

    def _check_escalation(self, definition: Definition) -> None:
        """A case that may escalate needs its target workflow loaded, able to take every criterion."""
        escalation = definition.spec.escalation
        if escalation is None:
            return
        problem = ""
        target = self._current.get(escalation.to)
        if target is None:
            problem = (f"escalation target workflow '{escalation.to}' is not loaded: load it (e.g. engine.load the"
                       " workflows folder) before opening cases that may escalate")
        else:
            fact = target.spec.facts.get("criterion")
            ids = [c.id for c in escalation.criteria]
            if fact is None or "criterion" not in target.spec.records_on_open or (
                    fact.type == "enum" and not set(ids) <= set(fact.values or [])):
                problem = (f"workflow '{escalation.to}' must declare a fact 'criterion' in records_on_open that"
                           f" accepts every criterion of '{definition.id}': {', '.join(ids)}")
        if problem:
            raise DefinitionError([Problem(definition.file, 1, 1, "escalation", problem)])

    def _definition_by_hash(self, sha256: str) -> Definition | None:
        runtime = self.runtime_for(sha256)
        return runtime.definition if runtime is not None else None

    def verify(self, case_id: str | None = None, *, workers: int | None = 1,
               progress: Callable[[Iterable[str], int], Iterable[str]] | None = None) -> VerificationReport:
        """Check the chain, seq continuity, the pinned definitions, the legality of every step and
        that the recorded states are the replayed ones; for one case or the whole store. ``progress``
        (whole store): wraps the ids of the cases as they are reached, given their number — e.g. a
        progress bar (:func:`ijime_flow.progress.progress`). ``workers`` (whole store of a file or URL):
        processes sharing the cases, the same report (:mod:`ijime_flow.audit.parallel`; ``None``: every core)."""
        if case_id is None and workers != 1:
            return verify_parallel(self, workers=workers, opens=type(self), busy=self._tx is not None, progress=progress,
                                   known={sha: rt.definition.canonical for sha, rt in self._runtimes.items()})
        return verify_store(self, None if case_id is None else check_id(case_id, "case_id"), progress=progress)

    def _check_guards(self, definition: Definition) -> None:
        missing = sorted({c.guard for t in definition.spec.transitions if t.when is not None
                          for c in walk(t.when) if isinstance(c, GuardRef) and c.guard not in self.guards})
        if missing:
            raise DefinitionError([Problem(definition.file, 1, 1, "", f"guard '{name}' is used but not"
                                           " registered: call engine.register_guard first") for name in missing])

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """Write the application's own rows and the engine's events in one transaction: everything the
        engine records in this thread within the block, and the application's statements on the
        connection yielded (``sqlite3.Connection`` of :class:`~ijime_flow.store.SQLiteStore`, a psycopg
        connection of :class:`~ijime_flow.store.postgres.PostgresStore`; ``None`` in memory), commit
        together at the end — or, if the block raises, none of it, and every case object that stepped
        in it is put back where it stood (a case opened in it is gone: using it raises ``UnknownCase``).

        Steps of other threads on this engine wait until the block ends; reads do not, and see nothing
        of it until it commits. A refused step inside (a lost race, an idempotency key already used)
        undoes only itself: the block may catch the error and go on. Build the store on the
        application's connection or pool (``Engine(SQLiteStore(conn))``, ``Engine(PostgresStore(pool=pool))``)
        to use that connection; the engine's own stores work too."""
        with self.lock:
            if self._tx is not None:
                raise StoreError("取引の中で取引は始められません / engine.transaction() is already open")
            tx = self._tx = _Transaction()
            try:
                with self.store.transaction() as connection:
                    yield connection
            except BaseException:
                for case, saved in tx.saved.values():
                    vars(case).update(saved)
                for case in tx.opened:
                    case._void = True
                self._kept.clear()  # a definition or calendar kept within the block was rolled back with it
                self.calendars.forget_kept()
                raise
            finally:
                self._tx = None

    def _changing(self, case: Case, *, opened: bool = False) -> None:
        """Called before a case object takes what a write records: inside a transaction, keep how it stood."""
        tx = self._tx
        if tx is None:
            return
        if opened:
            tx.opened.append(case)
        elif id(case) not in tx.saved:
            tx.saved[id(case)] = (case, {k: copy.copy(v) if isinstance(v, dict | set | list) else v
                                         for k, v in vars(case).items()})

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class _Transaction:
    """What :meth:`Engine.transaction` puts back after a rollback."""

    saved: dict[int, tuple[Case, dict[str, Any]]] = field(default_factory=dict)
    opened: list[Case] = field(default_factory=list)


def _school_id(school: object) -> str:
    return check_id(school, "school (a school id, not a name)")
