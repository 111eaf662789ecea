"""Verification with every core: the cases of a store shared among processes, one report.

``engine.verify(workers=N)`` (``ijime-flow verify --db DB --workers N``). Cases are independent, so
each is verified whole by one process, of the share its id falls in. This process
verifies share 0 itself, on its own engine, while ``N - 1`` processes of a pool (the ``spawn`` start
method: no copy of this process's threads or connections) each open the store by its path or URL
themselves, read-only, and verify one other share: every one reads the log in position order, one
sequential scan, with the very code of :func:`~.verify.verify_store`, given only its share's rows
(:meth:`Store.read_share <ijime_flow.store.Store.read_share>`: the cases by the last character of their
id; SQLite and PostgreSQL pass the other rows by themselves). Reading the whole log is about a sixth of
one process's work, the check the rest: reading it in case order from the ``(case_id, seq)`` index
instead, each process only its own, was measured slower (rows scattered over the file). The
definitions come from the store by hash, as they always do, and the ones this engine has loaded are
handed over as texts. As ``spawn`` requires, a script that verifies with workers runs under
``if __name__ == "__main__":`` (each worker imports the script's main module).

The shares come back with each case's problems, its row count, whether it must be verified again,
the links it took as found and the events of its that record links; they are merged in the order the
cases were reached in the log and settled as one verification is (:func:`~.verify._settle`): links
between cases of different shares are looked for among every share's events, the cases to verify again
are verified here from their own rows. So the report is the one a single process gives — the same
problems in the same order, the same counts (``tests/test_parallel.py`` compares them on SQLite and
PostgreSQL, on legal and damaged stores).

**One process instead** (a warning ``verify.one_worker`` on the library's log says why): a store in
memory, or one given as a connection of the application's with no file or URL to open again, a
transaction open in the engine, or Python guards (``engine.register_guard``) that cannot be named for
another process — a guard is handed over by its module and name (as ``--guards module:attr`` names
one), so a lambda or a function defined inside another cannot. A share whose process fails (it could
not import a guard, it died) is verified here instead: the report is still the whole one.

**Progress**: the ids of the cases as they are reached, this process's own as it reads them and the
other processes' a few hundred at a time, through a queue.
"""

from __future__ import annotations

import gc
import heapq
import multiprocessing
import os
import pickle
import queue as queues
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from .. import logs
from ..definition import Definition
from ..machine import CompiledMachine, Runtime
from ..store import SQLiteStore, open_store
from ..store.postgres import PostgresStore
from .legality import _Steps
from .links import records_link
from .problems import VerificationProblem, VerificationReport
from .run import Ledger, _Run
from .verify import _finish, _settle, _stream, verify_store

if TYPE_CHECKING:
    from ..language.conditions import GuardFn
    from ..store import Store

__all__ = ["AUTO_MIN_EVENTS", "Pool", "cores", "verify_parallel"]

AUTO_MIN_EVENTS = 100_000  # workers=None: below this many events one process is quicker than starting others
_REPORT_EVERY = 500  # case ids a worker gathers before it reports them (progress)
# a finished case: (first position, id, problems, rows, verify again)
_Done = tuple[int, str, list[VerificationProblem], int, bool]
# what a share sends back: its finished cases in log order, the links it took as found, the link events it read
_Share = tuple[list[_Done], list[tuple[str, str, str, str, bool]], dict[str, list[tuple[str, dict[str, Any]]]]]


class Opens(Protocol):
    """How a worker makes its ledger from the store it opened (an :class:`~ijime_flow.Engine` class)."""

    def __call__(self, store: Store, *, guards: Mapping[str, GuardFn]) -> Ledger: ...


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def target_of(store: Store) -> str | None:
    """The path or URL another process opens the store by (``None``: it cannot)."""
    if isinstance(store, SQLiteStore):
        return store.path if store.path and os.path.isfile(store.path) else None
    if isinstance(store, PostgresStore):
        return store.url or None
    return None


# -- one share ------------------------------------------------------------------------------------------
class _Shard:
    """One share of the cases being verified on ``ledger``: :meth:`reached` reads the log (yielding each
    case id as it is reached), :meth:`result` finishes every case of it."""

    def __init__(self, ledger: Ledger, share: int, shares: int) -> None:
        self.run = _Run(ledger)
        self.cases: dict[str, _Steps] = {}
        self.firsts: list[int] = []  # the position of each case's first row, in the order they are reached
        self.share, self.shares = share, shares

    def reached(self) -> Iterator[str]:
        collecting = gc.isenabled()
        gc.disable()  # as verify_store: the check makes no reference cycles
        try:
            yield from _stream(self.run, self.cases, self.run.engine.store.read_share(self.share, self.shares), self.firsts)
        finally:
            if collecting:
                gc.enable()

    def result(self) -> _Share:
        done = [(first, cid, *_finish(steps)) for first, (cid, steps) in zip(self.firsts, self.cases.items(), strict=True)]
        links = {cid: found for cid, events in self.run.links.items()
                 if (found := [(kind, data) for kind, data in events if records_link(kind, data)])}
        return done, self.run.deferred, links


class _Known:
    """A worker's ledger that also knows the definitions the engine that asked had loaded (by text)."""

    def __init__(self, ledger: Ledger, texts: Mapping[str, str]) -> None:
        self.ledger, self.texts, self.made = ledger, texts, dict[str, Runtime]()

    @property
    def store(self) -> Store:
        return self.ledger.store

    @property
    def guards(self) -> Mapping[str, GuardFn]:
        return self.ledger.guards

    def runtime_for(self, sha256: str) -> Runtime | None:
        text = self.texts.get(sha256)
        if text is None:
            return self.ledger.runtime_for(sha256)
        found = self.made.get(sha256)
        if found is None:
            definition = Definition.from_canonical(text, file=f"<loaded:{sha256[:12]}>")
            found = self.made[sha256] = Runtime(definition, CompiledMachine(definition))
        return found


_progress: Any = None  # in a worker: the queue its pool reports progress on


def _start_worker(progress: Any) -> None:
    global _progress
    _progress = progress


def _verify_share(handed: bytes, target: str, known: Mapping[str, str], share: int, shares: int,
                  token: str | None) -> _Share:
    """In a worker: open the store read-only, verify one share of its cases. ``handed``: the pickled
    ledger class and guards, read here (a guard that cannot be imported fails this share, not the pool)."""
    store = open_store(target, read_only=True)
    try:
        opens, guards = pickle.loads(handed)
        ledger = opens(store, guards=guards)
        shard = _Shard(_Known(ledger, known) if known else ledger, share, shares)
        if token is None:
            for _ in shard.reached():
                pass
            return shard.result()
        batch: list[str] = []
        for cid in shard.reached():
            batch.append(cid)
            if len(batch) == _REPORT_EVERY:
                _progress.put((token, batch))
                batch = []
        _progress.put((token, batch))
        return shard.result()
    finally:
        if token is not None:
            _progress.put((token, None))  # this share is done (reported after its last ids)
        store.close()


# -- the pool -------------------------------------------------------------------------------------------
class Pool:
    """Worker processes for verifications (``spawn``), with the queue they report progress on; a
    verification makes one of its own unless given one (tests keep one for many)."""

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.queue: Any = context.Queue()
        self.executor = ProcessPoolExecutor(max(1, workers), mp_context=context, initializer=_start_worker,
                                            initargs=(self.queue,))

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.queue.close()
        self.queue.join_thread()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _handed(engine: Ledger, opens: Opens, busy: bool) -> bytes | str:
    """The ledger class and guards as a worker reads them, or why the store cannot be verified by
    several processes."""
    if busy:
        return "a transaction is open in this engine"
    if target_of(engine.store) is None:
        return f"{type(engine.store).__name__} has no file or URL another process can open"
    for what, thing in (("guards", dict(engine.guards)), ("engine class", opens)):
        try:
            pickle.dumps(thing)
        except Exception as exc:  # a lambda, a local function or class: not importable by name
            return f"the {what} cannot be handed to another process by name ({type(exc).__name__}: {exc})"
    return pickle.dumps((opens, dict(engine.guards)))


def verify_parallel(engine: Ledger, *, workers: int | None, opens: Opens, known: Mapping[str, str] | None = None,
                    busy: bool = False, progress: Callable[[Iterable[str], int], Iterable[str]] | None = None,
                    pool: Pool | None = None) -> VerificationReport:
    """The whole store verified by ``workers`` processes, this one among them; the report
    :func:`verify_store` gives. ``None``: every core, for a store of a file or URL with at least
    :data:`AUTO_MIN_EVENTS` events (else one, without a warning). ``opens``: makes a worker's ledger
    (the engine's class); ``known``: the canonical texts of the definitions the engine has loaded, by
    hash; ``busy``: a transaction is open in it."""
    asked = workers is not None
    if workers is None:
        workers = cores() if target_of(engine.store) is not None and not busy and \
            next(iter(engine.store.read_rows(AUTO_MIN_EVENTS)), None) is not None else 1
    handed = _handed(engine, opens, busy) if workers > 1 else ""
    if isinstance(handed, str):
        if handed:
            (logs.warning if asked else logs.info)("verify.one_worker", workers=workers, reason=handed)
        return verify_store(engine, progress=progress)
    if pool is None:
        with Pool(workers - 1) as own:
            return _verify_with(engine, workers, handed, known, progress, own)
    return _verify_with(engine, workers, handed, known, progress, pool)


def _verify_with(engine: Ledger, shares: int, handed: bytes, known: Mapping[str, str] | None,
                 progress: Callable[[Iterable[str], int], Iterable[str]] | None, pool: Pool) -> VerificationReport:
    target = target_of(engine.store)
    assert target is not None
    texts = dict(known or {})
    token = None if progress is None else uuid.uuid4().hex
    futures = {share: pool.executor.submit(_verify_share, handed, target, texts, share, shares, token)
               for share in range(1, shares)}
    own = _Shard(engine, 0, shares)
    reached = own.reached() if token is None else _reached(own, futures, pool.queue, token)
    for _ in reached if progress is None else progress(reached, len(engine.store.case_ids())):
        pass
    results = [own.result()]
    store_problems = engine.store.integrity_problems()  # while the other shares finish
    for share, future in futures.items():
        try:
            results.append(future.result())
        except Exception as exc:  # the share is verified here: what it raises, a single process raises too
            logs.warning("verify.share_again", share=share, error=f"{type(exc).__name__}: {exc}")
            again = _Shard(engine, share, shares)
            for _ in again.reached():
                pass
            results.append(again.result())
    run = _Run(engine)
    for _, deferred, links in results:
        run.deferred += deferred
        run.links.update(links)
    merged = heapq.merge(*(done for done, _, _ in results), key=lambda case: case[0])
    return _settle(engine, run, (case[1:] for case in merged), store_problems)


def _reached(own: _Shard, futures: Mapping[int, Future[_Share]], progress: Any, token: str) -> Iterator[str]:
    """The ids of the cases as every share reaches them: this process's own, and between them (and
    after them) the ones the workers have reported."""
    pending = len(futures)

    def reported(wait: bool) -> Iterator[str]:
        nonlocal pending
        while pending:
            try:
                sent, batch = progress.get(timeout=0.2) if wait else progress.get_nowait()
            except queues.Empty:
                if not wait or any(f.done() and f.exception() is not None for f in futures.values()):
                    return  # a worker that failed reports no end: its share is verified again here
                continue
            if sent != token:
                continue  # an earlier verification's, on a pool given
            if batch is None:
                pending -= 1
            else:
                yield from batch

    for n, cid in enumerate(own.reached()):
        yield cid
        if n % 256 == 255:
            yield from reported(wait=False)
    yield from reported(wait=True)
