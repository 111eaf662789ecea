"""Shared fixtures: the shipped workflows, actors, a fixed clock, engines in memory and on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from ijime_flow import Actor, Case, Engine, FixedClock
from ijime_flow.clock import TOKYO

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"

STAFF = Actor("t-014", {"staff"})
ADMIN = Actor("v-002", {"administrator"})
PRINCIPAL = Actor("p-001", {"principal"})
COMMITTEE = Actor("c-001", {"committee"})
COUNSELOR = Actor("s-003", {"counselor"})


def jst(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TOKYO)


MAIN_LINE = [
    ("stop_act", STAFF, {}),
    ("report_to_administrator", STAFF, {}),
    ("share_with_committee", ADMIN, {}),
    ("start_fact_finding", COMMITTEE, {}),
    ("confirm_facts", COMMITTEE, {"bullying_recognised": True}),
    ("report_to_board", PRINCIPAL, {}),
    ("begin_response", COMMITTEE, {}),
]
REGIONS = {
    "victim_support": ["interview_victim", "assure_victim", "inform_victim_guardians", "complete_victim_support"],
    "perpetrator_guidance": ["interview_perpetrator", "guide_perpetrator", "inform_perpetrator_guardians",
                             "complete_perpetrator_guidance"],
    "bystander_guidance": ["guide_bystanders", "hold_class_discussion"],
}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(jst(2020, 3, 31, 18))


def _engine(target: object, clock: FixedClock) -> Engine:
    engine = Engine(target, clock=clock, school="school-1")  # type: ignore[arg-type]
    engine.load(WORKFLOWS)
    return engine


@pytest.fixture
def engine(clock: FixedClock) -> Iterator[Engine]:
    with _engine(None, clock) as eng:
        yield eng


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cases.db"


@pytest.fixture
def sqlite_engine(db_path: Path, clock: FixedClock) -> Iterator[Engine]:
    with _engine(db_path, clock) as eng:
        yield eng


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    """Each real store in turn: memory (``None``), an SQLite file, a fresh PostgreSQL schema's URL."""
    if request.param == "memory":
        return None
    if request.param == "sqlite":
        return tmp_path / "cases.db"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def any_engine(store_target: object, clock: FixedClock) -> Iterator[Engine]:
    """An engine with the shipped workflows on each real store in turn."""
    with _engine(store_target, clock) as eng:
        yield eng


def open_case(engine: Engine, day: int = 1) -> Case:
    return engine.open_case("response", actor=STAFF, at=jst(2019, 5, day, 9))


def walk_main_line(case: Case, until: str | None = None) -> Case:
    """Fire the main line up to (and including) ``until``; every step on 2019-05-01..07."""
    for day, (trigger, actor, data) in enumerate(MAIN_LINE, start=1):
        case.fire(trigger, actor=actor, at=jst(2019, 5, day, 10), data=data)
        if trigger == until:
            break
    return case


STEP_DATA = {"guide_perpetrator": {"apology_made": True}}


def finish_regions(case: Case, order: list[str] | None = None) -> Case:
    for region in order or list(REGIONS):
        for trigger in REGIONS[region]:
            case.fire(trigger, actor=COMMITTEE, at=jst(2019, 5, 10, 10), data=STEP_DATA.get(trigger))
    return case


# -- PostgreSQL ------------------------------------------------------------------------------------
PG_ADMIN_URL = __import__("os").environ.get("IJIME_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = __import__("os").environ.get("IJIME_REQUIRE_POSTGRES") == "1"


def _pg_available() -> str:
    """'' when a server answers at PG_ADMIN_URL, else why not (one line)."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return ""
    except Exception as exc:  # any failure means: no usable server here
        return f"no PostgreSQL server at {PG_ADMIN_URL} ({type(exc).__name__}); set IJIME_PG_URL"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards."""
    why = _pg_available()
    if why:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required here (IJIME_REQUIRE_POSTGRES=1): {why}")
        pytest.skip(why)
    import uuid

    import psycopg

    schema = f"ijime_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in PG_ADMIN_URL else "?"
    yield f"{PG_ADMIN_URL}{separator}options=-csearch_path%3D{schema}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(autouse=True)
def _structlog_as_it_was() -> Iterator[None]:
    """A test that runs the command in-process (``ijime_flow.cli.main``) lets it configure structlog, as
    an application does; put the configuration back so later tests see the library's defaults."""
    import structlog

    yield
    structlog.reset_defaults()
