"""How Slack reads the mrkdwn it is sent: what people see, and what goes live.

Slack turns every `<…>` in mrkdwn into something live: `<!channel>`, `<!here>` and
`<!everyone>` notify everyone, `<@U…>` mentions a person, `<#C…>` links a channel, and
`<url|label>` shows a link under a label. Text the bot did not write itself (a branch
name, an entry's title, SQL) must reach Slack escaped, so none of that happens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

LIVE = re.compile(r"<[^<>]*>")
FRAGMENT = 24


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
