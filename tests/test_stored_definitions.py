"""Definitions an earlier version stored, read back by this one.

The language became stricter about durations (:mod:`ijime_flow.language.durations`): ``P1.5D``, ``-P1D``,
``"P3M\\n"``, ``PT``, ``P0D`` and anything over 100 years are refused when a workflow is *written*. A store
written before keeps definitions with them, and the cases pinned to those definitions must still read
back, verify, list their deadlines and take their next steps (:mod:`ijime_flow.language.stored`). Each
class of form is generated below; every form is written into a real SQLite store the way an earlier
version wrote it — its canonical text through ``store.put_definition`` and a case opened under it — and
the store is then reopened by a fresh engine with none of its workflows loaded.

A stored text that cannot run at all gives a :class:`StoredDefinitionError` that names the definition
(id, version, SHA-256 prefix) and the field, Japanese then English — never "definition missing".
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import STAFF, jst
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ijime_flow import DefinitionError, Engine, FixedClock, GuardFailed, load_text
from ijime_flow.canonical import canonical_json, sha256_hex
from ijime_flow.definition import Definition
from ijime_flow.errors import StoredDefinitionError
from ijime_flow.language.stored import EARLIEST_DUE, LATEST_DUE, StoredRead, add_duration

OPENED = jst(2019, 5, 1, 9)
LATER = jst(2999, 6, 1, 10)  # the further step: near the last year a step may have, plus a long duration
DAY = date(2019, 5, 1)  # the date fact ``since`` counts from
SCHOOL = "school-1"

WORKFLOW = """\
id: kept
version: "1"
title: {ja: 保存された定義, en: Stored definition}
source: test
roles:
  staff: {ja: 教職員}
facts:
  day: {type: date, ja: 日付}
opened_by: [staff]
records_on_open: [day]
initial: start
states:
  start:
    ja: 開始
    source: "1"
    deadlines:
      - {id: first, ja: 最初の期限, source: "1", met_by: [go], within: P1D}
  middle:
    ja: 途中
    source: "1"
    deadlines:
      - {id: second, ja: 二番目の期限, source: "1", met_by: [finish], within: WITHIN}
  done: {ja: 終了, source: "1", final: true}
transitions:
  - {trigger: go, ja: 進む, source: "1", from: start, to: middle, roles: [staff]}
  - {trigger: finish, ja: 終える, source: "1", from: middle, to: done, roles: [staff],
     when: {since: day, at_least: AT_LEAST}}
"""


def yaml_text(within: str = "P1D", at_least: str = "P1D") -> str:
    # a JSON string is a YAML double-quoted scalar: line breaks and white space survive
    return WORKFLOW.replace("WITHIN", json.dumps(within)).replace("AT_LEAST", json.dumps(at_least))


def stored_text(within: str = "P1D", at_least: str = "P1D") -> str:
    """The canonical text an earlier version kept for the workflow with these durations (it accepted
    any duration isodate read): the canonical text of the valid one, with the durations put in."""
    obj = json.loads(load_text(yaml_text()).canonical)
    obj["states"]["middle"]["deadlines"][0]["within"] = within
    obj["transitions"][1]["when"]["at_least"] = at_least
    return canonical_json(obj)


# -- the forms, by class, each with what it is due at ------------------------------------------------------

@dataclass(frozen=True)
class Form:
    text: str
    years: int = 0
    months: int = 0
    delta: timedelta = timedelta(0)
    clamped: bool = False  # too large for dates: due at the bound (the module docstring of language/stored)

    def after(self, start: Any) -> Any:
        """``start`` (a datetime or a date) plus this duration, worked out without isodate."""
        try:
            total = start.year * 12 + start.month - 1 + self.years * 12 + self.months
            year, month = divmod(total, 12)
            return start.replace(year=year, month=month + 1) + self.delta  # every start is on the 1st
        except (OverflowError, ValueError):
            forward = (self.years * 12 + self.months, self.delta) >= (0, timedelta(0))
            if isinstance(start, datetime):
                return LATEST_DUE if forward else EARLIEST_DUE
            return date.max if forward else date.min

    def due(self, start: datetime) -> datetime:
        due = self.after(start)
        return min(max(due, EARLIEST_DUE), LATEST_DUE)


UNITS: dict[str, Callable[[float], timedelta]] = {
    "D": lambda n: timedelta(days=n), "W": lambda n: timedelta(weeks=n), "TH": lambda n: timedelta(hours=n),
    "TM": lambda n: timedelta(minutes=n), "TS": lambda n: timedelta(seconds=n)}


def _text(number: str, unit: str) -> str:
    return f"PT{number}{unit[1]}" if unit.startswith("T") else f"P{number}{unit}"


def fractional() -> Iterator[Form]:
    for (unit, make), (whole, part), sep in itertools.product(UNITS.items(), [(1, "5"), (0, "25"), (2, "75")], ".,"):
        yield Form(_text(f"{whole}{sep}{part}", unit), delta=make(whole + int(part) / 10 ** len(part)))


def signed() -> Iterator[Form]:
    for n in (1, 2, 12):
        yield Form(f"-P{n}D", delta=-timedelta(days=n))
        yield Form(f"-PT{n}H", delta=-timedelta(hours=n))
        yield Form(f"-P{n}M", months=-n)
        yield Form(f"+P{n}D", delta=timedelta(days=n))
    yield Form("-P1Y", years=-1)
    yield Form("-P1.5D", delta=-timedelta(days=1.5))


def whitespace() -> Iterator[Form]:
    for around, (text, form) in itertools.product(
            [("", "\n"), (" ", ""), ("", "\t"), ("\n", ""), ("", "\r\n"), ("\u3000", " ")],
            [("P3M", Form("", months=3)), ("P1D", Form("", delta=timedelta(days=1))),
             ("PT12H", Form("", delta=timedelta(hours=12)))]):
        yield dataclasses.replace(form, text=around[0] + text + around[1])


def zero() -> Iterator[Form]:
    for text in ("P0D", "PT0S", "PT", "P0W", "P0Y0M0DT0H0M0S", "P0M", "PT0H0M", "-P0D"):
        yield Form(text)
    yield Form("P1DT", delta=timedelta(days=1))  # a T with nothing after it: as without it


def too_large() -> Iterator[Form]:
    yield Form("P101Y", years=101)
    yield Form("P200Y", years=200)  # from 2999: due in 3199, exact
    yield Form("P1201M", months=1201)
    yield Form("P40000D", delta=timedelta(days=40000))
    yield Form("PT99999999999S", delta=timedelta(seconds=99999999999))  # about 3169 years: exact still
    yield Form("P7000Y", years=7000)  # from 2999: June 9999, the last year dates hold
    for text, form in (("P7001Y", Form("", years=7001)), ("P9000Y", Form("", years=9000)),
                       ("P999999999D", Form("", delta=timedelta(days=999999999))),
                       ("-P9000Y", Form("", years=-9000)), ("-P999999999D", Form("", delta=-timedelta(days=999999999)))):
        yield dataclasses.replace(form, text=text, clamped=True)


CLASSES = {"fractional": fractional, "signed": signed, "whitespace": whitespace, "zero": zero, "too-large": too_large}
FORMS = [pytest.param(form, id=f"{name}:{form.text!r}") for name, make in CLASSES.items() for form in make()]


# -- writing a store the way an earlier version did ----------------------------------------------------------

def write_old_store(path: Path, text: str) -> str:
    """A store as an earlier version left it: the definition's text kept by its hash, a case opened under
    it (in ``start``, its deadline ``first`` started). Returns the case id."""
    with Engine(path, clock=FixedClock(OPENED), school=SCHOOL) as writer:
        writer.store.put_definition(sha256_hex(text), "kept", "1", text)
        defn = Definition.from_canonical(text)
        assert defn.sha256 == sha256_hex(text)
        # an earlier version refused none of these forms: bypass the refusal of add_definition, here only
        writer.add_definition(dataclasses.replace(defn, lenient=()))
        return writer.open_case("kept", actor=STAFF, data={"day": DAY.isoformat()}).id


def reopened(path: Path, at: datetime = LATER) -> Engine:
    """The store opened by this version, with none of its workflows loaded."""
    return Engine(path, clock=FixedClock(at), school=SCHOOL)


@pytest.mark.parametrize("form", FORMS)
class TestEveryRefusedFormStillReadsBack:
    def test_the_strict_path_still_refuses_it(self, form: Form, tmp_path: Path) -> None:
        for within, at_least in ((form.text, "P1D"), ("P1D", form.text)):
            with pytest.raises(DefinitionError):
                load_text(yaml_text(within, at_least))
            file = tmp_path / "kept.yaml"
            file.write_text(yaml_text(within, at_least), encoding="utf-8")
            with Engine(clock=FixedClock(OPENED), school=SCHOOL) as engine, pytest.raises(DefinitionError):
                engine.load(file)
            lenient = Definition.from_canonical(stored_text(within, at_least))  # reading it is fine ...
            with Engine(clock=FixedClock(OPENED), school=SCHOOL) as engine, pytest.raises(DefinitionError) as info:
                engine.add_definition(lenient)  # ... opening new cases under it is not
            assert any(" / " in p.message for p in info.value.problems)
            assert engine.definitions == {}

    def test_its_case_reads_back_verifies_and_moves_on(self, form: Form, tmp_path: Path) -> None:
        path = tmp_path / "old.db"
        case_id = write_old_store(path, stored_text(form.text, form.text))
        with reopened(path) as engine:
            case = engine.get_case(case_id)
            assert case.active_states == {"start"} and len(case.history()) == 1
            assert engine.verify().ok
            [first] = case.deadlines(LATER)
            assert (first.id, first.status) == ("first", "overdue")
            case.fire("go", actor=STAFF, at=LATER)  # the further step enters the stored form's deadline
            first, second = case.deadlines(LATER)
            assert first.status == "missed"
            assert (second.id, second.started_at, second.due) == ("second", LATER, form.due(LATER))
            assert second.status == ("open" if form.due(LATER) > LATER else "overdue")
            [row] = engine.cases()
            assert row.states == ("middle",) and row.next_due == form.due(LATER)
            finish = form.after(DAY) <= LATER.date()  # since 'day' at_least the form
            if finish:
                case.fire("finish", actor=STAFF, at=LATER)
            else:
                with pytest.raises(GuardFailed):
                    case.fire("finish", actor=STAFF, at=LATER)
        with reopened(path) as engine:  # and once more from the log alone: the same due time, verified
            case = engine.get_case(case_id)
            assert case.active_states == ({"done"} if finish else {"middle"})
            assert case.deadlines(LATER)[1].due == form.due(LATER)
            assert engine.verify().ok
            assert engine.rebuild_projection().problems == []

    def test_it_reads_back_from_its_text_as_pinned(self, form: Form) -> None:
        text = stored_text(form.text, form.text)
        defn = Definition.from_canonical(text)
        assert defn.canonical == text and defn.sha256 == sha256_hex(text)
        assert [p.path for p in defn.lenient] == ["deadline 'second' within", "at_least (since 'day')"]


def test_only_the_forms_dates_cannot_hold_are_clamped() -> None:
    # the expectations above must be able to tell a clamped due time from an exact one
    for form in too_large():
        assert (form.due(LATER) in (LATEST_DUE, EARLIEST_DUE)) is form.clamped, form.text
    assert [f.text for f in too_large() if f.clamped] == ["P7001Y", "P9000Y", "P999999999D", "-P9000Y",
                                                          "-P999999999D"]


# -- what cannot run ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["P1.5M", "P0.5Y", "P1Y1,5M", "-P1.5M"])
@pytest.mark.parametrize("where", ["within", "at_least"])
def test_fractional_months_read_back_and_refuse_only_the_step_that_needs_them(text: str, where: str,
                                                                              tmp_path: Path) -> None:
    # isodate read them, but no version could add them to a date: the case reads, verifies and lists its
    # deadlines; the step that would start the deadline (or evaluate the condition) is refused clearly
    path = tmp_path / "old.db"
    stored = stored_text(text, "P1D") if where == "within" else stored_text("P1D", text)
    case_id = write_old_store(path, stored)
    with reopened(path) as engine:
        case = engine.get_case(case_id)
        assert engine.verify().ok and [d.id for d in case.deadlines()] == ["first"]
        if where == "at_least":
            case.fire("go", actor=STAFF, at=LATER)
        with pytest.raises(StoredDefinitionError) as info:
            case.fire("go" if where == "within" else "finish", actor=STAFF, at=LATER)
        message = str(info.value)
        field = "deadline 'second' within" if where == "within" else "at_least (since 'day')"
        assert f"kept 1 ({sha256_hex(stored)[:12]}…)" in message and field in message and text in message
        assert_japanese_then_english(message)
        again = engine.get_case(case_id)
        assert again.seq == case.seq == (1 if where == "within" else 2)
        assert engine.verify().ok


def assert_japanese_then_english(message: str) -> None:
    japanese, english = message.split(" / the stored definition ", 1)  # (the detail may be bilingual itself)
    assert any(ord(c) > 0x3000 for c in japanese), message
    assert english.startswith("kept 1 ("), message


def _change(obj: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


@pytest.mark.parametrize(("path", "value", "field"), [
    (("states", "middle", "deadlines", 0, "within"), "soon", "states.middle.deadlines.0.within"),
    (("states", "middle", "deadlines", 0, "within"), "P", "states.middle.deadlines.0.within"),
    (("transitions", 1, "when", "at_least"), "3M", "at_least"),
    (("timezone",), "Mars/Olympus_Mons", "timezone"),
    (("initial",), "nowhere", "nowhere"),
])
def test_a_stored_text_that_cannot_run_says_which_and_why(path: tuple[Any, ...], value: Any, field: str,
                                                          tmp_path: Path) -> None:
    obj = json.loads(stored_text())
    _change(obj, path, value)
    text = canonical_json(obj)
    sha = sha256_hex(text)
    db = tmp_path / "old.db"
    with Engine(db, clock=FixedClock(OPENED), school=SCHOOL) as writer:
        # a case pinned to that text (written by a version that ran it, its text kept as it was)
        defn = load_text(yaml_text())
        defn.__dict__["canonical"] = text
        writer.add_definition(defn)
        case_id = writer.open_case("kept", actor=STAFF, data={"day": DAY.isoformat()}).id
    with reopened(db) as engine:
        assert engine.store.get_definition(sha) == text
        for read in (lambda: engine.runtime_for(sha), lambda: engine.get_case(case_id)):
            with pytest.raises(StoredDefinitionError) as info:
                read()
            message = str(info.value)
            assert f"kept 1 ({sha[:12]}…)" in message and field in message, message
            assert "not loaded" not in message and "missing" not in message
            assert_japanese_then_english(message)
        report = engine.verify()
        assert not report.ok
        [problem] = report.problems
        assert problem.kind == "definition" and sha[:12] in problem.message and field in problem.message
        assert "not in the store" not in problem.message


def test_a_text_that_does_not_hash_to_its_key_is_still_not_taken(tmp_path: Path) -> None:
    # leniency is about what the text says, never about which text: a changed text is not read at all
    with reopened(tmp_path / "s.db") as engine:
        text = stored_text("P1.5D")
        engine.store.put_definition("0" * 64, "kept", "1", text)
        assert engine.runtime_for("0" * 64) is None


# -- the runtime never overflows on a stored duration ----------------------------------------------------------

_WHEN = st.datetimes(datetime(1900, 1, 1), datetime(2999, 12, 31)).map(lambda d: d.replace(tzinfo=UTC))
_NUMBER = st.one_of(st.integers(0, 10**9).map(str), st.builds(lambda a, b, s: f"{a}{s}{b}", st.integers(0, 10**6),
                                                               st.integers(0, 99), st.sampled_from(".,")))


@st.composite
def isodate_texts(draw: st.DrawFn) -> str:
    """Durations isodate reads (and some it does not): any parts in order, whole or not, signed or not."""
    def parts(units: str) -> str:
        return "".join(f"{draw(_NUMBER)}{u}" for u in units if draw(st.booleans()))
    body = f"{draw(_NUMBER)}W" if draw(st.booleans()) else parts("YMD") + ("T" + parts("HMS") if draw(st.booleans()) else "")
    return draw(st.sampled_from(["", "-", "+"])) + "P" + body + draw(st.sampled_from(["", "\n", " "]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(isodate_texts(), _WHEN)
def test_adding_a_stored_duration_never_overflows(text: str, start: datetime) -> None:
    read = StoredRead.of("{}", "<test>")
    try:
        duration = read.duration(text, "within")
    except ValueError:
        return  # neither isodate nor the language reads it: no version stored it
    for begin in (start, start.date()):
        try:
            result = add_duration(begin, duration)
        except StoredDefinitionError as exc:
            assert "fractional months or years" in str(exc)
            return
        assert type(result) is type(begin)
        if isinstance(result, datetime):
            assert EARLIEST_DUE <= result <= LATEST_DUE
            result.astimezone(jst(2000, 1, 1).tzinfo)  # shown in Japan time without overflowing


# -- on the command line -----------------------------------------------------------------------------------------

def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ijime_flow", *args], capture_output=True, text=True, check=False,
                          timeout=120)


def test_the_commands_read_an_old_store_and_name_what_cannot_run(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    case_id = write_old_store(old, stored_text("P1.5D", "-P1D"))
    for args in (("verify",), ("history", case_id), ("report", case_id, "--as-of", "2019-05-03"), ("cases",)):
        run = cli(*args, "--db", str(old))
        assert run.returncode == 0 and "Traceback" not in run.stderr, (args, run.stdout, run.stderr)
    broken = tmp_path / "broken.db"
    obj = json.loads(stored_text())
    obj["states"]["middle"]["deadlines"][0]["within"] = "soon"
    text = canonical_json(obj)
    with Engine(broken, clock=FixedClock(OPENED), school=SCHOOL) as writer:
        defn = load_text(yaml_text())
        defn.__dict__["canonical"] = text  # pinned to that text, as some writer kept it
        writer.add_definition(defn)
        other = writer.open_case("kept", actor=STAFF, data={"day": DAY.isoformat()}).id
    run = cli("verify", "--db", str(broken))
    assert run.returncode == 1 and sha256_hex(text)[:12] in run.stdout and "soon" in run.stdout, run.stdout
    run = cli("history", other, "--db", str(broken))
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert "保存された定義 kept 1" in run.stderr and "states.middle.deadlines.0.within" in run.stderr, run.stderr
    run = cli("history", "--db", str(broken))  # the list of cases still lists it
    assert run.returncode == 0 and other in run.stdout, run.stderr
    run = cli("cases", "--db", str(broken))  # the case list names it by state id instead of its label
    [line] = [line for line in run.stdout.splitlines() if other in line]
    assert run.returncode == 0 and " start " in line and "開始" not in line, (run.stdout, run.stderr)
