"""The scene a policy-check scenario plays in: its engine, its clock, its case and the refusal waiting to be
examined. The steps (:mod:`.steps`, :mod:`.outcomes`) take it as ``ijime_scene``: from the in-process runner
(:mod:`.runner`) or from the pytest fixture of that name (:mod:`.bdd`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..actor import Actor
from ..case import Case, LinkedCase
from ..clock import TOKYO, FixedClock
from ..definition import Definition
from ..engine import Engine
from ..errors import DefinitionError, IjimeFlowError
from ..events import Event
from ..language.loader import load_path
from .parse import (
    normalise,
    parse_moment,
    role_id,
)

DATE = r"(?P<date>\S+(?:\s\d{1,2}(?:[:：]\d{2}|時(?:\d{1,2}分)?))?)"
QUOTED = r'"(?P<{name}>[^"]+)"'


def _q(name: str) -> str:
    return QUOTED.format(name=name)


class PolicyCheckFailed(AssertionError):
    """A scenario's expectation did not hold. The message is Japanese first."""


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

    # -- helpers ------------------------------------------------------------------------------------
    def at(self, text: str) -> datetime:
        moment = parse_moment(text)
        if moment > self.clock.now():
            self.clock.set(moment)
        return moment

    def actor(self, role: str) -> Actor:
        name = role_id(role, self.definition)
        return Actor(f"{name}-1", {name})

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
            self.loaded[key] = load_path(file, known=known)
        return self.loaded[key]

    def _workflow_id(self, file: Path) -> str:
        return self.load(file, {})[0].id

    def resolve_workflow(self, path: str) -> Path:
        candidate = Path(normalise(path))
        if not candidate.is_absolute():
            candidate = self.rootdir / candidate
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
