"""The Markdown-line level under bot.core.doc: lines with their endings, fences, headings."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

HEADING = re.compile(r"^ {0,3}(?P<hashes>#{1,6})(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*$")
BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
# `abc123 - Title` (or an en or em dash), `abc123: Title`, or `abc123` alone; backticks allowed.
ENTRY_HEADING = re.compile(
    r"^`?(?P<ref>[^\W_][\w.\-]*?)`?(?:(?:[ \t]+[-\u2013\u2014]|:)[ \t]*(?P<title>.*))?$"
)
# `- **Name**: value`, `* **Name**: value`, `- **Name:** value`
FIELD = re.compile(
    r"^(?P<prefix>[ \t]*[-*+][ \t]+\*\*(?P<name>[^*]+?)(?::\*\*|\*\*[ \t]*:)[ \t]*)"
    r"(?P<value>.*?)(?P<trail>[ \t]*)$"
)
LAST_UPDATED = re.compile(
    r"^(?P<prefix>[ \t]*(?:[-*+][ \t]+)?\*\*Last Updated(?::\*\*|\*\*[ \t]*:)[ \t]*)"
    r"(?P<value>.*?)(?P<trail>[ \t]*)$",
    re.IGNORECASE,
)
# Text the template puts in a field for the author to replace.
PLACEHOLDER = re.compile(r"YYYY-MM-DD|\bYour Name\b|^Yes/No\b|^\[[^\]]*\]$|xxxxx", re.IGNORECASE)
_FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_FENCE_CLOSE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*$")
SLUG_LIMIT = 75


def split_lines(text: str) -> tuple[str, ...]:
    """The lines of `text` with their endings; only `\\n` ends a line, so `\\r\\n` stays whole."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return tuple(lines)


def content(line: str) -> str:
    """The line without its ending."""
    for eol in ("\r\n", "\n"):
        if line.endswith(eol):
            return line[: -len(eol)]
    return line


def ending(line: str) -> str:
    return line[len(content(line)) :]


def is_blank(line: str) -> bool:
    return not line.strip()


def normalize_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def slug(text: str, taken: set[str]) -> str:
    """A lower-case, hyphenated key of at most SLUG_LIMIT characters, not in `taken`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "item"
    key, number = _truncate(base, SLUG_LIMIT), 1
    while key in taken:
        number += 1
        suffix = f"-{number}"
        key = _truncate(base, SLUG_LIMIT - len(suffix)) + suffix
    return key


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
            elif heading := HEADING.match(text):
                headings[i] = (len(heading["hashes"]), (heading["text"] or "").strip())
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
