"""The workflow language: what a YAML file may say, and how it becomes a :class:`~ijime_flow.Definition`.

- :mod:`.models` — the pydantic models of the language (workflow, states, transitions, facts, deadlines,
  escalation criteria); re-exported here, so ``from ijime_flow.language import FactDef`` works;
- :mod:`.conditions` — conditions as data (no ``eval``): models, evaluation, compiled checks, wording;
- :mod:`.durations` — the ISO 8601 durations the language accepts (whole, unsigned, at most 100 years);
- :mod:`.stored` — definitions read back from a store: the durations earlier versions accepted, read as they ran;
- :mod:`.yaml_source` — strict YAML with node positions (duplicate keys, aliases and tags refused), and
  :mod:`.yaml_messages` — YAML errors in plain words, Japanese first;
- :mod:`.loader` — a file, a text or a folder to definitions, with ``file:line:col`` problems;
- :mod:`.lint` — reference checks and lint rules, with :mod:`.integrity` (role cycles, repeated enum
  values, step data that can never be given) and :mod:`.workflow_set` (escalation targets, across files);
- :mod:`.schema` — the JSON Schema editors use.
"""

from __future__ import annotations

from .models import (
    AbsenceCount,
    AbsenceRun,
    CalendarDef,
    CriterionDef,
    DeadlineDef,
    EscalationDef,
    FactDef,
    RoleDef,
    StateDef,
    Title,
    TransitionDef,
    WorkflowDef,
)

__all__ = [
    "AbsenceCount",
    "AbsenceRun",
    "CalendarDef",
    "CriterionDef",
    "DeadlineDef",
    "EscalationDef",
    "FactDef",
    "RoleDef",
    "StateDef",
    "Title",
    "TransitionDef",
    "WorkflowDef",
]
