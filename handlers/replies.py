"""Telling one person something, privately, in the channel where they acted."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.text import Text
from bot.slack.cards import Message
from bot.slack.client import SLACK_FAILURES, slack_failure
from bot.slack.limits import MESSAGE_TEXT_LIMIT
from bot.slack.markup import render

log = logging.getLogger(__name__)

Blocks = Sequence[dict[str, Any]]


def tell(client: WebClient, channel: str | None, user: str, text: Text | str) -> None:
    """An ephemeral message to `user`; falls back to a DM where ephemerals can't go."""
    _ephemeral(client, channel, user, render(text, MESSAGE_TEXT_LIMIT), None)


def _ephemeral(
    client: WebClient, channel: str | None, user: str, shown: str, blocks: Blocks | None
) -> None:
    """Never fails: what cannot reach the person is logged, and what they asked for goes on
    (an apply runs whether or not Slack can say so)."""
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=shown, blocks=blocks)
            return
    except SlackApiError as exc:
        log.info("ephemeral reply failed (%s); sending a DM", exc.response.get("error"))
    except SLACK_FAILURES as exc:
        log.warning("could not tell %s something: %s", user, slack_failure(exc))
        return
    try:
        client.chat_postMessage(channel=user, text=shown, blocks=blocks)
    except SLACK_FAILURES as exc:
        log.warning("could not tell %s something: %s", user, slack_failure(exc))


@dataclass(frozen=True)
class PrivateReply:
    """The way back to the person who sent a command or clicked: the request's
    response_url, and `tell` when that is used up (Slack takes five answers in thirty
    minutes on one), expired or missing."""

    respond: Respond
    client: WebClient
    channel: str | None
    user: str

    def __call__(self, text: Text | str, *, replace_original: bool = False) -> None:
        """Answer privately; `replace_original` replaces the message that was clicked."""
        self.send(render(text, MESSAGE_TEXT_LIMIT), None, replace_original)

    def message(self, message: Message) -> None:
        """Answer privately with a view built by bot/slack (its text already rendered)."""
        self.send(message.text, [block.to_dict() for block in message.blocks], False)

    def send(self, shown: str, blocks: Blocks | None, replace_original: bool) -> None:
        """`shown` is mrkdwn already rendered by bot/slack/markup.py."""
        try:
            answer = self.respond(
                text=shown,
                blocks=blocks,
                response_type="ephemeral",
                replace_original=replace_original,
            )
        # ValueError: the request had no response_url; OSError: Slack out of reach.
        except (ValueError, OSError) as exc:
            failure = str(exc)
        else:
            if answer.status_code == 200:
                return
            failure = f"{answer.status_code} {answer.body}"
        log.info("the response_url refused an answer (%s); sending an ephemeral", failure)
        _ephemeral(self.client, self.channel, self.user, shown, blocks)
