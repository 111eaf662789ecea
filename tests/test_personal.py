"""Personal data sealed per subject (issue 16, items 1, 2 and 7): declared in the language, sealed with AES-GCM
before the hash, opened where the key exists; verification needs no key."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from conftest import ADMIN, COMMITTEE, PRINCIPAL, STAFF, WORKFLOWS, jst

from ijime_flow import Engine, FixedClock, InvalidData, Subject
from ijime_flow.errors import DefinitionError
from ijime_flow.events import EVENT_FORMAT, parse_event
from ijime_flow.language.loader import load_file
from ijime_flow.privacy.keys import MemoryKeys, SQLiteKeys, keys_path
from ijime_flow.privacy.sealing import SEALED, About, Sealed, is_sealed, open_value

PLACE = "2年生の廊下の奥"
OBSERVED = "休み時間に複数の生徒が一人を小突いていた"
VICTIM, PERPETRATOR = "s-2041", "s-3307"
TO_BOARD = [("stop_act", STAFF, {}), ("report_to_administrator", STAFF, {}), ("share_with_committee", ADMIN, {}),
            ("start_fact_finding", COMMITTEE, {}), ("confirm_facts", COMMITTEE, {"bullying_recognised": False}),
            ("report_to_board", PRINCIPAL, {})]


def opened_case(engine: Engine):  # type: ignore[no-untyped-def]
    return engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9),
                            subjects=[Subject(VICTIM, "victim"), Subject(PERPETRATOR, "perpetrator")],
                            data={"place": About(VICTIM, PLACE), "observed": About(PERPETRATOR, OBSERVED)})


def test_sealed_values_round_trip_and_two_subjects_use_two_keys(any_engine: Engine) -> None:
    case = opened_case(any_engine)
    stored = json.loads(any_engine.store.read_case(case.id)[0].body)
    assert stored["format"] == EVENT_FORMAT == 2
    place, observed = stored["data"]["place"], stored["data"]["observed"]
    assert is_sealed(place) and is_sealed(observed)
    assert place[SEALED]["kid"] != observed[SEALED]["kid"]  # the victim's key and the perpetrator's
    assert PLACE not in any_engine.store.read_case(case.id)[0].body
    assert case.history()[0].data["place"] == PLACE and case.history()[0].data["observed"] == OBSERVED
    assert any_engine.get_case(case.id).history()[0].data["observed"] == OBSERVED
    assert {kid for kid, _ in any_engine.keys.owned(VICTIM)} == {place[SEALED]["kid"]}
    assert {kid for kid, _ in any_engine.keys.owned(PERPETRATOR)} == {observed[SEALED]["kid"]}
    for trigger, actor, data in TO_BOARD:
        case.fire(trigger, actor=actor, at=jst(2019, 5, 2), data=data)
    event = case.fire("close", actor=PRINCIPAL, at=jst(2019, 5, 3), data={"reason": "事実が確認されなかった"})
    assert event.data["reason"] == "事実が確認されなかった"  # returned opened
    body = any_engine.store.read_case(case.id)[-1].body
    assert "事実が確認されなかった" not in body and is_sealed(json.loads(body)["data"]["reason"])
    case_kid = json.loads(body)["data"]["reason"][SEALED]["kid"]
    assert any_engine.keys.owned("") == [(case_kid, case.id)]  # no subject named: the case's own key
    report = any_engine.verify()
    assert report.ok, report.problems


def test_verification_needs_no_key(tmp_path: Path, clock: FixedClock) -> None:
    db = tmp_path / "cases.db"
    with Engine(db, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        case_id = opened_case(engine).id
    assert Path(keys_path(str(db))).is_file()
    Path(keys_path(str(db))).unlink()  # the events file alone, as a copy handed to an auditor
    with Engine(db, clock=clock, school="school-1", keys=MemoryKeys()) as engine:
        engine.load(WORKFLOWS)
        assert engine.verify().ok
        assert engine.get_case(case_id).history()[0].data["place"] == "消去済み / erased"


def test_a_sealed_value_opens_only_at_its_own_place() -> None:
    engine = Engine(clock=FixedClock(jst(2020, 1, 1)), school="school-1")
    engine.load(WORKFLOWS)
    case = opened_case(engine)
    sealed = json.loads(engine.store.read_case(case.id)[0].body)["data"]["place"]
    assert open_value(engine.keys, case.id, 1, "place", sealed) == PLACE
    assert isinstance(open_value(None, case.id, 1, "place", sealed), Sealed)
    with pytest.raises(Exception, match="does not open"):
        open_value(engine.keys, case.id, 1, "observed", sealed)  # moved to another field: refused
    with pytest.raises(Exception, match="does not open"):
        open_value(engine.keys, case.id, 2, "place", sealed)


def test_about_must_name_a_subject_and_a_personal_field() -> None:
    engine = Engine(clock=FixedClock(jst(2020, 1, 1)), school="school-1")
    engine.load(WORKFLOWS)
    with pytest.raises(InvalidData, match=r"not a\s+subject") as caught:
        engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1), data={"place": About("s-9999", PLACE)})
    assert PLACE not in str(caught.value)  # the field is named, never the value
    case = opened_case(engine)
    with pytest.raises(InvalidData, match="not personal"):
        case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 2), data={"note": About(VICTIM, "x")})
    assert case.seq == 3  # nothing recorded


def test_typed_fields_refuse_the_wrong_type_naming_the_field_only() -> None:
    engine = Engine(clock=FixedClock(jst(2020, 1, 1)), school="school-1")
    engine.load(WORKFLOWS)
    case = opened_case(engine)
    for trigger, actor, data in TO_BOARD:
        case.fire(trigger, actor=actor, at=jst(2019, 5, 2), data=data)
    with pytest.raises(InvalidData, match="'reason' must be a text") as caught:
        case.fire("close", actor=PRINCIPAL, at=jst(2019, 5, 3), data={"reason": 12345})
    assert "12345" not in str(caught.value)


def test_a_personal_fact_in_a_condition_is_refused(tmp_path: Path) -> None:
    text = (WORKFLOWS / "response.yaml").read_text(encoding="utf-8")
    text = text.replace("online: {type: bool,", "online: {type: bool, personal: true,", 1)
    path = tmp_path / "response.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError, match="personal fact 'online' cannot be read by a condition"):
        load_file(path)


def test_a_personal_fact_is_sealed_and_never_logged(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    text = (WORKFLOWS / "response.yaml").read_text(encoding="utf-8")
    assert "school_view: {type: string" in text and "personal: true}" in text
    engine = Engine(tmp_path / "c.db", clock=FixedClock(jst(2020, 1, 1)), school="school-1")
    engine.load(WORKFLOWS)
    case = opened_case(engine)
    with caplog.at_level(logging.DEBUG, logger="ijime_flow"):
        case.record_fact("school_view", About(VICTIM, "学校としては指導を継続したい"), actor=PRINCIPAL, at=jst(2019, 5, 2))
        case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 2))
    assert case.facts["school_view"] == "学校としては指導を継続したい"
    assert engine.get_case(case.id).facts["school_view"] == "学校としては指導を継続したい"
    logged = " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert "school_view" in logged and "学校としては" not in logged and PLACE not in logged
    stored = engine.store.read_case(case.id)[3].body
    assert "学校としては" not in stored and parse_event(stored).data["fact"] == "school_view"
    assert engine.verify().ok
    engine.close()


def test_sqlite_keys_live_in_their_own_file(tmp_path: Path) -> None:
    keys = SQLiteKeys(tmp_path / "k.keys.db")
    kid, key = keys.key("school-1", VICTIM, "case-1")
    assert keys.key("school-1", VICTIM, "case-1") == (kid, key) and len(key) == 32
    again = SQLiteKeys(tmp_path / "k.keys.db")
    assert again.get(kid) == key and again.owned(VICTIM) == [(kid, "case-1")]
    assert again.destroy([kid]) == 1 and again.get(kid) is None
    assert keys_path("/x/cases.db") == "/x/cases.keys.db"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_cases_keys_are_made_ahead_in_one_write_and_no_step_waits_on_one(kind: str, tmp_path: Path, clock: FixedClock,
                                                                          request: pytest.FixtureRequest) -> None:
    """Opening makes the case's own key and each named pupil's in one key write; naming a pupil makes theirs; a
    step sealing a value then writes no key (issue 16: the key write was a durable commit of its own per step)."""
    from ijime_flow.privacy.keys import PostgresKeys

    target = tmp_path / "cases.db" if kind == "sqlite" else request.getfixturevalue("pg_url")
    with Engine(target, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        keys = engine.keys
        assert isinstance(keys, SQLiteKeys | PostgresKeys)
        writes: list[list[str]] = []
        make_many = keys._make_many

        def counted(school: str, case_id: str, new: list[tuple[str, str, bytes]]) -> list[tuple[str, bytes]]:
            writes.append(sorted(owner for owner, _, _ in new))
            return make_many(school, case_id, new)

        keys._make_many = counted  # type: ignore[method-assign]
        case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9),
                                subjects=[Subject(VICTIM, "victim"), Subject(PERPETRATOR, "perpetrator")])
        assert writes == [sorted(["", VICTIM, PERPETRATOR])]
        case.add_subject("s-5001", "bystander", actor=STAFF, at=jst(2019, 5, 1, 10))
        case.add_subject("s-5001", "reporter", actor=STAFF, at=jst(2019, 5, 1, 10))  # named already: nothing made
        assert writes[1:] == [["s-5001"]]
        for trigger, actor, data in TO_BOARD:
            case.fire(trigger, actor=actor, at=jst(2019, 5, 2), data=data)
        case.fire("close", actor=PRINCIPAL, at=jst(2019, 5, 3), data={"reason": About(VICTIM, "事実が確認されなかった")})
        assert len(writes) == 2  # the step sealed under a key made at the opening
        assert case.history()[-1].data["reason"] == "事実が確認されなかった"
        assert {c for _, c in engine.keys.owned("s-5001")} == {case.id}
