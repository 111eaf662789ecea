"""History bundles: export a case to one JSON Lines file, load it back as an engine that verifies it,
import it into another store. Every byte of every event must travel unchanged."""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import COMMITTEE, PRINCIPAL, STAFF, WORKFLOWS, jst, walk_main_line

from ijime_flow import Engine, FixedClock, IjimeFlowError, InvalidData
from ijime_flow.audit.bundle import (
    BUNDLE_FORMAT,
    BundleError,
    CasesAlreadyExist,
    NotVerified,
    check_proofs,
    export_bundle,
    import_bundle,
    linked_case_ids,
    load_bundle,
    read_bundle,
)
from ijime_flow.case import Case
from ijime_flow.cli.bundle import register

EXPORTED_AT = jst(2020, 4, 1, 9)


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def lines_of(text: str) -> list[dict[str, Any]]:
    assert text.endswith("\n")
    return [json.loads(line) for line in text.split("\n")[:-1]]


def text_of(lines: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in lines)


def open_at(engine: Engine, day: int, school: str | None = None) -> Case:
    return engine.open_case("response", actor=STAFF, at=jst(2019, 5, day, 9), school=school)


def escalated(engine: Engine) -> tuple[Case, str]:
    """A response case that met the petition criterion: it opened a serious_incident case."""
    case = walk_main_line(open_at(engine, 1), until="confirm_facts")
    case.record_fact("petition", "guardians", actor=PRINCIPAL, at=jst(2019, 5, 8))
    (link,) = case.linked_cases()
    return case, link.case_id


def export(engine: Engine, case_id: str, path: Path, *, with_linked: bool = False, checkpoint: Any = None) -> str:
    text = export_bundle(engine, case_id, with_linked=with_linked, checkpoint=checkpoint, exported_at=EXPORTED_AT)
    path.write_bytes(text.encode("utf-8"))
    return text


def bodies(engine: Engine, case_id: str) -> list[str]:
    return [row.body for row in engine.store.read_case(case_id)]


@pytest.fixture
def target(tmp_path: Path, clock: FixedClock) -> Engine:
    eng = Engine(tmp_path / "target.db", clock=clock, school="school-2")
    eng.load(WORKFLOWS)
    return eng


# -- export and load ------------------------------------------------------------------------------------
def test_a_round_trip_keeps_every_byte_and_replays_the_same(engine: Engine, tmp_path: Path) -> None:
    other = open_at(engine, 1)  # another case, interleaved with the exported one: it must not travel
    case = walk_main_line(engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9, 30)), until="confirm_facts")
    other.fire("stop_act", actor=STAFF, at=jst(2019, 5, 3, 11))
    path = tmp_path / "case.jsonl"
    text = export(engine, case.id, path)

    loaded, main = load_bundle(path)
    assert main == case.id
    assert loaded.case_ids() == [case.id]
    assert bodies(loaded, case.id) == bodies(engine, case.id)  # byte for byte
    assert len(bodies(loaded, case.id)) == 1 + 5 and other.id not in text
    sha = case.definition_sha256
    assert loaded.store.get_definition(sha) == engine.store.get_definition(sha) is not None
    assert loaded.definitions == {}  # nothing loaded: the case replays under the text it pinned
    report = loaded.verify()
    assert report.ok and (report.cases, report.events) == (1, 6)
    again = loaded.get_case(case.id)
    assert again.active_states == case.active_states == engine.get_case(case.id).active_states
    assert dict(again.facts) == dict(case.facts) and again.facts["bullying_recognised"] is True
    assert again.seq == case.seq == 6
    assert loaded.store.case_row(case.id) == engine.store.case_row(case.id)  # the projection, rebuilt from it
    assert loaded.clock.now() == EXPORTED_AT
    assert export(engine, case.id, tmp_path / "again.jsonl") == text  # the same store gives the same file


def test_the_file_is_the_documented_json_lines(engine: Engine, tmp_path: Path) -> None:
    case = walk_main_line(open_at(engine, 1), until="share_with_committee")
    text = export(engine, case.id, tmp_path / "b.jsonl")
    header, definition, calendar, *events = lines_of(text)
    assert calendar["sha256"] == case.history()[0].data["_calendar"] == case.calendar.sha256  # type: ignore[union-attr]
    assert header == {"kind": "ijime-flow-bundle", "format": 1, "case_id": case.id, "exported_at": EXPORTED_AT.isoformat(),
                      "cases": [case.id], "events": 4, "proofs": 0, "generator": "ijime-flow 0.1.0"}
    assert BUNDLE_FORMAT == 1
    assert definition == {"kind": "definition", "sha256": case.definition_sha256,
                          "text": engine.store.get_definition(case.definition_sha256)}
    assert hashlib.sha256(definition["text"].encode("utf-8")).hexdigest() == case.definition_sha256
    stored = engine.store.read_case(case.id)
    assert events == [{"kind": "event", "case_id": case.id, "seq": row.seq, "position": row.position, "body": row.body}
                      for row in stored]
    # anyone can re-check the chain with the standard library alone (the README's recipe)
    prev = None
    for line in events:
        event = json.loads(line["body"])
        unsealed = {k: v for k, v in event.items() if k != "hash"}
        assert hashlib.sha256(canonical(unsealed).encode("utf-8")).hexdigest() == event["hash"]
        assert event["prev_hash"] == prev
        prev = event["hash"]
    assert "\u3000" not in text and "いじめ" in text  # UTF-8 as is, not \\u escapes (the definition's Japanese)


def test_with_linked_brings_the_escalated_case_both_ways(engine: Engine, tmp_path: Path) -> None:
    bystander = open_at(engine, 1, school="school-9")
    case, serious = escalated(engine)
    assert linked_case_ids(engine.store, case.id) == [serious]
    assert linked_case_ids(engine.store, serious) == [case.id]

    alone = export(engine, case.id, tmp_path / "alone.jsonl")
    assert lines_of(alone)[0]["cases"] == [case.id] and serious not in {line.get("case_id") for line in lines_of(alone)[1:]}
    loaded, _ = load_bundle(tmp_path / "alone.jsonl")
    report = loaded.verify()
    assert not report.ok and {p.kind for p in report.problems} == {"link"}  # the escalation points out of the bundle

    for main, expected in ((case.id, [case.id, serious]), (serious, [serious, case.id])):
        text = export(engine, main, tmp_path / "linked.jsonl", with_linked=True)
        header, *rest = lines_of(text)
        assert header["cases"] == expected and header["case_id"] == main
        definitions = [line["sha256"] for line in rest if line["kind"] == "definition"]
        calendars = {engine.get_case(cid).history()[0].data.get("_calendar") for cid in expected}  # the pinned calendar
        assert [d for d in definitions if d not in calendars] == [engine.get_case(cid).definition_sha256 for cid in expected]
        events = [line for line in rest if line["kind"] == "event"]
        assert [e["position"] for e in events] == sorted(e["position"] for e in events)
        assert {e["case_id"] for e in events} == {case.id, serious} and bystander.id not in text
        loaded, got = load_bundle(tmp_path / "linked.jsonl")
        assert got == main and sorted(loaded.case_ids()) == sorted(expected)
        for cid in expected:
            assert bodies(loaded, cid) == bodies(engine, cid)
        assert loaded.verify().ok
        assert loaded.get_case(serious).workflow_id == "serious_incident"
        assert loaded.store.case_row(serious) == engine.store.case_row(serious)


def test_an_unknown_case_cannot_be_exported(engine: Engine) -> None:
    with pytest.raises(IjimeFlowError, match="nope"):
        export_bundle(engine, "nope", with_linked=False, exported_at=EXPORTED_AT)
    with pytest.raises(InvalidData, match="naive"):
        export_bundle(engine, "nope", with_linked=False, exported_at=datetime(2020, 4, 1))


# -- damaged bundles ----------------------------------------------------------------------------------------
def edit_event(text: str, seq: int, change: Any) -> str:
    lines = lines_of(text)
    line = next(x for x in lines if x["kind"] == "event" and x["seq"] == seq)
    body = json.loads(line["body"])
    change(body)
    line["body"] = canonical(body)  # the hash is left as it was
    return text_of(lines)


def test_an_edited_event_fails_verification_and_is_not_imported(engine: Engine, target: Engine, tmp_path: Path) -> None:
    case = walk_main_line(open_at(engine, 1), until="confirm_facts")
    text = export(engine, case.id, tmp_path / "b.jsonl")
    forged = tmp_path / "forged.jsonl"
    forged.write_text(edit_event(text, 6, lambda b: b["data"].update(bullying_recognised=False)), encoding="utf-8")

    loaded, _ = load_bundle(forged)  # it loads: verification is what tells
    report = loaded.verify()
    assert not report.ok and report.first_bad_seq(case.id) == 6
    assert report.problems[0].kind == "hash"

    with pytest.raises(NotVerified) as caught:
        import_bundle(forged, target)
    assert caught.value.report.first_bad_seq(case.id) == 6
    assert any("[hash]" in p for p in caught.value.problems)
    assert target.case_ids() == [] and target.store.get_definition(case.definition_sha256) is None  # nothing written
    assert target.count_cases() == 0


def test_a_damaged_body_loads_and_is_reported_at_its_seq(engine: Engine, tmp_path: Path) -> None:
    case = walk_main_line(open_at(engine, 1), until="share_with_committee")
    lines = lines_of(export(engine, case.id, tmp_path / "b.jsonl"))
    lines[5]["body"] = lines[5]["body"][:40]  # event seq 3 (after the definition and the calendar), cut inside its JSON
    (tmp_path / "cut.jsonl").write_text(text_of(lines), encoding="utf-8")
    loaded, _ = load_bundle(tmp_path / "cut.jsonl")
    assert bodies(loaded, case.id)[2] == lines[5]["body"]
    (problem,) = loaded.verify().problems
    assert (problem.case_id, problem.seq, problem.kind) == (case.id, 3, "format")


def test_swapped_bodies_load_and_are_reported(engine: Engine, tmp_path: Path) -> None:
    case = walk_main_line(open_at(engine, 1), until="share_with_committee")
    lines = lines_of(export(engine, case.id, tmp_path / "b.jsonl"))
    lines[4]["body"], lines[5]["body"] = lines[5]["body"], lines[4]["body"]  # the texts of seq 2 and 3 swapped
    (tmp_path / "swapped.jsonl").write_text(text_of(lines), encoding="utf-8")
    loaded, _ = load_bundle(tmp_path / "swapped.jsonl")
    assert bodies(loaded, case.id)[1:3] == [lines[4]["body"], lines[5]["body"]]
    report = loaded.verify()
    assert report.first_bad_seq(case.id) == 2 and report.problems[0].kind == "seq"


def test_a_body_in_another_spelling_travels_as_it_is(engine: Engine, target: Engine, tmp_path: Path) -> None:
    """The hash covers the parsed event, so the store may hold a text that is not canonical (written
    by another tool); the bundle, the loaded engine and the import keep those exact bytes, which is
    what a checkpoint's Merkle leaf is made of."""
    from ijime_flow.store import MemoryStore

    case = walk_main_line(open_at(engine, 1), until="share_with_committee")
    spelled = Engine(MemoryStore(), clock=engine.clock)
    sha = case.definition_sha256
    spelled.store.put_definition(sha, "response", "", engine.store.get_definition(sha) or "")
    pin = case.history()[0].data["_calendar"]  # and the school calendar the case pinned
    spelled.store.put_definition(pin, "calendar", "", engine.store.get_definition(pin) or "")
    for row in engine.store.read_case(case.id):
        body = json.dumps(json.loads(row.body), separators=(", ", ": ")) if row.seq == 2 else row.body
        spelled.store.append([(engine.get_case(case.id).history()[row.seq - 1], body)])
    assert spelled.verify().ok and bodies(spelled, case.id)[1] != bodies(engine, case.id)[1]
    export(spelled, case.id, tmp_path / "b.jsonl")
    loaded, _ = load_bundle(tmp_path / "b.jsonl")
    assert bodies(loaded, case.id) == bodies(spelled, case.id)
    import_bundle(tmp_path / "b.jsonl", target)
    assert bodies(target, case.id) == bodies(spelled, case.id) and '"seq": 2' in bodies(target, case.id)[1]


def test_export_reads_linked_cases_as_one_moment(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A step that writes to both linked cases between the reads of the two must not give a bundle
    with one side of the link: export reads again until two reads agree."""
    case, serious = escalated(engine)
    read_case = engine.store.read_case
    calls: list[str] = []

    def racing(case_id: str) -> Any:
        calls.append(case_id)
        if case_id == serious and calls.count(serious) == 1:  # main read, then both cases written, then serious read
            case.record_fact("serious_harm", "injury", actor=PRINCIPAL, at=jst(2019, 5, 9))
        return read_case(case_id)

    monkeypatch.setattr(engine.store, "read_case", racing)
    export(engine, case.id, tmp_path / "b.jsonl", with_linked=True)
    monkeypatch.undo()
    loaded, _ = load_bundle(tmp_path / "b.jsonl")
    assert bodies(loaded, serious) == bodies(engine, serious) and bodies(loaded, case.id) == bodies(engine, case.id)
    assert [json.loads(b)["type"] for b in bodies(loaded, serious)] == ["opened", "criterion_met"]
    assert loaded.verify().ok


def unusable(text: str) -> list[tuple[str, str, int | None, str]]:
    """(name, damaged text, the line the error must name, words it must say)."""
    lines = [line for line in text.split("\n")[:-1] if "ijime-flow/calendar/1" not in line]  # the pinned calendar's line
    header = json.loads(lines[0])
    return [
        ("cut line", "\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2] + "\n", len(lines), "not JSON"),
        ("unknown kind", "\n".join([*lines[:2], '{"kind": "note", "text": "hi"}', *lines[2:]]) + "\n", 3, "unknown kind 'note'"),
        ("format 99", "\n".join([json.dumps({**header, "format": 99}), *lines[1:]]) + "\n", 1, "format 99 is not supported"),
        ("no header", "\n".join(lines[1:]) + "\n", 1, "header is missing"),
        ("event lost", "\n".join([*lines[:3], *lines[4:]]) + "\n", 4, "seq 3 where seq 2 was due"),
        ("tail lost", "\n".join(lines[:-1]) + "\n", 1, "announces 4 events but the bundle holds 3"),
        ("array line", "\n".join([*lines[:2], "[1, 2]", *lines[2:]]) + "\n", 3, "JSON object"),
        ("field missing", "\n".join([*lines[:2], json.dumps({**json.loads(lines[2]), "seq": None}), *lines[3:]]) + "\n",
         3, "'seq' is a NoneType"),
        ("out of order", "\n".join([lines[0], lines[2], lines[1], *lines[3:]]) + "\n", 3, "definition line after the event"),
        ("empty", "", None, "empty"),
    ]


UNUSABLE = ("cut line", "unknown kind", "format 99", "no header", "event lost", "tail lost", "array line", "field missing",
            "out of order", "empty")


@pytest.mark.parametrize("case_name", UNUSABLE)
def test_an_unusable_file_names_the_line(case_name: str, engine: Engine, tmp_path: Path) -> None:
    case = walk_main_line(open_at(engine, 1), until="share_with_committee")
    text = export(engine, case.id, tmp_path / "b.jsonl")
    assert [name for name, *_ in unusable(text)] == list(UNUSABLE)
    (_, damaged, line, words), = [u for u in unusable(text) if u[0] == case_name]
    path = tmp_path / "damaged.jsonl"
    path.write_text(damaged, encoding="utf-8")
    for action in (read_bundle, load_bundle, lambda p: import_bundle(p, Engine())):
        with pytest.raises(InvalidData) as caught:
            action(path)
        assert isinstance(caught.value, BundleError) and caught.value.line == line
        assert words in str(caught.value) and str(caught.value).startswith(f"{path}:{line}: " if line else f"{path}: ")


def test_a_file_that_is_not_utf8_or_missing(tmp_path: Path) -> None:
    path = tmp_path / "latin.jsonl"
    path.write_bytes(b'{"kind": "ijime-flow-bundle"}\n{"kind": "event", "body": "\xe9t\xe9"}\n')
    with pytest.raises(BundleError, match="not UTF-8") as caught:
        load_bundle(path)
    assert caught.value.line == 2
    with pytest.raises(BundleError, match="cannot read"):
        load_bundle(tmp_path / "absent.jsonl")


# -- import --------------------------------------------------------------------------------------------------
def test_import_writes_the_same_bytes_and_rows(engine: Engine, target: Engine, tmp_path: Path) -> None:
    case, serious = escalated(engine)
    mine = open_at(target, 3)  # the target store has cases of its own
    export(engine, case.id, tmp_path / "b.jsonl", with_linked=True)
    result = import_bundle(tmp_path / "b.jsonl", target)
    assert (result.case_id, result.cases) == (case.id, (case.id, serious))
    assert result.events == len(bodies(engine, case.id)) + len(bodies(engine, serious)) and result.definitions == 3
    assert target.case_ids() == [mine.id, case.id, serious]
    for cid in (case.id, serious):
        assert bodies(target, cid) == bodies(engine, cid)
        assert target.store.case_row(cid) == engine.store.case_row(cid)
    assert target.verify().ok
    assert target.count_cases_by("school") == {"school-1": 2, "school-2": 1}
    moved = target.get_case(case.id)  # and the case carries on in its new store
    moved.fire("report_to_board", actor=PRINCIPAL, at=jst(2019, 5, 9))
    assert target.verify().ok
    rebuilt = target.rebuild_projection()
    assert rebuilt.rows == 3 and not rebuilt.problems


def test_import_refuses_cases_the_store_already_has(engine: Engine, target: Engine, tmp_path: Path) -> None:
    case = walk_main_line(open_at(engine, 1), until="confirm_facts")
    path = tmp_path / "b.jsonl"
    export(engine, case.id, path)
    with pytest.raises(CasesAlreadyExist, match="same history") as caught:
        import_bundle(path, engine)  # back into the store it came from
    assert caught.value.case_ids == (case.id,)
    assert len(bodies(engine, case.id)) == 6

    import_bundle(path, target.store)
    target.get_case(case.id).fire("report_to_board", actor=PRINCIPAL, at=jst(2019, 5, 9))
    with pytest.raises(CasesAlreadyExist, match=r"another history \(7 event\(s\) there, 6 in the bundle\)"):
        import_bundle(path, target)
    assert len(bodies(target, case.id)) == 7 and target.verify().ok


# -- proofs --------------------------------------------------------------------------------------------------
def test_proofs_against_a_checkpoint(engine: Engine, tmp_path: Path) -> None:
    from ijime_flow.proofs.check import check_bundle, inclusion_bundle, make_checkpoint
    from ijime_flow.proofs.checkpoint import generate_keypair

    private, public = generate_keypair()
    _, other_public = generate_keypair()
    open_at(engine, 1)
    case = walk_main_line(engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9, 30)), until="share_with_committee")
    cp = make_checkpoint(engine.store, private, "school-1", jst(2019, 5, 5))
    case.fire("start_fact_finding", actor=COMMITTEE, at=jst(2019, 5, 6))  # after the checkpoint: no proof
    text = export(engine, case.id, tmp_path / "p.jsonl", checkpoint=cp)
    header, *rest = lines_of(text)
    proofs = [line for line in rest if line["kind"] == "proof"]
    assert header["proofs"] == len(proofs) == 4 and header["events"] == 5
    assert [(p["case_id"], p["seq"]) for p in proofs] == [(case.id, seq) for seq in (1, 2, 3, 4)]
    for proof in proofs:
        assert proof["inclusion"] == inclusion_bundle(engine.store, case.id, proof["seq"], cp)
        assert check_bundle(proof["inclusion"], public) == []
        assert check_bundle(proof["inclusion"], other_public) != []
    bundle = read_bundle(tmp_path / "p.jsonl")
    assert check_proofs(bundle, public) == []
    assert load_bundle(tmp_path / "p.jsonl")[0].verify().ok

    proofs[1]["inclusion"]["event"] = proofs[2]["inclusion"]["event"]  # a proof that shows another event
    (tmp_path / "swapped.jsonl").write_text(text_of([header, *[x for x in rest if x["kind"] != "proof"], *proofs]),
                                            encoding="utf-8")
    problems = check_proofs(read_bundle(tmp_path / "swapped.jsonl"), public)
    assert problems and all(f"case {case.id} seq 2" in p for p in problems)

    other = Engine(clock=engine.clock, school="school-1")
    other.load(WORKFLOWS)
    walk_main_line(open_at(other, 1), until="stop_act")
    with pytest.raises(InvalidData, match="another store"):
        export_bundle(other, other.case_ids()[0], with_linked=False, checkpoint=cp, exported_at=EXPORTED_AT)


# -- the commands ---------------------------------------------------------------------------------------------
def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


@pytest.fixture
def school_db(tmp_path: Path, clock: FixedClock) -> tuple[Path, str, str]:
    db = tmp_path / "school.db"
    with Engine(db, clock=clock, school="school-1") as eng:
        eng.load(WORKFLOWS)
        case, serious = escalated(eng)
        return db, case.id, serious


def test_export_and_import_commands(school_db: tuple[Path, str, str], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    db, case_id, serious = school_db
    out, board = tmp_path / "out.jsonl", tmp_path / "board.db"
    assert run("export", "--db", str(db), case_id, "--with-linked", "-o", str(out)) == 0
    assert "2 case(s)" in capsys.readouterr().out
    assert run("import", "--db", str(board), str(out)) == 0
    said = capsys.readouterr().out
    assert "imported" in said and "(new store)" in said and f"{case_id}  school-1  response" in said
    with Engine(board) as eng, Engine(db) as source:
        assert eng.case_ids() == [case_id, serious] and eng.verify().ok
        assert bodies(eng, serious) == bodies(source, serious)
    assert run("import", "--db", str(board), str(out)) == 1  # twice: refused
    assert "already in the store with the same history" in capsys.readouterr().out

    assert run("export", "--db", str(db), case_id) == 0  # to standard output, with a note on stderr
    printed = capsys.readouterr()
    assert json.loads(printed.out.split("\n")[0])["cases"] == [case_id] and "--with-linked" in printed.err


def test_import_command_refuses_a_forged_bundle(school_db: tuple[Path, str, str], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    db, case_id, _ = school_db
    out = tmp_path / "out.jsonl"
    assert run("export", "--db", str(db), case_id, "--with-linked", "-o", str(out)) == 0
    out.write_text(edit_event(out.read_text(encoding="utf-8"), 2, lambda b: b["actor"].update(id="t-999")), encoding="utf-8")
    capsys.readouterr()
    fresh = tmp_path / "fresh.db"
    assert run("import", "--db", str(fresh), str(out)) == 1
    said = capsys.readouterr().out
    assert "does not verify" in said and f"{case_id} seq 2: [hash]" in said
    assert not fresh.exists()  # a refused bundle leaves no empty store behind
    existing = tmp_path / "existing.db"
    Engine(existing).close()
    assert run("import", "--db", str(existing), str(out)) == 1 and f"{case_id} seq 2" in capsys.readouterr().out
    with Engine(existing) as eng:
        assert eng.case_ids() == []


def test_commands_refuse_unusable_input(school_db: tuple[Path, str, str], tmp_path: Path) -> None:
    db, case_id, _ = school_db
    with pytest.raises(IjimeFlowError, match="no such store"):
        run("export", "--db", str(tmp_path / "absent.db"), case_id)
    with pytest.raises(IjimeFlowError, match="no case 'nope'"):
        run("export", "--db", str(db), "nope")
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(IjimeFlowError, match="not a checkpoint"):
        run("export", "--db", str(db), case_id, "--checkpoint", str(bad))
    with pytest.raises(BundleError, match=r"bad.json:1: .*header is missing"):
        run("import", "--db", str(tmp_path / "new.db"), str(bad))
    with pytest.raises(IjimeFlowError, match="no such bundle"):
        run("import", "--db", str(db), str(tmp_path / "absent.jsonl"))
    assert not (tmp_path / "new.db").exists()


def test_export_command_with_a_checkpoint(school_db: tuple[Path, str, str], tmp_path: Path) -> None:
    from ijime_flow.proofs.check import make_checkpoint
    from ijime_flow.proofs.checkpoint import generate_keypair, to_json

    db, case_id, serious = school_db
    private, public = generate_keypair()
    with Engine(db) as eng:
        (tmp_path / "cp.json").write_text(to_json(make_checkpoint(eng.store, private, "s", jst(2019, 6, 1))), encoding="utf-8")
    out = tmp_path / "p.jsonl"
    assert run("export", "--db", str(db), serious, "--with-linked", "--checkpoint", str(tmp_path / "cp.json"),
               "-o", str(out)) == 0
    bundle = read_bundle(out)
    assert bundle.case_id == serious and bundle.cases == (serious, case_id)
    assert len(bundle.proofs) == len(bundle.events) > 0 and check_proofs(bundle, public) == []
