"""Acknowledging before Bolt, for the requests whose acknowledgement carries nothing.

A click, a slash command and an event are acknowledged with an empty 200 whatever the bot
does with them: the listeners of those kinds call a bare `ack()` (an answer to a command
goes to its response_url) and Bolt acknowledges events itself. Bolt, though, spends about a
millisecond of interpreter time on every request before its listener acks, and waits for
that ack in 10 ms steps; in a burst of fifty, the last ack waits for all the others. So
those kinds are acknowledged as soon as their signature is checked, and Bolt handles them
afterwards, in a pool, once the acks of a burst are out (`acks_first.py`), if their shape
is Slack's (`http_door.slack_payload`). Modal submissions and everything else go through
Bolt before the answer: their acknowledgement may carry errors or options.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote_plus

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request.internals import parse_body

from bot.slack.acks_first import AcksFirst
from bot.slack.http_door import slack_payload

log = logging.getLogger(__name__)

# Bolt's dispatch of a request acked early holds a thread until its listener acks (Bolt
# polls for that), so a burst needs about one thread per request; started as needed.
DISPATCH_THREADS = 64

_PAYLOAD_FIELD = "payload="
_FIRST_TYPE = re.compile(r'\{\s*"type"\s*:\s*"(\w+)"')


def acked_at_arrival(body: dict[str, Any]) -> bool:
    """Whether the acknowledgement of `body` is an empty 200 whatever Bolt does with it."""
    return _acked_kind(body.get("type"), bool(body.get("command")))


def _acked_kind(payload_type: object, command: bool) -> bool:
    return payload_type in ("event_callback", "block_actions") or command


def acked_at_arrival_raw(body: str, content_type: str | None) -> bool:
    """`acked_at_arrival` of an HTTP body, read no further than the decision needs.

    Decoding a click's form body (the whole card, URL-encoded) takes longer than anything
    else on its way to the ack, about 0.4 ms per 20 KiB, and Bolt decodes it again. Slack
    writes an interaction's `type` first, so a few dozen characters decide; any other
    layout is decoded in full.
    """
    if body.startswith(_PAYLOAD_FIELD):
        start = len(_PAYLOAD_FIELD)
        first_key = _FIRST_TYPE.match(unquote_plus(body[start : start + 64]))
        if first_key is not None:
            return _acked_kind(first_key.group(1), False)
    try:
        parsed = parse_body(body, content_type)
    except (ValueError, RecursionError):
        return False  # the door answers what it cannot read
    return isinstance(parsed, dict) and acked_at_arrival(parsed)


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

    def __init__(
        self, app: App, path: str, pool: ThreadPoolExecutor, acks_first: AcksFirst
    ) -> None:
        super().__init__(app, path)
        self.pool = pool
        self.acks_first = acks_first

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        body, headers, query = request.get_body(), request.get_headers(), request.query_string
        content_type = headers.get("content-type")
        if acked_at_arrival_raw(body, content_type if isinstance(content_type, str) else None):
            self.acks_first.after(lambda: self.pool.submit(self._dispatch, body, query, headers))
            return BoltResponse(status=200, body="")
        return self.app.dispatch(BoltRequest(body=body, query=query, headers=headers))

    def _dispatch(self, body: str, query: str, headers: dict[str, Any]) -> None:
        content_type = headers.get("content-type")
        if not slack_payload(body, content_type if isinstance(content_type, str) else None):
            log.warning("dropped a signed request acknowledged at arrival: not a Slack payload")
            return
        dispatch_acked(self.app, BoltRequest(body=body, query=query, headers=headers))
