"""YAML errors in plain words, Japanese first, at the line and column of the mistake.

PyYAML reports in English ("while parsing a block mapping did not find expected key"); a policy
author editing a file in Japanese is told what is wrong in plain words, Japanese first, then `` / `` and
English (PyYAML's own words only for an error we have no words for). Where the mistake really is —
often lines before PyYAML noticed — is found by :mod:`.yaml_repair`. Characters YAML does not allow
(control characters such as ``\\x07`` or ``\\x1b``) are found before parsing, so they are reported
where they are, not at 1:1.
"""

from __future__ import annotations

import re

import yaml

# what YAML 1.1 allows in a stream (PyYAML's reader), and the line breaks an editor counts
_NOT_ALLOWED = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def line_col(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of the character at ``index``."""
    line, start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, index):
        line, start = line + 1, match.end()
    return line, index - start + 1


def _char_name(char: str) -> str:
    code = f"U+{ord(char):04X}"
    names = {"\x00": "NUL", "\x07": "BEL", "\x08": "BS", "\x0b": "VT", "\x0c": "FF", "\x1b": "ESC", "\x7f": "DEL"}
    return f"{code} ({names[char]})" if char in names else code


def disallowed_character(text: str) -> tuple[int, int, str] | None:
    """(line, col, message) of the first character YAML does not allow, if there is one."""
    match = _NOT_ALLOWED.search(text)
    if match is None:
        return None
    line, col = line_col(text, match.start())
    char = match.group()
    name = _char_name(char)
    if ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0:
        return line, col, (f"YAML: 使えない制御文字 {name} があります（タブと改行のほかの制御文字は書けません。消してください）"
                           f" / control character {name} is not allowed in YAML (only tab and line breaks are):"
                           " remove it")
    return line, col, (f"YAML: 使えない文字 {name} があります（消してください） / character {name} is not allowed"
                       " in YAML: remove it")


def reader_error_position(text: str, exc: yaml.reader.ReaderError) -> tuple[int, int]:
    """Where a reader error is: the C reader counts ``position`` in bytes of UTF-8."""
    index = len(text.encode("utf-8")[: max(exc.position, 0)].decode("utf-8", errors="ignore"))
    return line_col(text, min(index, len(text)))


_PLAIN: tuple[tuple[str, str, str], ...] = (  # PyYAML's words, ours in Japanese, ours in English
    ("did not find expected key", "字下げが揃っていないか、「キー: 値」の形になっていない行があります",
     "a line is out of line with the keys around it, or is not written 'key: value'"),
    ("did not find expected ',' or ']'", "「[」で始めたリストが「]」で閉じられていないか、「,」が抜けています",
     "a list opened with '[' is not closed with ']', or a ',' is missing"),
    ("did not find expected ',' or '}'", "「{」で始めたマッピングが「}」で閉じられていないか、「,」が抜けています",
     "a mapping opened with '{' is not closed with '}', or a ',' is missing"),
    ("did not find expected '-' indicator", "リストの項目（- ）と字下げが揃っていない行があります",
     "a line is out of line with the list items ('- ') around it"),
    ("mapping values are not allowed",
     "ここに「キー: 値」は書けません（字下げの誤りか、値の中の「: 」。値なら引用符で囲んでください）",
     "'key: value' cannot start here: the indentation is off, or a value holds ': ' (quote such a value)"),
    ("could not find expected ':'", "「キー: 値」の「:」がありません（字下げの誤りかもしれません）",
     "a key has no ':' after it (or the indentation is off)"),
    ("found unexpected end of stream", "引用符が閉じられていません", "a quoted value is never closed"),
    ("found unexpected document indicator", "引用符が閉じられていません", "a quoted value is never closed"),
    ("found undefined alias", "定義されていないエイリアス（*名前）です", "an alias (*name) with no anchor (&name) before it"),
    ("found duplicate anchor", "同じアンカー名（&名前）が二度使われています", "the same anchor (&name) is defined twice"),
    ("found unknown escape character", "二重引用符の中に使えないエスケープ（\\ の後の文字）があります",
     "a double-quoted value has an unknown escape (the character after \\): use single quotes, or write \\\\"),
    ("but found another document",
     "一つのファイルに文書が二つ以上あります（--- の区切り）。一つのファイルに一つのワークフローです",
     "expected a single document in the file, but found another one (after ---): one workflow per file"),
    ("did not find expected <document start>", "字下げが揃っていません（最初の行より左に戻っている行があります）",
     "the indentation is off: a line goes further left than the first line"),
    ("could not determine a constructor for the tag", "使えないタグ（! で始まる型の指定）です",
     "tags (a type given with !) are not allowed"),
    ("found undefined tag handle", "使えないタグ（! で始まる型の指定）です", "tags (a type given with !) are not allowed"),
    ("found unhashable key", "キーにリストやマッピングは使えません", "a key cannot be a list or a mapping"),
    ("found a tab character", "字下げにタブは使えません（空白で字下げしてください）",
     "tabs cannot be used for indentation: indent with spaces"),
    ("did not find expected node content", "値があるはずの所に値がありません", "a value is missing here"),
    ("block sequence entries are not allowed", "ここにリストの項目（- ）は書けません（字下げの誤りかもしれません）",
     "a list item ('- ') cannot start here (the indentation may be off)"),
    ("did not find expected alphabetic or numeric character", "アンカーやエイリアス（& や * の後）に名前がありません",
     "an anchor or alias (& or *) needs a name"),
    ("did not find expected comment or line break", "値の後ろに余分な文字があります", "unexpected characters after the value"),
)


def plain_message(exc: yaml.MarkedYAMLError, text: str) -> str:
    """``YAML: <Japanese> / <English>``, on one line, in our words (PyYAML's own only when we have none)."""
    pyyaml = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "invalid YAML"
    problem = str(exc.problem or "")
    if " / " in problem:  # our own messages (duplicate keys) are written in both languages already
        return f"YAML: {problem}"
    japanese, english = next(((ja, en) for key, ja, en in _PLAIN if key in pyyaml),
                             ("YAML として読めません", f"not valid YAML: {' '.join(pyyaml.split())}"))
    if "cannot start any token" in problem:
        japanese, english = _cannot_start(exc, text)
    context = exc.context_mark
    mark = exc.problem_mark
    if context is not None and mark is not None and context.line != mark.line and (
            "quoted scalar" in pyyaml or "flow" in pyyaml):
        japanese += f"（{context.line + 1} 行目から）"
        english += f" (from line {context.line + 1})"
    return f"YAML: {japanese} / {english}"


def _cannot_start(exc: yaml.MarkedYAMLError, text: str) -> tuple[str, str]:
    mark = exc.problem_mark
    lines = text.splitlines()
    char = ""
    if mark is not None and mark.line < len(lines) and mark.column < len(lines[mark.line]):
        char = lines[mark.line][mark.column]
    if char == "\t":
        return "字下げにタブは使えません（空白で字下げしてください）", "tabs cannot be used for indentation: indent with spaces"
    if char.isprintable() and char:
        return (f"「{char}」で値を始めることはできません（値なら引用符で囲んでください）",
                f"a value cannot start with '{char}': quote the value")
    return ("この文字で値を始めることはできません（値なら引用符で囲んでください）",
            "a value cannot start with this character: quote it")
