"""The Slack Web API client the bot posts with, and which of its calls it tries again.

A rate limit (429) means Slack did nothing: every method is tried again after its
Retry-After. A server error (5xx) or a dropped connection may come after Slack did the
work: only methods whose second call changes nothing more than the first are tried again.
A second `chat.postMessage` would post the card twice, a second `chat.postEphemeral` tell
the same thing twice; those fail once, and the bot's own recovery takes over (a card not
posted is posted by the next scan).
"""

from __future__ import annotations

from http.client import HTTPException
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.config import Settings

SLACK_FAILURES: tuple[type[Exception], ...] = (SlackClientError, OSError, HTTPException)
"""What a Web API call raises when Slack refuses it (an error answer) or is out of reach
(refused, dropped or cut-off connections, timeouts)."""

IDEMPOTENT_METHODS = frozenset(
    {
        "auth.test",
        "chat.getPermalink",
        "chat.update",
        "conversations.info",
        "conversations.members",
        "users.info",
        "users.lookupByEmail",
        "views.publish",
        "views.update",
    }
)


def slack_failure(error: Exception) -> str:
    """One of SLACK_FAILURES in a few words, for the log."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return f"Slack out of reach ({type(error).__name__}: {error})"


def idempotent(request: HttpRequest) -> bool:
    """Whether calling the request's method twice does what calling it once does."""
    return urlsplit(request.url).path.rsplit("/", 1)[-1] in IDEMPOTENT_METHODS


class IdempotentOnly:
    """A retry handler's mixin: a request is tried again only if it is idempotent."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        retry = super()._can_retry  # type: ignore[misc]
        return idempotent(request) and bool(
            retry(state=state, request=request, response=response, error=error)
        )


class IdempotentServerErrorRetryHandler(IdempotentOnly, ServerErrorRetryHandler):
    """Tries a 5xx answer again, for idempotent methods only."""


class IdempotentConnectionErrorRetryHandler(IdempotentOnly, ConnectionErrorRetryHandler):
    """Tries a dropped connection again, for idempotent methods only."""


def slack_client(settings: Settings) -> WebClient:
    """The Web API client, with the retries described in the module docstring."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            IdempotentConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=3),
            IdempotentServerErrorRetryHandler(max_retry_count=2),
        ],
    )
