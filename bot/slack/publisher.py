"""Posts each revision's review card once and keeps it up to date with `chat.update`.

Renders of one revision are serialized, so two clicks at once cannot leave the card
showing the older of two states; the card's channel and ts are stored, so after a restart
the same message keeps moving.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
from collections import defaultdict

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.card_builder import SnapshotBuilder
from bot.core.records import CardRecord, RevisionRecord
from bot.core.text import Text
from bot.errors import SchemabotError
from bot.slack.cards import Message, degraded_card, review_card
from bot.slack.client import SLACK_FAILURES, slack_failure
from bot.slack.limits import MESSAGE_TEXT_LIMIT
from bot.slack.markup import render
from storage.store import Store

log = logging.getLogger(__name__)

# What Slack answers when it will never take the card as it is; anything else (a rate
# limit, an outage) is tried again by a later cycle.
REFUSALS = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "invalid_arguments", "no_text"}
)
UNEXPECTED = "an unexpected error; the details are in schemabot's log."
# Answers that stay the same until someone changes the workspace or reinstalls the app:
# remembered, so every card render does not ask again.
LASTING_LOOKUP_ERRORS = frozenset({"users_not_found", "missing_scope", "not_allowed_token_type"})


class CardPublisher:
    def __init__(
        self, client: WebClient, store: Store, builder: SnapshotBuilder, channel: str
    ) -> None:
        self.client = client
        self.store = store
        self.builder = builder
        self.channel = channel
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()
        self._authors: dict[str, str | None] = {}
        self._degraded: set[str] = set()
        # Cards whose last update did not reach Slack: sent again by the watcher.
        self._unsent: set[str] = set()
        # What each card last showed, so a refresh that changes nothing calls no Slack.
        self._shown: dict[str, str] = {}
        # The iteration of each card's checklist block id (see bot/slack/checklist_view.py).
        self._checklist_iterations: dict[str, str] = {}

    @property
    def degraded(self) -> frozenset[str]:
        """Revisions whose card went out degraded (what failed instead of the review)."""
        with self._guard:
            return frozenset(self._degraded)

    @property
    def unsent(self) -> frozenset[str]:
        """Revisions whose card's last update failed (Slack out of reach, say): Slack shows
        an older state, so the watcher sends them again."""
        with self._guard:
            return frozenset(self._unsent)

    def author_user(self, record: RevisionRecord) -> str | None:
        """The Slack id of the revision's git author, looked up by email (cached)."""
        return self.user_for_email(record.author_email)

    def user_for_email(self, email: str) -> str | None:
        """The Slack id of the workspace member with this email, if any (cached)."""
        if not email:
            return None
        with self._guard:
            if email in self._authors:
                return self._authors[email]
        try:
            user = self.client.users_lookupByEmail(email=email)["user"]["id"]
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error not in LASTING_LOOKUP_ERRORS:
                log.warning("users.lookupByEmail failed: %s", error)
                return None
            if error != "users_not_found":
                log.warning("users.lookupByEmail cannot work: %s", error)
            user = None
        with self._guard:
            self._authors[email] = user
        return str(user) if user else None

    def publish(self, revision: str, *, reset_checklist: bool = False) -> CardRecord | None:
        """Post the card if it has none yet, else update it in place.

        A card that cannot be built, or that Slack refuses, is posted degraded (what failed,
        the file's path), so every revision shows up; a claim whose card was not posted is
        released on any failure, so a later scan posts it.

        `reset_checklist`: a tick was refused, and the clicker's Slack still shows it. The
        card is sent again even though nothing changed, its checkboxes under a new block id,
        which is what makes Slack show them as the server has them.
        """
        with self._guard:
            lock = self._locks[revision]
        with lock:
            record = self.store.get_revision(revision)
            if record is None or record.history:
                return None
            card = self.store.get_card(revision)
            if card is None and not self.store.claim_card(revision):
                return None
            posted = False
            try:
                if reset_checklist and card is not None:
                    self._checklist_iterations[revision] = secrets.token_hex(4)
                    self._shown.pop(revision, None)
                message, whole = self._message(record)
                if card is not None:
                    self._send(record, message, card, whole)
                    with self._guard:
                        self._unsent.discard(revision)
                    return self.store.set_card(revision, card.channel, card.ts)
                channel, ts = self._send(record, message, None, whole)
                posted = True
                log.info("posted the review card of %s", revision)
                card = self.store.set_card(revision, channel, ts)
                self._keep_permalink(card)
                return card
            except BaseException:
                if card is None and not posted:
                    self.store.release_card_claim(revision)
                elif card is not None:
                    with self._guard:
                        self._unsent.add(revision)
                raise

    def _message(self, record: RevisionRecord) -> tuple[Message, bool]:
        """The full card, or the degraded one when it cannot be built; and which it is."""
        try:
            snapshot = self.builder.build(record.revision, self.author_user(record), notified=True)
            iteration = self._checklist_iterations.get(record.revision, "")
            return review_card(snapshot, iteration), True
        except SchemabotError as exc:
            log.warning("the card of %s is degraded: %s", record.revision, exc)
            return degraded_card(record.revision, record.path, exc.text), False
        except Exception:
            log.exception("the card of %s could not be built", record.revision)
            return degraded_card(record.revision, record.path, Text(UNEXPECTED)), False

    def _send(
        self, record: RevisionRecord, message: Message, card: CardRecord | None, whole: bool
    ) -> tuple[str, str]:
        """Post or update the card; one Slack refuses goes out degraded, saying why."""
        try:
            sent = self._deliver(record.revision, message, card)
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            if error not in REFUSALS:
                raise
            log.error("Slack refused the card of %s: %s", record.revision, error)
            why = Text(f"Slack refused it ({error}); the details are in schemabot's log.")
            sent = self._deliver(
                record.revision, degraded_card(record.revision, record.path, why), card
            )
            whole = False
        with self._guard:
            (self._degraded.discard if whole else self._degraded.add)(record.revision)
        return sent

    def _deliver(self, revision: str, message: Message, card: CardRecord | None) -> tuple[str, str]:
        blocks = [block.to_dict() for block in message.blocks]
        shown = hashlib.sha256(json.dumps([message.text, blocks], sort_keys=True).encode())
        if card is not None:
            if self._shown.get(revision) != shown.hexdigest():
                self.client.chat_update(
                    channel=card.channel, ts=card.ts, text=message.text, blocks=blocks
                )
                self._shown[revision] = shown.hexdigest()
            return card.channel, card.ts
        response = self.client.chat_postMessage(
            channel=self.channel, text=message.text, blocks=blocks, unfurl_links=False
        )
        self._shown[revision] = shown.hexdigest()
        return str(response["channel"]), str(response["ts"])

    def permalink(self, revision: str) -> str | None:
        """A link to the revision's card: kept since it was posted, else asked once."""
        link = self.store.card_permalink(revision)
        if link is not None:
            return link
        card = self.store.get_card(revision)
        return None if card is None else self._keep_permalink(card)

    def _keep_permalink(self, card: CardRecord) -> str | None:
        try:
            answer = self.client.chat_getPermalink(channel=card.channel, message_ts=card.ts)
        except SLACK_FAILURES as exc:
            log.warning("no permalink for %s: %s", card.revision, slack_failure(exc))
            return None
        link = str(answer["permalink"])
        self.store.set_card_permalink(card.revision, link)
        return link

    def announce(self, text: Text | str) -> None:
        """A message of its own in the channel (new drift, say)."""
        self.client.chat_postMessage(
            channel=self.channel, text=render(text, MESSAGE_TEXT_LIMIT), unfurl_links=False
        )

    def reply(self, revision: str, text: Text | str) -> None:
        """A reply in the card's thread (apply progress, outcomes)."""
        card = self.store.get_card(revision)
        if card is None:
            log.warning("no card for %s; thread reply dropped: %s", revision, text)
            return
        self.client.chat_postMessage(
            channel=card.channel,
            thread_ts=card.ts,
            text=render(text, MESSAGE_TEXT_LIMIT),
            unfurl_links=False,
        )


class CardNotifier:
    """An apply's reports as Slack sees them: the card re-rendered, progress in its thread."""

    def __init__(self, publisher: CardPublisher) -> None:
        self.publisher = publisher

    def card_changed(self, revision: str) -> None:
        """Never fails: a card Slack did not take is sent again by the watcher."""
        try:
            self.publisher.publish(revision)
        except SLACK_FAILURES as exc:
            log.warning("could not update the card of %s: %s", revision, slack_failure(exc))

    def progress(self, revision: str, text: Text) -> None:
        """Never fails: an apply goes on whether or not Slack hears of its steps."""
        try:
            self.publisher.reply(revision, text)
        except SLACK_FAILURES as exc:
            log.warning("could not post progress of %s: %s", revision, slack_failure(exc))
