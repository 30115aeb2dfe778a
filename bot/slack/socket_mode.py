"""Socket Mode over websocket-client, acknowledging at arrival what needs no answer.

Not Bolt's default handler: slack_sdk's builtin client parses frames recursively, once per
1,024-byte read, so a burst of large envelopes (fifty clicks of 24 KiB, each carrying a card
full of SQL) passes Python's recursion limit near 1.2 MiB; it then reads the rest as
garbage, sees a CLOSE nobody sent, reconnects, and the envelopes it had not acked are lost:
Slack does not resend clicks or commands. websocket-client reads frames in a loop.

Clicks, commands and events are acknowledged by the thread that reads the socket, as soon
as their envelope is parsed (see `early_ack.py`); Bolt handles them afterwards in the
client's workers, once the acks of a burst are out (`acks_first.py`). Modal submissions
are acknowledged by Bolt, with whatever the listener answered.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import build_headers, run_bolt_app, send_response
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.websocket_client import SocketModeClient
from websocket import WebSocketApp

from bot.slack.acks_first import AcksFirst
from bot.slack.early_ack import acked_at_arrival, dispatch_acked

log = logging.getLogger(__name__)

# Bolt's handling of one envelope holds a worker until its listener acks (Bolt polls for
# that in 10 ms steps): a burst of fifty needs about fifty, started as needed.
WORKERS = 64


class _EarlyAckingClient(SocketModeClient):
    """slack_sdk's websocket-client Socket Mode client, acking at arrival (see module doc)."""

    acks_first: AcksFirst

    def enqueue_message(self, message: str) -> None:
        try:
            envelope = json.loads(message)
        except ValueError:
            envelope = None
        if (
            isinstance(envelope, dict)
            and isinstance(envelope.get("envelope_id"), str)
            and isinstance(envelope.get("payload"), dict)
            and acked_at_arrival(envelope["payload"])
        ):
            self.send_socket_mode_response({"envelope_id": envelope["envelope_id"]})
            self.acks_first.acked()
            # Parsing it again and Bolt's work wait until the burst's acks are out.
            self.acks_first.after(lambda: SocketModeClient.enqueue_message(self, message))
            return
        super().enqueue_message(message)

    def _run_current_session(self) -> None:
        # slack_sdk's own, with websocket-client's UTF-8 check off: without the unmaintained
        # wsaccel it runs in pure Python, 3-4 ms per 24 KiB frame in the one thread that
        # reads every frame. The frames are decoded by str's own UTF-8 decoder instead,
        # which refuses the same bytes, before slack_sdk sees them.
        session = self.current_session
        if session is None:
            return
        if session.on_message is not None and not isinstance(session.on_message, _Decoding):
            session.on_message = _Decoding(session.on_message)
        try:
            self.logger.info("Starting to receive messages from a new connection")
            session.run_forever(
                ping_interval=self.ping_interval,
                http_proxy_host=self.http_proxy_host,
                http_proxy_port=self.http_proxy_port,
                http_proxy_auth=self.http_proxy_auth,
                proxy_type=self.proxy_type,
                skip_utf8_validation=True,
            )
            self.logger.info("Stopped receiving messages from a connection")
        except Exception:
            self.logger.exception("Failed to start or stop the current session")
            # Closed, so that the client's monitor sees it and reconnects.
            session.close()


class _Decoding:
    """A text frame's bytes, decoded, to slack_sdk's message callback."""

    def __init__(self, on_message: Callable[[WebSocketApp, Any], None]) -> None:
        self.on_message = on_message

    def __call__(self, ws: WebSocketApp, data: bytes | str) -> None:
        # A frame that is not UTF-8 raises here; websocket-client logs it through on_error.
        self.on_message(ws, data.decode("utf-8") if isinstance(data, bytes) else data)


class SocketModeFront(BaseSocketModeHandler):
    """Bolt's Socket Mode handler over `_EarlyAckingClient`."""

    client: _EarlyAckingClient

    def __init__(
        self,
        app: App,
        app_token: str,
        acks_first: AcksFirst,
        *,
        ping_interval: float = 10,
        workers: int = WORKERS,
    ) -> None:
        self.app = app
        self.app_token = app_token
        self.acks_first = acks_first
        self.client = _EarlyAckingClient(
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            ping_interval=ping_interval,
            concurrency=workers,
        )
        self.client.acks_first = acks_first
        self.client.socket_mode_request_listeners.append(self.handle)

    def handle(self, client: Any, req: SocketModeRequest) -> None:
        if acked_at_arrival(req.payload):
            headers = build_headers(req)
            request = BoltRequest(body=req.payload, headers=headers, mode="socket_mode")
            dispatch_acked(self.app, request)
            return
        started = time.time()
        send_response(client, req, run_bolt_app(self.app, req), started)

    def close(self) -> None:
        """Stop taking envelopes, hand on those acked and waiting, then close."""
        self.client.auto_reconnect_enabled = False
        self.client.disconnect()
        self.acks_first.close()
        self.client.close()

    def connected(self) -> bool:
        """Whether the WebSocket to Slack is open now."""
        return bool(self.client.is_connected())
