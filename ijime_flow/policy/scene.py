"""The scene a policy-check scenario plays in: its engine, its clock, its case and the refusal waiting to be
examined. The steps (:mod:`.steps`, :mod:`.outcomes`) take it as ``ijime_scene``: from the in-process runner
(:mod:`.runner`) or from the pytest fixture of that name (:mod:`.bdd`)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from ..actor import Actor
from ..case import Case, LinkedCase
from ..clock import TOKYO, FixedClock
from ..definition import Definition
from ..engine import Engine
from ..errors import DefinitionError, IjimeFlowError
from ..events import Event
from ..language.conditions import GuardFn
from ..language.loader import load_path, load_text
from .elements import has
from .parse import (
    NotChecked,
    normalise,
    parse_moment,
    role_id,
)

DATE = (r"(?P<date>\S+(?:\s\d{1,2}(?:[:：]\d{2}|時(?:\d{1,2}分)?))?"
        r"(?:Z|[+-]\d{2}:?\d{2}|\s[A-Za-z_]+/[A-Za-z_/+-]+|\sUTC)?)")
QUOTED = r'"(?P<{name}>[^"]+)"'


def _q(name: str) -> str:
    return QUOTED.format(name=name)


class PolicyCheckFailed(AssertionError):
    """A scenario's expectation did not hold. The message is Japanese first."""


KINDS_JA = {"trigger": "操作", "state": "状態", "fact": "事実", "role": "役割", "workflow": "ワークフロー", "deadline": "期限"}


def absent_workflow(workflow_id: str, source: Definition) -> Definition:
    """A stand-in for a workflow the school lacks that ``source`` escalates to: it takes the escalation (so the
    school's own workflow runs and escalates as written) and has no step, state or fact of its own, so every
    step of it a scenario names is 未確認. Shown as 「なし」 where results name their files."""
    escalation = source.spec.escalation
    assert escalation is not None
    ids = ", ".join(c.id for c in escalation.criteria)
    role = next(iter(source.spec.roles))
    text = (f"id: {workflow_id}\nversion: absent\ntitle: {{ja: この学校にないワークフロー, en: a workflow the school lacks}}\n"
            "source: なし / absent\n"
            f"timezone: {source.spec.timezone}\nroles:\n  {role}: {{ja: {role}}}\n"
            f"facts:\n  criterion: {{type: enum, many: true, values: [{ids}], ja: 要件}}\n"
            f"opened_by: [{role}]\nrecords_on_open: [criterion]\ninitial: absent\n"
            "states:\n  absent: {ja: この学校にないワークフロー, source: なし, final: true}\ntransitions: []\n")
    return load_text(text, file=f"（{workflow_id}: なし / absent）", run_lint=False)


def missing_element(kind: str, name: str, where: str) -> NotChecked:
    return NotChecked(f"{KINDS_JA.get(kind, kind)}「{name}」が {where} にないため確かめられません（未確認） / cannot be"
                      f" checked: {where} has no {kind} '{name}'", [f"{kind}:{name}"])


@dataclass
class Scene:
    rootdir: Path
    overrides: list[Path] = field(default_factory=list)
    clock: FixedClock = field(default_factory=lambda: FixedClock(datetime(2000, 1, 1, tzinfo=TOKYO)))
    engine: Engine | None = None
    definition: Definition | None = None
    case: Case | None = None
    refusal: IjimeFlowError | None = None
    refusal_step: str = ""
    examined: str = ""  # the text of the last refusal a step examined
    last_event: Event | None = None
    loaded: dict[tuple[Any, ...], list[Definition]] = field(default_factory=dict)  # shared by a run's scenarios
    school: Mapping[str, tuple[Path, Definition]] | None = None  # ``check``: the only workflows a scenario may use
    base: Path | None = None  # the folder of the feature file: relative workflow paths are read from it
    files: list[str] = field(default_factory=list)  # the workflow files this scenario ran against
    reference: Mapping[str, Definition] | None = None  # ``check``: the bundled workflows, what "extra" is measured by
    bridged: list[str] = field(default_factory=list)  # the school's extra steps taken on the scenario's way
    guards: dict[str, GuardFn] = field(default_factory=dict)  # ``check --guards``: registered on the scene's engine
    skipped: list[str] = field(default_factory=list)  # "kind:id" of preparatory steps left out: the school lacks them

    def require(self, kind: str, name: str) -> None:
        """Fail as 未確認 when the current workflow lacks the trigger, state or fact a step names."""
        defn = self.definition
        if defn is not None and not has(defn, kind, name):
            raise missing_element(kind, name, f"{defn.id}（{Path(defn.file).name}）")

    # -- helpers ------------------------------------------------------------------------------------
    @property
    def tz(self) -> tzinfo:
        """The time zone dates in steps are read in: the workflow's (Asia/Tokyo by default)."""
        return self.definition.tz if self.definition is not None else TOKYO

    def moment(self, text: str) -> datetime:
        return parse_moment(text, self.tz)

    def at(self, text: str) -> datetime:
        moment = self.moment(text)
        if moment > self.clock.now():
            self.clock.set(moment)
        return moment

    def actor(self, role: str) -> Actor:
        """The pseudonymous actor ``<role>-1`` — or ``<role>-N`` for ``教職員#2`` (another person in that role:
        what a ``distinct_actors`` condition counts)."""
        person = re.fullmatch(r"(.+?)[#＃]([0-9０-９]+)", role.strip())
        name = role_id(person.group(1) if person else role, self.definition)
        return Actor(f"{name}-{int(normalise(person.group(2))) if person else 1}", {name})

    def require_case(self) -> Case:
        if self.case is None:
            raise PolicyCheckFailed("事案がまだ開かれていません / no case has been opened in this scenario")
        return self.case

    def require_engine(self) -> Engine:
        if self.engine is None:
            raise PolicyCheckFailed("ワークフローが読み込まれていません / no workflow loaded: start with"
                                    ' 前提 ワークフロー "workflows/response.yaml" を読み込む')
        return self.engine

    def escalations(self) -> list[LinkedCase]:
        """The cases the current case escalated to (settling first)."""
        self.settle()
        return [link for link in self.require_case().linked_cases() if link.relation == "escalated_to"]

    def settle(self) -> None:
        """Fail on a refusal that no step examined."""
        if self.refusal is not None:
            refusal, self.refusal = self.refusal, None
            raise PolicyCheckFailed(f"操作「{self.refusal_step}」が拒否されましたが、確認されていません"
                                    f" / '{self.refusal_step}' was refused and nothing checked it: {refusal}")

    def attempt(self, label: str, action: Any) -> None:
        self.settle()
        try:
            self.last_event = action()
        except IjimeFlowError as exc:
            self.refusal, self.refusal_step, self.last_event = exc, label, None
        else:
            self.examined = ""

    def load(self, file: Path, known: Mapping[str, Definition]) -> list[Definition]:
        """The workflows of ``file`` (:func:`load_path`), read once per run while the file stays as it was."""
        stat = file.stat()
        key = (str(file.resolve()), stat.st_mtime_ns, stat.st_size, tuple(sorted(known)))
        if key not in self.loaded:
            from .contract_map import apply_map, load_map, map_beside

            found = map_beside(file)
            maps = load_map(found) if found is not None else {}  # the school's ids for the contract's, beside it
            self.loaded[key] = [apply_map(d, maps[d.id], str(found)) if d.id in maps else d
                                for d in load_path(file, known=known)]
        return self.loaded[key]

    def _workflow_id(self, file: Path) -> str:
        return self.load(file, {})[0].id

    def named_file(self, path: str) -> Path:
        """A workflow path as a feature writes it: from the feature file's folder (else the project's)."""
        candidate = Path(normalise(path))
        if not candidate.is_absolute():
            candidate = (self.base or self.rootdir) / candidate
        return candidate

    def school_workflow(self, path: str) -> tuple[Path, Definition]:
        """``check``: the school's workflow of the id the named file has (its stem, when the file is not
        there); 未確認 when the school has none — never the named file itself."""
        assert self.school is not None
        candidate = self.named_file(path)
        wid = candidate.stem
        if candidate.is_file():
            with contextlib.suppress(DefinitionError):
                wid = self._workflow_id(candidate)
        if wid not in self.school:
            raise missing_element("workflow", wid, "この学校のワークフロー / the school's workflows")
        return self.school[wid]

    def resolve_workflow(self, path: str) -> Path:
        candidate = self.named_file(path)
        if not candidate.is_file() and len(self.overrides) == 1:
            return self.overrides[0]  # the one workflow being checked stands in for a file this project lacks
        for override in self.overrides:
            if override.stem == candidate.stem:
                return override
            if candidate.is_file():
                try:
                    if self._workflow_id(override) == self._workflow_id(candidate):
                        return override
                except DefinitionError:
                    pass
        return candidate
