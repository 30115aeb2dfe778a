"""The Markdown-line level under bot.core.doc: lines with their endings, fences, headings.

Everything here runs in time linear in the document's size, whatever its lines hold: the
patterns never make Python's backtracking matcher try a run of spaces from each of its
characters (a heading padded with 40,000 spaces took minutes), and nothing walks the
document once per heading or per item.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

_ATX = re.compile(r"^ {0,3}(?P<hashes>#{1,6})(?=[ \t]|$)")
BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
# `abc123 - Title` (or an en or em dash), `abc123: Title`, or `abc123` alone; backticks allowed.
ENTRY_HEADING = re.compile(
    r"^`?(?P<ref>[^\W_][\w.\-]*?)`?(?:(?:[ \t]+[-\u2013\u2014]|:)[ \t]*(?P<title>.*))?$"
)
# `- **Name**: value`, `* **Name**: value`, `- **Name:** value`
# A value runs to its last character that is not a space or tab (greedy, then one step
# back), never tried at every length as a lazy `.*?` before `[ \t]*$` would be.
VALUE_AND_TRAIL = r"(?P<value>(?:.*[^ \t])?)(?P<trail>[ \t]*)$"
FIELD = re.compile(
    r"^(?P<prefix>[ \t]*[-*+][ \t]+\*\*(?P<name>[^*]+?)(?::\*\*|\*\*[ \t]*:)[ \t]*)"
    + VALUE_AND_TRAIL
)
LAST_UPDATED = re.compile(
    r"^(?P<prefix>[ \t]*(?:[-*+][ \t]+)?\*\*Last Updated(?::\*\*|\*\*[ \t]*:)[ \t]*)"
    + VALUE_AND_TRAIL,
    re.IGNORECASE,
)
# Text the template puts in a field for the author to replace.
PLACEHOLDER = re.compile(r"YYYY-MM-DD|\bYour Name\b|^Yes/No\b|^\[[^\]]*\]$|xxxxx", re.IGNORECASE)
# Only a line starting so can open a fence or be a heading: the others are passed over.
_MARKED = re.compile(r" {0,3}[#`~]")
_FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_FENCE_CLOSE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*$")
SLUG_LIMIT = 75
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def split_lines(text: str) -> tuple[str, ...]:
    """The lines of `text` with their endings; only `\\n` ends a line, so `\\r\\n` stays whole."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return tuple(lines)


def content(line: str) -> str:
    """The line without its ending."""
    if line.endswith("\n"):
        return line[:-2] if line.endswith("\r\n") else line[:-1]
    return line


def ending(line: str) -> str:
    return line[len(content(line)) :]


def is_blank(line: str) -> bool:
    return not line.strip()


def normalize_name(name: str) -> str:
    return " ".join(name.split()).casefold()


class Slugs:
    """Lower-case, hyphenated keys of at most SLUG_LIMIT characters, each one new.

    The second "Tested in dev" is `tested-in-dev-2`; each text's numbering goes on
    where it stopped, so a thousand equal items take a thousand steps, not a million.
    """

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self._number: dict[str, int] = {}
        self._bases: dict[str, str] = {}

    def key(self, text: str) -> str:
        base = self._bases.get(text)
        if base is None:
            ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
            base = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-") or "item"
            self._bases[text] = base
        key, number = _truncate(base, SLUG_LIMIT), self._number.get(base, 1)
        while key in self.taken:
            number += 1
            suffix = f"-{number}"
            key = _truncate(base, SLUG_LIMIT - len(suffix)) + suffix
        self._number[base] = number
        self.taken.add(key)
        return key


def heading(text: str) -> tuple[int, str] | None:
    """An ATX heading's level and text (CommonMark: its closing `#`s left out), else None."""
    match = _ATX.match(text)
    if match is None:
        return None
    rest = text[match.end() :].strip(" \t")
    unclosed = rest.rstrip("#")
    if not unclosed or unclosed[-1] in " \t":
        rest = unclosed
    return len(match["hashes"]), rest.strip()


def _truncate(key: str, limit: int) -> str:
    """Cut at the last word boundary that fits; mid-word only if one word is too long."""
    if len(key) <= limit:
        return key
    cut = key[: limit + 1]
    return cut.rsplit("-", 1)[0] if "-" in cut[:limit] else key[:limit]


@dataclass(frozen=True)
class Scan:
    """Which lines sit inside code fences, and the headings outside them."""

    lines: tuple[str, ...]
    fenced: tuple[bool, ...]
    fences: tuple[tuple[int, int | None], ...]
    headings: dict[int, tuple[int, str]]
    warnings: tuple[str, ...]

    @classmethod
    def of(cls, lines: tuple[str, ...]) -> Scan:
        fenced = [False] * len(lines)
        fences: list[tuple[int, int | None]] = []
        headings: dict[int, tuple[int, str]] = {}
        opening: tuple[int, str] | None = None
        for i, line in enumerate(lines):
            if opening is None and not _MARKED.match(line):
                continue
            text = content(line)
            if opening is not None:
                fenced[i] = True
                close = _FENCE_CLOSE.match(text)
                at, fence = opening
                if close and close["fence"][0] == fence[0] and len(close["fence"]) >= len(fence):
                    fences.append((at, i))
                    opening = None
            elif (start := _FENCE_OPEN.match(text)) and not (
                start["fence"][0] == "`" and "`" in start["info"]
            ):
                fenced[i] = True
                opening = (i, start["fence"])
            elif (found := heading(text)) is not None:
                headings[i] = found
        warnings: tuple[str, ...] = ()
        if opening is not None:
            fences.append((opening[0], None))
            warnings = (f"The code fence opened on line {opening[0] + 1} is never closed.",)
        return cls(lines, tuple(fenced), tuple(fences), headings, warnings)

    def plain(self, index: int, pattern: re.Pattern[str]) -> bool:
        """Whether the line at `index` is outside code fences and matches `pattern`."""
        return not self.fenced[index] and bool(pattern.match(content(self.lines[index])))


@dataclass(frozen=True)
class Field:
    """A `- **Name**: value` line; `start`/`end` are its line indices in the document."""

    name: str
    value: str
    continuation: tuple[str, ...] = ()
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)

    @property
    def text(self) -> str:
        """The value with its continuation lines, one per line."""
        return "\n".join((self.value, *self.continuation))


def fields_in(
    lines: tuple[str, ...], indices: Iterable[int] | None = None, fenced: tuple[bool, ...] = ()
) -> list[Field]:
    """Field lines among `lines[indices]`, each with its indented continuation lines."""
    fields: list[Field] = []
    open_field = False
    for i in range(len(lines)) if indices is None else indices:
        text = content(lines[i])
        if fenced and fenced[i]:
            open_field = False
        elif open_field and text[:1] in (" ", "\t") and not is_blank(text):
            last = fields[-1]
            continuation = (*last.continuation, text.strip())
            fields[-1] = Field(last.name, last.value, continuation, last.start, i + 1)
        elif match := FIELD.match(text):
            fields.append(Field(match["name"].strip(), match["value"], (), i, i + 1))
            open_field = True
        else:
            open_field = False
    return fields


def field_prefix(match: re.Match[str], name: str) -> str:
    """A FIELD match's prefix (indent, marker, bold style) naming `name` instead."""
    prefix = match["prefix"]
    at, end = match.start("name"), match.end("name")
    renamed = prefix[:at] + name + prefix[end:]
    return renamed if renamed[-1:] in (" ", "\t") else renamed + " "


def with_value(line: str, pattern: re.Pattern[str], value: str) -> str:
    """`line`, which matches `pattern`, with its value group replaced and the rest kept."""
    match = pattern.match(content(line))
    if match is None:
        raise ValueError(f"not a value line: {line!r}")
    if match["value"] == value:
        return line
    prefix = match["prefix"] if match["prefix"][-1:] in (" ", "\t") else match["prefix"] + " "
    return prefix + value + match["trail"] + ending(line)
