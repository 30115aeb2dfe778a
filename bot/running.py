"""The bot at work: recovery of runs left in flight, the watcher loop, and Slack's way in."""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import Iterable

from waitress.server import BaseWSGIServer, MultiSocketServer, create_server

from bot.drift_schedule import DriftSchedule
from bot.errors import SchemabotError
from bot.git.scan import ScanReport
from bot.slack.app import (
    EVENTS_PATH,
    HEALTH_PATH,
    HTTP_THREADS,
    SlackFront,
    WsgiApp,
    wsgi_app,
)
from bot.slack.socket_mode import SocketModeFront
from bot.wiring import Services

log = logging.getLogger(__name__)


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
        self.drift = drift_schedule(services)

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
        watch = self.services.environment_watch
        moved_elsewhere = sorted(watch.cycle()) if watch is not None else []
        publish_all(self.services, [*report.touched, *moved_elsewhere], report.moved)
        check_locks(self.services)
        if self.services.applier is not None:
            self.services.applier.retry_pending_documents()
        if self.drift is not None:
            self.drift.tick()
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


def drift_schedule(services: Services) -> DriftSchedule | None:
    """The scheduled drift check, when SCHEMABOT_DRIFT_CHECK is set and Slack is there."""
    publisher = services.publisher
    if services.settings.drift_check is None or publisher is None or services.drift is None:
        return None
    return DriftSchedule(
        services.settings, services.store, services.drift, services.clock, publisher.announce
    )


def publish_all(services: Services, revisions: Iterable[str], moved: Iterable[str] = ()) -> None:
    """Post or refresh the cards of `revisions` and of the pending revisions on the branches
    that `moved` (their entry, checklist or migration environment may have changed), and
    post every card still missing or whose last update did not reach Slack.

    A card is missing when Slack refused it (the bot not in the channel yet, an outage):
    its revision is not new at the next scan, so without this it would never get one.
    """
    if services.publisher is None:
        return
    store = services.store
    main = services.builder.main_branch
    moved = set(moved)
    pending = store.list_revisions(pending_only=True)
    missing = [r.revision for r in pending if not store.get_card(r.revision)]
    on_moved = [r.revision for r in pending if (main if r.on_main else r.branch) in moved]
    unsent = sorted(services.publisher.unsent)
    touched = list(dict.fromkeys([*revisions, *missing, *on_moved, *unsent]))
    # The cards first, saying their SQL is on its way: a preview takes a process.
    for revision in touched:
        services.refresh_card(revision)
    try:
        rendered = services.review_sql(touched)
    except Exception:
        log.exception("could not render the SQL of %s", ", ".join(touched))
        return
    for revision in rendered:
        # A card Slack refused just now is posted, SQL and all, at the next scan.
        if store.get_card(revision) is not None:
            services.refresh_card(revision)


def check_locks(services: Services) -> None:
    """Keep the pending revisions' table sizes fresh and trace newly approved versions;
    refresh the cards that may show something new."""
    if services.locks is None:
        return
    pending = [record.revision for record in services.store.list_revisions(pending_only=True)]
    try:
        changed = services.locks.cycle(pending)
    except Exception:
        log.exception("could not check the locks of the pending revisions")
        return
    for revision in changed:
        services.refresh_card(revision)


class RunningBot:
    """The bot at work: recovery of runs left in flight, the watcher, and Slack's way in."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.front = SlackFront(services)
        self.app = self.front.app
        self.watcher = Watcher(services)
        self._socket: SocketModeFront | None = None
        self._server: BaseWSGIServer | MultiSocketServer | None = None

    def start(self, port: int, host: str = "0.0.0.0") -> int:
        """Start serving; returns the HTTP port bound.

        Over HTTP the port takes Slack's requests and health checks; in Socket Mode,
        health checks only, answered 200 while the connection to Slack is open.
        """
        for revision in self.services.store.release_unposted_claims():
            log.warning("the card of %s was being posted when schemabot stopped", revision)
        if self.services.applier is not None:
            self.services.applier.recover()
        # Everything built so far (Bolt, Alembic, SQLAlchemy, the services) lives as long as
        # the process: out of the collector's reach, a full collection takes 2-5 ms instead
        # of 30-40 ms during which no thread runs, and no ack goes out.
        gc.collect()
        gc.freeze()
        self.watcher.start()
        settings = self.services.settings
        if settings.socket_mode:
            assert settings.slack_app_token is not None
            self._socket = self.front.socket_mode(settings.slack_app_token)
            self._socket.connect()  # type: ignore[no-untyped-call]
            log.info("connected to Slack in Socket Mode")
            bound = self._serve(wsgi_app(None, self._socket.connected), host, port)
            log.info("serving health checks at http://%s:%d%s", host, bound, HEALTH_PATH)
            return bound
        bound = self._serve(self.front.wsgi(settings.slack_signing_secret or ""), host, port)
        log.info("serving Slack requests at http://%s:%d%s", host, bound, EVENTS_PATH)
        return bound

    def _serve(self, application: WsgiApp, host: str, port: int) -> int:
        server = create_server(application, host=host, port=port, threads=HTTP_THREADS)
        self._server = server
        threading.Thread(target=server.run, name="http", daemon=True).start()
        return int(server.effective_port)  # type: ignore[union-attr]

    def stop(self) -> None:
        if self._socket is not None:
            self._socket.close()
        if self._server is not None:
            self._server.close()
        self.front.finish()
        self.watcher.stop()
        if self.services.environment_watch is not None:
            self.services.environment_watch.stop()
        self.services.workers.shutdown(wait=True)
        self.services.drift_workers.shutdown(wait=True)
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
