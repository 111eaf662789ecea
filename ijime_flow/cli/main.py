"""The ``ijime-flow`` command: the parser and the run of one command (the commands are in
:mod:`.workflows`, :mod:`.auditing`, :mod:`.bundle`, :mod:`.replay` and :mod:`.report`).

Exit codes: 0 — done, nothing wrong; 1 — problems found (invalid workflow, failed verification);
2 — unusable input (bad arguments, a store that does not exist, an unknown case).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import structlog

from ..errors import IjimeFlowError
from ..version import __version__
from .common import EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE

__all__ = ["EXIT_OK", "EXIT_PROBLEMS", "EXIT_UNUSABLE", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_UNUSABLE
    try:
        code: int = args.run(args)
        return code
    except IjimeFlowError as exc:
        print(f"ijime-flow: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ijime-flow",
        description="いじめ対応の手順をワークフローとして実行し、改ざん検知可能な記録を残す。"
                    " / Run a school's bullying-response procedure and keep a tamper-evident log.",
    )
    parser.add_argument("--version", action="version", version=f"ijime-flow {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step to stderr")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")


    from .auditing import register_checkpoints, register_verify
    from .bundle import register as register_bundle
    from .replay import register as register_replay
    from .report import register as register_report
    from .workflows import register as register_workflows

    register_workflows(sub)
    register_verify(sub)
    register_bundle(sub)
    register_replay(sub)
    register_report(sub)
    register_checkpoints(sub)
    return parser


def _configure_logging(verbose: bool) -> None:
    """The command is an application, so it may configure structlog (the library never does)."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO if verbose else logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
