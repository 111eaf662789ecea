"""The fast verifier reports exactly what the plain one does, on legal, illegal, tampered and escalated
histories; and every event the live engine accepted verifies clean.

``tests/verify_reference.py`` is ``ijime_flow/verify.py`` as it was before it was made fast: every
check written out once, one case at a time, pydantic ``Event`` objects, canonical re-encoding for
every hash. Both verifiers run on the same stores — random walks of three schools' cases under both
workflows, with escalations, then damaged in every way a person with the file could (edited with and
without new hashes, rechained forgeries, inserted illegal steps, deleted, swapped and renumbered
rows, non-canonical but faithful re-encodings, texts the event model refuses, broken links and
definitions) — and their reports must be equal, ``to_dict()`` for ``to_dict()``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import verify_reference as reference
from conftest import STAFF, WORKFLOWS, jst
from pydantic import AwareDatetime, TypeAdapter
from test_projection import busy_store
from walker import everyone, random_walk, step_data

from ijime_flow import Engine, FixedClock, IjimeFlowError
from ijime_flow.audit.chain import _CANONICAL, _DAY, _plain_row
from ijime_flow.audit.run import _Run
from ijime_flow.canonical import canonical_json
from ijime_flow.store.base import StoredEvent

Outcome = dict[str, Any] | tuple[str, str]


def outcome(verify: Callable[[], Any]) -> Outcome:
    """A report as a dict, or the exception it raised (both verifiers must raise alike)."""
    try:
        return dict(verify().to_dict())
    except Exception as exc:
        return type(exc).__name__, str(exc)


def both(path: object) -> tuple[Outcome, Outcome]:
    with Engine(path) as fast, Engine(path) as plain:  # type: ignore[arg-type]
        return outcome(fast.verify), outcome(lambda: reference.verify_store(plain))


def assert_same(path: object) -> Outcome:
    fast, plain = both(path)
    assert fast == plain
    with Engine(path) as fast_engine, Engine(path) as plain_engine:  # type: ignore[arg-type]
        for cid in plain_engine.case_ids():
            assert outcome(lambda cid=cid: fast_engine.verify(cid)) == \
                outcome(lambda cid=cid: reference.verify_store(plain_engine, cid)), cid
    return fast


# -- legal histories ------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [3, 4, 5])
def test_random_walks_verify_clean_and_alike(tmp_path: Path, seed: int) -> None:
    """Every event ``fire`` and ``record_fact`` accepted verifies clean, in memory and on SQLite."""
    engine, _ = busy_store(tmp_path / "walks.db", seed, cases=50)
    engine.close()
    report = assert_same(tmp_path / "walks.db")
    assert isinstance(report, dict) and report["ok"] and report["events"] > 500
    memory, _ = busy_store(None, seed, cases=30)
    fast = memory.verify()
    assert fast.ok and fast.to_dict() == reference.verify_store(memory).to_dict()


def test_interleaved_cases_verify_clean(tmp_path: Path) -> None:
    """Cases walked a step at a time in turn, so their rows interleave in the log."""
    rng = random.Random(11)
    engine = Engine(tmp_path / "mixed.db", clock=FixedClock(jst(2030, 1, 1)))
    engine.load(WORKFLOWS)
    cases = [engine.open_case("response", actor=STAFF, at=jst(2019, 4, 8 + n), school="school-a") for n in range(12)]
    at = {case.id: jst(2019, 4, 8 + n) for n, case in enumerate(cases)}
    for _ in range(300):
        case = rng.choice(cases)
        at[case.id] = random_walk(engine, case, rng, 1, at[case.id])
    engine.close()
    report = assert_same(tmp_path / "mixed.db")
    assert isinstance(report, dict) and report["ok"]


def test_times_in_other_zones_and_slightly_ahead_verify_clean(tmp_path: Path) -> None:
    """Recorded in UTC with microseconds (as the system clock writes), dated in Japan time, some steps
    dated up to five minutes after they were recorded (allowed): read alike, and clean."""
    rng = random.Random(12)
    clock = FixedClock(datetime(2030, 1, 1, 0, 0, 0, 123456, tzinfo=UTC))
    engine = Engine(tmp_path / "zones.db", clock=clock)
    engine.load(WORKFLOWS)
    defn = engine.definition("response")
    actor = everyone(defn)
    for n in range(10):
        at = jst(2019, 5, 1 + n)
        clock.set(at.astimezone(UTC).replace(microsecond=n))
        case = engine.open_case("response", actor=STAFF, at=at, school="school-a")
        for _ in range(25):
            at += timedelta(hours=rng.choice([1, 7, 30]))
            ahead = timedelta(minutes=rng.choice([0, 3, 4]), microseconds=rng.randint(1, 9))
            clock.set((at - ahead).astimezone(UTC))
            triggers = case.available_triggers(actor, at)
            with contextlib.suppress(IjimeFlowError):
                if triggers and rng.random() < 0.8:
                    trigger = rng.choice(triggers)
                    case.fire(trigger, actor=actor, at=at, data=step_data(defn, case, trigger, rng, at))
                else:
                    case.record_fact("online", rng.random() < 0.5, actor=actor, at=at)
    engine.close()
    report = assert_same(tmp_path / "zones.db")
    assert isinstance(report, dict) and report["ok"] and report["events"] > 100


# -- damaged histories ------------------------------------------------------------------------------
def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def rehash(body: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in body.items() if k != "hash"}
    body["hash"] = hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()
    return body


class Raw:
    """The store file as someone with it sees it: plain sqlite3, the append-only triggers dropped."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("DROP TRIGGER IF EXISTS events_no_update")
        self.db.execute("DROP TRIGGER IF EXISTS events_no_delete")

    def cases(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT case_id FROM events GROUP BY case_id ORDER BY min(position)")]

    def seqs(self, cid: str) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT seq FROM events WHERE case_id=? ORDER BY seq", (cid,))]

    def text(self, cid: str, seq: int) -> str:
        return str(self.db.execute("SELECT body FROM events WHERE case_id=? AND seq=?", (cid, seq)).fetchone()[0])

    def body(self, cid: str, seq: int) -> dict[str, Any]:
        return dict(json.loads(self.text(cid, seq)))

    def put(self, cid: str, seq: int, text: str) -> None:
        self.db.execute("UPDATE events SET body=? WHERE case_id=? AND seq=?", (text, cid, seq))

    def rechain(self, cid: str, seq: int) -> None:
        """New hashes from ``seq`` on, so the chain links again (a careful forger)."""
        prev = self.body(cid, seq - 1)["hash"] if seq > 1 else None
        for s in [s for s in self.seqs(cid) if s >= seq]:
            body = self.body(cid, s)
            body["prev_hash"] = prev
            body = rehash(body)
            self.put(cid, s, canonical(body))
            prev = body["hash"]


def pick(raw: Raw, rng: random.Random, least: int = 2) -> tuple[str, int]:
    cid = rng.choice([c for c in raw.cases() if len(raw.seqs(c)) >= least] or raw.cases())
    return cid, rng.choice(raw.seqs(cid)[1:] or raw.seqs(cid))


def changed(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """One plausible change a forger would make to an event."""
    body = json.loads(json.dumps(body))
    what = rng.choice(["actor", "roles", "trigger", "data", "at", "to_states", "from_states", "type", "school"])
    if what == "actor":
        body["actor"]["id"] = rng.choice(["t-999", "ijime-flow", "x-001"])
    elif what == "roles":
        body["actor"]["roles"] = rng.choice([["staff"], ["board"], [], ["committee", "principal"]])
    elif what == "trigger":
        body["trigger"] = rng.choice(["report_to_board", "close", "confirm_facts", "no_such_step", None])
    elif what == "data":
        body["data"] = rng.choice([{}, {"bullying_recognised": False}, {"fact": "online", "value": True},
                                   {"reason": "記録"}, {"criterion": "petition", "figures": "x", "case": "nowhere"},
                                   {"subject": "s-2041", "part": "victim"}, {"subject": "s-0001", "part": None},
                                   {"subject": "s-3307", "part": "ringleader"}])
    elif what == "at":
        at = datetime.fromisoformat(body["at"]) + timedelta(hours=rng.choice([-3000, -1, 1, 24, 90000]))
        body["at"] = at.isoformat()
    elif what == "to_states":
        body["to_states"] = rng.choice([["closed"], ["monitoring"], ["discovered"], None])
    elif what == "from_states":
        body["from_states"] = rng.choice([["discovered"], [], None])
    elif what == "type":
        body["type"] = rng.choice(["transition", "action", "fact", "automatic", "escalated", "opened", "criterion_met",
                                   "subject"])
    else:
        body["school"] = "school-z"
    return body


# each damage: (raw store, rng) -> None; several are applied to one copy of a store
Damage = Callable[[Raw, random.Random], None]


def edit_keep_hash(raw: Raw, rng: random.Random) -> None:
    cid, seq = pick(raw, rng)
    raw.put(cid, seq, canonical(changed(raw.body(cid, seq), rng)))


def edit_and_rehash(raw: Raw, rng: random.Random) -> None:
    cid, seq = pick(raw, rng)
    raw.put(cid, seq, canonical(rehash(changed(raw.body(cid, seq), rng))))


def edit_and_rechain(raw: Raw, rng: random.Random) -> None:
    cid, seq = pick(raw, rng)
    raw.put(cid, seq, canonical(changed(raw.body(cid, seq), rng)))
    raw.rechain(cid, seq)


def insert_illegal_step(raw: Raw, rng: random.Random) -> None:
    """A step slipped in before ``seq``: later rows renumbered, every hash recomputed."""
    cid, seq = pick(raw, rng)
    before = raw.body(cid, seq - 1) if seq > 1 else raw.body(cid, seq)
    for s in sorted(raw.seqs(cid), reverse=True):
        if s >= seq:
            body = raw.body(cid, s)
            body["seq"] = s + 1
            raw.db.execute("UPDATE events SET seq=?, body=? WHERE case_id=? AND seq=?", (s + 1, canonical(body), cid, s))
    states = before["to_states"]
    step = {"format": 1, "case_id": cid, "seq": seq, "type": rng.choice(["transition", "action", "fact"]),
            "trigger": rng.choice(["report_to_board", "close", "begin_response", "share_with_all_staff"]),
            "from_states": states, "to_states": rng.choice([states, ["closed"], ["board_reported"]]),
            "actor": {"id": "t-777", "roles": rng.choice([["staff"], ["principal"], ["board"]])},
            "at": before["at"], "recorded_at": before["recorded_at"],
            "data": rng.choice([{}, {"fact": "online", "value": True}]), "definition": None, "prev_hash": None}
    raw.db.execute("INSERT INTO events (case_id, seq, type, at, hash, body) VALUES (?, ?, ?, ?, '', ?)",
                   (cid, seq, step["type"], step["at"], canonical(rehash(step))))
    raw.rechain(cid, seq)


def delete_row(raw: Raw, rng: random.Random) -> None:
    cid, seq = pick(raw, rng)
    raw.db.execute("DELETE FROM events WHERE case_id=? AND seq=?", (cid, seq))


def delete_last_rows(raw: Raw, rng: random.Random) -> None:
    cid, _ = pick(raw, rng, least=3)
    raw.db.execute("DELETE FROM events WHERE case_id=? AND seq=?", (cid, raw.seqs(cid)[-1]))


def swap_bodies(raw: Raw, rng: random.Random) -> None:
    cid, seq = pick(raw, rng, least=3)
    if seq + 1 in raw.seqs(cid):
        a, b = raw.text(cid, seq), raw.text(cid, seq + 1)
        raw.put(cid, seq, b)
        raw.put(cid, seq + 1, a)


def swap_seq_column(raw: Raw, rng: random.Random) -> None:
    """Two rows trade their seq: the log's position order is no longer the case's seq order."""
    cid, seq = pick(raw, rng, least=3)
    if seq + 1 in raw.seqs(cid):
        raw.db.execute("UPDATE events SET seq=-7 WHERE case_id=? AND seq=?", (cid, seq))
        raw.db.execute("UPDATE events SET seq=? WHERE case_id=? AND seq=?", (seq, cid, seq + 1))
        raw.db.execute("UPDATE events SET seq=? WHERE case_id=? AND seq=-7", (seq + 1, cid))


def renumber_after_delete(raw: Raw, rng: random.Random) -> None:
    cid, seq = pick(raw, rng, least=3)
    raw.db.execute("DELETE FROM events WHERE case_id=? AND seq=?", (cid, seq))
    for s in [s for s in raw.seqs(cid) if s > seq]:
        body = raw.body(cid, s)
        body["seq"] = s - 1
        raw.db.execute("UPDATE events SET seq=?, body=? WHERE case_id=? AND seq=?", (s - 1, canonical(body), cid, s))
    if seq in raw.seqs(cid):
        raw.rechain(cid, seq)


def move_row_to_another_case(raw: Raw, rng: random.Random) -> None:
    cid, seq = pick(raw, rng)
    other = rng.choice(raw.cases())
    raw.db.execute("UPDATE events SET case_id=?, seq=? WHERE case_id=? AND seq=?",
                   (other, max(raw.seqs(other)) + 1, cid, seq))


def seq_zero(raw: Raw, rng: random.Random) -> None:
    cid, seq = pick(raw, rng)
    raw.db.execute("UPDATE events SET seq=0 WHERE case_id=? AND seq=?", (cid, seq))


def faithful_reencoding(raw: Raw, rng: random.Random) -> None:
    """The same event in another JSON spelling (white space, \\u escapes, key order), its hash kept:
    the hash covers the canonical form, so this is no change at all."""
    cid, seq = pick(raw, rng)
    body = raw.body(cid, seq)
    style = rng.choice(["indent", "ascii", "order", "spaces"])
    if style == "indent":
        text = json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False)
    elif style == "ascii":
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    elif style == "order":
        text = json.dumps(dict(reversed(list(body.items()))), separators=(",", ":"), ensure_ascii=False)
    else:
        text = json.dumps(body, sort_keys=True, ensure_ascii=False)
    raw.put(cid, seq, text)


def self_hashed_spelling(raw: Raw, rng: random.Random) -> None:
    """A forger's non-canonical text whose hash is the SHA-256 of the text itself with the hash cut
    out (not of the canonical form): a verifier that hashed the stored text would pass it."""
    cid, seq = pick(raw, rng)
    body = raw.body(cid, seq)
    body.pop("hash")
    if rng.random() < 0.5:  # only the data's keys out of order: the rest of the text is canonical
        data = {"zz": 1, "aa": "x", **body["data"]}
        body["data"] = data
        whole = canonical(body)
        start = whole.index('"data":') + len('"data":')
        text = whole[:start] + json.dumps(data, separators=(",", ":"), ensure_ascii=False) + whole[start + len(canonical(data)):]
        sep = ","
    else:
        text, sep = json.dumps(body, sort_keys=True, separators=(", ", ":"), ensure_ascii=False), ", "
    cut = text.rfind(f'{sep}"prev_hash":')
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    raw.put(cid, seq, f'{text[:cut]}{sep}"hash":"{digest}"{text[cut:]}')
    if seq + 1 in raw.seqs(cid):
        body = raw.body(cid, seq + 1)
        body["prev_hash"] = digest
        raw.put(cid, seq + 1, canonical(rehash(body)))
        if seq + 2 in raw.seqs(cid):
            raw.rechain(cid, seq + 2)


def model_refuses(raw: Raw, rng: random.Random) -> None:
    """Valid JSON, rehashed and rechained, that the event model refuses (or a subtly odd time)."""
    cid, seq = pick(raw, rng)
    body = raw.body(cid, seq)
    what = rng.choice(["seq_text", "naive", "offset60", "type", "extra", "missing", "roles", "micro", "z", "format",
                       "data_list", "school_null", "big_int", "quote", "unicode_escape", "hour24", "neg_seq"])
    if what == "seq_text":
        body["seq"] = str(body["seq"])
    elif what == "naive":
        body["at"] = body["at"][:19]
    elif what == "offset60":
        body["at"] = body["at"][:19] + "+08:60"
    elif what == "type":
        body["type"] = "deleted"
    elif what == "extra":
        body["note"] = "x"
    elif what == "missing":
        body.pop("trigger")
    elif what == "roles":
        body["actor"]["roles"] = "staff"
    elif what == "micro":
        body["at"] = body["at"][:19] + ".000000" + body["at"][19:]
    elif what == "z":
        body["recorded_at"] = datetime.fromisoformat(body["recorded_at"]).astimezone().isoformat()[:19] + "Z"
    elif what == "format":
        body["format"] = True
    elif what == "data_list":
        body["data"] = ["x"]
    elif what == "school_null":
        body["school"] = None
    elif what == "big_int":
        body["format"] = 10 ** 30
    elif what == "quote":
        body["actor"]["id"] = 't-"1"\\'
    elif what == "unicode_escape":
        body["actor"]["id"] = "先生\u0007"
    elif what == "hour24":
        body["at"] = body["at"][:11] + "24" + body["at"][13:]
    else:
        body["seq"] = -1
    raw.put(cid, seq, canonical(rehash(body)))
    if seq + 1 in raw.seqs(cid):
        raw.rechain(cid, seq + 1)


def garbage(raw: Raw, rng: random.Random) -> None:
    cid, seq = pick(raw, rng)
    text = raw.text(cid, seq)
    raw.put(cid, seq, rng.choice([text[: len(text) // 2], "[]", "null", "not json", text + " ", text.replace(":", ": ", 1),
                                  '{"seq": 1}', text.replace('"format":1', '"format":1.0'),
                                  text.replace('"data":{', '"data":{"x":NaN,', 1).replace(',}', '}')]))


def break_link(raw: Raw, rng: random.Random) -> None:
    """Delete, or edit, one end of an escalation."""
    linked = [r[0] for r in raw.db.execute("SELECT case_id FROM events WHERE body LIKE '%escalated_from%'")]
    if not linked:
        return
    cid = rng.choice(linked)
    if rng.random() < 0.5:
        raw.db.execute("DELETE FROM events WHERE case_id=?", (cid,))
    else:
        body = raw.body(cid, 1)
        body["data"]["criterion"] = "absence_run" if body["data"].get("criterion") != "absence_run" else "petition"
        raw.put(cid, 1, canonical(rehash(body)))
        if 2 in raw.seqs(cid):
            raw.rechain(cid, 2)


def edit_definition(raw: Raw, rng: random.Random) -> None:
    sha, text = rng.choice(raw.db.execute("SELECT sha256, body FROM definitions").fetchall())
    if rng.random() < 0.5:
        loosened = text.replace('"roles":["staff"]', '"roles":["board"]', 1)
        raw.db.execute("UPDATE definitions SET body=? WHERE sha256=?", (loosened, sha))
    else:
        raw.db.execute("DELETE FROM definitions WHERE sha256=?", (sha,))


def append_conditional_step(raw: Raw, rng: random.Random) -> None:
    """A step whose condition reads facts (online bullying, feared violence...), appended to a case by
    the right role, rechained: legal where the case's facts allow it, illegal elsewhere."""
    cid = rng.choice(raw.cases())
    last = raw.seqs(cid)[-1]
    before = raw.body(cid, last)
    states = before["to_states"]
    trigger, role = rng.choice([("delete_posts", "staff"), ("inform_support_services", "staff"),
                                ("consult_police", "principal"), ("notify_police", "principal")])
    step = {"format": 1, "case_id": cid, "seq": last + 1, "type": "action", "trigger": trigger, "from_states": states,
            "to_states": states, "actor": {"id": "t-321", "roles": [role]}, "at": before["at"],
            "recorded_at": before["recorded_at"], "data": {}, "definition": None, "prev_hash": before["hash"]}
    raw.db.execute("INSERT INTO events (case_id, seq, type, at, hash, body) VALUES (?, ?, 'action', ?, '', ?)",
                   (cid, last + 1, step["at"], canonical(rehash(step))))


DAMAGE = [edit_keep_hash, edit_and_rehash, edit_and_rechain, insert_illegal_step, delete_row, delete_last_rows, swap_bodies,
          swap_seq_column, renumber_after_delete, move_row_to_another_case, seq_zero, faithful_reencoding,
          self_hashed_spelling, model_refuses, garbage, break_link, edit_definition, append_conditional_step]


@pytest.fixture(scope="module")
def base_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("equivalence") / "base.db"
    engine, _ = busy_store(path, 21, cases=40)
    engine.close()
    return path


def damaged_copies(base: Path, tmp: Path, count: int, seed: int) -> Iterator[tuple[Path, list[str]]]:
    rng = random.Random(seed)
    for n in range(count):
        path = tmp / f"damaged{n}.db"
        shutil.copy(base, path)
        raw = Raw(path)
        done = []
        for damage in rng.sample(DAMAGE, rng.choice([1, 1, 1, 2, 3])):
            damage(raw, rng)
            done.append(damage.__name__)
        raw.db.close()
        yield path, done


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda d: d.__name__)
def test_each_kind_of_damage_is_reported_alike(base_store: Path, tmp_path: Path, damage: Damage) -> None:
    seen_problems = 0
    for n in range(8):
        path = tmp_path / f"{n}.db"
        shutil.copy(base_store, path)
        raw = Raw(path)
        damage(raw, random.Random(n * 7919 + len(damage.__name__)))
        raw.db.close()
        report = assert_same(path)
        seen_problems += bool(isinstance(report, tuple) or report["problems"])
    if damage is not faithful_reencoding:
        assert seen_problems, f"{damage.__name__} never made a problem: the test damages nothing"


def test_random_damage_is_reported_alike(base_store: Path, tmp_path: Path) -> None:
    for path, done in damaged_copies(base_store, tmp_path, 60, seed=5):
        fast, plain = both(path)
        assert fast == plain, done
        path.unlink()


def test_a_step_judged_on_facts_is_judged_on_each_case_s_facts(tmp_path: Path) -> None:
    """The same step (same state, trigger, roles and data) is legal in one case and not in another,
    whose facts differ: what the first case's replay remembered does not pass the second's."""
    path = tmp_path / "conditional.db"
    with Engine(path, clock=FixedClock(jst(2020, 1, 1)), school="school-a") as engine:
        engine.load(WORKFLOWS)
        online = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1))
        online.record_fact("online", True, actor=STAFF, at=jst(2019, 5, 2))
        online.fire("delete_posts", actor=STAFF, at=jst(2019, 5, 3))
        offline = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1))
        offline.record_fact("online", False, actor=STAFF, at=jst(2019, 5, 2))
        unknown = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1))
        ids = [online.id, offline.id, unknown.id]
    raw = Raw(path)
    for cid in ids[1:]:  # the legal event of the first case, forged into the others
        last = raw.seqs(cid)[-1]
        step = raw.body(ids[0], 3)
        step.update(case_id=cid, seq=last + 1, prev_hash=raw.body(cid, last)["hash"])
        raw.db.execute("INSERT INTO events (case_id, seq, type, at, hash, body) VALUES (?, ?, 'action', ?, '', ?)",
                       (cid, last + 1, step["at"], canonical(rehash(step))))
    raw.db.close()
    report = assert_same(path)
    assert isinstance(report, dict)
    assert [(p["case_id"], p["kind"]) for p in report["problems"]] == [(ids[1], "illegal"), (ids[2], "illegal")]


@pytest.mark.parametrize("offset", ["+09:00", "+00:00"])
def test_a_step_dated_after_it_was_recorded_is_caught_where_it_was_seen_before(tmp_path: Path, offset: str) -> None:
    """Two cases take the same steps; in the second, a step and a fact are dated later than they were
    recorded (rehashed, rechained). The steps were met before, in the first case: still refused."""
    path = tmp_path / "dated.db"
    with Engine(path, clock=FixedClock(jst(2020, 1, 1)), school="school-a") as engine:
        engine.load(WORKFLOWS)
        ids = []
        for _ in range(2):
            case = engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1))
            case.fire("stop_act", actor=STAFF, at=jst(2019, 5, 2))
            case.record_fact("online", True, actor=STAFF, at=jst(2019, 5, 3))
            case.fire("delete_posts", actor=STAFF, at=jst(2019, 5, 4))
            case.fire("report_to_administrator", actor=STAFF, at=jst(2019, 5, 5))
            ids.append(case.id)
    for seq in (3, 4, 5):
        copy = tmp_path / f"dated{seq}.db"
        shutil.copy(path, copy)
        raw = Raw(copy)
        body = raw.body(ids[1], seq)
        later = datetime.fromisoformat(body["recorded_at"]) + timedelta(minutes=6)
        body["at"] = later.astimezone(UTC if offset == "+00:00" else later.tzinfo).isoformat()
        raw.put(ids[1], seq, canonical(rehash(body)))
        if seq < 5:
            raw.rechain(ids[1], seq + 1)
        raw.db.close()
        report = assert_same(copy)
        assert isinstance(report, dict) and [(p["case_id"], p["seq"], p["kind"]) for p in report["problems"]] == [
            (ids[1], seq, "illegal")]


def test_a_faithful_reencoding_still_verifies(base_store: Path, tmp_path: Path) -> None:
    path = tmp_path / "spelled.db"
    shutil.copy(base_store, path)
    raw = Raw(path)
    rng = random.Random(1)
    for _ in range(20):
        faithful_reencoding(raw, rng)
    raw.db.close()
    report = assert_same(path)
    assert isinstance(report, dict) and report["ok"]


def test_a_self_hashed_spelling_is_caught(base_store: Path, tmp_path: Path) -> None:
    for n in range(6):
        path = tmp_path / f"self{n}.db"
        shutil.copy(base_store, path)
        raw = Raw(path)
        self_hashed_spelling(raw, random.Random(n))
        raw.db.close()
        report = assert_same(path)
        # the hash, first — or right after a criterion met just before the damaged row, whose escalation is in it
        kinds = [p["kind"] for p in report["problems"]]
        assert isinstance(report, dict) and (kinds[:1] == ["hash"] or kinds[:2] == ["illegal", "hash"]), kinds


def test_a_memory_store_damaged_in_place(tmp_path: Path) -> None:
    engine, _ = busy_store(None, 8, cases=25)
    store: Any = engine.store
    rng = random.Random(3)
    for _ in range(5):
        k = rng.randrange(len(store._events))
        old = store._events[k]
        body = changed(json.loads(old.body), rng)
        new = StoredEvent(old.position, old.case_id, old.seq, canonical(rehash(body) if rng.random() < 0.5 else body))
        store._events[k] = new
        rows = store._by_case[old.case_id]
        rows[rows.index(old)] = new
    assert engine.verify().to_dict() == reference.verify_store(engine).to_dict()


# -- one stored text at a time ----------------------------------------------------------------------------
def mutations(text: str, rng: random.Random) -> Iterator[str]:
    alphabet = ' "\\{}[],:0123456789-+.eTZtrufalsn\u00e9\x07\ud7ffabc\u0663\uff11'
    for _ in range(40):
        i = rng.randrange(len(text) + 1)
        kind = rng.random()
        if kind < 0.4:
            yield text[:i] + rng.choice(alphabet) + text[i + 1:]
        elif kind < 0.7:
            yield text[:i] + rng.choice(alphabet) + text[i:]
        else:
            yield text[:i] + text[i + 1:]


def test_a_stored_text_reads_the_same_both_ways(base_store: Path) -> None:
    """Every text, and thousands of one-character mutations of them: the canonical matcher and the
    plain path (``json.loads``, re-encoding, the ``Event`` model) give the same problems and the same
    event, field for field."""
    db = sqlite3.connect(base_store)
    rows = db.execute("SELECT case_id, seq, body FROM events ORDER BY position").fetchall()
    db.close()
    with Engine(base_store) as engine:
        run = _Run(engine)
        rng = random.Random(17)
        matched = 0
        for case_id, seq, text in rows:
            prev = json.loads(text)["prev_hash"]
            changed = list(mutations(text, rng))
            for candidate in [text, *changed, *(self_hashed(c) for c in changed)]:
                matched += _CANONICAL.fullmatch(candidate) is not None
                fast_problems: list[Any] = []
                plain_problems: list[Any] = []
                try:
                    fast = run.row(case_id, seq, candidate, prev, fast_problems)
                except Exception as exc:
                    fast = (type(exc).__name__,)  # type: ignore[assignment]
                try:
                    plain = _plain_row(case_id, seq, candidate, prev, plain_problems)
                except Exception as exc:
                    plain = (type(exc).__name__,)  # type: ignore[assignment]
                assert fast_problems == plain_problems, candidate
                assert comparable(without_key(fast)) == comparable(without_key(plain)), candidate
        assert matched > len(rows)  # the mutations do reach the fast path


_HASH_MEMBER = re.compile(r',"hash":"([^"]{64})"')


def self_hashed(text: str) -> str:
    """The text with its hash made the SHA-256 of the text itself without the hash member — as a forger
    who hashed the stored text rather than the canonical form would — so that only canonicity decides."""
    found = list(_HASH_MEMBER.finditer(text))
    if not found:
        return text
    m = found[-1]
    digest = hashlib.sha256((text[:m.start()] + text[m.end():]).encode("utf-8", "surrogatepass")).hexdigest()
    return text[:m.start(1)] + digest + text[m.end(1):]


def test_self_hashed_changes_to_later_events_are_judged_alike(base_store: Path, tmp_path: Path) -> None:
    """One-character changes to events after the first, each made to hash (by the stored text) and
    the rest of its case rechained: the loop's own reading and the plain verifier agree on all."""
    rng = random.Random(29)
    reached = 0
    for n in range(5):
        path = tmp_path / f"forged{n}.db"
        shutil.copy(base_store, path)
        raw = Raw(path)
        for cid in rng.sample(raw.cases(), 15):
            seqs = raw.seqs(cid)
            if len(seqs) < 2:
                continue
            seq = rng.choice(seqs[1:])
            text = self_hashed(next(mutations(raw.text(cid, seq), rng)))
            reached += _CANONICAL.fullmatch(text) is not None
            raw.put(cid, seq, text)
            if seq + 1 in seqs:
                m = list(_HASH_MEMBER.finditer(text))
                body = raw.body(cid, seq + 1)
                body["prev_hash"] = m[-1].group(1) if m else None
                raw.put(cid, seq + 1, canonical(rehash(body)))
                if seq + 2 in seqs:
                    raw.rechain(cid, seq + 2)
        raw.db.close()
        fast, plain = both(path)
        assert fast == plain
    assert reached > 10  # forged texts the canonical reading takes


def without_key(result: Any) -> Any:
    """A read event without its last field (the data's canonical text, which only the fast path has)."""
    if len(result) == 2 and isinstance(result[0], tuple):
        return result[0][:-1], result[1]
    return result


def comparable(value: Any) -> Any:
    """Datetimes by instant and by how they print (the zone objects differ: pydantic's and datetime's)."""
    if isinstance(value, datetime):
        return value, value.isoformat(), value.utcoffset()
    if isinstance(value, tuple | list):
        return type(value)(comparable(v) for v in value)
    return value


def test_times_read_alike_by_datetime_and_by_the_model() -> None:
    """Where the canonical pattern admits a time, ``datetime.fromisoformat`` and the ``Event`` model
    agree: both refuse it, or both read the same instant, printed the same."""
    model = TypeAdapter(AwareDatetime)
    rng = random.Random(5)
    time_pattern = _CANONICAL.pattern[_CANONICAL.pattern.index('"at":') + 5:_CANONICAL.pattern.index(',"case_id"')]
    admitted = re.compile(time_pattern)
    samples = ["2019-02-29T10:00:00+09:00", "2020-02-29T23:59:59.999999-23:59", "0000-01-01T00:00:00+00:00",
               "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00-00:01", "2019-04-31T10:00:00+09:00",
               "2019-05-01T10:00:00+09:60", "2019-05-01T24:00:00+09:00", "2019-05-01T10:00:60+09:00"]
    for _ in range(30000):  # wider than the pattern: what it admits must read alike
        samples.append(f"{rng.randint(0, 9999):04d}-{rng.randint(0, 13):02d}-{rng.randint(0, 32):02d}T"
                       f"{rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}:{rng.randint(0, 61):02d}"
                       f"{rng.choice(['', f'.{rng.randint(0, 999999):06d}', '.5'])}"
                       f"{rng.choice('+-')}{rng.randint(0, 25):02d}:{rng.randint(0, 99):02d}")
    admitted_count = 0
    for text in samples:
        if not admitted.fullmatch(f'"{text}"'):
            continue
        admitted_count += 1
        try:
            ours: datetime | None = datetime.fromisoformat(text)
        except ValueError:
            ours = None
        if ours is None:
            continue  # the fast path gives way to the model, whatever it says
        theirs = model.validate_python(text)
        assert (ours, ours.isoformat(), ours.utcoffset()) == (theirs, theirs.isoformat(), theirs.utcoffset()), text
    assert admitted_count > 5000


def test_the_days_the_pattern_admits_are_the_days_that_exist() -> None:
    """Within the canonical pattern only the date can make ``fromisoformat`` (and the model) refuse a
    time; the pattern admits exactly the days that exist (29 February in leap years, no year 0)."""
    day = re.compile(_DAY)
    years = [*range(0, 13), *range(1896, 1905), *range(1999, 2002), *range(2096, 2105), *range(2396, 2405), 9999]
    for year in years:
        for month in range(0, 14):
            for d in range(0, 33):
                text = f"{year:04d}-{month:02d}-{d:02d}"
                try:
                    date.fromisoformat(text)
                    exists = True
                except ValueError:
                    exists = False
                assert bool(day.fullmatch(text)) == exists, text
    assert not day.fullmatch("\u0662\u0660\u0661\u0669-05-01")  # digits of other scripts are not read as time


def test_escape_free_text_is_canonical_text() -> None:
    """The pattern's text is exactly the canonical encoding of a string that needs no escape."""
    rng = random.Random(9)
    pool = [chr(c) for c in range(0, 0x250)] + ["\u2028", "\u3042", "\U0001f600", "\x7f", "\ufeff", "\u00a0"]
    string = re.compile(r'"([^"\\\x00-\x1f]*)"')
    for _ in range(20000):
        s = "".join(rng.choice(pool) for _ in range(rng.randint(0, 6)))
        encoded = canonical_json(s)
        m = string.fullmatch(encoded)
        assert (m is not None) == ("\\" not in encoded), s
        if m is not None:
            assert m.group(1) == s and json.loads(encoded) == s


def test_the_quick_path_is_taken(base_store: Path) -> None:
    """Every event the engine wrote is read by the canonical matcher (no object is built for it)."""
    db = sqlite3.connect(base_store)
    texts = [r[0] for r in db.execute("SELECT body FROM events")]
    db.close()
    assert all(_CANONICAL.fullmatch(t) for t in texts)
    assert all(canonical_json(json.loads(t)) == t for t in texts)
