"""Access per school on a board's PostgreSQL store, with real roles on a real server: two schools' roles and
the board's, each school's engine writing its cases; a school reads and writes only its own, whatever its
code sends (``SET``, another school's rows, another school's case ids); the board reads all and verifies.

Roles are cluster-wide: each test makes its own (unique names) and drops them at its end."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from conftest import COMMITTEE, PG_ADMIN_URL, STAFF, WORKFLOWS, jst, walk_main_line
from psycopg.conninfo import conninfo_to_dict

from ijime_flow import CaseExists, Engine, FixedClock, StoreError, UnknownCase
from ijime_flow.store.pg_security import access_sql, grant_access, protect_tables
from ijime_flow.store.postgres import PostgresStore


@dataclass
class Board:
    schema: str
    urls: dict[str, str]  # "school-1", "school-2", "board", "nobody": a URL as that role
    roles: dict[str, str]
    cases: dict[str, list[str]]  # the case ids each school's engine opened


def _url_as(pg_url: str, role: str) -> str:
    given = conninfo_to_dict(pg_url)
    return (f"postgresql://{role}@{given.get('host', '127.0.0.1')}:{given.get('port', 5432)}/"
            f"{given.get('dbname', 'test')}?options=-csearch_path%3D{given['options'].split('search_path=', 1)[1]}")


def _admin(schema: str) -> psycopg.Connection[Any]:
    return psycopg.connect(PG_ADMIN_URL, autocommit=True, options=f"-csearch_path={schema}")


def _engine(url: str, clock: FixedClock, school: str | None) -> Engine:
    # keys in memory: these stores are made without the key table (subject_keys), which a school's role may not
    # create; the owner's first Engine makes it (then grant_access covers it), which these tests do not exercise
    from ijime_flow.privacy.keys import MemoryKeys

    engine = Engine(url, clock=clock, school=school, keys=MemoryKeys())
    engine.load(WORKFLOWS)
    return engine


@pytest.fixture
def board(pg_url: str, clock: FixedClock) -> Iterator[Board]:
    """The store made by its owner (here the superuser of the test server), two schools' roles, the board's
    and one mapped to nothing; school 1 opens one case, school 2 two."""
    schema = conninfo_to_dict(pg_url)["options"].split("search_path=", 1)[1]
    tag = uuid.uuid4().hex[:8]
    roles = {"school-1": f"ijime_s1_{tag}", "school-2": f"ijime_s2_{tag}", "board": f"ijime_board_{tag}",
             "nobody": f"ijime_nobody_{tag}"}
    with _admin(schema) as admin:
        for role in roles.values():
            admin.execute(f"CREATE ROLE {role} LOGIN")
    try:
        owner = PostgresStore(pg_url)
        for name, role in roles.items():
            if name != "nobody":
                grant_access(owner, role, None if name == "board" else name)
        with _admin(schema) as admin:  # reads granted, and mapped to nothing: row-level security shows it nothing
            admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO {roles['nobody']};"
                          f" GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {roles['nobody']}")
        owner.close()
        urls = {name: _url_as(pg_url, role) for name, role in roles.items()}
        cases: dict[str, list[str]] = {}
        for school, count in (("school-1", 1), ("school-2", 2)):
            with _engine(urls[school], clock, school) as engine:
                cases[school] = []
                for minute in range(count):
                    case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9, minute))
                    walk_main_line(case, until="share_with_committee")
                    cases[school].append(case.id)
        yield Board(schema, urls, roles, cases)
    finally:
        with _admin(schema) as admin:
            for role in roles.values():
                admin.execute(f"DROP OWNED BY {role}")
                admin.execute(f"DROP ROLE {role}")


def _seen(url: str) -> set[str]:
    """The case ids of the rows a role's plain SQL sees in ``events`` and ``cases``."""
    with psycopg.connect(url, autocommit=True) as db:
        return {r[0] for r in db.execute("SELECT case_id FROM events UNION SELECT case_id FROM cases")}


def test_each_school_reads_only_its_own_cases(board: Board, clock: FixedClock) -> None:
    mine, theirs = board.cases["school-1"], board.cases["school-2"]
    with _engine(board.urls["school-1"], clock, "school-1") as engine:
        assert [row.case_id for row in engine.cases()] == mine
        assert engine.count_cases() == 1 and engine.count_cases_by("school") == {"school-1": 1}
        assert engine.cases(school="school-2") == []
        assert engine.case_ids() == mine
        assert {e.case_id for e in engine.store.read_from(0)} == set(mine)
        assert {r[1] for r in engine.store.read_rows(0)} == set(mine)
        assert engine.get_case(mine[0]).history()[0].school == "school-1"
        for other in theirs:
            with pytest.raises(UnknownCase):
                engine.get_case(other)
            assert engine.store.read_case(other) == [] and engine.store.case_row(other) is None
            with pytest.raises(UnknownCase):
                engine.verify(other)
        report = engine.verify()
        assert report.ok and report.to_dict()["cases"] == 1, report.to_dict()
        assert engine.store.integrity_problems() == []  # the other school's positions are no gaps to it
    assert _seen(board.urls["school-1"]) == set(mine)
    assert _seen(board.urls["school-2"]) == set(theirs)
    assert _seen(board.urls["nobody"]) == set()  # granted SELECT, mapped to no school: default closed


def test_the_board_reads_all_and_the_whole_store_verifies_gapless(board: Board, clock: FixedClock) -> None:
    with _engine(board.urls["board"], clock, None) as engine:
        assert set(engine.case_ids()) == set(board.cases["school-1"] + board.cases["school-2"])
        assert engine.count_cases_by("school") == {"school-1": 1, "school-2": 2}
        positions = [e.position for e in engine.store.read_from(0)]
        assert positions == list(range(1, len(positions) + 1))
        assert engine.store._issued() == len(positions)  # type: ignore[attr-defined]
        assert engine.store.integrity_problems() == []
        report = engine.verify()
        assert report.ok and report.to_dict()["cases"] == 3, report.to_dict()
        with psycopg.connect(board.urls["board"], autocommit=True) as db:  # every event knows its case's school
            assert db.execute("SELECT count(*) FROM events e JOIN cases c USING (case_id)"
                              " WHERE e.school IS DISTINCT FROM c.school").fetchone() == (0,)


def test_the_board_still_sees_a_gap(board: Board, clock: FixedClock) -> None:
    """The check a school's store skips is kept for the board: a deleted row of school 2 is found."""
    with _admin(board.schema) as admin:
        admin.execute("ALTER TABLE events DISABLE TRIGGER USER")
        admin.execute("DELETE FROM events WHERE position = 2")
        admin.execute("ALTER TABLE events ENABLE TRIGGER USER")
    with _engine(board.urls["board"], clock, None) as engine:
        assert any("missing" in p for p in engine.store.integrity_problems())


def test_a_school_cannot_write_another_schools_cases(board: Board, clock: FixedClock) -> None:
    theirs = board.cases["school-2"][0]
    with _engine(board.urls["school-1"], clock, "school-1") as engine:
        with pytest.raises(StoreError) as caught:  # the engine's school is the row's: the server refuses it
            engine.open_case("response", actor=STAFF, at=jst(2019, 6, 1, 9), school="school-2")
        assert str(caught.value).startswith("この接続の役割には許されていない操作です"), caught.value
        with pytest.raises((CaseExists, StoreError)):  # another school's case id: taken (the unique key), and its rows unseen
            engine.open_case("response", actor=STAFF, at=jst(2019, 6, 1, 9), case_id=theirs)
        assert engine.count_cases() == 1
    with pytest.raises(StoreError) as refused:  # an engine for another school, on this school's role
        Engine(board.urls["school-1"], school="school-2")
    assert str(refused.value).find("学校 school-2 のものではありません") > 0, refused.value
    with pytest.raises(StoreError) as nobody:  # a role of no school is refused as the store opens
        Engine(board.urls["nobody"])
    assert "どの学校にも教育委員会にも割り当てられていません" in str(nobody.value), nobody.value
    with _engine(board.urls["school-2"], clock, "school-2") as engine:  # school 2's cases as they were
        case = engine.get_case(theirs)
        assert case.seq == _last_seq(board, theirs) and case.history()[0].school == "school-2"
        case.fire("start_fact_finding", actor=COMMITTEE, at=jst(2019, 5, 9, 10))
        assert engine.verify().ok


def _last_seq(board: Board, case_id: str) -> int:
    with psycopg.connect(board.urls["board"], autocommit=True) as db:
        return int(db.execute("SELECT max(seq) FROM events WHERE case_id = %s", (case_id,)).fetchone()[0])


def _refused(db: psycopg.Connection[Any], sql: str, params: tuple[Any, ...] = ()) -> str:
    try:
        db.execute(sql, params)
    except psycopg.Error as exc:
        return f"{exc.sqlstate} {exc}"
    raise AssertionError(f"accepted: {sql}")


def test_a_schools_own_sql_cannot_defeat_the_policies(board: Board, clock: FixedClock) -> None:
    """What a school's code can send on its connection, past the library: settings, another school's rows,
    its own school's name on another school's case, the policies and the role map themselves."""
    theirs = board.cases["school-2"][0]
    other_role = board.roles["school-2"]
    with psycopg.connect(board.urls["school-1"], autocommit=True) as db:
        db.execute("SET ijime_flow.school = 'school-2'")  # a setting changes nothing: the role decides
        assert db.execute("SELECT count(*) FROM events WHERE school = 'school-2'").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM cases WHERE case_id = %s", (theirs,)).fetchone() == (0,)
        assert _refused(db, f"SET ROLE {other_role}").startswith("42501")
        assert _refused(db, "SET SESSION AUTHORIZATION postgres").startswith("42501")
        (head,) = db.execute("SELECT position FROM log_head").fetchone()
        body = '{"case_id": "forged", "seq": 1, "school": "school-2"}'
        row = ("INSERT INTO events (position, case_id, seq, type, at, hash, body, doc, school)"
               " VALUES (%s, %s, %s, 'x', 'x', 'x', %s, %s::jsonb, %s)")
        said = _refused(db, row, (head + 100, "forged", 1, body, body, "school-2"))  # a row of another school
        assert said.startswith("42501") and "row-level security" in said, said
        mislabelled = body.replace("school-2", "school-1")  # its own school's name on a body naming school 2
        assert _refused(db, row, (head + 100, "forged", 1, body, body, "school-1")).startswith("42501")
        said = _refused(db, row, (head + 100, theirs, _last_seq(board, theirs) + 1, mislabelled, mislabelled, "school-1"))
        assert said.startswith("42501") and "ijime_flow_case_school" in said, said
        said = _refused(db, "INSERT INTO cases (case_id, school, workflow, version, definition_sha256, states, active,"
                            " closed, opened_at, updated_at, seq, deadlines) VALUES ('forged', 'school-2', 'w', '1', 'x',"
                            " '[]', '[]', false, now(), now(), 1, '[]')")
        assert said.startswith("42501"), said
        assert db.execute("UPDATE cases SET closed = true WHERE case_id = %s", (theirs,)).rowcount == 0  # unseen
        assert _refused(db, "UPDATE cases SET school = 'school-2'").startswith("42501")  # its own rows, moved away
        assert _refused(db, "DELETE FROM cases").startswith("42501")
        assert _refused(db, "INSERT INTO school_roles VALUES (current_user, NULL)").startswith("42501")
        assert _refused(db, "UPDATE school_roles SET school = NULL").startswith("42501")
        assert _refused(db, "ALTER TABLE events DISABLE ROW LEVEL SECURITY").startswith("42501")
        assert _refused(db, "DROP POLICY ijime_flow_school ON events").startswith("42501")
        assert _refused(db, "CREATE FUNCTION school_roles() RETURNS int LANGUAGE sql AS 'SELECT 1'").startswith("42501")
    assert _seen(board.urls["school-1"]) == set(board.cases["school-1"])
    with _engine(board.urls["board"], clock, None) as engine:  # nothing of it landed
        report = engine.verify()
        assert report.ok and report.to_dict()["cases"] == 3, report.to_dict()
        assert engine.store.integrity_problems() == []


def test_the_tests_fail_without_the_policies(board: Board) -> None:
    """Row-level security off (as the owner may): school 1 sees school 2's rows, which the tests above
    would catch; protect_tables puts it back."""
    with _admin(board.schema) as admin:
        admin.execute("ALTER TABLE events DISABLE ROW LEVEL SECURITY; ALTER TABLE cases DISABLE ROW LEVEL SECURITY")
        assert _seen(board.urls["school-1"]) == set(board.cases["school-1"] + board.cases["school-2"])
        assert protect_tables(admin) == ["cases", "events"]
    assert _seen(board.urls["school-1"]) == set(board.cases["school-1"])


def test_an_application_pool_of_a_schools_role_is_scoped_too(board: Board, clock: FixedClock) -> None:
    from psycopg_pool import ConnectionPool

    from ijime_flow.privacy.keys import MemoryKeys

    with ConnectionPool(board.urls["school-1"], min_size=1, max_size=2, open=True) as pool, \
            Engine(PostgresStore(pool=pool, school="school-1"), clock=clock, school="school-1", keys=MemoryKeys()) as engine:
        engine.load(WORKFLOWS)
        assert engine.case_ids() == board.cases["school-1"]
        with engine.transaction() as db:
            case = engine.open_case("response", actor=STAFF, at=jst(2019, 6, 3, 9))
            assert db.execute("SELECT count(*) FROM cases").fetchone() == (2,)
        with pytest.raises(UnknownCase):
            engine.get_case(board.cases["school-2"][0])
        assert set(engine.case_ids()) == {*board.cases["school-1"], case.id}


def test_a_schema_3_store_is_upgraded_with_each_events_school(board: Board, clock: FixedClock) -> None:
    """3 -> 4 by the owner: ``events.school`` from each case's first event, the policies, the projection
    left as it is (not stale)."""
    with _admin(board.schema) as admin:  # the store as schema 3 had it
        admin.execute("ALTER TABLE events DROP COLUMN school CASCADE; DROP POLICY ijime_flow_board ON events;"
                      " DROP POLICY ijime_flow_board ON cases; DROP POLICY ijime_flow_school ON cases;"
                      " ALTER TABLE events NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;"
                      " ALTER TABLE cases NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;"
                      " DROP FUNCTION ijime_flow_of_case_school; DROP TABLE school_roles;"
                      " UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    url = _url_as(board.urls["board"], "postgres")
    with pytest.raises(StoreError):  # read-only: not upgraded
        PostgresStore(url, read_only=True)
    owner = PostgresStore(url)
    assert not owner.projection_stale()
    with _admin(board.schema) as admin:
        assert admin.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("4",)
        assert dict(admin.execute("SELECT school, count(DISTINCT case_id) FROM events GROUP BY school").fetchall()) == {
            "school-1": 1, "school-2": 2}
    for name in ("school-1", "school-2"):
        grant_access(owner, board.roles[name], name)
    owner.close()
    assert _seen(board.urls["school-1"]) == set(board.cases["school-1"])
    with _engine(board.urls["school-2"], clock, "school-2") as engine:
        assert engine.case_ids() == board.cases["school-2"] and engine.verify().ok


def test_the_sql_for_a_role_is_what_the_docs_show() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "postgres-access.md").read_text(encoding="utf-8")
    assert access_sql("school_1", "school-1", "board_store") in doc
    assert access_sql("board", None, "board_store") in doc
    with pytest.raises(StoreError):
        access_sql("school-1; DROP TABLE events", "school-1", "x")


def test_the_key_store_table_is_covered_once_it_exists(board: Board) -> None:
    """``subject_keys`` (the key store's table, ``school`` column), made by the owner and protected by
    ``protect_tables``: each school's role reads and deletes only its own keys."""
    with _admin(board.schema) as admin:
        admin.execute("CREATE TABLE IF NOT EXISTS subject_keys (kid TEXT PRIMARY KEY, school TEXT NOT NULL, owner TEXT"
                      " NOT NULL, case_id TEXT NOT NULL, key BYTEA NOT NULL, UNIQUE (school, owner, case_id))")
        assert protect_tables(admin) == ["cases", "events", "subject_keys"]
        admin.execute("INSERT INTO subject_keys VALUES ('k1', 'school-1', 'p1', 'c1', 'a'), ('k2', 'school-2', 'p2', 'c2', 'b')")
    owner = PostgresStore(_url_as(board.urls["board"], "postgres"))
    for name in ("school-1", "school-2", "board"):  # again: the grants cover the tables there are
        grant_access(owner, board.roles[name], None if name == "board" else name)
    owner.close()
    with psycopg.connect(board.urls["school-1"], autocommit=True) as db:
        assert db.execute("SELECT kid FROM subject_keys").fetchall() == [("k1",)]
        assert db.execute("DELETE FROM subject_keys WHERE kid = 'k2'").rowcount == 0
        assert _refused(db, "INSERT INTO subject_keys VALUES ('k3', 'school-2', 'p', 'c', 'x')").startswith("42501")
        assert db.execute("DELETE FROM subject_keys WHERE kid = 'k1'").rowcount == 1
    with psycopg.connect(board.urls["board"], autocommit=True) as db:
        assert db.execute("SELECT kid FROM subject_keys").fetchall() == [("k2",)]


def test_each_schools_keys_on_the_store_seal_open_and_forget_only_its_own(board: Board, clock: FixedClock) -> None:
    """The key store as shipped on a board's server: the owner's first engine makes ``subject_keys`` (protected
    per school), ``grant_access`` covers it, and each school's engine keeps its pupils' keys there with its own
    role. A school opens its own sealed values, never another school's (its key is not there for it); it cannot
    forget another school's pupil; the board's role opens all."""
    from ijime_flow import About, Actor, Subject
    from ijime_flow.privacy.keys import PostgresKeys

    owner = PostgresStore(_url_as(board.urls["board"], "postgres"))
    PostgresKeys(owner)  # what Engine(url) does on the owner's first open: creates and protects subject_keys
    for name in ("school-1", "school-2", "board"):
        grant_access(owner, board.roles[name], None if name == "board" else name)
    owner.close()
    opened: dict[str, tuple[str, str]] = {}
    for school, pupil, text in (("school-1", "s-1001", "体育館の裏で"), ("school-2", "s-2002", "登校中の通学路で")):
        engine = Engine(board.urls[school], clock=clock, school=school)  # default keys: PostgresKeys, as this role
        engine.load(WORKFLOWS)
        with engine:
            assert isinstance(engine.keys, PostgresKeys)
            case = engine.open_case("response", actor=STAFF, at=jst(2019, 6, 1, 9), subjects=[Subject(pupil, "victim")],
                                    data={"place": About(pupil, text)})
            opened[school] = (case.id, pupil)
            assert engine.get_case(case.id).history()[0].data["place"] == text
    with psycopg.connect(board.urls["school-1"], autocommit=True) as db:
        assert {r[0] for r in db.execute("SELECT school FROM subject_keys")} == {"school-1"}
    board_actor = Actor("b-001", {"board"})
    with Engine(board.urls["school-1"], clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        assert engine.keys.owned("s-2002") == []  # school 2's pupil: no key of theirs is visible here
        gone = engine.forget("s-2002", actor=board_actor, reason="request")
        assert gone.keys == 0 and gone.cases == ()
    with Engine(board.urls["board"], clock=clock) as engine:
        engine.load(WORKFLOWS)
        for school, (case_id, pupil) in opened.items():
            assert engine.get_case(case_id).history()[0].data["place"] != "消去済み / erased", school
            assert [c for _, c in engine.keys.owned(pupil)] == [case_id]
        assert engine.verify().ok
