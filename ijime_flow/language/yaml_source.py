"""Reading YAML safely, and finding where in the file a part of the document came from.

- The C loader (``yaml.CSafeLoader``) is used for speed; no tags beyond the safe ones.
- Duplicate keys in a mapping are an error (PyYAML would silently keep the last one).
- Booleans are YAML 1.2's ``true``/``false`` only: ``on``, ``off``, ``yes`` and ``no`` stay text,
  and ``1:30`` stays text instead of becoming 90 (YAML 1.1's base-60 integers).
- :class:`Located` keeps the node tree, so a path such as ``("transitions", 3, "to")`` maps back to
  ``line:col`` for error messages.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Problem
from .dates import date_refusal
from .yaml_messages import disallowed_character, plain_message, reader_error_position
from .yaml_repair import locate

_BASE = yaml.CSafeLoader


class _StrictLoader(_BASE):
    """CSafeLoader with YAML 1.2 booleans and integers, and duplicate keys refused."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(
                    None, None, "マッピングのキーには単純な値を書いてください / a mapping key must be a plain value",
                    key_node.start_mark
                )
            if key in seen:
                first = seen[key].start_mark.line + 1
                raise yaml.constructor.ConstructorError(
                    None, None, f"キー「{key}」が重複しています（最初は {first} 行目） / duplicate key '{key}'"
                                f" (first given on line {first})", key_node.start_mark
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _construct_timestamp(loader: _StrictLoader, node: ScalarNode) -> Any:
    """A plain ``2019-02-30`` looks like a date to YAML and is none: a located error, not a ValueError."""
    try:
        return _BASE.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        raise yaml.constructor.ConstructorError(None, None, date_refusal(str(node.value)), node.start_mark) from None


def _construct_int(loader: _StrictLoader, node: ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    return int(text, 16) if text.lower().startswith("0x") else int(text, 10)


_YAML11_ONLY = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def _yaml12_resolvers() -> None:
    """YAML 1.2 core schema for plain scalars: ``true``/``false`` only; decimal and ``0x`` integers
    (``017`` and ``1:30`` stay text rather than octal 15 and base-60 90); floats without base 60."""
    resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}
    for first, entries in _BASE.yaml_implicit_resolvers.items():
        kept = [(tag, rx) for tag, rx in entries if tag not in _YAML11_ONLY]
        if kept:
            resolvers[first] = kept
    _StrictLoader.yaml_implicit_resolvers = resolvers
    _StrictLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    _StrictLoader.add_implicit_resolver(
        "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
    )
    _StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
    _StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
    _StrictLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
        list("-+0123456789."),
    )


_yaml12_resolvers()


@dataclass
class Located:
    """A parsed YAML document together with its node tree, for locating errors."""

    file: str
    data: Any
    root: Node | None

    def position(self, path: Sequence[Any]) -> tuple[int, int]:
        """1-based (line, col) of the deepest node reachable along ``path``.

        Path elements that are not keys at that point (pydantic's union tags) are skipped; a key
        that is missing (a required field) points at the mapping that should hold it.
        """
        node = self.root
        if node is None:
            return 1, 1
        for part in path:
            child = _child(node, part)
            if child is not None:
                node = child
        return node.start_mark.line + 1, node.start_mark.column + 1

    def key_position(self, path: Sequence[Any]) -> tuple[int, int]:
        """Like :meth:`position`, but for a mapping entry points at its key (for unknown fields)."""
        if not path:
            return self.position(path)
        parent = self.root
        for part in path[:-1]:
            child = _child(parent, part) if parent is not None else None
            if child is not None:
                parent = child
        if isinstance(parent, MappingNode):
            for key_node, _ in parent.value:
                if isinstance(key_node, ScalarNode) and key_node.value == str(path[-1]):
                    return key_node.start_mark.line + 1, key_node.start_mark.column + 1
        return self.position(path)

    def problem(self, path: Sequence[Any], message: str, *, at_key: bool = False) -> Problem:
        line, col = self.key_position(path) if at_key else self.position(path)
        return Problem(self.file, line, col, format_path(path), message)


def _child(node: Node, part: Any) -> Node | None:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == str(part) and isinstance(value_node, Node):
                return value_node
        return None
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child = node.value[part]
        return child if isinstance(child, Node) else None
    return None


def format_path(path: Sequence[Any]) -> str:
    """``("transitions", 3, "to")`` -> ``transitions[3].to``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


MAX_NODES = 100_000  # nodes once aliases are expanded; a large real workflow has a few thousand


def _expanded_size(root: Node) -> int:
    """How many nodes the document has with every alias written out (capped just above MAX_NODES).

    Aliases share nodes, so ten anchors each listing the previous one ten times make 10**10 nodes
    from a few hundred bytes ("billion laughs"); validating that would never end.
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = list(node.value) if isinstance(node, SequenceNode) else []
        if finished:
            sizes[id(node)] = min(MAX_NODES + 1, 1 + sum(sizes.get(id(c), 1) for c in children))
        elif id(node) not in sizes:
            sizes[id(node)] = 1  # provisional; a node on a cycle counts once (validation refuses cycles)
            stack.append((node, True))
            stack.extend((c, False) for c in children)
    return sizes[id(root)]


def _problems_against(model: type[BaseModel]) -> Any:
    def judge(text: str) -> int:
        """How many problems ``text`` has as a ``model`` (a text that does not read: very many)."""
        loader = _StrictLoader(text)
        try:
            model.model_validate(loader.get_single_data())
        except ValidationError as exc:
            return exc.error_count()
        except (yaml.YAMLError, ValueError, RecursionError):
            return 1_000_000
        finally:
            loader.dispose()
        return 0
    return judge


def _syntax_problem(file: str, text: str, exc: yaml.MarkedYAMLError, model: type[BaseModel] | None) -> Problem:
    """A YAML error at the line of the mistake (:mod:`.yaml_repair`), else where PyYAML stopped."""
    if isinstance(exc, yaml.scanner.ScannerError | yaml.parser.ParserError):
        repair = locate(text, exc, None if model is None else _problems_against(model))
        if repair is not None:
            return Problem(file, repair.line, repair.col, "", f"YAML: {repair.ja} / {repair.en}")
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Problem(file, line, col, "", plain_message(exc, text))


def parse(text: str, file: str, model: type[BaseModel] | None = None) -> Located:
    """Parse one YAML document. Raises :class:`~ijime_flow.errors.DefinitionError` on any YAML error, at
    the line of the mistake as far as it can be told; ``model``: what the document will be read as, which
    tells a mistake's likelier repair when there are several (a line one space off between two levels)."""
    from ..errors import DefinitionError

    bad = disallowed_character(text)
    if bad is not None:  # the C reader would say "position 27" of the whole text, at 1:1
        raise DefinitionError([Problem(file, *bad[:2], "", bad[2])])
    loader = _StrictLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None and _expanded_size(root) > MAX_NODES:
            raise DefinitionError([Problem(file, 1, 1, "", f"YAML: エイリアス（*名前）を展開すると大きすぎます（{MAX_NODES}"
                                                           f" ノード超） / the document is too large once aliases"
                                                           f" (*name) are expanded (more than {MAX_NODES} nodes)")])
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        raise DefinitionError([_syntax_problem(file, text, exc, model)]) from None
    except yaml.reader.ReaderError as exc:
        line, col = reader_error_position(text, exc)
        raise DefinitionError([Problem(file, line, col, "", f"YAML: 使えない文字 U+{exc.character:04X} があります"
                                                            f" / character U+{exc.character:04X} is not allowed"
                                                            f" ({exc.reason})")]) from None
    except yaml.YAMLError as exc:
        text_of = " ".join(str(exc).split())  # one line
        raise DefinitionError([Problem(file, 1, 1, "", f"YAML: YAML として読めません / {text_of}")]) from None
    except RecursionError:
        raise DefinitionError([Problem(file, 1, 1, "", "YAML: 入れ子が深すぎます / the document is nested"
                                                       " too deeply")]) from None
    finally:
        loader.dispose()
    return Located(file, data, root)
