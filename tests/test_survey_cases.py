"""From a survey to a case (issue 17, item 2): a concern found in a school's survey or interviews opens a
``response`` case (``report_concern``, ``opens:`` in workflows/school_year.yaml) with ``discovered_through:
school_survey``, in the same write as the step; both ends name each other and both are verified — on every store,
one case at a time, the whole store, in parallel and from an exported bundle — and a link missing or forged on
either end is found."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from conftest import ADMIN, COMMITTEE, STAFF, WORKFLOWS, jst

from ijime_flow import DefinitionError, Engine, FixedClock, InvalidData, PermissionDenied
from ijime_flow.audit.bundle.load import load_bundle
from ijime_flow.audit.bundle.write import export_bundle
from ijime_flow.canonical import canonical_json
from ijime_flow.events import body_hash
from ijime_flow.language.loader import validate_paths

YEAR = {"school_year": 2019, "school_type": "junior_high"}


def year_case(engine: Engine):  # type: ignore[no-untyped-def]
    case = engine.open_case("school_year", actor=ADMIN, at=jst(2019, 4, 1, 9), data=YEAR)
    case.fire("conduct_survey", actor=COMMITTEE, at=jst(2019, 6, 7), data={"respondents": 312, "concerns": 2})
    return case


def concern(engine: Engine, year, at: datetime | None = None) -> str:  # type: ignore[no-untyped-def]
    result = year.fire_result("report_concern", actor=COMMITTEE, at=at or jst(2019, 6, 8))
    (opened,) = result.opened_cases
    assert result.event.data == {"opens": opened}
    return opened


def test_a_concern_opens_a_linked_response_case_found_through_the_survey(any_engine: Engine) -> None:
    year = year_case(any_engine)
    first, second = concern(any_engine, year), concern(any_engine, year, jst(2019, 6, 9))
    assert first != second
    case = any_engine.get_case(first)
    assert case.workflow_id == "response" and case.school == year.school
    assert case.facts["discovered_through"] == "school_survey"
    opened, fact = case.history()
    assert opened.type == "opened" and opened.data == {"opened_from": year.id, "step": "report_concern"}
    assert opened.actor.id == COMMITTEE.id and fact.actor.id == COMMITTEE.id  # who found the concern opened it
    assert [(link.case_id, link.relation, link.criterion) for link in year.linked_cases()] == [
        (first, "opened", "report_concern"), (second, "opened", "report_concern")]
    assert [(link.case_id, link.relation) for link in case.linked_cases()] == [(year.id, "opened_from")]
    assert case.available_triggers(STAFF)  # an ordinary response case from here on
    case.fire("stop_act", actor=STAFF, at=jst(2019, 6, 10))
    report = any_engine.verify()
    assert report.ok, report.problems
    assert any_engine.verify(first).ok and any_engine.verify(year.id).ok


def test_the_whole_write_is_one_and_a_refused_step_opens_nothing(engine: Engine) -> None:
    year = year_case(engine)
    before = set(engine.case_ids())
    with pytest.raises(PermissionDenied):
        year.fire("report_concern", actor=STAFF, at=jst(2019, 6, 8))  # the committee's step
    assert set(engine.case_ids()) == before


@pytest.mark.parametrize("data", [{"opens": "x"}, {"opened_from": "x"}])
def test_the_link_keys_are_the_engines_alone(engine: Engine, data: dict[str, str]) -> None:
    year = year_case(engine)
    with pytest.raises(InvalidData, match="reserved"):
        year.fire("hold_committee_meeting", actor=COMMITTEE, at=jst(2019, 6, 8), data=data)
    with pytest.raises(InvalidData, match="reserved"):
        engine.open_case("response", actor=STAFF, at=jst(2019, 6, 8), data=data)


def _tamper(db: Path, case_id: str, seq: int, edit) -> None:  # type: ignore[no-untyped-def]
    """Edit one event's data and re-chain the case after it (a careful forger: every hash matches again)."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("DROP TRIGGER IF EXISTS events_no_update")
    rows = con.execute("SELECT seq, body FROM events WHERE case_id = ? ORDER BY seq", (case_id,)).fetchall()
    prev = None
    for s, body in rows:
        parsed = json.loads(body)
        if s == seq:
            edit(parsed["data"])
        if s >= seq:
            parsed["prev_hash"] = prev
            parsed["hash"] = body_hash(parsed)
            con.execute("UPDATE events SET body = ?, hash = ? WHERE case_id = ? AND seq = ?",
                        (canonical_json(parsed), parsed["hash"], case_id, s))
        prev = parsed["hash"]
    con.close()


def _built(db: Path) -> tuple[str, str, str, int]:
    with Engine(db, clock=FixedClock(jst(2020, 1, 1)), school="school-1") as engine:
        engine.load(WORKFLOWS)
        year = year_case(engine)
        opened = concern(engine, year)
        other = engine.open_case("response", actor=STAFF, at=jst(2019, 6, 9)).id
        step_seq = next(e.seq for e in year.history() if e.trigger == "report_concern")
        assert engine.verify().ok
        return year.id, opened, other, step_seq


@pytest.mark.parametrize(("where", "how"), [
    ("source", "named another case"), ("source", "names none"), ("target", "named another source"),
    ("target", "names another step"), ("target", "names none"),
])
def test_a_link_missing_or_forged_at_either_end_is_found(tmp_path: Path, where: str, how: str) -> None:
    db = tmp_path / "cases.db"
    year, opened, other, step_seq = _built(db)

    def edit(data: dict[str, object]) -> None:
        if where == "source":
            if how == "names none":
                data.pop("opens")
            else:
                data["opens"] = other
        elif how == "named another source":
            data["opened_from"] = other
        elif how == "names another step":
            data["step"] = "conduct_survey"
        else:
            data.pop("opened_from")

    _tamper(db, *((year, step_seq) if where == "source" else (opened, 1)), edit)
    with Engine(db, clock=FixedClock(jst(2020, 1, 1)), school="school-1") as engine:
        engine.load(WORKFLOWS)
        for report in (engine.verify(), engine.verify(workers=2)):
            assert not report.ok
            kinds = {(p.case_id, p.kind) for p in report.problems}
            assert kinds & {(year, "link"), (opened, "link")}, kinds


def test_a_step_without_opens_that_names_a_case_is_refused_by_the_verifier(tmp_path: Path) -> None:
    """A forged ``opens`` on a step that opens nothing (the API refuses the key; the verifier, the stored event)."""
    db = tmp_path / "cases.db"
    year, opened, _, _ = _built(db)
    with Engine(db, clock=FixedClock(jst(2020, 1, 1)), school="school-1") as engine:
        engine.load(WORKFLOWS)
        seq = next(e.seq for e in engine.get_case(year).history() if e.trigger == "conduct_survey")
    _tamper(db, year, seq, lambda data: data.update({"opens": opened}))
    with Engine(db, clock=FixedClock(jst(2020, 1, 1)), school="school-1") as engine:
        engine.load(WORKFLOWS)
        found = [p for p in engine.verify(year).problems if p.seq == seq]
        assert found and any("opens no case" in p.message for p in found), found


def test_a_bundle_of_the_response_case_carries_the_year_and_verifies_offline(tmp_path: Path) -> None:
    db = tmp_path / "cases.db"
    year, opened, _, _ = _built(db)
    with Engine(db, clock=FixedClock(jst(2020, 1, 1)), school="school-1") as engine:
        engine.load(WORKFLOWS)
        text = export_bundle(engine, opened, with_linked=True, exported_at=jst(2020, 1, 1))
    path = tmp_path / "bundle.jsonl"
    path.write_text(text, encoding="utf-8")
    loaded, main = load_bundle(path)
    assert main == opened and set(loaded.case_ids()) == {opened, year}
    report = loaded.verify()
    assert report.ok, report.problems


def _copy_with(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "workflows"
    folder.mkdir()
    for name in ("response.yaml", "serious_incident.yaml", "calendar.yaml"):
        (folder / name).write_text((WORKFLOWS / name).read_text(encoding="utf-8"), encoding="utf-8")
    text = (WORKFLOWS / "school_year.yaml").read_text(encoding="utf-8")
    assert old in text
    (folder / "school_year.yaml").write_text(text.replace(old, new), encoding="utf-8")
    return folder


@pytest.mark.parametrize(("new", "said"), [
    ("opens: {workflow: responses, facts: {discovered_through: school_survey}}", "responses"),
    ("opens: {workflow: response, facts: {found_through: school_survey}}", "found_through"),
    ("opens: {workflow: response, facts: {discovered_through: questionnaire}}", "questionnaire"),
    ("opens: {workflow: serious_incident, facts: {}}", "criterion"),
])
def test_a_step_that_cannot_open_its_case_is_refused_where_it_is_written(tmp_path: Path, new: str, said: str) -> None:
    folder = _copy_with(tmp_path, "opens: {workflow: response, facts: {discovered_through: school_survey}}", new)
    _, problems = validate_paths([folder])
    found = [p for p in problems if p.file.endswith("school_year.yaml")]
    assert found and all(p.line > 1 for p in found) and any(said in p.message for p in found), found
    with pytest.raises(DefinitionError):
        Engine().load(folder)


@pytest.mark.parametrize("forged", [False, True])
def test_the_reference_verifier_checks_the_link_as_ijime_flow_does(tmp_path: Path, forged: bool) -> None:
    """reference/verify.py (no ijime_flow import) finds the same link problem in a bundle, or none."""
    import subprocess
    import sys

    from conftest import ROOT

    db = tmp_path / "cases.db"
    year, opened, other, _ = _built(db)
    if forged:
        _tamper(db, opened, 1, lambda data: data.update({"opened_from": other}))
    with Engine(db, clock=FixedClock(jst(2020, 1, 1)), school="school-1") as engine:
        engine.load(WORKFLOWS)
        text = export_bundle(engine, year, with_linked=True, exported_at=jst(2020, 1, 1))
        mine = {(p.case_id, p.kind) for p in engine.verify().problems if p.kind == "link"}
    path = tmp_path / "bundle.jsonl"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, str(ROOT / "reference" / "verify.py"), str(path)], capture_output=True,
                          text=True, check=False)
    theirs = {(p["case_id"], p["kind"]) for p in json.loads(done.stdout)["problems"] if p["kind"] == "link"}
    assert done.returncode == (1 if forged else 0), done.stdout
    assert theirs == (mine if forged else set()) and (not forged or (year, "link") in theirs), (theirs, mine)


def _year_with_two_concerns(db: Path) -> tuple[str, str, str]:
    with Engine(db, clock=FixedClock(jst(2020, 1, 1)), school="school-1") as engine:
        engine.load(WORKFLOWS)
        year = year_case(engine)
        first, second = concern(engine, year), concern(engine, year, jst(2019, 6, 9))
        return year.id, first, second


def test_a_bundle_of_one_concern_leaves_the_years_other_concerns_outside(tmp_path: Path) -> None:
    """Another pupil's case opened by the same survey is not this history: the bundle of one concern carries the
    year (the step that opened it) but not the year's other concerns, names them in its header (``outside``), and
    verifies — with ijime-flow and with the reference verifier. The year's own bundle carries them all."""
    import subprocess
    import sys

    from conftest import ROOT

    db = tmp_path / "cases.db"
    year, first, second = _year_with_two_concerns(db)
    with Engine(db, clock=FixedClock(jst(2020, 1, 1)), school="school-1") as engine:
        engine.load(WORKFLOWS)
        one = export_bundle(engine, first, with_linked=True, exported_at=jst(2020, 1, 1))
        whole = export_bundle(engine, year, with_linked=True, exported_at=jst(2020, 1, 1))
        disclosed = export_bundle(engine, first, with_linked=True, exported_at=jst(2020, 1, 1), redacted=True)
    def events_of(text: str) -> set[str]:
        return {line["case_id"] for line in map(json.loads, text.splitlines()[1:]) if line["kind"] == "event"}

    header = json.loads(one.splitlines()[0])
    assert header["cases"] == [first, year] and header["outside"] == [second] and events_of(one) == {first, year}
    assert json.loads(whole.splitlines()[0])["cases"] == [year, first, second] and "outside" not in whole.splitlines()[0]
    assert events_of(disclosed) == {first, year}  # only the step that opened the other pupil's case names it
    for name, text in (("one", one), ("whole", whole), ("disclosed", disclosed)):
        path = tmp_path / f"{name}.jsonl"
        path.write_text(text, encoding="utf-8")
        loaded, _ = load_bundle(path)
        assert loaded.verify().ok, (name, loaded.verify().problems)
        done = subprocess.run([sys.executable, str(ROOT / "reference" / "verify.py"), str(path)], capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0, (name, done.stdout)


@pytest.mark.parametrize("forgery", ["no outside", "the year outside"])
def test_outside_exempts_only_the_years_other_concerns(tmp_path: Path, forgery: str) -> None:
    """Without ``outside`` the cut link is a problem; a case that says it was opened from one left outside is one too
    (the exemption is only for a step whose case is absent, never for a case whose origin is)."""
    db = tmp_path / "cases.db"
    year, first, second = _year_with_two_concerns(db)
    with Engine(db, clock=FixedClock(jst(2020, 1, 1)), school="school-1") as engine:
        engine.load(WORKFLOWS)
        lines = [json.loads(line) for line in export_bundle(engine, first, with_linked=True,
                                                            exported_at=jst(2020, 1, 1)).splitlines()]
    header = lines[0]
    if forgery == "no outside":
        del header["outside"]
    else:  # the year left out too: the concern's origin is then unchecked
        header["outside"] = [second, year]
        header["cases"] = [first]
        lines = [header] + [x for x in lines[1:] if x.get("case_id") != year]
        header["events"] = sum(x["kind"] == "event" for x in lines[1:])
    path = tmp_path / "forged.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    loaded, _ = load_bundle(path)
    kinds = {(p.case_id, p.kind) for p in loaded.verify().problems}
    assert ((year, "link") if forgery == "no outside" else (first, "link")) in kinds, kinds
