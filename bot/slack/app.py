"""The Bolt app: every listener registered, retries handled once, and its WSGI face."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.slack.http_door import slack_door
from bot.wiring import Services
from handlers import register

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Bolt runs each listener, ack() and the work after it, in one job of this pool, and the
# HTTP answer waits for the ack. A job waiting for a free thread is an ack not sent: with
# Bolt's default of 5 threads, five listeners sleeping through a Slack rate limit's
# Retry-After, or a burst of clicks, kept every later request unanswered past Slack's 3 s.
# Threads are started as jobs need them and then reused.
LISTENER_THREADS = 128
# Bolt checks for the listener's ack every 10 ms, holding a request thread meanwhile: with
# few threads, a burst of requests waits in line for that polling rather than for work.
HTTP_THREADS = 64


def build_app(services: Services) -> App:
    """The Bolt app with every listener registered; its client is the services' client."""
    settings = services.settings
    assert services.publisher is not None, "the app needs a Slack client"
    app = App(
        client=services.publisher.client,
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=not settings.socket_mode,
        logger=logging.getLogger("schemabot.slack"),
        listener_executor=ThreadPoolExecutor(
            max_workers=LISTENER_THREADS, thread_name_prefix="listener"
        ),
    )
    app.middleware(_once_per_delivery(services))
    register(app, services)
    return app


def finish_listeners(app: App) -> None:
    """Wait for the listeners still running after their ack (they go on in Bolt's pool).

    Call it once no more requests come in and before the store closes: a listener
    that outlives the store would write to a closed SQLite connection.
    """
    app.listener_runner.listener_executor.shutdown(wait=True)


def delivery_key(body: dict[str, Any]) -> str | None:
    """What identifies one delivery of a request, so Slack's retries have one effect."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("type") == "block_actions" and body.get("actions"):
        action = body["actions"][0]
        user = body.get("user")
        user = user.get("id") if isinstance(user, dict) else user
        return f"action:{user}:{action.get('action_id')}:{action.get('action_ts')}"
    if body.get("type") == "view_submission" and body.get("trigger_id"):
        # Not the view's id and hash: they stay the same when a person corrects an input
        # the bot refused and sends the modal again. Each submission has its own trigger.
        return f"view:{body['trigger_id']}"
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    if body:
        return "body:" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return None


def _once_per_delivery(services: Services) -> Callable[..., Any]:
    def once_per_delivery(
        body: dict[str, Any], next: Callable[[], BoltResponse], logger: logging.Logger
    ) -> BoltResponse | None:
        key = delivery_key(body)
        if key is not None and not services.store.first_delivery(key):
            logger.info("ignoring a repeated delivery (%s)", key.split(":")[0])
            return BoltResponse(status=200, body="")
        return next()

    return once_per_delivery


def wsgi_app(
    app: App, signing_secret: str
) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    """`POST /slack/events` to Bolt (signed Slack payloads only), `GET /healthz` for
    probes, 404 otherwise."""
    bolt = slack_door(SlackRequestHandler(app, path=EVENTS_PATH), signing_secret)

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in {"GET", "HEAD"}:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"ok": true}']
        if path == EVENTS_PATH and method == "POST":
            return bolt(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return application
