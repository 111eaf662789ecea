"""pydantic's validation errors in plain words, Japanese first, at the line of the offending key.

pydantic says ``Input should be a valid dictionary or instance of StateDef``; a policy author is told
``状態の定義（キーと値の組）を書いてください / expected a state definition (a mapping)``: what was
expected, in words, with what was written, never a class name or pydantic's own phrasing. Each problem
points at the key whose value is wrong when that value starts on a later line (a block written under the
key), else at the value; an unknown field at its key, with the fields that were meant
(:mod:`.suggest`); a missing field at the mapping that should hold it.

The models are walked along each error's location to know where it is: which model holds the field (for
the names an unknown field may be a misspelling of), and which parts of the location are pydantic's tags
for the members of a union (``FactIs``, ``bool``), which are no place in the document.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ..errors import Problem
from .dates import date_refusal
from .suggest import Hint, both, close_names, hint, shown, snake_case
from .value_messages import IDENT_PATTERN, STATE_PATH_PATTERN, field_noun, model_noun, translated
from .yaml_source import Located, format_path

_SCALAR_NOUNS = {"bool": ("「true」か「false」", "true or false"), "int": ("整数", "a whole number"),
                 "float": ("数", "a number"), "str": ("文字列", "text (a string)"), "date": ("日付", "a date")}
_DATE_ERRORS = ("date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact")


def _core(ann: Any) -> Any:
    """``ann`` without ``Annotated`` and without ``| None``."""
    while True:
        origin = get_origin(ann)
        if origin is Annotated:
            ann = get_args(ann)[0]
        elif origin in (Union, types.UnionType) and type(None) in get_args(ann):
            rest = [a for a in get_args(ann) if a is not type(None)]
            ann = rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007 - a union built at run time
        else:
            return ann


def _is_tag(member: Any, part: Any) -> bool:
    """Whether ``part`` of a location is pydantic's tag for this member of a union."""
    if get_origin(member) is Annotated and any(getattr(meta, "tag", None) == part for meta in get_args(member)[1:]):
        return True
    core = _core(member)
    origin = get_origin(core)
    if origin is not None:
        return isinstance(part, str) and part.startswith(f"{getattr(origin, '__name__', '')}[")
    return isinstance(core, type) and part == core.__name__


def _is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


def _field_annotation(model: type[BaseModel], part: Any) -> tuple[bool, Any]:
    for name, info in model.model_fields.items():
        if part in (info.alias, name):
            return True, info.annotation
    return False, None


def field_names(model: type[BaseModel]) -> list[str]:
    """The keys a mapping read as ``model`` may have, as YAML writes them (``from``, not ``from_``)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def union_members(ann: Any) -> list[Any]:
    core = _core(ann)
    return list(get_args(core)) if get_origin(core) in (Union, types.UnionType) else []


class Place:
    """Where an error is: its path in the document (tags left out), the model that holds its last part,
    the annotation expected there, and whether the last parts were a union's tags (one value, several
    errors: one per member tried)."""

    def __init__(self, root: type[BaseModel] | None, loc: tuple[Any, ...]) -> None:
        self.path: list[Any] = []
        self.parent: type[BaseModel] | None = None
        self.tagged = False
        self.key = False
        self.tags: list[str] = []
        ann: Any = root
        for part in loc:
            if part == "[key]":
                self.key = True
                continue
            ann, used = self._descend(ann, part)
            self.tagged = not used
            if not used:
                self.tags.append(str(part))
            else:
                self.path.append(part)
        self.expected = ann

    def _descend(self, ann: Any, part: Any) -> tuple[Any, bool]:
        if ann is None:
            return None, True
        core = _core(ann)
        members = union_members(core)
        if members:
            for member in members:
                if _is_tag(member, part):
                    return member, False
            return None, True
        if _is_model(core):
            self.parent = core
            found, inner = _field_annotation(core, part)
            return (inner if found else None), True
        origin = get_origin(core)
        if origin is list and isinstance(part, int):
            return get_args(core)[0], True
        if origin is dict:
            return get_args(core)[1], True
        return None, True


def _models(root: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Every model reachable from ``root``, by class name."""
    found: dict[str, type[BaseModel]] = {}
    todo: list[Any] = [root]
    while todo:
        ann = todo.pop()
        core = _core(ann)
        if _is_model(core):
            if core.__name__ in found:
                continue
            found[core.__name__] = core
            todo.extend(info.annotation for info in core.model_fields.values())
        else:
            todo.extend(get_args(core))
    return found


def _root_model(title: str) -> type[BaseModel] | None:
    todo: list[type[BaseModel]] = [BaseModel]
    while todo:
        cls = todo.pop()
        if cls.__name__ == title and cls.__module__.startswith("ijime_flow"):
            return cls
        todo.extend(cls.__subclasses__())
    return None


def _got(value: Any) -> tuple[str, str]:
    """What was written, for the end of a message: （書かれた値: 1） / , got 1."""
    if value is None:
        return "（空です）", ", but it is empty"
    return f"（書かれた値: {shown(value)}）", f", got {shown(value)}"


def _expected(noun: tuple[str, str], value: Any, extra: tuple[str, str] = ("", "")) -> str:
    got_ja, got_en = _got(value)
    return f"{noun[0]}を書いてください{got_ja}{extra[0]} / expected {noun[1]}{got_en}{extra[1]}"


def _name_refusal(value: Any, pattern: str) -> str:
    if pattern.startswith("^(0[1-9]|1[0-2])-"):  # a term's month and day (calendar.terms)
        return (f"「{shown(value)}」は月日として読めません（\"MM-DD\" の形で、例: \"04-01\"） / '{shown(value)}' is not a"
                ' month and day: write "MM-DD", e.g. "04-01"')
    fixed = Hint((fixed_name,)) if (fixed_name := snake_case(value)) else Hint()
    if pattern == STATE_PATH_PATTERN:
        return both(f"「{shown(value)}」は状態の名前として使えません（英小文字で始まる英小文字・数字・_。入れ子は a.b、"
                    "どの状態でもなら *）",
                    f"'{shown(value)}' is not a valid state name: lower-case ASCII snake_case, nested states"
                    " as a.b, or * for any open state", fixed)
    return both(f"「{shown(value)}」は名前に使えません（英小文字で始まる英小文字・数字・_ だけの snake_case）",
                f"'{shown(value)}' is not a valid name: lower-case ASCII snake_case (a-z, 0-9 and _, starting"
                " with a letter)", fixed)


def _condition_keys(ann: Any) -> list[str]:
    members = union_members(ann)
    keys: list[str] = []
    for member in members:
        core = _core(member)
        if _is_model(core):
            keys += [info.alias or name for name, info in core.model_fields.items() if info.is_required()][:1]
    return keys


def _condition_refusal(value: Any, expected: Any) -> str:
    keys = _condition_keys(expected) or ["all", "any", "not", "fact", "since", "guard"]
    every = sorted({k for m in union_members(expected) if _is_model(c := _core(m)) for k in field_names(c)})
    listed = ", ".join(keys)
    if isinstance(value, dict):
        wrong = [k for k in value if k not in every]
        near = Hint(tuple(dict.fromkeys(name for k in wrong for name in close_names(k, keys)))[:3])
        return both(f"条件には {listed} のいずれかのキーが必要です", f"a condition needs one of the keys {listed}", near)
    if isinstance(value, list):
        return both(f"条件を一つ書いてください（複数なら all: [...] か any: [...] で囲みます）{_got(value)[0]}",
                    f"expected one condition (several go inside all: [...] or any: [...]){_got(value)[1]}")
    return both(f"条件はキーと値の組で書いてください（例: {{fact: 名前, equals: true}}）{_got(value)[0]}",
                f"expected a condition written as a mapping (e.g. {{fact: name, equals: true}}){_got(value)[1]}")


def _model_refusal(err: ErrorDetails, place: Place, models: dict[str, type[BaseModel]]) -> str:
    name = str((err.get("ctx") or {}).get("class_name", ""))
    noun = model_noun(name)
    extra = ("", "")
    model = models.get(name)
    key = place.path[-1] if place.path else None
    if model is not None and isinstance(key, str) and key in field_names(model):
        where = noun[0].removesuffix("の定義")
        extra = (f"。「{key}」は{where}の中に書く項目です。字下げが浅すぎませんか",
                 f"; '{key}' is a field of {noun[1]}: is it indented too little?")
    return _expected((f"{noun[0]}（キーと値の組）", f"{noun[1]} (a mapping)"), err.get("input"), extra)


def _literal_refusal(err: ErrorDetails) -> str:
    values = re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", "")))
    value = err.get("input")
    listed = ", ".join(values)
    return both(f"「{shown(value)}」は使えません（次のどれか: {listed}）", f"'{shown(value)}' is not one of: {listed}",
                hint(value, values))


def _limit_refusal(kind: str, ctx: dict[str, Any], value: Any) -> str:
    got_ja, got_en = _got(value)
    if kind == "string_too_short":
        return "空にはできません（何か書いてください） / must not be empty"
    if kind == "string_too_long":
        n = ctx.get("max_length")
        return f"長すぎます（最長 {n} 文字）{got_ja} / too long: at most {n} characters"
    if kind == "too_short":
        n = ctx.get("min_length")
        return f"少なくとも {n} 個書いてください{got_ja} / give at least {n} item(s){got_en}"
    if kind == "too_long":
        n = ctx.get("max_length")
        return f"多すぎます（最大 {n} 個） / too many: at most {n}"
    words = {"greater_than_equal": ("ge", "以上", "at least"), "greater_than": ("gt", "より大きい", "more than"),
             "less_than_equal": ("le", "以下", "at most"), "less_than": ("lt", "より小さい", "less than")}
    key, ja, en = words[kind]
    return f"{ctx.get(key)} {ja}の値にしてください{got_ja} / expected a value {en} {ctx.get(key)}{got_en}"


def _message(err: ErrorDetails, place: Place, models: dict[str, type[BaseModel]]) -> str:
    kind, value = err["type"], err.get("input")
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    field = next((p for p in reversed(place.path) if isinstance(p, str)), "")
    if place.key:
        if kind == "string_type":
            return f"名前は文字列で書いてください{_got(value)[0]} / a name must be text{_got(value)[1]}"
        if kind == "string_too_long":
            return _limit_refusal(kind, ctx, value)
        return _name_refusal(value, IDENT_PATTERN)
    if kind == "model_type":
        return _model_refusal(err, place, models)
    if kind == "condition" or kind.startswith("union_tag"):
        return _condition_refusal(value, place.expected)
    if kind == "dict_type":
        return _expected(field_noun(field, "dict"), value)
    if kind == "list_type":
        return _expected(field_noun(field, "list"), value)
    if kind in _DATE_ERRORS:
        return date_refusal(value)
    if kind == "string_type":
        quote = ("（数に見える値は \"2019.1\" のように引用符で囲みます）",
                 " (quote a value that looks like a number: \"2019.1\")")
        return _expected(_SCALAR_NOUNS["str"], value, quote if isinstance(value, int | float) else ("", ""))
    if kind in ("bool_type", "bool_parsing"):
        return _expected(("「true」か「false」", "a valid boolean: true or false"), value)
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _expected(_SCALAR_NOUNS["int"], value)
    if kind in ("float_type", "float_parsing", "finite_number"):
        return _expected(_SCALAR_NOUNS["float"], value)
    if kind == "literal_error":
        return _literal_refusal(err)
    if kind == "string_pattern_mismatch":
        return _name_refusal(value, str(ctx.get("pattern", "")))
    if kind in ("string_too_short", "string_too_long", "too_short", "too_long", "greater_than_equal",
                "greater_than", "less_than_equal", "less_than"):
        return _limit_refusal(kind, ctx, value)
    if kind in ("value_error", "assertion_error"):
        return translated(err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, "))
    if kind == "recursion_loop":
        return "入れ子が循環しています / the document refers to itself (a cycle of aliases)"
    return f"この値はここには書けません{_got(value)[0]} / this value is not accepted here ({kind}){_got(value)[1]}"


def _union_message(errors: list[tuple[ErrorDetails, Place]]) -> str:
    """One message for a value no member of a union took (``equals: {a: 1}``: not true/false, a number,
    text or a date)."""
    nouns = [_SCALAR_NOUNS[tag] for _, place in errors for tag in place.tags[-1:] if tag in _SCALAR_NOUNS]
    if len(nouns) < 2:
        return _message(*errors[0], {})
    value = errors[0][0].get("input")
    got_ja, got_en = _got(value)
    return (f"{'・'.join(ja for ja, _ in nouns)}のどれかを書いてください{got_ja} / expected"
            f" {', '.join(en for _, en in nouns[:-1])} or {nouns[-1][1]}{got_en}")


def problem_at(located: Located, path: list[Any], message: str, *, at_key: bool = False) -> Problem:
    """A problem at the value of ``path``, or at its key when asked or when the value starts on a later
    line than the key (a block written under it: the key is what the author looks for)."""
    if not at_key and path and isinstance(path[-1], str):
        at_key = located.position(path)[0] > located.key_position(path)[0]
    return located.problem(path, message, at_key=at_key)


def _grouped(exc: ValidationError, root: type[BaseModel] | None) -> Iterator[list[tuple[ErrorDetails, Place]]]:
    groups: dict[tuple[str, str], list[tuple[ErrorDetails, Place]]] = {}
    for err in exc.errors(include_url=False):
        place = Place(root, tuple(err["loc"]))
        key = (format_path(place.path), repr(err.get("input"))[:200]) if place.tagged else (str(len(groups)), "")
        groups.setdefault(key, []).append((err, place))
    yield from groups.values()


def validation_problems(exc: ValidationError, located: Located, root: type[BaseModel] | None = None) -> list[Problem]:
    """Every error of ``exc`` as a :class:`Problem` in plain words, sorted by line and column. ``root``: the
    model validated (found by the error's title when not given)."""
    root = root or _root_model(exc.title)
    models = _models(root) if root is not None else {}
    problems: list[Problem] = []
    unknown: dict[str, list[str]] = {}  # parent path -> its unknown keys
    missing: list[tuple[list[Any], str]] = []
    for group in _grouped(exc, root):
        err, place = group[0]
        kind = err["type"]
        if kind == "extra_forbidden" and place.path:
            name = place.path[-1]
            known = field_names(place.parent) if place.parent is not None else []
            unknown.setdefault(format_path(place.path[:-1]), []).append(str(name))
            extra = ("", "")
            if place.parent is not None and place.parent.__name__ == "StateDef" and isinstance(err.get("input"), dict):
                extra = ("。状態の中の状態は states:（並行なら parallel:）の下に書きます",
                         "; a state inside a state goes under 'states:' (or 'parallel:')")
            suggestion = hint(name, known)
            problems.append(located.problem(place.path, f"不明な項目「{name}」です{suggestion.ja}{extra[0]} / unknown"
                                                        f" field '{name}'{suggestion.en}{extra[1]}", at_key=True))
        elif kind == "missing" and place.path:
            missing.append((place.path, str(place.path[-1])))
        else:
            message = _union_message(group) if len(group) > 1 else _message(err, place, models)
            problems.append(problem_at(located, place.path, message, at_key=place.key))
    for path, name in missing:
        ja, en = f"必須の項目「{name}」がありません", f"missing required field '{name}'"
        for written in unknown.get(format_path(path[:-1]), []):
            if name in close_names(written, [name]) or name in close_names(written, _siblings(path, models)):
                ja, en = f"{ja}（「{written}」の綴りの誤りではありませんか）", f"{en} ('{written}' may be a misspelling of it)"
                break
        where = located.problem(path[:-1], "", at_key=True)
        problems.append(Problem(where.file, where.line, where.col, format_path(path), f"{ja} / {en}"))
    return sorted(problems, key=lambda p: (p.line, p.col))


def _siblings(path: list[Any], models: dict[str, type[BaseModel]]) -> list[str]:
    return sorted({name for model in models.values() for name in field_names(model) if path[-1] in field_names(model)})
