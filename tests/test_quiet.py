"""The library is quiet unless the host asks (issue 14): an application that configures no logging prints
nothing during 1,000 steps on a real SQLite file (a real process, its stdout and stderr read whole); one that
configures ``logging`` gets each record on the ``ijime_flow`` logger with its fields; one that configures
structlog gets them through its own processors. Never a fact's value."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "休み時間に名前を呼ばれてからかわれた"

APP = textwrap.dedent(f"""\
    import sys
    from datetime import datetime, timedelta
    from ijime_flow import Engine
    from ijime_flow.actor import Actor
    from ijime_flow.clock import TOKYO
    from ijime_flow.store import SQLiteStore

    SETUP = "%(setup)s"
    if SETUP == "logging":
        import json, logging
        class Fields(logging.Handler):
            def emit(self, record):
                sys.stderr.write(json.dumps({{"message": record.getMessage(), "fields": getattr(record, "ijime", None)}},
                                            ensure_ascii=False, default=str) + "\\n")
        logging.getLogger().addHandler(Fields())
        logging.getLogger().setLevel(logging.INFO)
    elif SETUP == "structlog":
        import structlog
        structlog.configure(processors=[structlog.processors.JSONRenderer()],
                            logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    staff, committee = Actor("staff-1", {{"staff"}}), Actor("committee-1", {{"committee"}})
    engine = Engine(store=SQLiteStore(sys.argv[1]), school="s1")
    engine.load({str(ROOT / "workflows")!r})
    at = datetime(2019, 5, 13, 9, tzinfo=TOKYO)
    steps = 0
    while steps < int(sys.argv[2]):
        case = engine.open_case("response", actor=staff, at=at, data={{"note": {SECRET!r}}})
        case.fire("stop_act", actor=staff, at=at)
        for minute in range(8):
            case.fire("share_with_all_staff", actor=Actor("admin-1", {{"administrator"}}), at=at + timedelta(minutes=minute))
        steps += 10
    engine.close()
""")


def _run(tmp_path: Path, setup: str, steps: int) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "app.py"
    script.write_text(APP % {"setup": setup}, encoding="utf-8")
    return subprocess.run([sys.executable, str(script), str(tmp_path / "cases.db"), str(steps)], capture_output=True,
                          text=True, check=True, timeout=600, cwd=tmp_path)


def test_an_application_that_configures_nothing_sees_nothing(tmp_path: Path) -> None:
    done = _run(tmp_path, "none", 1000)
    assert done.stdout == "" and done.stderr == ""


def test_an_application_that_configures_logging_gets_the_records_with_their_fields(tmp_path: Path) -> None:
    done = _run(tmp_path, "logging", 20)
    assert done.stdout == ""
    records = [json.loads(line) for line in done.stderr.splitlines()]
    events = [r["fields"]["event"] for r in records]
    assert events.count("case.opened") == 2 and events.count("case.fired") == 18
    fired = next(r for r in records if r["fields"]["event"] == "case.fired")
    assert fired["fields"]["trigger"] == "stop_act" and fired["message"].startswith("case.fired case_id=")
    assert SECRET not in done.stderr


def test_an_application_that_configures_structlog_gets_them_its_way(tmp_path: Path) -> None:
    done = _run(tmp_path, "structlog", 10)
    assert done.stdout == ""
    events = [json.loads(line)["event"] for line in done.stderr.splitlines()]
    assert events[:2] == ["case.opened", "case.fired"] and SECRET not in done.stderr


PG_APP = textwrap.dedent("""\
    import sys, threading, time, uuid
    from datetime import datetime
    import psycopg
    from ijime_flow import Engine
    from ijime_flow.actor import Actor
    from ijime_flow.clock import TOKYO

    url, workflows = sys.argv[1], sys.argv[2]
    app = "ijime-quiet-" + uuid.uuid4().hex[:8]
    engine = Engine(url + "&application_name=" + app, school="s1")
    engine.load(workflows)
    case = engine.open_case("response", actor=Actor("staff-1", {"staff"}), at=datetime(2019, 5, 13, 9, tzinfo=TOKYO))
    for _ in range(3):
        with psycopg.connect(url) as holder:  # the read waits inside its statement; then the server ends it
            holder.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
            reader = threading.Thread(target=lambda: engine.get_case(case.id))
            reader.start()
            waiting, deadline = [], time.monotonic() + 10
            while not waiting and time.monotonic() < deadline:
                waiting = holder.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s AND"
                                         " wait_event_type = 'Lock'", (app,)).fetchall()
            assert waiting, "the read never waited"
            holder.execute("SELECT pg_terminate_backend(%s, 5000)", waiting[0])
            holder.rollback()
            reader.join(30)  # read again on a new connection: the pool discards the lost one (and its logger says so)
    engine.close()
""")


def test_lost_postgresql_connections_print_nothing_either(tmp_path: Path, pg_url: str) -> None:
    script = tmp_path / "pg_app.py"
    script.write_text(PG_APP, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), pg_url, str(ROOT / "workflows")], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
