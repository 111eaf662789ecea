"""Counting conditions: how many values a ``many`` fact holds (``count``), and how many different people
took a step (``distinct_actors``), each compared with a whole number. Evaluation and wording; the models
are :class:`~.condition_models.CountOf` and :class:`~.condition_models.DistinctActors`.

Who took which step is not a fact: it is read off the case's history into an :data:`ActorTally` — for
each counted trigger, the pseudonymous ids of the people who took it and the roles they held (with the
roles those include). Only the triggers some ``distinct_actors`` condition of the definition names are
tallied (:attr:`Definition.counted_triggers <ijime_flow.Definition.counted_triggers>`), so a definition
without one keeps an empty tally and pays nothing. The tally holds ids and roles only: never a name,
never a fact's value; a refusal says how many, never who.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from ..errors import ConditionFailure
from .condition_models import CountOf, DistinctActors

ActorTally = Mapping[str, Mapping[str, frozenset[str]]]
"""Trigger -> pseudonymous actor id -> the roles (with included roles) they held when they took it."""
NO_ACTORS: ActorTally = {}


class CountContext(Protocol):
    """What counting reads of an :class:`~.conditions.EvalContext`."""

    @property
    def facts(self) -> Mapping[str, object]: ...
    @property
    def actors(self) -> ActorTally | None: ...
    def label(self, fact: str) -> str: ...
    def step_label(self, trigger: str) -> str: ...
    def role_label(self, role: str) -> str: ...


def tallied(actors: ActorTally, trigger: str, actor_id: str, roles: Iterable[str]) -> ActorTally:
    """The tally with one more step of ``trigger`` by ``actor_id`` holding ``roles`` (already closed over
    ``includes``). The same tally when it adds nothing; else a new one (the old one is left as it was, so a
    step refused later changes nothing)."""
    seen = actors.get(trigger, {})
    held = seen.get(actor_id)
    roles = frozenset(roles)
    if held is not None and roles <= held:
        return actors
    return {**actors, trigger: {**seen, actor_id: roles if held is None else held | roles}}


def counted(cond: CountOf | DistinctActors, ctx: CountContext) -> int:
    """The count the condition compares: values of the fact (0 if it is not recorded; 1 for a fact that holds
    one value), or different people who took the step (in the role, if one is given)."""
    if isinstance(cond, CountOf):
        if cond.count not in ctx.facts:
            return 0
        value = ctx.facts[cond.count]
        return len(value) if isinstance(value, frozenset | set | list | tuple) else 1
    seen = (ctx.actors or NO_ACTORS).get(cond.distinct_actors)
    if not seen:
        return 0
    if cond.role is None:
        return len(seen)
    return sum(1 for roles in seen.values() if cond.role in roles)


def count_holds(cond: CountOf | DistinctActors, ctx: CountContext) -> bool:
    return cond.holds_for(counted(cond, ctx))


def count_failures(cond: CountOf | DistinctActors, ctx: CountContext) -> list[ConditionFailure]:
    """No failure when it holds; else one, in the YAML's wording or the generated one, with the count now."""
    now = counted(cond, ctx)
    if cond.holds_for(now):
        return []
    ja, en = describe_count(cond, ctx.label, ctx.step_label, ctx.role_label)
    unit = "件" if isinstance(cond, CountOf) else "人"
    return [ConditionFailure(f"{cond.ja or ja}（現在 {now} {unit}）", f"{cond.en or en} (now {now})")]


_BOUND_JA = {"at_least": "{n} {u}以上", "at_most": "{n} {u}以下", "exactly": "ちょうど {n} {u}"}
_BOUND_EN = {"at_least": "at least {n}", "at_most": "at most {n}", "exactly": "exactly {n}"}


def describe_count(cond: CountOf | DistinctActors, label: Callable[[str], str] = str,
                   step_label: Callable[[str], str] = str, role_label: Callable[[str], str] = str) -> tuple[str, str]:
    """The condition in words, (Japanese, English), without the labels the YAML gives it."""
    n = cond.number
    if isinstance(cond, CountOf):
        bound_ja = _BOUND_JA[cond.bound].format(n=n, u="件")
        return (f"「{label(cond.count)}」の記録が {bound_ja}であること",
                f"fact '{cond.count}' holds {_BOUND_EN[cond.bound].format(n=n)} value{'s' if n != 1 else ''}")
    bound_ja = _BOUND_JA[cond.bound].format(n=n, u="人")
    who_ja = f"{role_label(cond.role)}の役割で" if cond.role else ""
    who_en = f" acting as {cond.role}" if cond.role else ""
    return (f"「{step_label(cond.distinct_actors)}」を{who_ja}行った人が異なる {bound_ja}であること",
            f"{_BOUND_EN[cond.bound].format(n=n)} different {'person' if n == 1 else 'people'}{who_en}"
            f" took '{cond.distinct_actors}'")
