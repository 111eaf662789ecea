#!/usr/bin/env python3
"""A stand-alone reference verifier for ijime-flow history bundles, written from docs/formats.md.

It imports nothing from ijime_flow: the Python standard library, and ``cryptography`` for Ed25519
signatures only (the chain, definition and link checks run without it). It is meant to be read in
an hour by an auditor who does not want to trust the ijime-flow code base.

What it checks, for every case of the bundle (the kinds are those of ``ijime-flow verify``):

- the bundle file's shape (header, line kinds and order, counts, seq 1, 2, 3 ... per case)   -> exit 2
- ``format``  each event text is JSON, an object, with the fields and types of an event
- ``seq``     the event inside says the case and seq of its line
- ``hash``    ``hash`` is the SHA-256 of the canonical JSON of the event without ``hash``
- ``chain``   ``prev_hash`` is the hash of the event before it (``null`` on seq 1)
- ``definition`` seq 1 is ``opened`` and pins a definition the bundle holds, whose UTF-8 text hashes
              to the pin, and whose ``id`` / ``version`` are the pin's
- ``calendar`` the school calendar seq 1 pins in ``data._calendar`` is there and hashes to its pin
- ``link``    both ends of every escalation name each other (``escalated`` / ``opened`` / ``criterion_met``)
- with ``--pubkey``: the checkpoint's Ed25519 signature (kind ``signature``) and the bundle's
  inclusion proofs (kind ``proof``), RFC 6962 / RFC 9162 Merkle arithmetic written out below
- ``--proof FILE``: a stand-alone proof file (``ijime-flow prove``) checked the same way

What it does NOT check: the legality of the steps and the recorded states. That needs the workflow's
state machine and rules (roles, conditions, deadlines, automatic steps), i.e. ijime-flow itself:
run ``ijime-flow verify`` for that. Like ijime-flow, it stops reading a case at its first broken
event, and it checks the definition and links of a case only once its first event verifies.

Usage::

    python reference/verify.py BUNDLE [--pubkey KEY.pem [--checkpoint CP.json]] [--proof FILE ...]
    python reference/verify.py --self-test        # the test vectors in reference/vectors/

Output: a JSON report ``{"ok": bool, "cases": n, "events": n, "problems": [{"case_id", "seq", "kind",
"message"}]}``; exit status 0 when ok, 1 when there are problems, 2 when the input is unusable.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from merkle_proofs import (  # the second file of this verifier, beside this one
    checkpoint_message,
    checkpoint_of,
    is_int,
    leaf_hash,
    load_public_key,
    merkle_root,
    parse_time,
    proof_file_problems,
    signature_ok,
    texts,
    verify_consistency,
    verify_inclusion,
    verify_note,
    verify_proofs,
)

Json = dict[str, Any]


# -- 1. canonical JSON and hashes (docs/formats.md §2) --------------------------------------------------
def canonical(obj: Any) -> str:
    """Keys sorted by code point, no white space, non-ASCII as itself (no \\u escapes), no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_hex(text: str) -> str:
    """SHA-256 of the UTF-8 bytes of a text, as 64 lowercase hex digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_hash(body: Json) -> str | None:
    """The hash an event must carry: over the canonical JSON of the event without its ``hash`` member."""
    try:
        return sha256_hex(canonical({k: v for k, v in body.items() if k != "hash"}))
    except (ValueError, TypeError):  # NaN or Infinity: there is no canonical form
        return None


# -- 2. reading a bundle (docs/formats.md §6) ------------------------------------------------------------
class Unusable(Exception):
    """The input cannot be checked at all (exit 2)."""


KEYS = {"ijime-flow-bundle": {"kind", "format", "case_id", "exported_at", "cases", "events", "proofs", "generator",
                              "withheld", "outside"},
        "definition": {"kind", "sha256", "text"},
        "event": {"kind", "case_id", "seq", "position", "body"},
        "proof": {"kind", "case_id", "seq", "inclusion"},
        "key": {"kind", "kid", "owner", "key"}}  # a disclosure's keys: not needed to verify, ignored
GROUPS = ["definition", "event", "proof", "key"]  # their order after the header


def read_bundle(path: Path) -> Json:
    """The bundle's header, definitions (sha256 -> text), events and proofs; ``Unusable`` if its shape is wrong."""
    def fail(line: int, why: str) -> Unusable:
        return Unusable(f"{path}:{line}: not a usable bundle: {why}")

    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Unusable(f"{path}: cannot read it as UTF-8 text ({exc})") from None
    lines = text.removeprefix("\ufeff").split("\n")  # split on \n only: U+2028 may sit inside a string
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise Unusable(f"{path}: the file is empty (no header)")
    header: Json = {}
    definitions: dict[str, str] = {}
    events: list[Json] = []
    proofs: list[Json] = []
    last_seq: dict[str, int] = {}
    last_position, group = 0, -1
    for number, line in enumerate(lines, start=1):
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            raise fail(number, "not a JSON line (cut or damaged)") from None
        if not isinstance(obj, dict):
            raise fail(number, "a line must hold a JSON object")
        kind = obj.get("kind")
        if isinstance(kind, str) and kind in KEYS and set(obj) - KEYS[kind]:
            raise fail(number, f"unknown keys {sorted(set(obj) - KEYS[kind])} on a {kind} line")
        if number == 1:
            if kind != "ijime-flow-bundle":
                raise fail(1, "line 1 must be the header")
            if not (is_int(obj.get("format")) and obj["format"] == 1):
                raise fail(1, f"bundle format {obj.get('format')!r} is not 1")
            cases = obj.get("cases")
            if not isinstance(obj.get("case_id"), str) or not isinstance(cases, list) or not cases \
                    or not all(isinstance(c, str) and c for c in cases) or len(set(cases)) != len(cases) \
                    or obj["case_id"] not in cases:
                raise fail(1, "'case_id' and 'cases' must name the bundle's cases, each once")
            if not all(is_int(obj.get(n)) and obj[n] >= 0 for n in ("events", "proofs")):
                raise fail(1, "'events' and 'proofs' must be counts")
            if parse_time(obj.get("exported_at")) is None:
                raise fail(1, "'exported_at' must be an ISO 8601 time with a UTC offset")
            header = obj
            continue
        if kind not in GROUPS:
            raise fail(number, f"unknown kind {kind!r}")
        if GROUPS.index(str(kind)) < group:
            raise fail(number, "lines out of order (header, definitions, events, proofs)")
        group = GROUPS.index(str(kind))
        if kind == "definition":
            if not isinstance(obj.get("sha256"), str) or not isinstance(obj.get("text"), str) or obj["sha256"] in definitions:
                raise fail(number, "a definition line needs a new 'sha256' and its 'text'")
            definitions[obj["sha256"]] = obj["text"]
        elif kind == "event":
            cid, seq, position = obj.get("case_id"), obj.get("seq"), obj.get("position")
            if not isinstance(cid, str) or not is_int(seq) or not is_int(position) or not isinstance(obj.get("body"), str):
                raise fail(number, "an event line needs 'case_id', 'seq', 'position' and 'body'")
            if cid not in header["cases"]:
                raise fail(number, f"an event of case {cid}, which the header does not list")
            if seq != last_seq.get(cid, 0) + 1:
                raise fail(number, f"case {cid} seq {seq} where seq {last_seq.get(cid, 0) + 1} was due")
            if position <= last_position:
                raise fail(number, f"position {position} does not follow {last_position}")
            last_seq[cid], last_position = seq, position
            events.append({**obj, "line": number})
        elif kind == "proof":
            if not isinstance(obj.get("case_id"), str) or not is_int(obj.get("seq")) \
                    or not isinstance(obj.get("inclusion"), dict):
                raise fail(number, "a proof line needs 'case_id', 'seq' and 'inclusion'")
            proofs.append({**obj, "line": number})
    if not header:
        raise Unusable(f"{path}: no header")
    if any(cid not in last_seq for cid in header["cases"]):
        raise fail(1, "the header lists a case the bundle holds no event of")
    if header["events"] != len(events) or header["proofs"] != len(proofs):
        raise fail(1, "the header's counts differ from the lines: the file was cut or edited")
    return {"header": header, "definitions": definitions, "events": events, "proofs": proofs}


# -- 3. one event: its shape (docs/formats.md §1) ---------------------------------------------------------
TYPES = {"opened", "transition", "action", "fact", "automatic", "escalated", "criterion_met", "subject",
         "hold", "hold_released", "erased"}
FIELDS = {"format", "case_id", "seq", "type", "trigger", "from_states", "to_states", "actor", "at", "recorded_at",
          "data", "definition", "prev_hash", "hash"}  # and "school", which may be absent
def shape_problem(body: Json) -> str:
    """Why the object is not an event of format 1 or 2 ('' when it is one). Format 2 may hold sealed personal
    values in data ({"_sealed": {...}}): the hash covers them as stored, so no key is needed."""
    keys = set(body)
    if FIELDS - keys or keys - FIELDS - {"school"}:
        return f"fields missing {sorted(FIELDS - keys)} or unknown {sorted(keys - FIELDS - {'school'})}"
    if not (is_int(body["format"]) and body["format"] in (1, 2)):
        return f"format {body['format']!r} is not 1 or 2"
    if not isinstance(body["case_id"], str) or not is_int(body["seq"]) or body["seq"] < 1:
        return "case_id must be text and seq a whole number from 1"
    if body["type"] not in TYPES:
        return f"type {body['type']!r} is not an event type"
    if body["trigger"] is not None and not isinstance(body["trigger"], str):
        return "trigger must be text or null"
    if any(body[k] is not None and not texts(body[k]) for k in ("from_states", "to_states")):
        return "from_states and to_states must be lists of text or null"
    actor = body["actor"]
    if not isinstance(actor, dict) or set(actor) != {"id", "roles"} or not isinstance(actor["id"], str) \
            or not texts(actor["roles"]):
        return "actor must be {\"id\": text, \"roles\": [text]}"
    if parse_time(body["at"]) is None or parse_time(body["recorded_at"]) is None:
        return "at and recorded_at must be ISO 8601 times with a UTC offset"
    if not isinstance(body["data"], dict):
        return "data must be an object"
    pin = body["definition"]
    if pin is not None and not (isinstance(pin, dict) and set(pin) == {"id", "version", "sha256"}
                                and all(isinstance(v, str) for v in pin.values())):
        return "definition must be {\"id\", \"version\", \"sha256\"} (text) or null"
    if any(body.get(k) is not None and not isinstance(body[k], str) for k in ("school", "prev_hash")) \
            or not isinstance(body["hash"], str):
        return "school and prev_hash must be text or null, hash text"
    return ""


# -- 4. verifying the events of a bundle ------------------------------------------------------------------
class Report:
    def __init__(self) -> None:
        self.problems: list[Json] = []

    def add(self, case_id: str, seq: int | None, kind: str, message: str) -> None:
        self.problems.append({"case_id": case_id, "seq": seq, "kind": kind, "message": message})


def verify_events(bundle: Json, report: Report) -> None:
    """Chains, definitions, calendars and links of every case, in the order of the header's ``cases``."""
    by_case: dict[str, list[Json]] = {cid: [] for cid in bundle["header"]["cases"]}
    for line in bundle["events"]:
        by_case[line["case_id"]].append(line)
    for cid, lines in by_case.items():
        bodies = check_chain(cid, lines, report)  # the events up to the first broken one
        if bodies and check_pins(cid, bodies[0], bundle["definitions"], report):
            check_links(cid, bodies, by_case, report, _outside(bundle["header"]))


def _outside(header: Json) -> frozenset[str]:
    """The linked cases the bundle leaves out on purpose (a school year's other concerns): named in its header."""
    found = header.get("outside")
    return frozenset(c for c in found if isinstance(c, str)) if isinstance(found, list) else frozenset()


def check_chain(cid: str, lines: list[Json], report: Report) -> list[Json]:
    """The decoded events of one case up to (not including) its first broken one."""
    good: list[Json] = []
    prev: str | None = None
    for line in lines:  # seq 1, 2, 3 ... (the bundle reader saw to it)
        seq = line["seq"]
        try:
            body = json.loads(line["body"])
        except (ValueError, RecursionError):
            report.add(cid, seq, "format", "the stored event is not valid JSON")
            break
        if not isinstance(body, dict):
            report.add(cid, seq, "format", "the stored event is not a JSON object")
            break
        before = len(report.problems)
        if body.get("seq") != seq or body.get("case_id") != cid:
            report.add(cid, seq, "seq", f"the line says case {cid} seq {seq}, the event says case {body.get('case_id')}"
                                        f" seq {body.get('seq')}")
        if event_hash(body) != body.get("hash"):
            report.add(cid, seq, "hash", "the content does not match its hash: it was changed after it was recorded")
        if body.get("prev_hash") != prev:
            report.add(cid, seq, "chain", "prev_hash is not the hash of the event before it")
        if len(report.problems) > before:
            break
        problem = shape_problem(body)
        if problem:
            report.add(cid, seq, "format", f"not a valid event: {problem}")
            break
        good.append(body)
        prev = body["hash"]
    return good


def check_pins(cid: str, first: Json, definitions: dict[str, str], report: Report) -> bool:
    """The definition (and school calendar) the first event pins; True when the case's links are to be checked."""
    pin = first["definition"]
    if first["type"] != "opened" or pin is None:
        report.add(cid, 1, "definition", "the first event must be 'opened' and pin the workflow definition")
        return False
    text = definitions.get(pin["sha256"])
    if text is None or sha256_hex(text) != pin["sha256"]:
        report.add(cid, 1, "definition", f"the pinned definition {pin['id']} {pin['version']} is not in the bundle,"
                                         " or its text does not hash to the pin")
        return False
    try:
        spec = json.loads(text)
    except (ValueError, RecursionError):
        spec = None
    if not isinstance(spec, dict) or not isinstance(spec.get("id"), str) or not isinstance(spec.get("version"), str):
        report.add(cid, 1, "definition", "the pinned definition text is not a workflow definition (a JSON object"
                                         " with an id and a version)")
        return False
    if "_calendar" in first["data"]:
        problem = calendar_problem(first["data"]["_calendar"], definitions)
        if problem:
            report.add(cid, 1, "calendar", problem)
            return False
    if (spec["id"], spec["version"]) != (pin["id"], pin["version"]):
        report.add(cid, 1, "definition", f"pin says {pin['id']} {pin['version']} but the text is {spec['id']} {spec['version']}")
    return True


def calendar_problem(pin: Any, definitions: dict[str, str]) -> str:
    """Why the pinned school calendar cannot be used ('' when it can)."""
    if not isinstance(pin, str) or len(pin) != 64:
        return f"the pinned calendar {str(pin)[:70]!r} is not a SHA-256"
    text = definitions.get(pin)
    if text is None:
        return f"the pinned school calendar ({pin[:12]}…) is not in the bundle"
    if sha256_hex(text) != pin:
        return f"the pinned school calendar ({pin[:12]}…) does not hash to its pin: it was altered or damaged"
    try:
        cal = json.loads(text)
        ok = (isinstance(cal, dict) and cal.get("format") == "ijime-flow/calendar/1" and "country" in cal
              and set(cal["weekends"]) <= {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
              and all(is_int(y) for y in cal["school_years"]) and isinstance(cal["closed"], dict)
              and all(datetime.strptime(d, "%Y-%m-%d") for d in [*cal["closed"], *cal["school_days"]]))
    except (ValueError, KeyError, TypeError, RecursionError):
        ok = False
    return "" if ok else f"the pinned school calendar ({pin[:12]}…) cannot be read as a calendar"


def check_links(cid: str, bodies: list[Json], by_case: dict[str, list[Json]], report: Report,
                outside: frozenset[str] = frozenset()) -> None:
    """Both ends of each link name each other: an escalation, and a step that opened a case (its data ``opens`` =
    the case, whose ``opened`` event names it back: ``opened_from``, ``step``). After the first broken link of a
    later event the case is not looked at further (ijime-flow's replay stops there too)."""
    first = bodies[0]["data"]
    if "escalated_from" in first:  # opened by escalation: the source must have an escalated event naming us
        problem = link_problem(by_case, str(first["escalated_from"]), cid, str(first.get("criterion")), reverse=False)
        if problem:
            report.add(cid, 1, "link", problem)
    elif "opened_from" in first:  # opened by another case's step: that step must name us
        problem = link_problem(by_case, str(first["opened_from"]), cid, "step:" + str(first.get("step")), reverse=False)
        if problem:
            report.add(cid, 1, "link", problem)
    linked: str | None = None
    for body in bodies[1:]:
        data, seq = body["data"], body["seq"]
        problem = ""
        if body["type"] == "escalated":
            if linked is not None and data.get("case") != linked:
                problem = f"escalates to {data.get('case')}, but this case escalated to {linked}"
            else:
                linked = str(data.get("case"))
                problem = link_problem(by_case, cid, linked, str(data.get("criterion")), reverse=True)
        elif body["type"] == "criterion_met":
            problem = link_problem(by_case, str(data.get("escalated_from")), cid, str(data.get("criterion")), reverse=False)
        elif body["type"] in ("action", "transition") and "opens" in data:  # a step that opened a case
            target = str(data.get("opens"))  # a case left outside on purpose (the header's "outside") is not looked in
            problem = "" if target in outside else link_problem(by_case, cid, target, "step:" + str(body.get("trigger")),
                                                                reverse=True)
        if problem:
            report.add(cid, seq, "link", problem)
            return


def link_problem(by_case: dict[str, list[Json]], source: str, target: str, criterion: str, *, reverse: bool) -> str:
    """Look in the source case for ``escalated`` naming the target (or, ``reverse``, in the target for
    ``opened`` / ``criterion_met`` naming the source), for this criterion. Every event of that case that
    reads as a JSON object counts, broken chain or not."""
    look_in = target if reverse else source
    if not by_case.get(look_in):
        return f"the linked case {look_in} is not in the bundle"
    for line in by_case[look_in]:
        try:
            body = json.loads(line["body"])
        except (ValueError, RecursionError):
            continue
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            continue
        if criterion.startswith("step:"):  # a link made by a step that opens a case (opens / opened_from, step)
            if reverse and body.get("type") == "opened" and data.get("opened_from") == source \
                    and data.get("step") == criterion[5:]:
                return ""
            if not reverse and body.get("type") in ("action", "transition") and data.get("opens") == target:
                return ""
            continue
        if data.get("criterion") != criterion:
            continue
        if reverse and body.get("type") in ("opened", "criterion_met") and data.get("escalated_from") == source:
            return ""
        if not reverse and body.get("type") == "escalated" and data.get("case") == target:
            return ""
    if reverse:
        return f"case {target} does not record that it was opened from {source} for '{criterion}'"
    return f"case {source} has no escalation to {target} for '{criterion}'"


# -- 8. the test vectors (reference/vectors/README.md) ---------------------------------------------------------------
def self_test(folder: Path) -> list[str]:
    """Check every vector; the names of those that fail."""
    failed = []
    event = json.loads((folder / "event.json").read_text(encoding="utf-8"))
    body = json.loads(event["canonical"])
    if canonical(body) != event["canonical"] or canonical({k: v for k, v in body.items() if k != "hash"}) != event["unsealed"] \
            or event_hash(body) != event["hash"] != sha256_hex(event["unsealed"]) or body["hash"] != event["hash"]:
        failed.append("event.json")
    if canonical(event["encode"]["value"]) != event["encode"]["canonical"]:
        failed.append("event.json (encode)")
    definition = json.loads((folder / "definition.json").read_text(encoding="utf-8"))
    if sha256_hex(definition["text"]) != definition["sha256"] or \
            hashlib.sha256(bytes.fromhex(definition["utf8_hex"])).hexdigest() != definition["sha256"]:
        failed.append("definition.json")
    tree = json.loads((folder / "merkle.json").read_text(encoding="utf-8"))
    leaves = [leaf_hash(t.encode("utf-8")) for t in tree["leaves"]]
    ok = [h.hex() for h in leaves] == tree["leaf_hashes"] and all(
        merkle_root(leaves[:int(n)]).hex() == r for n, r in tree["roots"].items())
    inc, con = tree["inclusion"], tree["consistency"]
    ok = ok and verify_inclusion(leaves[inc["index"]], inc["index"], inc["size"], [bytes.fromhex(h) for h in inc["path"]],
                                 bytes.fromhex(tree["roots"][str(inc["size"])]))
    ok = ok and verify_consistency(con["old_size"], con["new_size"], bytes.fromhex(tree["roots"][str(con["old_size"])]),
                                   bytes.fromhex(tree["roots"][str(con["new_size"])]), [bytes.fromhex(h) for h in con["path"]])
    ok = ok and not verify_inclusion(leaves[inc["index"]], inc["index"] + 1, inc["size"],
                                     [bytes.fromhex(h) for h in inc["path"]], bytes.fromhex(tree["roots"][str(inc["size"])]))
    if not ok:
        failed.append("merkle.json")
    signed = json.loads((folder / "checkpoint.json").read_text(encoding="utf-8"))
    key = load_public_key(signed["public_key_pem"].encode("ascii"))
    cp = checkpoint_of(signed["checkpoint"])
    tampered = {**cp, "size": cp["size"] + 1}
    if checkpoint_message(cp).decode("utf-8") != signed["message"] or not signature_ok(cp, key) or signature_ok(tampered, key):
        failed.append("checkpoint.json")
    note = json.loads((folder / "signed-note.json").read_text(encoding="utf-8"))
    name, key_id, raw = note["vkey"].split("+")
    raw_key = base64.b64decode(raw)
    if raw_key[0] != 0x01 or hashlib.sha256(name.encode() + b"\n" + raw_key).digest()[:4].hex() != key_id \
            or not verify_note(note["note"], name, raw_key[1:]) \
            or verify_note(note["note"].replace("example", "exemple", 1), name, raw_key[1:]):
        failed.append("signed-note.json")
    return failed


# -- 9. the command -------------------------------------------------------------------------------------------------
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("bundle", nargs="?", type=Path, help="a history bundle (ijime-flow export)")
    parser.add_argument("--pubkey", type=Path, help="the Ed25519 public key (PEM) that signed the checkpoint")
    parser.add_argument("--checkpoint", type=Path, help="the auditor's own checkpoint (JSON, format 1)")
    parser.add_argument("--proof", type=Path, action="append", default=[], help="a proof file (ijime-flow prove)")
    parser.add_argument("--self-test", action="store_true", help="check the test vectors (--vectors DIR)")
    parser.add_argument("--vectors", type=Path, default=Path(__file__).resolve().parent / "vectors", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.self_test:
        try:
            failed = self_test(args.vectors)
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            failed = [f"unreadable: {exc}"]
        print(json.dumps({"ok": not failed, "failed": failed}))
        return 1 if failed else 0
    report = Report()
    shown: Json = {}
    try:
        if args.bundle is None and not args.proof:
            raise Unusable("give a bundle, or --proof FILE with --pubkey")
        if (args.checkpoint is not None or args.proof) and args.pubkey is None:
            raise Unusable("--checkpoint and --proof need --pubkey")
        try:
            key = load_public_key(args.pubkey.read_bytes()) if args.pubkey is not None else None
            own = checkpoint_of(json.loads(args.checkpoint.read_text(encoding="utf-8"))) if args.checkpoint else None
        except (OSError, ValueError) as exc:
            raise Unusable(f"the key or checkpoint cannot be used: {exc}") from None
        if args.bundle is not None:
            bundle = read_bundle(args.bundle)
            verify_events(bundle, report)
            shown = {"cases": len(bundle["header"]["cases"]), "events": len(bundle["events"])}
            if key is not None:
                verify_proofs(bundle, key, own, report)
        for path in args.proof:
            try:
                proof = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise Unusable(f"{path}: not a proof file ({exc})") from None
            for message in proof_file_problems(proof, key):
                report.add(str(proof.get("case_id", "")) if isinstance(proof, dict) else "",
                           proof.get("seq") if isinstance(proof, dict) else None, "proof", f"{path}: {message}")
    except Unusable as exc:
        print(json.dumps({"ok": False, "problems": [{"case_id": "", "seq": None, "kind": "bundle", "message": str(exc)}]},
                         ensure_ascii=False, indent=2))
        return 2
    print(json.dumps({"ok": not report.problems, **shown, "problems": report.problems}, ensure_ascii=False, indent=2))
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
