"""What the SQL stores share: reading cases, following positions, definitions, integrity.

Subclasses provide the connection (``_db``, a DB-API connection whose ``execute`` returns a cursor),
their placeholder style and where the last issued position is kept. Statements are written with
``?`` placeholders and translated once for drivers that use ``%s``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from .base import Store, StoredEvent
from .rows import CaseQuery, CaseRow, GroupBy, check_group


def cases_ddl(*, json: str, boolean: str, time: str, options: str = "", due_index: bool = True) -> str:
    """The ``cases`` projection table and its indexes, in a dialect's types (JSON arrays, booleans,
    times). Columns in the order of ``SqlStore._CASE_COLUMNS``. ``due_index``: an index on
    ``next_due``; every step that touches a case's deadlines rewrites an entry of it (one more page
    per commit), which a board's many cases repay and one school's few hundred do not."""
    return f"""CREATE TABLE IF NOT EXISTS cases (
    case_id TEXT PRIMARY KEY,
    school TEXT,
    workflow TEXT NOT NULL,
    version TEXT NOT NULL,
    definition_sha256 TEXT NOT NULL,
    states {json} NOT NULL,
    active {json} NOT NULL,
    closed {boolean} NOT NULL,
    opened_at {time} NOT NULL,
    updated_at {time} NOT NULL,
    seq INTEGER NOT NULL,
    deadlines {json} NOT NULL,
    next_due {time},
    subjects {json} NOT NULL DEFAULT '[]',
    actors {json} NOT NULL DEFAULT '[]'
){options};
CREATE INDEX IF NOT EXISTS cases_school ON cases (school, workflow);
CREATE INDEX IF NOT EXISTS cases_workflow ON cases (workflow);
""" + (_DUE_INDEX if due_index else "")


_DUE_INDEX = "CREATE INDEX IF NOT EXISTS cases_next_due ON cases (next_due) WHERE next_due IS NOT NULL;\n"


class SqlStore(Store):
    _db: Any
    _lock: threading.RLock
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

    def read_rows(self, position: int = 0, batch: int = 5000) -> Iterator[tuple[int, str, int, str]]:
        """Like :meth:`read_from`, as the driver's tuples, in larger batches."""
        while True:
            rows = self._rows("SELECT position, case_id, seq, body FROM events WHERE position > ? ORDER BY position"
                              " LIMIT ?", [position, batch])
            yield from rows
            if len(rows) < batch:
                return
            position = rows[-1][0]

    # the condition of Store.read_share in the dialect: the code point of the id's last character (an empty
    # id: 0) modulo the first parameter is the second
    _SHARE = "coalesce(unicode(substr(case_id, -1)), 0) % ? = ?"

    def read_share(self, share: int, shares: int, batch: int = 5000) -> Iterator[tuple[int, str, int, str]]:
        """:meth:`Store.read_share`, the other parts' rows passed by in the database (never sent, never made
        Python objects): a window of positions at a time, so that the position index is used and the
        connection is never held across a ``yield``; rows appended meanwhile are read too."""
        sql = f"SELECT position, case_id, seq, body FROM events WHERE position > ? AND position <= ? AND {self._SHARE}" \
              " ORDER BY position"
        position, window = 0, batch * max(shares, 1)
        top = self._top()
        while position < top:
            yield from self._rows(sql, [position, position + window, shares, share])
            position += window
            if position >= top:
                top = self._top()

    def _top(self) -> int:
        return int(self._rows("SELECT coalesce(max(position), 0) FROM events")[0][0])

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

    # -- the projection ---------------------------------------------------------------------------------
    # The dialects differ in how a JSON array of states is searched and how rows are typed; the
    # subclasses give those pieces, the queries are the same.
    _CASE_COLUMNS = ("case_id, school, workflow, version, definition_sha256, states, active, closed, opened_at,"
                     " updated_at, seq, deadlines, next_due, subjects, actors")

    def _encode(self, row: CaseRow) -> tuple[Any, ...]:
        raise NotImplementedError

    def _decode(self, values: Sequence[Any]) -> CaseRow:
        raise NotImplementedError

    def _state_is(self) -> str:
        """A condition, with one placeholder, true when the state given is in ``active``."""
        raise NotImplementedError

    def _states_of(self) -> tuple[str, str]:
        """A table expression joined to ``cases`` giving one row per active state, and its column."""
        raise NotImplementedError

    def _time(self, value: datetime) -> Any:
        raise NotImplementedError

    def _subject_is(self, subject: str | None, part: str | None) -> tuple[str, list[Any]]:
        """A condition and its parameters: a pupil of ``subjects`` is ``subject`` (if given) in ``part`` (if given)."""
        raise NotImplementedError

    def _actor_is(self, actor: str) -> tuple[str, list[Any]]:
        """A condition and its parameters: ``actor`` is in ``actors``."""
        raise NotImplementedError

    @cached_property
    def _upsert(self) -> str:
        return self._upsert_sql()

    def _upsert_sql(self, count: int = 1) -> str:
        """Insert or update ``count`` rows (of distinct cases); a row never replaces a later one."""
        updated = ", ".join(f"{c} = excluded.{c}" for c in
                            ("states", "active", "closed", "updated_at", "seq", "deadlines", "next_due", "subjects",
                             "actors"))
        values = ", ".join([f"({', '.join(['?'] * 15)})"] * count)
        return (f"INSERT INTO cases ({self._CASE_COLUMNS}) VALUES {values}"
                f" ON CONFLICT (case_id) DO UPDATE SET {updated} WHERE cases.seq < excluded.seq").replace(
                    "?", self.placeholder)

    def _where(self, query: CaseQuery) -> tuple[str, list[Any]]:
        clauses, params = [], list[Any]()
        for column in ("school", "workflow"):
            value = getattr(query, column)
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if query.state is not None:
            clauses.append(self._state_is())
            params.append(self._state_param(query.state))
        if query.closed is not None:
            clauses.append("closed = ?")
            params.append(query.closed)
        if query.overdue_at is not None:
            clauses.append("next_due <= ?")
            params.append(self._time(query.overdue_at))
        if query.due_before is not None:  # on the next_due index where there is one; closed cases never
            clauses.append("closed = ? AND next_due < ?")
            params += [False, self._time(query.due_before)]
        if query.subject is not None or query.part is not None:
            clause, more = self._subject_is(query.subject, query.part)
            clauses.append(clause)
            params += more
        if query.actor is not None:
            clause, more = self._actor_is(query.actor)
            clauses.append(clause)
            params += more
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    _no_limit: Any = None  # what LIMIT takes for "no limit"

    def _state_param(self, state: str) -> Any:
        return state

    def projection_stale(self) -> bool:
        return bool(self._rows("SELECT 1 FROM meta WHERE key = 'projection' AND value = 'stale'"))

    def close(self) -> None:
        self._db.close()

    def case_row(self, case_id: str) -> CaseRow | None:
        rows = self._rows(f"SELECT {self._CASE_COLUMNS} FROM cases WHERE case_id = ?", [case_id])
        return self._decode(rows[0]) if rows else None

    def find_cases(self, query: CaseQuery, *, limit: int | None = None, offset: int = 0) -> list[CaseRow]:
        where, params = self._where(query)
        sql = f"SELECT {self._CASE_COLUMNS} FROM cases{where} ORDER BY opened_at, case_id"
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            params += [self._no_limit if limit is None else int(limit), int(offset)]
        return [self._decode(row) for row in self._rows(sql, params)]

    def count_cases(self, query: CaseQuery) -> int:
        where, params = self._where(query)
        return int(self._rows(f"SELECT count(*) FROM cases{where}", params)[0][0])

    def count_cases_by(self, by: GroupBy, query: CaseQuery) -> dict[str, int]:
        check_group(by)
        where, params = self._where(query)
        if by == "state":
            table, column = self._states_of()
            sql = f"SELECT {column}, count(*) FROM cases, {table}{where} GROUP BY {column} ORDER BY {column}"
        else:
            sql = f"SELECT coalesce({by}, ''), count(*) FROM cases{where} GROUP BY coalesce({by}, '') ORDER BY 1"
        return {str(key): int(count) for key, count in self._rows(sql, params)}
