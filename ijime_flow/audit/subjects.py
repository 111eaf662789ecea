"""Subjects (対象の児童生徒): the pupils a case is about, named by pseudonymous id with their part, as
``subject`` events; and who worked on a case. The rules here admit a subject live
(:meth:`Case.add_subject <ijime_flow.case.Case.add_subject>`, ``open_case(subjects=...)``) and in
verification (:mod:`.legality`) alike.

A ``subject`` event's data is ``{"subject": ID, "part": PART}`` — name a pupil, or give one named already
another part — or ``{"subject": ID, "part": null}`` — withdraw one named by mistake. It moves nothing
(``from_states == to_states``, the active leaves) and has no trigger. Who may record one: an actor holding
any role of the case's workflow (its ``roles`` section; included roles count); the engine itself
(``ijime-flow``) only on a case opened by escalation, where it copies the source case's subjects as it
opens the linked case. As no fact is recorded on a closed case, no subject is named or withdrawn there;
naming a pupil again in the part they have, or withdrawing one not named, is refused too.

The ids are pseudonymous (``s-2041``), never names: they may be logged (``subject_id``), as actor ids are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..actor import SYSTEM_ACTOR_ID, Actor, Subject, check_part
from ..canonical import check_id
from ..errors import InvalidData, PermissionDenied
from ..events import Event, seal

if TYPE_CHECKING:
    from ..definition import Definition

__all__ = ["Pairs", "People", "check_change", "check_subjects", "read_change", "subject_records"]

Pairs = tuple[tuple[str, str], ...]  # (subject id, part), sorted by id
_WHAT = "subject (a pupil's pseudonymous id such as 's-2041', never a name)"


def read_change(data: Mapping[str, Any]) -> tuple[str, str | None]:
    """The subject and part (``None``: withdrawn) of a ``subject`` event's data; ``InvalidData`` if it is not one."""
    if set(data) != {"subject", "part"}:
        raise InvalidData(f"対象の児童生徒の記録は subject と part だけを持ちます / a subject event's data is"
                          f" {{'subject': ID, 'part': PART or null}}, not the keys {sorted(data)[:8]}")
    part = data["part"]
    return check_id(data["subject"], _WHAT), None if part is None else check_part(part)


def check_change(defn: Definition, leaves: frozenset[str], named: Mapping[str, str], data: Mapping[str, Any],
                 trigger: str | None, actor_id: str, roles: Iterable[str], *, escalated: bool) -> tuple[str, str | None]:
    """The change a ``subject`` event makes to the subjects ``named`` before it, if the rules allow it here
    (``escalated``: the case was opened by escalation); otherwise ``InvalidData`` or ``PermissionDenied``."""
    subject, part = read_change(data)
    if trigger is not None:
        raise InvalidData(f"対象の児童生徒の記録に操作はありません / a subject event has no trigger, not {trigger!r:.60}")
    if actor_id == SYSTEM_ACTOR_ID:
        if not escalated:
            raise InvalidData("システムが対象の児童生徒を記録するのは重大事態として開始する事案だけです / the engine names"
                              " subjects only on a case opened by escalation")
    elif not defn.role_closure(frozenset(roles)) & set(defn.spec.roles):
        raise PermissionDenied("対象の児童生徒の記録 (subject)", actor_id, sorted(roles), sorted(defn.spec.roles))
    if defn.is_closed(leaves):
        raise InvalidData("終結した事案には対象の児童生徒を記録できません / the case is closed: no subject can be named"
                          " or withdrawn on it")
    if part is None and subject not in named:
        raise InvalidData(f"{subject} は対象の児童生徒に含まれていません / {subject} is not a subject of the case:"
                          " nothing to withdraw")
    if part is not None and named.get(subject) == part:
        raise InvalidData(f"{subject} は既に {part} として記録されています / {subject} is already named as {part}")
    return subject, part


def check_subjects(subjects: object, defn: Definition, actor: Actor) -> list[tuple[str, str]]:
    """The ``subjects`` of ``open_case`` (:class:`Subject` values, each pupil once) as (id, part), each allowed
    to ``actor`` by the rules of a ``subject`` event in the initial states of ``defn``."""
    if subjects is None:
        return []
    if isinstance(subjects, str | bytes | Mapping) or not isinstance(subjects, Iterable):
        raise InvalidData(f"subjects は Subject の並びで指定してください / subjects must be a list of Subject(id, part),"
                          f" not a {type(subjects).__name__}")
    out = list(subjects)
    for subject in out:
        if not isinstance(subject, Subject):
            raise InvalidData(f"subjects は Subject で指定してください / each subject must be a Subject(id, part), not a"
                              f" {type(subject).__name__}")
    ids = [s.id for s in out]
    if len(set(ids)) != len(ids):
        twice = next(i for i in ids if ids.count(i) > 1)
        raise InvalidData(f"{twice} が二度指定されています / subject {twice} is given twice")
    leaves = frozenset(defn.initial_leaves)
    for subject in out:
        check_change(defn, leaves, {}, {"subject": subject.id, "part": subject.part}, None, actor.id, actor.roles,
                     escalated=False)
    return [(s.id, s.part) for s in out]


def subject_records(case_id: str, seq: int, head: str | None, leaves: list[str], actor: Actor, at: datetime,
                    recorded_at: datetime, subjects: Iterable[tuple[str, str]]) -> list[tuple[Event, str]]:
    """One sealed ``subject`` event per (id, part), seqs from ``seq`` on, chained after ``head``."""
    records = []
    for subject, part in subjects:
        event, body = seal(case_id=case_id, seq=seq, type="subject", trigger=None, from_states=leaves, to_states=leaves,
                           actor_id=actor.id, actor_roles=sorted(actor.roles), at=at, recorded_at=recorded_at,
                           data={"subject": subject, "part": part}, definition=None, prev_hash=head)
        records.append((event, body))
        seq, head = seq + 1, event.hash
    return records


@dataclass(frozen=True)
class People:
    """Who a case is about and who worked on it, as of one of its events: ``subjects``, the (id, part) of the
    pupils named and not withdrawn, sorted by id; ``actors``, the sorted ids of every actor that recorded an
    event on the case (the engine's ``ijime-flow`` excluded). The projection keeps both on the case's row."""

    subjects: Pairs = ()
    actors: tuple[str, ...] = ()

    def after(self, events: Iterable[Event]) -> People:
        """As of after ``events`` (the same object when they change nothing: most steps)."""
        events = [e for e in events if e.type == "subject" or (e.actor.id != SYSTEM_ACTOR_ID and e.actor.id not in self.actors)]
        if not events:
            return self
        named, actors = dict(self.subjects), set(self.actors)
        for event in events:
            if event.actor.id != SYSTEM_ACTOR_ID:
                actors.add(event.actor.id)
            if event.type == "subject":
                subject, part = read_change(event.data)
                if part is None:
                    named.pop(subject, None)
                else:
                    named[subject] = part
        return People(tuple(sorted(named.items())), tuple(sorted(actors)))
