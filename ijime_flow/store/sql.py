"""What the SQL stores share: reading cases, following positions, definitions, integrity.

Subclasses provide the connection (``_db``, a DB-API connection whose ``execute`` returns a cursor),
their placeholder style and where the last issued position is kept. Statements are written with
``?`` placeholders and translated once for drivers that use ``%s``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

from .base import Store, StoredEvent


class SqlStore(Store):
    _db: Any
    _lock: threading.Lock
    placeholder = "?"

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        if self.placeholder != "?":
            sql = sql.replace("?", self.placeholder)
        with self._lock:
            return list(self._db.execute(sql, tuple(params)).fetchall())

    def _issued(self) -> int:
        """The last position ever handed out (deleted rows included)."""
        raise NotImplementedError

    def read_case(self, case_id: str) -> list[StoredEvent]:
        rows = self._rows("SELECT position, case_id, seq, body FROM events WHERE case_id = ? ORDER BY seq", [case_id])
        return [StoredEvent(*row) for row in rows]

    def read_from(self, position: int = 0, batch: int = 1000) -> Iterator[StoredEvent]:
        """In batches, so the connection is never held across a ``yield`` (other threads may write)."""
        while True:
            rows = self._rows("SELECT position, case_id, seq, body FROM events WHERE position > ? ORDER BY position"
                              " LIMIT ?", [position, batch])
            for row in rows:
                yield StoredEvent(*row)
            if len(rows) < batch:
                return
            position = rows[-1][0]

    def case_ids(self) -> list[str]:
        return [row[0] for row in self._rows("SELECT case_id FROM events GROUP BY case_id ORDER BY min(position)")]

    def get_definition(self, sha256: str) -> str | None:
        rows = self._rows("SELECT body FROM definitions WHERE sha256 = ?", [sha256])
        return str(rows[0][0]) if rows else None

    def integrity_problems(self) -> list[str]:
        """Positions are handed out 1, 2, 3 ... and never reused (a rolled-back append gives its numbers
        back): a missing position is a deleted row, and an issued position above the highest row a cut
        tail — even when every chain still links."""
        ((count, highest),) = self._rows("SELECT count(*), coalesce(max(position), 0) FROM events")
        issued = self._issued()
        problems = []
        if count != highest:
            problems.append(f"{highest - count} event row(s) missing between positions 1 and {highest}:"
                            " rows were deleted from the events table")
        if issued > highest:
            problems.append(f"the last {issued - highest} event row(s) (positions {highest + 1}-{issued})"
                            " were deleted from the events table")
        return problems
