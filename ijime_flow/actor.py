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
        from .canonical import check_id
        from .errors import InvalidData

        check_id(id, "Actor id (a pseudonymous id such as 't-014')")
        if isinstance(roles, str):
            roles = {roles}
        try:
            held = frozenset(roles)
        except TypeError:
            raise InvalidData(f"Actor roles must be role ids (text), not a {type(roles).__name__}") from None
        for role in held:
            check_id(role, "Actor role")
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "roles", held)


SYSTEM = Actor(SYSTEM_ACTOR_ID, {"system"})


def check_actor(actor: object) -> Actor:
    """The ``actor`` argument of a step: an :class:`Actor` (``InvalidData`` for anything else)."""
    if not isinstance(actor, Actor):
        from .errors import InvalidData

        raise InvalidData(f"actor は Actor で指定してください / actor must be an Actor(id, roles), not a"
                          f" {type(actor).__name__}")
    return actor
