"""Telling one person something, privately, in the channel where they acted."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


def tell(client: WebClient, channel: str | None, user: str, text: str) -> None:
    """An ephemeral message to `user`; falls back to a DM where ephemerals can't go."""
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
            return
    except SlackApiError as exc:
        log.info("ephemeral reply failed (%s); sending a DM", exc.response.get("error"))
    client.chat_postMessage(channel=user, text=text)
