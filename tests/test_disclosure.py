"""Disclosure and redacted exports (issue 16, item 5): a disclosure bundle opens the requester's own values only and
still verifies offline; a redacted one carries no key; both say in the header what they withheld."""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import WORKFLOWS
from test_forget import REASON, closed_case
from test_personal import OBSERVED, PERPETRATOR, PLACE, VICTIM

from ijime_flow import Engine, FixedClock, InvalidData
from ijime_flow.audit.bundle import export_bundle, load_bundle, read_bundle
from ijime_flow.privacy.keys import keys_path
from ijime_flow.privacy.sealing import Sealed

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ijime_flow", *args], capture_output=True, text=True, check=False, cwd=ROOT)


@pytest.fixture
def stored(tmp_path: Path, clock: FixedClock) -> tuple[Path, str]:
    db = tmp_path / "cases.db"
    with Engine(db, clock=clock, school="school-1") as engine:
        engine.load(WORKFLOWS)
        case_id = closed_case(engine).id
    return db, case_id


def all_keys(db: Path) -> dict[str, tuple[str, bytes]]:
    with sqlite3.connect(keys_path(str(db))) as conn:
        return {kid: (owner, bytes(key)) for kid, owner, key in conn.execute("SELECT kid, owner, key FROM subject_keys")}


def test_a_disclosure_opens_only_the_requesters_values_and_verifies_offline(stored: tuple[Path, str], tmp_path: Path) -> None:
    db, case_id = stored
    out = tmp_path / "disclosure.jsonl"
    done = run("export", "--db", str(db), case_id, "--for", VICTIM, "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "非開示" in done.stderr
    raw = out.read_bytes()
    assert PLACE.encode() not in raw  # still ciphertext in the events: the key line opens it
    assert OBSERVED.encode() not in raw and REASON.encode() not in raw
    keys = all_keys(db)
    assert {owner for owner, _ in keys.values()} == {VICTIM, PERPETRATOR, ""}
    for kid, (owner, key) in keys.items():
        encoded = base64.b64encode(key)
        assert (encoded in raw) == (owner == VICTIM), owner
        if owner != VICTIM:
            assert key not in raw and kid.encode() in raw  # named by its sealed values, never carried
    lines = [json.loads(line) for line in raw.decode().splitlines()]
    assert [line["owner"] for line in lines if line["kind"] == "key"] == [VICTIM]
    withheld = lines[0]["withheld"]
    assert withheld["disclosed_for"] == VICTIM and withheld["opened"] == 1
    assert withheld["other_pupils"] == {"pupils": 1, "values": 1} and withheld["case"]["values"] >= 1
    assert PERPETRATOR not in json.dumps(withheld, ensure_ascii=False)  # another pupil is counted, never named
    assert "他の児童生徒 1 名" in withheld["ja"] and "1 other pupil" in withheld["en"]

    verified = run("verify", str(out))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    reference = subprocess.run([sys.executable, str(ROOT / "reference" / "verify.py"), str(out)], capture_output=True,
                               text=True, check=False)
    assert reference.returncode == 0 and json.loads(reference.stdout)["ok"], reference.stdout + reference.stderr

    engine, main = load_bundle(out)
    with engine:
        first = engine.get_case(main).history()[0].data
        assert first["place"] == PLACE  # the requester's own
        assert isinstance(first["observed"], Sealed)  # the other pupil's: sealed, not erased
        assert isinstance(engine.get_case(main).history()[-1].data["reason"], Sealed)  # the case's own
    assert read_bundle(out).withheld == withheld
    report = run("report", str(out))
    assert report.returncode == 0, report.stderr
    assert PLACE in report.stdout and OBSERVED not in report.stdout and "封印済み" in report.stdout


def test_a_redacted_export_carries_no_key_and_says_so(stored: tuple[Path, str], tmp_path: Path) -> None:
    db, case_id = stored
    out = tmp_path / "committee.jsonl"
    done = run("export", "--db", str(db), case_id, "--redacted", "-o", str(out))
    assert done.returncode == 0, done.stderr
    raw = out.read_bytes()
    lines = [json.loads(line) for line in raw.decode().splitlines()]
    assert not [line for line in lines if line["kind"] == "key"]
    for _, key in all_keys(db).values():
        assert base64.b64encode(key) not in raw and key not in raw
    for plain in (PLACE, OBSERVED, REASON):
        assert plain.encode() not in raw
    withheld = lines[0]["withheld"]
    assert withheld["redacted"] is True and withheld["pseudonymised"] is False and withheld["values"] >= 3
    assert "仮名化は行っていません" in withheld["ja"]
    assert run("verify", str(out)).returncode == 0


def test_a_disclosure_is_only_for_a_subject_of_the_case(stored: tuple[Path, str], tmp_path: Path) -> None:
    db, case_id = stored
    done = run("export", "--db", str(db), case_id, "--for", "s-9999", "-o", str(tmp_path / "x.jsonl"))
    assert done.returncode == 2 and "対象の児童生徒ではありません" in done.stderr
    assert not (tmp_path / "x.jsonl").exists()
    assert run("export", "--db", str(db), case_id, "--for", VICTIM, "--redacted").returncode == 2
    with Engine(db, school="school-1") as engine, pytest.raises(InvalidData):
        export_bundle(engine, case_id, with_linked=False, exported_at=engine.clock.now(), disclose_for=PERPETRATOR,
                      redacted=True)


def test_a_plain_export_is_unchanged(stored: tuple[Path, str], tmp_path: Path) -> None:
    db, case_id = stored
    with Engine(db, school="school-1") as engine:
        text = export_bundle(engine, case_id, with_linked=False, exported_at=engine.clock.now())
    header = json.loads(text.splitlines()[0])
    assert "withheld" not in header and '"kind":"key"' not in text
