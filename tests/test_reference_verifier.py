"""The stand-alone reference verifier (reference/verify.py, written from docs/formats.md) agrees with
``ijime-flow verify`` on every frozen history and on bundles tampered with in every way the tamper tests
know: on the chain, definition, calendar and link checks — the same (case_id, seq, kind), problem for
problem — and on the signature and inclusion-proof checks (the same verdict, for the same events).

The reference verifier runs as a real process, as an auditor would run it; it does not re-run the
workflow's legality (only ijime-flow can), so problems of the kinds ``illegal`` and ``state`` are
ijime-flow's alone, and a case whose replay ijime-flow stopped at an illegal step is compared on its links
only up to that step (the reference verifier goes on checking links beyond it).
"""

from __future__ import annotations

import ast
import base64
import contextlib
import io
import json
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import PRINCIPAL, STAFF, WORKFLOWS, jst, walk_main_line
from test_projection import busy_store
from test_verify_equivalence import DAMAGE, Raw, canonical

from ijime_flow import Engine, FixedClock
from ijime_flow.audit.bundle import export_bundle
from ijime_flow.canonical import canonical_json, sha256_hex
from ijime_flow.cli import main as cli
from ijime_flow.events import body_hash
from ijime_flow.proofs.check import make_checkpoint
from ijime_flow.proofs.checkpoint import checkpoint_message, from_json, generate_keypair, to_json, verify_checkpoint_signature
from ijime_flow.proofs.merkle import consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency, verify_inclusion

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference" / "verify.py"
VECTORS = ROOT / "reference" / "vectors"
FROZEN = Path(__file__).resolve().parent / "fixtures" / "histories"
SHARED = {"format", "seq", "hash", "chain", "definition", "calendar", "link"}  # the kinds both check
Lines = list[dict[str, Any]]


# -- running both --------------------------------------------------------------------------------------------
def reference(*args: str | Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([sys.executable, str(REFERENCE), *map(str, args)], capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1, 2), done.stderr
    return done.returncode, json.loads(done.stdout)


def ijime(*args: str | Path) -> tuple[int, dict[str, Any] | None]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli(["verify", *map(str, args), "--json"])
    return code, json.loads(out.getvalue()) if code != 2 else None


def compare(bundle: Path, *extra: str | Path) -> tuple[int, dict[str, Any]]:
    """Run both on one bundle and require them to agree; the reference verifier's exit code and report."""
    code, theirs = ijime(bundle, *extra)
    mine_code, mine = reference(bundle, *extra)
    if code == 2:  # not a usable bundle (a line missing, cut, out of order): both refuse it
        assert mine_code == 2 and mine["problems"][0]["kind"] == "bundle", mine
        return mine_code, mine
    assert theirs is not None and mine_code in (0, 1), mine
    problems = theirs["problems"]
    stop: dict[str, int] = {}  # where ijime-flow's replay of each case stopped: its first illegal or state problem
    for p in problems:
        if p["kind"] in ("illegal", "state"):
            stop[p["case_id"]] = min(stop.get(p["case_id"], p["seq"]), p["seq"])
    want = sorted((p["case_id"], p["seq"], p["kind"]) for p in problems if p["kind"] in SHARED)
    got = sorted((p["case_id"], p["seq"], p["kind"]) for p in mine["problems"] if p["kind"] in SHARED and (
        p["kind"] != "link" or p["seq"] == 1 or p["seq"] < stop.get(p["case_id"], p["seq"] + 1)))
    assert got == want, (bundle.name, mine["problems"], problems)
    if "--pubkey" in extra:
        proofs = theirs["proofs"]["problems"]
        mine_proofs = [p for p in mine["problems"] if p["kind"] in ("proof", "signature")]
        assert bool(proofs) == bool(mine_proofs), (bundle.name, mine_proofs, proofs)
        assert {m for text in proofs for m in re.findall(r"case (\S+) seq (\d+)", text)} == {
            (p["case_id"], str(p["seq"])) for p in mine_proofs if p["case_id"]}, (bundle.name, mine_proofs, proofs)
        assert any("signature does not verify" in text for text in proofs) == any(
            "signature does not verify" in p["message"] for p in mine_proofs)
    assert (mine_code == 1) == bool(mine["problems"])
    return mine_code, mine


# -- the frozen histories ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(p.name for p in FROZEN.glob("*.jsonl")))
def test_every_frozen_history_is_judged_alike(name: str) -> None:
    code, report = compare(FROZEN / name)
    assert code == 0 and report["ok"]  # forged.jsonl's problem is an illegal step: only replay finds it


@pytest.mark.parametrize("name", ["verify.py", "merkle_proofs.py"])
def test_the_reference_verifier_imports_nothing_from_ijime_flow(name: str) -> None:
    tree = ast.parse((REFERENCE.parent / name).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import"
            imported.add(str(node.module).split(".")[0])
    assert "ijime_flow" not in imported
    assert imported - {"__future__"} <= set(sys.stdlib_module_names) | {"cryptography", "merkle_proofs"}, imported
    assert not any(isinstance(n, ast.Call) and getattr(n.func, "id", "") in ("__import__", "exec", "eval")
                   for n in ast.walk(tree))


# -- a store with escalations, subjects and pinned calendars, a signed checkpoint, events after it --------------------
@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("reference")
    db = tmp / "school.db"
    busy_store(db, 21, cases=10)[0].close()
    clock = FixedClock(jst(2030, 1, 1))
    private, public = generate_keypair()
    _, other = generate_keypair()
    (tmp / "k.pub").write_bytes(public)
    (tmp / "other.pub").write_bytes(other)
    with Engine(db, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        case = walk_main_line(engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9)), until="confirm_facts")
        case.record_fact("petition", "guardians", actor=PRINCIPAL, at=jst(2019, 5, 8))
        later = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 9, 9))
        (tmp / "cp.json").write_text(to_json(make_checkpoint(engine.store, private, "school-1", jst(2030, 1, 2))))
        clock.set(jst(2030, 1, 3))
        later.fire("stop_act", actor=STAFF, at=jst(2019, 5, 10))
        (tmp / "cp-later.json").write_text(to_json(make_checkpoint(engine.store, private, "school-1", jst(2030, 1, 4))))
        cp = from_json((tmp / "cp.json").read_text())
        linked = [c for c in engine.case_ids() if c not in (case.id, later.id)
                  and engine.store.read_case(c)[0].body.count(case.id)]
        assert linked, "the petition did not escalate"
        for name, cid, with_linked in (("escalated", case.id, True), ("alone", case.id, False), ("later", later.id, False)):
            (tmp / f"{name}.jsonl").write_text(export_bundle(engine, cid, with_linked=with_linked, checkpoint=cp,
                                                             exported_at=jst(2030, 1, 5)), encoding="utf-8")
    return {"dir": tmp, "db": db, "case": case.id, "linked": linked[0], "later": later.id, "pub": tmp / "k.pub",
            "other": tmp / "other.pub"}


def read_lines(path: Path) -> Lines:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_lines(path: Path, lines: Lines) -> Path:
    path.write_text("".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) + "\n" for x in lines), encoding="utf-8")
    return path


def counted(lines: Lines) -> Lines:
    """The header's counts made right again (a forger's care)."""
    lines[0] = {**lines[0], "events": sum(x["kind"] == "event" for x in lines),
                "proofs": sum(x["kind"] == "proof" for x in lines)}
    return lines


def events_of(lines: Lines, cid: str) -> list[dict[str, Any]]:
    return [x for x in lines if x["kind"] == "event" and x["case_id"] == cid]


def edit(lines: Lines, cid: str, seq: int, change: Callable[[dict[str, Any]], None], *, hashed: bool = False,
         rechained: bool = False) -> Lines:
    """Change one event's body: its hash kept, recomputed, or recomputed with every later one of its case."""
    prev = None
    for line in events_of(lines, cid):
        body = json.loads(line["body"])
        if line["seq"] == seq:
            change(body)
            if hashed or rechained:
                body["hash"] = body_hash(body)
        elif line["seq"] > seq and rechained:
            body["prev_hash"] = prev
            body["hash"] = body_hash(body)
        if line["seq"] >= seq:
            line["body"] = canonical_json(body)
        prev = body["hash"]
    return lines


def definition_line(lines: Lines, calendar: bool) -> dict[str, Any]:
    return next(x for x in lines if x["kind"] == "definition" and ('"format":"ijime-flow/calendar/1"' in x["text"]) == calendar)


def tampered(w: dict[str, Any]) -> dict[str, tuple[str, Lines, tuple[str, ...]]]:
    """Every bundle-level tamper kind: name -> (the bundle it starts from, its lines, extra options)."""
    def base(name: str = "escalated") -> Lines:
        return read_lines(w["dir"] / f"{name}.jsonl")

    cid, linked = w["case"], w["linked"]
    out: dict[str, tuple[str, Lines, tuple[str, ...]]] = {}
    out["honest"] = ("escalated", base(), ())
    out["honest_alone_has_a_broken_link"] = ("alone", base("alone"), ())
    out["honest_with_events_after_the_checkpoint"] = ("later", base("later"), ())
    out["altered_body"] = ("escalated", edit(base(), cid, 3, lambda b: b["actor"].update(id="t-999")), ())
    out["rehashed_body"] = ("escalated", edit(base(), cid, 3, lambda b: b["actor"].update(id="t-999"), hashed=True), ())
    out["rechained_body"] = ("escalated", edit(base(), cid, 3, lambda b: b["actor"].update(id="t-999"), rechained=True), ())
    out["rechained_first_event"] = ("escalated", edit(base(), cid, 1, lambda b: b.update(school="school-x"), rechained=True), ())
    lines = base()
    lines.remove(events_of(lines, cid)[2])
    out["deleted_event"] = ("escalated", counted(lines), ())
    lines = base()
    lines.remove(events_of(lines, cid)[-1])  # its escalation: the linked case's link is then broken
    out["deleted_last_event"] = ("escalated", counted(lines), ())
    lines = base()
    a, b = events_of(lines, cid)[2:4]
    a["body"], b["body"] = b["body"], a["body"]
    out["swapped_events"] = ("escalated", lines, ())
    out["event_moved_to_another_seq"] = ("escalated", edit(base(), cid, 4, lambda b: b.update(seq=5), hashed=True), ())
    lines = base()
    events_of(lines, cid)[1]["body"] = events_of(lines, cid)[1]["body"][:40]
    out["body_not_json"] = ("escalated", lines, ())
    lines = base()
    events_of(lines, cid)[1]["body"] = "[]"
    out["body_a_list"] = ("escalated", lines, ())
    out["body_with_an_unknown_field"] = ("escalated", edit(base(), cid, 2, lambda b: b.update(note="x"), rechained=True), ())
    out["body_with_a_naive_time"] = ("escalated", edit(base(), cid, 2, lambda b: b.update(at=b["at"][:19]), rechained=True), ())
    out["first_event_not_opened"] = ("escalated", edit(base(), cid, 1, lambda b: b.update(type="action"), rechained=True), ())
    out["first_event_unpinned"] = ("escalated", edit(base(), cid, 1, lambda b: b.update(definition=None), rechained=True), ())
    out["pin_names_another_version"] = ("escalated", edit(base(), cid, 1, lambda b: b["definition"].update(version="9"),
                                                          rechained=True), ())
    lines = base()
    definition_line(lines, False)["text"] = definition_line(lines, False)["text"].replace('"staff"', '"board"', 1)
    out["altered_definition"] = ("escalated", lines, ())
    lines = base()
    lines.remove(definition_line(lines, False))
    out["missing_definition"] = ("escalated", lines, ())
    lines = base()
    definition_line(lines, True)["text"] = definition_line(lines, True)["text"].replace('"sunday"', '"monday"', 1)
    out["altered_calendar"] = ("escalated", lines, ())
    lines = base()
    lines = [x for x in lines if not (x["kind"] == "definition" and '"format":"ijime-flow/calendar/1"' in x["text"])]
    out["missing_calendar"] = ("escalated", lines, ())
    out["calendar_pin_not_a_sha"] = ("escalated", edit(base(), cid, 1, lambda b: b["data"].update(_calendar="x"),
                                                       rechained=True), ())
    escalated_seq = next(json.loads(x["body"])["seq"] for x in events_of(base(), cid) if '"type":"escalated"' in x["body"])
    out["forged_link_target"] = ("escalated", edit(base(), cid, escalated_seq, lambda b: b["data"].update(case="nowhere"),
                                                   rechained=True), ())
    out["forged_link_source"] = ("escalated", edit(base(), linked, 1, lambda b: b["data"].update(escalated_from="nowhere"),
                                                   rechained=True), ())
    out["forged_link_criterion"] = ("escalated", edit(base(), linked, 1, lambda b: b["data"].update(criterion="absence_run"),
                                                      rechained=True), ())
    # the proofs, against the checkpoint the bundle carries or the auditor's own
    key = ("--pubkey", str(w["pub"]))
    out["proofs_honest"] = ("escalated", base(), key)
    out["proofs_honest_with_events_after_the_checkpoint"] = ("later", base("later"), key)
    out["proofs_auditors_checkpoint"] = ("escalated", base(), (*key, "--checkpoint", str(w["dir"] / "cp.json")))
    out["proofs_later_checkpoint"] = ("escalated", base(), (*key, "--checkpoint", str(w["dir"] / "cp-later.json")))
    out["proofs_another_key"] = ("escalated", base(), ("--pubkey", str(w["other"])))
    out["proofs_rechained_body"] = ("escalated", out["rechained_body"][1], key)
    out["proofs_deleted_last_event"] = ("escalated", out["deleted_last_event"][1], key)
    lines = base()
    signature = base64.b64encode(bytes(64)).decode("ascii")
    for x in lines:
        if x["kind"] == "proof":
            x["inclusion"]["checkpoint"]["signature"] = signature
    out["wrong_signature"] = ("escalated", lines, key)
    lines = base()
    proofs = [x for x in lines if x["kind"] == "proof"]
    proofs[2]["inclusion"]["proof"][0] = "00" * 32
    out["wrong_proof_path"] = ("escalated", lines, key)
    lines = base()
    [x for x in lines if x["kind"] == "proof"][1]["inclusion"]["leaf_index"] += 1
    out["wrong_proof_index"] = ("escalated", lines, key)
    out["rechained_without_its_proof"] = ("escalated", counted([
        x for x in out["rechained_body"][1] if not (x["kind"] == "proof" and x["case_id"] == cid and x["seq"] == 3)]), key)
    out["stripped_proofs"] = ("escalated", counted([x for x in base() if x["kind"] != "proof"]), key)
    lines = base()
    out["duplicated_proof"] = ("escalated", counted([*lines, [x for x in lines if x["kind"] == "proof"][1]]), key)
    lines = base()
    at = [i for i, x in enumerate(lines) if x["kind"] == "proof"]
    lines[at[0]], lines[at[2]] = lines[at[2]], lines[at[0]]
    out["swapped_proofs"] = ("escalated", lines, key)
    lines = edit(base("later"), w["later"], 1, lambda b: b["actor"].update(id="t-999"), rechained=True)
    lines = counted([x for x in lines if not (x["kind"] == "proof" and x["case_id"] == w["later"])])
    size = json.loads((w["dir"] / "cp.json").read_text())["size"]
    for x in events_of(lines, w["later"]):
        x["position"] = size + x["seq"]
    out["tail_moved_after_the_checkpoint"] = ("later", lines, key)
    return out


def test_every_tamper_kind_is_judged_alike(world: dict[str, Any]) -> None:
    verdicts = {}
    for name, (_, lines, extra) in tampered(world).items():
        code, report = compare(write_lines(world["dir"] / f"t-{name}.jsonl", lines), *extra)
        verdicts[name] = (code, sorted({p["kind"] for p in report["problems"]}))
    assert verdicts["honest"] == verdicts["proofs_honest"] == verdicts["proofs_auditors_checkpoint"] == (0, [])
    assert verdicts["honest_with_events_after_the_checkpoint"] == verdicts["proofs_honest_with_events_after_the_checkpoint"]
    # each tamper is caught by the reference verifier, as the kind it is (the test damages something)
    expected = {"altered_body": "hash", "rehashed_body": "chain", "deleted_event": "bundle", "swapped_events": "seq",
                "event_moved_to_another_seq": "seq", "body_not_json": "format", "body_a_list": "format",
                "body_with_an_unknown_field": "format", "body_with_a_naive_time": "format",
                "first_event_not_opened": "definition", "first_event_unpinned": "definition",
                "pin_names_another_version": "definition", "altered_definition": "definition",
                "missing_definition": "definition", "altered_calendar": "calendar", "missing_calendar": "calendar",
                "calendar_pin_not_a_sha": "calendar", "forged_link_target": "link", "forged_link_source": "link",
                "forged_link_criterion": "link", "honest_alone_has_a_broken_link": "link",
                "proofs_later_checkpoint": "proof", "proofs_another_key": "signature", "proofs_rechained_body": "proof",
                "proofs_deleted_last_event": "proof", "deleted_last_event": "link",
                "wrong_signature": "signature", "wrong_proof_path": "proof",
                "wrong_proof_index": "proof", "rechained_without_its_proof": "proof", "stripped_proofs": "proof",
                "duplicated_proof": "proof", "swapped_proofs": "proof", "tail_moved_after_the_checkpoint": "proof"}
    for name, kind in expected.items():
        assert verdicts[name][0] == (2 if kind == "bundle" else 1) and (kind == "bundle" or kind in verdicts[name][1]), \
            (name, verdicts[name])
    # what only proofs (or replay) catch: a rechained history passes the chain checks of both
    assert verdicts["rechained_body"] == verdicts["rechained_first_event"] == (0, [])


# -- stores damaged at random (the corruptors of test_verify_equivalence), then exported --------------------------
def test_damaged_stores_exported_are_judged_alike(world: dict[str, Any], tmp_path: Path) -> None:
    base = Raw(world["db"])
    before = {cid: [base.text(cid, s) for s in base.seqs(cid)] for cid in base.cases()}
    base.db.close()
    compared = found = 0
    per_damage: dict[str, int] = {}
    for damage in DAMAGE:
        for seed in (1, 2):
            path = tmp_path / f"{damage.__name__}-{seed}.db"
            shutil.copy(world["db"], path)
            raw = Raw(path)
            damage(raw, random.Random(seed * 7919 + len(damage.__name__)))
            after = {cid: [raw.text(cid, s) for s in raw.seqs(cid)] for cid in raw.cases()}
            raw.db.close()
            touched = [c for c in before if after.get(c) != before[c]] or [world["case"]]
            with Engine(path, clock=FixedClock(jst(2030, 1, 1))) as engine:
                for cid in touched[:2]:
                    if not after.get(cid):  # a case deleted whole: export the case at the other end of a link to it
                        cid = next((c for c, texts in sorted(after.items()) if any(cid in t for t in texts)), "")
                        if not cid:
                            continue  # nothing names it: nothing to export (checkpoints catch it)
                    bundle = tmp_path / f"{damage.__name__}-{seed}-{cid}.jsonl"
                    bundle.write_text(export_bundle(engine, cid, with_linked=True, exported_at=jst(2030, 1, 5)),
                                      encoding="utf-8")
                    code, _ = compare(bundle)
                    compared += 1
                    found += code != 0
                    per_damage[damage.__name__] = per_damage.get(damage.__name__, 0) + 1
    print(f"compared {compared} exported bundles of damaged stores, {found} with problems")
    # every kind of damage judged alike at least once (how many cases one touches depends on the random store)
    assert set(per_damage) == {d.__name__ for d in DAMAGE} and found >= len(DAMAGE), (per_damage, found)


# -- a difference found by the reference verifier, now fixed in ijime-flow: an unknown event format -----------------------
@pytest.mark.parametrize("value", [3, 0, True, 10**30, "1"])
def test_an_event_of_an_unknown_format_is_refused_by_both(world: dict[str, Any], value: Any) -> None:
    lines = edit(read_lines(world["dir"] / "escalated.jsonl"), world["case"], 2, lambda b: b.update(format=value),
                 rechained=True)
    code, mine = compare(write_lines(world["dir"] / f"format-{str(value)[:6]}.jsonl", lines))
    assert code == 1 and any(p["kind"] == "format" for p in mine["problems"]), mine


# -- the test vectors -----------------------------------------------------------------------------------------------------
def vector(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return found


def test_the_vectors_hold_for_ijime_flow() -> None:
    event = vector("event.json")
    body = json.loads(event["canonical"])
    assert canonical_json(body) == event["canonical"] and body_hash(body) == event["hash"] == body["hash"]
    assert canonical_json({k: v for k, v in body.items() if k != "hash"}) == event["unsealed"]
    assert sha256_hex(event["unsealed"]) == event["hash"] and canonical(body) == event["canonical"]
    assert canonical_json(event["encode"]["value"]) == event["encode"]["canonical"]
    assert json.loads(FROZEN.joinpath("demo.jsonl").read_text(encoding="utf-8").splitlines()[2])["body"] == event["canonical"]
    definition = vector("definition.json")
    assert sha256_hex(definition["text"]) == definition["sha256"] and definition["text"].encode().hex() == definition["utf8_hex"]
    tree = vector("merkle.json")
    leaves = [leaf_hash(t.encode("utf-8")) for t in tree["leaves"]]
    assert [h.hex() for h in leaves] == tree["leaf_hashes"]
    assert {str(n): root(leaves, size=n).hex() for n in range(len(leaves) + 1)} == tree["roots"]
    inc, con = tree["inclusion"], tree["consistency"]
    assert [h.hex() for h in inclusion_proof(leaves, inc["index"], size=inc["size"])] == inc["path"]
    assert [h.hex() for h in consistency_proof(leaves, con["old_size"], size=con["new_size"])] == con["path"]
    assert verify_inclusion(leaves[inc["index"]], inc["index"], inc["size"], [bytes.fromhex(h) for h in inc["path"]],
                            bytes.fromhex(tree["roots"][str(inc["size"])]))
    assert verify_consistency(con["old_size"], con["new_size"], bytes.fromhex(tree["roots"][str(con["old_size"])]),
                              bytes.fromhex(tree["roots"][str(con["new_size"])]), [bytes.fromhex(h) for h in con["path"]])
    signed = vector("checkpoint.json")
    cp = from_json(json.dumps(signed["checkpoint"]))
    assert checkpoint_message(cp).decode() == signed["message"] and to_json(cp) == canonical(signed["checkpoint"])
    assert verify_checkpoint_signature(cp, signed["public_key_pem"].encode())
    assert cp.root == tree["roots"][str(cp.size)]


def test_the_reference_verifier_checks_the_vectors_and_fails_on_a_wrong_one(tmp_path: Path) -> None:
    assert reference("--self-test") == (0, {"ok": True, "failed": []})
    changes: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
        ("event.json", lambda v: v.update(hash="0" * 64)),
        ("merkle.json", lambda v: v["roots"].update({"5": "00" * 32})),
        ("checkpoint.json", lambda v: v["checkpoint"].update(log_id="school-0002")),
        ("signed-note.json", lambda v: v.update(note=v["note"].replace("example message", "example massage")))]
    for name, change in changes:
        copy = tmp_path / name.split(".")[0]
        shutil.copytree(VECTORS, copy)
        damaged = json.loads((copy / name).read_text(encoding="utf-8"))
        change(damaged)
        (copy / name).write_text(json.dumps(damaged, ensure_ascii=False), encoding="utf-8")
        code, shown = reference("--self-test", "--vectors", copy)
        assert code == 1 and name in shown["failed"][0], (name, shown)


def test_a_proof_file_from_prove_is_checked_alike(world: dict[str, Any], tmp_path: Path) -> None:
    proof = tmp_path / "proof.json"
    assert cli(["prove", "--db", str(world["db"]), world["case"], "2", "--checkpoint", str(world["dir"] / "cp.json"),
                "-o", str(proof)]) == 0
    assert reference("--proof", proof, "--pubkey", world["pub"])[0] == 0
    assert cli(["verify-proof", str(proof), "--pubkey", str(world["pub"])]) == 0
    shown = json.loads(proof.read_text(encoding="utf-8"))
    shown["leaf_index"] += 1
    proof.write_text(json.dumps(shown, ensure_ascii=False), encoding="utf-8")
    code, report = reference("--proof", proof, "--pubkey", world["pub"])
    assert code == 1 and report["problems"][0]["kind"] == "proof"
    assert cli(["verify-proof", str(proof), "--pubkey", str(world["pub"])]) == 1
    assert reference("--proof", proof, "--pubkey", world["other"])[0] == 1


def test_times_are_read_as_ijime_flow_reads_them() -> None:
    """The reference verifier's reading of event times refuses what the event model refuses."""
    sys.path.insert(0, str(REFERENCE.parent))
    try:
        import merkle_proofs as ref  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(REFERENCE.parent))
    from pydantic import AwareDatetime, TypeAdapter, ValidationError

    model = TypeAdapter(AwareDatetime)
    for text in ["2019-05-13T10:00:00+09:00", "2019-05-13T10:00:00.123456+09:00", "2019-05-13T10:00:00Z",
                 "2019-05-13 10:00+09:00", "2019-05-13T10:00:00+08:60", "2019-05-13T10:00:00+09:00:30",
                 "20190513T100000+09:00", "2019-05-13T10:00:00", "2019-05-13T24:00:00+09:00", "2019-02-29T10:00:00+09:00",
                 "2019-05-13", "2019-05-13T10:00:00+0900"]:
        try:
            model.validate_python(text)
            accepted = True
        except ValidationError:
            accepted = False
        assert (ref.parse_time(text) is not None) == accepted, text
    assert ref.parse_time(datetime(2019, 5, 13).isoformat()) is None
