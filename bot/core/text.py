"""What the bot says, kept as parts until a front end renders it.

A message mixes the bot's own words and formatting with strings from the repository, git,
a database or a person: a revision id, a branch name, an entry's title, an error. The core
never writes markup around them; it builds a `Text` of parts, and each front end renders
it in one place: `bot/slack/markup.py` for Slack (every string escaped there, once) and
`plain()` for the command line and the logs.

    Text("Can't apply ", Code(revision), " yet: asked by ", User(user_id), ".")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Code:
    """A value shown as code: an id, a path, a branch, a command, a short excerpt."""

    text: str


@dataclass(frozen=True)
class Bold:
    text: str


@dataclass(frozen=True)
class User:
    """A person, by Slack user id: mentioned in Slack, named by id elsewhere."""

    id: str


@dataclass(frozen=True)
class Fenced:
    """A block of text shown as it is, in a code block: migration output, a draft entry."""

    text: str


Part = str | Code | Bold | User | Fenced


@dataclass(frozen=True, init=False)
class Text:
    """Plain strings (the bot's words, or anyone's, shown as written) and formatted parts.

    `+` and `join` make new ones; `str()` is the plain rendering.
    """

    parts: tuple[Part, ...]

    def __init__(self, *parts: Part | Text) -> None:
        flat: list[Part] = []
        for part in parts:
            if isinstance(part, Text):
                flat.extend(part.parts)
            elif part != "":
                flat.append(part)
        object.__setattr__(self, "parts", tuple(flat))

    def __add__(self, other: Part | Text) -> Text:
        return Text(self, other)

    def __radd__(self, other: Part) -> Text:
        return Text(other, self)

    def __iter__(self) -> Iterator[Part]:
        return iter(self.parts)

    def __bool__(self) -> bool:
        return bool(self.parts)

    def __str__(self) -> str:
        return plain(self)

    def map(self, change: Callable[[str], str]) -> Text:
        """The same parts with `change` applied to every string they show (not user ids)."""
        return Text(*(_mapped(part, change) for part in self.parts))

    @staticmethod
    def join(separator: Part | Text, items: Iterable[Part | Text]) -> Text:
        joined: list[Part | Text] = []
        for index, item in enumerate(items):
            if index:
                joined.append(separator)
            joined.append(item)
        return Text(*joined)

    @staticmethod
    def lines(items: Iterable[Part | Text]) -> Text:
        """One item per line."""
        return Text.join("\n", items)


def as_text(value: str | Text) -> Text:
    return value if isinstance(value, Text) else Text(value)


def plain(text: Text | str) -> str:
    """The text as the command line and the logs show it: no markup to interpret."""
    if isinstance(text, str):
        return text
    return "".join(_plain(part) for part in text.parts)


def _mapped(part: Part, change: Callable[[str], str]) -> Part:
    if isinstance(part, str):
        return change(part)
    if isinstance(part, User):
        return part
    return replace(part, text=change(part.text))


def _plain(part: Part) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, Code):
        return f"`{part.text}`"
    if isinstance(part, Bold):
        return part.text
    if isinstance(part, User):
        return f"@{part.id}"
    return f"\n{part.text}\n"
