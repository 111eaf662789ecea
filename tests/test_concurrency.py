"""Concurrency and crashes, tested for real: separate processes, SIGKILL, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import STAFF, WORKFLOWS, jst

from ijime_flow import Engine, FixedClock

QUIET = """
    import logging, sys
    import structlog
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
                        logger_factory=structlog.PrintLoggerFactory(sys.stderr))
"""

WRITER = textwrap.dedent(QUIET + """
    import json, sys
    from ijime_flow import Actor, ConcurrencyError, Engine

    url, workflows, case_id, target = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    engine = Engine(url, school="school-1")
    engine.load(workflows)
    admin = Actor(f"v-{sys.argv[5]}", {"administrator"})
    done = conflicts = 0
    while done < target:
        case = engine.get_case(case_id)          # reload: another process may have moved on
        try:
            case.fire("share_with_all_staff", actor=admin, data={"writer": sys.argv[5]})
            done += 1
        except ConcurrencyError:
            conflicts += 1
    print(json.dumps({"done": done, "conflicts": conflicts}), flush=True)
""")

LOOPER = textwrap.dedent(QUIET + """
    import sys
    from ijime_flow import Actor, Engine

    url, workflows, case_id = sys.argv[1], sys.argv[2], sys.argv[3]
    engine = Engine(url, school="school-1")
    engine.load(workflows)
    admin = Actor("v-1", {"administrator"})
    case = engine.get_case(case_id)
    while True:                                  # until SIGKILL
        event = case.fire("share_with_all_staff", actor=admin)
        print(f"ack {case_id} {event.seq} {event.hash}", flush=True)   # acknowledged: fire has returned
""")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "shared.db")
    return str(request.getfixturevalue("pg_url"))


def _open_cases(url: str, count: int) -> list[str]:
    with Engine(url, clock=FixedClock(jst(2020, 1, 1)), school="school-1") as engine:
        engine.load(WORKFLOWS)
        return [engine.open_case("response", actor=STAFF, at=jst(2019, 5, 1, 9)).id for _ in range(count)]


def test_eight_processes_on_one_case_each_seq_won_once(store_url: str, tmp_path: Path) -> None:
    (case_id,) = _open_cases(store_url, 1)
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    writers = [subprocess.Popen([sys.executable, str(script), store_url, str(WORKFLOWS), case_id, "12", str(i)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(8)]
    reports = []
    for writer in writers:
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
        reports.append(json.loads(out))
    with Engine(store_url, school="school-1") as engine:
        engine.load(WORKFLOWS)
        history = engine.get_case(case_id).history()
        assert [e.seq for e in history] == list(range(1, 1 + 8 * 12 + 1))  # nothing lost, nothing twice
        by_writer = [sum(1 for e in history if e.data.get("writer") == str(i)) for i in range(8)]
        assert by_writer == [12] * 8 and all(r["done"] == 12 for r in reports)
        assert engine.verify().ok
        assert_projection_matches_the_log(engine)
    assert sum(r["conflicts"] for r in reports) > 0  # they really raced


def test_a_follower_never_skips_an_event_that_commits_late(pg_url: str, tmp_path: Path) -> None:
    cases = _open_cases(pg_url, 4)
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    writers = [subprocess.Popen([sys.executable, str(script), pg_url, str(WORKFLOWS), case_id, "25", str(i)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i, case_id in enumerate(cases)]
    seen: list[int] = []
    with Engine(pg_url, school="school-1") as follower:
        while any(w.poll() is None for w in writers) or (seen and seen[-1] < 4 + 4 * 25):
            batch = [row.position for row in follower.store.read_from(seen[-1] if seen else 0)]
            assert batch == list(range((seen[-1] if seen else 0) + 1, (seen[-1] if seen else 0) + 1 + len(batch))), (
                "the follower saw a gap: an event below a seen position committed later")
            seen += batch
            if not batch:
                time.sleep(0.01)
    for writer in writers:
        assert writer.wait(timeout=60) == 0, writer.stderr.read() if writer.stderr else ""
    assert seen == list(range(1, 4 + 4 * 25 + 1))


def test_writers_killed_at_random_moments_lose_nothing_acknowledged(store_url: str, tmp_path: Path) -> None:
    cases = _open_cases(store_url, 3)
    script = tmp_path / "looper.py"
    script.write_text(LOOPER, encoding="utf-8")
    acknowledged: dict[tuple[str, int], str] = {}
    rng = random.Random(7)
    for _ in range(6):
        procs = [subprocess.Popen([sys.executable, str(script), store_url, str(WORKFLOWS), case_id],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for case_id in cases]
        lines: list[str] = []
        readers = [threading.Thread(target=lambda p=p, into=lines: into.extend(p.stdout or []), daemon=True)
                   for p in procs]
        for reader in readers:
            reader.start()
        started = time.monotonic()  # the writers get going first (a loaded machine starts them slowly)
        while sum(line.startswith("ack ") for line in list(lines)) < len(procs) and time.monotonic() - started < 60:
            time.sleep(0.05)
        time.sleep(rng.uniform(1.0, 2.0))
        for proc in procs:
            os.kill(proc.pid, signal.SIGKILL)
        for proc in procs:
            proc.wait(timeout=30)
        for reader in readers:
            reader.join(timeout=30)
        for line in lines:
            if line.startswith("ack ") and line.endswith("\n"):
                _, case_id, seq, digest = line.split()
                acknowledged[(case_id, int(seq))] = digest
    assert len(acknowledged) > 20  # the writers did get work done between the kills
    with Engine(store_url, school="school-1") as engine:
        engine.load(WORKFLOWS)
        stored = {(row.case_id, row.seq): json.loads(row.body)["hash"] for case_id in cases
                  for row in engine.store.read_case(case_id)}
        missing = {key for key in acknowledged if stored.get(key) != acknowledged[key]}
        assert not missing, f"acknowledged but not stored: {sorted(missing)[:5]}"
        report = engine.verify()
        assert report.ok, report.problems[:3]
        assert_projection_matches_the_log(engine)  # no row ahead of or behind its case's last event


def assert_projection_matches_the_log(engine: Engine) -> None:
    """The rows the racing or killed writers left equal the rows rebuilt from the log, and each
    row's seq is its case's last event."""
    kept = {row.case_id: row for row in engine.cases()}
    for case_id, row in kept.items():
        assert row.seq == engine.store.read_case(case_id)[-1].seq
    assert engine.rebuild_projection().problems == []
    assert {row.case_id: row for row in engine.cases()} == kept
