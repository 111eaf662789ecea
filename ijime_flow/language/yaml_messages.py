"""YAML errors in plain words, Japanese first, at the line and column of the mistake.

PyYAML reports in English ("while parsing a block mapping did not find expected key"); a policy
author editing a file in Japanese is told what is wrong first in Japanese, then the parser's own
words after `` / ``. Characters YAML does not allow (control characters such as ``\\x07`` or
``\\x1b``) are found before parsing, so they are reported where they are, not at 1:1.
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


_PLAIN: tuple[tuple[str, str], ...] = (
    ("did not find expected key", "字下げが揃っていないか、「キー: 値」の形になっていない行があります"),
    ("did not find expected ',' or ']'", "「[」で始めたリストが「]」で閉じられていないか、「,」が抜けています"),
    ("did not find expected ',' or '}'", "「{」で始めたマッピングが「}」で閉じられていないか、「,」が抜けています"),
    ("did not find expected '-' indicator", "リストの項目（- ）と字下げが揃っていない行があります"),
    ("mapping values are not allowed",
     "ここに「キー: 値」は書けません（字下げの誤りか、値の中の「: 」。値なら引用符で囲んでください）"),
    ("could not find expected ':'", "「キー: 値」の「:」がありません（字下げの誤りかもしれません）"),
    ("found unexpected end of stream", "引用符が閉じられていません"),
    ("found undefined alias", "定義されていないエイリアス（*名前）です"),
    ("found duplicate anchor", "同じアンカー名（&名前）が二度使われています"),
    ("found unknown escape character", "二重引用符の中に使えないエスケープ（\\ の後の文字）があります"),
    ("but found another document",
     "一つのファイルに文書が二つ以上あります（--- の区切り）。一つのファイルに一つのワークフローです"),
    ("did not find expected <document start>", "字下げが揃っていません（最初の行より左に戻っている行があります）"),
    ("could not determine a constructor for the tag", "使えないタグ（! で始まる型の指定）です"),
    ("found unhashable key", "キーにリストやマッピングは使えません"),
)


def plain_message(exc: yaml.MarkedYAMLError, text: str) -> str:
    """``YAML: <Japanese> / <PyYAML's English>``, on one line."""
    english = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "invalid YAML"
    problem = str(exc.problem or "")
    if " / " in problem:  # our own messages (duplicate keys) are written in both languages already
        return f"YAML: {problem}"
    japanese = next((ja for key, ja in _PLAIN if key in english), "YAML として読めません")
    if "cannot start any token" in problem:
        japanese = _cannot_start(exc, text)
    context = exc.context_mark
    mark = exc.problem_mark
    if context is not None and mark is not None and context.line != mark.line and (
            "quoted scalar" in english or "flow" in english):
        japanese += f"（{context.line + 1} 行目から）"
    return f"YAML: {japanese} / {english}"


def _cannot_start(exc: yaml.MarkedYAMLError, text: str) -> str:
    mark = exc.problem_mark
    lines = text.splitlines()
    char = ""
    if mark is not None and mark.line < len(lines) and mark.column < len(lines[mark.line]):
        char = lines[mark.line][mark.column]
    if char == "\t":
        return "字下げにタブは使えません（空白で字下げしてください）"
    shown = f"「{char}」" if char.isprintable() and char else "この文字"
    return f"{shown}で値を始めることはできません（値なら引用符で囲んでください）"
