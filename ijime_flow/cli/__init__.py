"""The ``ijime-flow`` command (entry point ``ijime_flow.cli:main``).

:mod:`.main` builds the parser and runs a command; the commands live beside it: :mod:`.workflows`
(validate, check, diagram, schema, demo, history), :mod:`.auditing` (verify, keygen, checkpoint, prove,
verify-proof), :mod:`.bundle` (export, import), :mod:`.replay`, :mod:`.report`; :mod:`.demo` and
:mod:`.progress` are their helpers.
"""

from __future__ import annotations

from .main import main

__all__ = ["main"]
