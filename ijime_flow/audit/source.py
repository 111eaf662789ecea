"""Where an auditor's command reads a case from: a history bundle, or a store and a case id.

Both give the same thing — an :class:`Engine` whose store holds the case (and, for a bundle, only
what the bundle holds) and the case id — so replay, verification and reports run one code path,
offline or not. An engine made from a bundle keeps everything in memory and has no workflows
loaded: every case replays under the definition text it pinned.
"""

from __future__ import annotations

from pathlib import Path

from ..engine import Engine
from ..errors import InvalidData, StoreError, UnknownCase
from ..store import open_store, redact_url
from ..store.urls import sqlite_path


def open_source(file: Path | None, db: str | Path | None, case: str | None) -> tuple[Engine, str]:
    """``file``: a bundle (``ijime-flow export``); otherwise ``db`` and ``case``."""
    if file is not None:
        if db is not None:
            raise InvalidData("give a bundle FILE or --db DB CASE, not both")
        from .bundle import load_bundle

        engine, main = load_bundle(Path(file))
        if case is not None and case != main:
            engine.close()
            raise InvalidData(f"the bundle {file} holds case {main}, not {case}")
        return engine, main
    if db is None or case is None:
        raise InvalidData("give a bundle FILE, or --db DB and a CASE")
    engine = open_reading(db)
    if not engine.store.read_case(case):
        engine.close()
        raise UnknownCase(case)
    return engine, case


def open_reading(db: str | Path) -> Engine:
    """An engine over an existing store, opened read-only: it must be an ijime-flow store, and nothing
    is written to it (``StoreError`` in plain words otherwise, never showing a password)."""
    path = sqlite_path(db)
    if path is not None and path.strip() and not Path(path).is_file():
        raise InvalidData(f"保存先がありません / no such store: {redact_url(db)}")
    try:
        store = open_store(db, read_only=True)
    except ImportError as exc:  # psycopg missing for a postgresql:// URL
        raise StoreError(f"cannot open {redact_url(db)}: {exc}") from None
    return Engine(store)
