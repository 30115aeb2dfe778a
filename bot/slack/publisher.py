"""Posts each revision's review card once and keeps it up to date with `chat.update`.

Renders of one revision are serialized, so two clicks at once cannot leave the card
showing the older of two states; the card's channel and ts are stored, so after a restart
the same message keeps moving.
"""

from __future__ import annotations

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

    def author_user(self, record: RevisionRecord) -> str | None:
        """The Slack id of the revision's git author, looked up by email (cached)."""
        email = record.author_email
        if not email:
            return None
        with self._guard:
            if email in self._authors:
                return self._authors[email]
        try:
            user = self.client.users_lookupByEmail(email=email)["user"]["id"]
        except SlackApiError as exc:
            if exc.response.get("error") != "users_not_found":
                log.warning("users.lookupByEmail failed: %s", exc.response.get("error"))
                return None
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
            if card is not None:
                self.client.chat_update(
                    channel=card.channel, ts=card.ts, text=message.text, blocks=blocks
                )
                return self.store.set_card(revision, card.channel, card.ts)
            try:
                response = self.client.chat_postMessage(
                    channel=self.channel, text=message.text, blocks=blocks, unfurl_links=False
                )
            except SlackApiError:
                self.store.release_card_claim(revision)
                raise
            log.info("posted the review card of %s", revision)
            posted = self.store.set_card(revision, str(response["channel"]), str(response["ts"]))
            self._keep_permalink(posted)
            return posted

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
        except SlackApiError as exc:
            log.warning("no permalink for %s: %s", card.revision, exc.response.get("error"))
            return None
        link = str(answer["permalink"])
        self.store.set_card_permalink(card.revision, link)
        return link

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
