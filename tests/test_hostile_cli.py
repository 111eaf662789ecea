"""The command against files and stores that are not what it expects: reading commands never write,
never into a file that is not ours; commands that keep things refuse stores that keep nothing; every
command takes every store URL, and no message shows a password."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import STAFF, WORKFLOWS, jst, walk_main_line

from ijime_flow import Engine, FixedClock
from ijime_flow.cli import main

READING = [
    ("verify", "--db", "{db}"),
    ("verify", "--db", "{db}", "case-1"),
    ("history", "--db", "{db}"),
    ("history", "--db", "{db}", "case-1"),
    ("cases", "--db", "{db}"),
    ("export", "--db", "{db}", "case-1"),
    ("report", "--db", "{db}", "case-1"),
    ("replay", "--db", "{db}", "case-1"),
    ("checkpoint", "--db", "{db}", "--key", "{key}", "--origin", "board.example.jp/school-1"),
    ("prove", "--db", "{db}", "case-1", "1", "--checkpoint", "{cp}"),
]


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file in the folder and its SHA-256: what a read-only command must leave as it was."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    folder = tmp_path_factory.mktemp("keys")
    assert main(["keygen", "--out", str(folder / "k")]) == 0
    (folder / "cp.json").write_text("{}", encoding="utf-8")
    yield {"key": str(folder / "k.key"), "cp": str(folder / "cp.json")}


def foreign_sqlite(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("INSERT INTO notes (body) VALUES ('another application')")
    db.commit()
    db.close()
    return path


@pytest.mark.parametrize("argv", READING, ids=[" ".join(a[:1] + a[3:4]) for a in READING])
@pytest.mark.parametrize("kind", ["foreign", "empty"])
def test_reading_commands_refuse_a_file_that_is_not_a_store_and_leave_it_as_it_was(
        tmp_path: Path, keys: dict[str, str], argv: tuple[str, ...], kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "other.db"
    if kind == "foreign":
        foreign_sqlite(db)
    else:
        db.write_bytes(b"")
    before = fingerprint(folder)
    code, said = run([a.format(db=db, **keys) for a in argv], capsys)
    assert code == 2, said
    assert "not an ijime-flow store" in said and "Traceback" not in said
    assert fingerprint(folder) == before  # not a byte changed, no journal left beside it


@pytest.mark.parametrize("argv", READING[:8], ids=[" ".join(a[:1] + a[3:4]) for a in READING[:8]])
def test_reading_commands_do_not_write_to_a_store(tmp_path: Path, clock: FixedClock, argv: tuple[str, ...],
                                                  keys: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "school.db"
    with Engine(db, clock=clock, school="school-1") as eng:
        eng.load(WORKFLOWS)
        walk_main_line(eng.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), case_id="case-1"), until="stop_act")
    before = fingerprint(folder)
    code, said = run([a.format(db=db, **keys) for a in argv], capsys)
    assert code == 0, said
    after = fingerprint(folder)
    assert after["school.db"] == before["school.db"]
    # a reader of a WAL database leaves SQLite's shared-memory index and an empty log beside it: no frame
    assert set(after) - set(before) <= {"school.db-wal", "school.db-shm"}
    assert not (folder / "school.db-wal").exists() or (folder / "school.db-wal").stat().st_size == 0


@pytest.mark.parametrize("target", ["sqlite:///", ":memory:", "memory://", "sqlite:///:memory:", "sqlite:///  "])
def test_import_refuses_a_store_that_keeps_nothing(tmp_path: Path, clock: FixedClock, target: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "school.db"
    with Engine(db, clock=clock, school="school-1") as eng:
        eng.load(WORKFLOWS)
        eng.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), case_id="case-1")
    bundle = tmp_path / "case.jsonl"
    assert main(["export", "--db", str(db), "case-1", "-o", str(bundle)]) == 0
    code, said = run(["import", "--db", target, str(bundle)], capsys)
    assert code == 2, said
    assert "取り込みました" not in said and "keeps nothing" in said


def test_every_command_takes_a_postgresql_url(pg_url: str, clock: FixedClock, keys: dict[str, str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with Engine(pg_url, clock=clock, school="school-1") as eng:
        eng.load(WORKFLOWS)
        walk_main_line(eng.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), case_id="case-1"), until="stop_act")
    cp = Path(keys["cp"]).with_name("real-cp.json")
    code, said = run(["checkpoint", "--db", pg_url, "--key", keys["key"], "--origin", "board.example.jp/school-1", "-o", str(cp)],
                     capsys)
    assert code == 0, said
    for argv in READING[:8]:
        code, said = run([a.format(db=pg_url, **keys) for a in argv], capsys)
        assert code == 0, (argv, said)
    code, said = run(["prove", "--db", pg_url, "case-1", "1", "--checkpoint", str(cp)], capsys)
    assert code == 0, said


@pytest.mark.parametrize("argv", READING, ids=[" ".join(a[:1] + a[3:4]) for a in READING])
def test_no_message_shows_a_password(argv: tuple[str, ...], keys: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://someone:s3cret@127.0.0.1:1/test?connect_timeout=2"
    code, said = run([a.format(db=url, **keys) for a in argv], capsys)
    assert code == 2, said
    assert "s3cret" not in said and "Traceback" not in said


# -- bad arguments: a plain message and exit 2, never a traceback (nor exit 3, a bug) ----------------------
@pytest.fixture
def store(tmp_path: Path, clock: FixedClock) -> Path:
    db = tmp_path / "school.db"
    with Engine(db, clock=clock, school="school-1") as eng:
        eng.load(WORKFLOWS)
        walk_main_line(eng.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), case_id="case-1"), until="stop_act")
    return db


BAD_ARGUMENTS = [
    ("cases", "--db", "{db}", "--as-of", "0001-01-01T00:00"),
    ("cases", "--db", "{db}", "--as-of", ""),
    ("cases", "--db", "{db}", "--limit", "999999999999999999999"),
    ("replay", "--db", "{db}", "case-1", "--at", "9999-12-31T23:59:59-12:00"),
    ("replay", "--db", "{db}", "case-1", "--at", ""),
    ("report", "--db", "{db}", "case-1", "--as-of", "9999-12-31T23:59:59-12:00"),
    ("report", "--db", "{db}", "case-1", "--as-of", ""),
    ("keygen", "--out", "{tmp}/no/such/dir/k"),
    ("schema", "-o", "{tmp}"),
    ("export", "--db", "{db}", "case-1", "-o", "{tmp}"),
    ("verify-proof", "{tmp}/number.json", "--pubkey", "{tmp}/k.pub"),
]


@pytest.mark.parametrize("argv", BAD_ARGUMENTS, ids=[" ".join(a[:1] + a[-2:]) for a in BAD_ARGUMENTS])
def test_bad_arguments_are_unusable_input(store: Path, tmp_path: Path, argv: tuple[str, ...],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen", "--out", str(tmp_path / "k")]) == 0
    (tmp_path / "number.json").write_text("5", encoding="utf-8")
    code, said = run([a.format(db=store, tmp=tmp_path) for a in argv], capsys)
    assert code == 2, said
    assert "Traceback" not in said and "unexpected error" not in said


@pytest.mark.parametrize("change", ["event-number", "event-list", "no-format", "unknown-key", "format-2",
                                    "leaf-index-text", "proof-not-list"])
def test_a_damaged_proof_file_fails_and_never_crashes(store: Path, tmp_path: Path, change: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["keygen", "--out", str(tmp_path / "k")]) == 0
    cp, proof = tmp_path / "cp.json", tmp_path / "proof.json"
    assert main(["checkpoint", "--db", str(store), "--key", str(tmp_path / "k.key"), "--origin", "board.example.jp/school-1",
                 "-o", str(cp)]) == 0
    assert main(["prove", "--db", str(store), "case-1", "2", "--checkpoint", str(cp), "--json", "-o", str(proof)]) == 0
    assert main(["verify-proof", str(proof), "--pubkey", str(tmp_path / "k.pub")]) == 0
    body = json.loads(proof.read_text(encoding="utf-8"))
    edits = {"event-number": lambda b: b.update(event=5), "event-list": lambda b: b.update(event=[b["event"]]),
             "no-format": lambda b: b.pop("format"), "unknown-key": lambda b: b.update(note="x"),
             "format-2": lambda b: b.update(format=2), "leaf-index-text": lambda b: b.update(leaf_index="1"),
             "proof-not-list": lambda b: b.update(proof="ab")}
    edits[change](body)
    proof.write_text(json.dumps(body), encoding="utf-8")
    code, said = run(["verify-proof", str(proof), "--pubkey", str(tmp_path / "k.pub")], capsys)
    assert code == 1, said
    assert "Traceback" not in said and "unexpected error" not in said


def test_unknown_keys_on_bundle_lines_are_refused(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    bundle = tmp_path / "case.jsonl"
    assert main(["export", "--db", str(store), "case-1", "-o", str(bundle)]) == 0
    lines = bundle.read_text(encoding="utf-8").splitlines()
    for index in range(len(lines)):
        edited = list(lines)
        obj = json.loads(edited[index])
        obj["extra"] = 1
        edited[index] = json.dumps(obj, ensure_ascii=False)
        (tmp_path / "edited.jsonl").write_text("\n".join(edited) + "\n", encoding="utf-8")
        code, said = run(["verify", str(tmp_path / "edited.jsonl")], capsys)
        assert code == 2 and "unknown key" in said and f":{index + 1}:" in said, said


def test_an_unexpected_error_is_never_a_verdict(monkeypatch: pytest.MonkeyPatch, store: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from ijime_flow.cli import workflows

    def broken(*_: object) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(workflows, "_history", broken)
    code, said = run(["history", "--db", str(store)], capsys)
    assert code == 3 and "unexpected error" in said and "a bug" in said and "Traceback" not in said


def test_replay_and_report_of_a_state_the_workflow_lacks(tmp_path: Path, clock: FixedClock,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # a history written with every hash right whose step names a state the pinned workflow does not have
    from ijime_flow.events import seal

    db = tmp_path / "odd.db"
    with Engine(db, clock=clock, school="s") as eng:
        eng.load(WORKFLOWS)
        case = eng.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9), case_id="case-1")
        first = case.history()[0]
        later, body = seal(case_id="case-1", seq=2, type="transition", trigger="stop_act",
                           from_states=first.to_states, to_states=["no_such_state"], actor_id=STAFF.id,
                           actor_roles=["staff"], at=jst(2019, 5, 2), recorded_at=jst(2019, 5, 2), data={},
                           definition=None, prev_hash=first.hash)
        eng.store.append([(later, body)])
    code, said = run(["verify", "--db", str(db)], capsys)
    assert code == 1 and "seq 2" in said
    code, said = run(["replay", "--db", str(db), "case-1", "--at", "2019-05-03"], capsys)
    assert code == 1 and "no_such_state" in said and "seq 2" in said, said  # the fold stops there: state up to seq 1
    for argv in (["history", "--db", str(db), "case-1"], ["cases", "--db", str(db)]):
        code, said = run(argv, capsys)
        assert code in (0, 1, 2) and "Traceback" not in said and "unexpected error" not in said, (argv, said)
    code, said = run(["report", "--db", str(db), "case-1", "--as-of", "2019-05-03"], capsys)
    assert code in (0, 1, 2) and "unexpected error" not in said, said


@pytest.mark.parametrize("path", ["a\x00b.db", "\ud800.db", "a" * 300 + ".db"], ids=["nul", "surrogate", "too-long"])
@pytest.mark.parametrize("command", ["verify", "history", "cases", "import"])
def test_paths_the_system_cannot_use_are_unusable_input(tmp_path: Path, path: str, command: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # found by bench/fuzz.py (cli campaign, seeds 209, 352, 560): these ended in exit 3
    argv = [command, "--db", str(tmp_path / path)] + ([str(tmp_path / path)] if command == "import" else [])
    code, said = run(argv, capsys)
    assert code == 2, said
    assert "unexpected error" not in said


def test_a_bundle_line_whose_kind_is_not_text_is_refused(store: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    bundle = tmp_path / "case.jsonl"
    assert main(["export", "--db", str(store), "case-1", "-o", str(bundle)]) == 0
    lines = bundle.read_text(encoding="utf-8").splitlines()
    (tmp_path / "odd.jsonl").write_text("\n".join([lines[0], '{"kind": [], "x": 1}', *lines[1:]]) + "\n", encoding="utf-8")
    code, said = run(["verify", str(tmp_path / "odd.jsonl")], capsys)
    assert code == 2 and "unknown kind" in said, said
