"""History bundles, format 1: the constants, the errors and the parsed file's types (the format is
described in :mod:`ijime_flow.audit.bundle`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ...errors import IjimeFlowError, InvalidData
from ...store.rows import CaseRow
from ..verify import VerificationReport

BUNDLE_FORMAT = 1
"""The ``format`` of the header this version writes and the only one it reads."""

BUNDLE_KIND = "ijime-flow-bundle"
"""The ``kind`` of the header line."""

_GROUPS = ("definition", "event", "proof", "key")  # the order of the groups after the header (keys: a disclosure)
_MAX_ROUNDS = 5  # export re-reads the cases until two reads agree (see _snapshot)


# -- errors -----------------------------------------------------------------------------------------
class BundleError(InvalidData):
    """The file is not a usable bundle. ``path`` and ``line`` (1-based; ``None`` for the whole file)
    say where, ``detail`` what."""

    def __init__(self, path: Path | str, line: int | None, detail: str) -> None:
        self.path, self.line, self.detail = str(path), line, detail
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: 履歴バンドルとして読めません / not a usable bundle: {detail}")


class BundleRejected(IjimeFlowError):
    """The bundle is readable but was not imported; ``problems`` says why (nothing was written)."""

    def __init__(self, message: str, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join([message, *(f"  {p}" for p in self.problems)]))


class NotVerified(BundleRejected):
    """The bundle does not verify: ``report`` is its verification report."""

    def __init__(self, path: Path | str, report: VerificationReport) -> None:
        self.report = report
        super().__init__(f"{path}: 検証NGのため取り込みません / the bundle does not verify, nothing imported"
                         f" ({len(report.problems)} problem(s))", [str(p) for p in report.problems])


class CasesAlreadyExist(BundleRejected):
    """Cases of the bundle are already in the target store: ``case_ids``."""

    def __init__(self, path: Path | str, case_ids: Sequence[str], problems: Sequence[str]) -> None:
        self.case_ids = tuple(case_ids)
        super().__init__(f"{path}: 既にある事案は取り込みません / the target store already holds"
                         f" {len(self.case_ids)} case(s) of the bundle, nothing imported", problems)


# -- the parsed file ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class BundleEvent:
    """An event line: the stored text of one event, where it was, and the line it is on."""

    case_id: str
    seq: int
    position: int
    body: str
    line: int


@dataclass(frozen=True)
class BundleProof:
    """A proof line: the inclusion proof of one event in a signed checkpoint."""

    case_id: str
    seq: int
    inclusion: dict[str, Any]
    line: int


@dataclass(frozen=True)
class Bundle:
    """A bundle file as read by :func:`read_bundle` (its shape checked, nothing verified)."""

    path: Path
    case_id: str
    cases: tuple[str, ...]
    exported_at: datetime
    generator: str
    definitions: dict[str, str]  # sha256 -> canonical text, in file order
    events: tuple[BundleEvent, ...]
    proofs: tuple[BundleProof, ...]
    keys: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # kid -> (owner, key): a disclosure's own keys
    withheld: dict[str, Any] | None = None  # the header's summary of what a disclosure or redacted bundle withheld
    outside: tuple[str, ...] = ()  # linked cases left out on purpose: the year's other concerns (see write._collect)

    def body(self, case_id: str, seq: int) -> str | None:
        """The stored text of one event of the bundle."""
        for event in self.events:
            if event.case_id == case_id and event.seq == seq:
                return event.body
        return None


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_bundle` wrote."""

    case_id: str  # the main case
    cases: tuple[str, ...]  # every case written, the main case first
    events: int
    definitions: int  # definitions in the bundle (a store keeps each text once; one it had is unchanged)
    rows: tuple[CaseRow, ...]  # the projection rows written, one per case
