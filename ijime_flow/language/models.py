"""The workflow language: pydantic models of what a workflow YAML file may say.

These models are the single source of the JSON Schema (``schema/workflow.schema.json``). They check
shape only; references between parts (a transition naming a state, a condition naming a fact) are
checked by :mod:`ijime_flow.lint`, which knows where in the file each part came from.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from .conditions import Condition
from .dates import check_date
from .durations import (
    DATE_DURATION_PATTERN,
    END_OF,
    IMMEDIATELY,
    SAME_DAY,
    WITHIN_PATTERN,
    check_date_duration,
    check_within,
)
from .stored import reading

Ident = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
StatePath = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$|^\*$")]
_STATE_PATH_SCHEMA = {"type": "string", "pattern": r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$|^\*$"}
# YAML may give one state or a list; the model always holds a list
Sources = Annotated[
    list[StatePath],
    WithJsonSchema({"anyOf": [_STATE_PATH_SCHEMA, {"type": "array", "items": _STATE_PATH_SCHEMA, "minItems": 1}],
                    "description": "state(s) the step leaves, as dotted paths, or '*' for any open state"}),
]
FactType = Literal["bool", "int", "number", "string", "date", "datetime", "enum"]
FieldType = Literal["text", "int", "number", "bool", "date", "datetime"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Title(_Model):
    ja: str = Field(min_length=1)
    en: str = Field(min_length=1)


class RoleDef(_Model):
    """A role people act in. ``includes`` lists the roles it also holds (a principal is also staff)."""

    ja: str = Field(min_length=1)
    en: str | None = None
    includes: list[Ident] = Field(default_factory=list)


class FactDef(_Model):
    """A fact that may be recorded on a case. ``many`` facts collect a set of distinct values."""

    type: FactType
    ja: str = Field(min_length=1)
    en: str | None = None
    source: str | None = Field(default=None, description="policy section, e.g. 4(3)")
    values: list[str] | None = Field(default=None, description="the allowed values of an enum fact, each once",
                                     json_schema_extra={"uniqueItems": True})
    many: StrictBool = Field(default=False, description="a set of values, one per event (e.g. absent dates)")
    roles: list[Ident] | None = Field(default=None, description="who may record it; omitted: any role")
    # None when not written (and so not in the canonical text: definitions from before it hash as they did)
    personal: StrictBool | None = Field(default=None, description="personal data (about a pupil, or free text): sealed"
                                                                   " under its subject's key, erased when forgotten")

    @model_validator(mode="after")
    def _enum_has_values(self) -> FactDef:
        if self.type == "enum" and not self.values:
            raise ValueError("an enum fact needs a non-empty 'values' list")
        if self.type != "enum" and self.values is not None:
            raise ValueError("'values' is only for facts of type enum")
        return self


class FieldDef(_Model):
    """A data field of a step (or of the opening data): its type and whether it is personal data (free text,
    descriptions, places, anything about a person), sealed before it is hashed (:mod:`ijime_flow.privacy`)."""

    type: FieldType = "text"
    ja: str | None = None
    en: str | None = None
    personal: StrictBool = Field(default=False, description="sealed under its subject's key; erased when forgotten")


class DeadlineDef(_Model):
    """An obligation that starts when its state is entered and is met by one of ``met_by``.

    ``within`` is ``same_day`` (by midnight of the day the state was entered, in the workflow's
    time zone: 即日), ``immediately`` (直ちに: within an hour of the moment it was entered, see
    :data:`~.durations.IMMEDIATELY_GRACE`) or an ISO 8601 duration from the moment it was entered
    (``P1D``, ``PT2H``).
    A deadline, once started, runs until it is met, even if the case leaves the state.

    ``every`` (``month``, ``term`` or ``year``) makes it recur instead (a school year's duties, e.g. the
    committee's monthly meeting): entering the state starts one deadline per period of the case's school
    year (the periods not yet over), each due at its period's end and met only by a ``met_by`` step whose
    time falls inside that period. ``months`` keeps only those months: with ``every: month`` the listed
    months; with ``every: year`` one window from the first listed month to the end of the last (April
    first, as a school year runs). Its ``within`` is not written (it reads ``end_of_<period>``)."""

    id: Ident
    ja: str = Field(min_length=1)
    en: str | None = None
    source: str = Field(min_length=1, description="policy section, e.g. 4(3)")
    met_by: list[Ident] = Field(min_length=1, description="triggers that meet it")
    within: str = Field(default="", description="same_day (即日), immediately (直ちに: within 1 hour), or an ISO 8601 duration"
                                                " such as P1D (whole numbers, at most P100Y); not written with every",
                        json_schema_extra={"pattern": WITHIN_PATTERN})
    when: Condition | None = Field(default=None, description="starts only if this holds when the state is entered")
    every: Literal["month", "term", "year"] | None = Field(
        default=None, description="recurs: one deadline per month, term (calendar.terms) or school year, due at its end")
    months: list[Annotated[int, Field(ge=1, le=12)]] | None = Field(
        default=None, description="with every: month or year, only these months (1-12)", json_schema_extra={"uniqueItems": True})

    @field_validator("within")
    @classmethod
    def _within(cls, value: str, info: ValidationInfo) -> str:
        if value in (SAME_DAY, IMMEDIATELY) or value in END_OF:  # (not written: "", the default; written empty: refused)
            return value
        stored = reading(info)  # a definition read back from a store: as earlier versions read it
        if stored is not None:
            return stored.duration(value, f"deadline '{info.data.get('id', '?')}' within")
        return check_within(value)

    @model_validator(mode="after")
    def _recurs(self) -> DeadlineDef:
        if self.every is None:
            if not self.within or self.within in END_OF:
                raise ValueError("a deadline needs 'within' (same_day, immediately or a duration such as P1D), or"
                                 " 'every' (month, term, year) for one that recurs")
            if self.months is not None:
                raise ValueError("'months' is only for a deadline with 'every'")
            return self
        if self.within not in ("", f"end_of_{self.every}"):
            raise ValueError(f"a deadline with 'every: {self.every}' is due at the end of each period: write no 'within'")
        if self.months is not None:
            if self.every == "term":
                raise ValueError("'months' is for every: month or every: year (a term has its own dates)")
            if not self.months or len(set(self.months)) != len(self.months):
                raise ValueError("'months' lists each month (1-12) once")
        object.__setattr__(self, "within", f"end_of_{self.every}")
        return self


class StateDef(_Model):
    """A state. An atomic state has neither ``states`` nor ``parallel``; a compound state has
    ``states`` and an ``initial`` child; a parallel state has ``parallel`` regions, each a compound
    state, all active at once."""

    ja: str = Field(min_length=1, description="Japanese label shown to school staff")
    en: str | None = None
    source: str = Field(min_length=1, description="policy section this state comes from, e.g. 4(2)")
    final: StrictBool = False
    deadlines: list[DeadlineDef] = Field(default_factory=list, description="obligations started on entry")
    initial: Ident | None = None
    states: dict[Ident, StateDef] | None = None
    parallel: dict[Ident, StateDef] | None = None

    @model_validator(mode="after")
    def _shape(self) -> StateDef:
        if self.states is not None and self.parallel is not None:
            raise ValueError("a state has either 'states' (compound) or 'parallel' (regions), not both")
        if self.final and (self.states or self.parallel):
            raise ValueError("a final state cannot have children")
        if self.states is not None:
            if not self.states:
                raise ValueError("'states' must not be empty")
            if self.initial is None:
                raise ValueError("a compound state needs 'initial' (the child entered first)")
        elif self.initial is not None:
            raise ValueError("'initial' is only for a state with 'states'")
        if self.parallel is not None:
            if len(self.parallel) < 2:
                raise ValueError("'parallel' needs at least two regions")
            for name, region in self.parallel.items():
                if region.states is None:
                    raise ValueError(f"parallel region '{name}' needs 'states' and 'initial'")
        return self


class OpensDef(_Model):
    """A case of another workflow that a step opens and links to (e.g. a survey's concern opening a ``response``
    case): the new case's opening and the step name each other, and ``facts`` are recorded on it at once."""

    workflow: Ident
    facts: dict[Ident, str | int | bool] = Field(default_factory=dict, description="facts recorded on the new case")


class TransitionDef(_Model):
    """A step. With ``to`` it moves the case; without ``to`` it is an internal action that records
    an event and leaves the state as it is. ``automatic`` steps are taken by the engine itself when
    their compound or parallel ``from`` state is done (every region in a final state)."""

    trigger: Ident
    ja: str = Field(min_length=1)
    en: str | None = None
    source: str = Field(min_length=1, description="policy section, e.g. 4(2)")
    from_: Sources = Field(alias="from", min_length=1)
    to: StatePath | None = Field(default=None, description="destination; omitted for an internal action")
    roles: list[Ident] = Field(default_factory=list, description="roles allowed to take the step")
    when: Condition | None = Field(default=None, description="condition that must hold")
    records: list[Ident] = Field(default_factory=list, description="facts this step records (required data)")
    clears: list[Ident] = Field(default_factory=list, description="facts this step removes (e.g. a recurrence)")
    requires: list[Ident] = Field(default_factory=list, description="other data fields required")
    fields: dict[Ident, FieldDef] | None = Field(default=None, description="the step's data fields, typed"
                                          " (those in requires must be given; a field not declared is untyped text)")
    automatic: StrictBool = False
    opens: OpensDef | None = Field(default=None, description="a linked case of another workflow this step opens")

    @field_validator("from_", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _roles(self) -> TransitionDef:
        if self.automatic:
            if self.roles:
                raise ValueError("an automatic step is taken by the engine: it has no 'roles'")
            if self.to is None:
                raise ValueError("an automatic step needs 'to'")
        elif not self.roles:
            raise ValueError("a step needs 'roles': who may take it")
        return self


class AbsenceCount(_Model):
    """Absent days (distinct dates of a ``many`` date fact) counted in a window."""

    fact: Ident = Field(description="a date fact with many: true, one value per absent day")
    days: int = Field(default=30, ge=1, description="how many absent days meet the criterion (guide: 30)")
    window: Literal["school_year", "rolling_365"] = Field(
        default="school_year", description="school_year: 1 April - 31 March; rolling_365: any 365 days")


class AbsenceRun(_Model):
    """A run of consecutive school days absent (weekends and the calendar's closures do not break it)."""

    fact: Ident = Field(description="a date fact with many: true, one value per absent day")
    days: int = Field(default=7, ge=1, description="run length that meets the criterion (a local rule; 7 is common)")


class CriterionDef(_Model):
    """A rule that, once met, escalates the case: exactly one of ``when``, ``absence``, ``absence_run``.
    Each criterion is met at most once per case; the id is recorded as the new case's ``criterion``."""

    id: Ident
    ja: str = Field(min_length=1)
    en: str | None = None
    source: str = Field(min_length=1, description="policy section or law article")
    when: Condition | None = None
    absence: AbsenceCount | None = None
    absence_run: AbsenceRun | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> CriterionDef:
        given = [k for k in ("when", "absence", "absence_run") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a criterion takes exactly one of when, absence, absence_run; got {given or 'none'}")
        return self


class EscalationDef(_Model):
    """Opening a linked case of another workflow, at once, when a criterion is met."""

    to: Ident = Field(description="the workflow id of the case to open (e.g. serious_incident)")
    criteria: list[CriterionDef] = Field(min_length=1)


class RetentionRule(_Model):
    """How long a class of a case's records is kept (保存期間) before the pupils' personal data in it may be
    erased (:mod:`ijime_flow.privacy.retention`). ``keep`` (years, months, weeks or days) counts from the day
    of ``after`` in the workflow's time zone — ``closed``: the case was closed; ``opened``; ``recorded``: the
    last record of the class (the last fact of ``facts`` or step of ``steps``; else the case's last event) — or,
    with ``count_from: next_school_year``, from 1 April after the school year that day falls in (起算日は翌年度の
    4月1日, as document rules count). ``minimum: true``: kept at least so long, never due by this rule alone."""

    class_: Ident = Field(alias="class", description="the record class: case (the case record) or another, e.g. survey")
    keep: str = Field(description="ISO 8601 duration in years, months, weeks or days, e.g. P5Y (at most P100Y)",
                      json_schema_extra={"pattern": DATE_DURATION_PATTERN})
    after: Literal["closed", "opened", "recorded"] = Field(description="closed, opened, or recorded (the class's last record)")
    count_from: Literal["date", "next_school_year"] = Field(
        default="date", description="date: that day; next_school_year: 1 April after that day's school year")
    facts: list[Ident] | None = Field(default=None, description="the facts that are records of this class (after: recorded)")
    steps: list[Ident] | None = Field(default=None, description="the steps (triggers) that make records of this class")
    minimum: StrictBool = Field(default=False, description="true: at least this long (makes nothing due by itself)")
    source: str = Field(min_length=1, description="the rule or guidance it comes from")

    @field_validator("keep")
    @classmethod
    def _keep(cls, value: str, info: ValidationInfo) -> str:
        stored = reading(info)  # a definition read back from a store: as earlier versions read it
        if stored is not None:
            return stored.duration(value, f"retention keep ({info.data.get('class_', '?')})", dates=True)
        if "T" in value:
            raise ValueError(f"保存期間は日付で数えるため時間（{value[:40]}）は書けません（例: P5Y） / a retention period"
                             f" counts whole days: '{value[:40]}' has hours, minutes or seconds (use e.g. P5Y)")
        return check_date_duration(value)

    @model_validator(mode="after")
    def _facts_when_recorded(self) -> RetentionRule:
        if (self.facts is not None or self.steps is not None) and self.after != "recorded":
            raise ValueError("facts・steps は after: recorded の規則にだけ書けます / 'facts' and 'steps' are only for a rule"
                             " with after: recorded")
        return self


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


MonthDay = Annotated[str, StringConstraints(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]


class TermDef(_Model):
    """A term (学期) of every school year, by month and day (``from: "04-01"``, ``to: "08-31"``)."""

    id: Ident
    ja: str = Field(min_length=1)
    en: str | None = None
    from_: MonthDay = Field(alias="from", description="its first day, MM-DD")
    to: MonthDay = Field(description="its last day, MM-DD")


class CalendarDef(_Model):
    """The school calendar: which days are not school days. National holidays come from the ``holidays``
    package and a school's own closures from its calendar file (``calendar.yaml`` beside the workflows)."""

    weekends: list[Weekday] = Field(default_factory=lambda: list[Weekday](["saturday", "sunday"]))
    closures: list[Annotated[date, BeforeValidator(check_date)]] = Field(
        default_factory=list, description="listed closure days (better kept in calendar.yaml, per school year)")
    country: str | None = Field(default=None, description="whose national holidays count when no calendar.yaml says"
                                                          " (ISO 3166 code; JP when not written)")
    national_holidays: StrictBool | None = Field(default=None, description="false: national holidays are school days"
                                                                           " (list every closure yourself)")
    terms: list[TermDef] | None = Field(default=None, description="the terms (学期) of every school year, in order;"
                                                                  " not written: 4/1-8/31, 9/1-12/31, 1/1-3/31")

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        from ..calendars.resolved import country_problem

        problem = country_problem(value) if value is not None else ""
        if problem:
            raise ValueError(problem)
        return value


class WorkflowDef(_Model):
    """A whole workflow file."""

    id: Ident
    version: str = Field(min_length=1, description="quote it: version: \"2019.1\"")
    title: Title
    source: str = Field(min_length=1, description="the policy this workflow encodes")
    timezone: str = Field(default="Asia/Tokyo", description="zone for dates and school-day rules")
    roles: dict[Ident, RoleDef] = Field(min_length=1)
    facts: dict[Ident, FactDef] = Field(default_factory=dict)
    opened_by: list[Ident] = Field(min_length=1, description="roles that may open a case")
    records_on_open: list[Ident] = Field(default_factory=list, description="facts the opening data must carry")
    fields_on_open: dict[Ident, FieldDef] | None = Field(default=None, description="the opening data's other fields, typed")
    initial: Ident
    states: dict[Ident, StateDef] = Field(min_length=1)
    transitions: list[TransitionDef] = Field(default_factory=list)
    calendar: CalendarDef = Field(default_factory=CalendarDef)
    escalation: EscalationDef | None = None
    retention: list[RetentionRule] | None = Field(default=None, description="retention rules (保存期間) per record class")


StateDef.model_rebuild()
