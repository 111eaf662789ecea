"""A realistic case through the response workflow, for ``ijime-flow demo``.

All ids are pseudonymous (``t-014`` a class teacher, ``p-001`` the principal ...); no real person or
pupil is named. One step is deliberately tried too early (resolution before three months) to show a
refusal that records nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from .. import bundled
from ..actor import Actor
from ..case import Case
from ..clock import TOKYO
from ..engine import Engine
from ..errors import IjimeFlowError

TEACHER = Actor("t-014", {"staff"})
VICE_PRINCIPAL = Actor("v-002", {"administrator"})
PRINCIPAL = Actor("p-001", {"principal"})
COMMITTEE = Actor("c-001", {"committee"})
COUNSELOR = Actor("s-003", {"counselor"})


def jst(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2019, month, day, hour, minute, tzinfo=TOKYO)


def find_workflows(explicit: str | Path | None = None) -> Path:
    """The workflows folder: the one given, ``./workflows``, or the package's own (:mod:`ijime_flow.bundled`)."""
    candidates = [Path(explicit)] if explicit else [Path("workflows"), bundled.path("workflows")]
    for candidate in candidates:
        if (candidate / "response.yaml").is_file() or (candidate.is_file() and candidate.suffix in (".yaml", ".yml")):
            return candidate
    raise FileNotFoundError("no workflows folder with response.yaml found; pass --workflows DIR")


DEMO_SCHOOL = "demo-school-01"  # a pseudonymous school id, as a board would assign


def run_demo(engine: Engine, say: object = print) -> Case:
    """Open and walk one case; returns it. ``say`` receives a line for each refusal shown."""
    case = engine.open_case("response", actor=TEACHER, at=jst(5, 13, 12, 40), school=DEMO_SCHOOL,
                            data={"place": "2年生の廊下", "observed": "休み時間に複数の生徒が一人を小突いていた"})
    steps: list[tuple[str, Actor, datetime, dict[str, object]]] = [
        ("stop_act", TEACHER, jst(5, 13, 12, 41), {}),
        ("report_to_administrator", TEACHER, jst(5, 13, 13, 10), {}),
        ("share_with_committee", VICE_PRINCIPAL, jst(5, 13, 15, 30), {}),
        ("start_fact_finding", COMMITTEE, jst(5, 13, 16, 0), {}),
        ("confirm_facts", COMMITTEE, jst(5, 14, 17, 0), {"bullying_recognised": True}),
        ("report_to_board", PRINCIPAL, jst(5, 14, 17, 30), {}),
        ("begin_response", COMMITTEE, jst(5, 15, 8, 30), {}),
        ("interview_victim", TEACHER, jst(5, 15, 10, 0), {}),
        ("interview_perpetrator", TEACHER, jst(5, 15, 11, 0), {}),
        ("assure_victim", TEACHER, jst(5, 15, 12, 20), {}),
        ("inform_victim_guardians", TEACHER, jst(5, 15, 19, 0), {"how": "家庭訪問"}),
        ("involve_counselor", COUNSELOR, jst(5, 16, 10, 0), {}),
        ("guide_perpetrator", COMMITTEE, jst(5, 16, 13, 0), {"apology_made": True}),
        ("guide_bystanders", TEACHER, jst(5, 16, 14, 0), {}),
        ("inform_perpetrator_guardians", TEACHER, jst(5, 16, 18, 0), {}),
        ("complete_victim_support", COMMITTEE, jst(5, 17, 16, 0), {}),
        ("complete_perpetrator_guidance", COMMITTEE, jst(5, 17, 16, 10), {}),
        ("hold_class_discussion", TEACHER, jst(5, 17, 16, 30), {}),
    ]
    for trigger, actor, at, data in steps:
        case.fire(trigger, actor=actor, at=at, data=data)
    case.record_fact("act_stopped_on", date(2019, 5, 13), actor=COMMITTEE, at=jst(5, 17, 17, 0))
    try:
        case.fire("resolve", actor=COMMITTEE, at=jst(7, 16, 16, 0))
    except IjimeFlowError as refusal:
        if callable(say):
            say(f"(refused, nothing recorded) {refusal}")
    case.record_fact("victim_distress", False, actor=COUNSELOR, at=jst(8, 20, 15, 0))
    case.fire("resolve", actor=COMMITTEE, at=jst(8, 20, 16, 0))
    case.fire("close", actor=PRINCIPAL, at=jst(9, 2, 9, 0))
    return case
