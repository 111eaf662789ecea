"""The contract of the procedure (shared/procedure.md, items marked ``contract``), shipped as package data.

``contract.yaml`` beside this module: the roles and, per workflow, its milestone states, regions,
main-line triggers, named internal actions, facts and serious-incident criteria, each with an id, ``ja``
(shown first), ``en``, the policy ``source`` and a ``strength`` (``must``: fixed as contract, the policy's
する / するものとする; ``should``: 望ましい or optional). :func:`load_contract` reads it (unknown keys
refused, file:line:col, Japanese first); :func:`missing_from` says which elements a
:class:`~ijime_flow.definition.Definition` lacks, by id; :func:`render_contract` and :func:`contract_json`
are what ``ijime-flow contract`` prints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError, model_validator

from ..errors import DefinitionError, InvalidData, Problem
from ..language.loader import _validation_problems
from ..language.models import FactType, Ident, StatePath
from ..language.yaml_source import parse

if TYPE_CHECKING:
    from ..definition import Definition

CONTRACT_FILE = "contract.yaml"
Strength = Literal["must", "should"]
RegionPath = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")]
STRENGTH_LABELS = {"must": "義務 must", "should": "望ましい should"}
KIND_LABELS = {"role": ("役割", "role"), "workflow": ("ワークフロー", "workflow"), "state": ("状態", "state"),
               "region": ("並行する対応", "region"), "trigger": ("操作", "trigger"), "action": ("随時の操作", "action"),
               "fact": ("事実", "fact"), "criterion": ("重大事態の要件", "criterion")}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class Text(_Model):
    ja: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def __str__(self) -> str:
        return f"{self.ja} / {self.en}"


class ContractElement(_Model):
    """One element: its ``kind`` (a key of KIND_LABELS), id, Japanese and English names, policy source, strength."""

    kind: ClassVar[str] = "element"
    id: str
    ja: str = Field(min_length=1)
    en: str = Field(min_length=1)
    source: str = Field(min_length=1, description="policy section, e.g. 4(2)")
    strength: Strength

    def label(self) -> str:
        ja, en = KIND_LABELS.get(self.kind, (self.kind, self.kind))
        return f"{ja} {self.id}「{self.ja}」 / {en} {self.id} ({self.en}) [{self.source}; {STRENGTH_LABELS[self.strength]}]"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.model_dump(mode="json", by_alias=True, exclude_none=True)}


class RoleElement(ContractElement):
    kind: ClassVar[str] = "role"
    id: Ident
    acts_for: Text
    includes: list[Ident] = Field(default_factory=list, description="roles whoever holds this one also holds")


class StateElement(ContractElement):
    kind: ClassVar[str] = "state"
    id: Ident
    initial: StrictBool = False
    final: StrictBool = False
    parallel: StrictBool = False
    covers: list[Text] = Field(default_factory=list, description="what its inner steps must cover (theirs to shape)")


class RegionElement(ContractElement):
    kind: ClassVar[str] = "region"
    id: RegionPath
    covers: list[Text] = Field(default_factory=list, description="every bullet its steps must cover")


class TriggerElement(ContractElement):
    kind: ClassVar[str] = "trigger"
    id: Ident
    from_: list[StatePath] = Field(default_factory=list, alias="from", description="[] where the procedure leaves it open")
    to: StatePath | None = None
    who: list[Ident] = Field(default_factory=list, description="the roles that take it; [] where none is named")
    when: list[Ident] = Field(default_factory=list, description="the facts its condition reads")
    records: list[Ident] = Field(default_factory=list)
    rule: Text | None = None


class ActionElement(TriggerElement):
    """An internal action: recorded as an event at any open point; it does not move the main line."""

    kind: ClassVar[str] = "action"

    @model_validator(mode="after")
    def _internal(self) -> ActionElement:
        if self.to is not None:
            raise ValueError(f"随時の操作「{self.id}」には to を書きません / action '{self.id}' has no 'to'")
        return self


class FactValue(Text):
    id: Ident


class FactElement(ContractElement):
    kind: ClassVar[str] = "fact"
    id: Ident
    type: FactType
    many: StrictBool | None = Field(default=None, description="None where the procedure does not say")
    values: list[FactValue] | None = None
    recorded_by: list[Ident] = Field(default_factory=list)


class CriterionElement(ContractElement):
    kind: ClassVar[str] = "criterion"
    id: Ident
    fact: Ident
    rule: Text


class DerivedCategory(FactValue):
    """A survey category computed from the log, never recorded by hand (not looked for in a workflow)."""

    source: str = Field(min_length=1)
    values: list[FactValue] = Field(min_length=1)


def _twice(ids: Iterable[str]) -> list[str]:
    return sorted(i for i, n in Counter(ids).items() if n > 1)


class WorkflowContract(ContractElement):
    kind: ClassVar[str] = "workflow"
    id: Ident
    roles: list[Ident] = Field(min_length=1, description="the contract roles it declares")
    opened_by: list[Ident] = Field(default_factory=list)
    escalates_to: Ident | None = None
    states: list[StateElement] = Field(default_factory=list)
    regions: list[RegionElement] = Field(default_factory=list)
    triggers: list[TriggerElement] = Field(default_factory=list)
    actions: list[ActionElement] = Field(default_factory=list)
    facts: list[FactElement] = Field(default_factory=list)
    criteria: list[CriterionElement] = Field(default_factory=list)
    derived: list[DerivedCategory] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> WorkflowContract:
        bad: list[str] = []
        for what, ids in (("状態 / state", [*(s.id for s in self.states), *(r.id for r in self.regions)]),
                          ("操作 / trigger", [t.id for t in self.steps()]), ("事実 / fact", [f.id for f in self.facts]),
                          ("要件 / criterion", [c.id for c in self.criteria])):
            bad += [f"{what} {i} が重複しています / {i} is listed twice" for i in _twice(ids)]
        states = {s.id for s in self.states} | {r.id for r in self.regions}
        facts = {f.id for f in self.facts}
        if self.states and sum(s.initial for s in self.states) != 1:
            bad.append("初期状態（initial: true）をちょうど一つ書いてください / mark exactly one state initial: true")
        parallel = {s.id for s in self.states if s.parallel}
        bad += [f"並行する対応 {r.id} の親は parallel: true の状態です / region {r.id} must sit in a parallel state"
                for r in self.regions if r.id.rpartition(".")[0] not in parallel]
        for t in self.steps():
            bad += [f"操作 {t.id}: 状態 {s} は契約にありません / {t.id}: no contract state {s}"
                    for s in [*t.from_, *([t.to] if t.to else [])] if s != "*" and s not in states]
            bad += [f"操作 {t.id}: 役割 {r} はこのワークフローの役割にありません / {t.id}: role {r} is not one of its roles"
                    for r in t.who if r not in self.roles]
            bad += [f"操作 {t.id}: 事実 {f} は契約にありません / {t.id}: no contract fact {f}"
                    for f in [*t.when, *t.records] if f not in facts]
        bad += [f"要件 {c.id}: 事実 {c.fact} は契約にありません / criterion {c.id}: no contract fact {c.fact}"
                for c in self.criteria if c.fact not in facts]
        bad += [f"開始できる役割 {r} はこのワークフローの役割にありません / opened_by {r} is not one of its roles"
                for r in self.opened_by if r not in self.roles]
        if bad:
            raise ValueError("; ".join(bad))
        return self

    def steps(self) -> list[TriggerElement]:  # its triggers, then its actions
        return [*self.triggers, *self.actions]

    def elements(self) -> list[ContractElement]:
        """What a definition of it declares: states, regions, triggers, actions, facts (its roles and the
        criteria of the workflow it escalates to: :meth:`Contract.required_of`)."""
        return [*self.states, *self.regions, *self.triggers, *self.actions, *self.facts]


class Contract(_Model):
    version: str = Field(min_length=1)
    title: Text
    source: str = Field(min_length=1)
    roles: list[RoleElement] = Field(min_length=1)
    workflows: list[WorkflowContract] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Contract:
        roles = {r.id for r in self.roles}
        bad = [f"役割 {i} が重複しています / role {i} is listed twice" for i in _twice(r.id for r in self.roles)]
        bad += [f"ワークフロー {i} が重複しています / workflow {i} is listed twice" for i in _twice(w.id for w in self.workflows)]
        bad += [f"役割 {r.id}: {i} は契約の役割にありません / {i} is not a contract role"
                for r in self.roles for i in r.includes if i not in roles]
        bad += [f"ワークフロー {w.id}: 役割 {i} は契約の役割にありません / {w.id}: {i} is not a contract role"
                for w in self.workflows for i in w.roles if i not in roles]
        bad += [f"ワークフロー {w.id}: 移行先 {w.escalates_to} には要件がありません / {w.id}: escalates_to has no criteria"
                for w in self.workflows if w.escalates_to is not None
                and not any(o.id == w.escalates_to and o.criteria for o in self.workflows)]
        if bad:
            raise ValueError("; ".join(bad))
        return self

    def workflow(self, workflow_id: str) -> WorkflowContract:
        """The contract of one workflow; :class:`~ijime_flow.errors.InvalidData` for an id it does not have."""
        for w in self.workflows:
            if w.id == workflow_id:
                return w
        raise InvalidData(f"契約にワークフロー「{workflow_id}」はありません / the contract has no workflow '{workflow_id}'"
                          f" (it has: {', '.join(w.id for w in self.workflows)})")

    def required_of(self, workflow_id: str) -> list[ContractElement]:
        """Every element a workflow with this id must (or should) carry: its roles, its own elements, and
        the criteria of the workflow it escalates to (which its escalation must list)."""
        w = self.workflow(workflow_id)
        out: list[ContractElement] = [r for i in w.roles for r in self.roles if r.id == i]
        out += w.elements()
        if w.escalates_to is not None:
            out += self.workflow(w.escalates_to).criteria
        return out

    def elements(self) -> Iterator[tuple[str, ContractElement]]:
        """(workflow id, element) for every element a workflow is checked for."""
        for w in self.workflows:
            for element in self.required_of(w.id):
                yield w.id, element


# -- reading -------------------------------------------------------------------------------------
_PLAIN = {"unknown field '": "契約に書けないキー「{}」です", "missing required field '": "必須のキー「{}」がありません"}


def _japanese_first(problem: Problem) -> Problem:
    """The message with Japanese first, whatever the shared reader of pydantic's errors says in English."""
    message = problem.message
    if any(ord(ch) > 0x3000 for ch in message):
        return problem
    prefix = next((p for p in _PLAIN if message.startswith(p)), None)
    ja = _PLAIN[prefix].format(message.removeprefix(prefix).rstrip(chr(39))) if prefix else "値が正しくありません"
    return replace(problem, message=f"{ja} / {message}")


def load_contract_text(text: str, file: str = "<contract>") -> Contract:
    """A contract from YAML text; :class:`~ijime_flow.errors.DefinitionError` listing each problem
    (file:line:col, Japanese first) when it is not one."""
    located = parse(text, file)
    if not isinstance(located.data, dict):
        raise DefinitionError([located.problem((), "契約はマッピングです（version, title, source, roles, workflows） / a"
                                                    " contract is a mapping with version, title, source, roles, workflows")])
    try:
        return Contract.model_validate(located.data)
    except ValidationError as exc:
        raise DefinitionError([_japanese_first(p) for p in _validation_problems(exc, located)]) from None


@lru_cache(maxsize=1)
def load_contract() -> Contract:
    """The contract shipped in the package (``ijime_flow/policy/contract.yaml``), read once."""
    text = resources.files(__package__ or "ijime_flow.policy").joinpath(CONTRACT_FILE).read_text(encoding="utf-8")
    return load_contract_text(text, f"ijime_flow/policy/{CONTRACT_FILE}")


# -- checking a definition -----------------------------------------------------------------------
def _present(element: ContractElement, definition: Definition, escalates_to: str | None) -> bool:
    if isinstance(element, StateElement | RegionElement):
        return element.id in definition.nodes
    if isinstance(element, TriggerElement):
        return element.id in definition.transitions_by_trigger
    if isinstance(element, FactElement):
        return element.id in definition.spec.facts
    if isinstance(element, RoleElement):
        return element.id in definition.spec.roles
    assert isinstance(element, CriterionElement), element.kind
    escalation = definition.spec.escalation
    return escalation is not None and escalation.to == escalates_to and any(c.id == element.id for c in escalation.criteria)


def missing_from(definition: Definition, contract: Contract | None = None, *,
                 workflow: str | None = None) -> list[ContractElement]:
    """The contract elements ``definition`` lacks, in the contract's order (roles, states, regions,
    triggers, actions, facts, criteria), checked against the contract of ``workflow`` (default: the
    definition's own id; :class:`~ijime_flow.errors.InvalidData` when the contract has no such workflow).
    Present means declared under the id: a state or region at its dotted path, a trigger or action by
    its trigger name, a fact, a role, a criterion in the escalation to the workflow it escalates to."""
    contract = contract or load_contract()
    w = contract.workflow(workflow or definition.id)
    return [e for e in contract.required_of(w.id) if not _present(e, definition, w.escalates_to)]


def missing_from_all(definitions: Iterable[Definition], contract: Contract | None = None) -> dict[str, list[ContractElement]]:
    """Per contract workflow, what the given definitions lack: the workflow itself when none has its id."""
    contract = contract or load_contract()
    by_id = {d.id: d for d in definitions}
    return {w.id: missing_from(by_id[w.id], contract) if w.id in by_id else [w] for w in contract.workflows}


# -- printing --------------------------------------------------------------------------------------
def _tag(e: ContractElement) -> str:
    return f"[{e.source}; {STRENGTH_LABELS[e.strength]}]"


def _step_lines(t: TriggerElement) -> list[str]:
    where = "随時 / any open state" if t.from_ == ["*"] else ", ".join(t.from_) or "（定めない / open）"
    move = f"{where} → {t.to or '（定めない / open）'}" if t.kind == "trigger" else f"{where}（状態は変わらない / stays）"
    move = move if t.from_ or t.to else "位置はワークフローが定める / placed by the workflow"
    lines = [f"    {t.id}  {t.ja} / {t.en}  {move}  行う役割 / who: {', '.join(t.who) or '—'}  {_tag(t)}"]
    if t.when or t.records:
        lines.append(f"      事実 / facts: {', '.join([*t.when, *t.records])}")
    return lines + ([f"      規則 / rule: {t.rule}"] if t.rule is not None else [])


def _fact_lines(f: FactElement) -> list[str]:
    shape = f.type + ("、複数 / many" if f.many else "")
    lines = [f"    {f.id} ({shape})  {f.ja} / {f.en}  {_tag(f)}"]
    if f.recorded_by:
        lines.append(f"      記録する役割 / recorded by: {', '.join(f.recorded_by)}")
    lines += [f"      - {v.id}  {v.ja} / {v.en}" for v in f.values or []]
    return lines


def _titled(title: str, lines: list[str]) -> list[str]:
    return [f"  {title}", *lines] if lines else []


def _state_lines(s: StateElement, regions: list[RegionElement]) -> list[str]:
    marks = [m for m, on in (("初期 / initial", s.initial), ("終結 / final", s.final), ("並行 / parallel", s.parallel)) if on]
    lines = [f"    {s.id}  {s.ja} / {s.en}  {_tag(s)}" + (f"  ({', '.join(marks)})" if marks else "")]
    lines += [f"      - {c}" for c in s.covers]
    for r in (r for r in regions if r.id.rpartition(".")[0] == s.id):
        lines += [f"      {r.id}  {r.ja} / {r.en}  {_tag(r)}", *(f"        - {c}" for c in r.covers)]
    return lines


def _workflow_lines(w: WorkflowContract) -> list[str]:
    lines = [f"ワークフロー / workflow {w.id}  {w.ja} / {w.en}  {_tag(w)}", f"  役割 / roles: {', '.join(w.roles)}"]
    lines += [f"  開始できる役割 / opened by: {', '.join(w.opened_by)}"] if w.opened_by else []
    lines += [f"  重大事態への移行 / escalates to: {w.escalates_to}"] if w.escalates_to else []
    lines += _titled("状態 / states", [line for s in w.states for line in _state_lines(s, w.regions)])
    lines += _titled("操作（本線） / triggers (main line)", [line for t in w.triggers for line in _step_lines(t)])
    lines += _titled("随時の操作 / actions (at any open point)", [line for t in w.actions for line in _step_lines(t)])
    lines += _titled("事実 / facts", [line for f in w.facts for line in _fact_lines(f)])
    lines += _titled("重大事態の要件（いずれか一つで直ちに移行） / criteria (any one escalates at once)",
                     [line for c in w.criteria for line in (f"    {c.id}  {c.ja} / {c.en}  事実 / fact: {c.fact}  {_tag(c)}",
                                                             f"      規則 / rule: {c.rule}")])
    return lines + _titled("記録から算出する区分（手で記録しない） / derived from the log (never recorded by hand)",
                           [line for d in w.derived for line in (f"    {d.id}  {d.ja} / {d.en}  [{d.source}]",
                                                                 *(f"      - {v.id}  {v.ja} / {v.en}" for v in d.values))])


def _shown(contract: Contract, workflow: str | None) -> tuple[list[WorkflowContract], set[str]]:
    shown = [contract.workflow(workflow)] if workflow is not None else contract.workflows
    return shown, {r for w in shown for r in w.roles}


def render_contract(contract: Contract, workflow: str | None = None) -> list[str]:
    """The contract as lines of text, Japanese first and English beside: the roles, then each workflow
    (only ``workflow`` and its roles when given)."""
    shown, role_ids = _shown(contract, workflow)
    lines = [f"{contract.title.ja} / {contract.title.en} (version {contract.version})",
             f"出典 / source: {contract.source}",
             "強さ / strength: 義務 = must（するものとする） / 望ましい = should（望ましい・任意）", "", "役割 / roles"]
    for r in (r for r in contract.roles if r.id in role_ids):
        includes = f"  (兼ねる役割 / also holds: {', '.join(r.includes)})" if r.includes else ""
        lines.append(f"  {r.id}  {r.ja} / {r.en} — {r.acts_for}  {_tag(r)}{includes}")
    for w in shown:
        lines += ["", *_workflow_lines(w)]
    return lines


def contract_json(contract: Contract, workflow: str | None = None) -> dict[str, Any]:
    """The contract as JSON-ready data (only ``workflow`` and its roles when given)."""
    shown, role_ids = _shown(contract, workflow)
    return {
        "version": contract.version,
        "title": contract.title.model_dump(mode="json"),
        "source": contract.source,
        "roles": [r.to_dict() for r in contract.roles if r.id in role_ids],
        "workflows": [w.to_dict() for w in shown],
    }
