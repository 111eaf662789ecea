"""The step library's phrases: each step of :mod:`.steps` and :mod:`.outcomes` declared once, as the regular
expressions a step's text must match whole, so it runs the same in-process (:mod:`.runner`, what
``ijime-flow check`` uses) and under pytest-bdd (:mod:`.bdd`, the pytest plugin). :mod:`.library` has them all."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Phrase:
    pattern: re.Pattern[str]
    func: Callable[..., Any]


PHRASES: list[Phrase] = []


def phrase(pattern: str) -> Callable[[F], F]:
    """Declare that a step's text matching ``pattern`` (whole) runs the decorated function; the named groups
    are its arguments (strings), and ``datatable`` the step's table when it takes one."""

    def declare(func: F) -> F:
        PHRASES.append(Phrase(re.compile(pattern), func))
        return func

    return declare
