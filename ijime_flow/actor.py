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

# the part a pupil plays in a case (いじめ防止対策推進法 and the school's policy name them so)
PARTS: dict[str, str] = {"victim": "被害児童生徒", "perpetrator": "加害児童生徒", "bystander": "観衆・傍観者",
                         "reporter": "通報者"}


@dataclass(frozen=True)
class Subject:
    """A pupil a case is about: a pseudonymous id (never a name), e.g. ``Subject("s-2041", "victim")``, and the
    part they play: ``victim`` (被害児童生徒), ``perpetrator`` (加害児童生徒), ``bystander`` (観衆・傍観者) or
    ``reporter`` (通報者). ``ja``: the part's Japanese label."""

    id: str
    part: str

    def __init__(self, id: str, part: str) -> None:
        from .canonical import check_id

        check_id(id, "subject (a pupil's pseudonymous id such as 's-2041', never a name)")
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "part", check_part(part))

    @property
    def ja(self) -> str:
        return PARTS[self.part]


def check_part(part: object) -> str:
    """A subject's part: one of :data:`PARTS` (``InvalidData`` for anything else)."""
    if not isinstance(part, str) or part not in PARTS:
        from .errors import InvalidData

        known = "、".join(f"{k}（{v}）" for k, v in PARTS.items())
        raise InvalidData(f"児童生徒の立場は {known} のいずれかです / a subject's part is one of {', '.join(PARTS)},"
                          f" not {part!r:.60}")
    return part


def check_actor(actor: object) -> Actor:
    """The ``actor`` argument of a step: an :class:`Actor` (``InvalidData`` for anything else)."""
    if not isinstance(actor, Actor):
        from .errors import InvalidData

        raise InvalidData(f"actor は Actor で指定してください / actor must be an Actor(id, roles), not a"
                          f" {type(actor).__name__}")
    return actor
