"""The mutant generator (:mod:`ijime_flow.policy.mutants`) on the two shipped workflows.

Every kind makes at least one valid mutant on one of them; every mutant is valid (its tree passes the
loader's checks, and its YAML text loads as its definition: one of each kind is read back), differs from
the original and from every other mutant, and differs from the original in exactly the place its target
names; several kinds are checked for what they mean (the role named is allowed now and was not, the
criterion no longer escalates the value it left out, …) over all their mutants, not one picked by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from ijime_flow.clock import TOKYO
from ijime_flow.definition import Definition
from ijime_flow.errors import DefinitionError
from ijime_flow.language.conditions import Condition, EvalContext, FactIs, Since, holds, walk
from ijime_flow.language.durations import parse_duration
from ijime_flow.language.lint import check_references, lint
from ijime_flow.language.loader import load_text, validate_paths
from ijime_flow.language.models import TransitionDef, WorkflowDef
from ijime_flow.language.workflow_set import escalation_findings
from ijime_flow.policy.mutants import KIND_LABELS, MUTANT_KINDS, Mutant, MutantSet, make_mutants

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
NAMES = ("response", "serious_incident", "school_year")
Sets = dict[str, tuple[Definition, MutantSet]]


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return {name: (WORKFLOWS / f"{name}.yaml").read_text(encoding="utf-8") for name in NAMES}


@pytest.fixture(scope="module")
def sets(texts: dict[str, str]) -> Sets:
    originals = {name: load_text(text, f"{name}.yaml") for name, text in texts.items()}
    out: Sets = {}
    for name in NAMES:
        others = {other: defn for other, defn in originals.items() if other != name}
        out[name] = (originals[name], make_mutants(texts[name], file=f"{name}.yaml", others=others))
    return out


def table(sets: Sets) -> str:
    rows = [f"{'kind':24} {'response':>9} {'serious_incident':>17}"]
    for kind in MUTANT_KINDS:
        rows.append(f"{kind:24} {sets['response'][1].counts()[kind]:9} {sets['serious_incident'][1].counts()[kind]:17}")
    rows.append(f"{'(valid)':24} {len(sets['response'][1].mutants):9} {len(sets['serious_incident'][1].mutants):17}")
    for what in ("invalid", "equivalent"):
        rows.append(f"({what}){'':{23 - len(what)}} " + " ".join(
            f"{len(getattr(sets[n][1], what)):{w}}" for n, w in (("response", 9), ("serious_incident", 17))))
    return "\n".join(rows)


def mutants(sets: Sets, kind: str | None = None) -> Iterator[tuple[Definition, Mutant]]:
    for original, found in sets.values():
        for mutant in found.mutants:
            if kind is None or mutant.kind == kind:
                yield original, mutant


# -- names of the parts, as the generator names them -----------------------------------------------

def labels(defn: Definition) -> dict[str, int]:
    """Transition name -> index: the trigger, with @first-source when two transitions share it."""
    triggers = [t.trigger for t in defn.spec.transitions]
    return {(t.trigger if triggers.count(t.trigger) == 1 else f"{t.trigger}@{t.from_[0]}"): i
            for i, t in enumerate(defn.spec.transitions)}


def step(defn: Definition, name: str, original: Definition | None = None) -> TransitionDef:
    """The transition called ``name`` in the original (a mutant's sources may change what it is called)."""
    return defn.spec.transitions[labels(original or defn)[name]]


def allowed(defn: Definition, roles: list[str] | None) -> set[str]:
    if roles is None:
        return set(defn.spec.roles)
    return {r for r in defn.spec.roles if defn.role_closure({r}) & set(roles)}


def places(defn: Definition) -> dict[tuple[str, str | int], str]:
    """Each part of the canonical form by its place: a transition, a fact, a deadline, a state, a criterion."""
    data = json.loads(defn.canonical)
    out: dict[tuple[str, str | int], str] = {}
    for i, t in enumerate(data["transitions"]):
        out[("transition", i)] = json.dumps(t, sort_keys=True)
    for name, fact in data["facts"].items():
        out[("fact", name)] = json.dumps(fact, sort_keys=True)

    def states(found: dict[str, Any], prefix: str) -> None:
        for name, state in found.items():
            for deadline in state.get("deadlines", []):
                out[("deadline", deadline["id"])] = json.dumps(deadline, sort_keys=True)
            rest = {k: v for k, v in state.items() if k not in ("deadlines", "states", "parallel")}
            out[("state", prefix + name)] = json.dumps(rest, sort_keys=True)
            for key in ("states", "parallel"):
                if key in state:
                    states(state[key], f"{prefix}{name}.")

    states(data["states"], "")
    if "escalation" in data:
        out[("escalation", "to")] = data["escalation"]["to"]
        for criterion in data["escalation"]["criteria"]:
            out[("criterion", criterion["id"])] = json.dumps(criterion, sort_keys=True)
    for key, value in data.items():
        if key not in ("transitions", "facts", "states", "escalation"):
            out[("top", key)] = json.dumps(value, sort_keys=True)
    return out


def named_place(original: Definition, mutant: Mutant) -> set[tuple[str, str | int]]:
    """Where the mutant's id and target say it changed the original."""
    target, spec = mutant.target, original.spec
    if mutant.kind == "escalation_removed":
        return {p for p in places(original) if p[0] in ("escalation", "criterion")}
    if mutant.id.startswith("role_widened:fact:"):
        return {("fact", target)}
    if mutant.id.startswith(("role_widened:opened_by:", "records_dropped:records_on_open:")) or target == "calendar":
        return {("top", "opened_by" if "opened_by" in mutant.id else "records_on_open" if "records_on_open" in mutant.id
                 else "calendar")}
    if mutant.id.startswith("automatic_dropped:final:"):
        return {("state", target)}
    if target in labels(original):
        return {("transition", labels(original)[target])}
    if target in {d.id for node in original.nodes.values() for d in node.spec.deadlines}:
        return {("deadline", target)}
    assert spec.escalation is not None and target in {c.id for c in spec.escalation.criteria}, mutant.id
    return {("criterion", target)}


# -- every kind, every mutant ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", MUTANT_KINDS)
def test_every_kind_makes_a_valid_mutant_on_a_shipped_workflow(sets: Sets, kind: str) -> None:
    made = {name: found.counts()[kind] for name, (_, found) in sets.items()}
    assert sum(made.values()) >= 1, f"no valid mutant of kind {kind}\n{table(sets)}"


def test_every_kind_has_a_japanese_and_an_english_label() -> None:
    assert len(set(MUTANT_KINDS)) == len(MUTANT_KINDS)
    assert list(KIND_LABELS) == list(MUTANT_KINDS)
    for kind, label in KIND_LABELS.items():
        assert label.ja and not label.ja.isascii(), kind
        assert label.en, kind


def test_every_mutant_is_valid_and_distinct(sets: Sets) -> None:
    for name, (original, found) in sets.items():
        hashes = [m.definition.sha256 for m in found.mutants]
        assert len(set(hashes)) == len(hashes), name
        assert original.sha256 not in hashes, name
        pool = {defn.id: defn for defn, _ in sets.values()}
        for mutant in found.mutants:
            # its tree is its definition (no copy was changed by a later one), and it passes every check
            again = Definition(WorkflowDef.model_validate(mutant.tree))
            assert again.sha256 == mutant.definition.sha256, mutant.id
            assert check_references(again) == [] and lint(again) == [], mutant.id
            assert list(escalation_findings(mutant.definition, {**pool, name: mutant.definition})) == [], mutant.id


def test_the_text_of_a_mutant_of_every_kind_loads_as_its_definition(sets: Sets) -> None:
    # the project's loader, lint on, reads the same canonical form back from the YAML text (writing and
    # reading the text of all of them takes ten seconds: one of each kind, and every kind's last, is enough)
    checked: dict[str, Mutant] = {}
    for _, mutant in mutants(sets):
        checked.setdefault(mutant.kind + ":first", mutant)
        checked[mutant.kind + ":last"] = mutant
    for mutant in checked.values():
        assert load_text(mutant.text, mutant.id).sha256 == mutant.definition.sha256, mutant.id
    assert len(checked) == 2 * len(MUTANT_KINDS)


def test_escalation_mutants_validate_with_the_other_workflow(sets: Sets, tmp_path: Path) -> None:
    # what `ijime-flow validate` does with both files: the escalation target checked both ways
    kinds = {"criterion_removed", "criterion_loosened", "escalation_removed", "records_dropped", "threshold_moved"}
    checked = 0
    for name, (_, found) in sets.items():
        for k, mutant in enumerate(m for m in found.mutants if m.kind in kinds):
            folder = tmp_path / f"{name}-{k}"
            folder.mkdir()
            (folder / f"{name}.yaml").write_text(mutant.text, encoding="utf-8")
            for other in (n for n in NAMES if n != name):  # every other shipped workflow: escalation and `opens` targets
                (folder / f"{other}.yaml").write_text((WORKFLOWS / f"{other}.yaml").read_text(encoding="utf-8"),
                                                      encoding="utf-8")
            definitions, problems = validate_paths([folder])
            assert problems == [] and len(definitions) == len(NAMES), (mutant.id, [str(p) for p in problems])
            checked += 1
    assert checked >= 10


def test_ids_are_unique_ascii_and_name_their_kind(sets: Sets) -> None:
    for name, (_, found) in sets.items():
        ids = [m.id for m in found.mutants] + [i for i, _ in found.invalid] + found.equivalent
        assert len(set(ids)) == len(ids), name
        for mutant_id in ids:
            assert mutant_id.isascii() and " " not in mutant_id, mutant_id
            assert mutant_id.split(":", 1)[0] in MUTANT_KINDS, mutant_id
        for mutant in found.mutants:
            assert mutant.id.startswith(mutant.kind + ":") and mutant.target, mutant.id
            assert mutant.ja and not mutant.ja.isascii() and mutant.en, mutant.id


def test_invalid_and_equivalent_copies_are_counted_not_returned(sets: Sets) -> None:
    for _, found in sets.values():
        valid = {m.id for m in found.mutants}
        assert not valid & {i for i, _ in found.invalid}
        assert not valid & set(found.equivalent)
        assert all(message for _, message in found.invalid)
    response, incident = sets["response"][1], sets["serious_incident"][1]
    # a region without its final state can never be done: the loader refuses it
    assert "automatic_dropped:final:responding.victim_support.done" in dict(response.invalid)
    # without records_on_open: [criterion], response's escalation could not open the case
    assert "escalation-target" in dict(incident.invalid)["records_dropped:records_on_open:criterion"]
    # [administrator] -> [staff] allows what [administrator, staff] (role_widened, earlier) allows
    assert "role_moved_down:share_with_committee:administrator:staff" in response.equivalent
    # [principal, staff] -> [administrator, staff]: every principal and administrator is staff anyway
    assert "role_moved_down:provide_materials:principal:administrator" in incident.equivalent


def test_each_mutant_differs_from_the_original_exactly_where_it_says(sets: Sets) -> None:
    for original, mutant in mutants(sets):
        before, after = places(original), places(mutant.definition)
        changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
        assert changed == named_place(original, mutant), mutant.id


# -- what each kind means, over all its mutants ---------------------------------------------------------

def test_role_widened_allows_the_role_named_that_was_not_allowed(sets: Sets) -> None:
    seen = 0
    for original, mutant in mutants(sets, "role_widened"):
        parts = mutant.id.split(":")
        if parts[1] == "fact":
            fact, role = parts[2], parts[3]
            now, was = (d.spec.facts[fact].roles for d in (mutant.definition, original))
            assert now is None if role == "any" else role in allowed(mutant.definition, now), mutant.id
            assert was is not None and role not in allowed(original, was), mutant.id
        elif parts[1] == "opened_by":
            assert parts[2] in allowed(mutant.definition, mutant.definition.spec.opened_by), mutant.id
            assert parts[2] not in allowed(original, original.spec.opened_by), mutant.id
        else:
            name, role = parts[1], parts[2]
            assert role in allowed(mutant.definition, step(mutant.definition, name, original).roles), mutant.id
            assert role not in allowed(original, step(original, name).roles), mutant.id
            seen += 1
    assert seen >= 20
    assert ("role_widened:report_to_board:staff" in {m.id for _, m in mutants(sets)})


def test_role_moved_down_gives_the_step_to_the_office_below(sets: Sets) -> None:
    for original, mutant in mutants(sets, "role_moved_down"):
        _, name, upper, lower = mutant.id.split(":")
        now, was = step(mutant.definition, name, original).roles, step(original, name).roles
        assert upper in was and upper not in now and lower in now, mutant.id
        assert lower in original.spec.roles[upper].includes or (upper, lower) in {("board", "principal"), ("mayor", "board")}
        assert allowed(mutant.definition, now) != allowed(original, was), mutant.id


def test_source_added_lets_the_step_be_taken_from_a_state_it_could_not_be_taken_from(sets: Sets) -> None:
    for kind in ("source_added", "action_source_added"):
        for original, mutant in mutants(sets, kind):
            name, state = mutant.id.split(":")[1:]
            now, was = step(mutant.definition, name, original).from_, step(original, name).from_
            if state == "any":
                assert now == ["*"] and "*" not in was, mutant.id
            else:
                assert now == [*was, state] and state not in was, mutant.id
                # earlier: the state reaches the step's old source before the step itself could
                assert not original.nodes[state].final, mutant.id


def test_dropped_conditions_data_and_clears(sets: Sets) -> None:
    for original, mutant in mutants(sets, "condition_dropped"):
        assert step(original, mutant.target).when is not None and step(mutant.definition, mutant.target, original).when is None
    for kind, field in (("requires_dropped", "requires"), ("records_dropped", "records"), ("clears_dropped", "clears")):
        for original, mutant in mutants(sets, kind):
            item = mutant.id.split(":")[-1]
            if ":records_on_open:" in mutant.id:
                assert item in original.spec.records_on_open and item not in mutant.definition.spec.records_on_open
                continue
            assert item in getattr(step(original, mutant.target), field), mutant.id
            assert item not in getattr(step(mutant.definition, mutant.target, original), field), mutant.id
    for original, mutant in mutants(sets, "condition_part_dropped"):
        before, after = (_condition(d, mutant.target, original) for d in (original, mutant.definition))
        assert len(walk(after)) < len(walk(before)), mutant.id


def _condition(defn: Definition, target: str, original: Definition | None = None) -> Condition:
    if target in labels(original or defn):
        found = step(defn, target, original).when
    else:
        deadlines = {d.id: d.when for node in defn.nodes.values() for d in node.spec.deadlines}
        criteria = {c.id: c.when for c in (defn.spec.escalation.criteria if defn.spec.escalation else [])}
        found = deadlines[target] if target in deadlines else criteria[target]
    assert found is not None
    return found


def _length(within: str) -> datetime:
    start = datetime(2019, 4, 1, 9, tzinfo=TOKYO)
    if within == "same_day":
        return start.replace(hour=23, minute=59)
    result: datetime = start + parse_duration(within)
    return result


def test_deadlines_dropped_or_lengthened(sets: Sets) -> None:
    for _, mutant in mutants(sets, "deadline_dropped"):
        assert mutant.target not in {d.id for n in mutant.definition.nodes.values() for d in n.spec.deadlines}
    for original, mutant in mutants(sets, "deadline_lengthened"):
        was, now = ({d.id: d for n in defn.nodes.values() for d in n.spec.deadlines}[mutant.target]
                    for defn in (original, mutant.definition))
        if was.every is None:
            assert _length(now.within) > _length(was.within), mutant.id
        else:  # a recurring one recurs less often: a longer period, or the same with a wider window of months
            assert _coarseness(now) > _coarseness(was), mutant.id


def _coarseness(deadline: Any) -> tuple[int, int]:
    rank = ("month", "term", "year").index(deadline.every) if deadline.every else 3
    return rank, len(deadline.months) if deadline.months else 12


def test_period_shortened_lets_resolve_happen_sooner(sets: Sets) -> None:
    found = 0
    for original, mutant in mutants(sets, "period_shortened"):
        stopped = date(2019, 6, 3)
        facts = {"act_stopped_on": stopped, "victim_distress": False}
        day = datetime(2019, 7, 10, 12, tzinfo=TOKYO)  # five weeks on: not 3 months, more than 1 month
        before, after = (_condition(d, mutant.target, original) for d in (original, mutant.definition))
        ctx = EvalContext(facts=facts, at=day, tz=TOKYO)
        assert not holds(before, ctx) and holds(after, ctx), mutant.id
        assert sum(isinstance(c, Since) for c in walk(after)) <= sum(isinstance(c, Since) for c in walk(before))
        found += 1
    assert found == 2


def test_criteria_removed_or_loosened_no_longer_escalate_what_they_left_out(sets: Sets) -> None:
    for _, mutant in mutants(sets, "criterion_removed"):
        assert mutant.definition.spec.escalation is not None
        assert mutant.target not in {c.id for c in mutant.definition.spec.escalation.criteria}
    checked = 0
    for original, mutant in mutants(sets, "criterion_loosened"):
        assert original.spec.escalation and mutant.definition.spec.escalation
        was = next(c for c in original.spec.escalation.criteria if c.id == mutant.target)
        now = next(c for c in mutant.definition.spec.escalation.criteria if c.id == mutant.target)
        detail = mutant.id.split(":")[-1]
        if detail.startswith("without_"):
            assert isinstance(was.when, FactIs) and now.when is not None
            value = detail.removeprefix("without_")
            fact = original.spec.facts[was.when.fact]
            facts = {was.when.fact: frozenset({value}) if fact.many else value}
            ctx = EvalContext(facts=facts, at=datetime(2019, 5, 7, tzinfo=TOKYO), tz=TOKYO)
            assert holds(was.when, ctx) and not holds(now.when, ctx), mutant.id
            for other in set(fact.values or []) - {value}:  # every other value still escalates
                ctx.facts = {was.when.fact: frozenset({other}) if fact.many else other}
                assert holds(now.when, ctx), (mutant.id, other)
            checked += 1
        else:
            rule_was, rule_now = (c.absence or c.absence_run for c in (was, now))
            assert rule_was is not None and rule_now is not None and rule_now.days > rule_was.days, mutant.id
    assert checked >= 7


def test_thresholds_moved_by_one_the_loosening_way_and_absence_never_lowered(sets: Sets) -> None:
    ids = set()
    for original, mutant in mutants(sets, "threshold_moved"):
        ids.add(mutant.id)
        if mutant.target in labels(original):
            was, now = ([c for c in walk(_condition(d, mutant.target, original)) if isinstance(c, FactIs)]
                        for d in (original, mutant.definition))
            moved = [(a, b) for a, b in zip(was, now, strict=True) if a != b]
            assert len(moved) == 1 and abs(moved[0][1].operand - moved[0][0].operand) == 1, mutant.id
    assert "threshold_moved:form_organisation:third_party_members.gte.0" in ids
    # escalating sooner than the guide's 30 days conforms (the workflow may set the number): not a mutant
    assert not any(i.startswith(("threshold_moved:absence_30_days", "threshold_moved:absence_run")) for i in ids)


def test_escalation_automatic_calendar_and_returns(sets: Sets) -> None:
    for _, mutant in mutants(sets, "escalation_removed"):
        assert mutant.definition.spec.escalation is None
    for original, mutant in mutants(sets, "automatic_dropped"):
        was, now = step(original, mutant.target), step(mutant.definition, mutant.target, original)
        assert was.automatic and not now.automatic and now.roles, mutant.id
    for original, mutant in mutants(sets, "calendar_changed"):
        before, after = original.spec.calendar, mutant.definition.spec.calendar
        assert ((after.weekends == [] and before.weekends) or (after.closures == [] and before.closures)
                or (after.national_holidays is False and before.national_holidays is not False)), mutant.id
    for original, mutant in mutants(sets, "return_target_moved"):
        state = mutant.id.split(":")[-1]
        assert step(mutant.definition, mutant.target, original).to == state != step(original, mutant.target).to, mutant.id
    assert "return_target_moved:report_recurrence:facts_confirmed" in {m.id for _, m in mutants(sets)}


# -- a small workflow: equivalent copies, choosing kinds, the escalation target ------------------------

TINY = """\
id: tiny
version: "1"
title: {ja: 小さな手順, en: Tiny}
source: test
roles:
  staff: {ja: 教職員}
  principal: {ja: 校長, includes: [staff]}
facts:
  ok: {type: bool, ja: よい}
opened_by: [staff]
initial: a
states:
  a: {ja: 始め, source: "1"}
  b: {ja: 途中, source: "1"}
  c: {ja: 終わり, source: "1", final: true}
transitions:
  - {trigger: go, ja: 進む, source: "1", from: a, to: b, roles: [principal],
     when: {all: [{fact: ok, equals: true}, {fact: ok, equals: true}]}}
  - {trigger: finish, ja: 終える, source: "1", from: b, to: c, roles: [principal]}
"""


def test_copies_equal_to_an_earlier_one_are_equivalent() -> None:
    found = make_mutants(TINY, kinds=["condition_part_dropped", "role_widened", "role_moved_down"])
    ids = [m.id for m in found.mutants]
    # dropping either of two equal parts makes the same workflow: the second is equivalent
    assert "condition_part_dropped:go:ok.equals.true" in ids
    assert "condition_part_dropped:go:ok.equals.true~2" in found.equivalent
    # [principal] -> [staff] allows who [principal, staff] allows: equivalent to role_widened's copy
    assert "role_widened:go:staff" in ids and "role_moved_down:go:principal:staff" in found.equivalent
    assert {m.kind for m in found.mutants} <= {"condition_part_dropped", "role_widened"}


def test_kinds_are_chosen_and_checked() -> None:
    found = make_mutants(TINY, kinds=["source_added"])
    assert {m.kind for m in found.mutants} == {"source_added"}
    assert {m.id for m in found.mutants} == {"source_added:finish:a", "source_added:go:any", "source_added:finish:any"}
    with pytest.raises(ValueError, match="unknown mutant kind"):
        make_mutants(TINY, kinds=["no_such_kind"])


def test_the_escalation_target_is_checked_against_others(texts: dict[str, str]) -> None:
    # alone (others=None) the target is not checked, as load_text does not; with others it must be there
    assert make_mutants(texts["response"], kinds=["escalation_removed"]).mutants
    with pytest.raises(DefinitionError, match="escalation-target"):
        make_mutants(texts["response"], others={}, kinds=["escalation_removed"])


def test_ids_are_stable(texts: dict[str, str]) -> None:
    kinds = ["role_widened", "source_added", "condition_part_dropped"]
    first = make_mutants(texts["serious_incident"], kinds=kinds)
    again = make_mutants(texts["serious_incident"], kinds=kinds)
    assert [m.id for m in first.mutants] == [m.id for m in again.mutants]
    assert [m.definition.sha256 for m in first.mutants] == [m.definition.sha256 for m in again.mutants]
