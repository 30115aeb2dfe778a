"""How Slack reads the mrkdwn it is sent: what people see, and what goes live.

Slack turns every `<…>` in mrkdwn into something live: `<!channel>`, `<!here>` and
`<!everyone>` notify everyone, `<@U…>` mentions a person, `<#C…>` links a channel, and
`<url|label>` shows a link under a label. Text the bot did not write itself (a branch
name, an entry's title, SQL) must reach Slack escaped, so none of that happens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

LIVE = re.compile(r"<[^<>]*>")
FRAGMENT = 24
# The Web API methods (and response_url posts) whose text Slack renders for people.
SHOWN = frozenset(
    {"chat.postMessage", "chat.update", "chat.postEphemeral", "response_url"}
    | {"views.open", "views.push", "views.update", "views.publish"}
)


def displayed(text: str) -> str:
    """What people read: the escaped characters as themselves."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def live_tokens(text: str) -> list[str]:
    """Every `<…>` Slack would make live in this mrkdwn."""
    return LIVE.findall(text)


def mrkdwn_texts(node: object) -> Iterator[str]:
    """Every text Slack reads as mrkdwn in blocks or a view (JSON-encoded or not):
    the mrkdwn text objects; plain_text objects are shown as written."""
    if isinstance(node, str):
        try:
            node = json.loads(node)
        except json.JSONDecodeError:
            return
    if isinstance(node, Mapping):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        elif node.get("type") != "plain_text":
            for value in node.values():
                if isinstance(value, Mapping | list):
                    yield from mrkdwn_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from mrkdwn_texts(item)


def message_texts(args: Mapping[str, Any]) -> Iterator[str]:
    """The mrkdwn of a Web API call or response_url post: its `text`, blocks and view."""
    text = args.get("text")
    if isinstance(text, str) and str(args.get("mrkdwn", "true")).lower() != "false":
        yield text
    for key in ("blocks", "view", "attachments"):
        if key in args:
            yield from mrkdwn_texts(args[key])


def repository_fragments(untrusted: str) -> list[str]:
    """What would show in Slack's mrkdwn if `untrusted` were sent unescaped: each `<` with
    what follows it, up to the `>` that closes it (or FRAGMENT characters)."""
    fragments = []
    for start, char in enumerate(untrusted):
        if char == "<":
            end = untrusted.find(">", start, start + FRAGMENT)
            stop = end + 1 if end >= 0 else start + FRAGMENT
            fragments.append(untrusted[start:stop])
    return [fragment for fragment in fragments if len(fragment) > 1]


@dataclass(frozen=True)
class LiveMarkup:
    """Text marked as the repository's that reached Slack as live mrkdwn."""

    method: str
    fragment: str
    text: str


class RepositoryText:
    """The strings a test marked as the repository's, and where any of them went live."""

    def __init__(self) -> None:
        self._fragments: set[str] = set()
        self._found: list[LiveMarkup] = []

    def mark(self, texts: Iterable[str]) -> None:
        self._fragments.update(f for text in texts for f in repository_fragments(text))

    def inspect(self, method: str, args: Mapping[str, Any]) -> None:
        """Record each marked `<…>` that a call Slack renders carries unescaped."""
        if method not in SHOWN or not self._fragments:
            return
        for text in message_texts(args):
            for fragment in self._fragments:
                if fragment in text:
                    self._found.append(LiveMarkup(method, fragment, text[:500]))

    def found(self) -> list[LiveMarkup]:
        return list(self._found)
