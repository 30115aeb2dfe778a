"""A script of SQL cut into its statements, as PostgreSQL's own lexer would cut it.

A `;` ends a statement only outside quotes ('...', "...", E'...'), dollar quotes
($$...$$, $tag$...$tag$), comments (-- and nested /* */) and parentheses, so a function
body or a string holding `;` stays whole. Comments are dropped and runs of whitespace
become one space: what remains is the statement as a reader would quote it. Linear in the
length of the script.
"""

from __future__ import annotations

import re

_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\U0010ffff][\w\x80-\U0010ffff]*)?\$")


def statements(script: str) -> tuple[str, ...]:
    """The script's statements, in order, without their `;`, comments and extra spaces."""
    found: list[str] = []
    current: list[str] = []
    depth = 0
    at, end = 0, len(script)
    while at < end:
        char = script[at]
        if char == "-" and script.startswith("--", at):
            newline = script.find("\n", at)
            at = end if newline < 0 else newline
            current.append(" ")
            continue
        if char == "/" and script.startswith("/*", at):
            at = _comment_end(script, at)
            current.append(" ")
            continue
        if char in "'\"":
            close = _quote_end(script, at, char)
            current.append(script[at:close])
            at = close
            continue
        if char == "$":
            tag = _DOLLAR_TAG.match(script, at)
            if tag is not None and not _in_word(script, at):
                close = script.find(tag.group(), tag.end())
                close = end if close < 0 else close + len(tag.group())
                current.append(script[at:close])
                at = close
                continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == ";" and depth == 0:
            _keep(found, current)
            current = []
            at += 1
            continue
        current.append(char)
        at += 1
    _keep(found, current)
    return tuple(found)


def normalized(statement: str) -> str:
    """A statement as compared across renderings: one space between words, case folded."""
    return " ".join(statement.split()).rstrip(";").strip().casefold()


def _keep(found: list[str], parts: list[str]) -> None:
    text = " ".join("".join(parts).split())
    if text:
        found.append(text)


def _in_word(script: str, at: int) -> bool:
    """`$1` or `a$b`: a `$` inside an identifier or a parameter starts no dollar quote."""
    return at > 0 and (script[at - 1].isalnum() or script[at - 1] in "_$")


def _quote_end(script: str, at: int, quote: str) -> int:
    """Where a quoted literal that opens at `at` ends; a doubled quote stays inside, as does
    a backslash-escaped one in an E'' string."""
    escapes = quote == "'" and at > 0 and script[at - 1] in "eE"
    index = at + 1
    while index < len(script):
        char = script[index]
        if escapes and char == "\\":
            index += 2
            continue
        if char == quote:
            if script.startswith(quote * 2, index):
                index += 2
                continue
            return index + 1
        index += 1
    return len(script)


def _comment_end(script: str, at: int) -> int:
    """Where a block comment opening at `at` ends; PostgreSQL's block comments nest."""
    depth = 0
    index = at
    while index < len(script):
        if script.startswith("/*", index):
            depth += 1
            index += 2
        elif script.startswith("*/", index):
            depth -= 1
            index += 2
            if depth == 0:
                return index
        else:
            index += 1
    return len(script)
