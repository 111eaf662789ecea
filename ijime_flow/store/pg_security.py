"""Access per school on a board's PostgreSQL store: row-level security keyed by the database role.

A board keeps every school's cases in one store; each school's application connects as a role of its
own, and the server shows it only its school's rows of ``events`` and ``cases`` (and of ``subject_keys``,
the key store, when that table exists) and refuses its writes of any other school's. What a role may see is
in the table ``school_roles`` (``role_name``, ``school``), read with ``current_user``:

- a role that is (or is a member of) a role listed with a school sees and writes that school's rows;
- a role that is (or is a member of) a role listed with no school (``NULL``) is the board's: every row.
  The role that creates or upgrades the store (its owner) is listed so, at that moment;
- any other role sees nothing and writes nothing (default closed), and a superuser sees everything
  (PostgreSQL's rule: row-level security never applies to one).

Why not a setting such as ``ijime_flow.school``: any session may ``SET`` a custom setting, whatever
``ALTER ROLE … SET`` gave it, so a school's code could name another school. ``current_user`` changes only
by ``SET ROLE`` to a role the session is a member of, or by ``SET SESSION AUTHORIZATION``, which needs a
superuser; ``school_roles`` is written only by its owner (the roles get ``SELECT``). The policies are
``FORCE``d, so the owner is held by them too (it sees all as the board's, listed when it migrated).

``events`` gets a ``school`` column (the school of the event's case, set on append; filled from each
case's first event when the store is upgraded). A restrictive policy ties it to the case: a first event's
``school`` is the one its hashed body names, and a later event's that of its case's first event (read by
a ``SECURITY DEFINER`` function, past the policies), so no role can write into another school's case
under its own school's name. ``log_head`` has no school: every append locks and moves it, positions stay
global and gapless; a school's role sees gaps (other schools' rows), so the store skips the check of
missing positions for such a role (:func:`sees_all`), and the board's verification keeps it.

What this cannot hide: the existence of a case id of another school (a unique key refuses a second
``(case_id, seq)`` whoever wrote it; the engine's ids are random), and how many events the store holds
(the head's position).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import StoreError

__all__ = ["SCHOOL_TABLES", "access_sql", "check_access", "grant_access", "protect_tables", "upgrade_access"]

SCHOOL_TABLES = ("events", "cases", "subject_keys")  # the tables of rows per school, each with a ``school`` column
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# the schools of current_user's roles, and whether one of its roles is the board's: in the policies as they
# are written here (``\d+ events`` shows them); pg_has_role also counts roles reached through membership
_MINE = ("(SELECT r.school FROM school_roles r JOIN pg_roles g ON g.rolname = r.role_name"
         " WHERE r.school IS NOT NULL AND pg_has_role(current_user, g.oid, 'MEMBER'))")
_BOARD = ("EXISTS (SELECT 1 FROM school_roles r JOIN pg_roles g ON g.rolname = r.role_name"
          " WHERE r.school IS NULL AND pg_has_role(current_user, g.oid, 'MEMBER'))")

_UPGRADE = """
CREATE TABLE IF NOT EXISTS school_roles (role_name TEXT PRIMARY KEY, school TEXT);
INSERT INTO school_roles (role_name, school) VALUES (current_user, NULL) ON CONFLICT (role_name) DO NOTHING;
ALTER TABLE events ADD COLUMN IF NOT EXISTS school TEXT;
ALTER TABLE events DISABLE TRIGGER events_append_only;
UPDATE events e SET school = f.doc->>'school' FROM events f
    WHERE f.case_id = e.case_id AND f.seq = 1 AND e.school IS NULL AND f.doc->>'school' IS NOT NULL;
ALTER TABLE events ENABLE TRIGGER events_append_only;
CREATE INDEX IF NOT EXISTS events_school ON events (school, position);
"""
# for a school's role (the board's writes as it will): a first event is of the school its hashed body names, a
# later one of its case's first event's (seen past the policies; none yet: a case opened in this append)
_CASE_SCHOOL = """
CREATE OR REPLACE FUNCTION ijime_flow_of_case_school(c TEXT, s TEXT) RETURNS BOOLEAN
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ SELECT NOT EXISTS (SELECT 1 FROM {schema}.events f WHERE f.case_id = c AND f.seq = 1
                                                          AND f.school IS DISTINCT FROM s) $$;
DROP POLICY IF EXISTS ijime_flow_case_school ON events;
CREATE POLICY ijime_flow_case_school ON events AS RESTRICTIVE FOR INSERT WITH CHECK ({board} OR
    CASE WHEN seq = 1 THEN school IS NOT DISTINCT FROM doc->>'school' ELSE ijime_flow_of_case_school(case_id, school) END);
"""


def upgrade_access(db: Any) -> None:
    """Schema 3 -> 4, in the migration's transaction (by the owner): ``school_roles`` with the migrating
    role as the board's, ``events.school`` filled from each case's first event, and the policies."""
    db.execute(_UPGRADE)
    (schema,) = db.execute("SELECT quote_ident(current_schema())").fetchone()
    db.execute(_CASE_SCHOOL.format(schema=schema, board=_BOARD))
    protect_tables(db)


def protect_tables(db: Any, tables: tuple[str, ...] = SCHOOL_TABLES) -> list[str]:
    """Row-level security on each of ``tables`` that exists in the current schema with a ``school``
    column: the board's policy and the school's (reading and writing), enabled and forced. Safe to run
    again (the policies are replaced). Returns the tables it protected. A table added later (the key
    store's ``subject_keys``) calls this right after creating itself, in the same transaction."""
    present = [str(t) for (t,) in db.execute(
        "SELECT table_name::text FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND column_name = 'school' AND table_name = ANY(%s) ORDER BY table_name", (list(tables),)).fetchall()]
    for table in present:
        db.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; ALTER TABLE {table} FORCE ROW LEVEL SECURITY;"
                   f" DROP POLICY IF EXISTS ijime_flow_board ON {table};"
                   f" CREATE POLICY ijime_flow_board ON {table} USING ({_BOARD}) WITH CHECK ({_BOARD});"
                   f" DROP POLICY IF EXISTS ijime_flow_school ON {table};"
                   f" CREATE POLICY ijime_flow_school ON {table} USING (school IN {_MINE}) WITH CHECK (school IN {_MINE})")
    return present


def check_access(db: Any, school: str | None, shown: str) -> bool:
    """Whether this session's role sees every school's rows (a superuser, the board's), checked as the
    store opens: a role of no school and not the board's is refused (it would see nothing), and so is a
    school's role opened for another ``school``."""
    superuser, board, mine, user = db.execute(
        f"SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), {_BOARD},"
        f" array{_MINE}, current_user::text").fetchone()
    if superuser or board:
        return True
    if not mine:
        raise StoreError(f"{shown}: 役割 {user} はどの学校にも教育委員会にも割り当てられていません（何も読み書きできません）"
                         f" / the role {user} is mapped to no school and is not the board's, so it can read and write"
                         " nothing here: the store's owner maps it (ijime_flow.store.pg_security.grant_access)")
    if school is not None and school not in mine:
        raise StoreError(f"{shown}: 役割 {user} は学校 {', '.join(sorted(mine))} のもので、学校 {school} のものではありません"
                         f" / the role {user} serves {', '.join(sorted(mine))}, not '{school}': connect as that"
                         " school's role")
    return False


def access_sql(role: str, school: str | None, schema: str, *, tables: tuple[str, ...] = ("events", "cases")) -> str:
    """The statements, for the store's owner to run, that let the existing login ``role`` use the store
    in ``schema`` as ``school``'s application (or, with ``school=None``, as the board's): the grants its
    appends and reads need, and its row of ``school_roles``. ``tables``: the tables per school present
    (:func:`grant_access` finds them: ``subject_keys`` too once the key store has made it, with ``DELETE``:
    forgetting a pupil deletes its keys)."""
    for name in (role, schema):
        if not _ROLE_NAME.fullmatch(name):
            raise StoreError(f"役割・スキーマの名前は英小文字・数字・_ だけにしてください: {name!r}"
                             f" / a role or schema name of lower-case letters, digits and '_' only: {name!r}")
    if school is not None and ("'" in school or not school.strip()):
        raise StoreError(f"学校の ID が使えません / not a usable school id: {school!r}")
    rows = [t for t in tables if t != "events"]  # cases, subject_keys: their rows are written again (an upsert)
    lines = [f"GRANT USAGE ON SCHEMA {schema} TO {role};",
             f"GRANT SELECT ON {schema}.meta, {schema}.school_roles TO {role};",
             f"GRANT SELECT, INSERT ON {schema}.definitions, {schema}.events TO {role};",
             f"GRANT SELECT, UPDATE ON {schema}.log_head TO {role};"]
    if rows:
        lines.append(f"GRANT SELECT, INSERT, UPDATE ON {', '.join(f'{schema}.{t}' for t in rows)} TO {role};")
    if "subject_keys" in tables:
        lines.append(f"GRANT DELETE ON {schema}.subject_keys TO {role};")
    if school is None:  # the board's rebuilds the projection
        lines.append(f"GRANT DELETE ON {schema}.cases TO {role}; GRANT INSERT, UPDATE, DELETE ON {schema}.meta TO {role};")
    value = "NULL" if school is None else f"'{school}'"
    lines.append(f"INSERT INTO {schema}.school_roles (role_name, school) VALUES ('{role}', {value})"
                 " ON CONFLICT (role_name) DO UPDATE SET school = excluded.school;")
    return "\n".join(lines) + "\n"


def grant_access(store: Any, role: str, school: str | None) -> None:
    """Run :func:`access_sql` on a writable :class:`~ijime_flow.store.postgres.PostgresStore` opened by
    the owner, for the tables per school its schema holds."""
    store._writable()

    def grant(db: Any) -> None:
        (schema,) = db.execute("SELECT current_schema()").fetchone()
        present = tuple(str(t) for (t,) in db.execute(
            "SELECT table_name::text FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND column_name = 'school' AND table_name = ANY(%s)", (list(SCHOOL_TABLES),)).fetchall())
        db.execute(access_sql(role, school, str(schema), tables=tuple(t for t in SCHOOL_TABLES if t in present)))

    store._run(grant, retry=False, savepoint=True)
