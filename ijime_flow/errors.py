"""Every error ijime-flow raises on purpose.

All of them derive from :class:`IjimeFlowError`, so an embedding application can catch one class.
Each message is written for the person who acted (a teacher, a principal, a policy author): it says
what was refused and what would be allowed instead, in Japanese first and English after.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime
from typing import Any, ClassVar


class IjimeFlowError(Exception):
    """Base class of every error raised by ijime-flow.

    Besides its message (``str(exc)``, Japanese first, then English after `` / ``), every error exposes
    ``code`` (snake_case, e.g. ``permission_denied``: stable, for an application's own messages),
    ``ja`` and ``en`` (the two halves of the message; a message written in one language only gives it
    to both), ``fields`` (what it carries: ``trigger``, ``allowed_roles``, ...) and :meth:`to_dict`,
    all of it JSON-ready."""

    code: ClassVar[str] = "ijime_flow_error"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()

    @property
    def message_parts(self) -> tuple[str, str]:
        """(Japanese, English) of the message: set by the error itself, else split at the first `` / ``."""
        parts = self.__dict__.get("_parts")
        if isinstance(parts, tuple):
            return parts
        text = str(self)
        ja, sep, en = text.partition(" / ")
        return (ja, en) if sep else (text, text)

    @property
    def ja(self) -> str:
        return self.message_parts[0]

    @property
    def en(self) -> str:
        return self.message_parts[1]

    @property
    def fields(self) -> dict[str, Any]:
        """What the error carries, as JSON values (tuples as lists, dates as ISO 8601 text)."""
        return {k: _json(v) for k, v in vars(self).items() if not k.startswith("_")}

    def to_dict(self) -> dict[str, Any]:
        """``{"error", "code", "message", "ja", "en", "fields"}``: ready for ``json.dumps``."""
        return {"error": type(self).__name__, "code": self.code, "message": str(self), "ja": self.ja, "en": self.en,
                "fields": self.fields}


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return _json(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json(v) for v in value]
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


@dataclass(frozen=True)
class Problem:
    """One problem found in a workflow definition, located in its source file."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f" (at {self.path})" if self.path else ""
        return f"{self.file}:{self.line}:{self.col}: {self.message}{where}"


class DefinitionError(IjimeFlowError):
    """A workflow definition could not be read, validated or linted.

    ``problems`` lists every problem found, each with ``file:line:col``, the path inside the
    document (``transitions[3].to``) and a plain message. The first one is also available as
    ``file``, ``line``, ``col``, ``path`` and ``message``.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("DefinitionError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        first = self.problems[0]
        self.file, self.line, self.col = first.file, first.line, first.col
        self.path, self.message = first.path, first.message
        super().__init__("\n".join(str(p) for p in self.problems))


class InvalidTransition(IjimeFlowError):
    """The trigger cannot be fired from the case's current state."""

    def __init__(self, trigger: str, states: Sequence[str], allowed: Sequence[str], reason: str = "") -> None:
        self.trigger = trigger
        self.states = tuple(states)
        self.allowed = tuple(allowed)
        self.reason = reason
        here = "、".join(self.states) or "（なし）"
        can = ", ".join(self.allowed) or "none"
        why = reason or "この状態からは行えない操作です"
        super().__init__(
            f"「{trigger}」は現在の状態（{here}）では行えません: {why}。"
            f" / '{trigger}' is not allowed in state {list(self.states)}; allowed here: {can}."
        )


class UnknownTrigger(InvalidTransition):
    """The trigger is not a step of the case's workflow at all (a typing error, or another workflow's step).
    An :class:`InvalidTransition`, so ``except InvalidTransition`` keeps catching it."""


class PermissionDenied(IjimeFlowError):
    """The actor holds none of the roles allowed to take this step."""

    def __init__(self, action: str, actor_id: str, actor_roles: Sequence[str], allowed_roles: Sequence[str]) -> None:
        self.action = action
        self.actor_id = actor_id
        self.actor_roles = tuple(actor_roles)
        self.allowed_roles = tuple(allowed_roles)
        allowed = ", ".join(self.allowed_roles)
        super().__init__(
            f"「{action}」を行えるのは {allowed} の役割だけです（{actor_id} の役割: "
            f"{', '.join(self.actor_roles) or 'なし'}）。"
            f" / '{action}' may only be done by roles: {allowed}; {actor_id} holds {list(self.actor_roles)}."
        )


@dataclass(frozen=True)
class ConditionFailure:
    """One condition that did not hold, with the first date it can hold (for waiting periods)."""

    ja: str
    en: str
    earliest: date | None = None

    def __str__(self) -> str:
        when_ja = f"（{self.earliest.isoformat()} 以降に満たせます）" if self.earliest else ""
        when_en = f" (can be met from {self.earliest.isoformat()})" if self.earliest else ""
        return f"{self.ja}{when_ja} / {self.en}{when_en}"


class GuardFailed(IjimeFlowError):
    """A condition of the step does not hold (yet)."""

    def __init__(self, action: str, failures: Sequence[ConditionFailure]) -> None:
        self.action = action
        self.failures = tuple(failures)
        lines = "; ".join(str(f) for f in self.failures)
        self._parts = (f"「{action}」の条件を満たしていません: {'; '.join(f.ja for f in self.failures)}",
                       f"conditions of '{action}' not met: {'; '.join(f.en for f in self.failures)}")
        super().__init__(f"「{action}」の条件を満たしていません / conditions of '{action}' not met: {lines}")

    @property
    def earliest(self) -> date | None:
        """The first date on which every waiting period among the failures is over, if any."""
        dates = [f.earliest for f in self.failures if f.earliest is not None]
        return max(dates) if dates else None


class InvalidData(IjimeFlowError):
    """The data given with a step or a fact is missing, of the wrong type or not declared."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class UnknownWorkflow(IjimeFlowError):
    """No loaded workflow has this id (or the pinned definition of a case is not in the store)."""

    def __init__(self, workflow_id: str, known: Sequence[str] = ()) -> None:
        self.workflow_id = workflow_id
        self.known = tuple(known)
        super().__init__(
            f"ワークフロー「{workflow_id}」は読み込まれていません / workflow '{workflow_id}' is not loaded"
            f" (loaded: {', '.join(self.known) or 'none'})."
        )


class UnknownCase(IjimeFlowError):
    """No case with this id exists in the store."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(f"事案 {case_id} は記録にありません / no case with id '{case_id}' in the store.")


class HoldInForce(IjimeFlowError):
    """Forgetting a pupil's personal data is refused: a hold (保全) keeps a case's records — the case is open,
    a case linked to it is open (a serious incident under investigation), or the board recorded a hold.
    ``hold`` is its kind (``open``, ``linked_open``, ``linked_missing``, ``board_hold``), ``case_id`` the case
    whose records are kept, ``held_by`` the case the hold lies on, ``hold_id`` / ``reason`` a board hold's."""

    def __init__(self, subject_id: str, case_id: str, hold: str, held_by: str, ja: str, en: str,
                 hold_id: str | None = None, reason: str | None = None) -> None:
        self.subject_id, self.case_id, self.hold, self.held_by = subject_id, case_id, hold, held_by
        self.hold_id, self.reason = hold_id, reason
        self._parts = (f"{subject_id} の記録は消去できません: {ja}", f"the records of {subject_id} cannot be erased: {en}")
        super().__init__(f"{self._parts[0]} / {self._parts[1]}")


class ConcurrencyError(IjimeFlowError):
    """Someone else recorded a step on this case first; reload the case and try again."""

    def __init__(self, case_id: str, seq: int) -> None:
        self.case_id = case_id
        self.seq = seq
        super().__init__(
            f"事案 {case_id} には既に別の記録（{seq} 番目）があります。読み込み直してから再度行ってください。"
            f" / case '{case_id}' already has an event at seq {seq}: reload it and try again."
        )


class CaseExists(ConcurrencyError):
    """``open_case(case_id=...)`` with an id the store already holds: choose another id (or omit it);
    reloading and retrying will not help. A :class:`ConcurrencyError` (at seq 1), so ``except
    ConcurrencyError`` keeps catching it, with its own message and ``code``."""

    def __init__(self, case_id: str) -> None:
        IjimeFlowError.__init__(self, f"事案 {case_id} は既に存在します。別の事案 ID を指定してください"
                                f" / a case with id '{case_id}' already exists: choose another id, or omit case_id.")
        self.case_id = case_id
        self.seq = 1


class StoreError(IjimeFlowError):
    """The store cannot be opened or is not an ijime-flow store."""


class StoredDefinitionError(StoreError):
    """A workflow definition the store keeps — its text is there and hashes to its key — that this version
    cannot read or run. The message names the definition (id, version, SHA-256 prefix) and the field,
    Japanese then English; it is never reported as a missing definition."""
