"""The Bolt app with every listener registered, and its ways in: HTTP and Socket Mode.

Between a request's arrival and its ack nothing touches the disk, a lock that workers
hold, the network or git: retries are recognised in memory (`deliveries.py`), and clicks,
commands and events are acked before Bolt runs (`early_ack.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from slack_bolt import App, BoltResponse

from bot.slack.acks_first import AcksFirst
from bot.slack.deliveries import DeliveryWindow, delivery_key
from bot.slack.early_ack import DISPATCH_THREADS, EarlyAckHandler, acked_at_arrival_raw
from bot.slack.http_door import slack_door
from bot.slack.socket_mode import SocketModeFront
from bot.wiring import Services
from handlers import register

log = logging.getLogger(__name__)

WsgiApp = Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Bolt runs each listener, ack() and the work after it, in one job of this pool. A job
# waiting for a free thread is a modal submission not answered: with Bolt's default of 5
# threads, five listeners sleeping through a Slack rate limit's Retry-After kept every
# later request waiting past Slack's 3 s. Threads are started as jobs need them and reused.
LISTENER_THREADS = 128
# Bolt checks for a listener's ack every 10 ms, holding a request thread meanwhile: with
# few threads, a burst of modal submissions waits in line for that polling.
HTTP_THREADS = 64


class SlackFront:
    """The Bolt app, the window of deliveries already seen, and the pool that handles the
    requests acked before Bolt ran; `finish()` once no more requests come in."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        assert services.publisher is not None, "the app needs a Slack client"
        self.deliveries = DeliveryWindow(services.store, services.clock)
        self.deliveries.load()
        self.acked = ThreadPoolExecutor(max_workers=DISPATCH_THREADS, thread_name_prefix="acked")
        self.acks_first = AcksFirst()
        self.app = App(
            client=services.publisher.client,
            signing_secret=settings.slack_signing_secret or "",
            request_verification_enabled=not settings.socket_mode,
            logger=logging.getLogger("schemabot.slack"),
            listener_executor=ThreadPoolExecutor(
                max_workers=LISTENER_THREADS, thread_name_prefix="listener"
            ),
        )
        self.app.middleware(_once_per_delivery(self.deliveries))
        register(self.app, services)

    def wsgi(self, signing_secret: str, health: Callable[[], bool] | None = None) -> WsgiApp:
        """`POST /slack/events` (signed Slack payloads only) and `GET /healthz`."""
        handler = EarlyAckHandler(self.app, EVENTS_PATH, self.acked, self.acks_first)
        door = slack_door(handler, signing_secret, checked_after_ack=acked_at_arrival_raw)

        def events(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            with self.acks_first.arriving():
                return door(environ, start_response)

        return wsgi_app(events, health)

    def socket_mode(self, app_token: str, ping_interval: float = 10) -> SocketModeFront:
        """A Socket Mode connection for the app; `connect()` it."""
        return SocketModeFront(self.app, app_token, self.acks_first, ping_interval=ping_interval)

    def finish(self) -> None:
        """Wait for the work still going on after the acks, then save what it remembered.

        Call it once no more requests come in and before the store closes: a listener
        that outlives the store would write to a closed SQLite connection.
        """
        self.acks_first.close()
        self.acked.shutdown(wait=True)
        self.app.listener_runner.listener_executor.shutdown(wait=True)
        self.deliveries.close()


def _once_per_delivery(deliveries: DeliveryWindow) -> Callable[..., Any]:
    def once_per_delivery(
        body: dict[str, Any], next: Callable[[], BoltResponse], logger: logging.Logger
    ) -> BoltResponse | None:
        key = delivery_key(body)
        if key is not None and not deliveries.first(key):
            logger.info("ignoring a repeated delivery (%s)", key.split(":")[0])
            return BoltResponse(status=200, body="")
        return next()

    return once_per_delivery


def wsgi_app(events: WsgiApp | None, health: Callable[[], bool] | None = None) -> WsgiApp:
    """`POST /slack/events` to `events` (none: 404), `GET /healthz` for probes (200 while
    `health()` holds, else 503), 404 otherwise."""

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in {"GET", "HEAD"}:
            if health is None or health():
                start_response("200 OK", [("Content-Type", "application/json")])
                return [b'{"ok": true}']
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [b'{"ok": false, "error": "not connected to Slack"}']
        if events is not None and path == EVENTS_PATH and method == "POST":
            return events(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return application
