"""Python guards named on a command line: ``module:attr``.

A condition ``guard: NAME`` calls Python code the embedding application registers
(``Engine.register_guard(NAME, fn)``). A command that runs a workflow outside the application (a policy
check, say) is given the guards as ``module:attr``, read by :func:`load_guards`:

- ``attr`` a mapping of names to callables (``GUARDS = {"weekday": is_weekday}``): every entry;
- ``attr`` one callable: registered under its ``__name__`` (``school_guards:weekday``);
- ``attr`` may be dotted (``school_guards:registry.GUARDS``).

The module is imported as Python imports it, and from the current folder when it is not found on the path
(as ``python -m`` would); importing runs its code, so only name modules you trust. Whatever is wrong — no
``:``, no such module, a module that fails to import, no such attribute, something that is not callable,
a callable that cannot take the condition's context — is a :class:`GuardSpecError` saying so, Japanese
first.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from ..errors import IjimeFlowError
from .conditions import GuardFn
from .suggest import both, hint

EXAMPLE = "school_guards:GUARDS"


class GuardSpecError(IjimeFlowError, ValueError):
    """A ``module:attr`` that gives no guards; the message says why, Japanese first, then English."""


def _import(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or module
        if module != missing and not module.startswith(missing + "."):
            raise GuardSpecError(f"モジュール「{module}」を読み込めません（必要なモジュール「{missing}」がありません）"
                                 f" / module '{module}' cannot be imported: it needs '{missing}', which is not"
                                 " installed") from None
    except Exception as exc:  # its own code failed: a syntax error, an exception at import
        raise GuardSpecError(f"モジュール「{module}」の読み込み中にエラーになりました（{type(exc).__name__}: {exc}） /"
                             f" module '{module}' failed while being imported ({type(exc).__name__}: {exc})") from None
    here = os.getcwd()
    if here in sys.path or "" in sys.path:
        raise _not_found(module, here)
    sys.path.insert(0, here)  # as ``python -m`` would: the folder the command is run from
    importlib.invalidate_caches()
    try:
        return _import(module)
    except GuardSpecError:
        sys.path.remove(here)
        raise


def _not_found(module: str, here: str) -> GuardSpecError:
    return GuardSpecError(f"モジュール「{module}」が見つかりません（今のフォルダー {here} と Python のパスを探しました）"
                          f" / module '{module}' not found (looked in the current folder {here} and on the Python path)")


def _attribute(module: ModuleType, spec: str, attr: str) -> Any:
    value: Any = module
    for depth, part in enumerate(attr.split(".")):
        if not hasattr(value, part):
            done = ".".join(attr.split(".")[:depth]) or module.__name__
            names = [n for n in dir(value) if not n.startswith("_")]
            raise GuardSpecError(both(f"「{spec}」: 「{done}」に「{part}」がありません",
                                      f"'{spec}': '{done}' has no attribute '{part}'", hint(part, names)))
        value = getattr(value, part)
    return value


def _checked(spec: str, name: object, guard: object) -> GuardFn:
    if not isinstance(name, str) or not name:
        raise GuardSpecError(f"「{spec}」のガードの名前 {name!r} は文字列ではありません / guard name {name!r} in"
                             f" '{spec}' is not a non-empty string")
    if not callable(guard):
        kind = type(guard).__name__
        raise GuardSpecError(f"「{spec}」のガード「{name}」は関数ではありません（{kind}） / guard '{name}' in '{spec}'"
                             f" is not callable (it is {kind})")
    try:
        inspect.signature(guard).bind(object())
    except TypeError:
        raise GuardSpecError(f"「{spec}」のガード「{name}」は引数を一つ（条件の EvalContext）取る関数にしてください /"
                             f" guard '{name}' in '{spec}' must take one argument (the condition's EvalContext)") from None
    except ValueError:  # no signature to inspect (some built-ins): it is called as it is
        pass
    fn: GuardFn = guard  # callable, taking one argument
    return fn


def load_guards(spec: str) -> dict[str, GuardFn]:
    """The guards ``module:attr`` names: name -> callable, for ``Engine.register_guard`` or a check.
    Raises :class:`GuardSpecError` (Japanese first) for anything that gives no guards."""
    module, sep, attr = str(spec).strip().partition(":")
    if not sep or not module or not attr or ":" in attr:
        raise GuardSpecError(f"ガードの指定「{spec}」は module:attr の形で書いてください（例: {EXAMPLE}） / guards are"
                             f" given as module:attr (e.g. {EXAMPLE}), not '{spec}'")
    value = _attribute(_import(module.strip()), spec, attr.strip())
    if isinstance(value, Mapping):
        return {str(name): _checked(spec, name, guard) for name, guard in value.items()}
    if callable(value):
        name = getattr(value, "__name__", None)
        if not isinstance(name, str) or name == "<lambda>":
            raise GuardSpecError(f"「{spec}」の関数には名前がありません。{{名前: 関数}} の辞書にしてください / '{spec}' is a"
                                 " callable without a name: give a mapping {name: function} instead")
        return {name: _checked(spec, name, value)}
    kind = type(value).__name__
    raise GuardSpecError(f"「{spec}」はガードの辞書でも関数でもありません（{kind}） / '{spec}' is neither a mapping of"
                         f" guard names to functions nor a function (it is {kind})")
