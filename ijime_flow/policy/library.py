"""The whole step library: the phrases of :mod:`.steps` (given, when) and :mod:`.outcomes` (then), and the
ones a step's text matches."""

from __future__ import annotations

from . import outcomes, steps
from .phrases import PHRASES, Phrase

MODULES = (steps, outcomes)  # importing them declares their phrases


def library() -> list[Phrase]:
    """Every phrase of the step library."""
    return PHRASES


def matching(text: str) -> list[tuple[Phrase, dict[str, str]]]:
    """The phrases ``text`` matches whole, with their arguments."""
    found = []
    for item in PHRASES:
        match = item.pattern.fullmatch(text)
        if match is not None:
            found.append((item, match.groupdict()))
    return found
