"""Who takes a step: a pseudonymous id and the roles that person acts in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

SYSTEM_ACTOR_ID = "ijime-flow"


@dataclass(frozen=True)
class Actor:
    """An actor is a pseudonymous id (never a name) and the roles held, e.g. ``Actor("t-014", {"staff"})``.

    Roles a role includes (a principal is also administrator and staff) are added by the workflow's
    ``roles`` section, so pass only what the person was appointed as.
    """

    id: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def __init__(self, id: str, roles: Iterable[str] = ()) -> None:
        if not isinstance(id, str) or not id.strip():
            from .errors import InvalidData

            raise InvalidData("Actor id must be a non-empty string (a pseudonymous id such as 't-014')")
        if isinstance(roles, str):
            roles = {roles}
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "roles", frozenset(roles))


SYSTEM = Actor(SYSTEM_ACTOR_ID, {"system"})
