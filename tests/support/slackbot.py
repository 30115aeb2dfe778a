"""The bot as Slack sees it: a real git origin, the Web API stand-in, signed requests.

    bot = SlackBot(tmp_path).start()
    card = bot.review_pending()             # seed scanned, Dana pushes a revision, scanned
    bot.click("approve", REVIEWER)          # a signed block_actions POST to /slack/events
    bot.wait_for_card(lambda text: "Approved 1/1" in text)
    bot.stop()

The app is built by the production code (`build_services`, `SlackFront`) and served by
waitress on 127.0.0.1 port 0, or connected in Socket Mode to a FakeSocketModeServer.
Nothing of the bot is patched: what a test sees is what reached FakeSlack, the HTTP
answers, and the state store.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

from git import Actor, Repo
from slack_bolt import App
from waitress.server import create_server

from bot.config import Settings
from bot.core.doc_update import add_entry
from bot.demo.project import DEMO_PENDING, DEMO_PENDING_ENTRY, MigrationSpec
from bot.git.scan import ScanReport
from bot.running import Watcher
from bot.slack.app import EVENTS_PATH, SlackFront
from bot.slack.client import slack_client
from bot.slack.dialogs import REASON_BLOCK
from bot.slack.socket_mode import SocketModeFront
from bot.standin.signing import (
    app_home_opened,
    button_click,
    checkboxes_change,
    event_callback,
    sign,
    slash_command,
    view_submission,
)
from bot.standin.slack_api import Call, FakeSlack
from bot.standin.workspace import APP_TOKEN, BOT_TOKEN, JSON, Message
from bot.wiring import Services, build_services
from tests.support.gitrepos import DANA, Developer, make_origin
from tests.support.socket_mode_server import FakeSocketModeServer

T = TypeVar("T")

SECRET = "5f1c0d2e3b4a69788796a5b4c3d2e1f0"
CHANNEL = "C0REVIEW01"
DEVELOPER = "U0DANA0001"  # git author dana@example.com (tests.support.gitrepos.DANA)
REVIEWER = "U0RITA0002"
SECOND_REVIEWER = "U0ROSS0003"
OUTSIDER = "U0OTTO0004"
# Slack gives up on a request it has no answer to after three seconds.
ACK_DEADLINE_SECONDS = 3.0

Kind = Literal["slash_commands", "interactive", "events_api"]


@dataclass(frozen=True)
class Delivery:
    """One request as Slack sent it and the app answered it.

    Over HTTP, `status` and `body` are the HTTP answer; in Socket Mode, `status` is 200 once
    the envelope is acked and `body` is the ack's payload.
    """

    kind: Kind | None
    request: str
    status: int
    body: bytes
    seconds: float
    envelope_id: str | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None


@dataclass(frozen=True)
class Answer:
    """A `/schema` request and what the bot posted to its response_url."""

    delivery: Delivery
    text: str
    response_type: str | None


def texts(node: object) -> list[str]:
    """Every `text` string in a Block Kit structure, in order."""
    found: list[str] = []
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(texts(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(texts(item))
    return found


def card_text(message: Message) -> str:
    """All the words a card shows, one text per line."""
    return "\n".join(texts(message.blocks))


# The packages whose loggers `_enable_logging` turns back on.
_LOGGING_PACKAGES = frozenset(
    {"bot", "handlers", "storage", "schemabot", "slack_bolt", "slack_sdk", "waitress"}
)


def _enable_logging() -> None:
    """Let the bot's loggers log again.

    Alembic's env.py calls `logging.config.fileConfig`, which disables every logger that
    exists; tests that run Alembic in this process would otherwise hide the bot's errors.
    """
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.split(".")[0] in _LOGGING_PACKAGES:
            logger.disabled = False


class _ErrorLog(logging.Handler):
    """Keeps the ERROR records logged while the bot runs: swallowed failures show up here."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class SlackBot:
    """See the module docstring.

    `scopes`: the bot token's scopes (default: every scope a method needs);
    `origin`: what builds the git origin and the developer's clone (the sandbox project);
    `socket_mode`: connect over a FakeSocketModeServer instead of serving HTTP;
    `settings`: overrides of Settings fields, such as `approvers`.
    """

    fake: FakeSlack
    dev: Developer
    settings: Settings
    services: Services
    front: SlackFront
    app: App

    def __init__(
        self,
        tmp_path: Path,
        *,
        scopes: Iterable[str] | None = None,
        socket_mode: bool = False,
        origin: Callable[[Path], Developer] = make_origin,
        **settings: Any,
    ) -> None:
        self.tmp_path = tmp_path
        self.make_origin = origin
        self.scopes = scopes
        self.socket_mode = socket_mode
        self.settings_overrides = settings
        self.socket_server: FakeSocketModeServer | None = None
        self.deliveries: list[Delivery] = []
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._handler: SocketModeFront | None = None
        self._errors = _ErrorLog()
        self._updates_seen = 0

    # -- life ---------------------------------------------------------------------------

    def start(self) -> SlackBot:
        if self.socket_mode:
            self.socket_server = FakeSocketModeServer().start()
        self.fake = FakeSlack(scopes=self.scopes, socket_server=self.socket_server).start()
        self.fake.add_user(DEVELOPER, "dana@example.com", "dana", "Dana Developer")
        self.fake.add_user(REVIEWER, "rita@example.com", "rita", "Rita Reviewer")
        self.fake.add_user(SECOND_REVIEWER, "ross@example.com", "ross", "Ross Reviewer")
        self.fake.add_user(OUTSIDER, "otto@example.com", "otto", "Otto Outsider")
        members = [DEVELOPER, REVIEWER, SECOND_REVIEWER, OUTSIDER]
        self.fake.add_channel(CHANNEL, members=members, name="schema-review")
        self.dev = self.make_origin(self.tmp_path)
        self.settings = Settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SECRET,
            slack_app_token=APP_TOKEN if self.socket_mode else None,
            slack_api_url=self.fake.base_url,
            channel=CHANNEL,
            repo_url=str(self.dev.origin),
            workdir=self.tmp_path / "schemabot",
            **self.settings_overrides,
        )
        _enable_logging()
        logging.getLogger().addHandler(self._errors)
        self._run()
        return self

    def stop(self) -> None:
        self._halt()
        logging.getLogger().removeHandler(self._errors)
        self.fake.stop()
        if self.socket_server is not None:
            self.socket_server.stop()
        self.dev.repo.close()

    def restart(self, **changes: Any) -> None:
        """Stop the bot and start it again on the same workdir and state file.

        `changes` are settings for the new run (as after editing the environment).
        """
        self._halt()
        if changes:
            self.settings = replace(self.settings, **changes)
        self._run()

    def _run(self) -> None:
        self.services = build_services(self.settings, slack_client(self.settings))
        self.front = SlackFront(self.services)
        self.app = self.front.app
        if self.socket_mode:
            self._handler = self.front.socket_mode(APP_TOKEN)
            assert self.socket_server is not None
            before = self.socket_server.connections_accepted
            self._handler.connect()  # type: ignore[no-untyped-call]
            self.socket_server.wait_for_connection(before + 1)
            return
        self._server = create_server(self.front.wsgi(SECRET), host="127.0.0.1", port=0, threads=4)
        self._thread = threading.Thread(target=self._server.run, name="waitress", daemon=True)
        self._thread.start()

    def _halt(self) -> None:
        if self._handler is not None:
            self._handler.close()
            self._handler = None
        if self._server is not None and self._thread is not None:
            # The request threads first: one finishing a response still pulls the trigger.
            self._server.task_dispatcher.shutdown(timeout=5)
            # Closed from inside its own loop, so the loop ends at once instead of after
            # its next poll timeout.
            self._server.trigger.pull_trigger(self._server.close)
            self._thread.join(timeout=5)
            self._server = self._thread = None
        self.front.finish()
        self.services.workers.shutdown(wait=True)
        self.services.store.close()

    @property
    def port(self) -> int:
        assert self._server is not None, "not serving HTTP"
        port: int = self._server.effective_port
        return port

    def errors(self) -> list[str]:
        """The ERROR lines logged since the start, or since `forget_errors()`."""
        return [record.getMessage() for record in self._errors.records]

    def forget_errors(self) -> None:
        self._errors.records.clear()

    # -- the repository -----------------------------------------------------------------

    def scan(self) -> ScanReport | None:
        """One watcher cycle, as `schemabot serve` runs it every SCHEMABOT_POLL_SECONDS."""
        return Watcher(self.services).cycle()

    def push_revision(
        self,
        spec: MigrationSpec,
        entry: str | None,
        author: Actor = DANA,
        committer: Actor | None = None,
    ) -> None:
        """`author` (Dana) commits the revision (and its SCHEMA_CHANGES.md entry, if any) and
        pushes; `committer` when someone else commits it."""
        self.dev.add_migration(spec, author=author, committer=committer)
        if entry is not None:
            doc = (self.dev.root / "SCHEMA_CHANGES.md").read_text(encoding="utf-8")
            self.dev.write("SCHEMA_CHANGES.md", add_entry(doc, entry), message="Document it")
        self.dev.push()

    def review_pending(self) -> Message:
        """The seed taken as history, then DEMO_PENDING pushed with its entry: its card,
        posted and then filled in with its SQL. `updates()` counts from here."""
        self.scan()
        self.push_revision(DEMO_PENDING, DEMO_PENDING_ENTRY)
        self.scan()
        self._updates_seen = len(self.fake.calls("chat.update"))
        return self.card(DEMO_PENDING.revision)

    def updates(self) -> list[Call]:
        """The `chat.update` calls since `review_pending()` returned."""
        return self.fake.calls("chat.update")[self._updates_seen :]

    # -- what Slack shows ---------------------------------------------------------------

    def cards(self) -> list[Message]:
        return self.fake.messages(CHANNEL)

    def card(self, revision: str | None = None) -> Message:
        """The review card of `revision` (by default, the only card) as it stands now."""
        cards = self.cards()
        if revision is None:
            assert len(cards) == 1, f"{len(cards)} cards, name the revision"
            return cards[0]
        found = [c for c in cards if c.blocks and texts(c.blocks[0])[0].startswith(revision)]
        assert len(found) == 1, f"{len(found)} cards of {revision}"
        return found[0]

    def wait_for_card(
        self, check: Callable[[str], bool], revision: str | None = None, timeout: float = 5.0
    ) -> Message:
        """The card once `check(card_text(card))` holds (handlers update it after the ack)."""

        def shown() -> Message | None:
            card = self.card(revision)
            return card if check(card_text(card)) else None

        return self.fake.wait_for(shown, timeout)

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        return self.fake.wait_for(predicate, timeout)

    # -- what Slack sends ---------------------------------------------------------------

    def command(self, text: str, user: str, *, wait: bool = True) -> Answer:
        """`/schema <text>` typed by `user` in the review channel, and the bot's answer."""
        before = len(self.fake.calls("response_url"))
        fields = slash_command(
            text,
            user_id=user,
            channel_id=CHANNEL,
            channel_name="schema-review",
            response_url=self.fake.response_url(CHANNEL, user),
        )
        delivery = self.deliver("slash_commands", fields)
        if not wait:
            return Answer(delivery, "", None)
        call = self.wait_for(lambda: self.fake.calls("response_url")[before:])[0]
        return Answer(delivery, str(call.args.get("text", "")), call.args.get("response_type"))

    def click(self, action_id: str, user: str, revision: str | None = None) -> Delivery:
        """`user` clicks the button `action_id` on the card as it stands now."""
        card = self.card(revision)
        payload = button_click(
            action_id,
            message=card.as_slack(),
            channel_id=CHANNEL,
            user_id=user,
            response_url=self.fake.response_url(CHANNEL, user, card.ts),
        )
        return self.deliver("interactive", payload)

    def tick(
        self,
        selected: Iterable[str],
        user: str,
        revision: str | None = None,
        action_id: str = "checklist_0",
    ) -> Delivery:
        """`user` leaves the checkboxes `action_id` with exactly `selected` ticked."""
        card = self.card(revision)
        payload = checkboxes_change(
            action_id,
            list(selected),
            message=card.as_slack(),
            channel_id=CHANNEL,
            user_id=user,
            response_url=self.fake.response_url(CHANNEL, user, card.ts),
        )
        return self.deliver("interactive", payload)

    def submit_request_changes(self, reason: str, user: str) -> Delivery:
        """`user` fills in the newest modal opened (Request changes) and presses Send."""
        assert self.fake.views_opened, "no modal was opened"
        modal = self.fake.views_opened[-1]
        return self.deliver(
            "interactive", view_submission(modal, {REASON_BLOCK: reason}, user_id=user)
        )

    def home(self, user: str) -> Delivery:
        """`user` opens the app's Home tab (the event carries their Home view once the bot
        published one for them, as Slack's does)."""
        published = user in self.fake.home_views
        return self.deliver(
            "events_api", event_callback(app_home_opened(user, published=published))
        )

    def deliver(self, kind: Kind, payload: JSON | dict[str, str]) -> Delivery:
        """Send a payload as Slack does: a signed POST, or an envelope in Socket Mode.

        The answer to a modal's submission is read as Slack reads it (FakeSlack records it
        as a `view_submission` call); one Slack would refuse fails the test.
        """
        if self.socket_mode:
            delivery = self._envelope(kind, payload)
        elif kind == "slash_commands":
            delivery = self.post(urlencode(payload), kind=kind)
        elif kind == "interactive":
            delivery = self.post(urlencode({"payload": json.dumps(payload)}), kind=kind)
        else:
            delivery = self.post(json.dumps(payload), kind=kind)
        if kind == "interactive" and payload.get("type") == "view_submission":
            view = payload["view"]
            assert isinstance(view, dict)
            answered = self.fake.view_submission_answered(view, delivery.json)
            assert answered.ok, f"Slack refuses this answer to a submission: {answered.response}"
        return delivery

    def post(
        self,
        body: str,
        *,
        headers: Mapping[str, str] | None = None,
        timestamp: int | None = None,
        secret: str = SECRET,
        kind: Kind | None = None,
    ) -> Delivery:
        """POST `body` to /slack/events signed with `secret` at `timestamp` (default now)."""
        signed = {**sign(secret, body, timestamp), **(headers or {})}
        return self.request("POST", EVENTS_PATH, body, signed, kind)

    def request(
        self,
        method: str,
        path: str,
        body: str | None = None,
        headers: Mapping[str, str] | None = None,
        kind: Kind | None = None,
    ) -> Delivery:
        """One HTTP request to the bot; asserts the answer came within Slack's 3 seconds."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        started = time.monotonic()
        try:
            connection.request(method, path, body=body, headers=dict(headers or {}))
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        seconds = time.monotonic() - started
        delivery = Delivery(kind, body or "", response.status, data, seconds)
        self._record(delivery)
        return delivery

    def _envelope(self, kind: Kind, payload: Mapping[str, Any]) -> Delivery:
        assert self.socket_server is not None
        started = time.monotonic()
        envelope_id = self.socket_server.send_envelope(kind, payload)
        ack = self.socket_server.wait_for_ack(envelope_id, timeout=ACK_DEADLINE_SECONDS)
        seconds = time.monotonic() - started
        body = json.dumps(ack.get("payload")).encode() if ack.get("payload") else b""
        delivery = Delivery(kind, json.dumps(payload), 200, body, seconds, envelope_id)
        self._record(delivery)
        return delivery

    def _record(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        assert delivery.seconds < ACK_DEADLINE_SECONDS, (
            f"{delivery.kind or 'request'} answered after {delivery.seconds:.2f}s;"
            f" Slack gives up after {ACK_DEADLINE_SECONDS}s"
        )


def origin_doc(bot: SlackBot) -> str:
    """SCHEMA_CHANGES.md on the origin's main branch, as the team would pull it."""
    with Repo(bot.dev.origin) as origin:
        blob = origin.commit("main").tree / "SCHEMA_CHANGES.md"
        return str(blob.data_stream.read().decode())
