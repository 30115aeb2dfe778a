"""Posts each revision's review card once and keeps it up to date with `chat.update`.

Renders of one revision are serialized, so two clicks at once cannot leave the card
showing the older of two states; the card's channel and ts are stored, so after a restart
the same message keeps moving.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import defaultdict

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.card_builder import SnapshotBuilder
from bot.core.records import CardRecord, RevisionRecord
from bot.slack.cards import review_card
from storage.store import Store

log = logging.getLogger(__name__)

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
        # What each card last showed, so a refresh that changes nothing calls no Slack.
        self._shown: dict[str, str] = {}

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

    def publish(self, revision: str) -> CardRecord | None:
        """Post the card if it has none yet, else update it in place."""
        with self._guard:
            lock = self._locks[revision]
        with lock:
            record = self.store.get_revision(revision)
            if record is None or record.history:
                return None
            card = self.store.get_card(revision)
            if card is None and not self.store.claim_card(revision):
                return None
            snapshot = self.builder.build(revision, self.author_user(record), notified=True)
            message = review_card(snapshot)
            blocks = [block.to_dict() for block in message.blocks]
            shown = hashlib.sha256(
                json.dumps([message.text, blocks], sort_keys=True).encode()
            ).hexdigest()
            if card is not None:
                if self._shown.get(revision) == shown:
                    return card
                self.client.chat_update(
                    channel=card.channel, ts=card.ts, text=message.text, blocks=blocks
                )
                self._shown[revision] = shown
                return self.store.set_card(revision, card.channel, card.ts)
            try:
                response = self.client.chat_postMessage(
                    channel=self.channel, text=message.text, blocks=blocks, unfurl_links=False
                )
            except SlackApiError:
                self.store.release_card_claim(revision)
                raise
            log.info("posted the review card of %s", revision)
            self._shown[revision] = shown
            return self.store.set_card(revision, str(response["channel"]), str(response["ts"]))

    def reply(self, revision: str, text: str) -> None:
        """A reply in the card's thread (apply progress, outcomes)."""
        card = self.store.get_card(revision)
        if card is None:
            log.warning("no card for %s; thread reply dropped: %s", revision, text)
            return
        self.client.chat_postMessage(
            channel=card.channel, thread_ts=card.ts, text=text, unfurl_links=False
        )


class CardNotifier:
    """An apply's reports as Slack sees them: the card re-rendered, progress in its thread."""

    def __init__(self, publisher: CardPublisher) -> None:
        self.publisher = publisher

    def card_changed(self, revision: str) -> None:
        try:
            self.publisher.publish(revision)
        except SlackApiError as exc:
            log.warning("could not update the card of %s: %s", revision, exc.response.get("error"))

    def progress(self, revision: str, text: str) -> None:
        try:
            self.publisher.reply(revision, text)
        except SlackApiError as exc:
            log.warning("could not post progress of %s: %s", revision, exc.response.get("error"))
