"""Slack's mrkdwn, written in one place: every string escaped once, where it becomes markup.

Slack reads `&`, `<` and `>` as control characters in every mrkdwn field, code spans and
code blocks included (docs.slack.dev, "Formatting text": escaping), so a branch named
`feat/<!channel>` would ping the channel and an entry titled `<https://evil.example|click>`
would show a disguised link. Everything the bot shows goes through here: strings are cut
to their budget before they are escaped (an entity is never split), code spans and blocks
cannot be closed by what they hold, and only a valid Slack user id becomes a mention.

The core hands over `Text` (bot/core/text.py); views call `render` on it, or the helpers
below on single values.
"""

from __future__ import annotations

import re

from bot.core.text import Bold, Code, Part, Text, User

ELLIPSIS = "…"
FENCE = "```"
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,40}")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,40}")
_URL = re.compile(r"https?://[^\s<>|]+")
# Slack has no escape for a backtick: inside a span it would end the span, so it is shown
# as the look-alike MODIFIER LETTER GRAVE ACCENT; in a block, a zero-width space keeps
# any two backticks from touching, so no ``` can close it early.
_SPAN_BACKTICK = "\u02cb"
_ZERO_WIDTH_SPACE = "\u200b"


def escape(text: str) -> str:
    """`text` with Slack's three control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escaped_prefix(text: str, budget: int) -> tuple[str, bool]:
    """The longest start of `text` whose escaped form fits in `budget` characters, escaped;
    and whether all of `text` fit."""
    whole = escape(text)
    if len(whole) <= budget:
        return whole, True
    return escape(text[: _fitting(text, budget)]), False


def _fitting(text: str, budget: int) -> int:
    """How many characters from the start of `text` fit in `budget` once escaped."""
    used = 0
    for count, char in enumerate(text[: max(budget, 0)]):
        used += len(_ENTITIES.get(char, char))
        if used > budget:
            return count
    return min(len(text), max(budget, 0))


def fit(text: str, limit: int) -> str:
    """`text` escaped within `limit` characters, ending with … when it had to be cut."""
    shown, whole = escaped_prefix(text, limit)
    if whole:
        return shown
    shown, _ = escaped_prefix(text, limit - len(ELLIPSIS))
    return shown.rstrip() + ELLIPSIS


def clip(text: str, limit: int) -> str:
    """`text` for a plain_text object (Slack shows it as written): cut, never escaped."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(ELLIPSIS))].rstrip() + ELLIPSIS


def code(text: str, limit: int = 3000) -> str:
    """`text` as inline code: one line, escaped, and within `limit` with its backticks."""
    flat = " ".join(text.replace("`", _SPAN_BACKTICK).split()) or " "
    return f"`{fit(flat, max(limit - 2, 1))}`"


def fence(text: str, limit: int = 3000) -> str:
    """`text` as a code block, escaped, that nothing inside it can close early."""
    body = re.sub(r"`(?=`)", "`" + _ZERO_WIDTH_SPACE, text)
    room = max(limit - 2 * len(FENCE) - 2 * len(_ZERO_WIDTH_SPACE), 1)
    return f"{FENCE}{_guarded(fit(body, room))}{FENCE}"


def mention(user_id: str) -> str:
    """A mention of a Slack user; anything but a user id is shown as text, never parsed."""
    if _USER_ID.fullmatch(user_id):
        return f"<@{user_id}>"
    return escape(f"@{user_id}")


def channel_link(channel_id: str) -> str:
    """A link to a channel, shown by its name; anything but a channel id is shown as text."""
    if _CHANNEL_ID.fullmatch(channel_id):
        return f"<#{channel_id}>"
    return escape(f"#{channel_id}")


def link(url: str, label: str) -> str:
    """A link whose label is shown as written; a URL Slack could misread is left out."""
    if _URL.fullmatch(url):
        return f"<{url}|{escape(label.replace('|', '¦'))}>"
    return escape(label)


def render(text: Text | str, limit: int = 3000, pointer: Text | str = "") -> str:
    """`text` as mrkdwn within `limit` characters; when cut, it ends with … and `pointer`
    (where to read the rest)."""
    parts = [_part(part) for part in _parts(text)]
    whole = "".join(parts)
    if len(whole) <= limit:
        return whole
    # The pointer names a file from the repository: it gets a third of the room at most.
    tail = ELLIPSIS + (" " + render(pointer, limit // 3) if pointer else "")
    budget = limit - len(tail)
    shown: list[str] = []
    for part, rendered in zip(_parts(text), parts, strict=True):
        if len(rendered) <= budget:
            shown.append(rendered)
            budget -= len(rendered)
            continue
        shown.append(_part(part, budget))
        break
    return "".join(shown).rstrip() + tail


def _parts(text: Text | str) -> tuple[Part, ...]:
    return (text,) if isinstance(text, str) else text.parts


def _part(part: Part, budget: int | None = None) -> str:
    """One part as mrkdwn; with a `budget`, the start of it that fits (maybe nothing)."""
    room = 10**9 if budget is None else budget
    if isinstance(part, str):
        return escaped_prefix(part, room)[0]
    if isinstance(part, User):
        shown = mention(part.id)
        return shown if len(shown) <= room else ""
    if isinstance(part, Code):
        return code(part.text, room) if room >= 3 else ""
    if isinstance(part, Bold):
        inner, _ = escaped_prefix(part.text, room - 2)
        return f"*{inner}*" if inner.strip() else inner
    return fence(part.text, room) if room > 2 * len(FENCE) else ""


def fenced_chunks(text: str, limit: int = 3000) -> list[str]:
    """All of `text` as code blocks of at most `limit` characters each, split between lines
    where a line fits, and never inside an escaped character."""
    budget = limit - 2 * len(FENCE) - 2 * len(_ZERO_WIDTH_SPACE)
    body = re.sub(r"`(?=`)", "`" + _ZERO_WIDTH_SPACE, text)
    chunks: list[str] = []
    current = ""
    for line in body.splitlines(keepends=True):
        if current and len(current) + len(escape(line)) > budget:
            chunks.append(current)
            current = ""
        while len(escape(line)) > budget:
            cut = _fitting(line, budget)
            chunks.append(escape(line[:cut]))
            line = line[cut:]
        current += escape(line)
    if current.strip():
        chunks.append(current)
    return [f"{FENCE}{_guarded(chunk)}{FENCE}" for chunk in chunks]


def _guarded(chunk: str) -> str:
    """A chunk that starts or ends with a backtick would merge with its fence."""
    if chunk.startswith("`"):
        chunk = _ZERO_WIDTH_SPACE + chunk
    if chunk.endswith("`"):
        chunk += _ZERO_WIDTH_SPACE
    return chunk
