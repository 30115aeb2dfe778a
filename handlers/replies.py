"""Telling one person something, privately, in the channel where they acted."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.text import Text
from bot.slack.limits import MESSAGE_TEXT_LIMIT
from bot.slack.markup import render

log = logging.getLogger(__name__)


def tell(client: WebClient, channel: str | None, user: str, text: Text | str) -> None:
    """An ephemeral message to `user`; falls back to a DM where ephemerals can't go."""
    shown = render(text, MESSAGE_TEXT_LIMIT)
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=shown)
            return
    except SlackApiError as exc:
        log.info("ephemeral reply failed (%s); sending a DM", exc.response.get("error"))
    client.chat_postMessage(channel=user, text=shown)
