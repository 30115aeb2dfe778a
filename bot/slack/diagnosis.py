"""The Slack half of `schemabot doctor`: the token, and the bot's place in the channel."""

from __future__ import annotations

from collections.abc import Iterator

from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.core.diagnosis import Check
from bot.slack.client import slack_client


def slack_checks(settings: Settings) -> Iterator[Check]:
    if settings.slack_bot_token is None or settings.channel is None:
        yield Check("slack", False, "no token or channel to check", "see the settings check")
        return
    client = slack_client(settings)
    try:
        who = client.auth_test()
    except OSError as exc:
        yield Check(
            "slack token",
            False,
            f"Slack's Web API at {settings.slack_api_url} does not answer ({exc})",
            "check the network, a proxy, or SCHEMABOT_SLACK_API_URL",
        )
        return
    except SlackApiError as exc:
        yield Check(
            "slack token",
            False,
            f"auth.test refused it ({exc.response.get('error')})",
            "copy the Bot User OAuth Token (xoxb-) into SLACK_BOT_TOKEN",
        )
        return
    yield Check("slack token", True, f"the bot is {who.get('user')} in {who.get('team')}")
    try:
        channel = client.conversations_info(channel=settings.channel)["channel"]
    except SlackApiError as exc:
        error = exc.response.get("error")
        fix = (
            "reinstall the app from manifest.yml (it asks for channels:read); a private "
            "review channel needs groups:read too"
            if error == "missing_scope"
            else "put the review channel's ID (C0...) in SCHEMABOT_CHANNEL"
        )
        yield Check("slack channel", False, f"conversations.info says {error}", fix)
        return
    if not channel.get("is_member"):
        yield Check(
            "slack channel",
            False,
            f"the bot is not a member of #{channel.get('name')}",
            "invite it: /invite @schemabot in the channel",
        )
        return
    yield Check("slack channel", True, f"the bot is in #{channel.get('name')}")
