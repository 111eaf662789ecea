"""ijime-flow: a school's bullying-response procedure (いじめ対応) as YAML state machines, with a
tamper-evident, replayable event log.

Quick start::

    from ijime_flow import Engine, Actor
    engine = Engine("cases.db", school="school-0001")
    engine.load("workflows/")
    case = engine.open_case("response", actor=Actor("t-014", {"staff"}))
    case.fire("stop_act", actor=Actor("t-014", {"staff"}))
"""

from __future__ import annotations

from .actor import Actor, Subject
from .audit.verify import VerificationProblem, VerificationReport
from .case import Case
from .clock import Clock, FixedClock, SystemClock
from .deadlines import Deadline
from .definition import Definition
from .engine import Engine
from .errors import (
    CaseExists,
    ConcurrencyError,
    ConditionFailure,
    DefinitionError,
    GuardFailed,
    HoldInForce,
    IjimeFlowError,
    InvalidData,
    InvalidTransition,
    PermissionDenied,
    Problem,
    StoredDefinitionError,
    StoreError,
    UnknownCase,
    UnknownTrigger,
    UnknownWorkflow,
)
from .events import Event
from .language.conditions import EvalContext
from .language.loader import load_file, load_path, load_text
from .privacy.sealing import ERASED, About
from .step_api import DataField, DeadlineDue, StepInfo, StepResult, retry
from .version import __version__

__all__ = [
    "ERASED",
    "About",
    "Actor",
    "Case",
    "CaseExists",
    "Clock",
    "ConcurrencyError",
    "ConditionFailure",
    "DataField",
    "Deadline",
    "DeadlineDue",
    "Definition",
    "DefinitionError",
    "Engine",
    "EvalContext",
    "Event",
    "FixedClock",
    "GuardFailed",
    "HoldInForce",
    "IjimeFlowError",
    "InvalidData",
    "InvalidTransition",
    "PermissionDenied",
    "Problem",
    "StepInfo",
    "StepResult",
    "StoreError",
    "StoredDefinitionError",
    "Subject",
    "SystemClock",
    "UnknownCase",
    "UnknownTrigger",
    "UnknownWorkflow",
    "VerificationProblem",
    "VerificationReport",
    "__version__",
    "load_file",
    "load_path",
    "load_text",
    "retry",
]
