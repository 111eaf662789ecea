"""What one verification shares across cases (:class:`_Run`): the ledger it reads, the rules of each
pinned definition, the decoded texts shared by millions of events, and the links between cases."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from hashlib import sha256
from typing import TYPE_CHECKING, Any, Protocol

from ..calendars.resolved import ResolvedCalendar, pinned_calendar
from ..canonical import canonical_json

if TYPE_CHECKING:
    from ..language.conditions import GuardFn
    from ..machine import Runtime
    from ..store import Store
from .chain import _CANONICAL, _changed, _moved, _plain_row, _Row, _unlinked
from .links import _link_problem, names_link
from .problems import VerificationProblem
from .rules import _Rules


class Ledger(Protocol):
    """What verification reads: a store, the runtime of a pinned definition (``None`` when the store
    has no text with that hash, or the text does not hash to it; ``StoredDefinitionError`` when the text
    is there but cannot be run), and the guards the workflows name. An
    :class:`~ijime_flow.Engine` is one; verification never imports the engine."""

    @property
    def store(self) -> Store: ...

    @property
    def guards(self) -> Mapping[str, GuardFn]: ...

    def runtime_for(self, sha256: str) -> Runtime | None: ...


class _Run:
    """What one verification shares across cases: the engine, the rules of each pinned definition, and
    the decoded lists of states and roles and ``data`` objects (a few thousand distinct texts stand for
    millions of events; shared, so never changed)."""

    def __init__(self, engine: Ledger) -> None:
        self.engine = engine
        self.lists: dict[str, list[str]] = {}
        self.tuples: dict[str, tuple[str, ...]] = {}
        self.data: dict[str, dict[str, Any]] = {"{}": {}}
        self.state_texts: dict[frozenset[str], str] = {}
        # the links between cases, looked for once the whole log is read (see resolve_links)
        self.links: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.deferred: list[tuple[str, str, str, str, bool]] = []
        self.rules: dict[str, _Rules] = {}
        self.calendars: dict[str, ResolvedCalendar | str] = {}  # pinned calendars read, or why they cannot be

    def link_now(self, asking: str, source: str, target: str, criterion: str, reverse: bool) -> str:
        return _link_problem(self.engine.store, source, target, criterion, reverse=reverse)

    def later_link(self, asking: str, source: str, target: str, criterion: str, reverse: bool) -> str:
        """A link looked for while the log is read: taken as found, and looked for once every case has
        been read (:meth:`resolve_links`); when it is not there, the asking case is verified again."""
        self.deferred.append((asking, source, target, criterion, reverse))
        return ""

    def resolve_links(self) -> set[str]:
        """The cases whose links were taken as found and are not found among the events read: they are
        verified again, each on its own, looking links up as :func:`_link_problem` does. A link found
        here is one it finds too: the events read of a case are its first rows in seq order, each one
        JSON that the plain reading took, so its scan reaches the one found without a row it cannot
        read. A link not found here (its row past a break, or not there) is left to it."""
        again = set()
        for asking, source, target, criterion, reverse in self.deferred:
            look_in = target if reverse else source
            rows = self.links.get(look_in)
            if rows is None or not any(names_link(kind, data, source, target, criterion, reverse=reverse)
                                       for kind, data in rows):
                again.add(asking)
        return again

    def strings(self, text: str) -> list[str]:
        """A JSON list of escape-free text, given as the inside of its brackets, decoded."""
        found = self.lists.get(text)
        if found is None:
            found = self.lists[text] = text[1:-1].split('","') if text else []
        return found

    def state_text(self, leaves: frozenset[str]) -> str:
        """The canonical JSON of the sorted leaves, without its brackets (compared with a row's)."""
        found = self.state_texts.get(leaves)
        if found is None:
            found = self.state_texts[leaves] = canonical_json(sorted(leaves))[1:-1]
        return found

    def roles(self, text: str) -> tuple[str, ...]:
        found = self.tuples.get(text)
        if found is None:
            found = self.tuples[text] = tuple(self.strings(text))
        return found

    def row(self, case_id: str, seq: int, text: str, prev: str | None,
            problems: list[VerificationProblem]) -> tuple[_Row | None, str | None]:
        """The chain checks of one stored event: adds its problems; returns the event and its hash, or
        ``(None, None)`` when the chain breaks here. A canonical text is read by ``_CANONICAL``; any
        other, or one the event model would refuse, by :func:`_plain_row`."""
        m = _CANONICAL.fullmatch(text)
        if m is None:
            return _plain_row(case_id, seq, text, prev, problems)
        (actor_id, roles, at, body_case, data_text, pin_id, pin_sha, pin_version, fmt, from_states, _,
         digest, prev_hash, recorded_at, _, body_seq, to_states, trigger, kind) = m.groups()
        data = self.data.get(data_text)
        if data is None:
            data = self.data_for(data_text)
        if fmt not in ("1", "2"):  # another format: the plain reading decides (an upcast one, or a format problem)
            data = None
        try:
            number = int(body_seq)
        except ValueError:  # more digits than int() reads: json.loads refuses it too
            data = None
        if data is None:
            return _plain_row(case_id, seq, text, prev, problems)
        if number != seq or body_case != case_id:
            problems.append(_moved(case_id, seq, body_case, number))
        start, end = m.span(11)
        if sha256((text[:start] + text[end:]).encode("utf-8")).hexdigest() != digest:
            problems.append(_changed(case_id, seq))
        if prev_hash != prev:
            problems.append(_unlinked(case_id, seq))
        if problems:
            return None, None
        if number < 1:
            return _plain_row(case_id, seq, text, prev, problems)  # the model refuses it: with what message
        when = datetime.fromisoformat(at)
        written = when if recorded_at == at else datetime.fromisoformat(recorded_at)
        actor_roles = self.tuples.get(roles)
        if actor_roles is None:
            actor_roles = self.tuples[roles] = tuple(self.strings(roles))
        return (kind, trigger, None if from_states is None else self.strings(from_states),
                None if to_states is None else self.strings(to_states), actor_id, actor_roles, when, written, data,
                None if pin_sha is None else (pin_id, pin_version, pin_sha), data_text), digest

    def data_for(self, text: str) -> dict[str, Any] | None:
        """The ``data`` object of a text, if the text is its canonical JSON (else ``None``)."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or canonical_json(data) != text:
                return None
        except (ValueError, RecursionError):  # NaN (refused by the encoder), too many digits, too deep
            return None
        if len(self.data) < 100_000:
            self.data[text] = data
        return data

    def rules_for(self, runtime: Runtime) -> _Rules:
        key = runtime.definition.sha256 if runtime.calendar is None else f"{runtime.definition.sha256}:{runtime.calendar.sha256}"
        found = self.rules.get(key)
        if found is None:
            found = self.rules[key] = _Rules(self, runtime)
        return found

    def under_calendar(self, runtime: Runtime, pin: object) -> Runtime | str:
        """``runtime`` judged under the school calendar a case pinned, read from the store (once per
        verification: an altered text is found whatever an engine remembers), or why it cannot be."""
        key = str(pin)
        found = self.calendars.get(key)
        if found is None:
            found = self.calendars[key] = pinned_calendar(self.engine.store.get_definition, pin)
        return found if isinstance(found, str) else runtime.under(found)
