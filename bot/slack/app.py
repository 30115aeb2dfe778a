"""Wiring: builds the Bolt app, registers the listeners, runs the watcher, serves Slack."""

from __future__ import annotations

import hashlib
import json
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server

from bot.errors import SchemabotError
from bot.git.scan import ScanReport
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


class Watcher:
    """Runs a scan every interval in a thread and posts or refreshes the cards it touches."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="watcher", daemon=True)
        self._last_error: str | None = None
        # One cycle at a time: two at once would render a revision's SQL in the same
        # worktree and pull it from under each other.
        self._cycling = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self._thread.join(timeout=30)

    def cycle(self) -> ScanReport | None:
        """One scan and its cards; errors are logged once each, and the loop goes on."""
        with self._cycling:
            return self._cycle()

    def _cycle(self) -> ScanReport | None:
        try:
            report = self.services.scanner.run()
        except SchemabotError as exc:
            self._complain(str(exc))
            return None
        if self._last_error is not None:
            log.info("the repository answers again")
            self._last_error = None
        for problem in report.problems:
            log.warning("%s", problem)
        publish_all(self.services, report.touched)
        if self.services.applier is not None:
            self.services.applier.retry_pending_documents()
        return report

    def _complain(self, message: str) -> None:
        message = self.services.redact(message)
        if message != self._last_error:
            log.error("scan failed: %s", message)
            self._last_error = message

    def _loop(self) -> None:
        while not self.stopped.is_set():
            try:
                self.cycle()
            except Exception:
                log.exception("watcher cycle failed")
            self.stopped.wait(self.services.settings.poll_seconds)


def publish_all(services: Services, revisions: Iterable[str]) -> None:
    """Post or refresh the cards of `revisions`, and post every card still missing.

    A card is missing when Slack refused it (the bot not in the channel yet, an outage):
    its revision is not new at the next scan, so without this it would never get one.
    """
    if services.publisher is None:
        return
    store = services.store
    missing = [
        r.revision
        for r in store.list_revisions(pending_only=True)
        if not store.get_card(r.revision)
    ]
    for revision in dict.fromkeys([*revisions, *missing]):
        try:
            services.review_sql(revision)
        except Exception:
            log.exception("could not render the SQL of %s", revision)
        services.refresh_card(revision)


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


class RunningBot:
    """The bot at work: recovery of runs left in flight, the watcher, and Slack's way in."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.app = build_app(services)
        self.watcher = Watcher(services)
        self._socket: SocketModeHandler | None = None
        self._server: BaseWSGIServer | MultiSocketServer | None = None

    def start(self, port: int, host: str = "0.0.0.0") -> int:
        """Start serving; returns the HTTP port bound (0 in Socket Mode)."""
        for revision in self.services.store.release_unposted_claims():
            log.warning("the card of %s was being posted when schemabot stopped", revision)
        if self.services.applier is not None:
            self.services.applier.recover()
        self.watcher.start()
        settings = self.services.settings
        if settings.socket_mode:
            self._socket = SocketModeHandler(
                self.app, settings.slack_app_token, web_client=self.app.client
            )
            self._socket.connect()  # type: ignore[no-untyped-call]
            log.info("connected to Slack in Socket Mode")
            return 0
        server = create_server(
            wsgi_app(self.app, settings.slack_signing_secret or ""),
            host=host,
            port=port,
            threads=HTTP_THREADS,
        )
        self._server = server
        threading.Thread(target=server.run, name="http", daemon=True).start()
        bound = int(server.effective_port)  # type: ignore[union-attr]
        log.info("serving Slack requests at http://%s:%d%s", host, bound, EVENTS_PATH)
        return bound

    def stop(self) -> None:
        if self._socket is not None:
            self._socket.close()  # type: ignore[no-untyped-call]
        if self._server is not None:
            self._server.close()
        finish_listeners(self.app)
        self.watcher.stop()
        self.services.workers.shutdown(wait=True)
        self.services.store.close()


def serve(services: Services, port: int, host: str = "0.0.0.0") -> None:
    """Run until SIGTERM or SIGINT."""
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        log.info("stopping (signal %d)", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    bot = RunningBot(services)
    bot.start(port, host)
    stop.wait()
    bot.stop()
