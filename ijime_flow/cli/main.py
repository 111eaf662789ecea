"""The ``ijime-flow`` command: the parser and the run of one command (the commands are in
:mod:`.workflows`, :mod:`.auditing`, :mod:`.bundle`, :mod:`.replay` and :mod:`.report`).

Exit codes: 0 — done, nothing wrong; 1 — problems found (invalid workflow, failed verification);
2 — unusable input (bad arguments, a store that does not exist, an unknown case); 3 — an unexpected
error inside ijime-flow (a bug: never a verdict); 130 — interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

import structlog

from ..errors import IjimeFlowError
from ..version import __version__
from .common import EXIT_BUG, EXIT_INTERRUPTED, EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE

__all__ = ["EXIT_BUG", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_PROBLEMS", "EXIT_UNUSABLE", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, quiet=getattr(args, "quiet_engine", False))
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_UNUSABLE
    for value in vars(args).values():  # what no file name nor id can hold: refused before anything is opened
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str | Path) and _unusable_text(str(text)):
                print(f"ijime-flow: 引数に使えない文字（NUL または不正な文字）があります / an argument holds a NUL or an"
                      f" invalid character: {ascii(str(text))[:80]}", file=sys.stderr)
                return EXIT_UNUSABLE
    try:
        code: int = args.run(args)
        return code
    except IjimeFlowError as exc:
        print(f"ijime-flow: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly with 141, as a SIGPIPE would
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # a path the system cannot use (too long, a folder, no permission): unusable input
        where = f" {exc.filename}"[:120] if exc.filename else ""
        print(f"ijime-flow: ファイルを扱えません / cannot use the file{where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        print("ijime-flow: 中断しました / interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug, never a verdict: its own exit code, never 1 ("problems found")
        if args.verbose:
            traceback.print_exc(file=sys.stderr)
        print(f"ijime-flow: 予期しないエラーです（不具合です。お知らせください） / unexpected error, a bug in ijime-flow"
              f" (please report it; -v shows where): {type(exc).__name__}: {str(exc)[:300]}", file=sys.stderr)
        return EXIT_BUG


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ijime-flow",
        description="いじめ対応の手順をワークフローとして実行し、改ざん検知可能な記録を残す。"
                    " / Run a school's bullying-response procedure and keep a tamper-evident log.",
    )
    parser.add_argument("--version", action="version", version=f"ijime-flow {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step to stderr")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")


    from .annual_return import register as register_annual_return
    from .auditing import register_checkpoints, register_verify
    from .bundle import register as register_bundle
    from .contract import register as register_contract
    from .due import register as register_due
    from .duties import register as register_duties
    from .forget import register as register_forget
    from .init import register as register_init
    from .replay import register as register_replay
    from .report import register as register_report
    from .retention import register as register_retention
    from .witness import register as register_witness
    from .workflows import register as register_workflows

    register_workflows(sub)
    register_verify(sub)
    register_bundle(sub)
    register_init(sub)
    register_replay(sub)
    register_report(sub)
    register_checkpoints(sub)
    register_witness(sub)
    register_contract(sub)
    register_due(sub)
    register_duties(sub)
    register_forget(sub)
    register_retention(sub)
    register_annual_return(sub)
    return parser


def _unusable_text(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _configure_logging(verbose: bool, *, quiet: bool = False) -> None:
    """The command is an application, so it may configure structlog (the library never does).
    ``quiet``: only errors — for ``check`` and ``mutate``, whose cases in memory are the checker's own."""
    level = logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStderr()),  # type: ignore[arg-type]
    )


class _CurrentStderr:
    """Standard error as it is when a record is written (not when the command started): a command run
    in-process by a test or a host that swaps ``sys.stderr`` afterwards keeps logging somewhere open."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
