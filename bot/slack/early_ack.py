"""Acknowledging before Bolt, for the requests whose acknowledgement carries nothing.

A click, a slash command and an event are acknowledged with an empty 200 whatever the bot
does with them: the listeners of those kinds call a bare `ack()` (an answer to a command
goes to its response_url) and Bolt acknowledges events itself. Bolt, though, spends about a
millisecond of interpreter time on every request before its listener acks, and waits for
that ack in 10 ms steps; in a burst of fifty, the last ack waits for all the others. So
those kinds are acknowledged as soon as their signature and shape are checked, and Bolt
handles them afterwards, in a pool. Modal submissions and everything else go through Bolt
before the answer: their acknowledgement may carry errors or options.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest

log = logging.getLogger(__name__)

# Bolt's dispatch of a request acked early holds a thread until its listener acks (Bolt
# polls for that), so a burst needs about one thread per request; started as needed.
DISPATCH_THREADS = 64


def acked_at_arrival(body: dict[str, Any]) -> bool:
    """Whether the acknowledgement of `body` is an empty 200 whatever Bolt does with it."""
    return body.get("type") in {"event_callback", "block_actions"} or bool(body.get("command"))


def dispatch_acked(app: App, request: BoltRequest) -> None:
    """Let Bolt handle a request already acknowledged; its answer is nobody's any more."""
    try:
        response = app.dispatch(request)
    except Exception:
        log.exception("a Slack request acknowledged at arrival failed")
        return
    if response.status == 200 and response.body:
        log.error("a listener answered a request acknowledged at arrival: %s", response.body)
    elif response.status not in (200, 404):
        # 404 is Bolt's "no listener", which Bolt logs itself.
        log.warning("Bolt answered %d to a request acknowledged at arrival", response.status)


class EarlyAckHandler(SlackRequestHandler):
    """Bolt's WSGI handler, acknowledging clicks, commands and events before Bolt runs."""

    def __init__(self, app: App, path: str, pool: ThreadPoolExecutor) -> None:
        super().__init__(app, path)
        self.pool = pool

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        bolt_request = BoltRequest(
            body=request.get_body(), query=request.query_string, headers=request.get_headers()
        )
        if acked_at_arrival(bolt_request.body):
            self.pool.submit(dispatch_acked, self.app, bolt_request)
            return BoltResponse(status=200, body="")
        return self.app.dispatch(bolt_request)
