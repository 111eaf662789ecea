"""Where a YAML syntax error really is: the line whose one-line repair makes the file read.

PyYAML reports where it gave up, which is often lines after the mistake: a quote left open on line 3 is
reported at line 15, where the next quote closes it; a key indented one space too far at the next key; a
missing ``:`` at the line after it. So the error's neighbourhood is searched for one line that, repaired
one way, makes the whole text parse: re-indented to line up with the lines around it, a missing ``:``
added, a ``[``/``{`` or a quote closed, tabs replaced by spaces. The first repair that works names the
line and says what was wrong there; when none works (two mistakes, or something else), the caller keeps
PyYAML's position. Only the repaired copy is parsed (events, never objects); the file itself is refused
either way — the repair is a diagnosis, never applied.

The candidates are tried most likely first: what the error's own context points at (an opened bracket, an
opened quote, a key without ``:``), then lines indented off the file's step (3 spaces in a file indented
by 2), then quotes and brackets left open, then missing colons, then other re-indentations, each nearest
the error first; at most :data:`MAX_TRIES` parses. When a line can be re-indented more than one way that
reads (one space off between two levels), ``judge`` — how many problems the repaired text has against
the schema — picks the way that makes sense as a workflow.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import yaml

MAX_TRIES = 60
WINDOW = 40  # lines before the error searched for the mistake
_PAIRS = {"[": "]", "{": "}"}


@dataclass(frozen=True)
class Repair:
    """The line (1-based) and column of the mistake, and what is wrong there, in both languages."""

    line: int
    col: int
    ja: str
    en: str


@dataclass(frozen=True)
class _Try:
    index: int  # 0-based line
    text: str  # the line as repaired
    repair: Repair


def _error_line(text: str) -> int | None:
    """The 0-based line of the first syntax error of ``text``, or None when it parses."""
    loader = yaml.CSafeLoader(text)
    try:
        while loader.check_event():
            loader.get_event()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return mark.line if mark is not None else 0
    except yaml.YAMLError:
        return 0
    finally:
        loader.dispose()
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _code(line: str) -> str:
    """The line without a comment (a ``#`` after a space, outside quotes) and without its line break."""
    body = line.rstrip("\r\n")
    quote = ""
    for i, char in enumerate(body):
        if quote:
            if char == quote and not (quote == '"' and body[i - 1] == "\\"):
                quote = ""
        elif char in "\"'" and (i == 0 or body[i - 1] in " [{,:-"):
            quote = char
        elif char == "#" and (i == 0 or body[i - 1] in " \t"):
            return body[:i].rstrip()
    return body


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


def _unquoted(code: str) -> Iterator[tuple[int, str]]:
    """The characters of ``code`` outside quotes (a quote opens at the start or after a space, bracket,
    comma or colon), with their positions."""
    quote = ""
    for i, char in enumerate(code):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'" and (i == 0 or code[i - 1] in " [{,:"):
            quote = char
        else:
            yield i, char


def _unclosed(code: str) -> list[int]:
    """Where the brackets are that the line opens and does not close, outside quotes (outermost first): a
    ``[`` still open when its ``{`` closes is one (``{a: [b, c: {d: e}}``)."""
    stack: list[int] = []
    left_open: list[int] = []
    for i, char in _unquoted(code):
        if char in _PAIRS:
            stack.append(i)
        elif char in "]}":
            while stack and _PAIRS[code[stack[-1]]] != char:
                left_open.append(stack.pop())
            if stack:
                stack.pop()
    return sorted(left_open + stack)


def _flow_depths(lines: list[str]) -> list[int]:
    """How many brackets are open where each line starts: a line inside a flow collection (``{a: 1,``
    then ``b: 2}`` on the next line) is no line of the block structure."""
    depths, depth = [], 0
    for line in lines:
        depths.append(depth)
        for _, char in _unquoted(_code(line)):
            if char in _PAIRS:
                depth += 1
            elif char in "]}":
                depth = max(0, depth - 1)
    return depths


def _open_quote(code: str) -> int | None:
    """Where a double quote opens that the line does not close (after ``: ``, ``- `` or a bracket)."""
    at: int | None = None
    for i, char in enumerate(code):
        if char == '"' and (i == 0 or code[i - 1] != "\\"):
            at = i if at is None else None
    return at


def _key_without_colon(code: str) -> tuple[int, str] | None:
    """(index after the key, the key) of a line that looks like ``key value`` or ``key`` with no ``:``."""
    match = re.match(r"^(\s*(?:-\s+)?)([A-Za-z_][A-Za-z0-9_.\-]*)(\s+\S.*)?$", code)
    if match is None or re.search(r":(\s|$)", code):
        return None
    return match.end(2), match[2]


def _step(lines: list[str], depths: list[int]) -> int:
    """How far the file indents a level: the most common increase from one line to the next (2 if none)."""
    indents = [_indent(line) for line, depth in zip(lines, depths, strict=True) if _content(line) and not depth]
    steps = Counter(b - a for a, b in itertools.pairwise(indents) if b > a)
    return steps.most_common(1)[0][0] if steps else 2


def _neighbour_indents(lines: list[str], i: int) -> list[int]:
    before = next((_indent(lines[k]) for k in range(i - 1, -1, -1) if _content(lines[k])), 0)
    after = next((_indent(lines[k]) for k in range(i + 1, len(lines)) if _content(lines[k])), 0)
    here = _indent(lines[i])
    return [n for n in dict.fromkeys([before, after, here + 1, here - 1, here + 2, here - 2]) if n >= 0 and n != here]


def _reindent(lines: list[str], i: int, to: int) -> _Try:
    line = lines[i]
    here = _indent(line)
    ja = f"字下げが揃っていません（この行は空白 {here} 個。空白 {to} 個なら前後の行と揃います）"
    en = f"the indentation is off: this line is indented {here} spaces; {to} would line it up with the lines around it"
    return _Try(i, " " * to + line.lstrip(" "), Repair(i + 1, here + 1, ja, en))


def _closing_points(code: str, start: int) -> list[int]:
    """Where a value opened at ``start`` may have been meant to end: before one of the next few ``,``,
    ``]`` or ``}`` of the line (inside a flow collection), or at the end of the line."""
    points = [i for i in range(start + 1, len(code)) if code[i] in ",]}"][:4]
    return [*points, len(code)]


def _close_bracket(lines: list[str], i: int) -> Iterator[_Try]:
    """The innermost bracket the line leaves open closed where its value may end; then each one out."""
    code = _code(lines[i])
    for at in reversed(_unclosed(code)):
        opener = code[at]
        ja = f"この行の「{opener}」が「{_PAIRS[opener]}」で閉じられていません"
        en = f"the '{opener}' on this line is never closed: end it with '{_PAIRS[opener]}'"
        for end in _closing_points(code, at):
            yield _Try(i, code[:end] + _PAIRS[opener] + code[end:] + _ending(lines[i]), Repair(i + 1, at + 1, ja, en))


def _close_quote(lines: list[str], i: int) -> Iterator[_Try]:
    code = lines[i].rstrip("\r\n")
    at = _open_quote(code)
    if at is None:
        return
    ja = "この行の引用符「\"」が閉じられていません（値の終わりにも \" を書きます）"
    en = "the quote (\") opened on this line is never closed: end the value with \" too"
    for end in _closing_points(code, at):
        yield _Try(i, code[:end] + '"' + code[end:] + _ending(lines[i]), Repair(i + 1, at + 1, ja, en))


def _add_colon(lines: list[str], i: int) -> _Try | None:
    code = _code(lines[i])
    found = _key_without_colon(code)
    if found is None:
        return None
    end, key = found
    ja = f"「{key}」の後に「:」がありません（「{key}:」と書きます）"
    en = f"missing ':' after '{key}' (write '{key}:')"
    return _Try(i, code[:end] + ":" + code[end:] + _ending(lines[i]), Repair(i + 1, end + 1, ja, en))


def _untab(lines: list[str], i: int) -> Iterator[_Try]:
    line = lines[i]
    lead = line[: len(line) - len(line.lstrip(" \t"))]
    if "\t" not in lead:
        return
    ja, en = "字下げにタブは使えません（空白で字下げしてください）", "tabs cannot be used for indentation: indent with spaces"
    for to in [*_neighbour_indents(lines, i), _indent(line)]:
        yield _Try(i, " " * to + line.lstrip(" \t"), Repair(i + 1, lead.index("\t") + 1, ja, en))


def _candidates(lines: list[str], exc: yaml.MarkedYAMLError, at: int) -> Iterator[_Try | None]:
    context = exc.context_mark.line if exc.context_mark is not None else None
    words = f"{exc.context or ''} {exc.problem or ''}"
    if context is not None and context < len(lines):
        if "flow" in words:
            yield from _close_bracket(lines, context)
        if "quoted scalar" in words:
            yield from _close_quote(lines, context)
        if "simple key" in words:
            yield _add_colon(lines, context)
    first = max(0, at - WINDOW)
    nearest = sorted(range(first, min(at + 2, len(lines))), key=lambda k: (abs(at - k), -k))
    depths = _flow_depths(lines)
    nearest = [k for k in nearest if _content(lines[k])]
    for k in nearest:
        yield from _untab(lines, k)
    unit = _step(lines, depths)
    block = [k for k in nearest if not depths[k]]  # the lines of the block structure, not inside a [...] or {...}
    for k in block:
        if _indent(lines[k]) % unit:
            for to in _neighbour_indents(lines, k):
                if to % unit == 0:
                    yield _reindent(lines, k, to)
    quotes = [k for k in range(0, min(at + 1, len(lines))) if _content(lines[k]) and _open_quote(_code(lines[k])) is not None]
    for k in reversed(quotes):
        yield from _close_quote(lines, k)
    for k in nearest:
        yield from _close_bracket(lines, k)
    for k in block:
        yield _add_colon(lines, k)
    for k in block[:15]:
        for to in _neighbour_indents(lines, k):
            yield _reindent(lines, k, to)


def _best(lines: list[str], first: _Try, judge: Callable[[str], int] | None) -> Repair:
    """Of the re-indentations of ``first``'s line that read, the one ``judge`` finds fewest problems in, and
    then the one moving it least."""
    if judge is None or not first.repair.ja.startswith("字下げが揃っていません"):
        return first.repair
    k, here = first.index, _indent(lines[first.index])
    reading = [(to, t) for to, t in ((to, _reindent(lines, k, to)) for to in _neighbour_indents(lines, k))
               if _error_line(_with(lines, t)) is None]
    # fewest problems as a workflow; of those, the smallest move (one space off, not a level)
    best = min(reading, key=lambda pair: (judge(_with(lines, pair[1])), abs(pair[0] - here)), default=(0, first))
    return best[1].repair


def _with(lines: list[str], attempt: _Try) -> str:
    return "".join([*lines[: attempt.index], attempt.text, *lines[attempt.index + 1:]])


def locate(text: str, exc: yaml.MarkedYAMLError, judge: Callable[[str], int] | None = None) -> Repair | None:
    """The mistake behind a scanner or parser error of ``text``: the first one-line repair that makes the
    whole text parse, or None. ``judge``: how many problems a repaired text has (fewer is likelier)."""
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return None
    lines = text.splitlines(keepends=True)
    if not lines:
        return None
    at = min(mark.line, len(lines) - 1)
    tried: set[tuple[int, str]] = set()
    for attempt in _candidates(lines, exc, at):
        if attempt is None or (attempt.index, attempt.text) in tried or attempt.text == lines[attempt.index]:
            continue
        tried.add((attempt.index, attempt.text))
        if len(tried) > MAX_TRIES:
            return None
        if _error_line(_with(lines, attempt)) is None:
            return _best(lines, attempt, judge)
    return None
