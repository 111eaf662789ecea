"""Suggestions for a misspelt name, said in both languages: ``（もしかして: transitions）`` and
``(did you mean: transitions)``.

Close names come from :func:`difflib.get_close_matches`, with three additions, because difflib's ratio is
low for short names even when one letter is wrong (``ix`` for ``id`` scores 0.5):

- a name written in other capitals (``Roles`` for ``roles``);
- any name one edit away: a letter missing, added or changed, or two neighbouring letters swapped;
- a name the word begins (``sat`` for ``saturday``), for words of three letters or more.

The best come first, at most three. A message built with :func:`both` is Japanese first, then `` / `` and
English, the convention of every message a policy author reads.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


def _one_edit(a: str, b: str) -> bool:
    """True when ``b`` is ``a`` with one letter missing, added, changed, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long[k]), len(short))
    return short[i:] == long[i + 1:]


def close_names(word: object, names: Iterable[object], n: int = 3) -> list[str]:
    """The names ``word`` is most likely a misspelling of, best first (none when it is one of them)."""
    if not isinstance(word, str) or not word:
        return []
    pool = list(dict.fromkeys(str(name) for name in names))
    if word in pool:
        return []
    lower = word.lower()
    found = [name for name in pool if name.lower() == lower]
    found += [name for name in pool if _one_edit(lower, name.lower())]
    found += difflib.get_close_matches(word, pool, n=n, cutoff=0.6)
    if len(word) >= 3:
        found += [name for name in pool if name.lower().startswith(lower)]
    return list(dict.fromkeys(found))[:n]


@dataclass(frozen=True)
class Hint:
    """Names to suggest, as the fragments of each language's half of a message (empty when none)."""

    names: tuple[str, ...] = ()

    @property
    def ja(self) -> str:
        return f"（もしかして: {', '.join(self.names)}）" if self.names else ""

    @property
    def en(self) -> str:
        return f" (did you mean: {', '.join(self.names)})" if self.names else ""

    def __bool__(self) -> bool:
        return bool(self.names)


def hint(word: object, names: Iterable[object]) -> Hint:
    """A :class:`Hint` naming what ``word`` is most likely a misspelling of."""
    return Hint(tuple(close_names(word, names)))


def both(ja: str, en: str, suggestion: Hint | None = None) -> str:
    """``ja / en``, each half with the suggestion in its own language."""
    suggestion = suggestion or Hint()
    return f"{ja}{suggestion.ja} / {en}{suggestion.en}"


def snake_case(text: object) -> str | None:
    """``text`` as a valid name (``Report-Admin`` -> ``report_admin``), or None when there is none."""
    if not isinstance(text, str):
        return None
    name = re.sub(r"[^a-z0-9]+", "_", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()).strip("_")
    return name if _IDENT.match(name) and len(name) <= 64 and name != text else None


def _flow(value: object, depth: int = 0) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)[1:-1]
    if depth > 3:
        return "..."
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flow(k, depth + 1)}: {_flow(v, depth + 1)}" for k, v in list(value.items())[:6]) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v, depth + 1) for v in value[:6]) + "]"
    return str(value)


def shown(value: object, limit: int = 40) -> str:
    """A value on one line as YAML's flow style writes it (``{a: 1}``, ``[x, y]``, ``null``), cut at
    ``limit`` characters; a line break or a control character is written as an escape."""
    text = _flow(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
