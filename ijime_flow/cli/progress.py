"""Progress bars for long runs (verifying a whole store): on a terminal only, quiet otherwise.

The bar is tqdm's (the ``cli`` extra: ``python -m pip install 'ijime-flow[cli]'``). Without tqdm, or
when standard error is not a terminal (a pipe, a log file, CI), nothing is drawn: a library that
others embed must not write to their streams unasked.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import IO, TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], *, total: int | None, desc: str, unit: str = "case",
             stream: IO[str] | None = None) -> Iterator[T]:
    """``items``, with a bar on ``stream`` (default standard error) when it is a terminal."""
    out = sys.stderr if stream is None else stream
    if not _is_terminal(out):
        yield from items
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield from items
        return
    yield from tqdm(items, total=total, desc=desc, unit=unit, file=out, leave=False, dynamic_ncols=True)


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
