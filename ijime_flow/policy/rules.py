"""Policy rules as data: what a workflow must (義務) or should (望ましい) do, whatever its shape.

A rule file is YAML, in the workflow language's conventions (ids ASCII snake_case, wording in ``ja``
first, ``en`` beside it, ``source`` the policy bullet). Each rule is one of these kinds::

    rules_for: response                      # the workflow id the rules apply to
    rules:
      - id: board_report_by_principal
        ja: 教育委員会への報告は校長が行う
        source: "4(2)"
        level: must                          # must (義務: するものとする, the default) | should (望ましい)
        only_roles: {trigger: report_to_board, roles: [principal]}   # or {fact: F, roles: [...]}
      - only_after: {trigger: start_fact_finding, after: report_to_administrator, reset_by: []}
      - needs_data: {trigger: confirm_facts, data: [bullying_recognised]}   # or {opening: true, data: [school_year]}
      - only_when: {trigger: resolve, when: {all: [{since: act_stopped_on, at_least: P3M},
                                                  {fact: victim_distress, equals: false}]}}
      - deadline: {state: discovered, met_by: report_to_administrator, within: same_day}
      - deadline: {state: in_year, met_by: hold_committee_meeting, every: month}   # recurs (months: [9]: September)
      - escalates: {fact: serious_harm, value: injury}       # or {absence_days: 30} / {absence_run: 7}
      - clears: {trigger: report_recurrence, fact: victim_distress}
      - reaches_final: true

``after`` names a trigger or a state; a role includes the roles it includes (a principal is also
administrator and staff), so ``only_roles: [principal]`` refuses everyone whose roles do not reach
the principal. :func:`load_rules` reads a file and says what is wrong where (file:line:col), as the
workflow loader does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError, model_validator

from .. import bundled
from ..errors import DefinitionError, Problem
from ..language.condition_models import Condition, Scalar
from ..language.loader import _validation_problems
from ..language.models import Ident, StatePath
from ..language.yaml_source import parse

BUNDLED_RULES = bundled.path("rules")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


Triggers = Ident | list[Ident]


def as_list(value: str | list[str] | None) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


class OnlyRoles(_Model):
    """Only these roles (and roles that include one of them) may fire ``trigger`` (one or a list;
    ``from``: when taken from this state), record ``fact``, or open a case (``opening: true``).
    ``roles: []``: nobody — the engine takes the step by itself (``automatic``)."""

    trigger: Triggers | None = None
    fact: Ident | None = None
    opening: StrictBool = False
    source: StatePath | None = Field(default=None, alias="from")
    roles: list[Ident]

    @model_validator(mode="after")
    def _one_target(self) -> OnlyRoles:
        if sum((self.trigger is not None, self.fact is not None, self.opening)) != 1:
            raise ValueError("only_roles には trigger・fact・opening のどれか一つを書いてください / give exactly one of"
                             " 'trigger', 'fact' or 'opening: true'")
        if self.fact is not None and not self.roles:
            raise ValueError("事実を記録できる役割を一つ以上書いてください / name at least one role that records the fact")
        return self


class MayAct(_Model):
    """Each of these roles can take ``trigger`` somewhere (``from``: from this state): the office the
    policy names keeps the step, it is not handed to another."""

    trigger: Ident
    roles: list[Ident] = Field(min_length=1)
    source: StatePath | None = Field(default=None, alias="from")


class OnlyAfter(_Model):
    """``trigger`` (one or a list) is refused until one of ``after`` (a trigger fired or a state
    entered) has happened — since the last of ``reset_by`` (e.g. a recurrence), when given — unless
    ``unless`` holds (e.g. closing without 解消 when bullying was not recognised)."""

    trigger: Triggers
    after: StatePath | list[StatePath]
    reset_by: list[Ident] = Field(default_factory=list)
    unless: Condition | None = None


class NotAfter(_Model):
    """``trigger`` (one or a list) is refused once ``after`` has happened (since the last of
    ``reset_by``): the procedure does not go back."""

    trigger: Triggers
    after: StatePath | list[StatePath]
    reset_by: list[Ident] = Field(default_factory=list)


class NeedsData(_Model):
    """``trigger`` is refused without each of ``data`` (recorded facts or required fields); with ``opening: true``,
    opening a case is refused without each of the facts ``data`` (the school year a year's record is for)."""

    trigger: Ident | None = None
    opening: StrictBool = False
    data: list[Ident] = Field(min_length=1)
    when: Condition | None = Field(default=None, description="only where this holds")
    source: StatePath | None = Field(default=None, alias="from",
                                     description="only when taken from this state (e.g. closing without a response)")

    @model_validator(mode="after")
    def _one_target(self) -> NeedsData:
        if (self.trigger is None) == (not self.opening):
            raise ValueError("needs_data には trigger か opening: true のどちらか一つを書いてください / give exactly one of"
                             " 'trigger' or 'opening: true'")
        if self.opening and (self.when is not None or self.source is not None):
            raise ValueError("事案を開くときの記録に when・from は書けません / 'when' and 'from' are not for opening")
        return self


class OnlyWhen(_Model):
    """``trigger`` is refused unless ``when`` holds (on the facts as they stand after its own data)."""

    trigger: Ident
    when: Condition


class DeadlineRule(_Model):
    """Entering ``state`` starts a deadline met by ``met_by`` (one step or a list: only by these), due ``within``
    at the latest — or, with ``every``
    (``month``, ``term``, ``year``; ``months``: only these months, as a workflow's recurring deadline reads
    them), one that recurs at least that often: every period of the rule (a term: one of the workflow's
    ``calendar.terms``) holds a whole period of a deadline the workflow starts there, met by ``met_by``.
    So a monthly deadline is as strict as a termly one, September as strict as September–October."""

    state: StatePath
    met_by: Triggers = Field(description="the step (or steps) that meet it: a deadline another step meets as well does"
                                         " not count (that step would do instead)")
    within: str | None = Field(default=None, description="same_day or an ISO 8601 duration: the longest the policy allows")
    every: Literal["month", "term", "year"] | None = Field(default=None, description="recurs at least once per period")
    months: list[Annotated[int, Field(ge=1, le=12)]] | None = Field(
        default=None, description="with every: month or year, only these months (a year: from the first to the last)")

    @model_validator(mode="after")
    def _one_measure(self) -> DeadlineRule:
        if (self.within is None) == (self.every is None):
            raise ValueError("期限には within（即日・期間）か every（month・term・year）のどちらか一つを書いてください"
                             " / give exactly one of 'within' (same_day, a duration) or 'every' (month, term, year)")
        if self.months is not None and self.every not in ("month", "year"):
            raise ValueError("months は every: month か every: year と書きます / 'months' goes with every: month or year")
        if self.months is not None and (not self.months or len(set(self.months)) != len(self.months)):
            raise ValueError("months には各月（1〜12）を一度ずつ書きます / 'months' lists each month (1-12) once")
        return self


class Escalates(_Model):
    """Recording this opens a linked serious-incident case: ``fact`` (with ``value``), or
    ``absence_days`` absent school days within one school year, or a run of ``absence_run``
    consecutive absent school days."""

    fact: Ident | None = None
    value: Scalar | None = None
    absence_days: StrictInt | None = Field(default=None, ge=1, le=366)
    absence_run: StrictInt | None = Field(default=None, ge=1, le=366)
    absence_fact: Ident = "absence"
    start: date | None = Field(default=None, description="the first absent day (default: the day the case opens)")
    closed: list[date] = Field(default_factory=list,
                               description="days that are never school days (national holidays): with them the"
                                           " absences are recorded Monday to Friday except these, whatever the"
                                           " workflow's calendar says")

    @model_validator(mode="after")
    def _one_kind(self) -> Escalates:
        if sum(x is not None for x in (self.fact, self.absence_days, self.absence_run)) != 1:
            raise ValueError("escalates には fact・absence_days・absence_run のどれか一つを書いてください / give"
                             " exactly one of 'fact', 'absence_days', 'absence_run'")
        return self


class Clears(_Model):
    """After ``trigger`` the fact ``fact`` is no longer recorded (it must be found again)."""

    trigger: Ident
    fact: Ident


class OpensRule(_Model):
    """Taking ``trigger`` opens a linked case of ``workflow`` (the step's ``opens:``), recording at least these
    facts on it (e.g. a survey's concern: ``discovered_through: school_survey``)."""

    trigger: Ident
    workflow: Ident
    facts: dict[Ident, Scalar] = Field(default_factory=dict)


class Rule(_Model):
    id: Ident
    ja: str = Field(min_length=1)
    en: str | None = None
    source: str = Field(min_length=1, description="policy section, e.g. 4(2)")
    level: Literal["must", "should"] = "must"
    only_roles: OnlyRoles | None = None
    may_act: MayAct | None = None
    only_after: OnlyAfter | None = None
    not_after: NotAfter | None = None
    needs_data: NeedsData | None = None
    only_when: OnlyWhen | None = None
    deadline: DeadlineRule | None = None
    escalates: Escalates | None = None
    clears: Clears | None = None
    opens: OpensRule | None = None
    reaches_final: StrictBool | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Rule:
        kinds = [k for k in RULE_KINDS if getattr(self, k) not in (None, False)]
        if len(kinds) != 1:
            raise ValueError(f"規則には種類を一つだけ書いてください（{', '.join(RULE_KINDS)}） / a rule has exactly one"
                             f" kind: one of {', '.join(RULE_KINDS)} (found {', '.join(kinds) or 'none'})")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in RULE_KINDS if getattr(self, k) not in (None, False))

    @property
    def sections(self) -> list[str]:
        """The policy sections of ``source``: ``"4(2), 4(6)"`` → 4(2), 4(6); ``"7(3)①イ, ウ"`` → 7(3)①イ, 7(3)①ウ."""
        out: list[str] = []
        for part in (p.strip() for p in self.source.replace("、", ",").split(",")):
            if out and len(part) == 1 and part not in "0123456789":  # "イ, ウ": the item after the last section's head
                out.append(out[-1][:-1] + part)
            elif part:
                out.append(part)
        return out

    def traces_to(self, section: str) -> bool:
        """Whether the rule comes from ``section`` or from a part of it (``7(3)①`` for ``7(3)①ウ``; ``4`` for 4(2))."""
        return any(section == s or (section.startswith(s) and section[len(s):][:1] not in "0123456789") for s in self.sections)


RULE_KINDS = ("only_roles", "may_act", "only_after", "not_after", "needs_data", "only_when", "deadline", "escalates", "clears",
              "opens", "reaches_final")
KIND_LABELS = {
    "only_roles": ("行える役割", "who may act"),
    "may_act": ("行う役割（その職が行える）", "the named office can act"),
    "only_after": ("順序（…の後でなければ行えない）", "order: only after"),
    "not_after": ("順序（…の後は行えない）", "order: never after"),
    "needs_data": ("必要な記録", "data needed"),
    "only_when": ("条件", "condition"),
    "deadline": ("期限", "deadline"),
    "escalates": ("重大事態への移行", "escalation"),
    "clears": ("記録の取り消し", "a fact cleared"),
    "opens": ("連携する事案を開く", "opens a linked case"),
    "reaches_final": ("終結できること", "no dead end"),
}


class RuleSet(_Model):
    rules_for: Ident = Field(description="the workflow id these rules apply to")
    title: str | None = None
    rules: list[Rule] = Field(min_length=1)



def merged(sets: Iterable[RuleSet], workflow: str) -> RuleSet | None:
    """The rules of every set for ``workflow`` as one set (so one exploration checks them all)."""
    rules = [rule for rule_set in sets if rule_set.rules_for == workflow for rule in rule_set.rules]
    return RuleSet.model_construct(rules_for=workflow, title=None, rules=rules) if rules else None


def load_rules_text(text: str, file: str = "<rules>") -> RuleSet:
    located = parse(text, file)
    if not isinstance(located.data, dict):
        raise DefinitionError([located.problem((), "a rule file is a mapping with rules_for and rules")])
    try:
        rules = RuleSet.model_validate(located.data)
    except ValidationError as exc:
        raise DefinitionError(_validation_problems(exc, located)) from None
    seen: dict[str, int] = {}
    twice = []
    for index, rule in enumerate(rules.rules):
        if rule.id in seen:
            twice.append(located.problem(("rules", index, "id"), f"規則 id「{rule.id}」が重複しています（{seen[rule.id] + 1}"
                                         f" 番目の規則と同じ） / duplicate rule id '{rule.id}'"))
        seen.setdefault(rule.id, index)
    if twice:
        raise DefinitionError(twice)
    return rules


def load_rules(path: str | Path) -> RuleSet:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError([Problem(str(file), 1, 1, "", f"規則ファイルを読めません / cannot read the rule file ({exc})")]) \
            from None
    return load_rules_text(text, str(file))


def rule_files(paths: list[Path] | None = None) -> list[Path]:
    """The rule files named (a folder: its ``*.yaml``), or the bundled ones."""
    out: list[Path] = []
    for path in paths or [BUNDLED_RULES]:
        out += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return out
