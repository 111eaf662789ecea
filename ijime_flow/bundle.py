"""History bundles: one case's history in one file, to hand over, archive or audit away from the store.

A bundle is exported from a store (:func:`export_bundle`, ``ijime-flow export``), read back as an
in-memory engine that replays and verifies exactly like the store did (:func:`load_bundle`), and
imported into another store once it verifies (:func:`import_bundle`, ``ijime-flow import``).

**Format 1.** A bundle is a JSON Lines file: UTF-8 text, one JSON object per line, each line ended by
``\\n`` (a reader accepts the last line without it). Key order inside an object is not significant;
the writer puts ``kind`` first and writes no insignificant white space. The lines come in four groups,
in this order:

1. **One header** (line 1)::

       {"kind": "ijime-flow-bundle", "format": 1, "case_id": MAIN, "exported_at": TIME,
        "cases": [MAIN, ...], "events": N, "proofs": P, "generator": "ijime-flow 0.1.0"}

   ``case_id`` is the case the bundle was exported for; ``cases`` lists every case in the bundle, the
   main case first, then the cases linked to it by escalation (with ``--with-linked``) in the order
   they were opened; ``exported_at`` is ISO 8601 with a UTC offset; ``events`` and ``proofs`` count the
   event and proof lines that follow (a file cut at a line boundary is caught by them — they are not a
   signature: the proofs are). ``generator`` is informative. A reader refuses any other ``format``.

2. **Definitions**, one line for every workflow definition pinned by the first event of a case in the
   bundle, in the order of ``cases``::

       {"kind": "definition", "sha256": HEX, "text": CANONICAL_TEXT}

   ``text`` is the definition's canonical JSON text as the store keeps it; its SHA-256 is ``sha256``
   and is what the case's first event pins. A definition the store did not have is left out (the
   bundle then fails verification at that case's seq 1, as the store did).

3. **Events**, every event of every case in the bundle, in the store's global ``position`` order (so
   each case's events come in ``seq`` order 1, 2, 3 … with no gap)::

       {"kind": "event", "case_id": ID, "seq": N, "position": P, "body": STORED_TEXT}

   ``body`` is the event's canonical JSON text exactly as the store holds it, as a JSON string: byte
   for byte what the event's ``hash`` covers and what a checkpoint's Merkle leaf is made of (see "The
   event log"). ``position`` is the event's position in the store it was exported from.

4. **Proofs** (only when exported against a signed checkpoint), one line per event recorded at or
   before the checkpoint (``position`` ≤ its ``size``), in the order of the events::

       {"kind": "proof", "case_id": ID, "seq": N, "inclusion": PROOF}

   ``PROOF`` is exactly what ``ijime-flow prove`` writes (:func:`ijime_flow.audit.inclusion_bundle`):
   the signed checkpoint, ``leaf_index`` (= ``position`` - 1), the event text and the RFC 6962 audit
   path. Saved alone as a file it is checked by ``ijime-flow verify-proof`` (or
   :func:`ijime_flow.audit.check_bundle`, or :func:`check_proofs` for all of them at once). Events
   recorded after the checkpoint get no proof line.

**Reading** (:func:`read_bundle`) refuses, as :class:`BundleError` (an ``InvalidData``) naming the
file and the line: a file that is not UTF-8, a line that is not a JSON object (a cut line), a missing
header, a format other than 1, an unknown ``kind``, a group out of order, a field missing or of the
wrong type, an event of a case the header does not list, a case whose events do not run 1, 2, 3 …, a
listed case without events, positions not increasing, and counts that differ from the header's.
An event whose *body* is damaged is **not** refused: the bundle loads and verification reports it
with its case and seq, as it would in a store. Neither is a pinned definition that is missing.

**Verifying.** :func:`load_bundle` gives an :class:`~ijime_flow.engine.Engine` over a
:class:`~ijime_flow.store.MemoryStore` holding the definitions and every event byte for byte, with no
workflow loaded: each case replays under the text it pinned, so ``engine.verify()`` checks the
bundle as it would the store (chains, pinned definitions, the legality of every step, the links of
escalations). A case that escalated, exported without its linked case, fails the link check: export
it ``--with-linked``.

**Importing** (:func:`import_bundle`) loads and verifies the bundle, refuses it when it does not
verify or when any of its cases already exists in the target store (:class:`BundleRejected`,
nothing written), and otherwise writes the definitions and every event, byte for byte, with the
cases' projection rows, in one append (all or none).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .canonical import sha256_hex
from .clock import FixedClock, require_aware
from .conditions import GuardFn
from .definition import Definition
from .engine import Engine
from .errors import ConcurrencyError, IjimeFlowError, InvalidData, UnknownCase
from .events import Event, parse_event
from .projection import CaseRow, ProjectionProblem, project_log
from .store import MemoryStore, Store, StoredEvent
from .verify import VerificationReport

if TYPE_CHECKING:
    from .checkpoint import Checkpoint

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_KIND",
    "Bundle",
    "BundleError",
    "BundleEvent",
    "BundleProof",
    "BundleRejected",
    "CasesAlreadyExist",
    "ImportResult",
    "NotVerified",
    "check_proofs",
    "export_bundle",
    "import_bundle",
    "linked_case_ids",
    "load_bundle",
    "read_bundle",
]

BUNDLE_FORMAT = 1
"""The ``format`` of the header this version writes and the only one it reads."""

BUNDLE_KIND = "ijime-flow-bundle"
"""The ``kind`` of the header line."""

_GROUPS = ("definition", "event", "proof")  # the order of the groups after the header
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


# -- export -------------------------------------------------------------------------------------------
def export_bundle(engine: Engine, case_id: str, *, with_linked: bool, checkpoint: Checkpoint | None = None,
                  exported_at: datetime) -> str:
    """The bundle text of ``case_id`` (see the module documentation for the format).

    ``with_linked``: also every case linked to it by escalation, both ways, transitively.
    ``checkpoint``: add the inclusion proof of every event recorded at or before it; the store must
    hold the events the checkpoint was signed over (its first ``size`` events hash to its root), or
    ``InvalidData`` says it does not. ``UnknownCase`` if the case is not in the store."""
    require_aware(exported_at, "exported_at")
    store = engine.store
    logs = _snapshot(store, case_id, with_linked)
    cases = list(logs)
    definitions: dict[str, str] = {}
    for cid in cases:
        sha = _pinned(logs[cid][0].body) if logs[cid] else None
        if sha is not None and sha not in definitions:
            text = store.get_definition(sha)
            if text is not None:
                definitions[sha] = text
    events = sorted((row for rows in logs.values() for row in rows), key=lambda row: row.position)
    proofs = _proofs(store, events, checkpoint) if checkpoint is not None else []
    header = {"kind": BUNDLE_KIND, "format": BUNDLE_FORMAT, "case_id": case_id, "exported_at": exported_at.isoformat(),
              "cases": cases, "events": len(events), "proofs": len(proofs), "generator": f"ijime-flow {__version__}"}
    lines = [header]
    lines += [{"kind": "definition", "sha256": sha, "text": text} for sha, text in definitions.items()]
    lines += [{"kind": "event", "case_id": row.case_id, "seq": row.seq, "position": row.position, "body": row.body}
              for row in events]
    lines += proofs
    return "".join(_line(obj) for obj in lines)


def linked_case_ids(store: Store, case_id: str) -> list[str]:
    """The cases directly linked to ``case_id`` by escalation, either way, read from its log: the
    ``case`` of its ``escalated`` events and the ``escalated_from`` of its ``opened`` and
    ``criterion_met`` events (a body that does not parse links nothing)."""
    return _links(store.read_case(case_id))


def _links(rows: Iterable[StoredEvent]) -> list[str]:
    found: list[str] = []
    for row in rows:
        try:
            body = json.loads(row.body)
        except ValueError:
            continue
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            continue
        kind = body.get("type")
        other = data.get("case") if kind == "escalated" else (
            data.get("escalated_from") if kind in ("opened", "criterion_met") else None)
        if isinstance(other, str) and other and other not in found:
            found.append(other)
    return found


def _snapshot(store: Store, case_id: str, with_linked: bool) -> dict[str, list[StoredEvent]]:
    """The logs of the bundle's cases, the main case first, then the others in the order they were
    opened. A store being written meanwhile could give a case and its linked case one escalation
    apart (each is read in turn), so the cases are read again until two reads agree."""
    previous: dict[str, list[StoredEvent]] | None = None
    for _ in range(_MAX_ROUNDS):
        logs = _collect(store, case_id, with_linked)
        if logs == previous:
            return logs
        previous = logs
    from .errors import StoreError

    raise StoreError(f"case {case_id} changed during each of {_MAX_ROUNDS} reads: export it again when the store is"
                     " quieter")


def _collect(store: Store, case_id: str, with_linked: bool) -> dict[str, list[StoredEvent]]:
    main = store.read_case(case_id)
    if not main:
        raise UnknownCase(case_id)
    logs = {case_id: main}
    queue = [case_id]
    while with_linked and queue:
        for other in _links(logs[queue.pop(0)]):
            if other not in logs:
                rows = store.read_case(other)
                if rows:  # a link to a case the store lacks: verification reports it
                    logs[other] = rows
                    queue.append(other)
    others = sorted((cid for cid in logs if cid != case_id), key=lambda cid: logs[cid][0].position)
    return {case_id: main, **{cid: logs[cid] for cid in others}}


def _pinned(body: str) -> str | None:
    try:
        event = json.loads(body)
        sha = event["definition"]["sha256"]
    except (ValueError, KeyError, TypeError):
        return None
    return sha if isinstance(sha, str) else None


def _proofs(store: Store, events: Sequence[StoredEvent], checkpoint: Checkpoint) -> list[dict[str, Any]]:
    """The proof lines: what :func:`ijime_flow.audit.inclusion_bundle` gives for each event at or
    before the checkpoint, with the store's leaves read once for all of them."""
    from .audit import BUNDLE_FORMAT as PROOF_FORMAT
    from .checkpoint import to_json
    from .merkle import MerkleLog, inclusion_proof, leaf_hash

    leaves = [leaf_hash(row.body.encode("utf-8")) for row in store.read_from(0)]
    if len(leaves) < checkpoint.size:
        raise InvalidData(f"the checkpoint of {checkpoint.issued_at} holds {checkpoint.size} events but the store only"
                          f" {len(leaves)}: it is a checkpoint of another store, or events were deleted"
                          " (run `ijime-flow verify --checkpoint`)")
    if MerkleLog(leaves[:checkpoint.size]).root() != checkpoint.root_bytes:
        raise InvalidData(f"the store's first {checkpoint.size} events do not hash to the root of the checkpoint of"
                          f" {checkpoint.issued_at}: it is a checkpoint of another store, or the store was changed"
                          " (run `ijime-flow verify --checkpoint`)")
    signed = json.loads(to_json(checkpoint))
    lines = []
    for row in events:
        index = row.position - 1
        if index < checkpoint.size:
            inclusion = {"format": PROOF_FORMAT, "checkpoint": signed, "case_id": row.case_id, "seq": row.seq,
                         "leaf_index": index, "event": row.body,
                         "proof": [h.hex() for h in inclusion_proof(leaves, index, size=checkpoint.size)]}
            lines.append({"kind": "proof", "case_id": row.case_id, "seq": row.seq, "inclusion": inclusion})
    return lines


def _line(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


# -- reading --------------------------------------------------------------------------------------------
def read_bundle(path: Path) -> Bundle:
    """Read a bundle file and check its shape (not its content: that is :func:`load_bundle` and
    ``verify``). Every problem is a :class:`BundleError` naming the file and line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BundleError(path, None, f"cannot read it ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(path, raw.count(b"\n", 0, exc.start) + 1, "not UTF-8 text") from None
    lines = text.removeprefix("\ufeff").split("\n")  # "\n" only: U+2028 and friends may sit inside strings
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise BundleError(path, None, "the file is empty (no header)")
    reader = _Reader(path)
    for number, line in enumerate(lines, start=1):
        reader.take(number, line)
    return reader.finish()


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.header: dict[str, Any] = {}
        self.group = -1  # index in _GROUPS of the last group seen
        self.definitions: dict[str, str] = {}
        self.events: list[BundleEvent] = []
        self.proofs: list[BundleProof] = []
        self.last_seq: dict[str, int] = {}
        self.last_position = 0

    def fail(self, line: int | None, detail: str) -> BundleError:
        return BundleError(self.path, line, detail)

    def take(self, number: int, line: str) -> None:
        if not line.strip():
            raise self.fail(number, "an empty line (each line must hold one JSON object)")
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise self.fail(number, f"not JSON, the line is cut or damaged ({exc})") from None
        except RecursionError:
            raise self.fail(number, "not usable JSON (nested too deeply)") from None
        if not isinstance(obj, dict):
            raise self.fail(number, f"a line must hold a JSON object, not {type(obj).__name__}")
        kind = obj.get("kind")
        if number == 1:
            self.take_header(obj)
            return
        if kind == BUNDLE_KIND:
            raise self.fail(number, "a second header")
        if kind not in _GROUPS:
            raise self.fail(number, f"unknown kind {kind!r} (expected one of {', '.join(_GROUPS)})")
        group = _GROUPS.index(str(kind))
        if group < self.group:
            raise self.fail(number, f"a {kind} line after the {_GROUPS[self.group]} lines (the order is header,"
                                    " definitions, events, proofs)")
        self.group = group
        if kind == "definition":
            self.take_definition(number, obj)
        elif kind == "event":
            self.take_event(number, obj)
        else:
            self.take_proof(number, obj)

    def take_header(self, obj: dict[str, Any]) -> None:
        if obj.get("kind") != BUNDLE_KIND:
            raise self.fail(1, f"the header is missing: line 1 must be {{\"kind\": \"{BUNDLE_KIND}\", ...}}, found"
                               f" kind {obj.get('kind')!r}")
        fmt = obj.get("format")
        if type(fmt) is not int or fmt != BUNDLE_FORMAT:
            raise self.fail(1, f"bundle format {fmt!r} is not supported (this ijime-flow {__version__} reads format"
                               f" {BUNDLE_FORMAT})")
        self.need(1, obj, "case_id", str)
        cases = self.need(1, obj, "cases", list)
        if not cases or not all(isinstance(c, str) and c for c in cases) or len(set(cases)) != len(cases):
            raise self.fail(1, "'cases' must list the bundle's case ids, each once")
        if obj["case_id"] not in cases:
            raise self.fail(1, f"the main case {obj['case_id']} is not in 'cases'")
        for count in ("events", "proofs"):
            value = self.need(1, obj, count, int)
            if isinstance(value, bool) or value < 0:
                raise self.fail(1, f"'{count}' must be a count")
        stamp = self.need(1, obj, "exported_at", str)
        try:
            exported_at = datetime.fromisoformat(stamp)
        except ValueError:
            raise self.fail(1, f"exported_at {stamp!r} is not an ISO 8601 time") from None
        if exported_at.tzinfo is None or exported_at.utcoffset() is None:
            raise self.fail(1, f"exported_at {stamp!r} has no UTC offset")
        self.header = {**obj, "exported_at": exported_at}

    def need(self, number: int, obj: Mapping[str, Any], key: str, kind: type) -> Any:
        value = obj.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            what = "missing" if key not in obj else f"a {type(value).__name__}, not a {kind.__name__}"
            raise self.fail(number, f"'{key}' is {what}")
        return value

    def take_definition(self, number: int, obj: dict[str, Any]) -> None:
        sha, text = self.need(number, obj, "sha256", str), self.need(number, obj, "text", str)
        if sha in self.definitions:
            raise self.fail(number, f"definition {sha[:12]}… a second time")
        self.definitions[sha] = text

    def take_event(self, number: int, obj: dict[str, Any]) -> None:
        case_id, body = self.need(number, obj, "case_id", str), self.need(number, obj, "body", str)
        seq, position = self.need(number, obj, "seq", int), self.need(number, obj, "position", int)
        if case_id not in self.header["cases"]:
            raise self.fail(number, f"an event of case {case_id}, which the header does not list")
        expected = self.last_seq.get(case_id, 0) + 1
        if seq != expected:
            raise self.fail(number, f"case {case_id} seq {seq} where seq {expected} was due: an event is missing,"
                                    " doubled or out of order")
        if position <= self.last_position:
            raise self.fail(number, f"position {position} does not follow {self.last_position}: events must be in"
                                    " position order")
        self.last_seq[case_id], self.last_position = seq, position
        self.events.append(BundleEvent(case_id, seq, position, body, number))

    def take_proof(self, number: int, obj: dict[str, Any]) -> None:
        case_id, seq = self.need(number, obj, "case_id", str), self.need(number, obj, "seq", int)
        inclusion = self.need(number, obj, "inclusion", dict)
        self.proofs.append(BundleProof(case_id, seq, inclusion, number))

    def finish(self) -> Bundle:
        header = self.header
        empty = [cid for cid in header["cases"] if cid not in self.last_seq]
        if empty:
            raise self.fail(1, f"the header lists case(s) {', '.join(empty)} but the bundle holds no event of them")
        for count, found in (("events", len(self.events)), ("proofs", len(self.proofs))):
            if header[count] != found:
                raise self.fail(1, f"the header announces {header[count]} {count} but the bundle holds {found}: the file"
                                   " was cut or edited")
        return Bundle(self.path, header["case_id"], tuple(header["cases"]), header["exported_at"],
                      str(header.get("generator", "")), dict(self.definitions), tuple(self.events), tuple(self.proofs))


# -- loading -------------------------------------------------------------------------------------------
def load_bundle(path: Path, *, guards: Mapping[str, GuardFn] | None = None) -> tuple[Engine, str]:
    """The bundle as an in-memory engine, and its main case id.

    The engine's :class:`~ijime_flow.store.MemoryStore` holds the bundle's definitions and every
    event, byte for byte, in the bundle's order (positions renumbered 1, 2, 3 …), with the projection
    rebuilt from them; its clock is fixed at ``exported_at``; no workflow is loaded, so every case
    replays under its pinned text. ``guards``: the Python guards the workflows use, if any. A damaged
    event body still loads (``engine.verify()`` reports it with its seq); a file that cannot be read as
    a bundle is a :class:`BundleError`."""
    bundle = read_bundle(path)
    return _engine_of(bundle, guards), bundle.case_id


def _engine_of(bundle: Bundle, guards: Mapping[str, GuardFn] | None) -> Engine:
    store = MemoryStore()
    for sha, text in bundle.definitions.items():
        store.put_definition(sha, *_identity(text), text)
    for line in bundle.events:
        store.append([(_event_of(line), line.body)])
    engine = Engine(store, clock=FixedClock(bundle.exported_at), guards=guards)
    engine.rebuild_projection()
    return engine


def _identity(text: str) -> tuple[str, str]:
    """The workflow id and version of a definition text ('' when it does not parse: verify says so)."""
    try:
        spec = json.loads(text)
    except ValueError:
        return "", ""
    if not isinstance(spec, dict):
        return "", ""
    return str(spec.get("id", "")), str(spec.get("version", ""))


def _event_of(line: BundleEvent) -> Event:
    """The event to append for a line. The store files it under the line's case id and seq; when the
    body does not parse or names another place, a stand-in carries just those, so the body is kept as
    it is and ``verify`` reports what is wrong with it at that seq."""
    try:
        event = parse_event(line.body, line.case_id, line.seq)
    except IjimeFlowError:
        event = None
    if event is None or (event.case_id, event.seq) != (line.case_id, line.seq):
        known: dict[str, Any] = {"case_id": line.case_id, "seq": line.seq}  # all MemoryStore.append reads
        return Event.model_construct(**known)
    return event


# -- proofs -------------------------------------------------------------------------------------------------
def check_proofs(bundle: Bundle, public_key_pem: bytes) -> list[str]:
    """Check every proof line offline (:func:`ijime_flow.audit.check_bundle`: the checkpoint's
    signature and the audit path), and that each proves the event the bundle holds at that case, seq
    and position. Empty when all hold; ``ValueError`` if the public key cannot be loaded."""
    from .audit import check_bundle

    positions = {(e.case_id, e.seq): e for e in bundle.events}
    problems: list[str] = []
    for proof in bundle.proofs:
        where = f"line {proof.line}: case {proof.case_id} seq {proof.seq}"
        event = positions.get((proof.case_id, proof.seq))
        inclusion = proof.inclusion
        if event is None:
            problems.append(f"{where}: the bundle holds no such event")
            continue
        if (inclusion.get("case_id"), inclusion.get("seq")) != (proof.case_id, proof.seq):
            problems.append(f"{where}: the proof is for case {inclusion.get('case_id')} seq {inclusion.get('seq')}")
        if inclusion.get("event") != event.body:
            problems.append(f"{where}: the proof is for another text than the bundle's event")
        if inclusion.get("leaf_index") != event.position - 1:
            problems.append(f"{where}: the proof is for leaf {inclusion.get('leaf_index')}, the event was at position"
                            f" {event.position}")
        problems += [f"{where}: {p}" for p in check_bundle(inclusion, public_key_pem)]
    return problems


# -- import ----------------------------------------------------------------------------------------------
def import_bundle(path: Path, store_or_engine: Store | Engine) -> ImportResult:
    """Verify the bundle and write it into the target store: definitions, events byte for byte, and
    the cases' projection rows, in one append (all or none).

    Refused with :class:`NotVerified` when the bundle does not verify (an engine given as target lends
    its guards to the verification) and with :class:`CasesAlreadyExist` when a case of the bundle is
    already in the store; in both cases nothing is written. A file that cannot be read as a bundle is
    a :class:`BundleError`."""
    target = store_or_engine.store if isinstance(store_or_engine, Engine) else store_or_engine
    guards = store_or_engine.guards if isinstance(store_or_engine, Engine) else None
    bundle = read_bundle(path)
    with _engine_of(bundle, guards) as source:
        report = source.verify()
        if not report.ok:
            raise NotVerified(path, report)
        problems = [_definition_problem(sha, text) for sha, text in bundle.definitions.items()]
        if any(problems):
            raise BundleRejected(f"{path}: 定義が壊れています / a definition of the bundle is damaged, nothing imported",
                                 [p for p in problems if p])
        _refuse_existing(path, bundle, target)
        projected: list[ProjectionProblem] = []
        rows = tuple(project_log(source.store.read_from(0), _definitions_of(source), projected))
        if projected or len(rows) != len(bundle.cases):
            raise BundleRejected(f"{path}: 事案を投影できません / the cases cannot be projected, nothing imported",
                                 [f"{p.case_id}: {p.message}" for p in projected] or ["a case has no row"])
        for sha, text in bundle.definitions.items():
            target.put_definition(sha, *_identity(text), text)
        records = [(parse_event(e.body, e.case_id, e.seq), e.body) for e in bundle.events]
        try:
            target.append(records, rows)
        except ConcurrencyError as exc:
            raise CasesAlreadyExist(path, [exc.case_id], [f"case {exc.case_id} was written by someone else during the"
                                                          " import"]) from None
    return ImportResult(bundle.case_id, bundle.cases, len(records), len(bundle.definitions), rows)


def _definition_problem(sha: str, text: str) -> str:
    """'' when the text hashes to its key and parses as a workflow (pinned ones are checked by verify;
    this also covers any other the file carries, so no text is kept under a wrong hash)."""
    if sha256_hex(text) != sha:
        return f"definition {sha[:12]}…: its text does not hash to {sha}"
    try:
        Definition.from_canonical(text, file=f"<bundle:{sha[:12]}>")
    except (ValueError, IjimeFlowError) as exc:
        return f"definition {sha[:12]}…: not a workflow definition ({str(exc).splitlines()[0]})"
    return ""


def _definitions_of(engine: Engine) -> Callable[[str], Definition | None]:
    def definition_for(sha256: str) -> Definition | None:
        runtime = engine.runtime_for(sha256)
        return runtime.definition if runtime is not None else None

    return definition_for


def _refuse_existing(path: Path, bundle: Bundle, target: Store) -> None:
    present: list[str] = []
    problems: list[str] = []
    mine = {cid: [e.body for e in bundle.events if e.case_id == cid] for cid in bundle.cases}
    for cid in bundle.cases:
        rows = target.read_case(cid)
        if rows:
            present.append(cid)
            same = [row.body for row in rows] == mine[cid]
            problems.append(f"case {cid} is already in the store" + (
                " with the same history (this bundle was imported before)" if same else
                f" with another history ({len(rows)} event(s) there, {len(mine[cid])} in the bundle)"))
    if present:
        raise CasesAlreadyExist(path, present, problems)
