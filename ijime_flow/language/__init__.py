"""The workflow language: what a YAML file may say, and how it becomes a :class:`~ijime_flow.Definition`.

- :mod:`.models` — the pydantic models of the language (workflow, states, transitions, facts, deadlines,
  escalation criteria); re-exported here, so ``from ijime_flow.language import FactDef`` works;
- :mod:`.conditions` — conditions as data (no ``eval``): models, evaluation, compiled checks, wording;
  :mod:`.counting` — the counting ones (``count``, ``distinct_actors``) and the tally of who took a step;
- :mod:`.durations` — the ISO 8601 durations the language accepts (whole, unsigned, at most 100 years);
- :mod:`.stored` — definitions read back from a store: the durations earlier versions accepted, read as they ran;
- :mod:`.yaml_source` — strict YAML with node positions (duplicate keys, aliases and tags refused), and
  :mod:`.yaml_messages` — YAML errors in plain words, Japanese first, at the line :mod:`.yaml_repair` finds
  the mistake on (a one-line repair that makes the file read);
- :mod:`.loader` — a file, a text or a folder to definitions, with ``file:line:col`` problems;
  :mod:`.shape_messages` (with :mod:`.value_messages`) — pydantic's errors in plain words, at the key;
  :mod:`.suggest` — "もしかして / did you mean" for misspelt names; :mod:`.dates` — dates written
  another way than YYYY-MM-DD, with the day they mean;
- :mod:`.lint` — reference checks and lint rules, with :mod:`.lint_rules` (deadlines never met, steps out
  of final states, guards not registered), :mod:`.findings`, :mod:`.integrity` (role cycles, repeated enum
  values, step data that can never be given) and :mod:`.workflow_set` (escalation targets, across files);
- :mod:`.guards` — Python guards named ``module:attr`` (:func:`.guards.load_guards`);
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
