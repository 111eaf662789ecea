"""The generators of the standing fuzz campaigns, shared by the test suite (a few hundred inputs, in CI
time) and ``bench/fuzz.py`` (10,000 and more per campaign, with the figures the README publishes).

Each campaign takes a seeded ``random.Random`` and returns the outcome class of one input. An outcome
that is a failure of ijime-flow is one of ``FAILURES``: a traceback (an exception that is not an
``IjimeFlowError``, or exit code 3 from the command), an accepted forgery (exit 0 for a bundle whose
hashed bytes or proofs were changed), an unreadable store (an accepted step whose case no longer
reads back or verifies), a divergence (the same call accepted by one store and refused by another, or
answered differently).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from ijime_flow import Actor, Engine, FixedClock, IjimeFlowError
from ijime_flow.clock import TOKYO
from ijime_flow.language.loader import load_text

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
FAILURES = ("traceback", "forgery-accepted", "unreadable", "divergent")
ALL_ROLES = Actor("fuzz-1", {"staff", "administrator", "principal", "committee", "counselor", "board", "mayor"})
START = datetime(2019, 5, 1, 9, tzinfo=TOKYO)
WEIRD = ["", " ", "\x00", "\ud800", "\x1b[31m", "0", "-1", "1e999", "99999999999999999999", "P10000Y", "PT", "null",
         "9999-12-31T23:59:59-12:00", "0001-01-01", "2019-05-01", "../", "/", "~", "%s", "{}", "[]", "日本語", "a" * 300]


def _quiet(call: Callable[[], Any]) -> Any:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        return call()


# -- 1. workflow YAML, mutated structurally and byte by byte ---------------------------------------------
def _mutate_tree(rng: random.Random, node: Any, depth: int = 0) -> Any:
    if isinstance(node, dict) and node:
        key = rng.choice(list(node))
        roll = rng.random()
        if roll < 0.2:
            node.pop(key)
        elif roll < 0.35:
            node[key + rng.choice(["_", "x", "s"])] = node.pop(key)
        elif roll < 0.7 or depth > 6:
            node[key] = rng.choice([None, True, 0, -1, 1.5, "x", [], {}, "P1D", "P10000Y", "PT", ["staff"],
                                    {"fact": "online", "equals": True}, rng.choice(WEIRD)])
        else:
            node[key] = _mutate_tree(rng, node[key], depth + 1)
    elif isinstance(node, list) and node:
        i = rng.randrange(len(node))
        roll = rng.random()
        if roll < 0.25:
            node.pop(i)
        elif roll < 0.45:
            node.insert(rng.randrange(len(node) + 1), node[i])
        else:
            node[i] = _mutate_tree(rng, node[i], depth + 1)
    elif isinstance(node, str):
        return rng.choice([node + "x", node[::-1], "", rng.choice(WEIRD)])
    return node


def mutate_workflow(rng: random.Random, text: str) -> str:
    if rng.random() < 0.5:
        tree = yaml.safe_load(text)
        for _ in range(rng.randint(1, 3)):
            tree = _mutate_tree(rng, tree)
        return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)
    data = bytearray(text.encode("utf-8"))
    for _ in range(rng.randint(1, 4)):
        roll, at = rng.random(), rng.randrange(len(data))
        if roll < 0.4:
            data[at] = rng.choice(b" \t\n:-[]{}#&*!|>'\"%@`,?\x00\x07\x1b0aZ\xe3")
        elif roll < 0.7:
            del data[at:at + rng.randint(1, 40)]
        else:
            data[at:at] = data[rng.randrange(len(data)):][: rng.randint(1, 40)]
    return data.decode("utf-8", errors="replace")


def workflow_campaign(rng: random.Random) -> str:
    source = rng.choice(["response.yaml", "serious_incident.yaml"])
    text = mutate_workflow(rng, (WORKFLOWS / source).read_text(encoding="utf-8"))
    try:
        definition = load_text(text, file="mutated.yaml")
    except IjimeFlowError as exc:
        problems = getattr(exc, "problems", None)
        if not problems or any(p.line < 1 or not p.message for p in problems):
            return "traceback"  # a refusal must say where
        return "refused"
    except Exception:
        return "traceback"
    try:
        with Engine(clock=FixedClock(START + timedelta(days=400)), school="fuzz") as engine:
            engine.load(WORKFLOWS)  # the escalation target
            engine.add_definition(definition)
            try:
                case = engine.open_case(definition.id, actor=ALL_ROLES, at=START)
            except IjimeFlowError:
                return "loaded"
            at = START
            for _ in range(25):
                triggers = case.available_triggers(ALL_ROLES, at=at)
                if not triggers:
                    break
                at += timedelta(hours=rng.randint(1, 30))
                with contextlib.suppress(IjimeFlowError):
                    case.fire(rng.choice(triggers), actor=ALL_ROLES, at=at,
                              data=rng.choice([None, {"bullying_recognised": True}, {"reason": "x"}]))
            if not engine.verify().ok or engine.get_case(case.id).seq != case.seq:
                return "unreadable"
            return "walked"
    except IjimeFlowError:
        return "loaded"
    except Exception:
        return "traceback"


# -- 3. bundles and proof files, mutated ----------------------------------------------------------------
def make_signed_bundle(folder: Path) -> dict[str, Any]:
    """A store with two cases, a checkpoint over it, a later step, and a bundle exported with proofs."""
    from ijime_flow.cli import main

    clock = FixedClock(START + timedelta(days=1))
    db = folder / "school.db"
    with Engine(db, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        staff, admin = Actor("t-1", {"staff"}), Actor("v-1", {"administrator"})
        case = engine.open_case("response", actor=staff, at=START, case_id="case-1")
        engine.open_case("response", actor=staff, at=START, case_id="case-2")
        case.fire("stop_act", actor=staff, at=START + timedelta(hours=1))
        case.fire("report_to_administrator", actor=staff, at=START + timedelta(hours=2))
    _quiet(lambda: main(["keygen", "--out", str(folder / "k")]))
    # a C2SP checkpoint with its signed time (the ijime-flow-time line), which lets a bundle catch an event
    # moved past it
    from ijime_flow.audit.source import open_reading
    from ijime_flow.proofs.check import make_tlog_checkpoint

    with open_reading(db) as reading:
        signed = make_tlog_checkpoint(reading.store, (folder / "k.key").read_bytes(), "board.example.jp/school-1",
                                      reading.clock.now())
    (folder / "cp.json").write_text(str(signed), encoding="utf-8")
    clock.set(START + timedelta(days=2))
    with Engine(db, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        engine.get_case("case-1").fire("share_with_committee", actor=admin, at=START + timedelta(days=1, hours=1))
    bundle = folder / "case.jsonl"
    _quiet(lambda: main(["export", "--db", str(db), "case-1", "--checkpoint", str(folder / "cp.json"), "-o", str(bundle)]))
    _quiet(lambda: main(["prove", "--db", str(db), "case-1", "2", "--checkpoint", str(folder / "cp.json"), "--json",
                         "-o", str(folder / "proof.json")]))
    return {"db": db, "bundle": bundle, "pub": folder / "k.pub", "proof": folder / "proof.json",
            "text": bundle.read_text(encoding="utf-8"), "proof_text": (folder / "proof.json").read_text(encoding="utf-8")}


def _guarded(text: str) -> tuple[list[str], list[str]]:
    """What a forgery changes: the hashed event bodies, and the proof lines (sorted) of a bundle's text."""
    bodies, proofs = [], []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("kind") == "event":
            bodies.append(str(obj.get("body")))
        if isinstance(obj, dict) and obj.get("kind") == "proof":
            proofs.append(json.dumps(obj, sort_keys=True))
    return bodies, sorted(proofs)


def bundle_campaign(rng: random.Random, signed: dict[str, Any], folder: Path) -> str:
    from ijime_flow.cli import main

    lines = signed["text"].splitlines()
    roll = rng.random()
    if roll < 0.35:  # a byte anywhere
        data = bytearray(signed["text"].encode("utf-8"))
        at = rng.randrange(len(data))
        data[at] = (data[at] + rng.randint(1, 255)) % 256
        text = data.decode("utf-8", errors="replace")
    elif roll < 0.6:  # an event body rewritten (a field changed), hash left or recomputed
        from ijime_flow.events import body_hash

        index = rng.choice([i for i, line in enumerate(lines) if '"kind":"event"' in line])
        obj = json.loads(lines[index])
        body = json.loads(obj["body"])
        body[rng.choice(["actor", "at", "trigger", "data", "to_states"])] = rng.choice(
            [{"id": "t-999", "roles": ["staff"]}, "2019-05-01T09:30:00+09:00", "close", {"x": 1}, ["closed"]])
        if rng.random() < 0.7:
            body["hash"] = body_hash(body)
        obj["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        lines[index] = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        text = "\n".join(lines) + "\n"
    elif roll < 0.8:  # proof lines dropped, doubled or swapped, the header's count kept right
        proofs = [i for i, line in enumerate(lines) if '"kind":"proof"' in line]
        what = rng.choice(["drop", "double", "swap", "strip"])
        if what == "drop":
            lines.pop(rng.choice(proofs))
        elif what == "double":
            lines.append(lines[rng.choice(proofs)])
        elif what == "swap" and len(proofs) > 1:
            a, b = rng.sample(proofs, 2)
            lines[a], lines[b] = lines[b], lines[a]
        else:
            lines = [line for line in lines if '"kind":"proof"' not in line]
        header = json.loads(lines[0])
        header["proofs"] = sum('"kind":"proof"' in line for line in lines)
        lines[0] = json.dumps(header, ensure_ascii=False, separators=(",", ":"))
        text = "\n".join(lines) + "\n"
    else:  # a line cut, deleted or repeated
        index = rng.randrange(len(lines))
        choice = rng.random()
        if choice < 0.4:
            lines[index] = lines[index][: rng.randrange(len(lines[index]) + 1)]
        elif choice < 0.7:
            lines.pop(index)
        else:
            lines.insert(index, lines[index])
        text = "\n".join(lines) + "\n"
    path = folder / "mutated.jsonl"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        code = _quiet(lambda: main(["verify", str(path), "--pubkey", str(signed["pub"])]))
    except Exception:
        return "traceback"
    if code == 3:
        return "traceback"
    if code == 0 and _guarded(text) != _guarded(signed["text"]):
        return "forgery-accepted"  # a changed event or proof line must never verify
    return {0: "accepted", 1: "problems", 2: "unusable"}.get(code, "traceback")


def proof_campaign(rng: random.Random, signed: dict[str, Any], folder: Path) -> str:
    from ijime_flow.cli import main

    proof = json.loads(signed["proof_text"])
    key = rng.choice(sorted(proof))
    proof[key] = rng.choice([None, 0, -1, 5, "x", [], {}, [proof[key]], str(proof[key]) + "0", True, 2**70])
    if rng.random() < 0.2:
        proof[rng.choice(["note", "format2", ""])] = 1
    path = folder / "mutated-proof.json"
    path.write_text(json.dumps(proof), encoding="utf-8")
    try:
        code = _quiet(lambda: main(["verify-proof", str(path), "--pubkey", str(signed["pub"])]))
    except Exception:
        return "traceback"
    if code == 0:
        return "forgery-accepted"
    return {1: "problems", 2: "unusable"}.get(code, "traceback")


# -- 4. random command lines ---------------------------------------------------------------------------
COMMANDS = ["validate", "check", "diagram", "schema", "history", "verify", "export", "import", "replay", "report",
            "cases", "keygen", "checkpoint", "prove", "verify-proof", "demo", "nonsense"]
FLAGS = ["--db", "--json", "--at", "--seq", "--as-of", "--limit", "--school", "--state", "--workflow", "--checkpoint",
         "--pubkey", "--key", "--out", "-o", "--with-linked", "--against", "--overdue", "--closed", "--no-lint", "-v"]


def cli_campaign(rng: random.Random, signed: dict[str, Any], folder: Path) -> str:
    from ijime_flow.cli import main

    values = [str(signed["db"]), str(signed["bundle"]), str(signed["pub"]), str(signed["proof"]), str(folder),
              str(folder / "absent.db"), "case-1", "case-2", "2", "0", "2019-05-02", str(WORKFLOWS / "response.yaml"),
              "sqlite:///", ":memory:", "postgresql://u:p@127.0.0.1:1/x?connect_timeout=1", *WEIRD]
    argv = [rng.choice(COMMANDS)]
    for _ in range(rng.randint(0, 6)):
        argv.append(rng.choice(FLAGS) if rng.random() < 0.5 else rng.choice(values))
    if argv[0] == "demo":  # it writes: only into the campaign's folder
        argv += ["--db", str(folder / "demo.db")]
    if argv[0] == "keygen":
        argv += ["--out", str(folder / f"key{rng.randrange(10**6)}")]
    if argv[0] == "schema" or "-o" in argv or "--out" in argv:
        argv = [a if a not in ("-o", "--out") else "-o" for a in argv] + ["-o", str(folder / "out.txt")]
    if argv[0] == "check":  # runs pytest: too slow for a fuzz loop
        argv[0] = "validate"
    try:
        code = _quiet(lambda: main(argv))
    except SystemExit as exc:  # argparse refusing the arguments: exit 2 with its usage line
        return "unusable" if exc.code == 2 else "traceback"
    except Exception:
        return "traceback"
    return {0: "ok", 1: "problems", 2: "unusable"}.get(code, "traceback")
