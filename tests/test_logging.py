"""Library logging: ids, triggers and states only; never fact values or free text."""

from __future__ import annotations

from datetime import date

import structlog
from conftest import COMMITTEE, STAFF, jst, walk_main_line

from ijime_flow import Engine

SECRET = "休み時間に名前を呼ばれてからかわれた"


def test_logs_carry_ids_and_triggers_but_no_values(engine: Engine) -> None:
    with structlog.testing.capture_logs() as logs:
        case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), data={"note": SECRET})
        walk_main_line(case, until="confirm_facts")
        case.record_fact("act_stopped_on", date(2019, 5, 3), actor=COMMITTEE, at=jst(2019, 5, 6))
    assert [entry["event"] for entry in logs][:2] == ["case.opened", "case.fired"]
    fired = [entry for entry in logs if entry["event"] == "case.fired"]
    assert [entry["trigger"] for entry in fired][-1] == "confirm_facts"
    assert all(entry["case_id"] == case.id for entry in logs)
    text = repr(logs)
    assert SECRET not in text
    assert "2019-05-03" not in text and "bullying_recognised" not in text
    fact = next(entry for entry in logs if entry["event"] == "case.fact_recorded")
    assert fact["fact"] == "act_stopped_on" and "value" not in fact


def test_the_library_never_configures_structlog() -> None:
    import pathlib

    package = pathlib.Path(__file__).resolve().parent.parent / "ijime_flow"
    offenders = [p.name for p in package.rglob("*.py") if "structlog.configure(" in p.read_text(encoding="utf-8")
                 and p.relative_to(package).as_posix() != "cli/main.py"]
    assert offenders == []
