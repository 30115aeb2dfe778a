"""The Slack Web API client the bot posts with, retrying rate limits and server errors."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings


def slack_client(settings: Settings) -> WebClient:
    """The Web API client, retrying rate limits (429) and 5xx answers.

    slack_sdk already retries a dropped connection once by default.
    """
    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    client.retry_handlers.extend(
        [
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ]
    )
    return client
