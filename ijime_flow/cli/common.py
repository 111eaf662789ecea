"""What the commands share: exit codes, plain-words errors, reading files and writing output."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..actor import Actor
from ..engine import Engine
from ..errors import IjimeFlowError
from ..language.conditions import GuardFn

EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def emit(text: str, output: Path | None) -> None:
    """Write to the ``-o`` file if one was given, else to standard output."""
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise Unusable(f"{output} に書き込めません / cannot write {output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)


def open_existing(db: str | Path) -> Engine:
    """The store of a reading command: it must exist and be an ijime-flow store; opened read-only."""
    from ..audit.source import open_reading

    return open_reading(db)


class Unusable(IjimeFlowError):
    pass


def progress_bar(items: Any, total: int) -> Any:
    from .progress import progress

    return progress(items, total=total, desc="検証 / verify")


def read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise Unusable(f"cannot read the {what} {path}: {exc.strerror}") from None


def read_checkpoint(path: Path) -> Any:
    """A C2SP checkpoint, or a JSON one of format 1 (read for compatibility)."""
    from ..proofs.tlog import parse_checkpoint

    try:
        return parse_checkpoint(read(path, "checkpoint"))
    except ValueError as exc:
        raise Unusable(f"{path}: チェックポイントではありません / not a checkpoint: {exc}") from None


def read_keys(path: Path | None, *, witness: bool = False) -> Any:
    """A public key file: a vkey (``name+id+key``) or a PEM public key; a witness key may also be the vkey text itself."""
    from ..proofs.note import COSIGNATURE, ED25519, load_verifier

    if path is None:
        return None
    data = read(path, "public key") if path.exists() or not witness else str(path).encode("utf-8")
    try:
        return load_verifier(data, COSIGNATURE if witness else ED25519)
    except ValueError as exc:
        raise Unusable(f"{path}: 公開鍵ではありません / not a public key: {exc}") from None


def audit(action: Any) -> Any:
    """Run a checkpoint operation; a bad key is unusable input, not a traceback."""
    try:
        return action()
    except ValueError as exc:
        raise Unusable(str(exc)) from None


def verdict(ok: bool, cases: int, events: int, problems: int) -> str:
    if ok:
        return f"検証OK / verified: {cases} case(s), {events} event(s), no problems"
    return f"検証NG / verification FAILED: {problems} problem(s) in {cases} case(s), {events} event(s)"


def guards_of(args: argparse.Namespace) -> dict[str, GuardFn]:
    """The Python guards ``--guards module:attr`` (repeatable) names; a wrong one is refused (exit 2)."""
    from ..language.guards import load_guards

    found: dict[str, GuardFn] = {}
    for spec in getattr(args, "guards", None) or []:
        found.update(load_guards(spec))
    return found


def actor_of(actor_id: str, roles: str | None) -> Actor:
    """The actor ``--actor-id ID --roles a,b`` names (roles comma-separated, blanks dropped)."""
    return Actor(actor_id, roles={r.strip() for r in (roles or "").split(",") if r.strip()})
