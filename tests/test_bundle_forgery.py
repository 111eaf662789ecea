"""Forged bundles against a signed checkpoint: every event the checkpoint covers must carry exactly one
proof of its own position, and the auditor's own checkpoint takes precedence over the bundle's.

Each forgery below rewrites events with every hash and the chain recomputed (what a careless
verifier would accept), then hides it from the proofs: the proof line of the rewritten event is
deleted and the header's count fixed, or every proof is stripped, or proof lines are duplicated or
swapped. ``ijime-flow verify FILE --pubkey KEY`` must exit 1 on every one of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import COMMITTEE, STAFF, WORKFLOWS, jst, walk_main_line

from ijime_flow import Engine, FixedClock
from ijime_flow.cli import main
from ijime_flow.events import body_hash
from ijime_flow.proofs.check import make_checkpoint
from ijime_flow.proofs.checkpoint import generate_keypair, to_json

Lines = list[dict[str, Any]]


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def read_lines(path: Path) -> Lines:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_lines(path: Path, lines: Lines) -> Path:
    path.write_text("".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) + "\n" for x in lines),
                    encoding="utf-8")
    return path


def rechain(lines: Lines, case_id: str, seq: int, change: Callable[[dict[str, Any]], None]) -> Lines:
    """Change one event and recompute its hash and every later hash of its case: the chain holds."""
    out = [dict(x) for x in lines]
    prev: str | None = None
    for line in out:
        if line["kind"] != "event" or line["case_id"] != case_id:
            continue
        body = json.loads(line["body"])
        if line["seq"] == seq:
            change(body)
        if line["seq"] >= seq:
            body["prev_hash"] = prev
            body["hash"] = body_hash(body)
            line["body"] = canonical(body)
        prev = body["hash"]
    return out


def drop_proof(lines: Lines, case_id: str, seq: int) -> Lines:
    out = [x for x in lines if not (x["kind"] == "proof" and x["case_id"] == case_id and x["seq"] == seq)]
    out[0] = {**out[0], "proofs": out[0]["proofs"] - (len(lines) - len(out))}
    return out


def verify(path: Path, *extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["verify", str(path), *extra])
    return code, capsys.readouterr().out


@pytest.fixture(params=["json", "c2sp"])
def signed(tmp_path: Path, clock: FixedClock, request: pytest.FixtureRequest) -> dict[str, Any]:
    """A store of two interleaved cases, a checkpoint after 6 events, 2 events after it, and the main
    case exported with its proofs — the checkpoint of format 1 (JSON), or C2SP with its signed time."""
    from ijime_flow.proofs.check import make_tlog_checkpoint

    def checkpoint(store: Any, at: datetime) -> str:
        if request.param == "json":
            return to_json(make_checkpoint(store, private, "school-1", at))
        return str(make_tlog_checkpoint(store, private, "board.example.jp/school-1", at))

    private, public = generate_keypair()
    (tmp_path / "k.pub").write_bytes(public)
    db = tmp_path / "school.db"
    clock.set(jst(2019, 5, 3, 12))  # the steps up to the checkpoint are recorded before it is signed
    with Engine(db, clock=clock, school="school-1") as eng:
        eng.load(WORKFLOWS)
        other = eng.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9))
        case = walk_main_line(eng.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9, 30)),
                              until="share_with_committee")
        other.fire("stop_act", actor=STAFF, at=jst(2019, 5, 3))
        clock.set(jst(2019, 5, 5))
        (tmp_path / "cp.json").write_text(checkpoint(eng.store, jst(2019, 5, 5)), encoding="utf-8")
        clock.set(jst(2019, 5, 6, 12))
        case.fire("start_fact_finding", actor=COMMITTEE, at=jst(2019, 5, 6))
        case.fire("confirm_facts", actor=COMMITTEE, at=jst(2019, 5, 6, 11), data={"bullying_recognised": True})
        (tmp_path / "cp-later.json").write_text(checkpoint(eng.store, jst(2019, 5, 6, 12)), encoding="utf-8")
        case_id = case.id
    bundle = tmp_path / "case.jsonl"
    assert main(["export", "--db", str(db), case_id, "--checkpoint", str(tmp_path / "cp.json"), "-o", str(bundle)]) == 0
    return {"bundle": bundle, "case": case_id, "pub": str(tmp_path / "k.pub"), "dir": tmp_path}


def test_the_honest_bundle_says_how_many_events_are_proven(signed: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, said = verify(signed["bundle"], "--pubkey", signed["pub"], capsys=capsys)
    assert code == 0, said
    assert "4 of 6 events proven, 2 recorded after the checkpoint" in said
    code, said = verify(signed["bundle"], "--pubkey", signed["pub"], "--json", capsys=capsys)
    shown = json.loads(said)["proofs"]
    assert code == 0 and (shown["proven"], shown["covered"], shown["after"], shown["events"]) == (4, 4, 2, 6)


@pytest.mark.parametrize("seq", [1, 2, 3, 4])
def test_a_rewritten_event_without_its_proof_fails(signed: dict[str, Any], seq: int,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    lines = read_lines(signed["bundle"])

    def change(body: dict[str, Any]) -> None:
        body["actor"]["id"] = "t-999"
        body["at"] = body["at"].replace(":00:00", ":01:00", 1)

    forged = drop_proof(rechain(lines, signed["case"], seq, change), signed["case"], seq)
    path = write_lines(signed["dir"] / f"forged-{seq}.jsonl", forged)
    code, said = verify(path, capsys=capsys)
    assert code == 0, said  # the chain holds: without proofs nothing tells (the point of checkpoints)
    code, said = verify(path, "--pubkey", signed["pub"], capsys=capsys)
    assert code == 1, said
    assert f"seq {seq}" in said and "carries no proof" in said
    code, said = verify(path, "--pubkey", signed["pub"], "--checkpoint", str(signed["dir"] / "cp.json"), capsys=capsys)
    assert code == 1, said


def test_stripped_duplicated_and_swapped_proofs_fail(signed: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    lines = read_lines(signed["bundle"])
    proofs = [i for i, x in enumerate(lines) if x["kind"] == "proof"]
    stripped = [x for x in lines if x["kind"] != "proof"]
    stripped[0] = {**stripped[0], "proofs": 0}
    duplicated = [*lines, lines[proofs[1]]]
    duplicated[0] = {**duplicated[0], "proofs": len(proofs) + 1}
    swapped = list(lines)
    swapped[proofs[0]], swapped[proofs[2]] = swapped[proofs[2]], swapped[proofs[0]]
    for name, forged in (("stripped", stripped), ("duplicated", duplicated), ("swapped", swapped)):
        code, said = verify(write_lines(signed["dir"] / f"{name}.jsonl", forged), "--pubkey", signed["pub"], capsys=capsys)
        assert code == 1, (name, said)


def test_a_rewritten_tail_that_claims_to_be_after_the_checkpoint_fails(signed: dict[str, Any],
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # the last covered event is rewritten and moved past the checkpoint, so that no proof is due; but it
    # was recorded before the checkpoint was signed
    lines = read_lines(signed["bundle"])
    events = [x for x in lines if x["kind"] == "event"]
    last_covered = 4
    forged = rechain(lines, signed["case"], last_covered, lambda b: b["actor"].update(id="t-999"))
    forged = drop_proof(forged, signed["case"], last_covered)
    from ijime_flow.proofs.tlog import parse_checkpoint

    size = parse_checkpoint((signed["dir"] / "cp.json").read_text(encoding="utf-8")).size
    for line in forged:
        if line["kind"] == "event" and line["seq"] >= last_covered:
            line["position"] = size + line["seq"]  # still increasing
    assert len(events) == 6
    code, said = verify(write_lines(signed["dir"] / "moved.jsonl", forged), "--pubkey", signed["pub"], capsys=capsys)
    assert code == 1, said
    assert "before the checkpoint" in said


def test_the_auditors_checkpoint_takes_precedence(signed: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, said = verify(signed["bundle"], "--pubkey", signed["pub"], "--checkpoint", str(signed["dir"] / "cp.json"),
                        capsys=capsys)
    assert code == 0, said
    # a later checkpoint covers every event: the bundle's proofs are for another one, so none counts
    code, said = verify(signed["bundle"], "--pubkey", signed["pub"], "--checkpoint", str(signed["dir"] / "cp-later.json"),
                        capsys=capsys)
    assert code == 1 and "another checkpoint" in said and "0 of 6 events proven" in said
    # a checkpoint without the key that signed it is refused as unusable input
    assert main(["verify", str(signed["bundle"]), "--checkpoint", str(signed["dir"] / "cp.json")]) == 2
    _, other_public = generate_keypair()
    (signed["dir"] / "other.pub").write_bytes(other_public)
    code, said = verify(signed["bundle"], "--pubkey", str(signed["dir"] / "other.pub"), capsys=capsys)
    assert code == 1 and "signature" in said
