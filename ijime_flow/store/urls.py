"""Store targets as people type them: which kind of store a target names, and how to show it in a
message without its password."""

from __future__ import annotations

from pathlib import Path

from .postgres import redact_url as _redact

__all__ = ["MEMORY", "is_memory", "is_url", "redact_url", "sqlite_path"]

MEMORY = (":memory:", "memory:", "memory://", "sqlite:///:memory:")


def redact_url(target: str | Path) -> str:
    """The target as it may be shown: a URL's password hidden (``user:***@``, ``password=***``); a path
    as it is."""
    return _redact(str(target))


def is_url(target: str | Path) -> bool:
    return "://" in str(target)


def is_memory(target: object) -> bool:
    """A target that keeps nothing once the process ends."""
    return target is None or str(target) in MEMORY


def sqlite_path(target: str | Path) -> str | None:
    """The file a SQLite target names (``sqlite:///path`` or a plain path), else ``None``."""
    text = str(target)
    if text.startswith("sqlite:///"):
        return text.removeprefix("sqlite:///")
    if is_url(text) or is_memory(text):
        return None
    return text
