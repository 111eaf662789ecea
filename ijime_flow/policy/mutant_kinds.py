"""The kinds of mutant: each generator yields the one-thing changes of its kind (:class:`.mutant_context.Candidate`)
that the original workflow offers. Nothing is validated here: :func:`.mutants.make_mutants` loads each copy.

What each kind offers, and how it is kept to changes that break a rule (not every change one could make):

- ``role_widened``: a step gets a role that may not take it, among the roles at work where the step can be
  taken (:meth:`.Context.present`); a chain of offices is offered by its lowest (staff, which gives the step
  to administrators and principals too); a step staff may already take is left alone. A fact with ``roles``
  loses them (``:any``) or gets a role; ``opened_by`` gets a role.
- ``role_moved_down``: a step's role replaced by each role it includes, and the board's by the principal,
  the mayor's by the board (who reports to them).
- ``source_added`` (steps that move the case) and ``action_source_added`` (internal actions): a source state
  earlier in the order of the states (:meth:`.Context.earlier`: the two nearest distances back, and the
  initial state for moves); a move to a top-level state also from ``"*"``.
- ``return_target_moved``: a step that goes back (a recurrence, a re-investigation) goes to a later state.
- ``condition_dropped``, ``condition_part_dropped``: a step's ``when`` removed; one part of an ``all`` /
  ``any`` removed, in a step's, a deadline's or a criterion's condition.
- ``requires_dropped``, ``records_dropped``, ``clears_dropped``: one entry removed (``records_on_open`` too).
- ``deadline_dropped``, ``deadline_lengthened`` (same_day → P3D, a duration × 3; a recurring deadline one step
  coarser: every month → every term → every year, a ``months`` window widened by a month or removed:
  :mod:`.mutant_deadlines`).
- ``period_shortened``: an ``at_least`` to a third (at least one unit), or the wait removed (the fact only
  needs to be recorded).
- ``criterion_removed``; ``criterion_loosened``: an enum criterion left without one value (one mutant per
  value), absence days raised by a third; a ``rolling_365`` window made ``school_year`` (the other way round
  would be more sensitive, not less, so it is not offered).
- ``threshold_moved``: a number compared with moved by one the loosening way.
- ``escalation_removed``; ``automatic_dropped`` (an automatic step made staff's, a final state not final);
  ``calendar_changed`` (weekends, closures or national holidays dropped, when a run of absence counts school days).

Conditions are read with a *polarity*: a step's ``when`` allows the step when it holds (loosening it makes
it hold more often), a criterion's or a deadline's ``when`` starts something when it holds (loosening it
makes it hold less often); ``not`` turns the polarity round.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from ..language.conditions import AllOf, AnyOf, Condition, FactIs, Since, describe
from .mutant_context import (
    Candidate,
    Context,
    DocPath,
    append,
    condition_nodes,
    condition_places,
    drop,
    edits,
    put,
    same_activity,
    third,
)
from .mutant_deadlines import deadline_dropped, deadline_lengthened
from .mutant_links import opens_dropped


class KindLabel(NamedTuple):
    ja: str
    en: str


KIND_LABELS: dict[str, KindLabel] = {
    "role_widened": KindLabel("操作・記録・事案の開始を許す役割を広げる",
                              "a step, a fact or opening a case allowed to more roles"),
    "role_moved_down": KindLabel("操作を下位の職に任せる（校長→管理職→教職員、教育委員会→校長）",
                                 "a step given to the office below (principal → administrator → staff, board → principal)"),
    "source_added": KindLabel("手順を飛ばせるようにする（前の段階からも進める）",
                              "a step allowed from an earlier state, so steps in between can be skipped"),
    "action_source_added": KindLabel("記録する操作を方針より早い段階から行えるようにする",
                                     "an action allowed at an earlier stage than the policy says"),
    "return_target_moved": KindLabel("戻る先を後の段階にする（再発・再調査で手順をやり直さない）",
                                     "a step that goes back goes back less far (recurrence, re-investigation)"),
    "condition_dropped": KindLabel("操作の条件を外す", "a step's condition removed"),
    "condition_part_dropped": KindLabel("条件の一部を外す", "one part of a condition removed"),
    "requires_dropped": KindLabel("操作に必要な記入項目を一つ外す", "one data field a step requires removed"),
    "records_dropped": KindLabel("操作（事案の開始）で記録する事実を一つ外す",
                                 "one fact a step (or opening a case) records removed"),
    "clears_dropped": KindLabel("操作で消去する事実を一つ残す（再発しても解消の要件が残る）",
                                "one fact a step clears is kept instead"),
    "deadline_dropped": KindLabel("期限を外す", "a deadline removed"),
    "deadline_lengthened": KindLabel("期限を延ばす（即日→3日、期間は3倍、毎月→毎学期→毎年、月の指定を広げる・外す）",
                                     "a deadline lengthened (same day → 3 days, a duration tripled; monthly → termly →"
                                     " yearly, a months window widened or removed)"),
    "period_shortened": KindLabel("待つ期間を短くする（3か月→1か月）、またはなくす",
                                  "a waiting period shortened (P3M → P1M) or removed"),
    "criterion_removed": KindLabel("重大事態の要件を一つ外す", "one serious-incident criterion removed"),
    "criterion_loosened": KindLabel("重大事態の要件を緩める（被害の種類を一つ除く、日数を増やす）",
                                    "a serious-incident criterion made less sensitive (one kind left out, more days)"),
    "threshold_moved": KindLabel("条件の数の基準を緩める方へずらす（第三者1人以上→0人以上）",
                                 "a number a condition compares with moved the loosening way (one third-party member → none)"),
    "escalation_removed": KindLabel("重大事態へのエスカレーションをなくす",
                                    "escalation to the serious-incident workflow removed"),
    "automatic_dropped": KindLabel("自動の手順を人の操作にする／終了状態を終了でなくする",
                                   "an automatic step made a person's step; a final state made not final"),
    "calendar_changed": KindLabel("学校の暦を変える（週末・祝日・休業日で連続欠席が途切れる）",
                                  "school calendar changed (weekends, holidays or closures break a run of absence)"),
    "opens_dropped": KindLabel("事案を開く操作が開かない／開く事案に事実を記録しない",
                               "a step that opens a linked case opens none, or without a fact it gives it"),
}
MUTANT_KINDS: tuple[str, ...] = tuple(KIND_LABELS)

# the office directly below, beyond what ``includes`` says: who reports to whom in the procedure
# (the principal reports to the board, the board to the mayor)
REPORTS_TO_IT = {"board": "principal", "mayor": "board"}
Generator = Callable[[Context], Iterator[Candidate]]


def _role_widened(ctx: Context) -> Iterator[Candidate]:
    kind = "role_widened"
    for i, t, name in ctx.steps():
        allowed = ctx.allowed(t.roles)
        if allowed & ctx.bottom_offices:
            continue  # open to every teacher already
        present = ctx.present(t)
        for role in ctx.widen(allowed, (r for r in ctx.used_roles if r in present)):
            ja, en = ctx.role(role)
            yield Candidate(kind, name, (name, role), f"「{name}」を{ja}にも許す", f"'{name}' also allowed to {en}",
                            append(("transitions", i, "roles"), role))
    for fact, spec in ctx.spec.facts.items():
        if spec.roles is None:
            continue
        yield Candidate(kind, fact, ("fact", fact, "any"), f"事実「{fact}」をどの役割でも記録できるようにする（roles を外す）",
                        f"fact '{fact}' may be recorded by any role (roles removed)", drop(("facts", fact, "roles")))
        for role in ctx.widen(ctx.allowed(spec.roles), ctx.used_roles):
            ja, en = ctx.role(role)
            yield Candidate(kind, fact, ("fact", fact, role), f"事実「{fact}」の記録を{ja}にも許す",
                            f"fact '{fact}' may also be recorded by {en}", append(("facts", fact, "roles"), role))
    allowed = ctx.allowed(ctx.spec.opened_by)
    for role in [] if allowed & ctx.bottom_offices else ctx.widen(allowed, ctx.used_roles):
        ja, en = ctx.role(role)
        yield Candidate(kind, "opened_by", ("opened_by", role), f"事案を開くことを{ja}にも許す",
                        f"{en} may also open a case", append(("opened_by",), role))


def _lower_offices(ctx: Context, role: str) -> list[str]:
    lower = list(ctx.spec.roles[role].includes)
    extra = REPORTS_TO_IT.get(role)
    if extra in ctx.spec.roles and extra not in ctx.defn.role_closure({role}):
        lower.append(extra)
    return lower


def _role_moved_down(ctx: Context) -> Iterator[Candidate]:
    for i, t, name in ctx.steps():
        for role in t.roles:
            for low in _lower_offices(ctx, role):
                roles = list(dict.fromkeys(low if r == role else r for r in t.roles))
                (ja, en), (low_ja, low_en) = ctx.role(role), ctx.role(low)
                yield Candidate("role_moved_down", name, (name, role, low),
                                f"「{name}」を{ja}ではなく{low_ja}が行う", f"'{name}' taken by {low_en} instead of {en}",
                                put(("transitions", i, "roles"), roles))


def _source_added(ctx: Context) -> Iterator[Candidate]:
    for i, t, name in ctx.steps():
        if t.to is None or "*" in t.from_:
            continue
        for state in ctx.earlier(t.from_):
            yield Candidate("source_added", name, (name, state),
                            f"「{name}」を「{state}」からも行えるようにする（途中の手順を飛ばせる）",
                            f"'{name}' also allowed from '{state}' (the steps in between can be skipped)",
                            put(("transitions", i, "from"), [*t.from_, state]))
        if ctx.top_level(t.to):
            yield Candidate("source_added", name, (name, "any"), f"「{name}」をどの状態からでも行えるようにする（from: \"*\"）",
                            f"'{name}' allowed from any open state (from: \"*\")", put(("transitions", i, "from"), "*"))


def _action_source_added(ctx: Context) -> Iterator[Candidate]:
    for i, t, name in ctx.steps():
        if t.to is not None or "*" in t.from_:
            continue
        for state in ctx.earlier(t.from_, with_start=False):
            if any(same_activity(ctx.defn, state, source) for source in t.from_):
                continue  # a parallel state is active exactly when each of its regions is: nothing changes
            yield Candidate("action_source_added", name, (name, state),
                            f"操作「{name}」を早い段階「{state}」でも行えるようにする",
                            f"action '{name}' also allowed at the earlier stage '{state}'",
                            put(("transitions", i, "from"), [*t.from_, state]))


def _return_target_moved(ctx: Context) -> Iterator[Candidate]:
    for i, t, name in ctx.steps():
        if t.to is None:
            continue
        for state in ctx.later(t.from_, t.to):
            yield Candidate("return_target_moved", name, (name, state),
                            f"「{name}」で「{t.to}」ではなく「{state}」に戻る（その間の手順をやり直さない）",
                            f"'{name}' goes back to '{state}' instead of '{t.to}' (the steps in between are not redone)",
                            put(("transitions", i, "to"), state))


# -- conditions -------------------------------------------------------------------------------------

def _words(ctx: Context, cond: Condition) -> tuple[str, str]:
    return describe(cond, lambda fact: ctx.defn.fact_labels.get(fact, fact))


def _token(cond: Condition, j: int) -> str:
    """A short ASCII name of a part of a condition, for ids (its index when nothing shorter names it)."""
    if isinstance(cond, FactIs):
        value = cond.operand
        if cond.op == "is_set" or isinstance(value, bool | int | float):
            return f"{cond.fact}.{cond.op}.{str(value).lower()}"
        ident = isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9_]*", value)
        return f"{cond.fact}.{cond.op}.{value}" if ident else f"{cond.fact}.{cond.op}.{j}"
    if isinstance(cond, Since):
        return f"since.{cond.since}"
    return f"part{j}"


def _condition_dropped(ctx: Context) -> Iterator[Candidate]:
    for i, t, name in ctx.steps():
        if t.when is not None:
            ja, en = _words(ctx, t.when)
            yield Candidate("condition_dropped", name, (name,), f"「{name}」の条件（{ja}）を外す",
                            f"'{name}' no longer needs its condition ({en})", drop(("transitions", i, "when")))


def _condition_part_dropped(ctx: Context) -> Iterator[Candidate]:
    for target, where, when, polarity in condition_places(ctx):
        for path, cond, _ in condition_nodes(when, where, polarity):
            if not isinstance(cond, AllOf | AnyOf):
                continue
            parts, key = (cond.all, "all") if isinstance(cond, AllOf) else (cond.any, "any")
            if len(parts) < 2:
                continue
            for j, part in enumerate(parts):
                ja, en = _words(ctx, part)
                which_ja, which_en = ("", "") if key == "all" else ("（いずれか）", " (one of)")
                yield Candidate("condition_part_dropped", target, (target, _token(part, j)),
                                f"「{target}」の条件{which_ja}から次を外す: {ja}",
                                f"'{target}': removed from its condition{which_en}: {en}",
                                drop((*path, key, j)))


def _period_shortened(ctx: Context) -> Iterator[Candidate]:
    for target, where, when, polarity in condition_places(ctx):
        for path, cond, _ in condition_nodes(when, where, polarity):
            if not isinstance(cond, Since):
                continue
            shorter = third(cond.at_least)
            if shorter is not None:
                yield Candidate("period_shortened", target, (target, cond.since, shorter),
                                f"「{target}」の「{cond.since}」からの期間を {cond.at_least} から {shorter} に短くする",
                                f"'{target}': the period since '{cond.since}' shortened from {cond.at_least} to {shorter}",
                                put((*path, "at_least"), shorter))
            yield Candidate("period_shortened", target, (target, cond.since, "none"),
                            f"「{target}」で期間（{cond.at_least}）を待たず「{cond.since}」の記録だけで足りるようにする",
                            f"'{target}': '{cond.since}' only needs to be recorded (no {cond.at_least} wait)",
                            put(path, {"fact": cond.since, "is_set": True}))


def _threshold_moved(ctx: Context) -> Iterator[Candidate]:
    for target, where, when, polarity in condition_places(ctx):
        for path, cond, sign in condition_nodes(when, where, polarity):
            value = cond.operand if isinstance(cond, FactIs) and cond.op in ("lt", "lte", "gt", "gte") else None
            if isinstance(value, bool) or not isinstance(value, int | float) or not isinstance(cond, FactIs):
                continue
            step = (-1 if cond.op in ("gt", "gte") else 1) * sign  # the direction that makes a step easier to take
            moved = value + step
            yield Candidate("threshold_moved", target, (target, f"{cond.fact}.{cond.op}.{moved}"),
                            f"「{target}」の基準「{cond.fact}」{cond.op} {value} を {moved} にする",
                            f"'{target}': '{cond.fact}' {cond.op} {value} moved to {moved}", put((*path, cond.op), moved))
    # absence days are not lowered: escalating sooner than the guide's 30 days (or a run shorter than
    # the local rule) protects more, and the policy lets the workflow set the number; raising them is
    # criterion_loosened


# -- data --------------------------------------------------------------------------------

def _data_dropped(field: str, ja_what: str, en_what: str) -> Generator:
    kind = f"{field}_dropped"

    def generate(ctx: Context) -> Iterator[Candidate]:
        for i, t, name in ctx.steps():
            for j, item in enumerate(getattr(t, field)):
                yield Candidate(kind, name, (name, item), f"「{name}」で{ja_what}「{item}」を外す",
                                f"'{name}' no longer {en_what} '{item}'", drop(("transitions", i, field, j), prune=True))
        if field == "records":
            for j, item in enumerate(ctx.spec.records_on_open):
                yield Candidate(kind, item, ("records_on_open", item), f"事案を開くときに事実「{item}」を記録しなくてよくする",
                                f"a case may be opened without fact '{item}'", drop(("records_on_open", j), prune=True))
    return generate


# -- escalation, automatic steps, the calendar ---------------------------------------------------------

def _criterion_removed(ctx: Context) -> Iterator[Candidate]:
    for k, criterion in enumerate(ctx.spec.escalation.criteria if ctx.spec.escalation else []):
        yield Candidate("criterion_removed", criterion.id, (criterion.id,),
                        f"重大事態の要件「{criterion.id}」（{criterion.ja}）を外す", f"criterion '{criterion.id}' removed",
                        drop(("escalation", "criteria", k)))


def _criterion_loosened(ctx: Context) -> Iterator[Candidate]:
    kind = "criterion_loosened"
    for k, criterion in enumerate(ctx.spec.escalation.criteria if ctx.spec.escalation else []):
        here: DocPath = ("escalation", "criteria", k)
        cid, when = criterion.id, criterion.when
        fact = ctx.spec.facts.get(when.fact) if isinstance(when, FactIs) and when.op == "is_set" and when.is_set else None
        if isinstance(when, FactIs) and fact is not None and fact.type == "enum":
            values = fact.values or []
            for v, value in enumerate(values):
                rest = [x for x in values if x != value]
                if rest:
                    yield Candidate(kind, cid, (cid, f"without_{value}" if value.isascii() else f"without_{v}"),
                                    f"重大事態の要件「{cid}」から「{value}」を除く（その場合はエスカレーションしない）",
                                    f"criterion '{cid}' no longer met by '{value}'",
                                    put((*here, "when"), _one_of(when.fact, rest, fact.many)))
        for key, rule in (("absence", criterion.absence), ("absence_run", criterion.absence_run)):
            if rule is None:
                continue
            raised = max(rule.days + 1, math.ceil(rule.days * 4 / 3))
            yield Candidate(kind, cid, (cid, f"days.{raised}"),
                            f"重大事態の要件「{cid}」の欠席日数を {rule.days} 日から {raised} 日に増やす",
                            f"criterion '{cid}': absent days raised from {rule.days} to {raised}",
                            put((*here, key, "days"), raised))
        if criterion.absence is not None and criterion.absence.window == "rolling_365":  # school_year is the narrower window
            yield Candidate(kind, cid, (cid, "school_year"),
                            f"重大事態の要件「{cid}」の欠席を年度ごとに数える（年度をまたぐと数えない）",
                            f"criterion '{cid}' counts absences per school year only",
                            put((*here, "absence", "window"), "school_year"))


def _one_of(fact: str, values: list[str], many: bool) -> dict[str, Any]:
    if many:
        parts: list[dict[str, Any]] = [{"fact": fact, "contains": v} for v in values]
        return parts[0] if len(parts) == 1 else {"any": parts}
    return {"fact": fact, "equals": values[0]} if len(values) == 1 else {"fact": fact, "in": values}


def _escalation_removed(ctx: Context) -> Iterator[Candidate]:
    if ctx.spec.escalation is not None:
        to = ctx.spec.escalation.to
        yield Candidate("escalation_removed", "escalation", ("escalation", to), f"「{to}」へのエスカレーションをなくす",
                        f"no escalation to '{to}'", drop(("escalation",)))


def _automatic_dropped(ctx: Context) -> Iterator[Candidate]:
    kind = "automatic_dropped"
    person = "staff" if "staff" in ctx.spec.roles else ctx.used_roles[0] if ctx.used_roles else next(iter(ctx.spec.roles))
    ja, en = ctx.role(person)
    for i, _, name in ctx.steps(automatic=True):
        yield Candidate(kind, name, (name,), f"自動の手順「{name}」を{ja}の操作にする（いつでも人が進められる）",
                        f"automatic step '{name}' made a step taken by {en}, at any time",
                        edits(drop(("transitions", i, "automatic")), put(("transitions", i, "roles"), [person])))
    for path, node in ctx.defn.nodes.items():
        if node.final:
            yield Candidate(kind, path, ("final", path), f"終了状態「{path}」を終了でなくする", f"state '{path}' no longer final",
                            drop((*ctx.docs[path], "final")))


def _calendar_changed(ctx: Context) -> Iterator[Candidate]:
    criteria = ctx.spec.escalation.criteria if ctx.spec.escalation else []
    if not any(c.absence_run is not None for c in criteria):
        return  # only a run of absence is counted in school days
    calendar = ctx.spec.calendar
    if calendar.weekends:
        yield Candidate("calendar_changed", "calendar", ("calendar", "weekends"),
                        "週末を登校日として扱う（週末で連続欠席が途切れる）",
                        "weekends counted as school days (a weekend breaks a run of absence)", put(("calendar", "weekends"), []))
    if calendar.closures:
        yield Candidate("calendar_changed", "calendar", ("calendar", "closures"),
                        "休業日の一覧をなくす（祝日で連続欠席が途切れる）",
                        "closure days removed (a holiday breaks a run of absence)", put(("calendar", "closures"), []))
    if calendar.national_holidays is not False:  # national holidays come from the holidays package, not a list
        yield Candidate("calendar_changed", "calendar", ("calendar", "national_holidays"),
                        "国民の祝日を登校日として扱う（祝日で連続欠席が途切れる）",
                        "national holidays counted as school days (a holiday breaks a run of absence)",
                        put(("calendar", "national_holidays"), False))


GENERATORS: dict[str, Generator] = {
    "role_widened": _role_widened, "role_moved_down": _role_moved_down, "source_added": _source_added,
    "action_source_added": _action_source_added, "return_target_moved": _return_target_moved,
    "condition_dropped": _condition_dropped, "condition_part_dropped": _condition_part_dropped,
    "requires_dropped": _data_dropped("requires", "記入項目", "requires"),
    "records_dropped": _data_dropped("records", "記録する事実", "records"),
    "clears_dropped": _data_dropped("clears", "消去する事実", "clears"),
    "deadline_dropped": deadline_dropped, "deadline_lengthened": deadline_lengthened, "period_shortened": _period_shortened,
    "criterion_removed": _criterion_removed, "criterion_loosened": _criterion_loosened, "threshold_moved": _threshold_moved,
    "escalation_removed": _escalation_removed, "automatic_dropped": _automatic_dropped, "calendar_changed": _calendar_changed,
    "opens_dropped": opens_dropped,
}
assert tuple(GENERATORS) == MUTANT_KINDS
